// wc: counts the lines, words and bytes of its input.
#include "ulib.h"

int main(void)
{
	char buf[256];
	int64_t n;
	long lines = 0, words = 0, bytes = 0;
	int in_word = 0;

	while ((n = read(0, buf, sizeof(buf))) > 0) {
		for (int64_t i = 0; i < n; i++) {
			bytes++;
			if (buf[i] == '\n')
				lines++;
			int space = buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t';
			if (!space && !in_word)
				words++;
			in_word = !space;
		}
	}
	printf("%ld %ld %ld\n", lines, words, bytes);
	return 0;
}
