#include <multiboot/multiboot.h>
#include <stdbool.h>

#include "boot/bootinfo.h"
#include "boot/multiboot2.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/string.h"
#include "arch/memlayout.h"

struct bootinfo bootinfo;

static int regions_dropped, modules_dropped;   // past the tables' size

static void add_region(uint64_t base, uint64_t length, uint32_t type)
{
	if (bootinfo.nregions == BOOTINFO_MAX_REGIONS) {
		regions_dropped++;
		return;
	}
	bootinfo.regions[bootinfo.nregions++] = (struct mem_region){
		.base = base, .length = length, .type = type,
	};
}

static void add_module(uint64_t start, uint64_t end, const char *name)
{
	if (bootinfo.nmodules == BOOTINFO_MAX_MODULES) {
		modules_dropped++;
		return;
	}
	struct boot_module *m = &bootinfo.modules[bootinfo.nmodules++];
	m->start = start;
	m->end = end;
	strlcpy(m->name, name, sizeof(m->name));
}

// The loader's framebuffer: a text screen to print on, or pixels, which
// this kernel leaves alone (it prints on COM1 only then).
static void framebuffer_found(uint64_t addr, uint32_t width, uint32_t height, bool text)
{
	if (text)
		bootinfo.screen = (struct text_screen){ .phys = addr, .cols = (int)width,
							.rows = (int)height, .source = "the loader" };
	else
		bootinfo.screen.source = "the loader (a graphics framebuffer)";
}

// The BIOS's record of its video mode (BIOS Data Area, physical 0x449:
// the mode number, 0x463: the CRT controller's I/O port).
#define BDA_VIDEO_MODE 0x449
#define BDA_CRTC_PORT 0x463
#define BIOS_MODE_COLOR_TEXT 3          // 80x25, 16 colours, cells at 0xB8000
#define COLOR_CRTC_PORT 0x3D4
#define COLOR_TEXT_PHYS 0xB8000

// Where the loader told nothing of a screen (QEMU's own loader does not):
// the text screen the BIOS set up, if it did. Under UEFI there is no BIOS
// and no VGA text buffer: nothing may be written to 0xB8000 blind.
static void text_screen_from_bios(void)
{
	if (*(const uint8_t *)P2V(BDA_VIDEO_MODE) == BIOS_MODE_COLOR_TEXT &&
	    *(const uint16_t *)P2V(BDA_CRTC_PORT) == COLOR_CRTC_PORT)
		bootinfo.screen = (struct text_screen){ .phys = COLOR_TEXT_PHYS, .cols = 80,
							.rows = 25, .source = "the BIOS" };
	else
		bootinfo.screen.source = "neither the loader nor a BIOS";
}

static const char *loader_string(uint32_t pa)
{
	return pa ? (const char *)P2V(pa) : "";
}

// The Multiboot v1 memory map (Multiboot spec 3.3): entries from
// physical address pa, for length bytes. Entries vary in size: each
// starts with a size field that counts the bytes after itself (20 or
// more: base_addr, length, type, and whatever a later loader adds).
static void parse_mb1_mmap(uint64_t pa, uint64_t length)
{
	// BEGIN LAB 1 SOLUTION: memory_map
	for (uint64_t end = pa + length; pa < end;) {
		const multiboot_memory_map_t *e = P2V(pa);
		add_region(e->addr, e->len, e->type);
		pa += sizeof(e->size) + e->size;
	}
	// STUB:
	// printk("LAB 1: memory_map not written: the Multiboot memory map at 0x%lx (%lu bytes) "
	//        "is not read\n", pa, length);
	// (void)add_region;
	// END LAB 1
}

// A Multiboot2 memory-map tag (Multiboot2 spec 3.6.8): after its header,
// entries of m->entry_size bytes up to the tag's end, each starting as a
// struct mb2_mmap_entry (entry_size may be larger: later versions may add
// fields).
static void parse_mb2_mmap(const struct mb2_tag_mmap *m)
{
	// BEGIN LAB 1 SOLUTION: memory_map
	const uint8_t *end = (const uint8_t *)m + m->tag.size;

	if (m->entry_size < sizeof(struct mb2_mmap_entry)) {
		printk("boot: memory-map entries of %u bytes: too small, ignored\n", m->entry_size);
		return;
	}
	for (const uint8_t *e = (const uint8_t *)(m + 1); e + m->entry_size <= end;
	     e += m->entry_size) {
		const struct mb2_mmap_entry *r = (const void *)e;
		add_region(r->addr, r->len, r->type);
	}
	// STUB:
	// printk("LAB 1: memory_map not written: the Multiboot2 memory map of %u bytes "
	//        "is not read\n", m->tag.size);
	// END LAB 1
}

// Multiboot v1 (Multiboot spec 3.3): fields that a flag bit says are there.
static void parse_multiboot1(const multiboot_info_t *mbi)
{
	if (mbi->flags & MULTIBOOT_INFO_CMDLINE)
		strlcpy(bootinfo.cmdline, loader_string(mbi->cmdline), sizeof(bootinfo.cmdline));
	if (mbi->flags & MULTIBOOT_INFO_BOOT_LOADER_NAME)
		strlcpy(bootinfo.loader, loader_string(mbi->boot_loader_name),
			sizeof(bootinfo.loader));
	if (mbi->flags & MULTIBOOT_INFO_MEM_MAP)
		parse_mb1_mmap(mbi->mmap_addr, mbi->mmap_length);
	if (mbi->flags & MULTIBOOT_INFO_MODS) {
		const multiboot_module_t *mods = P2V(mbi->mods_addr);
		for (uint32_t i = 0; i < mbi->mods_count; i++)
			add_module(mods[i].mod_start, mods[i].mod_end, loader_string(mods[i].cmdline));
	}
	if (mbi->flags & MULTIBOOT_INFO_FRAMEBUFFER_INFO)
		framebuffer_found(mbi->framebuffer_addr, mbi->framebuffer_width,
				  mbi->framebuffer_height,
				  mbi->framebuffer_type == MULTIBOOT_FRAMEBUFFER_TYPE_EGA_TEXT);
	else
		text_screen_from_bios();
}

static void copy_rsdp(const struct mb2_tag_acpi *t)
{
	uint32_t n = t->tag.size - sizeof(t->tag);

	// A new RSDP (ACPI 2.0+, with the XSDT) wins over an old one.
	if (t->tag.type == MB2_TAG_ACPI_OLD && bootinfo.rsdp_size > 0)
		return;
	bootinfo.rsdp_size = n < sizeof(bootinfo.rsdp) ? n : sizeof(bootinfo.rsdp);
	memcpy(bootinfo.rsdp, t->rsdp, bootinfo.rsdp_size);
}

// Multiboot2 (spec 3.6): a list of tags, each 8-byte aligned, up to an
// end tag.
static void parse_multiboot2(const struct mb2_info *info)
{
	const uint8_t *p = (const uint8_t *)(info + 1), *end = (const uint8_t *)info + info->total_size;
	bool screen_told = false;

	while (p + sizeof(struct mb2_tag) <= end) {
		const struct mb2_tag *tag = (const struct mb2_tag *)p;
		if (tag->type == MB2_TAG_END || tag->size < sizeof(*tag))
			break;
		switch (tag->type) {
		case MB2_TAG_CMDLINE:
			strlcpy(bootinfo.cmdline, ((const struct mb2_tag_string *)tag)->string,
				sizeof(bootinfo.cmdline));
			break;
		case MB2_TAG_LOADER_NAME:
			strlcpy(bootinfo.loader, ((const struct mb2_tag_string *)tag)->string,
				sizeof(bootinfo.loader));
			break;
		case MB2_TAG_MODULE: {
			const struct mb2_tag_module *m = (const void *)tag;
			add_module(m->mod_start, m->mod_end, m->cmdline);
			break;
		}
		case MB2_TAG_MMAP:
			parse_mb2_mmap((const struct mb2_tag_mmap *)tag);
			break;
		case MB2_TAG_FRAMEBUFFER: {
			const struct mb2_tag_framebuffer *f = (const void *)tag;
			framebuffer_found(f->addr, f->width, f->height,
					  f->type == MB2_FRAMEBUFFER_EGA_TEXT);
			screen_told = true;
			break;
		}
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			copy_rsdp((const struct mb2_tag_acpi *)tag);
			break;
		}
		p += (tag->size + 7) & ~7u;
	}
	if (!screen_told)
		text_screen_from_bios();
}

void bootinfo_parse(uint32_t magic, uint64_t info_pa)
{
	if (magic == MULTIBOOT_BOOTLOADER_MAGIC)
		parse_multiboot1(P2V(info_pa));
	else if (magic == MB2_BOOTLOADER_MAGIC)
		parse_multiboot2(P2V(info_pa));
	else
		panic("boot: loader magic is 0x%x, neither Multiboot's 0x%x nor Multiboot2's "
		      "0x%x: boot with GRUB or QEMU -kernel", magic, MULTIBOOT_BOOTLOADER_MAGIC,
		      MB2_BOOTLOADER_MAGIC);
	if (regions_dropped > 0)
		printk("boot: memory map has more than %d regions; ignoring the last %d\n",
		       BOOTINFO_MAX_REGIONS, regions_dropped);
	if (modules_dropped > 0)
		printk("boot: more than %d modules; ignoring the last %d\n",
		       BOOTINFO_MAX_MODULES, modules_dropped);
	// Lab 1 needs no memory map; Lab 2's page allocator stops without one.
	if (bootinfo.nregions == 0)
		printk("boot: the loader gave no memory map\n");
}

uint64_t bootinfo_usable_bytes(void)
{
	// BEGIN LAB 1 SOLUTION: memory_map
	uint64_t total = 0;

	for (int i = 0; i < bootinfo.nregions; i++)
		if (bootinfo.regions[i].type == MEM_USABLE)
			total += bootinfo.regions[i].length;
	return total;
	// STUB:
	// return 0;
	// END LAB 1
}

const char *mem_region_type_name(uint32_t type)
{
	// BEGIN LAB 1 SOLUTION: memory_map
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
	// STUB:
	// (void)type;
	// return "(LAB 1: memory_map not written)";
	// END LAB 1
}
