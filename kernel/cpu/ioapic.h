// The I/O APIC: routes a device's interrupt line (a global system
// interrupt, GSI) to a vector on a CPU (82093AA I/O APIC datasheet; ACPI
// MADT for its address).

#ifndef KERNEL_CPU_IOAPIC_H
#define KERNEL_CPU_IOAPIC_H

#include <stdint.h>

// The I/O APIC's registers are at physical address phys (0: the machine
// has none) and its first line is interrupt gsi_base (from the MADT).
void ioapic_init(uint64_t phys, uint32_t gsi_base);

// Sends interrupt line gsi (edge triggered, active high: an ISA IRQ) as
// vector to the CPU with apic_id. Returns 0, or -ENOENT if the machine
// has no I/O APIC for that line.
int ioapic_route(uint32_t gsi, uint8_t vector, uint32_t apic_id);

#endif
