// What the firmware's ACPI tables say about the machine's processors and
// interrupt controllers (ACPI 6.4, 5.2.5 RSDP, 5.2.7 RSDT, 5.2.8 XSDT,
// 5.2.12 MADT).

#ifndef KERNEL_ACPI_ACPI_H
#define KERNEL_ACPI_ACPI_H

#include <stdint.h>

#include "cpu/cpu.h"

struct acpi_info {
	int ncpus;                      // enabled processors
	uint32_t apic_ids[MAX_CPUS];    // their local APIC ids
	uint64_t lapic_base;            // physical address of the local APICs
	uint64_t ioapic_base;           // physical address of the first I/O APIC (0: none)
	uint32_t ioapic_gsi_base;
	int cpus_ignored;               // enabled processors beyond MAX_CPUS
};

extern struct acpi_info acpi;

// Finds the RSDP, checks the tables' checksums, and reads the MADT.
// Returns 0, or -ENOENT if the machine has no usable ACPI tables (then
// acpi describes one CPU at the default local APIC address).
int acpi_init(void);

#endif
