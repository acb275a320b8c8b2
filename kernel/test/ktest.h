// Self-tests the kernel runs when the command line says run=NAME.
//
// A test prints greppable lines that the grader (grader/) matches. The
// kernel prints "== run: NAME (token T)" before the test and "== end: ok"
// when it returns; a test that finds a failure says so and panics.
// KTEST() places an entry in the .ktest section, which kernel.ld collects
// between __ktest_start and __ktest_end, so a test file needs no table.

#ifndef KERNEL_TEST_KTEST_H
#define KERNEL_TEST_KTEST_H

#include <stdbool.h>

#include "boot/init.h"

struct ktest {
	const char *name;
	const char *help;
	void (*run)(void);
	enum stage stage;       // what the kernel must bring up first
};

#define KTEST(fn, name_, stage_, help_)					\
	static void fn(void);						\
	static const struct ktest ktest_entry_##fn			\
		__attribute__((used, section(".ktest"), aligned(8))) =	\
		{ .name = name_, .help = help_, .run = fn, .stage = stage_ }

// Returns the test called name, or NULL.
const struct ktest *ktest_find(const char *name);
// Prints every test with its help line.
void ktest_list(void);
// Prints the run header, brings the kernel up to t's stage, runs t, and
// ends the run with "== end: ok".
__attribute__((noreturn)) void ktest_run(const struct ktest *t);

// Self-tests that run programs take them from the command line, which
// cannot hold spaces: "name:arg:arg,name:arg" is a list of commands.
#define KTEST_MAX_ARGS 10
#define KTEST_ARG_MAX 64

struct ktest_command {
	char words[KTEST_MAX_ARGS][KTEST_ARG_MAX];
	char *argv[KTEST_MAX_ARGS + 1];
	int argc;
};

// Takes the first command of *list into c, its words after those of
// first (a program name, or NULL for none), and advances *list past it.
// Returns false when the list is empty.
bool ktest_next_command(const char **list, const char *first, struct ktest_command *c);

#endif
