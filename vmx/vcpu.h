// Virtual CPUs: a VMCS, the guest's general registers, and the loop that
// enters the guest and handles its exits (vmx/exits.c, and the policy of
// the vCPU's VM: vmx/vm.h) until a handler stops it.

#ifndef VMX_VCPU_H
#define VMX_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/page.h"
#include "vmx/vm.h"

// The guest registers the VMCS does not hold (offsets used by entry.S).
struct vcpu_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

// What a 64-bit guest starts with.
struct vcpu_config {
	uint64_t rip, rsp;
	uint64_t cr3;           // guest-physical address of its PML4
	uint64_t rdi, rsi;      // its first two arguments
	bool trace;             // print every exit (but host interrupts)
};

#define VCPU_NOT_LOADED (-1)

struct vcpu {
	int id;
	struct vm *vm;                  // its memory and its owner's policy
	struct page *vmcs;
	struct vcpu_regs regs;
	bool trace;                     // config.trace
	int cpu;                        // where its VMCS is active, or VCPU_NOT_LOADED
	bool launched;                  // VMLAUNCH done since it was loaded
	bool stopped;
	const char *stop_reason;        // why the run ended
	uint64_t exits;                 // exits handled (host interrupts too)
	uint32_t traced_reason;         // the trace's run of identical exits
	uint64_t traced_count;
};

// A vCPU of vm for a 64-bit guest, loaded on this CPU (vcpu_load).
// Returns NULL (after saying why) if the CPU cannot do the controls it
// needs or memory is short.
struct vcpu *vcpu_create(struct vm *vm, const struct vcpu_config *config);
// Frees it; it must be put, or loaded on this CPU.
void vcpu_destroy(struct vcpu *v);

// A VMCS is active on at most one CPU at a time (SDM Vol. 3C 25.11.1).
// vcpu_load makes v's VMCS current on this CPU, with this CPU's host
// state; vcpu_put clears it (VMCLEAR), so that it may next be loaded on
// any CPU. Both with interrupts off, on the same CPU for one load/put
// pair: loading a vCPU that is active on another CPU panics.
void vcpu_load(struct vcpu *v);
void vcpu_put(struct vcpu *v);

// Loads v here and runs the guest until an exit handler stops it;
// returns its stop reason. The vCPU stays loaded on the CPU it ends on.
// (vmx/run.c: the loop above the exit handlers.)
const char *vcpu_run(struct vcpu *v);

// Ends the run with reason (for exit handlers).
void vcpu_stop(struct vcpu *v, const char *reason);

// Moves the guest past the instruction that exited.
void vcpu_skip_instruction(struct vcpu *v);

// The value an IN instruction reads (its low io->size bytes), merged into
// the guest's RAX as the CPU would.
void vcpu_io_result(struct vcpu *v, const struct vcpu_io *io, uint32_t value);

// VM-entry interruption information (SDM Vol. 3C 25.8.3): the vector in
// bits 7:0, the type in bits 10:8, deliver an error code, valid.
#define INTR_INFO_HARDWARE_EXCEPTION (3u << 8)
#define INTR_INFO_DELIVER_ERROR_CODE (1u << 11)
#define INTR_INFO_VALID              (1u << 31)

// Injects a hardware exception into the guest at the next VM entry (for
// exit handlers: the guest sees the fault at the instruction that exited).
void vcpu_inject_exception(struct vcpu *v, int vector, uint32_t error_code);

// entry.S: enters the guest with regs (VMLAUNCH or, if launched,
// VMRESUME). Returns 0 after a VM exit, 1 after VMfailInvalid, 2 after
// VMfailValid.
int vmx_enter(struct vcpu_regs *regs, int launched);

#endif
