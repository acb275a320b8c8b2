// The I/O APIC: routes a device's interrupt line (a global system
// interrupt, GSI) to a vector on a CPU (82093AA I/O APIC datasheet; ACPI
// MADT for its address).

#ifndef KERNEL_CPU_IOAPIC_H
#define KERNEL_CPU_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

// The I/O APIC's registers are at physical address phys (0: the machine
// has none) and its first line is interrupt gsi_base (from the MADT).
void ioapic_init(uint64_t phys, uint32_t gsi_base);

// Sends interrupt line gsi (edge triggered, active high: an ISA IRQ) as
// vector to the CPU with apic_id. Returns 0, or -ENOENT if the machine
// has no I/O APIC for that line.
int ioapic_route(uint32_t gsi, uint8_t vector, uint32_t apic_id);

// The same for a line of the given trigger mode and polarity (a PCI
// device's INTx line is level triggered, 82093AA datasheet 3.2.4).
int ioapic_route_line(uint32_t gsi, uint8_t vector, uint32_t apic_id, bool level,
		      bool active_low);

#endif
