// exectest: exec refuses too many arguments, one too long, and argv or
// an argument out of reach, and the process goes on as it was. Then it
// runs args with EXEC_MAX_ARGS arguments (an empty one and a longest
// one among them), printing them first for the grader to compare.
#include "lib/printfmt.h"
#include "ulib.h"

#define KERNEL_ADDRESS ((char *)0xFFFFFFFF80100000ul)

static char words[EXEC_MAX_ARGS][EXEC_MAX_ARG_LEN + 1];
static char *argv[EXEC_MAX_ARGS + 2];
static uint64_t data;

static void report(const char *what, char *const av[])
{
	printf("exec(%s) = %d\n", what, exec("args", av));
}

// argv: args, an empty word, a longest one, words made of arg, and a
// last word whose length brings the strings to a multiple of 16 bytes.
static void make_arguments(uint64_t arg)
{
	size_t total = 0;

	strlcpy(words[0], "args", sizeof(words[0]));
	memset(words[2], 'a' + arg % 26, EXEC_MAX_ARG_LEN - 1);
	for (int i = 3; i < EXEC_MAX_ARGS - 1; i++)
		snprintf(words[i], sizeof(words[i]), "%d:%lx", i, arg >> i);
	for (int i = 0; i < EXEC_MAX_ARGS - 1; i++)
		total += strlen(words[i]) + 1;
	memset(words[EXEC_MAX_ARGS - 1], 'z', 16 - (total + 1) % 16);
	for (int i = 0; i < EXEC_MAX_ARGS; i++)
		argv[i] = words[i];
}

int main(uint64_t arg)
{
	uint64_t local = arg ^ 0x5555;

	data = arg;
	make_arguments(arg);
	argv[EXEC_MAX_ARGS] = words[0];
	report("17 arguments", argv);
	argv[EXEC_MAX_ARGS] = NULL;
	memset(words[1], 'x', EXEC_MAX_ARG_LEN);        // no NUL within the limit
	report("an argument of 128 bytes", argv);
	words[1][0] = '\0';
	report("argv in the kernel", (char *const *)KERNEL_ADDRESS);
	argv[5] = KERNEL_ADDRESS;
	report("an argument in the kernel", argv);
	argv[5] = words[5];
	printf("exectest: after the refused execs: data %s, stack %s\n",
	       data == arg ? "intact" : "changed", local == (arg ^ 0x5555) ? "intact" : "changed");

	for (int i = 0; i < EXEC_MAX_ARGS; i++)
		printf("exectest: argv[%d] = '%s'\n", i, argv[i]);
	report("args", argv);
	return 1;
}
