// dunebench [counters]: the costs the Dune paper compares (Belay et al.,
// OSDI 2012, tables 2 and 3), native and in Dune mode in one run
// (run=bench.dune):
//   getpid        a system call: `syscall` natively, VMCALL in Dune mode
//   page fault    a write to a copy-on-write page after fork, which the
//                 kernel serves (in Dune mode through an EPT violation)
//   page walk     a read of a page whose translation is not cached: INVLPG
//                 in Dune mode, where the program may; natively, reads over
//                 more pages than the TLB holds
//   trap          a write to a read-only page delivered to the program's
//                 handler and back: SIGSEGV natively, its own IDT in Dune mode
//   appel1        prot1 + trap + unprot (Appel and Li, ASPLOS 1991)
//   appel2        protN + trap + unprot for each of the N pages
//   sthread       a new address space that runs and ends: fork + exit +
//                 wait natively; in Dune mode an sthread created from a
//                 policy, run to its exit and ended (libdune/apps/sthread.h)
// Cycles from the TSC; instructions from performance counter 0 when the
// kernel says every CPU has one ("counters"). Printed only: timings are
// not for tests to assert, only the direction (docs/libdune.md).
#include "arch/regs.h"
#include "arch/x86.h"
#include "libdune/apps/sthread.h"
#include "libdune/apps/vmprim.h"
#include "libdune/dune.h"
#include "ulib.h"

#define ROUNDS 400
#define FAULT_PAGES 32
#define WALK_PAGES 1024
#define FORKS 20
#define PROT_N 100
#define PROT_BASE 0x70000000ul
#define WALK_BASE 0x78000000ul

enum { GETPID, PAGE_FAULT, PAGE_WALK, TRAP, APPEL1, APPEL2, STHREAD, ROWS };
static const char *const row_names[ROWS] = {
	"getpid", "page fault", "page walk", "trap", "appel1", "appel2",
	"sthread create vs fork",
};

struct sample {
	uint64_t cycles, instructions;
};

static int counters;
static struct sample results[2][ROWS];  // [0] native, [1] Dune mode

static struct sample now(void)
{
	return (struct sample){ rdtsc(), counters ? rdpmc(RDPMC_FIXED_CTR0) : 0 };
}

static struct sample per(struct sample a, struct sample b, uint64_t n)
{
	return (struct sample){ (b.cycles - a.cycles) / n, (b.instructions - a.instructions) / n };
}

// -- getpid --

static void bench_getpid(int mode)
{
	struct sample s = now();
	for (int i = 0; i < ROUNDS; i++)
		dune_vmcall(SYS_getpid, 0, 0, 0);
	results[mode][GETPID] = per(s, now(), ROUNDS);
}

// -- page fault: the child measures, the parent reads the result from a pipe --

static char fault_pages[FAULT_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

static void bench_page_fault(int mode)
{
	volatile char *pages = fault_pages;
	int fds[2], status;

	for (int i = 0; i < FAULT_PAGES; i++)
		pages[i * PGSIZE] = 1;
	dune_vmcall(SYS_pipe, (uint64_t)fds, 0, 0);
	if (dune_vmcall(SYS_fork, 0, 0, 0) == 0) {
		struct sample s = now();
		for (int i = 0; i < FAULT_PAGES; i++)
			pages[i * PGSIZE] = 2;          // each write: one copy-on-write fault
		struct sample r = per(s, now(), FAULT_PAGES);
		dune_vmcall(SYS_write, (uint64_t)fds[1], (uint64_t)&r, sizeof(r));
		dune_vmcall(SYS_exit, 0, 0, 0);
	}
	dune_vmcall(SYS_read, (uint64_t)fds[0], (uint64_t)&results[mode][PAGE_FAULT],
		    sizeof(struct sample));
	dune_vmcall(SYS_wait, (uint64_t)&status, 0, 0);
	dune_vmcall(SYS_close, (uint64_t)fds[0], 0, 0);
	dune_vmcall(SYS_close, (uint64_t)fds[1], 0, 0);
}

// -- page walk --

static void bench_page_walk(int mode)
{
	volatile char *p = (volatile char *)WALK_BASE;
	struct sample s, base;

	for (int i = 0; i < WALK_PAGES; i++)
		p[i * PGSIZE] = 1;
	if (mode == 1) {
		// The same loop with and without INVLPG: the difference is the walk.
		s = now();
		for (int i = 0; i < ROUNDS; i++) {
			asm volatile("" : : "r"(WALK_BASE) : "memory");
			(void)p[(i % 64) * PGSIZE];
		}
		base = now();
		for (int i = 0; i < ROUNDS; i++) {
			dune_flush_tlb_one(WALK_BASE + (i % 64) * PGSIZE);
			(void)p[(i % 64) * PGSIZE];
		}
		struct sample e = now();
		results[mode][PAGE_WALK] = (struct sample){
			((e.cycles - base.cycles) - (base.cycles - s.cycles)) / ROUNDS,
			((e.instructions - base.instructions) - (base.instructions - s.instructions)) /
				ROUNDS };
		return;
	}
	s = now();
	for (int r = 0; r < 4; r++)
		for (int i = 0; i < WALK_PAGES; i++)
			(void)p[i * PGSIZE + 64 * r];
	results[mode][PAGE_WALK] = per(s, now(), 4 * WALK_PAGES);
}

// -- the Appel-Li primitives --

static volatile char *const prot_pages = (volatile char *)PROT_BASE;

static void protect(volatile char *va, size_t len, bool writable)
{
	vmprim_protect((void *)va, len, writable);
}

static void bench_appel_li(int mode)
{
	// Every page once first (in Dune mode: the EPT fills, the split of
	// the 2 MiB page), so that each row measures only its own work.
	for (int i = 0; i < PROT_N; i++)
		prot_pages[i * PGSIZE] = 0;
	protect(prot_pages, PROT_N * PGSIZE, true);
	protect(prot_pages, PGSIZE, false);
	vmprim_on_fault(VMPRIM_SKIP);
	uint64_t faults = vmprim_faults;
	struct sample s = now();
	for (int i = 0; i < ROUNDS; i++)
		write_and_skip(prot_pages);
	results[mode][TRAP] = per(s, now(), ROUNDS);
	if (vmprim_faults - faults != ROUNDS) {
		// A row without its faults would time nothing.
		dune_printf("bench.dune: trap: %lu faults for %d writes to a read-only page\n",
			    vmprim_faults - faults, ROUNDS);
		exit(1);
	}

	protect(prot_pages, PROT_N * PGSIZE, true);
	protect(prot_pages, PGSIZE, false);
	vmprim_region(prot_pages, PROT_N, 1);
	vmprim_on_fault(VMPRIM_UNPROTECT_NEXT);
	s = now();
	for (int i = 0; i < ROUNDS; i++)
		prot_pages[(i % PROT_N) * PGSIZE] = 1;
	results[mode][APPEL1] = per(s, now(), ROUNDS);

	vmprim_on_fault(VMPRIM_UNPROTECT);
	s = now();
	for (int round = 0; round < ROUNDS / PROT_N; round++) {
		protect(prot_pages, PROT_N * PGSIZE, false);
		for (int i = 0; i < PROT_N; i++)
			prot_pages[i * PGSIZE] = 1;
	}
	results[mode][APPEL2] = per(s, now(), ROUNDS / PROT_N * PROT_N);
	protect(prot_pages, PROT_N * PGSIZE, true);
	vmprim_on_fault(VMPRIM_DEFAULT);
}

// -- a new address space --

static void nothing(uint64_t arg)
{
	exit(0);
}

static void bench_sthread(int mode)
{
	static const enum sthread_tag_mode modes[1] = { TAG_COW };
	struct sthread tpl, c;
	int status, err;

	if (mode == 1) {
		sthread_init();
		if (sthread_tag_new(0) == 0) {
			dune_printf("bench.dune: no memory for an sthread's tag\n");
			exit(1);
		}
		err = sthread_policy(&tpl, modes, 1);
		if (err) {
			dune_printf("bench.dune: sthread_policy failed: %d\n", err);
			exit(1);
		}
	}
	struct sample s = now();

	for (int i = 0; i < FORKS; i++) {
		if (mode == 0) {
			if (fork() == 0)
				exit(0);
			wait(&status);
		} else {
			err = sthread_create(&c, &tpl);
			if (err) {
				dune_printf("bench.dune: sthread_create failed: %d\n", err);
				exit(1);
			}
			sthread_run(&c, nothing, 0);
			sthread_free(&c);
		}
	}
	results[mode][STHREAD] = per(s, now(), FORKS);
	if (mode == 1) {
		sthread_free(&tpl);
		sthread_tags_free(1);
	}
}

static void run_all(int mode)
{
	bench_getpid(mode);
	bench_page_fault(mode);
	bench_page_walk(mode);
	bench_appel_li(mode);
	bench_sthread(mode);
}

static void print_row(int row)
{
	struct sample n = results[0][row], d = results[1][row];

	if (counters)
		dune_printf("bench.dune: %-24s native %8lu cycles %8lu instructions, "
			    "dune %8lu cycles %8lu instructions\n", row_names[row], n.cycles,
			    n.instructions, d.cycles, d.instructions);
	else
		dune_printf("bench.dune: %-24s native %8lu cycles, dune %8lu cycles\n",
			    row_names[row], n.cycles, d.cycles);
}

int main(int argc, char **argv)
{
	counters = argc > 1 && strcmp(argv[1], "counters") == 0;
	if (map((void *)prot_pages, PROT_N * PGSIZE, PROT_READ | PROT_WRITE) < 0 ||
	    map((void *)WALK_BASE, WALK_PAGES * PGSIZE, PROT_READ | PROT_WRITE) < 0) {
		printf("bench.dune: no memory for the pages\n");
		return 1;
	}
	run_all(0);
	// Ring 0 only: the program's own pages in 2 MiB pages, which the
	// Appel-Li rows split.
	int err;
	if ((err = dune_init(false)) < 0 || (err = dune_enter()) < 0) {
		printf("bench.dune: dune_init or dune_enter failed: %d\n", err);
		return 1;
	}
	run_all(1);
	if (!counters)
		dune_printf("bench.dune: (instructions: no counters on this CPU)\n");
	for (int row = 0; row < ROWS; row++)
		print_row(row);
	bool syscall_dearer = results[1][GETPID].cycles > results[0][GETPID].cycles;
	bool trap_cheaper = results[1][TRAP].cycles < results[0][TRAP].cycles;
	dune_printf("bench.dune: a system call costs %s in Dune mode (VMCALL); a trap costs %s "
		    "(the process's own IDT, no signal)\n", syscall_dearer ? "more" : "less",
		    trap_cheaper ? "less" : "more");
	return 0;
}
