// Reads the TSC through RDMSR (the host allows it), then an MSR the host
// refuses: the #GP it injects finds no IDT, so the guest triple-faults.
#include "guest.h"

void main(void)
{
	printf("tsc via rdmsr is %s\n", rdmsr(MSR_TSC) ? "nonzero" : "zero");
	rdmsr(MSR_EFER);
	printf("read EFER\n");
}
