// The ring-0 runtime of the Dune test programs (ring0.h).

#include <stdarg.h>
#include <stdbool.h>

#include "lib/printfmt.h"
#include "ring0.h"

#define PAGE 4096ul
#define LARGE (2ul << 20)
#define PTE_P  0x1ul
#define PTE_W  0x2ul
#define PTE_U  0x4ul
#define PTE_PS 0x80ul
#define RING0_STACK_SIZE (16 * PAGE)
#define MSR_STAR  0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_FMASK 0xC0000084
#define RFLAGS_TF 0x100
#define RFLAGS_IF 0x200
#define RFLAGS_DF 0x400

struct __attribute__((packed)) tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct __attribute__((packed)) gate {
	uint16_t offset_low, selector;
	uint8_t ist, type_attr;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
};

struct __attribute__((packed)) table_register {
	uint16_t limit;
	uint64_t base;
};

// Page tables: the first GiB (pd_low) and the top GiB (pd_high).
uint64_t ring0_pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt_low[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pdpt_high[512] __attribute__((aligned(4096)));
static uint64_t pd_high[512] __attribute__((aligned(4096)));

static uint64_t gdt[7] __attribute__((aligned(16))) = {
	0,
	0x00AF9A000000FFFFul,   // 0x08: kernel code, 64-bit
	0x00CF92000000FFFFul,   // 0x10: kernel data
	0x00CFF2000000FFFFul,   // 0x18: user data (DPL 3)
	0x00AFFA000000FFFFul,   // 0x20: user code, 64-bit (DPL 3)
	0, 0,                   // 0x28: the TSS (16 bytes)
};
static struct tss tss;
static struct gate idt[256] __attribute__((aligned(16)));
static uint8_t ring0_stack[RING0_STACK_SIZE] __attribute__((aligned(16)));

void (*ring0_trap_handler)(struct ring0_frame *frame);
volatile uint64_t ring0_syscalls;

extern const uint64_t ring0_vectors[32];
extern char ring0_syscall_entry[], ring0_start[];

int64_t ring0_call(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	int64_t ret;

	asm volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1), "d"(a2) : "memory");
	return ret;
}

struct out {
	char buf[160];
	size_t n;
};

static void putch(int c, void *arg)
{
	struct out *o = arg;

	if (o->n < sizeof(o->buf))
		o->buf[o->n++] = (char)c;
}

int ring0_printf(const char *fmt, ...)
{
	struct out o = { .n = 0 };
	va_list ap;

	va_start(ap, fmt);
	int n = vprintfmt(putch, &o, fmt, ap);
	va_end(ap);
	ring0_call(SYS_write, 1, (uint64_t)o.buf, o.n);
	return n;
}

void ring0_exit(int status)
{
	ring0_call(SYS_exit, (uint64_t)status, 0, 0);
	for (;;)
		;
}

int ring0_cpl(void)
{
	uint16_t cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

static uint64_t table_pa(const void *table)
{
	return dune_va_to_pa((uint64_t)table);
}

static void build_page_tables(void)
{
	const uint64_t table = PTE_P | PTE_W | PTE_U;

	ring0_pml4[0] = table_pa(pdpt_low) | table;
	pdpt_low[0] = table_pa(pd_low) | table;
	for (uint64_t i = 0; i < 512; i++)
		pd_low[i] = i * LARGE | PTE_P | PTE_W | PTE_U | PTE_PS;
	pd_low[RING0_SUPERVISOR_VA / LARGE] = 0x400000 | PTE_P | PTE_W | PTE_PS;
	pd_low[RING0_PROBE_VA / LARGE] = 0;
	// The top GiB of the user half: PML4 entry 255, PDPT entry 511.
	ring0_pml4[255] = table_pa(pdpt_high) | table;
	pdpt_high[511] = table_pa(pd_high) | table;
	for (uint64_t i = 0; i < 512; i++)
		pd_high[i] = (DUNE_GPA_STACK + i * LARGE) | PTE_P | PTE_W | PTE_U | PTE_PS;
}

static void build_descriptors(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

	tss.rsp[0] = (uint64_t)ring0_stack + RING0_STACK_SIZE;
	tss.iomap_base = sizeof(tss);
	gdt[5] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ul << 40 |
		 ((limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56;
	gdt[6] = base >> 32;
	for (int v = 0; v < 32; v++) {
		uint64_t h = ring0_vectors[v];
		idt[v] = (struct gate){
			.offset_low = (uint16_t)h, .selector = RING0_KERNEL_CS, .type_attr = 0x8E,
			.offset_mid = (uint16_t)(h >> 16), .offset_high = (uint32_t)(h >> 32),
		};
	}
}

// The first C code in ring 0 of each thread: its descriptor tables and
// MSRs (the vCPU's own), then fn.
__attribute__((noreturn)) void ring0_main(int (*fn)(uint64_t), uint64_t arg, uint64_t secondary)
{
	struct table_register g = { sizeof(gdt) - 1, (uint64_t)gdt };
	struct table_register i = { sizeof(idt) - 1, (uint64_t)idt };

	asm volatile("lgdt %0" : : "m"(g));
	asm volatile("pushq %0; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
		     : : "i"(RING0_KERNEL_CS) : "rax", "memory");
	asm volatile("movw %w0, %%ds; movw %w0, %%es; movw %w0, %%ss" : : "r"(RING0_KERNEL_DS));
	if (!secondary)
		asm volatile("ltr %w0" : : "r"(RING0_TSS));
	asm volatile("lidt %0" : : "m"(i));
	// SYSRET: CS = STAR[63:48] + 16, SS = STAR[63:48] + 8 (RPL 3).
	ring0_wrmsr(MSR_STAR, (uint64_t)RING0_KERNEL_DS << 48 | (uint64_t)RING0_KERNEL_CS << 32);
	ring0_wrmsr(MSR_LSTAR, (uint64_t)ring0_syscall_entry);
	ring0_wrmsr(MSR_FMASK, RFLAGS_TF | RFLAGS_IF | RFLAGS_DF);
	ring0_exit(fn(arg));
}

static const char *const names[32] = {
	[0] = "divide error", [3] = "breakpoint", [6] = "invalid opcode",
	[8] = "double fault", [13] = "general protection", [14] = "page fault",
};

void ring0_trap(struct ring0_frame *f)
{
	if (ring0_trap_handler != NULL) {
		ring0_trap_handler(f);
		return;
	}
	uint64_t cr2;
	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	ring0_printf("dune: exception %lu (%s) in ring %lu at rip 0x%lx, error 0x%lx, cr2 0x%lx\n",
		     f->vector, names[f->vector] ? names[f->vector] : "?", f->cs & 3, f->rip,
		     f->error_code, cr2);
	ring0_exit(128 + (int)f->vector);
}

int ring0_enter(int (*fn)(uint64_t arg), uint64_t arg)
{
	build_page_tables();
	build_descriptors();
	struct dune_config c = {
		.rip = (uint64_t)ring0_start,
		.rsp = (uint64_t)ring0_stack + RING0_STACK_SIZE,
		.cr3 = table_pa(ring0_pml4),
		.rdi = (uint64_t)fn, .rsi = arg, .rax = 0,
	};
	return dune_enter(&c);
}

int ring0_enter_thread(int (*fn)(uint64_t arg), uint64_t arg, void *stack, size_t size)
{
	struct dune_config c = {
		.rip = (uint64_t)ring0_start,
		.rsp = ((uint64_t)stack + size) & ~15ul,
		.cr3 = table_pa(ring0_pml4),
		.rdi = (uint64_t)fn, .rsi = arg, .rax = 1,
	};
	return dune_enter(&c);
}

void ring0_to_user(void (*fn)(uint64_t), uint64_t arg, void *stack, size_t size)
{
	uint64_t top = (((uint64_t)stack + size) & ~15ul) - 8;    // as after a call

	asm volatile("pushq %[ss]; pushq %[rsp]; pushq $2; pushq %[cs]; pushq %[rip]; iretq"
		     : : [ss] "i"(RING0_USER_DS), [rsp] "r"(top), [cs] "i"(RING0_USER_CS),
		       [rip] "r"((uint64_t)fn), "D"(arg) : "memory");
	__builtin_unreachable();
}

void ring0_set_trap_stack(void *top)
{
	tss.rsp[0] = (uint64_t)top;
}

static volatile uint64_t probe_error;

static void probe_handler(struct ring0_frame *f)
{
	if (f->vector != 14 || f->rip != (uint64_t)ring0_read64) {
		ring0_trap_handler = NULL;
		ring0_trap(f);
		return;
	}
	probe_error = f->error_code + 1;
	f->rip = (uint64_t)ring0_read64_done;
}

uint64_t ring0_probe(uint64_t gpa, uint64_t *value)
{
	void (*saved)(struct ring0_frame *) = ring0_trap_handler;

	pd_low[RING0_PROBE_VA / LARGE] = (gpa & ~(LARGE - 1)) | PTE_P | PTE_W | PTE_PS;
	asm volatile("invlpg (%0)" : : "r"(RING0_PROBE_VA) : "memory");
	probe_error = 0;
	ring0_trap_handler = probe_handler;
	*value = ring0_read64(RING0_PROBE_VA + (gpa & (LARGE - 1)));
	ring0_trap_handler = saved;
	pd_low[RING0_PROBE_VA / LARGE] = 0;
	asm volatile("invlpg (%0)" : : "r"(RING0_PROBE_VA) : "memory");
	return probe_error;
}
