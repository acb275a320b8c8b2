// VGA text mode, output only: a screen of cols x rows cells at physical
// address phys (80x25 at 0xB8000 on a PC booted by its BIOS).

#ifndef KERNEL_CONSOLE_VGA_H
#define KERNEL_CONSOLE_VGA_H

#include <stdint.h>

void vga_init(uint64_t phys, int cols, int rows);
void vga_putc(int c);

#endif
