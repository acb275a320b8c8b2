// peek ADDR...: reads the 8 bytes at each ADDR (hexadecimal) and prints
// them; a fault ends it. (libdune's sandbox runs it to show what a
// sandboxed program cannot reach.)
#include "ulib.h"

static uint64_t hex(const char *s)
{
	uint64_t n = 0;

	if (s[0] == '0' && s[1] == 'x')
		s += 2;
	for (; *s; s++)
		n = n * 16 + (uint64_t)(*s >= 'a' ? *s - 'a' + 10 : *s - '0');
	return n;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		uint64_t addr = hex(argv[i]);
		printf("peek: reading 0x%lx\n", addr);
		printf("peek: 0x%lx holds 0x%lx\n", addr, *(volatile uint64_t *)addr);
	}
	return 0;
}
