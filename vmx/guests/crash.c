// An invalid opcode with no IDT: #UD cannot be delivered, nor the #GP and
// double fault after it: the guest triple-faults.
#include "guest.h"

void main(void)
{
	printf("crashing\n");
	asm volatile("ud2");
	printf("survived ud2\n");
}
