// Fixed I/O ports and interrupt lines of the PC and of the emulators, for
// C and assembly alike: the kernel's console, the 32-bit entry's last
// words, the hypervisor's virtual COM1 and the guests that write to it.

#ifndef KERNEL_ARCH_PORTS_H
#define KERNEL_ARCH_PORTS_H

// COM1, a 16550 UART (16550D datasheet, Table II, for the registers).
#define COM1_PORT       0x3F8   // its registers are COM1_PORT + 0..7
#define COM1_LSR        (COM1_PORT + 5)         // line status
#define COM1_LSR_THR_EMPTY 0x20                 // it may take a character
#define COM1_IRQ        4       // its ISA interrupt line

// Bochs's port_e9_hack: a write prints the byte on Bochs's stdout, a read
// returns 0xE9 (an unused port reads 0xFF).
#define BOCHS_E9_PORT   0xE9

#endif
