// The shell: reads a line, runs its commands as processes, waits.
//
//   $ echo hello | wc          a pipeline: each command's output feeds the next
//   $ ls                        the programs there are
//   $ ps                        the processes there are
//   $ exit                      leave the shell
//   $ shutdown                  end the run (power off)
#include "ulib.h"

#define LINE_MAX 256
#define MAX_WORDS 16
#define MAX_STAGES 8

// Reads a line from fd 0 without its newline; returns its length, or -1
// at the end of input.
static int read_line(char *buf, int size)
{
	int n = 0;

	while (n < size - 1) {
		char c;
		if (read(0, &c, 1) <= 0)
			return n > 0 ? n : -1;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return n;
}

// Splits s in place at spaces; returns the number of words.
static int split(char *s, char **words, int max)
{
	int n = 0;

	while (*s) {
		while (*s == ' ')
			*s++ = '\0';
		if (*s == '\0' || n == max - 1)
			break;
		words[n++] = s;
		while (*s && *s != ' ')
			s++;
	}
	words[n] = NULL;
	return n;
}

// Makes fd `to` refer to the file of `from` (a dup2 with close and dup).
static void redirect(int from, int to)
{
	close(to);
	if (dup(from) != to)
		fprintf(2, "sh: cannot redirect fd %d\n", to);
	close(from);
}

// Runs the stages of a pipeline, each in a child; returns when all ended.
static void run_pipeline(char **stages, int nstages)
{
	int input = -1;

	for (int i = 0; i < nstages; i++) {
		char *argv[MAX_WORDS];
		int fds[2] = { -1, -1 };
		if (split(stages[i], argv, MAX_WORDS) == 0) {
			fprintf(2, "sh: empty command in a pipeline\n");
			break;
		}
		if (i + 1 < nstages && pipe(fds) < 0) {
			fprintf(2, "sh: no pipe\n");
			break;
		}
		int pid = fork();
		if (pid == 0) {
			if (input >= 0)
				redirect(input, 0);
			if (fds[1] >= 0) {
				close(fds[0]);
				redirect(fds[1], 1);
			}
			int err = exec(argv[0], argv);
			fprintf(2, "sh: %s: cannot run it (%d)\n", argv[0], err);
			exit(127);
		}
		if (pid < 0)
			fprintf(2, "sh: fork failed (%d)\n", pid);
		if (input >= 0)
			close(input);
		if (fds[1] >= 0)
			close(fds[1]);
		input = fds[0];
	}
	if (input >= 0)
		close(input);
	int status;
	while (wait(&status) > 0)
		;
}

int main(void)
{
	char line[LINE_MAX];

	for (;;) {
		printf("$ ");
		if (read_line(line, sizeof(line)) < 0)
			return 0;
		char *stages[MAX_STAGES];
		int n = 0;
		for (char *s = line, *bar; n < MAX_STAGES && s; s = bar) {
			bar = strchr(s, '|');
			if (bar)
				*bar++ = '\0';
			stages[n++] = s;
		}
		char *first[MAX_WORDS];
		char copy[LINE_MAX];
		strlcpy(copy, stages[0], sizeof(copy));
		int words = split(copy, first, MAX_WORDS);
		if (words == 0 && n == 1)
			continue;
		if (n == 1 && strcmp(first[0], "exit") == 0)
			return 0;
		if (n == 1 && strcmp(first[0], "shutdown") == 0)
			shutdown();
		run_pipeline(stages, n);
	}
}
