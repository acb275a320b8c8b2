#include <stdint.h>

#include "cpu/gdt.h"

static uint64_t gdt[] = {
	0,
	GDT_DESC_KERNEL_CODE64,
	GDT_DESC_KERNEL_DATA,
	GDT_DESC_USER_DATA,
	GDT_DESC_USER_CODE64,
};

struct __attribute__((packed)) gdt_pointer {
	uint16_t limit;
	uint64_t base;
};

void gdt_init(void)
{
	struct gdt_pointer ptr = { sizeof(gdt) - 1, (uint64_t)gdt };

	asm volatile("lgdt %0" : : "m"(ptr));
	// Reload CS with a far return, then the data segments.
	asm volatile("pushq %0\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "movw %w1, %%ds\n\t"
		     "movw %w1, %%es\n\t"
		     "movw %w1, %%ss"
		     : : "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA) : "rax", "memory");
}
