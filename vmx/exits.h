// VM exits: the named exit reasons and the qualification bits the core
// decodes, and the dispatcher that runs one handler per basic exit
// reason (SDM Vol. 3D Appendix C).
//
// The core handles by itself what needs no policy (host interrupts,
// triple faults, CPUID, HLT, MSRs, EPT misconfigurations) and hands the
// rest to the vCPU's owner through its struct vcpu_ops (vmx/vm.h): port
// I/O, hypercalls, EPT violations. A handler either lets the guest go on
// (it returns, and the run loop resumes the guest) or ends the run with
// vcpu_stop(v, reason). An exit with no handler stops the run loudly: its
// name, the qualification and a dump of the VMCS.

#ifndef VMX_EXITS_H
#define VMX_EXITS_H

#include <stdint.h>

#include "vmx/vcpu.h"

enum exit_reason {
#define EXIT_REASON(name, number, text) EXIT_REASON_##name = number,
#include "vmx/exit_reasons.h"
#undef EXIT_REASON
};
#define NR_EXIT_REASONS (EXIT_REASON_LOADIWKEY + 1)

// The exit-reason field (SDM Vol. 3C 25.9.1): the basic reason in bits
// 15:0, bit 31 set if the VM entry failed.
#define EXIT_REASON_BASIC(reason) ((reason) & 0xFFFF)
#define EXIT_REASON_ENTRY_FAILED (1u << 31)

// Exit qualification of an I/O instruction (SDM Vol. 3C 28.2.1, Table
// 28-5): size - 1 in bits 2:0, IN in bit 3, string in bit 4, REP in bit 5,
// the port in bits 31:16.
#define IO_Q_SIZE_MASK  0x7u
#define IO_Q_IN         (1u << 3)
#define IO_Q_STRING     (1u << 4)
#define IO_Q_REP        (1u << 5)
#define IO_Q_PORT_SHIFT 16

// Exit qualification of an EPT violation (SDM Vol. 3C 28.2.1, Table
// 28-7): the access in bits 2:0, what the entry allowed in bits 5:3, a
// valid guest-linear address in bit 7.
#define EPT_Q_READ          (1u << 0)
#define EPT_Q_WRITE         (1u << 1)
#define EPT_Q_FETCH         (1u << 2)
#define EPT_Q_ALLOWED_R     (1u << 3)
#define EPT_Q_ALLOWED_W     (1u << 4)
#define EPT_Q_ALLOWED_X     (1u << 5)
#define EPT_Q_LINEAR_VALID  (1u << 7)

// Handles the exit that just happened on v (its VMCS is current) and
// returns its basic reason.
enum exit_reason vmx_handle_exit(struct vcpu *v);
// The SDM's name of an exit reason (the basic reason of `reason`).
const char *exit_reason_name(uint32_t reason);

// Prints the trace's pending run of identical exits, if any ("vmexit:
// I/O instruction x12").
void vcpu_trace_flush(struct vcpu *v);

#endif
