// spin: computes forever without a system call (only preemption can take
// the CPU from it).
#include "ulib.h"

int main(void)
{
	volatile uint64_t n = 0;

	printf("spin: spinning\n");
	for (;;)
		n++;
}
