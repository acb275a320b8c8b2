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
