#include "clock/clock.h"
#include "sync/sched.h"

volatile uint64_t ticks;
struct spinlock tick_lock = SPINLOCK_INIT("ticks");

void clock_tick(void)
{
	spin_lock(&tick_lock);
	ticks++;
	wakeup((void *)&ticks);
	spin_unlock(&tick_lock);
}

void clock_wait(uint64_t n)
{
	spin_lock(&tick_lock);
	uint64_t end = ticks + n;
	while (ticks < end)
		sleep((void *)&ticks, &tick_lock);
	spin_unlock(&tick_lock);
}
