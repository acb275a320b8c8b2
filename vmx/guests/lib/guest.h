// The runtime of the test guests: 64-bit ring-0 programs that run on a
// vCPU (vmx/vcpu.h) with 2 MiB of memory mapped 1:1 by their own page
// tables. They talk to the host through the virtual serial port (port
// 0x3F8) and hypercalls (VMCALL; vmx/hypercall.h).

#ifndef VMX_GUESTS_LIB_GUEST_H
#define VMX_GUESTS_LIB_GUEST_H

#include <stdint.h>

#include "vmx/hypercall.h"

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline uint64_t vmcall(uint64_t nr, uint64_t a, uint64_t b)
{
	uint64_t ret;

	asm volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "memory");
	return ret;
}

// printf to the virtual serial port.
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
