// args: prints what exec gave it: argc, each argument, the NULL at the
// end of argv, and where the stack pointer and argv were at its start.
// Its exit status is argc.
#include "arch/memlayout.h"
#include "ulib.h"

int main(int argc, char **argv)
{
	// The stack pointer _start was entered with (crt0.S calls main).
	uint64_t rsp = (uint64_t)__builtin_frame_address(0) + 16;
	uint64_t strings = (uint64_t)(argv + argc + 1);
	int inside = rsp <= (uint64_t)argv && strings <= USER_STACK_TOP;

	printf("args: argc %d\n", argc);
	for (int i = 0; i < argc; i++) {
		printf("args: argv[%d] = '%s'\n", i, argv[i]);
		inside = inside && strings <= (uint64_t)argv[i] && (uint64_t)argv[i] < USER_STACK_TOP;
	}
	printf("args: argv[%d] %s NULL\n", argc, argv[argc] == NULL ? "is" : "is not");
	printf("args: stack pointer 16-byte aligned at entry: %s\n", rsp % 16 == 0 ? "yes" : "no");
	printf("args: argv and its strings above it, in the stack: %s\n", inside ? "yes" : "no");
	return argc;
}
