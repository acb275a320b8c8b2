// bench [counters]: the costs the Dune lab compares against, measured
// natively from user mode: a null system call, a page fault (a write to
// a fresh copy-on-write page), fork+exit+wait, a switch between two
// processes; and the primitives of Appel and Li's benchmarks (ASPLOS
// 1991) with mprotect and a SIGSEGV handler: trap (a fault delivered to
// the handler and back), prot1 and unprot (one page), protN (PROT_N pages
// at once), appel1 and appel2. Cycles come from the TSC; instructions
// from performance counter 0 when the kernel says it runs ("counters" as
// argument). Printed only: timings are not for tests to assert.
#include "arch/memlayout.h"
#include "arch/regs.h"
#include "arch/x86.h"             // rdtsc, rdpmc: allowed in ring 3 here
#include "ulib.h"

#define ROUNDS 2000
#define FAULT_PAGES 64
#define FORKS 50
#define SWITCHES 1000
#define PROT_N 100      // Appel and Li's N
#define PROT_BASE 0x70000000ul

static int counters;

struct sample {
	uint64_t cycles, instructions;
};

static uint64_t instructions(void)
{
	return counters ? rdpmc(RDPMC_FIXED_CTR0) : 0;
}

static struct sample now(void)
{
	return (struct sample){ rdtsc(), instructions() };
}

static void report(const char *what, struct sample start, struct sample end, uint64_t n)
{
	printf("bench: %-28s %8lu cycles", what, (end.cycles - start.cycles) / n);
	if (counters)
		printf(" %8lu instructions\n", (end.instructions - start.instructions) / n);
	else
		printf("  (instructions: no counters on this CPU)\n");
}

static void null_syscall(void)
{
	struct sample s = now();
	for (int i = 0; i < ROUNDS; i++)
		getpid();
	report("null system call", s, now(), ROUNDS);
}

static void cow_fault(void)
{
	volatile char *pages = sbrk(FAULT_PAGES * PAGE_SIZE);
	int status;

	for (int i = 0; i < FAULT_PAGES; i++)
		pages[i * PAGE_SIZE] = 1;
	if (fork() == 0) {
		struct sample s = now();
		for (int i = 0; i < FAULT_PAGES; i++)
			pages[i * PAGE_SIZE] = 2;            // each write: one copy-on-write fault
		report("page fault (copy on write)", s, now(), FAULT_PAGES);
		exit(0);
	}
	wait(&status);
}

static void fork_exit_wait(void)
{
	int status;
	struct sample s = now();

	for (int i = 0; i < FORKS; i++) {
		if (fork() == 0)
			exit(0);
		wait(&status);
	}
	report("fork + exit + wait", s, now(), FORKS);
}

// Two processes on one CPU take turns through yield: every yield is a
// switch to the other one.
static void context_switch(void)
{
	int status;
	struct sample s = now();

	if (fork() == 0) {
		for (int i = 0; i < SWITCHES; i++)
			yield();
		exit(0);
	}
	for (int i = 0; i < SWITCHES; i++)
		yield();
	wait(&status);
	report("context switch (yield)", s, now(), 2 * SWITCHES);
}

// -- Appel and Li's primitives -----------------------------------------------

static volatile char *const prot_pages = (volatile char *)PROT_BASE;
static int next_to_protect;

// write_and_skip(p): a write to *p that a handler may step over: the
// instruction is STORE_LENGTH bytes long.
#define STORE_LENGTH 3  // movq %rax, (%rdi): REX.W 89 /r
void write_and_skip(volatile char *p);
asm(".text\n"
    "write_and_skip:\n"
    "	movq %rax, (%rdi)\n"
    "	ret\n");

static void step_over_store(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	(void)sig, (void)info;
	ctx->rip += STORE_LENGTH;
}

static void *page_of(struct siginfo *info)
{
	return (void *)(info->addr & ~(PAGE_SIZE - 1));
}

static void unprotect_faulting(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	(void)sig, (void)ctx;
	mprotect(page_of(info), PAGE_SIZE, PROT_READ | PROT_WRITE);
}

// appel1's handler: unprotect this page, protect another.
static void unprotect_and_protect(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	unprotect_faulting(sig, info, ctx);
	mprotect((void *)&prot_pages[next_to_protect * PAGE_SIZE], PAGE_SIZE, PROT_READ);
	next_to_protect = (next_to_protect + 1) % PROT_N;
}

static void trap(void)
{
	mprotect((void *)prot_pages, PAGE_SIZE, PROT_READ);
	sigaction(SIGSEGV, step_over_store);
	struct sample s = now();
	for (int i = 0; i < ROUNDS; i++)
		write_and_skip(prot_pages);
	report("trap (SIGSEGV and back)", s, now(), ROUNDS);
}

static void prot1_unprot(void)
{
	struct sample prot = { 0 }, unprot = { 0 };

	for (int i = 0; i < ROUNDS; i++) {
		struct sample a = now();
		mprotect((void *)prot_pages, PAGE_SIZE, PROT_READ);
		struct sample b = now();
		mprotect((void *)prot_pages, PAGE_SIZE, PROT_READ | PROT_WRITE);
		struct sample c = now();
		prot.cycles += b.cycles - a.cycles, prot.instructions += b.instructions - a.instructions;
		unprot.cycles += c.cycles - b.cycles, unprot.instructions += c.instructions - b.instructions;
	}
	report("prot1 (mprotect one page)", (struct sample){ 0 }, prot, ROUNDS);
	report("unprot (one page)", (struct sample){ 0 }, unprot, ROUNDS);
}

static void protn(void)
{
	struct sample total = { 0 };

	for (int i = 0; i < ROUNDS / 10; i++) {
		struct sample a = now();
		mprotect((void *)prot_pages, PROT_N * PAGE_SIZE, PROT_READ);
		struct sample b = now();
		mprotect((void *)prot_pages, PROT_N * PAGE_SIZE, PROT_READ | PROT_WRITE);
		total.cycles += b.cycles - a.cycles, total.instructions += b.instructions - a.instructions;
	}
	report("protN (100 pages at once)", (struct sample){ 0 }, total, ROUNDS / 10);
}

// appel1: one page protected at a time; each access of a protected page
// traps, and the handler unprotects it and protects the next.
static void appel1(void)
{
	mprotect((void *)prot_pages, PROT_N * PAGE_SIZE, PROT_READ | PROT_WRITE);
	mprotect((void *)prot_pages, PAGE_SIZE, PROT_READ);
	next_to_protect = 1;
	sigaction(SIGSEGV, unprotect_and_protect);
	struct sample s = now();
	for (int i = 0; i < ROUNDS; i++)
		prot_pages[(i % PROT_N) * PAGE_SIZE] = 1;
	report("appel1 (prot1+trap+unprot)", s, now(), ROUNDS);
}

// appel2: protect all N pages, then touch each: every touch traps and
// the handler unprotects that page.
static void appel2(void)
{
	sigaction(SIGSEGV, unprotect_faulting);
	struct sample s = now();
	for (int round = 0; round < ROUNDS / PROT_N; round++) {
		mprotect((void *)prot_pages, PROT_N * PAGE_SIZE, PROT_READ);
		for (int i = 0; i < PROT_N; i++)
			prot_pages[i * PAGE_SIZE] = 1;
	}
	report("appel2 (protN+trap+unprot)", s, now(), ROUNDS / PROT_N * PROT_N);
}

static void appel_li(void)
{
	if (map((void *)prot_pages, PROT_N * PAGE_SIZE, PROT_READ | PROT_WRITE) < 0) {
		printf("bench: no memory for the Appel-Li pages\n");
		return;
	}
	for (int i = 0; i < PROT_N; i++)
		prot_pages[i * PAGE_SIZE] = 0;
	trap();
	prot1_unprot();
	protn();
	appel1();
	appel2();
	sigaction(SIGSEGV, SIG_DFL);
	munmap((void *)prot_pages, PROT_N * PAGE_SIZE);
}

int main(int argc, char **argv)
{
	counters = argc > 1 && strcmp(argv[1], "counters") == 0;
	null_syscall();
	cow_fault();
	fork_exit_wait();
	context_switch();
	appel_li();
	return 0;
}
