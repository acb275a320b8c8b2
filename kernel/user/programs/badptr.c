// Passes bad pointers and lengths to system calls: each must fail with an
// error code, and the process must go on.
#include "arch/memlayout.h"
#include "ulib.h"

static void report(const char *what, int64_t result)
{
	printf("%s = %ld\n", what, result);
}

int main(uint64_t arg)
{
	static const char msg[] = "ok\n";
	char *unmapped = (char *)(0x10000000ul + (arg & 0xFFF000));
	char *heap = sbrk(PAGE_SIZE);

	static const int read_only[2] = { -1, -1 };

	report("write(kernel)", write(1, (void *)0xFFFFFFFF80102000ul, 16));
	report("write(direct map)", write(1, (void *)0xFFFF800000100000ul, 16));
	// lab3.run maps this page for the kernel only.
	report("write(supervisor page)", write(1, (void *)0x50000000ul, 8));
	report("write(null)", write(1, NULL, 5));
	report("write(unmapped)", write(1, unmapped, 8));
	report("write(wraps)", write(1, msg, (size_t)-1));
	report("write(past heap)", write(1, heap + PAGE_SIZE - 8, 16));
	memcpy(heap + PAGE_SIZE - 4, "end\n", 4);
	report("write(heap end)", write(1, heap + PAGE_SIZE - 4, 4));
	report("write(bad fd)", write(7, msg, 3));
	report("write(ok)", write(1, msg, 3));
	report("pipe(read-only)", pipe((int *)read_only));
	report("sbrk(huge)", (int64_t)sbrk(1l << 60));
	report("map(kernel)", map((void *)0xFFFF800000000000ul, PAGE_SIZE, PROT_READ));
	report("map(unaligned)", map((void *)0x12345, PAGE_SIZE, PROT_READ));
	return 0;
}
