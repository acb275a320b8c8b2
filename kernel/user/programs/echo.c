// echo: prints its arguments, separated by spaces, on one line.
#include "lib/string.h"
#include "ulib.h"

int main(int argc, char **argv)
{
	char line[EXEC_MAX_ARGS * (EXEC_MAX_ARG_LEN + 1) + 1];
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		size_t len = strlen(argv[i]);
		memcpy(line + n, argv[i], len);
		n += len;
		if (i + 1 < argc)
			line[n++] = ' ';
	}
	line[n++] = '\n';
	// One write: another process's output cannot land inside the line.
	write(1, line, n);
	return 0;
}
