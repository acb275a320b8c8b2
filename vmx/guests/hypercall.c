// Hypercalls: an addition done by the host, a print of guest memory, an
// unknown number, and an exit with a status.
#include "guest.h"

static const char message[] = "printed by the host from guest memory\n";

void main(uint64_t a, uint64_t b)
{
	printf("add %lu + %lu = %lu\n", a, b, vmcall(HC_ADD, a, b));
	vmcall(HC_PRINT, (uint64_t)message, sizeof(message) - 1);
	printf("unknown hypercall: %ld\n", (int64_t)vmcall(99, 0, 0));
	vmcall(HC_EXIT, a ^ b, 0);
	printf("still running after HC_EXIT\n");
}
