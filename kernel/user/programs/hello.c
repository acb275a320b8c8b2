// Prints a greeting with its pid and argument; exits with arg % 100.
#include "ulib.h"

int main(uint64_t arg)
{
	printf("hello from pid %d, arg 0x%lx\n", getpid(), arg);
	return (int)(arg % 100);
}
