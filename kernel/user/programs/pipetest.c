// pipetest N: a child writes N bytes of a pattern into a pipe; the parent
// reads them all and prints the count and a checksum.
#include "ulib.h"

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000;
	int fds[2], status;
	char buf[100];

	if (pipe(fds) < 0) {
		printf("pipetest: no pipe\n");
		return 1;
	}
	if (fork() == 0) {
		close(fds[0]);
		for (uint64_t sent = 0; sent < n;) {
			int k = n - sent < sizeof(buf) ? (int)(n - sent) : (int)sizeof(buf);
			for (int i = 0; i < k; i++)
				buf[i] = (char)((sent + i) * 7 + 1);
			if (write(fds[1], buf, (size_t)k) != k)
				exit(1);
			sent += (uint64_t)k;
		}
		exit(0);
	}
	close(fds[1]);
	uint64_t got = 0, sum = 0;
	int64_t k;
	while ((k = read(fds[0], buf, sizeof(buf))) > 0)
		for (int64_t i = 0; i < k; i++, got++)
			sum = sum * 31 + (uint8_t)buf[i];
	wait(&status);
	printf("pipetest: read %lu bytes, checksum %lu, writer status %d\n", got, sum, status);
	return 0;
}
