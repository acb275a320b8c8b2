// lwIP's clock (NO_SYS ports give only sys_now): milliseconds from the
// kernel's clock system call (uptime_ms). lwIP's timers compare these as u32_t
// differences, so the wrap after 49 days is harmless.

#include <lwip/sys.h>

#include "ulib.h"

u32_t sys_now(void)
{
	return (u32_t)uptime_ms();
}
