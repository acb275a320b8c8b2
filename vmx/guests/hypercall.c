// Hypercalls: an addition done by the host, prints of guest memory (one
// line crossing the page boundary at SPLIT, where the host may have
// mapped the page after it apart from the rest, and one at an address
// the guest has no memory at), an unknown number, and an exit with a
// status.
#include "guest.h"

#include "lib/printfmt.h"

#define SPLIT 0x81000ul
#define NOWHERE 0x40000000ul    // its page tables map it, the EPT does not

static const char message[] = "printed by the host from guest memory\n";

void main(uint64_t a, uint64_t b)
{
	printf("add %lu + %lu = %lu\n", a, b, vmcall(HC_ADD, a, b));
	vmcall(HC_PRINT, (uint64_t)message, sizeof(message) - 1);
	// Its first 16 bytes before SPLIT, the rest after.
	char *line = (char *)SPLIT - 16;
	int n = snprintf(line, 64, "across 0x%lx: %lx, %lx\n", SPLIT, a, b);
	vmcall(HC_PRINT, (uint64_t)line, (uint64_t)n);
	printf("print(unmapped) = %ld\n", (int64_t)vmcall(HC_PRINT, NOWHERE, 8));
	printf("unknown hypercall: %ld\n", (int64_t)vmcall(99, 0, 0));
	vmcall(HC_EXIT, a ^ b, 0);
	printf("still running after HC_EXIT\n");
}
