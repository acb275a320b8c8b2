#include <stdbool.h>

#include "acpi/acpi.h"
#include "boot/bootinfo.h"
#include "console/console.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "arch/memlayout.h"

struct acpi_info acpi;

#define DEFAULT_LAPIC_BASE 0xFEE00000
#define BIOS_EBDA_SEGMENT_PTR 0x40E     // BIOS data area: EBDA segment
#define BIOS_ROM_START 0xE0000
#define BIOS_ROM_END 0x100000

struct __attribute__((packed)) rsdp {
	char signature[8];              // "RSD PTR "
	uint8_t checksum;               // of the first 20 bytes
	char oem_id[6];
	uint8_t revision;               // 0: ACPI 1.0 (RSDT only), 2+: XSDT
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
};

struct __attribute__((packed)) sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
};

struct __attribute__((packed)) madt {
	struct sdt_header header;
	uint32_t lapic_address;
	uint32_t flags;
	uint8_t entries[];
};

#define MADT_LOCAL_APIC 0
#define MADT_IO_APIC 1
#define MADT_SOURCE_OVERRIDE 2
#define MADT_LAPIC_ADDRESS_OVERRIDE 5
#define MADT_LOCAL_X2APIC 9
#define MADT_CPU_ENABLED 1

static bool checksum_ok(const void *p, uint32_t len)
{
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return sum == 0;
}

static const struct rsdp *scan_for_rsdp(uint64_t start, uint64_t end)
{
	for (uint64_t pa = start; pa + sizeof(struct rsdp) <= end; pa += 16) {
		const struct rsdp *r = P2V(pa);
		if (memcmp(r->signature, "RSD PTR ", 8) == 0 && checksum_ok(r, 20))
			return r;
	}
	return NULL;
}

// The loader's copy of the RSDP where it gave one (a UEFI machine keeps
// it in the EFI system table, which the loader reads); else, on a BIOS
// machine, the RSDP is in the first KiB of the EBDA or in the BIOS ROM
// area, on a 16-byte boundary (ACPI 6.4, 5.2.5.1).
static const struct rsdp *find_rsdp(void)
{
	const struct rsdp *copy = (const struct rsdp *)bootinfo.rsdp;
	if (bootinfo.rsdp_size >= 20 && memcmp(copy->signature, "RSD PTR ", 8) == 0 &&
	    checksum_ok(copy, 20))
		return copy;

	uint64_t ebda = (uint64_t)*(const uint16_t *)P2V(BIOS_EBDA_SEGMENT_PTR) << 4;
	const struct rsdp *r = ebda ? scan_for_rsdp(ebda, ebda + 1024) : NULL;

	return r ? r : scan_for_rsdp(BIOS_ROM_START, BIOS_ROM_END);
}

static void add_cpu(uint32_t apic_id, uint32_t flags)
{
	if (!(flags & MADT_CPU_ENABLED))
		return;
	if (acpi.ncpus == MAX_CPUS) {
		acpi.cpus_ignored++;
		return;
	}
	acpi.apic_ids[acpi.ncpus++] = apic_id;
}

static void parse_madt(const struct madt *m)
{
	const uint8_t *e = m->entries, *end = (const uint8_t *)m + m->header.length;

	acpi.lapic_base = m->lapic_address;
	// Each entry starts with its type and its length (ACPI 6.4, 5.2.12).
	for (; e + 2 <= end && e[1] >= 2 && e + e[1] <= end; e += e[1]) {
		// BEGIN LAB 4 SOLUTION: madt
		switch (e[0]) {
		case MADT_LOCAL_APIC:          // acpi id, apic id, flags
			add_cpu(e[3], *(const uint32_t *)(e + 4));
			break;
		case MADT_LOCAL_X2APIC:        // reserved, x2apic id, flags, acpi id
			add_cpu(*(const uint32_t *)(e + 4), *(const uint32_t *)(e + 8));
			break;
		case MADT_IO_APIC:             // id, reserved, address, gsi base
			if (acpi.ioapic_base == 0) {
				acpi.ioapic_base = *(const uint32_t *)(e + 4);
				acpi.ioapic_gsi_base = *(const uint32_t *)(e + 8);
			}
			break;
		case MADT_LAPIC_ADDRESS_OVERRIDE:
			acpi.lapic_base = *(const uint64_t *)(e + 4);
			break;
		}
		// STUB:
		// (void)add_cpu;
		// END LAB 4
	}
}

// Interrupt Source Overrides (ACPI 6.4 5.2.12.5): bus 0 (ISA), the IRQ,
// the GSI it arrives at, and its MPS INTI flags.
static void parse_overrides(const struct madt *m)
{
	const uint8_t *e = m->entries, *end = (const uint8_t *)m + m->header.length;

	for (int irq = 0; irq < 16; irq++)
		acpi.isa_gsi[irq] = irq;
	for (; e + 2 <= end && e[1] >= 2 && e + e[1] <= end; e += e[1]) {
		if (e[0] != MADT_SOURCE_OVERRIDE || e[1] < 10 || e[2] != 0 || e[3] >= 16)
			continue;
		acpi.isa_gsi[e[3]] = *(const uint32_t *)(e + 4);
		acpi.isa_flags[e[3]] = *(const uint16_t *)(e + 8);
	}
}

static const struct rsdp *rsdp;

// Returns the table with this signature listed by the RSDT or XSDT.
static const struct sdt_header *find_table(const struct rsdp *r, const char *signature)
{
	bool xsdt = r->revision >= 2 && r->xsdt_address != 0;
	const struct sdt_header *root = P2V(xsdt ? r->xsdt_address : r->rsdt_address);
	unsigned entry_size = xsdt ? 8 : 4;

	if (!checksum_ok(root, root->length)) {
		printk("acpi: the %s checksum is wrong\n", xsdt ? "XSDT" : "RSDT");
		return NULL;
	}
	const uint8_t *entries = (const uint8_t *)(root + 1);
	unsigned n = (root->length - sizeof(*root)) / entry_size;
	for (unsigned i = 0; i < n; i++) {
		uint64_t pa = xsdt ? *(const uint64_t *)(entries + 8 * i)
				   : *(const uint32_t *)(entries + 4 * i);
		const struct sdt_header *t = P2V(pa);
		if (memcmp(t->signature, signature, 4) == 0 && checksum_ok(t, t->length))
			return t;
	}
	return NULL;
}

int acpi_init(void)
{
	acpi = (struct acpi_info){ .lapic_base = DEFAULT_LAPIC_BASE };
	for (int irq = 0; irq < 16; irq++)
		acpi.isa_gsi[irq] = irq;
	const struct rsdp *r = rsdp = find_rsdp();
	const struct sdt_header *madt = r ? find_table(r, "APIC") : NULL;

	if (madt == NULL) {
		printk("acpi: no %s; assuming one CPU\n", r ? "MADT" : "RSDP");
		acpi.ncpus = 1;
		return -ENOENT;
	}
	parse_madt((const struct madt *)madt);
	parse_overrides((const struct madt *)madt);
	if (acpi.cpus_ignored)
		printk("acpi: %d more CPUs than this kernel's %d are left off\n",
		       acpi.cpus_ignored, MAX_CPUS);
	if (acpi.ncpus == 0)
		acpi.ncpus = 1;
	return 0;
}

const void *acpi_find_table(const char *signature)
{
	return rsdp ? find_table(rsdp, signature) : NULL;
}
