// VM exits: one handler per basic exit reason (SDM Vol. 3D Appendix C),
// and the hypercall interface guests use through VMCALL.
//
// A handler either lets the guest go on (it returns, and the run loop
// resumes the guest) or ends the run with vcpu_stop(v, reason). An exit
// with no handler stops the run loudly: its name, the qualification and
// a dump of the VMCS.

#ifndef VMX_EXITS_H
#define VMX_EXITS_H

#include "vmx/vcpu.h"

// Hypercalls: number in RAX, arguments in RDI, RSI; result in RAX.
#define HC_ADD   0      // returns rdi + rsi
#define HC_PRINT 1      // prints rsi bytes at guest-physical rdi; returns the count
#define HC_EXIT  2      // ends the run with status rdi

#define EXIT_REASON_ENTRY_FAILED (1u << 31)

void vmx_handle_exit(struct vcpu *v);
const char *exit_reason_name(uint32_t reason);

#endif
