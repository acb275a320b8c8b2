// A breakpoint: reported by the kernel, then the program goes on.
#include "ulib.h"

int main(uint64_t arg)
{
	printf("before the breakpoint\n");
	asm volatile("int3");
	printf("after the breakpoint, arg 0x%lx\n", arg);
	return 0;
}
