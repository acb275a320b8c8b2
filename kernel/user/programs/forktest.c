// forktest N: forks N children; child i exits with status i % 100; the
// parent waits for all and prints the sum of their statuses.
#include "ulib.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? (int)strtoul(argv[1], NULL, 0) : 10;
	long sum = 0;
	int status;

	for (int i = 0; i < n; i++) {
		int pid = fork();
		if (pid < 0) {
			printf("forktest: fork %d failed: %d\n", i, pid);
			return 1;
		}
		if (pid == 0)
			exit(i % 100);
	}
	for (int i = 0; i < n; i++) {
		if (wait(&status) < 0) {
			printf("forktest: wait %d failed\n", i);
			return 1;
		}
		sum += status;
	}
	printf("forktest: %d children, status sum %ld, wait then %d\n", n, sum, wait(&status));
	return 0;
}
