// Lab 3 self-tests: user programs run as processes. They print what the
// kernel saw (the process's output, its faults, its exit status) and the
// free page count before and after, so grader/lab3.py can check that a
// faulting process dies alone, that nothing leaks, and that the kernel
// goes on.

#include <stddef.h>

#include "arch/memlayout.h"
#include "boot/cmdline.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/page.h"
#include "mm/uaccess.h"
#include "mm/vm.h"
#include "proc/elf.h"
#include "proc/proc.h"
#include "proc/programs.h"
#include "test/ktest.h"

#define SUPERVISOR_PAGE 0x50000000ul   // kernel/user/programs/badptr.c

// Runs one program with arg to its end; reports how it ended.
static void run_program(const char *name, uint64_t arg)
{
	const struct image *prog = user_program_find(name);
	int err;

	if (prog == NULL) {
		printk("no program '%s'; these exist: ", name);
		user_program_list();
		panic("prog=%s: no such program", name);
	}
	struct proc *p = proc_create(name, prog->start, prog->end - prog->start, &err);
	if (p == NULL) {
		printk("process %s: not created: %d (%s)\n", name, err, strerror(err));
		return;
	}
	p->tf->rdi = arg;       // main's argument (user/lib/crt0.S)
	// A page in the user half that only the kernel may touch: system
	// calls must refuse it (badptr passes it to write).
	struct page *supervisor = page_alloc(0, true);
	if (supervisor == NULL || vm_map(p->as->pml4, SUPERVISOR_PAGE, supervisor, PTE_W | PTE_NX) < 0)
		panic("lab3.run: no memory for the supervisor page");
	page_put(supervisor);
	printk("process %s[%d] started\n", p->name, p->pid);
	int pid = p->pid;
	int status = proc_run(p);       // frees p
	printk("process %s[%d] ended with status %d\n", name, pid, status);
}

KTEST(lab3_run, "lab3.run", STAGE_PROCESSES,
      "run the programs in prog= (comma-separated) with arg=");
static void lab3_run(void)
{
	const char *list = cmdline_get("prog");
	uint64_t arg = cmdline_get_u64("arg", 0);
	char name[PROC_NAME_MAX];

	if (list == NULL)
		panic("lab3.run: say which programs with prog=NAME[,NAME...]");
	size_t before = page_free_count();
	while (*list != '\0') {
		size_t n = strchr(list, ',') ? (size_t)(strchr(list, ',') - list) : strlen(list);
		strlcpy(name, list, n + 1 < sizeof(name) ? n + 1 : sizeof(name));
		run_program(name, arg);
		list += n + (list[n] == ',');
	}
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

// The damaged copies of hello that lab3.bad_elf loads: up to two fields
// of the file header (HEADER) or of the first PT_LOAD program header
// (SEGMENT) changed, or the file cut short. Each must be refused with
// -ENOEXEC, but for those marked accepted (edge cases of the checks).
enum elf_part { HEADER, SEGMENT };
struct elf_change {
	size_t field;           // offset in the header, 0 for none
	int width;              // bytes: 1, 2 or 8
	uint64_t value;
};
struct elf_damage {
	const char *what;
	enum elf_part part;
	struct elf_change change[2];
	size_t cut;             // bytes cut off the end
	bool move_phdrs;        // copy the program headers to the new phoff
	bool accepted;
};

#define H(f) offsetof(struct elf64_header, f)
#define P(f) offsetof(struct elf64_phdr, f)

// A copy of hello, and in front of it a copy of its program headers:
// a loader that lets phoff wrap around would find them there and load
// the file instead of refusing it.
static struct __attribute__((packed)) {
	uint8_t pad[PAGE_SIZE];
	struct elf64_phdr decoy[4];
	uint8_t image[64 * 1024];
} elf_copy;

static void set_field(uint8_t *base, const struct elf_change *c)
{
	if (c->width == 1)
		base[c->field] = (uint8_t)c->value;
	else if (c->width == 2)
		*(uint16_t *)(base + c->field) = (uint16_t)c->value;
	else
		*(uint64_t *)(base + c->field) = c->value;
}

// The first PT_LOAD program header of the image.
static const struct elf64_phdr *first_load(const struct elf64_header *h)
{
	const struct elf64_phdr *ph = (const void *)((const uint8_t *)h + h->phoff);

	for (int i = 0; i < h->phnum; i++)
		if (ph[i].type == PT_LOAD)
			return &ph[i];
	panic("lab3.bad_elf: hello has no PT_LOAD segment");
}

static void load_damaged(const struct elf_damage *d, size_t size)
{
	struct elf64_header *h = (struct elf64_header *)elf_copy.image;
	struct elf64_phdr *ph = (struct elf64_phdr *)first_load(h);
	const uint8_t *phdrs = elf_copy.image + h->phoff;
	int err;

	for (int i = 0; i < 2; i++)
		if (d->change[i].width != 0)
			set_field(d->part == HEADER ? (uint8_t *)h : (uint8_t *)ph, &d->change[i]);
	if (d->move_phdrs)
		memmove(elf_copy.image + h->phoff, phdrs, h->phnum * sizeof(struct elf64_phdr));
	struct proc *p = proc_create("broken", elf_copy.image, size - d->cut, &err);
	printk("bad elf %s: %d%s\n", d->what, p == NULL ? err : 0,
	       d->accepted ? " (accepted)" : "");
	if (p != NULL)
		proc_free(p);
}

KTEST(lab3_bad_elf, "lab3.bad_elf", STAGE_PROCESSES,
      "load damaged copies of hello (part=header or part=segment): each must be refused");
static void lab3_bad_elf(void)
{
	const struct image *hello = user_program_find("hello");
	const struct elf64_header *good = (const void *)hello->start;
	size_t size = hello->end - hello->start;
	const char *part = cmdline_get("part");

	if (size > sizeof(elf_copy.image) || good->phnum > 4)
		panic("lab3.bad_elf: hello is %lu bytes, more than %lu, or has more than 4 "
		      "program headers", size, sizeof(elf_copy.image));
	if (part == NULL || (strcmp(part, "header") != 0 && strcmp(part, "segment") != 0))
		panic("lab3.bad_elf: say part=header or part=segment");
	const struct elf64_phdr *load = first_load(good);
	uint64_t phdrs_size = good->phnum * sizeof(struct elf64_phdr);
	uint64_t memsz = load->memsz, filesz = load->filesz, offset = load->offset;
	uint64_t pages = (memsz + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	const struct elf_damage damages[] = {
		{ .what = "magic", .part = HEADER, .change = { { H(ident) + 1, 1, 'X' } } },
		{ .what = "class", .part = HEADER, .change = { { H(ident) + 4, 1, 1 } } },
		{ .what = "byte order", .part = HEADER, .change = { { H(ident) + 5, 1, 2 } } },
		{ .what = "type", .part = HEADER, .change = { { H(type), 2, 3 } } },
		{ .what = "machine", .part = HEADER, .change = { { H(machine), 2, 3 } } },
		{ .what = "program header size", .part = HEADER,
		  .change = { { H(phentsize), 2, 32 } } },
		{ .what = "program headers cut", .part = HEADER,
		  .cut = size - (good->phoff + phdrs_size) + 1 },
		{ .what = "phnum", .part = HEADER, .change = { { H(phnum), 2, 0xFFFF } } },
		{ .what = "program headers cross the end", .part = HEADER,
		  .change = { { H(phoff), 8, size - phdrs_size + 8 } }, .move_phdrs = true },
		{ .what = "phoff at the end", .part = HEADER, .change = { { H(phoff), 8, size } } },
		{ .what = "phoff wraps", .part = HEADER, .change = { { H(phoff), 8, -phdrs_size } } },
		{ .what = "entry at USER_TOP", .part = HEADER, .change = { { H(entry), 8, USER_TOP } } },
		{ .what = "segment offset", .part = SEGMENT, .change = { { P(offset), 8, size } } },
		{ .what = "segment past the end", .part = SEGMENT,
		  .change = { { P(filesz), 8, size - offset + 1 }, { P(memsz), 8, size - offset + 1 } } },
		{ .what = "segment offset wraps", .part = SEGMENT, .change = { { P(offset), 8, -filesz } } },
		{ .what = "filesz > memsz", .part = SEGMENT, .change = { { P(memsz), 8, filesz - 1 } } },
		{ .what = "segment in page 0", .part = SEGMENT, .change = { { P(vaddr), 8, 0x100 } } },
		{ .what = "segment in the kernel", .part = SEGMENT,
		  .change = { { P(vaddr), 8, 0xFFFFFFFF80000000ul } } },
		{ .what = "segment past USER_TOP", .part = SEGMENT,
		  .change = { { P(vaddr), 8, USER_TOP - memsz + 1 } } },
		{ .what = "segment wraps", .part = SEGMENT,
		  .change = { { P(vaddr), 8, -(uint64_t)PAGE_SIZE }, { P(memsz), 8, memsz + 2 * PAGE_SIZE } } },
		{ .what = "segment ends at USER_TOP", .part = SEGMENT,
		  .change = { { P(vaddr), 8, USER_TOP - pages }, { P(memsz), 8, pages } },
		  .accepted = true },
	};
	memcpy(elf_copy.decoy + 4 - good->phnum, hello->start + good->phoff, phdrs_size);
	size_t before = page_free_count();
	for (unsigned i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
		if ((damages[i].part == HEADER) != (strcmp(part, "header") == 0))
			continue;
		memcpy(elf_copy.image, hello->start, size);
		memset(elf_copy.image + size, 0, sizeof(elf_copy.image) - size);
		load_damaged(&damages[i], size);
	}
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

// Pages of made-up page tables for lab3.uaccess: one only the user may
// read, one it may write, and the last page of the user half.
#define UACCESS_READ_ONLY 0x60000000ul
#define UACCESS_WRITABLE  (UACCESS_READ_ONLY + PAGE_SIZE)
#define UACCESS_LAST      (USER_TOP - PAGE_SIZE)

static void check_range(pte_t *pml4, const char *what, uint64_t va, size_t len, bool write)
{
	printk("uaccess: %s [0x%lx, +0x%lx) %s: %s\n", what, va, len, write ? "write" : "read",
	       user_range_ok(pml4, va, len, write) ? "ok" : "refused");
}

KTEST(lab3_uaccess, "lab3.uaccess", STAGE_PROCESSES,
      "user_range_ok on made-up page tables: the end of the user half (len= bytes), read-only pages");
static void lab3_uaccess(void)
{
	uint64_t len = cmdline_get_u64("len", 16);
	size_t before = page_free_count();
	pte_t *pml4 = vm_create();
	struct page *pages[3];

	if (pml4 == NULL || len == 0 || len > PAGE_SIZE)
		panic("lab3.uaccess: no page tables, or len=%lu is not in 1..4096", len);
	const uint64_t where[3] = { UACCESS_READ_ONLY, UACCESS_WRITABLE, UACCESS_LAST };
	const uint64_t perm[3] = { PTE_U | PTE_NX, PTE_U | PTE_W | PTE_NX, PTE_U | PTE_W | PTE_NX };
	for (int i = 0; i < 3; i++) {
		if ((pages[i] = page_alloc(0, true)) == NULL || vm_map(pml4, where[i], pages[i], perm[i]) < 0)
			panic("lab3.uaccess: no memory");
		page_put(pages[i]);
	}
	// A range may end exactly at USER_TOP, not one byte later.
	check_range(pml4, "last bytes", USER_TOP - len, len, false);
	check_range(pml4, "last bytes", USER_TOP - len, len, true);
	check_range(pml4, "one past the end", USER_TOP - len, len + 1, false);
	// Read-only pages can be read, not written, alone or with a writable one.
	check_range(pml4, "read-only page", UACCESS_READ_ONLY + PAGE_SIZE - len, len, false);
	check_range(pml4, "read-only page", UACCESS_READ_ONLY + PAGE_SIZE - len, len, true);
	check_range(pml4, "writable page", UACCESS_WRITABLE, len, true);
	check_range(pml4, "both pages", UACCESS_WRITABLE - len, 2 * len, false);
	check_range(pml4, "both pages", UACCESS_WRITABLE - len, 2 * len, true);
	vm_destroy(pml4);
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}
