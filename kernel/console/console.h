// The kernel console: every character printed goes to COM1, the VGA text
// screen, and Bochs's port 0xE9 when the kernel runs under Bochs. Input
// comes from COM1 (the monitor reads it).

#ifndef KERNEL_CONSOLE_CONSOLE_H
#define KERNEL_CONSOLE_CONSOLE_H

#include <stdarg.h>

void console_init(void);
// From now on printk holds a lock, so that lines of different CPUs do not
// mix (smp_start calls it once the other CPUs run).
void console_enable_locking(void);
void console_putc(int c);
// Returns the next input character, or -1 if none is waiting.
int console_getc(void);

// From Lab 4 on, input arrives by interrupt: console_interrupt (at IRQ 4)
// moves what the UART received into a buffer, and console_read_char
// sleeps until a character is there.
void console_input_by_interrupts(void);
void console_interrupt(void);
// The next input character; -1 if the process was killed while it waited.
int console_read_char(void);

// printk: vprintfmt (lib/printfmt.h) onto the console.
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintk(const char *fmt, va_list ap);

#endif
