// panic() stops the kernel for a bug: it prints where and why, the CPU
// state and a backtrace, then ends the run (platform/platform.h) with the
// panic status. assert() panics with the failed expression.

#ifndef KERNEL_DEBUG_PANIC_H
#define KERNEL_DEBUG_PANIC_H

#include <stdbool.h>

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

#define assert(expr)							\
	do {								\
		if (!(expr))						\
			panic("assertion failed: %s", #expr);		\
	} while (0)

__attribute__((noreturn, format(printf, 3, 4)))
void panic_at(const char *file, int line, const char *fmt, ...);

// For the trap handler: starts a panic report (the "kernel panic" line),
// or, if a panic is already under way, reports the nested failure and
// ends the run at once. The caller prints the rest, then calls panic_end.
void panic_begin(const char *file, int line);
__attribute__((noreturn)) void panic_end(void);

#endif
