// What a trap leaves on the kernel stack: the vector numbers of the
// exceptions (SDM Vol. 3A 6.3.1, Table 6-1), the page-fault error code
// (SDM Vol. 3A 4.7), and struct trapframe, the register frame made by
// the entry stubs (trap/vectors.S, syscall/entry.S; the macros that push
// it are in arch/frame.h). Shared by the trap handler, the process code
// that reads a frame and the hypervisor, for C and assembly alike.

#ifndef KERNEL_ARCH_TRAPFRAME_H
#define KERNEL_ARCH_TRAPFRAME_H

#define T_DIVIDE        0
#define T_DEBUG         1
#define T_NMI           2
#define T_BREAKPOINT    3
#define T_OVERFLOW      4
#define T_BOUND         5
#define T_INVALID_OP    6
#define T_DEVICE_NA     7
#define T_DOUBLE_FAULT  8
#define T_INVALID_TSS   10
#define T_SEGMENT_NP    11
#define T_STACK         12
#define T_GP            13
#define T_PAGE_FAULT    14
#define T_X87_FP        16
#define T_ALIGNMENT     17
#define T_MACHINE_CHECK 18
#define T_SIMD_FP       19
#define T_VIRTUALIZATION 20
#define T_CONTROL_PROTECTION 21
#define T_NUM_EXCEPTIONS 32
#define T_IRQ0          32      // the first hardware interrupt
#define T_SYSCALL       0x80    // marks a trapframe made by the syscall entry
#define T_NUM_VECTORS   256

// Page-fault error code bits (SDM Vol. 3A 4.7).
#define PF_PRESENT 0x1
#define PF_WRITE   0x2
#define PF_USER    0x4
#define PF_RSVD    0x8
#define PF_FETCH   0x10

#ifndef __ASSEMBLER__
#include <stdint.h>

// Layout fixed by trap/vectors.S: general registers pushed by the stub,
// then the vector and error code (0 when the CPU pushes none), then the
// frame the CPU pushes (SDM Vol. 3A 6.14.1).
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

#endif /* __ASSEMBLER__ */

#endif
