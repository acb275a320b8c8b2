#include "lib/printfmt.h"
#include "guest.h"

static void serial_putch(int c, void *arg)
{
	(void)arg;
	outb(COM1_PORT, (uint8_t)c);
}

int printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vprintfmt(serial_putch, 0, fmt, ap);
	va_end(ap);
	return n;
}
