// malloc and free: fills blocks with patterns and checks them.
#include "arch/memlayout.h"
#include "ulib.h"

#define MAX_BLOCKS 64

int main(uint64_t arg)
{
	char *blocks[MAX_BLOCKS];
	size_t sizes[MAX_BLOCKS];
	int n = 16 + (int)(arg % 48);
	char *start = sbrk(0);

	// New heap memory must come zeroed: it may have been another
	// process's.
	char *fresh = sbrk(2 * PAGE_SIZE);
	long nonzero = 0;
	for (int i = 0; i < 2 * PAGE_SIZE; i++)
		nonzero += fresh[i] != 0;
	printf("heap: fresh memory has %ld nonzero bytes\n", nonzero);

	for (int i = 0; i < n; i++) {
		sizes[i] = 1 + (arg >> (i % 32)) % 3000;
		blocks[i] = malloc(sizes[i]);
		if (blocks[i] == NULL) {
			printf("heap: malloc(%lu) failed\n", sizes[i]);
			return 1;
		}
		memset(blocks[i], i, sizes[i]);
	}
	for (int i = 0; i < n; i += 2)
		free(blocks[i]);
	for (int i = 1; i < n; i += 2)
		for (size_t j = 0; j < sizes[i]; j++)
			if (blocks[i][j] != (char)i) {
				printf("heap: block %d corrupted at byte %lu\n", i, j);
				return 1;
			}
	printf("heap: %d blocks checked, heap grew by %lu bytes\n", n,
	       (unsigned long)((char *)sbrk(0) - start));
	return 0;
}
