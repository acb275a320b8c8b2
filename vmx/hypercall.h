// The hypercall ABI: how a guest asks its host for something with VMCALL
// (SDM Vol. 3C 26.1.3: VMCALL in VMX non-root operation always exits).
// Shared by the host (vmx/, and the policies that serve hypercalls) and
// the guests (vmx/guests/lib), so both sides use the same numbers.
//
// The number goes in RAX and up to six arguments in RDI, RSI, RDX, R10,
// R8, R9 (the registers of the SYSCALL convention, so a system call can be
// forwarded as it is); the result comes back in RAX, negative errno
// values for errors (-ENOSYS for a number the host does not serve). Only
// RAX changes. The host resumes the guest after the VMCALL instruction.

#ifndef VMX_HYPERCALL_H
#define VMX_HYPERCALL_H

// The test guests' hypercalls (vmx/guest.c serves them).
#define HC_ADD   0      // add(a, b): returns a + b
#define HC_PRINT 1      // print(gpa, len): prints len bytes at guest-physical gpa; returns len
#define HC_EXIT  2      // exit(status): ends the run with that status; does not return

#endif
