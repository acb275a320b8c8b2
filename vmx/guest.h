// Test guests: a VM with 2 MiB of memory at guest-physical 0, its page
// tables, and its program, loaded from the table that vmx/Makefrag links
// into the kernel; and their policy (struct vcpu_ops, vmx/vm.h): a
// virtual serial port, the hypercalls of vmx/hypercall.h, EPT faults
// served on demand within a limit.

#ifndef VMX_GUEST_H
#define VMX_GUEST_H

#include <stdint.h>

#include "mm/page.h"
#include "vmx/vcpu.h"
#include "vmx/vm.h"

#define GUEST_MEMORY_SIZE (2ul << 20)
#define GUEST_PAGE_TABLES 0x1000        // PML4, PDPT, PD at 0x1000-0x3FFF
#define GUEST_LOAD_ADDRESS 0x10000

#define GUEST_MAX_DEMAND_PAGES 256
#define GUEST_OUTPUT_MAX 128

// Set limit, small_pages and cpuid_value before guest_create (0: defaults).
struct guest {
	uint64_t limit;         // guest-physical memory it may use (default 2 MiB)
	bool small_pages;       // map its first 2 MiB with 4 KiB pages
	uint32_t cpuid_value;   // what CPUID leaf 0x40000000 returns in EAX
	struct vm vm;
	struct page *memory;
	struct page *demand[GUEST_MAX_DEMAND_PAGES];    // pages mapped on demand
	uint64_t ndemand;
	uint64_t write_faults;  // writes to write-protected pages let through
	int64_t exit_status;    // given by HC_EXIT
	char output[GUEST_OUTPUT_MAX];  // the virtual serial port's line
	int output_len;
};

// Makes the guest's VM, memory and page tables and loads the program
// called name; fills config (rip, rsp, cr3). Returns 0, -ENOENT (no such
// program) or -ENOMEM.
int guest_create(struct guest *g, const char *name, struct vcpu_config *config);
void guest_destroy(struct guest *g);

// The EPT fault policy of a test guest (Lab 6): inside its limit, a
// missing page is mapped on demand (zeroed) and a write to a
// write-protected page is let through (and counted); outside, the guest
// is stopped with a message naming the address and the access.
bool guest_ept_fault(struct vcpu *v, uint64_t gpa, uint64_t qualification);

#endif
