// Executes `int3` from the last byte of user space: the breakpoint's
// return address is 0x800000000000, not canonical. The kernel reports the
// breakpoint, and must then end the process rather than IRET there (on
// Intel CPUs that faults in ring 0).
#include "arch/memlayout.h"
#include "ulib.h"

#define LAST_PAGE (USER_TOP - PAGE_SIZE)

int main(void)
{
	int err = map((void *)LAST_PAGE, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
	if (err < 0) {
		printf("lastint3: map failed: %d\n", err);
		return 1;
	}
	uint8_t *code = (uint8_t *)(LAST_PAGE + PAGE_SIZE - 1);
	*code = 0xCC;           // int3
	asm volatile("jmp *%0" : : "r"(code) : "memory");
	return 0;
}
