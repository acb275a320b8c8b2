// Initialization words from the 8259A datasheet (Intel, "8259A
// Programmable Interrupt Controller", ICW1-ICW4, OCW1).

#include "arch/x86.h"
#include "trap/pic.h"
#include "trap/trap.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xA0
#define PIC2_DATA 0xA1

#define ICW1_INIT_ICW4 0x11     // edge triggered, cascaded, ICW4 follows
#define ICW4_8086 0x01
#define CASCADE_IRQ 2

void pic_disable(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, T_IRQ0);                // ICW2: vector base
	outb(PIC2_DATA, T_IRQ0 + 8);
	outb(PIC1_DATA, 1 << CASCADE_IRQ);      // ICW3: where the slave is
	outb(PIC2_DATA, CASCADE_IRQ);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, 0xFF);                  // OCW1: mask everything
	outb(PIC2_DATA, 0xFF);
}
