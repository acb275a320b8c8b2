// The shell: reads a line, runs its commands as processes, waits.
//
//   $ echo hello | wc          a pipeline: each command's output feeds the next
//   $ ls                        the programs there are
//   $ ps                        the processes there are
//   $ exit                      leave the shell (Ctrl-D at the prompt too)
//   $ shutdown                  end the run (power off)
//
// A pipeline is a job: its processes form one process group, the
// console's foreground while it runs, so that Ctrl-C kills all of them
// and not the shell. Ctrl-C at the prompt discards the line.
#include "ulib.h"

#define LINE_MAX 256
#define MAX_WORDS 16
#define MAX_STAGES 8

// Reads a line from fd 0 without its newline; returns its length, -1 at
// the end of input, or -EINTR if Ctrl-C discarded it.
static int read_line(char *buf, int size)
{
	int n = 0;

	while (n < size - 1) {
		char c;
		int64_t got = read(0, &c, 1);
		if (got == -EINTR)
			return -EINTR;
		if (got <= 0)
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
	int input = -1, job = 0;

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
			// The job's group, the first stage's pid: set here and in
			// the shell, so that it holds whichever runs first.
			setpgid(0, job);
			tcsetpgrp(job ? job : getpid());
			if (input >= 0)
				redirect(input, 0);
			if (fds[1] >= 0) {
				close(fds[0]);
				redirect(fds[1], 1);
			}
			int err = exec(argv[0], argv);
			fprintf(2, "sh: %s: %s\n", argv[0], err == -ENOENT ? "not found" : strerror(err));
			exit(127);
		}
		if (pid < 0)
			fprintf(2, "sh: fork failed: %s\n", strerror(pid));
		if (pid > 0) {
			if (job == 0)
				job = pid;
			setpgid(pid, job);
			tcsetpgrp(job);
		}
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
	tcsetpgrp(0);
}

int main(void)
{
	char line[LINE_MAX];

	for (;;) {
		printf("$ ");
		int len = read_line(line, sizeof(line));
		if (len == -EINTR)
			continue;
		if (len < 0) {
			printf("\n");          // Ctrl-D left the cursor after the prompt
			return 0;
		}
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
