#include <multiboot/multiboot.h>

#include "boot/bootinfo.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/string.h"
#include "mm/memlayout.h"

struct bootinfo bootinfo;

static void copy_loader_string(char *dst, size_t size, uint32_t pa)
{
	strlcpy(dst, pa ? (const char *)P2V(pa) : "", size);
}

// The memory map is a list of entries of varying size: each entry's size
// field does not count itself (Multiboot spec 3.3).
static void parse_memory_map(const multiboot_info_t *mbi)
{
	uint64_t pa = mbi->mmap_addr, end = pa + mbi->mmap_length;

	while (pa < end) {
		const multiboot_memory_map_t *e = P2V(pa);
		if (bootinfo.nregions == BOOTINFO_MAX_REGIONS) {
			printk("boot: memory map has more than %d regions; ignoring the rest\n",
			       BOOTINFO_MAX_REGIONS);
			break;
		}
		bootinfo.regions[bootinfo.nregions++] = (struct mem_region){
			.base = e->addr, .length = e->len, .type = e->type,
		};
		pa += e->size + sizeof(e->size);
	}
}

static void parse_modules(const multiboot_info_t *mbi)
{
	const multiboot_module_t *mods = P2V(mbi->mods_addr);

	for (uint32_t i = 0; i < mbi->mods_count; i++) {
		if (bootinfo.nmodules == BOOTINFO_MAX_MODULES) {
			printk("boot: more than %d modules; ignoring the rest\n",
			       BOOTINFO_MAX_MODULES);
			break;
		}
		struct boot_module *m = &bootinfo.modules[bootinfo.nmodules++];
		m->start = mods[i].mod_start;
		m->end = mods[i].mod_end;
		copy_loader_string(m->name, sizeof(m->name), mods[i].cmdline);
	}
}

void bootinfo_parse(uint32_t magic, uint64_t info_pa)
{
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		panic("boot: loader magic is 0x%x, not Multiboot's 0x%x: boot with "
		      "GRUB or QEMU -kernel", magic, MULTIBOOT_BOOTLOADER_MAGIC);

	const multiboot_info_t *mbi = P2V(info_pa);
	if (mbi->flags & MULTIBOOT_INFO_CMDLINE)
		copy_loader_string(bootinfo.cmdline, sizeof(bootinfo.cmdline), mbi->cmdline);
	if (mbi->flags & MULTIBOOT_INFO_BOOT_LOADER_NAME)
		copy_loader_string(bootinfo.loader, sizeof(bootinfo.loader), mbi->boot_loader_name);
	if (!(mbi->flags & MULTIBOOT_INFO_MEM_MAP))
		panic("boot: the loader gave no memory map (flags 0x%x)", mbi->flags);
	parse_memory_map(mbi);
	if (mbi->flags & MULTIBOOT_INFO_MODS)
		parse_modules(mbi);
}

uint64_t bootinfo_usable_bytes(void)
{
	uint64_t total = 0;

	for (int i = 0; i < bootinfo.nregions; i++)
		if (bootinfo.regions[i].type == MEM_USABLE)
			total += bootinfo.regions[i].length;
	return total;
}

const char *mem_region_type_name(uint32_t type)
{
	switch (type) {
	case MEM_USABLE:
		return "usable";
	case MEM_ACPI_RECLAIMABLE:
		return "ACPI reclaimable";
	case MEM_ACPI_NVS:
		return "ACPI NVS";
	case MEM_BAD:
		return "bad";
	default:
		return "reserved";
	}
}
