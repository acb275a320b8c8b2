// printf: the kernel's vprintfmt into a buffer, written with one write()
// per full buffer or line.

#include "lib/printfmt.h"
#include "ulib.h"

struct out {
	char buf[128];
	size_t n;
};

static void flush(struct out *o)
{
	if (o->n > 0)
		write(1, o->buf, o->n);
	o->n = 0;
}

static void putch(int c, void *arg)
{
	struct out *o = arg;

	o->buf[o->n++] = (char)c;
	if (o->n == sizeof(o->buf) || c == '\n')
		flush(o);
}

int printf(const char *fmt, ...)
{
	struct out o = { .n = 0 };
	va_list ap;

	va_start(ap, fmt);
	int n = vprintfmt(putch, &o, fmt, ap);
	va_end(ap);
	flush(&o);
	return n;
}
