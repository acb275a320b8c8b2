// printf: the kernel's vprintfmt into a buffer, written with one write()
// per full buffer or line.

#include "lib/printfmt.h"
#include "ulib.h"

struct out {
	int fd;
	char buf[128];
	size_t n;
};

static void flush(struct out *o)
{
	if (o->n > 0)
		write(o->fd, o->buf, o->n);
	o->n = 0;
}

static void putch(int c, void *arg)
{
	struct out *o = arg;

	o->buf[o->n++] = (char)c;
	if (o->n == sizeof(o->buf) || c == '\n')
		flush(o);
}

static int vfprintf(int fd, const char *fmt, va_list ap)
{
	struct out o = { .fd = fd, .n = 0 };
	int n = vprintfmt(putch, &o, fmt, ap);

	flush(&o);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vfprintf(1, fmt, ap);
	va_end(ap);
	return n;
}

int fprintf(int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vfprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}
