#include <stddef.h>

#include "console/console.h"
#include "lib/string.h"
#include "proc/programs.h"

extern const struct user_program user_programs[];
extern const uint64_t user_program_count;

const struct user_program *user_program_find(const char *name)
{
	for (uint64_t i = 0; i < user_program_count; i++)
		if (strcmp(user_programs[i].name, name) == 0)
			return &user_programs[i];
	return NULL;
}

void user_program_list(void)
{
	for (uint64_t i = 0; i < user_program_count; i++)
		printk("%s%s", i ? " " : "", user_programs[i].name);
	printk("\n");
}
