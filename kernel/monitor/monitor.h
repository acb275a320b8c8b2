// The kernel monitor: a command prompt on the serial console, for looking
// at a running kernel by hand ("help" lists the commands).

#ifndef KERNEL_MONITOR_MONITOR_H
#define KERNEL_MONITOR_MONITOR_H

__attribute__((noreturn)) void monitor_run(void);

#endif
