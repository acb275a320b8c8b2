// What the boot loader told the kernel (Multiboot v1 or Multiboot2
// information), copied into kernel memory so that nothing depends on the
// loader's structures after boot.

#ifndef KERNEL_BOOT_BOOTINFO_H
#define KERNEL_BOOT_BOOTINFO_H

#include <stdint.h>

#define BOOTINFO_MAX_REGIONS 64
#define BOOTINFO_MAX_MODULES 16
#define BOOTINFO_CMDLINE_MAX 512
#define BOOTINFO_NAME_MAX 64

// Memory region types, as in the BIOS E820 map (Multiboot spec 3.3).
#define MEM_USABLE 1
#define MEM_ACPI_RECLAIMABLE 3
#define MEM_ACPI_NVS 4
#define MEM_BAD 5

struct mem_region {
	uint64_t base;
	uint64_t length;
	uint32_t type;
};

struct boot_module {
	uint64_t start;         // physical, first byte
	uint64_t end;           // physical, one past the last byte
	char name[BOOTINFO_NAME_MAX];   // the module's command line
};

// A text screen of 16-bit cells (character, attribute) to print on, if
// the machine has one; cols == 0 if it has none (UEFI, a graphics mode).
struct text_screen {
	uint64_t phys;
	int cols, rows;
	const char *source;     // who said it is there
};

struct bootinfo {
	char cmdline[BOOTINFO_CMDLINE_MAX];
	char loader[BOOTINFO_NAME_MAX];
	int nregions;
	struct mem_region regions[BOOTINFO_MAX_REGIONS];
	int nmodules;
	struct boot_module modules[BOOTINFO_MAX_MODULES];
	struct text_screen screen;
	// A copy of the ACPI RSDP, where the loader gave one (Multiboot2; a
	// UEFI machine has no BIOS area to find it in); rsdp_size 0 if not.
	uint8_t rsdp[36];
	uint32_t rsdp_size;
};

extern struct bootinfo bootinfo;

// Copies the Multiboot or Multiboot2 information at physical address
// info_pa into bootinfo (adding to what is there). Panics if magic is
// neither loader's; says so if the loader gave no memory map.
void bootinfo_parse(uint32_t magic, uint64_t info_pa);

// Sum of the lengths of the usable regions, in bytes.
uint64_t bootinfo_usable_bytes(void);
// What a region's type means: "usable", "ACPI reclaimable" (the ACPI
// tables: usable once read), "ACPI NVS" (kept by the firmware, also
// across sleep), "bad" (defective RAM), and "reserved" for type 2 and any
// other value (Multiboot spec 3.3: "any other value indicates reserved").
const char *mem_region_type_name(uint32_t type);

#endif
