// A .bss that starts inside the page where .data ends and crosses three
// more pages: the loader must map all of it and zero it, including the
// tail of the page that holds the end of the file's data. Leaves it
// dirty, so that a second run gets pages someone else wrote.
#include "arch/memlayout.h"
#include "ulib.h"

#define BSS_SIZE (3 * PAGE_SIZE + 1000)

static char data[3000] = { [0] = 'd', [2999] = 'D' };
static char bss[BSS_SIZE];

int main(void)
{
	int nonzero = 0;

	for (int i = 0; i < BSS_SIZE; i++)
		nonzero += bss[i] != 0;
	printf("bss: %d bytes, %d nonzero; data %s\n", BSS_SIZE, nonzero,
	       data[0] == 'd' && data[2999] == 'D' ? "intact" : "damaged");
	memset(bss, 0xAA, BSS_SIZE);
	return 0;
}
