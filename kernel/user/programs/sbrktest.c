// sbrk: the heap grows by zeroed, writable pages and shrinks page by
// page; what sbrk refuses leaves the heap as it was. Results are printed
// relative to the first break, B. Whether a page is mapped is asked of
// mprotect, which answers -ENOMEM for a page that is not.
#include "arch/memlayout.h"
#include "ulib.h"

static char *base;

// The pages of [B, B + npages * PAGE_SIZE) that are mapped.
static int mapped(int npages)
{
	int n = 0;

	for (int i = 0; i < npages; i++)
		n += mprotect(base + i * PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE) == 0;
	return n;
}

// Calls sbrk(increment) and prints its result, as B + offset if it is
// not an error.
static int grow(const char *what, int64_t increment)
{
	int64_t r = (int64_t)sbrk(increment);

	if (r < 0 && r > -4096)
		printf("sbrk(%s) = %ld\n", what, r);
	else
		printf("sbrk(%s) = B + %ld\n", what, (int64_t)(r - (int64_t)base));
	return r >= 0;
}

// Counts the nonzero bytes of [from, to), then fills it with fill.
static long nonzero_then_fill(char *from, char *to, char fill)
{
	long n = 0;

	for (char *c = from; c < to; c++) {
		n += *c != 0;
		*c = fill;
	}
	return n;
}

int main(uint64_t arg)
{
	int64_t odd = 1 + (int64_t)(arg % (PAGE_SIZE - 1)), n = 1 + (int64_t)(arg >> 12) % 4;

	base = sbrk(0);
	printf("sbrk: B on a page boundary: %s\n", (uint64_t)base % PAGE_SIZE == 0 ? "yes" : "no");
	if (!grow("odd", odd) || !grow("n pages", n * (int64_t)PAGE_SIZE))
		return 1;
	grow("0", 0);
	printf("sbrk: grown: %ld nonzero bytes, pages mapped: %d\n",
	       nonzero_then_fill(base, base + (n + 1) * PAGE_SIZE, (char)0xAA), mapped(n + 3));
	if (!grow("-n pages", -n * (int64_t)PAGE_SIZE))
		return 1;
	printf("sbrk: shrunk: pages mapped: %d, the first page %s\n", mapped(n + 3),
	       base[odd - 1] == (char)0xAA ? "intact" : "changed");
	if (!grow("n pages again", n * (int64_t)PAGE_SIZE))
		return 1;
	printf("sbrk: grown again: %ld nonzero bytes in the new pages\n",
	       nonzero_then_fill(base + PAGE_SIZE, base + (n + 1) * PAGE_SIZE, 0));
	grow("-n pages again", -n * (int64_t)PAGE_SIZE);

	grow("below the heap's start", -odd - 1);
	grow("wraps below 0", INT64_MIN);
	grow("back to the heap's start", -odd);
	printf("sbrk: at the start: pages mapped: %d\n", mapped(n + 3));
	grow("past USER_HEAP_MAX", (int64_t)(USER_HEAP_MAX - (uint64_t)base) + 1);
	grow("INT64_MAX", INT64_MAX);
	grow("1 TiB", 1l << 40);

	// A page mapped in the heap's way: the growth is refused, and the
	// pages it mapped before it are unmapped again.
	if (map(base + 2 * PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE) < 0)
		return 1;
	base[2 * PAGE_SIZE] = 0x5A;
	grow("over a mapped page", 4 * PAGE_SIZE);
	grow("0", 0);
	printf("sbrk: refused: pages mapped: %d, the mapped page %s\n", mapped(n + 3),
	       base[2 * PAGE_SIZE] == 0x5A ? "intact" : "changed");
	munmap(base + 2 * PAGE_SIZE, PAGE_SIZE);
	return 0;
}
