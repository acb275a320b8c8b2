// The kernel console: every character printed goes to COM1, the VGA text
// screen, and Bochs's port 0xE9 when the kernel runs under Bochs. Input
// comes from COM1: the monitor polls it, processes read it through the
// tty (fs/tty.h).

#ifndef KERNEL_CONSOLE_CONSOLE_H
#define KERNEL_CONSOLE_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

// COM1 (and port 0xE9 when bochs_e9: Bochs's port_e9_hack, found by
// platform/platform.h) from the start; the text screen once the boot
// information says where it is.
void console_init(bool bochs_e9);
void console_attach_screen(uint64_t phys, int cols, int rows);
// From now on printk holds a lock, so that lines of different CPUs do not
// mix (smp_start calls it once the other CPUs run).
void console_enable_locking(void);
// From now on printk takes no lock: the CPU that calls it is panicking
// (debug/panic.c), may hold the lock itself (a fault inside printk), and
// its report matters more than tidy lines.
void console_panic(void);
void console_putc(int c);
// Writes n bytes as one piece: no other CPU's printing comes between
// them (a process's write, fs/tty.c).
void console_write(const char *buf, size_t n);
// Returns the next input character, or -1 if none is waiting.
int console_getc(void);

// From Lab 4 on, input arrives by interrupt where the machine has an I/O
// APIC: console_input_by_interrupts turns the UART's on (IRQ 4), and the
// tty (fs/tty.c) takes the characters at each. Otherwise readers poll.
void console_input_by_interrupts(void);
bool console_input_interrupts_on(void);

// printk: vprintfmt (lib/printfmt.h) onto the console.
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintk(const char *fmt, va_list ap);

#endif
