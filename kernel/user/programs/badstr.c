// Passes bad strings to exec, the system call that copies one: each must
// be -EFAULT or -E2BIG, never a kernel fault. A string that the process
// may read to its NUL is copied, and exec answers -ENOENT (no such
// program), even when the NUL is the last byte of user space.
#include "arch/memlayout.h"
#include "ulib.h"

#define SUPERVISOR_PAGE 0x50000000ul    // lab3.run maps it for the kernel only

static void report(const char *what, const char *name)
{
	char *const no_arguments[] = { NULL };

	printf("exec(%s) = %d\n", what, exec(name, no_arguments));
}

// Maps a page at va and fills it with 'a', but for its last byte.
static char *page_of_as(uint64_t va, char last)
{
	int err = map((void *)va, PAGE_SIZE, PROT_READ | PROT_WRITE);
	if (err < 0) {
		printf("badstr: map(0x%lx) = %d\n", va, err);
		exit(1);
	}
	memset((void *)va, 'a', PAGE_SIZE);
	((char *)va)[4095] = last;
	return (char *)va;
}

int main(uint64_t arg)
{
	char *last = page_of_as(USER_TOP - PAGE_SIZE, 'a');
	// Shorter than the longest name: the copy must reach the end.
	size_t n = 1 + arg % (EXEC_MAX_ARG_LEN - 1);

	report("no NUL before the end of user space", last + PAGE_SIZE - n);
	last[4095] = '\0';
	report("NUL in the last byte of user space", last + PAGE_SIZE - n);
	char *below = page_of_as(SUPERVISOR_PAGE - PAGE_SIZE, 'a');
	report("into a supervisor page", below + PAGE_SIZE - n);
	char *alone = page_of_as(0x20000000ul + (arg & 0xFF) * 0x10000, 'a');
	report("into an unmapped page", alone + PAGE_SIZE - n);
	report("kernel", (char *)0xFFFFFFFF80100000ul);
	report("null", NULL);
	alone[4095] = '\0';
	report("longest", alone + PAGE_SIZE - EXEC_MAX_ARG_LEN);
	report("one too long", alone + PAGE_SIZE - EXEC_MAX_ARG_LEN - 1);
	report("empty", alone + 4095);
	return 0;
}
