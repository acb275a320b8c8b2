// Lab 1 self-tests: boot information, printk's conversions, backtraces,
// symbol lookup, the IDT and the trap entry, and the two ways the kernel
// stops for a bug (panic and an exception in kernel code). grader/lab1.py
// runs them and checks the exact output against values it chose (seed=,
// depth=, addrs=, gates=, selector=).

#include <multiboot/multiboot.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/memlayout.h"
#include "arch/trapframe.h"
#include "arch/x86.h"
#include "boot/bootinfo.h"
#include "boot/cmdline.h"
#include "boot/multiboot2.h"
#include "cpu/lapic.h"
#include "console/console.h"
#include "debug/backtrace.h"
#include "debug/ksyms.h"
#include "debug/panic.h"
#include "lib/string.h"
#include "test/ktest.h"
#include "test/prng.h"
#include "trap/trap.h"

static void print_regions(const char *label, const struct bootinfo *bi)
{
	for (int i = 0; i < bi->nregions; i++) {
		const struct mem_region *r = &bi->regions[i];
		printk("%s: 0x%016lx-0x%016lx %s\n", label, r->base, r->base + r->length,
		       mem_region_type_name(r->type));
	}
}

// -- memory maps made up from seed=, in both loaders' formats ------------

#define MADE_UP_REGIONS 5

static uint8_t mb1_map[MADE_UP_REGIONS * 36];
static multiboot_info_t mb1_info;
static uint8_t mb2_info[256] __attribute__((aligned(8)));
static struct bootinfo loaders_bootinfo, made_up_bootinfo;

// A region of a made-up map; grader/lab1.py draws the same.
static struct mem_region made_up_region(struct prng *r, uint32_t type)
{
	struct mem_region m;

	m.base = prng_next(r) & 0xFFFFFFFFF000;
	m.length = (prng_next(r) & 0xFFFFFFF) + 1;
	m.type = type;
	return m;
}

static uint8_t *put(uint8_t *p, const void *v, size_t n)
{
	memcpy(p, v, n);
	return p + n;
}

// A Multiboot memory map of regions[] whose entries have sizes of 20 to
// 32 bytes (the size field not counted), every size in turn from a
// random one.
static void make_mb1_map(const struct mem_region *regions, struct prng *layout)
{
	uint8_t *p = mb1_map;
	uint64_t first = prng_next(layout);

	memset(mb1_map, 0, sizeof(mb1_map));
	for (int i = 0; i < MADE_UP_REGIONS; i++) {
		uint32_t size = 20 + 4 * ((first + i) % 4);
		uint8_t *entry = put(p, &size, 4);
		entry = put(entry, &regions[i].base, 8);
		entry = put(entry, &regions[i].length, 8);
		put(entry, &regions[i].type, 4);
		p += 4 + size;
	}
	mb1_info = (multiboot_info_t){ .flags = MULTIBOOT_INFO_MEM_MAP,
				       .mmap_addr = KIMG_V2P(mb1_map),
				       .mmap_length = p - mb1_map };
}

// Multiboot2 information: a 12-byte tag (the image's load address, which
// this kernel ignores), padded to 8 bytes, then a memory-map tag of
// regions[] with entries of 32 or 40 bytes (GRUB's are 24: a later
// version may add fields), then the end tag.
static void make_mb2_info(const struct mem_region *regions, struct prng *layout)
{
	uint32_t entry_size = 32 + 8 * (prng_next(layout) % 2);
	uint8_t *p = mb2_info + sizeof(struct mb2_info);
	struct mb2_tag load_base = { .type = 21, .size = 12 };
	struct mb2_tag_mmap mmap = { .tag = { .type = MB2_TAG_MMAP,
					      .size = sizeof(mmap) + MADE_UP_REGIONS * entry_size },
				     .entry_size = entry_size };
	struct mb2_tag end = { .type = MB2_TAG_END, .size = sizeof(end) };

	memset(mb2_info, 0, sizeof(mb2_info));
	p = put(p, &load_base, sizeof(load_base)) + 8;
	p = put(p, &mmap, sizeof(mmap));
	for (int i = 0; i < MADE_UP_REGIONS; i++, p += entry_size) {
		struct mb2_mmap_entry e = { .addr = regions[i].base, .len = regions[i].length,
					    .type = regions[i].type };
		put(p, &e, sizeof(e));
	}
	p = put(p, &end, sizeof(end));
	((struct mb2_info *)mb2_info)->total_size = p - mb2_info;
}

// What bootinfo_parse makes of made-up information, printed under label;
// the loader's own bootinfo is kept aside meanwhile.
static void parse_made_up(const char *label, uint32_t magic, const void *info)
{
	loaders_bootinfo = bootinfo;
	memset(&bootinfo, 0, sizeof(bootinfo));
	bootinfo_parse(magic, KIMG_V2P(info));
	made_up_bootinfo = bootinfo;
	bootinfo = loaders_bootinfo;
	print_regions(label, &made_up_bootinfo);
}

static void made_up_maps(uint64_t seed)
{
	struct mem_region regions[2 * MADE_UP_REGIONS];
	struct prng r;

	prng_seed(&r, seed);
	// Every type from 1 to 8 (the last three mean "reserved"), in turn
	// from a random one.
	uint64_t first_type = prng_next(&r);
	for (int i = 0; i < 2 * MADE_UP_REGIONS; i++)
		regions[i] = made_up_region(&r, 1 + (first_type + i) % 8);
	make_mb1_map(regions, &r);
	make_mb2_info(regions + MADE_UP_REGIONS, &r);
	parse_made_up("mb1 memory", MULTIBOOT_BOOTLOADER_MAGIC, &mb1_info);
	parse_made_up("mb2 memory", MB2_BOOTLOADER_MAGIC, mb2_info);
}

KTEST(lab1_boot, "lab1.boot", STAGE_CONSOLE, "print the memory map and modules from the loader, "
      "then what made-up maps from seed= (in both loaders' formats) come to");
static void lab1_boot(void)
{
	print_regions("memory", &bootinfo);
	for (int i = 0; i < bootinfo.nmodules; i++) {
		const struct boot_module *m = &bootinfo.modules[i];
		printk("module: 0x%lx-0x%lx '%s'\n", m->start, m->end, m->name);
	}
	printk("usable: %lu KiB\n", bootinfo_usable_bytes() / 1024);
	made_up_maps(cmdline_get_u64("seed", 1));
}

// The cases of lab1.printf; grader/lab1.py lists the same cases in the
// same order and formats the same values with Python's % operator.
enum value_kind { INT, UINT, LONG, ULONG, SMALL_INT, NEGATIVE_INT, CHAR, STRING, POINTER, NONE };

static const struct {
	const char *format;
	enum value_kind kind;
} printf_cases[] = {
	{ "%d", INT }, { "%i", INT }, { "%u", UINT }, { "%x", UINT },
	{ "%o", UINT }, { "%ld", LONG }, { "%lu", ULONG }, { "%lx", ULONG },
	{ "%llx", ULONG }, { "%zu", ULONG }, { "%d", SMALL_INT }, { "%6d", SMALL_INT },
	{ "%-6d|", NEGATIVE_INT }, { "%06d", NEGATIVE_INT }, { "%08x", UINT },
	{ "%016lx", ULONG }, { "%-12lu|", ULONG }, { "%3u", UINT }, { "%p", POINTER },
	{ "%c", CHAR }, { "%s", STRING }, { "%8s|", STRING }, { "%-8s|", STRING },
	{ "%.2s", STRING }, { "100%%", NONE },
};

static const char *const printf_words[] = { "dune", "ix", "vmcs", "ept", "lwip", "" };

static void print_case(const char *format, enum value_kind kind, uint64_t v)
{
	switch (kind) {
	case INT:
		printk(format, (int)v);
		break;
	case UINT:
		printk(format, (unsigned)v);
		break;
	case LONG:
		printk(format, (long)v);
		break;
	case ULONG:
		printk(format, (unsigned long)v);
		break;
	case SMALL_INT:
		printk(format, (int)(v % 20001) - 10000);
		break;
	case NEGATIVE_INT:
		printk(format, -1 - (int)(v % 9999));
		break;
	case CHAR:
		printk(format, (char)('!' + v % 94));
		break;
	case STRING:
		printk(format, printf_words[v % 6]);
		break;
	case POINTER:
		printk(format, (void *)v);
		break;
	case NONE:
		printk(format, 0);
		break;
	}
}

KTEST(lab1_printf, "lab1.printf", STAGE_CONSOLE, "printk conversions of values made from seed=");
static void lab1_printf(void)
{
	struct prng r;

	prng_seed(&r, cmdline_get_u64("seed", 1));
	for (unsigned i = 0; i < sizeof(printf_cases) / sizeof(printf_cases[0]); i++) {
		// The label is printed without conversions, so a broken
		// number printer does not hide which case is which.
		printk("printf case %c%c: [", 'a' + i / 26, 'a' + i % 26);
		print_case(printf_cases[i].format, printf_cases[i].kind, prng_next(&r));
		printk("]\n");
	}
}

// Recurses depth times, then prints the backtrace: the grader expects
// depth + 1 frames in backtrace_recurse, then lab1_backtrace. noipa keeps
// the compiler from inlining it or renaming a specialised copy.
__attribute__((noipa)) static int backtrace_recurse(int depth)
{
	if (depth == 0) {
		backtrace();
		return 0;
	}
	// The addition after the call keeps it from being a tail call.
	return backtrace_recurse(depth - 1) + 1;
}

KTEST(lab1_backtrace, "lab1.backtrace", STAGE_CONSOLE, "print a backtrace from depth= nested calls");
static void lab1_backtrace(void)
{
	int depth = (int)cmdline_get_u64("depth", 3);

	printk("backtrace: depth %d\n", depth);
	backtrace_recurse(depth);
}

// Calls backtrace with its own saved frame pointer replaced by bad: the
// walk must print this function's frame, then refuse the bad pointer.
__attribute__((noipa)) static void backtrace_with_bad_frame(uint64_t bad)
{
	uint64_t *frame = (uint64_t *)__builtin_frame_address(0);
	uint64_t saved = frame[0];

	frame[0] = bad;
	backtrace();
	frame[0] = saved;
}

KTEST(lab1_bad_frame, "lab1.bad_frame", STAGE_CONSOLE, "a backtrace through a corrupt frame pointer (bad=)");
static void lab1_bad_frame(void)
{
	backtrace_with_bad_frame(cmdline_get_u64("bad", 0x1234));
	printk("lab1.bad_frame: survived\n");
}

// Takes the next number of a list of hex numbers separated by commas
// (the value of key=) from *p into *v; false at the end of the list.
static bool next_in_list(const char **p, const char *key, uint64_t *v)
{
	if (*p == NULL || **p == '\0')
		return false;
	*v = strtoul(*p, p, 16);
	if (**p == ',')
		(*p)++;
	else if (**p != '\0')
		panic("%s=: unexpected '%c'; want hex numbers separated by commas", key, **p);
	return true;
}

KTEST(lab1_ksyms, "lab1.ksyms", STAGE_CONSOLE, "look up the addresses in addrs= (comma-separated)");
static void lab1_ksyms(void)
{
	const char *p = cmdline_get("addrs");
	uint64_t addr;

	while (next_in_list(&p, "addrs", &addr)) {
		const char *name;
		uint64_t start;

		if (ksym_lookup(addr, &name, &start))
			printk("ksym: 0x%016lx is %s+0x%lx\n", addr, name, addr - start);
		else
			printk("ksym: 0x%016lx is outside the kernel text\n", addr);
	}
}

KTEST(lab1_panic, "lab1.panic", STAGE_CONSOLE, "panic on purpose, with the token in the message");
static void lab1_panic(void)
{
	const char *token = cmdline_get("token");

	panic("lab1 panic test (token %s)", token ? token : "none");
}

KTEST(lab1_null_write, "lab1.null", STAGE_CONSOLE, "write through a NULL pointer: a page fault in the kernel");
static void lab1_null_write(void)
{
	volatile uint64_t *p = (volatile uint64_t *)cmdline_get_u64("address", 0);

	*p = 0x1ab1;
	printk("lab1.null: the write to %p did not fault\n", (void *)p);
}

// -- the IDT and the trap entry ------------------------------------------

// The IDT register as sidt stores it (SDM Vol. 3A 2.4.3).
struct __attribute__((packed)) idt_register {
	uint16_t limit;
	uint64_t base;
};

static struct idt_register read_idtr(void)
{
	struct idt_register r;

	asm volatile("sidt %0" : "=m"(r));
	return r;
}

// The IDT as the CPU sees it: the IDT register, then the 16 bytes of the
// gates of the vectors in gates= as two 64-bit words, high then low,
// which the grader decodes itself (SDM Vol. 3A 6.14.1).
static void print_idt_gates(void)
{
	struct idt_register idtr = read_idtr();
	const char *p = cmdline_get("gates");
	uint64_t v;

	printk("idt: base 0x%016lx limit 0x%x\n", idtr.base, idtr.limit);
	while (next_in_list(&p, "gates", &v)) {
		if (v * 16 + 15 > idtr.limit) {
			printk("idt: gate 0x%lx: beyond the limit\n", v);
			continue;
		}
		const uint64_t *gate = (const uint64_t *)(idtr.base + v * 16);
		printk("idt: gate 0x%lx: 0x%016lx 0x%016lx\n", v, gate[1], gate[0]);
	}
}

// What print_page_fault_cause says of each combination of the error
// code's bits P, W/R, U/S, RSVD and I/D.
static void print_fault_causes(void)
{
	for (uint64_t code = 0; code < 32; code++) {
		printk("fault cause 0x%02lx: ", code);
		print_page_fault_cause(code);
		printk("\n");
	}
}

// test/lab1_trap.S: traps with the registers in regs (struct trapframe's
// order; rbp is not loaded).
#define NREGS 15
#define RBP_SLOT 10
void lab1_trap_device(uint64_t regs[NREGS]);
__attribute__((noreturn)) void lab1_trap_breakpoint(const uint64_t regs[NREGS]);
__attribute__((noreturn)) void lab1_trap_gp(const uint64_t regs[NREGS]);
void lab1_gp_fault(void);
extern const uint64_t lab1_breakpoint_next;
uint16_t lab1_gp_selector;

static const char *const register_names[NREGS] = {
	"r15", "r14", "r13", "r12", "r11", "r10", "r9", "r8",
	"rdi", "rsi", "rbp", "rdx", "rcx", "rbx", "rax",
};

// The handler of the test's device vector: like any C function, it may
// change the registers the caller does not expect kept (psABI 3.2.1); it
// does, so only the trap entry's restore can bring them back.
static void scramble_registers(void *arg)
{
	(void)arg;
	asm volatile("movq $0x5ca1ab1e, %%rax\n\t"
		     "movq %%rax, %%rcx\n\tmovq %%rax, %%rdx\n\t"
		     "movq %%rax, %%rsi\n\tmovq %%rax, %%rdi\n\t"
		     "movq %%rax, %%r8\n\tmovq %%rax, %%r9\n\t"
		     "movq %%rax, %%r10\n\tmovq %%rax, %%r11"
		     : : : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
}

// Raises a device vector whose handler scrambles the registers, and says
// which registers came back changed.
static void check_trap_returns(const uint64_t sent[NREGS])
{
	uint64_t regs[NREGS];
	int changed = 0;
	int vector = trap_device_vector(scramble_registers, NULL);

	if (vector != T_DEVICE_FIRST)
		panic("lab1.trap: the device vector is %d, not %d", vector, T_DEVICE_FIRST);
	memcpy(regs, sent, sizeof(regs));
	lab1_trap_device(regs);
	for (int i = 0; i < NREGS; i++) {
		if (i != RBP_SLOT && regs[i] != sent[i]) {
			printk("trap: %s was 0x%016lx before vector %d and 0x%016lx after\n",
			       register_names[i], sent[i], vector, regs[i]);
			changed++;
		}
	}
	if (changed == 0)
		printk("trap: vector %d returned with every register kept\n", vector);
}

KTEST(lab1_trap, "lab1.trap", STAGE_CONSOLE, "the IDT's gates=, the page-fault causes, a trap that "
      "returns, then a breakpoint or (fault=gp) a #GP on selector=, with registers from seed=");
static void lab1_trap(void)
{
	struct prng r;
	uint64_t regs[NREGS];
	const char *fault = cmdline_get("fault");

	print_fault_causes();
	print_idt_gates();
	prng_seed(&r, cmdline_get_u64("seed", 1));
	for (int i = 0; i < NREGS; i++)
		regs[i] = prng_next(&r);
	check_trap_returns(regs);
	if (fault != NULL && strcmp(fault, "gp") == 0) {
		lab1_gp_selector = (uint16_t)cmdline_get_u64("selector", 0x1230);
		printk("trap: a #GP at %p\n", (void *)lab1_gp_fault);
		lab1_trap_gp(regs);
	}
	printk("trap: a breakpoint before %p\n", (void *)lab1_breakpoint_next);
	lab1_trap_breakpoint(regs);
}

KTEST(lab1_double_fault, "lab1.double", STAGE_CONSOLE, "write to address= with the page fault's gate "
      "not present: a double fault");
static void lab1_double_fault(void)
{
	uint8_t *gate = (uint8_t *)read_idtr().base + T_PAGE_FAULT * 16;
	volatile uint64_t *p = (volatile uint64_t *)cmdline_get_u64("address", 0);

	// The page fault cannot be delivered: its gate's P bit (bit 47) is
	// clear. The #NP that raises is a contributory exception during the
	// delivery of a page fault: a double fault (SDM Vol. 3A 6.15,
	// Table 6-5), which has a gate of its own.
	gate[5] &= ~0x80;
	*p = 0x1ab1;
	printk("lab1.double: the write to %p did not fault\n", (void *)p);
}

KTEST(lab1_triple_fault, "lab1.triple", STAGE_CONSOLE, "trap with an empty IDT: the CPU resets (a triple fault)");
static void lab1_triple_fault(void)
{
	struct idt_register empty_idt = { 0, 0 };

	// With no usable gate, the breakpoint becomes a #GP, then a double
	// fault, then a triple fault: the CPU shuts down (SDM Vol. 3A 6.15,
	// "Interrupt 8").
	asm volatile("lidt %0; int3" : : "m"(empty_idt));
	printk("lab1.triple: the CPU survived a trap with an empty IDT\n");
}

// Spins forever without printing: the grader's own tests (grader/tests)
// check that a hang's verdict names this function. noipa keeps it a
// function of its own.
__attribute__((noipa)) static void lab1_hang_spin(void)
{
	for (;;)
		pause();
}

KTEST(lab1_hang, "lab1.hang", STAGE_CONSOLE, "spin forever in lab1_hang_spin: a hang (for the grader's own tests)");
static void lab1_hang(void)
{
	lab1_hang_spin();
}

// Prints one line of a cycle of lines= lines: its own function, so that a
// loop's verdict can name it.
__attribute__((noipa)) static void lab1_loop_print(uint64_t line, uint64_t lines)
{
	printk("lab1.loop: line %lu of %lu, again and again\n", line + 1, lines);
}

KTEST(lab1_loop, "lab1.loop", STAGE_CONSOLE, "print a cycle of lines= lines forever: a loop (for the grader's own tests)");
static void lab1_loop(void)
{
	uint64_t lines = cmdline_get_u64("lines", 1);

	for (;;)
		for (uint64_t i = 0; i < lines; i++)
			lab1_loop_print(i, lines);
}
