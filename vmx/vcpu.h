// Virtual CPUs: a VMCS, the guest's general registers, and the loop that
// enters the guest and handles its exits (vmx/exits.c) until a handler
// stops it.

#ifndef VMX_VCPU_H
#define VMX_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/page.h"
#include "vmx/ept.h"

// The guest registers the VMCS does not hold (offsets used by entry.S).
struct vcpu_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

// What a 64-bit guest starts with.
struct vcpu_config {
	struct ept *ept;        // its guest-physical memory
	uint64_t rip, rsp;
	uint64_t cr3;           // guest-physical address of its PML4
	uint64_t rdi, rsi;      // its first two arguments
	uint32_t cpuid_value;   // what CPUID leaf 0x40000000 returns in EAX
	bool trace;             // print every exit (but timer interrupts)
	// An EPT violation is offered here first: return true if it is
	// resolved (the guest retries the access), false to stop the guest.
	bool (*ept_fault)(void *owner, uint64_t gpa, uint64_t qualification);
	void *owner;
};

#define VCPU_OUTPUT_MAX 128

struct vcpu {
	int id;
	struct page *vmcs;
	struct vcpu_config config;
	struct vcpu_regs regs;
	bool launched;
	bool stopped;
	const char *stop_reason;        // why the run ended
	int64_t exit_status;            // for a guest that exits by hypercall
	uint64_t exits;                 // exits handled (timer interrupts too)
	char output[VCPU_OUTPUT_MAX];   // the virtual serial port's line
	int output_len;
	uint32_t traced_reason;         // the trace's run of identical exits
	uint64_t traced_count;
};

// A vCPU for a 64-bit guest. Returns NULL (after saying why) if the CPU
// cannot do the controls it needs or memory is short.
struct vcpu *vcpu_create(const struct vcpu_config *config);
// Runs the guest until an exit handler stops it; returns its stop reason.
const char *vcpu_run(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);

// Ends the run with reason (for exit handlers).
void vcpu_stop(struct vcpu *v, const char *reason);
// Prints the trace's pending run of identical exits, if any.
void vcpu_trace_flush(struct vcpu *v);

// Moves the guest past the instruction that exited.
void vcpu_skip_instruction(struct vcpu *v);

// entry.S: enters the guest with regs (VMLAUNCH or, if launched,
// VMRESUME). Returns 0 after a VM exit, 1 after VMfailInvalid, 2 after
// VMfailValid.
int vmx_enter(struct vcpu_regs *regs, int launched);

#endif
