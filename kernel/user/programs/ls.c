// ls: the programs the kernel has.
#include "ulib.h"

int main(void)
{
	programs();
	return 0;
}
