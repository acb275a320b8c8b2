#include "arch/x86.h"
#include "ulib.h"

extern char sigreturn_restorer[];

int sigaction(int sig, sighandler_t handler)
{
	return (int)syscall3(SYS_sigaction, (uint64_t)sig, (uint64_t)handler,
			     (uint64_t)sigreturn_restorer);
}

int64_t sigreturn(const struct sigcontext *ctx)
{
	return syscall3(SYS_sigreturn, (uint64_t)ctx, 0, 0);
}

int clock(struct clock_reading *reading)
{
	return (int)syscall3(SYS_clock, (uint64_t)reading, 0, 0);
}

uint64_t uptime_ms(void)
{
	struct clock_reading c;

	clock(&c);
	return c.ns / 1000000;
}

uint64_t ms_clock_rate(void)
{
	struct clock_reading c;

	clock(&c);
	return c.cycles_per_ms;
}

uint64_t ms_clock_read(uint64_t rate)
{
	return rdtsc() / rate;
}
