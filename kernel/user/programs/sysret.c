// Executes `syscall` from the last two bytes of user space, so that the
// return address is 0x800000000000: not canonical. The kernel must not
// return there with SYSRET (on Intel CPUs that faults in ring 0 on the
// user's stack); it ends the process instead.
#include "arch/memlayout.h"
#include "ulib.h"

#define LAST_PAGE (USER_TOP - PAGE_SIZE)

int main(uint64_t arg)
{
	int err = map((void *)LAST_PAGE, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
	if (err < 0) {
		printf("sysret: map failed: %d\n", err);
		return 1;
	}
	uint8_t *code = (uint8_t *)(LAST_PAGE + PAGE_SIZE - 2);
	code[0] = 0x0F;         // syscall
	code[1] = 0x05;
	printf("calling getpid from %p\n", (void *)code);
	asm volatile("jmp *%0" : : "r"(code), "a"(SYS_getpid) : "rcx", "r11", "memory");
	return 0;
}
