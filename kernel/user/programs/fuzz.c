// fuzz SEED CALLS: makes CALLS system calls with random arguments, drawn
// from values at the edges (NULL, unaligned, kernel and non-canonical
// addresses, lengths that wrap or ask for terabytes, bad descriptors and
// flags) and from a scratch region it maps and unmaps. The kernel must
// answer each with a result or an error, never crash, hang or leak
// (lab4.fuzz counts the free pages afterwards).
//
// The calls run in a child with no console (so that no read waits for
// typing) and never touch the child's own code, stack or heap, so the
// child survives them: its exit status 0 says every call came back. The
// calls that could wait forever are kept from it: a pipe's write end is
// closed as soon as the pipe is made, and sleeps are short.
#include <stdbool.h>

#include "arch/memlayout.h"
#include "ulib.h"

#define SCRATCH 0x50000000ul
#define SCRATCH_PAGES 64

static uint64_t state;

// xorshift64* (Vigna, 2016): a fixed seed gives the same calls every time.
static uint64_t rnd(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545F4914F6CDD1Dul;
}

static uint64_t pick(const uint64_t *values, int n)
{
	return values[rnd() % n];
}

#define PICK(values) pick(values, sizeof(values) / sizeof(values[0]))

// A page-aligned or odd address in the scratch region.
static uint64_t scratch(void)
{
	uint64_t va = SCRATCH + rnd() % SCRATCH_PAGES * PAGE_SIZE;

	return rnd() % 4 == 0 ? va + rnd() % PAGE_SIZE : va;
}

// An address for a range to map, unmap or protect: only the scratch
// region or addresses no process may use.
static uint64_t range_addr(void)
{
	static const uint64_t bad[] = {
		0, 1, PAGE_SIZE, 0x00007FFFFFFFF000ul, 0x0000800000000000ul, 0xFFFF800000000000ul,
		0xFFFFFFFF80000000ul, 0xFFFFFFFFFFFFF000ul, -1ul,
	};

	return rnd() % 3 == 0 ? PICK(bad) : scratch();
}

// A buffer for the kernel to read or write: also the program's own code
// (read-only) and the ranges above.
static uint64_t buffer(void)
{
	return rnd() % 8 == 0 ? 0x400000ul + rnd() % (4 * PAGE_SIZE) : range_addr();
}

static uint64_t length(void)
{
	static const uint64_t lengths[] = {
		0, 1, 7, PAGE_SIZE - 1, PAGE_SIZE, 2 * PAGE_SIZE, 3 * PAGE_SIZE + 5, 0x100000000000ul,
		0x0000800000000000ul, -PAGE_SIZE, -1ul,
	};

	return rnd() % 2 ? rnd() % (4 * PAGE_SIZE) : PICK(lengths);
}

// The caller's own memory: the program, its data and heap (from 0x400000,
// user.ld, up to the scratch region) and the 1 MiB its stack lies in.
static uint64_t stack_lo;

// A range for map, munmap or mprotect that leaves the caller's own memory
// alone, as a correct kernel would leave it after these calls. A range
// that wraps past 2^64 stays in: the kernel must refuse it.
static void range(uint64_t *addr, uint64_t *len)
{
	for (;;) {
		uint64_t a = range_addr(), n = length();
		uint64_t end = a + ((n + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
		bool wraps = end < a;
		bool hits_program = a < SCRATCH && end > 0x400000ul;
		bool hits_stack = a < stack_lo + 0x100000ul && end > stack_lo;
		if (wraps || !(hits_program || hits_stack)) {
			*addr = a, *len = n;
			return;
		}
	}
}

static uint64_t fd(void)
{
	static const uint64_t odd[] = { -1ul, 16, 17, 1000, 0x100000000ul };

	return rnd() % 4 == 0 ? PICK(odd) : rnd() % 16;
}

static uint64_t prot(void)
{
	return rnd() % 8 == 0 ? rnd() : rnd() % 8;
}

static uint64_t increment(void)
{
	static const uint64_t increments[] = {
		0, 1, PAGE_SIZE, 16 * PAGE_SIZE, -PAGE_SIZE, -1ul, 0x400000000000ul, 0x7FFFFFFFFFFFFFFFul,
		0x8000000000000000ul,
	};

	return PICK(increments);
}

// One call; returns its result.
static int64_t one_call(void)
{
	uint64_t addr, len;

	switch (rnd() % 14) {
	case 0:
		range(&addr, &len);
		return syscall3(SYS_map, addr, len, prot());
	case 1:
		range(&addr, &len);
		return syscall3(SYS_munmap, addr, len, 0);
	case 2:
		range(&addr, &len);
		return syscall3(SYS_mprotect, addr, len, prot());
	case 3:
		return syscall3(SYS_sbrk, increment(), 0, 0);
	case 4:
		return syscall3(SYS_read, fd(), buffer(), length());
	case 5:
		return syscall3(SYS_write, fd(), buffer(), length());
	case 6: {
		uint64_t fds = rnd() % 2 ? buffer() : SCRATCH;
		int64_t r = syscall3(SYS_pipe, fds, 0, 0);
		if (r == 0)
			close(((int *)fds)[1]);
		return r;
	}
	case 7:
		return syscall3(SYS_close, fd(), 0, 0);
	case 8:
		return syscall3(SYS_dup, fd(), 0, 0);
	case 9:
		return syscall3(SYS_exec, buffer(), buffer(), 0);
	case 10:
		return syscall3(SYS_wait, rnd() % 2 ? 0 : buffer(), 0, 0);
	case 11: {
		int pid = fork();
		if (pid == 0)
			exit(7);
		return pid;
	}
	case 12:
		return syscall3(SYS_sleep, rnd() % 2, 0, 0);
	default:
		return syscall3(rnd() % 2 ? NSYSCALLS + rnd() % 100 : -(rnd() % 4) - 1, rnd(), rnd(),
				rnd());
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		printf("fuzz: usage: fuzz SEED CALLS\n");
		return 1;
	}
	uint64_t seed = strtoul(argv[1], NULL, 0), calls = strtoul(argv[2], NULL, 0);
	int status;

	int pid = fork();
	if (pid < 0) {
		printf("fuzz: fork failed: %d\n", pid);
		return 1;
	}
	if (pid == 0) {
		state = seed | 1;
		stack_lo = (uint64_t)&status & ~0xFFFFFul;
		for (int fd = 0; fd < 3; fd++)
			close(fd);
		for (uint64_t i = 0; i < calls; i++)
			one_call();
		while (wait(NULL) > 0)
			;
		exit(0);
	}
	wait(&status);
	printf("fuzz: seed %lu, %lu calls: the caller ended with status %d\n", seed, calls, status);
	return 0;
}
