// The runtime of the test guests: 64-bit ring-0 programs that run on a
// vCPU (vmx/vcpu.h) with 2 MiB of memory mapped 1:1 by their own page
// tables. They talk to the host through the virtual serial port (port
// 0x3F8) and hypercalls (VMCALL; vmx/hypercall.h).

#ifndef VMX_GUESTS_LIB_GUEST_H
#define VMX_GUESTS_LIB_GUEST_H

#include <stdint.h>

#include "arch/ports.h"
#include "arch/regs.h"
#include "arch/x86.h"           // the kernel's wrappers: guests run in ring 0 too
#include "vmx/hypercall.h"

static inline uint64_t vmcall(uint64_t nr, uint64_t a, uint64_t b)
{
	uint64_t ret;

	asm volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "memory");
	return ret;
}

// printf to the virtual serial port.
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
