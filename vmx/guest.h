// Test guests: a guest's memory (2 MiB at guest-physical 0, in one
// EPT), its page tables, and its program, loaded from the table that
// vmx/Makefrag links into the kernel.

#ifndef VMX_GUEST_H
#define VMX_GUEST_H

#include <stdint.h>

#include "mm/page.h"
#include "vmx/ept.h"
#include "vmx/vcpu.h"

#define GUEST_MEMORY_SIZE (2ul << 20)
#define GUEST_PAGE_TABLES 0x1000        // PML4, PDPT, PD at 0x1000-0x3FFF
#define GUEST_LOAD_ADDRESS 0x10000

struct guest {
	struct ept ept;
	struct page *memory;
};

// Makes the guest's memory and page tables and loads the program called
// name; fills config (ept, rip, rsp, cr3). Returns 0, -ENOENT (no such
// program) or -ENOMEM.
int guest_create(struct guest *g, const char *name, struct vcpu_config *config);
void guest_destroy(struct guest *g);

#endif
