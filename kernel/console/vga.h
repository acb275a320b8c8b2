// VGA text mode (80x25 at physical 0xB8000), output only.

#ifndef KERNEL_CONSOLE_VGA_H
#define KERNEL_CONSOLE_VGA_H

void vga_init(void);
void vga_putc(int c);

#endif
