#include <stdbool.h>

#include "arch/x86.h"
#include "console/console.h"
#include "console/serial.h"
#include "console/vga.h"
#include "lib/printfmt.h"
#include "debug/panic.h"
#include "platform/platform.h"
#include "sync/spinlock.h"

#define BOCHS_E9_PORT 0xE9

static bool e9_enabled;
static bool locking;
static struct spinlock console_lock = SPINLOCK_INIT("console");

void console_enable_locking(void)
{
	locking = true;
}

void console_init(void)
{
	serial_init();
	e9_enabled = platform_is_bochs();
}

void console_attach_screen(uint64_t phys, int cols, int rows)
{
	vga_init(phys, cols, rows);
}

void console_putc(int c)
{
	// Serial terminals want CR LF.
	if (c == '\n')
		serial_putc('\r');
	serial_putc(c);
	vga_putc(c);
	if (e9_enabled)
		outb(BOCHS_E9_PORT, (uint8_t)c);
}

int console_getc(void)
{
	return serial_getc();
}

static bool input_by_interrupts;

void console_input_by_interrupts(void)
{
	input_by_interrupts = true;
	serial_enable_interrupts();
}

bool console_input_interrupts_on(void)
{
	return input_by_interrupts;
}

static void console_putch(int c, void *arg)
{
	(void)arg;
	console_putc(c);
}

// A panicking CPU prints without the lock: it may hold it already, and
// its report matters more than tidy lines.
int vprintk(const char *fmt, va_list ap)
{
	bool lock = locking && !panic_in_progress();

	if (lock)
		spin_lock(&console_lock);
	int n = vprintfmt(console_putch, NULL, fmt, ap);
	if (lock)
		spin_unlock(&console_lock);
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}
