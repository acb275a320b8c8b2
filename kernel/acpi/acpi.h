// What the firmware's ACPI tables say about the machine's processors and
// interrupt controllers (ACPI 6.4, 5.2.5 RSDP, 5.2.7 RSDT, 5.2.8 XSDT,
// 5.2.12 MADT, 5.2.12.5 Interrupt Source Override), and where other
// tables are (the MCFG of PCI Express: pci/pci.c).

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
	// ISA IRQ n arrives at GSI isa_gsi[n]; isa_flags[n] holds the MPS
	// INTI flags of its override (0: the bus's defaults).
	uint32_t isa_gsi[16];
	uint16_t isa_flags[16];
};

// MPS INTI flags of an Interrupt Source Override (ACPI 6.4 Table 5.26).
#define ACPI_INTI_POLARITY_MASK 0x3
#define ACPI_INTI_ACTIVE_HIGH   0x1
#define ACPI_INTI_ACTIVE_LOW    0x3
#define ACPI_INTI_TRIGGER_MASK  0xC
#define ACPI_INTI_EDGE          0x4
#define ACPI_INTI_LEVEL         0xC

extern struct acpi_info acpi;

// Finds the RSDP, checks the tables' checksums, and reads the MADT.
// Returns 0, or -ENOENT if the machine has no usable ACPI tables (then
// acpi describes one CPU at the default local APIC address).
int acpi_init(void);

// The table with this 4-character signature (its header, checksum
// checked), or NULL if the machine has none. Needs acpi_init.
const void *acpi_find_table(const char *signature);

#endif
