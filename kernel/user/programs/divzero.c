// Divides by zero: the kernel must kill this process, and only it.
#include "ulib.h"

int main(uint64_t arg)
{
	volatile int zero = 0;

	printf("dividing %lu by zero\n", arg);
	int q = (int)arg / zero;
	printf("divzero: still running, quotient %d\n", q);
	return 0;
}
