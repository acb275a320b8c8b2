// Prints what CPUID tells it: the vendor, the hypervisor leaf (with the
// value the host chose), whether it sees VMX and a hypervisor, and
// whether two subleaves of leaf 4 (the caches) differ, as they do on the
// host.
#include "guest.h"

void main(void)
{
	uint32_t a, b, c, d;
	char name[13];

	cpuid(0, 0, &a, &b, &c, &d);
	*(uint32_t *)name = b, *(uint32_t *)(name + 4) = d, *(uint32_t *)(name + 8) = c;
	name[12] = 0;
	printf("cpuid 0: vendor %s\n", name);
	cpuid(CPUID_HYPERVISOR_LEAF, 0, &a, &b, &c, &d);
	*(uint32_t *)name = b, *(uint32_t *)(name + 4) = c, *(uint32_t *)(name + 8) = d;
	printf("cpuid 0x40000000: %s value %x\n", name, a);
	cpuid(1, 0, &a, &b, &c, &d);
	printf("cpuid 1: vmx %u hypervisor %u\n", (c >> 5) & 1, c >> 31);
	uint32_t cache0, cache1;
	cpuid(4, 0, &cache0, &b, &c, &d);
	cpuid(4, 1, &cache1, &b, &c, &d);
	printf("cpuid 4: subleaves 0 and 1 differ: %u\n", cache0 != cache1);
}
