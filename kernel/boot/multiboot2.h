// Multiboot2 (the Multiboot2 Specification, version 2.0): the header GRUB's
// "multiboot2" command looks for, and the tags of the boot information it
// passes. The kernel carries both headers: QEMU's -kernel speaks only
// Multiboot v1 (<multiboot/multiboot.h>), while only Multiboot2 gives the
// kernel what a UEFI machine has in place of a BIOS: the ACPI RSDP.

#ifndef KERNEL_BOOT_MULTIBOOT2_H
#define KERNEL_BOOT_MULTIBOOT2_H

#define MB2_HEADER_MAGIC 0xE85250D6     // in the kernel image (spec 3.1.1)
#define MB2_BOOTLOADER_MAGIC 0x36D76289 // in %eax at the entry (spec 3.3)
#define MB2_ARCH_I386 0                 // 32-bit protected mode at the entry

// Header tags (spec 3.1.3-3.1.6), each 8-byte aligned.
#define MB2_HEADER_TAG_END 0
#define MB2_HEADER_TAG_ADDRESS 2
#define MB2_HEADER_TAG_ENTRY 3

// Boot information tags (spec 3.6).
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ACPI_OLD 14             // a copy of the ACPI 1.0 RSDP
#define MB2_TAG_ACPI_NEW 15             // a copy of the ACPI 2.0+ RSDP

#define MB2_FRAMEBUFFER_EGA_TEXT 2

#ifndef ASM_FILE
#include <stdint.h>

struct mb2_info {                       // the start of the information
	uint32_t total_size;
	uint32_t reserved;
};

struct mb2_tag {                        // the start of every tag
	uint32_t type;
	uint32_t size;                  // with this header, without padding
};

struct mb2_tag_string {                 // cmdline, loader name
	struct mb2_tag tag;
	char string[];
};

struct mb2_tag_module {
	struct mb2_tag tag;
	uint32_t mod_start, mod_end;
	char cmdline[];
};

struct mb2_tag_mmap {
	struct mb2_tag tag;
	uint32_t entry_size;
	uint32_t entry_version;
	// entries of entry_size bytes, each starting as struct mb2_mmap_entry
};

struct mb2_mmap_entry {
	uint64_t addr;
	uint64_t len;
	uint32_t type;                  // as in the E820 map (bootinfo.h's MEM_*)
	uint32_t reserved;
};

struct __attribute__((packed)) mb2_tag_framebuffer {
	struct mb2_tag tag;
	uint64_t addr;
	uint32_t pitch, width, height;
	uint8_t bpp;
	uint8_t type;
};

struct mb2_tag_acpi {
	struct mb2_tag tag;
	uint8_t rsdp[];
};
#endif

#endif
