// Formatted output, shared by the kernel (printk) and later by user
// programs: the caller supplies the function that emits one character.
//
// Conversions: %d %i %u %x %o %p %s %c %%, with the flags '-' (left
// justify) and '0' (zero padding), a field width (digits or '*'), a
// precision for %s (".N"), and the length modifiers l, ll and z.

#ifndef KERNEL_LIB_PRINTFMT_H
#define KERNEL_LIB_PRINTFMT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*putch_fn)(int c, void *arg);

// Formats fmt with ap, emitting every character through putch(c, arg).
// Returns the number of characters emitted.
int vprintfmt(putch_fn putch, void *arg, const char *fmt, va_list ap);

// Like C's snprintf: writes at most size-1 characters and a terminator;
// returns the length the full output would have had.
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
