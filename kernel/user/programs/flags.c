// Makes system calls with RFLAGS bits set that the kernel must not run
// with (IA32_FMASK clears them on SYSCALL): DF, which turns string
// instructions backwards, and NT, with which the kernel's next IRET would
// fault. Then exits with them set.
#include "ulib.h"

#define RFLAGS_DF 0x400ul
#define RFLAGS_NT 0x4000ul

static void set_flags(uint64_t bits)
{
	asm volatile("pushfq; orq %0, (%%rsp); popfq" : : "r"(bits) : "memory", "cc");
}

int main(uint64_t arg)
{
	static char message[] = "flags: a system call with DF and NT set, arg 0x000000\n";
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++)
		message[sizeof(message) - 3 - i] = digits[(arg >> (4 * i)) & 0xF];
	set_flags(RFLAGS_DF | RFLAGS_NT);
	// No printf: the C code around it assumes DF clear (psABI 3.2.1).
	write(1, message, sizeof(message) - 1);
	uint64_t rflags;
	asm volatile("pushfq; popq %0" : "=r"(rflags));
	if ((rflags & (RFLAGS_DF | RFLAGS_NT)) != (RFLAGS_DF | RFLAGS_NT))
		write(1, "flags: lost after the system call\n", 34);
	exit(0);
}
