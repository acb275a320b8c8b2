// 16550 UART on COM1, polled (no interrupts): 115200 baud, 8N1.

#ifndef KERNEL_CONSOLE_SERIAL_H
#define KERNEL_CONSOLE_SERIAL_H

#include <stdbool.h>

// Returns false if no UART answers at COM1.
bool serial_init(void);
void serial_putc(int c);
int serial_getc(void);
// Makes the UART interrupt when a character arrives (IRQ 4; the I/O APIC
// must route it).
void serial_enable_interrupts(void);

#endif
