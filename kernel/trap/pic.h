// The legacy 8259A interrupt controllers. The kernel takes interrupts
// through the APICs (Lab 4); the 8259s are remapped away from the
// exception vectors and masked, so that a stray IRQ cannot look like an
// exception.

#ifndef KERNEL_TRAP_PIC_H
#define KERNEL_TRAP_PIC_H

void pic_disable(void);

#endif
