#include <stddef.h>

#include "boot/bootinfo.h"
#include "boot/cmdline.h"
#include "lib/string.h"

#define CMDLINE_MAX_ARGS 32

static char words[BOOTINFO_CMDLINE_MAX];
static const char *keys[CMDLINE_MAX_ARGS];
static const char *values[CMDLINE_MAX_ARGS];
static int nargs;

// Splits a copy of the command line in place: each ' ' and the first '='
// of a word become terminators.
void cmdline_init(const char *cmdline)
{
	strlcpy(words, cmdline, sizeof(words));
	nargs = 0;
	for (char *w = words; *w && nargs < CMDLINE_MAX_ARGS;) {
		while (*w == ' ')
			*w++ = '\0';
		char *word = w;
		while (*w && *w != ' ')
			w++;
		char *eq = strchr(word, '=');
		if (eq != NULL && eq < w && eq > word) {
			*eq = '\0';
			keys[nargs] = word;
			values[nargs] = eq + 1;
			nargs++;
		}
	}
}

const char *cmdline_get(const char *key)
{
	for (int i = 0; i < nargs; i++)
		if (strcmp(keys[i], key) == 0)
			return values[i];
	return NULL;
}

uint64_t cmdline_get_u64(const char *key, uint64_t def)
{
	const char *v = cmdline_get(key);

	return v != NULL ? strtoul(v, NULL, 0) : def;
}
