// The boot page tables (boot/entry.S) after the kernel has started.

#ifndef KERNEL_MM_BOOTMAP_H
#define KERNEL_MM_BOOTMAP_H

// Removes the identity map of low memory that the 32-bit entry code ran
// on, so that a NULL pointer dereference faults.
void bootmap_drop_identity(void);

#endif
