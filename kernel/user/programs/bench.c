// bench [counters]: the costs the Dune lab compares against, measured
// natively from user mode: a null system call, a page fault (a write to
// a fresh copy-on-write page), fork+exit+wait, and a switch between two
// processes. Cycles come from the TSC; instructions from performance
// counter 0 when the kernel says it runs ("counters" as argument).
// Printed only: timings are not for tests to assert.
#include "ulib.h"

#define ROUNDS 2000
#define FAULT_PAGES 64
#define FORKS 50
#define SWITCHES 1000

static int counters;

struct sample {
	uint64_t cycles, instructions;
};

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t instructions(void)
{
	uint32_t lo, hi;

	if (!counters)
		return 0;
	asm volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"((1u << 30) | 0));
	return ((uint64_t)hi << 32) | lo;
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
	volatile char *pages = sbrk(FAULT_PAGES * 4096);
	int status;

	for (int i = 0; i < FAULT_PAGES; i++)
		pages[i * 4096] = 1;
	if (fork() == 0) {
		struct sample s = now();
		for (int i = 0; i < FAULT_PAGES; i++)
			pages[i * 4096] = 2;            // each write: one copy-on-write fault
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

int main(int argc, char **argv)
{
	counters = argc > 1 && strcmp(argv[1], "counters") == 0;
	null_syscall();
	cow_fault();
	fork_exit_wait();
	context_switch();
	return 0;
}
