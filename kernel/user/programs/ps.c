// ps: the process table, as the kernel prints it.
#include "ulib.h"

int main(void)
{
	ps();
	return 0;
}
