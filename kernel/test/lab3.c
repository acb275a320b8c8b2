// Lab 3 self-tests: user programs run as processes. They print what the
// kernel saw (the process's output, its faults, its exit status) and the
// free page count before and after, so grader/lab3.py can check that a
// faulting process dies alone, that nothing leaks, and that the kernel
// goes on.

#include "arch/memlayout.h"
#include "boot/cmdline.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/page.h"
#include "mm/uaccess.h"
#include "mm/vm.h"
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

KTEST(lab3_bad_elf, "lab3.bad_elf", STAGE_PROCESSES, "load broken ELF images: each must be refused");
static void lab3_bad_elf(void)
{
	const struct image *hello = user_program_find("hello");
	static uint8_t image[64 * 1024];
	size_t size = hello->end - hello->start;
	int err;

	if (size > sizeof(image))
		panic("lab3.bad_elf: hello is %lu bytes, more than %lu", size, sizeof(image));
	const struct {
		const char *what;
		size_t offset;          // of the byte to change
		uint8_t value;
		size_t size;            // of the image to load
	} breaks[] = {
		{ "magic", 1, 'X', size },
		{ "class", 4, 1, size },
		{ "machine", 18, 3, size },
		{ "truncated", 0, 0x7F, 100 },
		{ "phoff", 0x20 + 5, 0x10, size },
	};
	size_t before = page_free_count();
	for (unsigned i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
		memcpy(image, hello->start, size);
		image[breaks[i].offset] = breaks[i].value;
		struct proc *p = proc_create("broken", image, breaks[i].size, &err);
		printk("bad elf %s: %d\n", breaks[i].what, p == NULL ? err : 0);
		if (p != NULL)
			proc_free(p);
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
