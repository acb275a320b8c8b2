// cowtest V: after fork, parent and child each write their own value to
// the same variable and a heap block, and each sees only its own.
#include "ulib.h"

static volatile uint64_t value = 1;

int main(int argc, char **argv)
{
	uint64_t v = argc > 1 ? strtoul(argv[1], NULL, 0) : 7;
	volatile uint64_t *heap = malloc(64);
	int status;

	*heap = v;
	int pid = fork();
	if (pid == 0) {
		value = v + 1;
		*heap = v + 2;
		printf("cowtest child: value %lu heap %lu\n", value, *heap);
		exit(0);
	}
	wait(&status);
	printf("cowtest parent: value %lu heap %lu\n", value, *heap);
	value = v + 3;
	printf("cowtest parent after its write: value %lu\n", value);
	return 0;
}
