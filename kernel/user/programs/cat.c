// cat: copies its input to its output.
#include "ulib.h"

int main(void)
{
	char buf[256];
	int64_t n;

	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (write(1, buf, (size_t)n) != n)
			return 1;
	return n < 0;
}
