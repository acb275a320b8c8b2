#include <stddef.h>

#include "console/console.h"
#include "lib/image.h"
#include "proc/programs.h"

extern const struct image user_programs[];
extern const uint64_t user_programs_count;

const struct image *user_program_find(const char *name)
{
	return image_find(user_programs, user_programs_count, name);
}

void user_program_list(void)
{
	for (uint64_t i = 0; i < user_programs_count; i++)
		printk("%s%s", i ? " " : "", user_programs[i].name);
	printk("\n");
}
