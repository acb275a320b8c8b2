#include <stddef.h>

#include "boot/cmdline.h"
#include "console/console.h"
#include "lib/string.h"
#include "platform/platform.h"
#include "test/ktest.h"

extern const struct ktest __ktest_start[], __ktest_end[];

const struct ktest *ktest_find(const char *name)
{
	for (const struct ktest *t = __ktest_start; t < __ktest_end; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

void ktest_list(void)
{
	for (const struct ktest *t = __ktest_start; t < __ktest_end; t++)
		printk("  %-20s %s\n", t->name, t->help);
}

void ktest_run(const struct ktest *t)
{
	const char *token = cmdline_get("token");

	printk("== run: %s (token %s)\n", t->name, token ? token : "none");
	bring_up(t->stage);
	t->run();
	power_off(POWER_OK);
}

static void add_word(struct ktest_command *c, const char *s, size_t n)
{
	if (c->argc >= KTEST_MAX_ARGS)
		return;
	strlcpy(c->words[c->argc], s, n + 1 < KTEST_ARG_MAX ? n + 1 : KTEST_ARG_MAX);
	c->argv[c->argc] = c->words[c->argc];
	c->argc++;
}

bool ktest_next_command(const char **list, const char *first, struct ktest_command *c)
{
	const char *s = *list;

	if (s == NULL || *s == '\0')
		return false;
	const char *comma = strchr(s, ',');
	const char *end = comma ? comma : s + strlen(s);
	c->argc = 0;
	if (first != NULL)
		add_word(c, first, strlen(first));
	while (s < end) {
		const char *word_end = s;
		while (word_end < end && *word_end != ':')
			word_end++;
		add_word(c, s, (size_t)(word_end - s));
		s = word_end < end ? word_end + 1 : end;
	}
	c->argv[c->argc] = NULL;
	*list = comma ? comma + 1 : end;
	return true;
}
