// Host-side test of kernel/lib/printfmt.c: formats many random values
// with random flags and widths, and compares with the C library's
// snprintf. Built with the host compiler (make host-tests); the kernel's
// snprintf and vsnprintf are renamed k_snprintf and k_vsnprintf there.

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int k_snprintf(char *buf, size_t size, const char *fmt, ...);

#define CASES 20000

static uint64_t state = 0x2545F4914F6CDD1D;

static uint64_t next_random(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545F4914F6CDD1D;
}

static const char *const conversions[] = { "d", "i", "u", "x", "o", "ld", "lu", "lx", "llx", "zu", "s", "c" };
static const char *const words[] = { "", "a", "kernel", "hypervisor dataplane" };

// Builds a random conversion "%[-|0][width][.prec]conv" into fmt and
// formats one value with both printers. Returns 1 if they agree.
static int check_one(int n)
{
	char fmt[32], want[128], got[128];
	const char *conv = conversions[next_random() % (sizeof(conversions) / sizeof(conversions[0]))];
	int width = next_random() % 4 == 0 ? 0 : (int)(next_random() % 24);
	const char *flag = (const char *[]){ "", "-", "0" }[next_random() % 3];
	uint64_t v = next_random() >> (next_random() % 64);
	int is_string = conv[0] == 's', is_char = conv[0] == 'c';

	if ((is_string || is_char) && flag[0] == '0')
		flag = "";
	if (is_string && next_random() % 3 == 0)
		snprintf(fmt, sizeof(fmt), "[%%%s%d.%d%s]", flag, width, (int)(next_random() % 8), conv);
	else
		snprintf(fmt, sizeof(fmt), "[%%%s%d%s]", flag, width, conv);

#define BOTH(...) (snprintf(want, sizeof(want), fmt, __VA_ARGS__), \
		   k_snprintf(got, sizeof(got), fmt, __VA_ARGS__))
	if (is_string)
		BOTH(words[v % 4]);
	else if (is_char)
		BOTH((int)('!' + v % 94));
	else if (conv[0] == 'l' || conv[0] == 'z')
		BOTH((unsigned long)v);
	else
		BOTH((unsigned)v);
#undef BOTH
	if (strcmp(want, got) != 0) {
		printf("case %d: format \"%s\": C library \"%s\", kernel \"%s\"\n", n, fmt, want, got);
		return 0;
	}
	return 1;
}

// Truncation: the kernel's snprintf returns the full length and always
// terminates.
static int check_truncation(void)
{
	char buf[8];
	int n = k_snprintf(buf, sizeof(buf), "%s-%d", "dataplane", -12345);

	if (n != 16 || strcmp(buf, "datapla") != 0) {
		printf("truncation: returned %d and \"%s\", want 16 and \"datapla\"\n", n, buf);
		return 0;
	}
	return 1;
}

int main(void)
{
	int passed = 0, failed = 0;

	for (int i = 0; i < CASES; i++)
		check_one(i) ? passed++ : failed++;
	check_truncation() ? passed++ : failed++;
	printf("printfmt: %d of %d cases agree with the C library\n", passed, passed + failed);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
