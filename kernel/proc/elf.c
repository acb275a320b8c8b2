#include "console/console.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "proc/elf.h"
#include "proc/proc.h"

static int reject(const char *why, uint64_t value)
{
	printk("elf: not loaded: %s (0x%lx)\n", why, value);
	return -ENOEXEC;
}

// Checks the file header of an image of size bytes before anything in it
// is trusted: the ELF magic number; a 64-bit little-endian x86-64
// executable (ET_EXEC); program headers of the size this kernel knows,
// all of them inside the file (mind the overflow of phoff + phnum *
// phentsize); an entry point in user space. Returns 0, or what reject()
// returns, naming the first thing wrong.
static int check_header(const struct elf64_header *h, size_t size)
{
	// BEGIN LAB 3 SOLUTION: elf_check_header
	if (size < sizeof(*h) || memcmp(h->ident, ELF_MAGIC, 4) != 0)
		return reject("no ELF magic number", size);
	if (h->ident[4] != ELFCLASS64 || h->ident[5] != ELFDATA2LSB)
		return reject("not a little-endian 64-bit file", h->ident[4]);
	if (h->type != ET_EXEC || h->machine != EM_X86_64)
		return reject("not an x86-64 executable", h->machine);
	if (h->phentsize != sizeof(struct elf64_phdr))
		return reject("unexpected program header size", h->phentsize);
	if (h->phoff > size || h->phnum > (size - h->phoff) / sizeof(struct elf64_phdr))
		return reject("program headers beyond the end of the file", h->phoff);
	if (h->entry >= USER_TOP)
		return reject("entry point outside user space", h->entry);
	return 0;
	// STUB:
	// printk("LAB 3: elf_check_header not written: the header is not checked\n");
	// (void)h, (void)size;
	// return 0;
	// END LAB 3
}

// Checks one PT_LOAD program header: its bytes [offset, offset + filesz)
// inside the file, filesz <= memsz, and [vaddr, vaddr + memsz) inside user
// space above page 0 (so that a null pointer faults). Each sum could wrap
// around: compare by subtraction. Returns 0, or what reject() returns.
static int check_segment(const struct elf64_phdr *ph, size_t size)
{
	// BEGIN LAB 3 SOLUTION: elf_check_segment
	if (ph->offset > size || ph->filesz > size - ph->offset)
		return reject("segment beyond the end of the file", ph->offset);
	if (ph->filesz > ph->memsz)
		return reject("segment larger in the file than in memory", ph->filesz);
	if (ph->vaddr < PAGE_SIZE || ph->memsz > USER_TOP || ph->vaddr > USER_TOP - ph->memsz)
		return reject("segment outside user space", ph->vaddr);
	return 0;
	// STUB:
	// printk("LAB 3: elf_check_segment not written: the segment is not checked\n");
	// (void)ph, (void)size;
	// return 0;
	// END LAB 3
}

// The page-table permissions for a segment's flags.
static uint64_t segment_perm(const struct elf64_phdr *ph)
{
	return PTE_U | (ph->flags & PF_W ? PTE_W : 0) | (ph->flags & PF_X ? 0 : PTE_NX);
}

// Maps the pages of one checked segment into pml4 and fills them: the
// file's bytes [offset, offset + filesz) at vaddr, zeros up to memsz.
// A page the previous segment already mapped is shared (segments need not
// be page aligned). Returns 0 or -ENOMEM.
static int load_segment(pte_t *pml4, const uint8_t *file, const struct elf64_phdr *ph)
{
	// BEGIN LAB 3 SOLUTION: load_segment
	uint64_t start = ph->vaddr & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t perm = segment_perm(ph);

	for (uint64_t va = start; va < ph->vaddr + ph->memsz; va += PAGE_SIZE) {
		pte_t old;
		struct page *pg = vm_lookup(pml4, va, &old);
		if (pg != NULL) {
			// Shared with the previous segment: the union of both
			// permissions (writable if either is, executable if either is).
			uint64_t both = (PTE_FLAGS(old) | perm) & ~PTE_NX;
			if ((old & PTE_NX) && (perm & PTE_NX))
				both |= PTE_NX;
			vm_protect(pml4, va, both & ~(PTE_P | PTE_A | PTE_D));
		} else {
			if ((pg = page_alloc(0, true)) == NULL)
				return -ENOMEM;
			int err = vm_map(pml4, va, pg, perm);
			page_put(pg);
			if (err < 0)
				return err;
		}
		// The part of the file that lands in this page.
		uint64_t from = va > ph->vaddr ? va : ph->vaddr;
		uint64_t to = va + PAGE_SIZE;
		if (to > ph->vaddr + ph->filesz)
			to = ph->vaddr + ph->filesz;
		if (from < to)
			memcpy((uint8_t *)page_to_va(pg) + (from - va),
			       file + ph->offset + (from - ph->vaddr), to - from);
	}
	return 0;
	// STUB:
	// printk("LAB 3: load_segment not written\n");
	// (void)pml4, (void)file, (void)ph, (void)segment_perm;
	// return -ENOSYS;
	// END LAB 3
}

int elf_load(pte_t *pml4, const void *image, size_t size, uint64_t *entry, uint64_t *end)
{
	const struct elf64_header *h = image;
	int err = check_header(h, size);

	if (err < 0)
		return err;
	const struct elf64_phdr *phdrs = (const void *)((const uint8_t *)image + h->phoff);
	*end = 0;
	for (int i = 0; i < h->phnum; i++) {
		const struct elf64_phdr *ph = &phdrs[i];
		if (ph->type != PT_LOAD || ph->memsz == 0)
			continue;
		if ((err = check_segment(ph, size)) < 0 || (err = load_segment(pml4, image, ph)) < 0)
			return err;
		if (ph->vaddr + ph->memsz > *end)
			*end = ph->vaddr + ph->memsz;
	}
	if (*end == 0)
		return reject("no loadable segment", h->phnum);
	*entry = h->entry;
	return 0;
}
