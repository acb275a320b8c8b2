#include <stddef.h>

#include "arch/regs.h"
#include "arch/x86.h"
#include "cpu/cpu.h"
#include "debug/ksyms.h"
#include "debug/panic.h"
#include "sync/spinlock.h"


void spin_init(struct spinlock *l, const char *name)
{
	*l = (struct spinlock)SPINLOCK_INIT(name);
}

bool spin_holding(const struct spinlock *l)
{
	return l->locked && l->holder == this_cpu();
}

// Takes l, calling poll (if any) while waiting; taken_at names the caller.
static void acquire(struct spinlock *l, void (*poll)(void), uint64_t taken_at)
{
	push_cli();
	if (spin_holding(l)) {
		const char *fn = "??";
		uint64_t start;
		ksym_lookup(l->taken_at, &fn, &start);
		panic("spin_lock: cpu %d already holds lock '%s' (taken in %s)",
		      this_cpu()->id, l->name, fn);
	}
	// xchg is atomic and a full barrier: the critical section's loads
	// and stores stay after it (SDM Vol. 3A 9.1.2.2).
	while (xchg32(&l->locked, 1) != 0) {
		if (poll != NULL)
			poll();
		pause();
	}
	l->holder = this_cpu();
	l->taken_at = taken_at;
}

void spin_lock(struct spinlock *l)
{
	acquire(l, NULL, (uint64_t)__builtin_return_address(0));
}

void spin_lock_polling(struct spinlock *l, void (*poll)(void))
{
	acquire(l, poll, (uint64_t)__builtin_return_address(0));
}

void spin_unlock(struct spinlock *l)
{
	if (!spin_holding(l))
		panic("spin_unlock: cpu %d releases lock '%s', which it does not hold",
		      this_cpu()->id, l->name);
	l->holder = NULL;
	l->taken_at = 0;
	// The critical section's stores must be visible before the lock is
	// free: xchg again (a plain store would do on x86, whose stores are
	// not reordered with older stores, but xchg says it outright).
	xchg32(&l->locked, 0);
	pop_cli();
}
