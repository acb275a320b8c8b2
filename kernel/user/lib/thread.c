// thread_create: a thread that runs a C function on a stack the caller
// gives. The function and its argument wait at the top of that stack for
// thread_entry, which the kernel starts with %rdi pointing at them.
#include "ulib.h"

struct thread_start {
	int (*fn)(void *);
	void *arg;
};

static void thread_entry(struct thread_start *start)
{
	thread_exit(start->fn(start->arg));
}

int thread_create(int (*fn)(void *), void *arg, void *stack, size_t size)
{
	uint64_t top = ((uint64_t)stack + size) & ~15ul;
	struct thread_start *start = (struct thread_start *)top - 1;

	if (size < 64)
		return -EINVAL;
	*start = (struct thread_start){ fn, arg };
	// Entered as if called: %rsp + 8 is a multiple of 16 at a function's
	// first instruction (System V AMD64 ABI, 3.2.2), and the return
	// address slot holds 0, where a backtrace ends.
	uint64_t *sp = (uint64_t *)start - 1;
	*sp = 0;
	return clone((void *)thread_entry, sp, start);
}
