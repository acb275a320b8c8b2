// Prints the state the host's VMCS gave it at entry: its control
// registers (CR4 as the host's read shadow shows it), RFLAGS, its segment
// selectors and the page its stack is in.
#include "guest.h"

#define SELECTOR(reg) ({ uint16_t s; asm volatile("mov %%" #reg ", %0" : "=r"(s)); s; })

void main(void)
{
	uint16_t tr;

	asm volatile("str %0" : "=r"(tr));
	printf("state: cr0 0x%lx cr3 0x%lx cr4 0x%lx rflags 0x%lx\n", read_cr0(), read_cr3(),
	       read_cr4(), read_rflags());
	printf("state: cs 0x%x ss 0x%x ds 0x%x es 0x%x fs 0x%x gs 0x%x tr 0x%x\n", SELECTOR(cs),
	       SELECTOR(ss), SELECTOR(ds), SELECTOR(es), SELECTOR(fs), SELECTOR(gs), tr);
	printf("state: stack page 0x%lx\n", (uint64_t)__builtin_frame_address(0) >> 12);
}
