#include <stdbool.h>
#include <stddef.h>

#include "arch/x86.h"
#include "console/console.h"
#include "debug/backtrace.h"
#include "lib/string.h"
#include "monitor/monitor.h"
#include "platform/platform.h"
#include "test/ktest.h"

#define LINE_MAX 128
#define ARGS_MAX 8

struct command {
	const char *name;
	const char *help;
	void (*run)(int argc, char **argv);
};

static void cmd_help(int argc, char **argv);

static void cmd_kerninfo(int argc, char **argv)
{
	extern char _start[], _text[], _etext[], _edata[], _end[];
	(void)argc, (void)argv;

	printk("kernel image:\n");
	printk("  _start  0x%016lx (physical entry)\n", (uint64_t)_start);
	printk("  text    0x%016lx\n", (uint64_t)_text);
	printk("  etext   0x%016lx\n", (uint64_t)_etext);
	printk("  edata   0x%016lx\n", (uint64_t)_edata);
	printk("  end     0x%016lx\n", (uint64_t)_end);
	printk("  size    %lu KiB\n", ((uint64_t)_end - (uint64_t)_text + 1023) / 1024);
	printk("platform: %s\n", platform_name());
}

static void cmd_backtrace(int argc, char **argv)
{
	(void)argc, (void)argv;
	backtrace();
}

static void cmd_tests(int argc, char **argv)
{
	(void)argc, (void)argv;
	ktest_list();
}

static void cmd_run(int argc, char **argv)
{
	const struct ktest *t = argc == 2 ? ktest_find(argv[1]) : NULL;

	if (t == NULL) {
		printk("usage: run TEST (see 'tests')\n");
		return;
	}
	ktest_run(t);
}

static void cmd_exit(int argc, char **argv)
{
	(void)argc, (void)argv;
	power_off(POWER_OK);
}

static const struct command commands[] = {
	{ "help", "list the commands", cmd_help },
	{ "kerninfo", "where the kernel image lies in memory", cmd_kerninfo },
	{ "backtrace", "print the call stack of the monitor", cmd_backtrace },
	{ "tests", "list the self-tests", cmd_tests },
	{ "run", "run a self-test, which ends the run", cmd_run },
	{ "exit", "end the run (power off the emulator)", cmd_exit },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	for (size_t i = 0; i < NCOMMANDS; i++)
		printk("  %-10s %s\n", commands[i].name, commands[i].help);
}

// Reads a line with echo and backspace into buf (without the newline).
static void read_line(char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		int c = console_getc();
		if (c < 0) {
			pause();
			continue;
		}
		if (c == '\r' || c == '\n') {
			console_putc('\n');
			break;
		}
		if ((c == '\b' || c == 0x7F) && n > 0) {
			n--;
			printk("\b \b");
		} else if (c >= ' ' && c < 0x7F && n + 1 < size) {
			buf[n++] = (char)c;
			console_putc(c);
		}
	}
	buf[n] = '\0';
}

// Splits line in place into at most ARGS_MAX words.
static int split_words(char *line, char **argv)
{
	int argc = 0;

	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (argc == ARGS_MAX) {
			printk("too many words (at most %d)\n", ARGS_MAX);
			return 0;
		}
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return argc;
}

static void execute(char *line)
{
	char *argv[ARGS_MAX];
	int argc = split_words(line, argv);

	if (argc == 0)
		return;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[0], commands[i].name) == 0) {
			commands[i].run(argc, argv);
			return;
		}
	}
	printk("unknown command '%s' (try 'help')\n", argv[0]);
}

void monitor_run(void)
{
	char line[LINE_MAX];

	printk("kernel monitor: type 'help' for the commands\n");
	for (;;) {
		printk("K> ");
		read_line(line, sizeof(line));
		execute(line);
	}
}
