// Loading ELF64 executables into an address space (System V ABI, "ELF-64
// Object File Format" 1.5). Only statically linked x86-64 executables;
// everything in the file is checked before it is trusted.

#ifndef KERNEL_PROC_ELF_H
#define KERNEL_PROC_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "mm/vm.h"

struct elf64_header {
	uint8_t ident[16];
	uint16_t type;
	uint16_t machine;
	uint32_t version;
	uint64_t entry;
	uint64_t phoff;
	uint64_t shoff;
	uint32_t flags;
	uint16_t ehsize;
	uint16_t phentsize;
	uint16_t phnum;
	uint16_t shentsize;
	uint16_t shnum;
	uint16_t shstrndx;
};

struct elf64_phdr {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

#define ELF_MAGIC "\x7F" "ELF"
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_X86_64 62
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4

// Maps the PT_LOAD segments of the image [image, image + size) into
// pml4. Sets *entry to the entry point and *end to the end of the
// highest segment. Returns 0, -ENOEXEC (with a message saying what is
// wrong with the file) or -ENOMEM.
int elf_load(pte_t *pml4, const void *image, size_t size, uint64_t *entry, uint64_t *end);

#endif
