// packed: a program whose segments share pages and start inside them
// (kernel/user/packed.ld). The loader must give a shared page the
// permissions of both segments and put every byte at its address.
#include "ulib.h"

static const char message[] = "packed: read-only data intact";
static int counter = 41;

// Placed last in the text (packed.ld), in the page the read-only data
// starts in: that page must be executable too.
__attribute__((section("packed_last"), noinline)) static int increment(int v)
{
	return v + 1;
}

int main(void)
{
	counter = increment(counter);
	printf("%s, data %d\n", message, counter);
	return 0;
}
