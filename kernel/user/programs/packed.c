// packed: a program whose segments share pages and start inside them
// (kernel/user/packed.ld). The loader must give a shared page the
// permissions of both segments and put every byte at its address.
#include "ulib.h"

static const char message[] = "packed: read-only data intact";
static int counter = 41;

int main(void)
{
	counter++;
	printf("%s, data %d\n", message, counter);
	return 0;
}
