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

#define GUEST_MAX_DEMAND_PAGES 256

// Set limit and small_pages before guest_create (0 and false: defaults).
struct guest {
	uint64_t limit;         // guest-physical memory it may use (default 2 MiB)
	bool small_pages;       // map its first 2 MiB with 4 KiB pages
	struct ept ept;
	struct page *memory;
	struct page *demand[GUEST_MAX_DEMAND_PAGES];    // pages mapped on demand
	uint64_t ndemand;
	uint64_t write_faults;  // writes to write-protected pages let through
};

// Makes the guest's memory and page tables and loads the program called
// name; fills config (ept, rip, rsp, cr3, and the EPT fault policy:
// guest_ept_fault). Returns 0, -ENOENT (no such program) or -ENOMEM.
int guest_create(struct guest *g, const char *name, struct vcpu_config *config);
void guest_destroy(struct guest *g);

// The EPT fault policy of a test guest (Lab 6): inside its limit, a
// missing page is mapped on demand (zeroed) and a write to a
// write-protected page is let through (and counted); outside, the guest
// is stopped with a message naming the address and the access.
bool guest_ept_fault(void *guest, uint64_t gpa, uint64_t qualification);

#endif
