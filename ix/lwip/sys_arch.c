// lwIP's clock (NO_SYS ports give only sys_now): milliseconds from the
// kernel's clock, read from the TSC at the rate the kernel measured
// (ulib's ms_clock_read), with no system call: each flow group's timers
// read it at every turn of the dataplane's loop. lwIP's timers compare
// these as u32_t differences, so the wrap after 49 days is harmless.

#include <lwip/sys.h>

#include "ulib.h"

u32_t sys_now(void)
{
	static uint64_t rate;

	if (rate == 0)
		rate = ms_clock_rate();
	return (u32_t)ms_clock_read(rate);
}
