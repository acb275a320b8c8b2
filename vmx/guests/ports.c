// IN from a port without a device, once per size, with RAX holding the
// host's pattern before each: the port reads all ones; a byte or a word
// IN keeps the rest of RAX, a doubleword IN zero-extends into it (SDM
// Vol. 1 3.4.1.1). Then an IN and an OUT with the port in the instruction
// (two bytes long, where IN and OUT with DX are one), the line status
// register of the serial port, and last a string OUT, which the host
// does not emulate.
#include "guest.h"

#define NO_DEVICE 0x2F8         // COM2: the host serves only COM1

void main(uint64_t pattern)
{
	uint64_t b = pattern, w = pattern, l = pattern, imm = pattern, lsr = pattern;

	asm volatile("inb %%dx, %%al" : "+a"(b) : "d"(NO_DEVICE));
	asm volatile("inw %%dx, %%ax" : "+a"(w) : "d"(NO_DEVICE));
	asm volatile("inl %%dx, %%eax" : "+a"(l) : "d"(NO_DEVICE));
	asm volatile("outb %%al, $0x80; inw $0x80, %%ax" : "+a"(imm));
	asm volatile("inb %%dx, %%al" : "+a"(lsr) : "d"(COM1_LSR));
	printf("ports: inb 0x%lx\n", b);
	printf("ports: inw 0x%lx\n", w);
	printf("ports: inl 0x%lx\n", l);
	printf("ports: inw from port 0x80 0x%lx\n", imm);
	printf("ports: line status 0x%lx\n", lsr);
	asm volatile("outsb" : : "S"("!"), "d"(COM1_PORT) : "memory");
	printf("ports: the string OUT went on\n");
}
