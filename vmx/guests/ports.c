// IN from a port without a device, once per size, with RAX holding the
// host's pattern before each: the port reads all ones; a byte or a word
// IN keeps the rest of RAX, a doubleword IN zero-extends into it (SDM
// Vol. 1 3.4.1.1). Then the line status register of the serial port.
#include "guest.h"

#define NO_DEVICE 0x2F8         // COM2: the host serves only COM1

void main(uint64_t pattern)
{
	uint64_t b = pattern, w = pattern, l = pattern, lsr = pattern;

	asm volatile("inb %%dx, %%al" : "+a"(b) : "d"(NO_DEVICE));
	asm volatile("inw %%dx, %%ax" : "+a"(w) : "d"(NO_DEVICE));
	asm volatile("inl %%dx, %%eax" : "+a"(l) : "d"(NO_DEVICE));
	asm volatile("inb %%dx, %%al" : "+a"(lsr) : "d"(COM1_LSR));
	printf("ports: inb 0x%lx\n", b);
	printf("ports: inw 0x%lx\n", w);
	printf("ports: inl 0x%lx\n", l);
	printf("ports: line status 0x%lx\n", lsr);
}
