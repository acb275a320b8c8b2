#include <stdarg.h>
#include <stdint.h>

#include "arch/x86.h"
#include "console/console.h"
#include "debug/backtrace.h"
#include "debug/panic.h"
#include "platform/platform.h"

static int panicking;

void panic_begin(const char *file, int line)
{
	cli();
	if (panicking++) {
		// A fault while printing the report: whatever printed last is
		// the most we can say.
		printk("\nkernel panic at %s:%d while already panicking\n", file, line);
		power_off(POWER_PANIC);
	}
	console_panic();
	printk("\nkernel panic at %s:%d: ", file, line);
}

void panic_end(void)
{
	power_off(POWER_PANIC);
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	uint64_t rsp;

	asm volatile("mov %%rsp, %0" : "=r"(rsp));
	panic_begin(file, line);
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n  rsp 0x%016lx  rflags 0x%lx\n", rsp, read_rflags());
	printk("  cr0 0x%lx  cr2 0x%lx  cr3 0x%lx  cr4 0x%lx\n",
	       read_cr0(), read_cr2(), read_cr3(), read_cr4());
	printk("backtrace:\n");
	backtrace_walk(read_rbp(), 0);
	panic_end();
}
