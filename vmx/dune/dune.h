// Dune process mode: the interface between a process and the kernel
// (after Belay et al., "Dune: Safe User-level Access to Privileged CPU
// Features", OSDI 2012). Shared by the kernel (vmx/dune/) and the
// programs that use it (user programs include it as "vmx/dune/dune.h").
//
// Entering. dune_enter(&config) (system call SYS_dune_enter,
// syscall/sysnum.h) puts the calling thread in VMX non-root ring 0 and
// does not return there: the thread continues at config.rip, with
// config.rsp, on the page tables at guest-physical config.cr3 that the
// process built in its own memory, interrupts off, RAX, RDI and RSI as
// config says and the other registers 0. It keeps its pid, files, memory
// and children. CS is 0x08 (64-bit code), the other segments 0x10
// (data), TR 0x18; GDTR and IDTR are empty until the thread loads its
// own. EFER has SCE and NXE set; CR0 has PE, PG, NE; CR4 has PAE. Each
// thread enters on its own and gets a vCPU of its own; the threads of a
// process share one EPT.
//
// Errors (the call returns them in native mode):
//   -ENODEV  the machine runs no guests (no VT-x with EPT)
//   -EFAULT  config is not readable memory of the process
//   -EINVAL  config.flags is not 0, config.rip or config.rsp is not
//            canonical, or config.rsp is not 16-byte aligned
//   -EFAULT  config.cr3 is not page-aligned memory of the process: a
//            guest-physical address (below) whose page is mapped
//   -EBUSY   the thread is in Dune mode already
//   -ENOMEM  no memory for the vCPU or the EPT
//
// Memory. Guest-physical addresses are the process's host-virtual ones,
// so the page tables a process builds in its own memory name the
// addresses of that memory. Guest-physical space is narrower than the
// 47-bit user half (36 bits: the least MAXPHYADDR of a 64-bit CPU, SDM
// Vol. 3A 4.1.4), so, as Dune does, two windows of the user half are
// reachable:
//   host-virtual [0, DUNE_LOW_END)          -> guest-physical the same
//   host-virtual [DUNE_STACK_VA, USER_TOP)  -> guest-physical
//                                              [DUNE_GPA_STACK, 64 GiB)
// (the top gigabyte, where the stack lies). Memory elsewhere cannot be
// reached in Dune mode. The EPT follows the process's page tables: a page
// is reachable with the permissions it has there (read always, write if
// writable, execute unless no-execute), and copy-on-write, munmap,
// mprotect and sbrk take effect in Dune mode as in native mode. An access
// to guest-physical memory the process does not have (or in a way its
// page does not allow) is delivered to the thread as a page fault (#PF,
// vector 14) at the guest-linear address, with CR2 set to it and the
// error code of a native fault (bit 0 set if the page exists, bit 1 for
// a write, bit 2 from ring 3, bit 4 for an instruction fetch). If the
// access was the CPU's own, to the thread's page tables, or came while
// an exception was being delivered, there is no fault to give: the
// process ends as for an unexpected exit (an EPT violation).
//
// System calls. In Dune mode `syscall` goes to the thread's own handler
// (its LSTAR, in its ring 0). The thread asks the kernel with VMCALL: the
// system-call number in RAX and its arguments in RDI, RSI, RDX, R10, R8,
// R9, as for `syscall`; the result comes back in RAX (-ENOSYS for an
// unknown number) and no other register changes. The kernel runs the
// same system calls with the same checks as for a native process; their
// pointer arguments are host-virtual addresses. fork gives a child in
// Dune mode (a copy of the caller's vCPU state, RAX 0, its own EPT);
// exec leaves Dune mode (the new program starts natively); exit ends the
// process as usual.
//
// MSRs. The thread may read and write STAR, LSTAR, FMASK,
// KERNEL_GS_BASE, FS and GS base (its own values, switched with the
// host's at every entry and exit), EFER's SCE and NXE, and read the TSC;
// any other MSR access raises #GP in the thread.
//
// Faults and exits. Exceptions go through the thread's own IDT. A triple
// fault, a VM entry that fails or an exit the kernel does not serve ends
// the process (status DUNE_KILLED_STATUS) with a message that names the
// exit reason, its qualification, the guest's RIP and CR3. Port I/O
// reaches no device: OUT is ignored, IN reads all ones. HLT ends the
// process like an unexpected exit.

#ifndef VMX_DUNE_DUNE_H
#define VMX_DUNE_DUNE_H

#include <stdint.h>

struct dune_config {
	uint64_t rip;           // where the thread continues (guest-virtual)
	uint64_t rsp;           // its stack pointer (guest-virtual, 16-byte aligned)
	uint64_t cr3;           // guest-physical address of its PML4
	uint64_t rax, rdi, rsi; // what these registers hold there
	uint64_t flags;         // 0 (none defined yet)
};

#define DUNE_USER_TOP   0x0000800000000000ul    // the end of the user half
#define DUNE_GPA_TOP    (1ul << 36)             // the end of guest-physical space
#define DUNE_STACK_SIZE (1ul << 30)             // the top window
#define DUNE_STACK_VA   (DUNE_USER_TOP - DUNE_STACK_SIZE)
#define DUNE_GPA_STACK  (DUNE_GPA_TOP - DUNE_STACK_SIZE)
#define DUNE_LOW_END    DUNE_GPA_STACK

// The guest-physical address of host-virtual va, or DUNE_NO_GPA if Dune
// mode cannot reach it.
#define DUNE_NO_GPA     (~0ul)
static inline uint64_t dune_va_to_pa(uint64_t va)
{
	if (va < DUNE_LOW_END)
		return va;
	if (va >= DUNE_STACK_VA && va < DUNE_USER_TOP)
		return va - DUNE_STACK_VA + DUNE_GPA_STACK;
	return DUNE_NO_GPA;
}

// The host-virtual address of guest-physical pa, or DUNE_NO_GPA.
static inline uint64_t dune_pa_to_va(uint64_t pa)
{
	if (pa < DUNE_LOW_END)
		return pa;
	if (pa >= DUNE_GPA_STACK && pa < DUNE_GPA_TOP)
		return pa - DUNE_GPA_STACK + DUNE_STACK_VA;
	return DUNE_NO_GPA;
}

// The exit status of a process ended for an unexpected exit.
#define DUNE_KILLED_STATUS (128 + 13)

#endif
