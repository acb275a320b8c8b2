#include <stdbool.h>

#include "arch/ports.h"
#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include "console/serial.h"
#include "console/vga.h"
#include "lib/printfmt.h"

static bool e9_enabled;
static bool locking;
static bool panicking;
// The console lock. The console sits below sync/: a spinlock checks how
// it is used and panics, and a panic prints, so printk cannot take one.
// This is a bare test-and-set held with interrupts off, for one printk.
static volatile uint32_t console_lock;

void console_enable_locking(void)
{
	locking = true;
}

void console_panic(void)
{
	panicking = true;
}

void console_init(bool bochs_e9)
{
	serial_init();
	e9_enabled = bochs_e9;
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

// Takes the lock that keeps lines of different CPUs apart, if printing
// is locked; returns what console_unlock needs. A panicking CPU prints
// without it: it may hold it already, and its report matters more than
// tidy lines.
static uint64_t console_lock_take(bool *locked)
{
	uint64_t rflags = read_rflags();

	*locked = locking && !panicking;
	if (*locked) {
		cli();
		// xchg is atomic and a full barrier (SDM Vol. 3A 9.1.2.2).
		while (xchg32(&console_lock, 1) != 0)
			pause();
	}
	return rflags;
}

static void console_lock_give(bool locked, uint64_t rflags)
{
	if (locked) {
		xchg32(&console_lock, 0);
		if (rflags & RFLAGS_IF)
			sti();
	}
}

int vprintk(const char *fmt, va_list ap)
{
	bool locked;
	uint64_t rflags = console_lock_take(&locked);
	int n = vprintfmt(console_putch, NULL, fmt, ap);
	console_lock_give(locked, rflags);
	return n;
}

void console_write(const char *buf, size_t n)
{
	bool locked;
	uint64_t rflags = console_lock_take(&locked);
	for (size_t i = 0; i < n; i++)
		console_putc(buf[i]);
	console_lock_give(locked, rflags);
}

int printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}
