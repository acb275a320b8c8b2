// lwIP's timers on our timer wheel (sys_timeouts.c gives lwIP its
// sys_timeout, sys_untimeout, sys_check_timeouts and sys_timeouts_init,
// declared by <lwip/timeouts.h>): what the programs may ask besides.

#ifndef IX_LWIP_SYS_TIMEOUTS_H
#define IX_LWIP_SYS_TIMEOUTS_H

#include "ix/lwip/timerwheel.h"

// The wheel's counters: lwIP's timers fired, and moved between levels.
const struct wheel_stats *sys_timeouts_stats(void);

#endif
