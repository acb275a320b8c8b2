#include <stdint.h>

#include "arch/mmu.h"
#include "arch/x86.h"
#include "mm/bootmap.h"

extern uint64_t boot_pml4[PT_ENTRIES];

void bootmap_drop_identity(void)
{
	boot_pml4[0] = 0;
	write_cr3(read_cr3());          // flush the TLB
}
