// Lab 8 self-tests: libdune, the ring-0 library of Dune processes
// (libdune/dune.h). Its test program (libdunetest), its apps (sandbox,
// sthreads, gc) run one after another; the kernel reports how each
// process ended and whether memory came back, so grader/lab8.py can
// check every line.

#include "boot/cmdline.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/printfmt.h"
#include "lib/string.h"
#include "mm/page.h"
#include "proc/exec.h"
#include "proc/proc.h"
#include "test/ktest.h"

#define MAX_ARGS 10
#define ARG_MAX 64

static size_t free_pages(void)
{
	struct page_stats s;

	page_get_stats(&s);
	return s.free;
}

// Splits "prog:a:b" (the command line has no spaces) into argv; returns argc.
static int split(const char *s, char words[][ARG_MAX], char **argv)
{
	int argc = 0;

	while (s != NULL && *s != '\0' && argc < MAX_ARGS) {
		const char *colon = strchr(s, ':');
		size_t n = colon ? (size_t)(colon - s) : strlen(s);
		strlcpy(words[argc], s, n + 1 < ARG_MAX ? n + 1 : ARG_MAX);
		argv[argc] = words[argc];
		argc++;
		s = colon ? colon + 1 : NULL;
	}
	argv[argc] = NULL;
	return argc;
}

KTEST(lab8_run, "lab8.run", STAGE_VMX,
      "run programs with args=PROG:ARG:...[,PROG:ARG...] (libdune's tests and apps), "
      "one after another");
static void lab8_run(void)
{
	char words[MAX_ARGS + 1][ARG_MAX], *argv[MAX_ARGS + 2];
	char command[MAX_ARGS * ARG_MAX];
	const char *args = cmdline_get("args");
	size_t before = free_pages();

	while (args != NULL && *args != '\0') {
		const char *comma = strchr(args, ',');
		size_t n = comma ? (size_t)(comma - args) : strlen(args);
		strlcpy(command, args, n + 1 < sizeof(command) ? n + 1 : sizeof(command));
		int argc = split(command, words, argv);
		int err;
		struct proc *p = proc_spawn(argv[0], argv, argc, &err);
		if (p == NULL)
			panic("lab8.run: cannot start %s: %d (%s)", argv[0], err, strerror(err));
		proc_start(p);
		char name[PROC_NAME_MAX];
		int pid = p->pid;
		strlcpy(name, p->name, sizeof(name));
		int status = proc_wait_kernel(p);
		printk("process %s[%d] ended with status %d\n", name, pid, status);
		args = comma ? comma + 1 : NULL;
	}
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, free_pages());
}
