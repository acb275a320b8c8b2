// System call numbers the kernel does not have.
#include "ulib.h"

int main(uint64_t arg)
{
	uint64_t numbers[] = { NSYSCALLS, NSYSCALLS + arg % 1000, (uint64_t)-1, 1ul << 63 };

	for (int i = 0; i < 4; i++)
		printf("syscall %lu = %ld\n", numbers[i], syscall3(numbers[i], 0, 0, 0));
	return 0;
}
