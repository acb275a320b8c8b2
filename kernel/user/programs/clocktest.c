// clocktest: the user clock (SYS_clock). Its readings increase, on one
// CPU and from one CPU to another; ns is the TSC at the rate the kernel
// measured; a sleep of TICKS timer ticks lasts at least TICKS - 1 of them
// by the clock, while the thread's own ticks (thread_cycles) grow by
// less than half of it; bad pointers get -EFAULT.
#include "ulib.h"

#define TICKS 5
#define MS_PER_TICK (1000 / TIMER_HZ)
#define READINGS 1000
#define SLEEP_NS_MIN ((TICKS - 1) * MS_PER_TICK * 1000000ul)
#define SLEEP_TRIES 3

static struct clock_reading first;
static volatile int first_taken;
static char stack[4 * 4096] __attribute__((aligned(16)));

static void yes_no(const char *what, int ok)
{
	printf("clocktest: %s: %s\n", what, ok ? "yes" : "no");
}

static uint64_t ns_of(uint64_t cycles, uint64_t per_ms)
{
	return cycles / per_ms * 1000000 + cycles % per_ms * 1000000 / per_ms;
}

// On whatever CPU the thread runs: not earlier than main's reading.
static int read_after(void *arg)
{
	struct clock_reading r;

	(void)arg;
	while (!first_taken)
		;
	clock(&r);
	return r.cycles >= first.cycles && r.ns >= first.ns;
}

// The clock's readings around a sleep of TICKS ticks: the longest of up
// to SLEEP_TRIES sleeps, stopping at the first that lasts SLEEP_NS_MIN.
// Why more than one: QEMU delivers the periodic timer's missed periods in
// a burst once its host thread runs again, so under a loaded host one
// sleep may end early by the TSC. A sleep that does not wait, or ticks
// counted by every CPU, is short every time.
static void timed_sleep(struct clock_reading *a, struct clock_reading *b)
{
	struct clock_reading start, end;

	for (int i = 0; i < SLEEP_TRIES; i++) {
		clock(&start);
		sleep(TICKS);
		clock(&end);
		if (i == 0 || end.ns - start.ns > b->ns - a->ns)
			*a = start, *b = end;
		if (b->ns - a->ns >= SLEEP_NS_MIN)
			return;
	}
}

int main(void)
{
	struct clock_reading a, b;
	int increasing = 1, consistent = 1, own = 1, later = 0;

	clock(&a);
	for (int i = 0; i < READINGS; i++) {
		clock(&b);
		increasing &= b.cycles > a.cycles && b.ns >= a.ns;
		consistent &= b.ns == ns_of(b.cycles, b.cycles_per_ms) && b.cycles_per_ms == a.cycles_per_ms;
		own &= b.thread_cycles > a.thread_cycles &&
		       b.thread_cycles - a.thread_cycles <= b.cycles - a.cycles;
		a = b;
	}
	yes_no("readings increase", increasing);
	yes_no("ns is the TSC at the measured rate", consistent && a.cycles_per_ms > 0);
	yes_no("the thread's own ticks increase, no faster than the TSC", own);

	int tid = thread_create(read_after, NULL, stack, sizeof(stack));
	clock(&first);
	first_taken = 1;
	join(tid, &later);
	yes_no("a thread's reading after it is not earlier", later);

	timed_sleep(&a, &b);
	yes_no("a sleep of 5 ticks lasts 40 ms or more", b.ns - a.ns >= SLEEP_NS_MIN);
	yes_no("the thread's own ticks grow by less than half the sleep",
	       b.thread_cycles - a.thread_cycles < (b.cycles - a.cycles) / 2);

	printf("clocktest: clock(NULL) = %d\n", clock(NULL));
	printf("clocktest: clock(kernel address) = %d\n", clock((struct clock_reading *)0xFFFFFFFF80100000ul));
	printf("clocktest: clock(read-only page) = %d\n", clock((struct clock_reading *)0x400000));
	return 0;
}
