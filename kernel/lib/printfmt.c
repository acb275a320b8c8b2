// Formatted output (see printfmt.h). One pass over the format: plain
// characters go straight out; each '%' starts a conversion whose flags,
// width, precision and length are collected in a struct conversion, then
// the argument is fetched with the right type and printed.

#include <stdbool.h>
#include <stdint.h>

#include "lib/printfmt.h"
#include "lib/string.h"

struct printer {
	putch_fn putch;
	void *arg;
	int count;              // characters emitted so far
};

struct conversion {
	bool left;              // '-': pad on the right
	char pad;               // ' ' or '0'
	int width;              // minimum field width, 0 if none
	int precision;          // maximum characters of a %s, -1 if none
	int length;             // 0, 1 (l) or 2 (ll, z)
};

static void emit(struct printer *p, int c)
{
	p->putch(c, p->arg);
	p->count++;
}

static void emit_repeated(struct printer *p, int c, int n)
{
	for (; n > 0; n--)
		emit(p, c);
}

// Prints num in the given base (2 to 16, lowercase digits) right-aligned
// in a field of at least `width` characters filled with `pad`.
// If `negative`, a '-' goes before the digits: with '0' padding the sign
// comes first ("-0042"), with ' ' padding it sits right before the digits
// ("  -42"). Returns the number of characters printed.
static int print_number(struct printer *p, uint64_t num, unsigned base,
			int width, char pad, bool negative)
{
	// BEGIN LAB 1 SOLUTION: print_number
	char digits[64];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[num % base];
		num /= base;
	} while (num != 0);

	int len = n + (negative ? 1 : 0);
	if (negative && pad == '0')
		emit(p, '-');
	emit_repeated(p, pad, width - len);
	if (negative && pad != '0')
		emit(p, '-');
	while (n > 0)
		emit(p, digits[--n]);
	return len > width ? len : width;
	// STUB:
	// (void)p, (void)num, (void)base, (void)width, (void)pad, (void)negative;
	// return 0;
	// END LAB 1
}

// Prints a number conversion; '-' justification pads after the digits.
static void print_integer(struct printer *p, const struct conversion *conv,
			  uint64_t magnitude, unsigned base, bool negative)
{
	if (conv->left) {
		int printed = print_number(p, magnitude, base, 0, ' ', negative);
		emit_repeated(p, ' ', conv->width - printed);
	} else {
		print_number(p, magnitude, base, conv->width, conv->pad, negative);
	}
}

// Prints len characters of s in the conversion's field width.
static void print_field(struct printer *p, const struct conversion *conv,
			const char *s, int len)
{
	if (!conv->left)
		emit_repeated(p, ' ', conv->width - len);
	for (int i = 0; i < len; i++)
		emit(p, s[i]);
	if (conv->left)
		emit_repeated(p, ' ', conv->width - len);
}

static void print_string(struct printer *p, const struct conversion *conv,
			 const char *s)
{
	if (s == NULL)
		s = "(null)";
	int len = conv->precision >= 0 ? (int)strnlen(s, conv->precision)
				       : (int)strlen(s);
	print_field(p, conv, s, len);
}

static uint64_t fetch_unsigned(va_list *ap, int length)
{
	if (length >= 2)
		return va_arg(*ap, unsigned long long);
	if (length == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static int64_t fetch_signed(va_list *ap, int length)
{
	if (length >= 2)
		return va_arg(*ap, long long);
	if (length == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

// Parses flags, width, precision and length after a '%'. Returns the
// position of the conversion character.
static const char *parse_conversion(const char *fmt, struct conversion *conv,
				    va_list *ap)
{
	*conv = (struct conversion){ .pad = ' ', .precision = -1 };
	for (;; fmt++) {
		if (*fmt == '-')
			conv->left = true;
		else if (*fmt == '0')
			conv->pad = '0';
		else
			break;
	}
	if (*fmt == '*') {
		// A negative width argument means '-' with its magnitude (C11 7.21.6.1).
		conv->width = va_arg(*ap, int);
		if (conv->width < 0) {
			conv->left = true;
			conv->width = -conv->width;
		}
		fmt++;
	}
	for (; *fmt >= '0' && *fmt <= '9'; fmt++)
		conv->width = conv->width * 10 + (*fmt - '0');
	if (*fmt == '.') {
		conv->precision = 0;
		for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
			conv->precision = conv->precision * 10 + (*fmt - '0');
	}
	for (; *fmt == 'l' || *fmt == 'z'; fmt++)
		conv->length += *fmt == 'z' ? 2 : 1;
	return fmt;
}

int vprintfmt(putch_fn putch, void *arg, const char *fmt, va_list ap)
{
	struct printer p = { putch, arg, 0 };
	struct conversion conv;
	va_list args;

	va_copy(args, ap);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(&p, *fmt);
			continue;
		}
		const char *start = fmt;
		fmt = parse_conversion(fmt + 1, &conv, &args);
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = fetch_signed(&args, conv.length);
			uint64_t magnitude = v < 0 ? -(uint64_t)v : (uint64_t)v;
			print_integer(&p, &conv, magnitude, 10, v < 0);
			break;
		}
		case 'u':
			print_integer(&p, &conv, fetch_unsigned(&args, conv.length), 10, false);
			break;
		case 'x':
			print_integer(&p, &conv, fetch_unsigned(&args, conv.length), 16, false);
			break;
		case 'o':
			print_integer(&p, &conv, fetch_unsigned(&args, conv.length), 8, false);
			break;
		case 'p':
			emit(&p, '0');
			emit(&p, 'x');
			print_number(&p, (uintptr_t)va_arg(args, void *), 16, 16, '0', false);
			break;
		case 's':
			print_string(&p, &conv, va_arg(args, const char *));
			break;
		case 'c': {
			char c = (char)va_arg(args, int);
			print_field(&p, &conv, &c, 1);
			break;
		}
		case '%':
			emit(&p, '%');
			break;
		default:
			// Unknown conversion: print it as written, so the
			// mistake shows in the output.
			for (; start <= fmt && *start; start++)
				emit(&p, *start);
			if (*fmt == '\0')
				fmt--;
			break;
		}
	}
	va_end(args);
	return p.count;
}

struct buffer {
	char *buf;
	size_t size;
	size_t used;
};

static void buffer_putch(int c, void *arg)
{
	struct buffer *b = arg;

	if (b->used + 1 < b->size)
		b->buf[b->used] = (char)c;
	b->used++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buffer b = { buf, size, 0 };
	int n = vprintfmt(buffer_putch, &b, fmt, ap);

	if (size > 0)
		buf[b.used < size ? b.used : size - 1] = '\0';
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
