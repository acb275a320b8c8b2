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
// CR2 is not in the VMCS either: the CPU has one, which the host's own
// page faults change between two entries, so it is kept here too.
struct vcpu_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t cr2;
};

// The MSRs a guest with its own (vcpu_config.guest_msrs) may read and
// write: those of SYSCALL (SDM Vol. 3A 5.8.8) and SWAPGS. The CPU loads
// the guest's values at each VM entry and stores them at each exit, then
// loads the host's again (the VM-entry MSR-load and VM-exit MSR-store and
// MSR-load areas, SDM Vol. 3C 25.7.2, 25.8.2); FS and GS base are in the
// VMCS's guest state.
#define VCPU_GUEST_MSRS 4
struct vcpu_msr {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
};

// What a 64-bit guest starts with.
struct vcpu_config {
	uint64_t rip, rsp;
	uint64_t cr3;           // guest-physical address of its PML4
	uint64_t rdi, rsi;      // its first two arguments
	uint64_t rax;           // and RAX
	uint64_t efer;          // EFER bits besides LME and LMA (EFER_SCE, EFER_NXE)
	bool guest_msrs;        // the guest has its own STAR, LSTAR, FMASK, KERNEL_GS_BASE, FS and
				// GS base, and may change EFER's SCE and NXE (else: #GP)
	uint64_t quantum;       // the VMX-preemption timer: the guest exits after this many TSC
				// cycles in a row at most, as for a host interrupt (0, or a CPU
				// without the timer: none)
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
	struct page *msr_areas;         // config.guest_msrs: the guest's, then the host's
	uint64_t ept_flushes_seen;      // vm->ept_flushes at its last INVEPT on its CPU
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

// Copies src's guest state (the VMCS's guest-state fields, registers and
// MSRs) into dst (fork of a Dune process). Both must be put, or loaded on
// this CPU; both are loaded here afterwards.
void vcpu_copy_state(struct vcpu *dst, struct vcpu *src);

// The guest's own value of msr (config.guest_msrs), or NULL if it has
// none of it.
uint64_t *vcpu_guest_msr(struct vcpu *v, uint32_t msr);

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
