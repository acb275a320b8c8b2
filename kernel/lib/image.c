#include <stddef.h>

#include "lib/image.h"
#include "lib/string.h"

const struct image *image_find(const struct image *table, uint64_t count, const char *name)
{
	for (uint64_t i = 0; i < count; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}
