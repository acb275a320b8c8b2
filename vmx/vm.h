// A virtual machine: guest-physical memory (one EPT) and the policy its
// owner gives it. The core (vmx/) is the mechanism: VMX operation, the
// VMCS, entering the guest, decoding exits. What an exit means is up to
// the owner, through struct vcpu_ops: the test guests of Labs 5-6
// (vmx/guest.c) serve a virtual serial port and three hypercalls; a Dune
// process forwards its hypercalls to the system-call table and fills its
// EPT from its own page tables; a device model answers its registers.
// Owners plug in here without touching vmx/exits.c.
//
// A VM has any number of vCPUs (vmx/vcpu.h), each of which may run on any
// CPU; all of them share the VM's EPT.

#ifndef VMX_VM_H
#define VMX_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/ept.h"

struct vcpu;

// A port I/O instruction, decoded from the exit qualification.
struct vcpu_io {
	uint16_t port;
	uint8_t size;           // 1, 2 or 4 bytes
	bool in;                // IN (the handler sets the low size bytes of RAX) or OUT
};

// The owner's policy. Each handler runs on the CPU of the exit with
// interrupts off and the vCPU's VMCS current; it lets the guest go on by
// returning, or ends the run with vcpu_stop(). A NULL handler means the
// default written next to it.
struct vcpu_ops {
	// Port I/O; the core moves RIP past the instruction afterwards unless
	// the run was stopped. An IN already reads all ones (no device at
	// that port): the handler gives its device's value with
	// vcpu_io_result(). Default: OUT is ignored, IN reads all ones.
	void (*io)(struct vcpu *v, const struct vcpu_io *io);
	// VMCALL (vmx/hypercall.h): RIP is already past the instruction; the
	// result goes in v->regs.rax. Default: -ENOSYS in RAX.
	void (*hypercall)(struct vcpu *v);
	// An EPT violation at guest-physical gpa, with the exit qualification
	// (EPT_Q_* in vmx/exits.h). Returns true if it resolved it (the
	// guest retries the access), false to have the core report it and
	// stop the run. Default: false.
	bool (*ept_fault)(struct vcpu *v, uint64_t gpa, uint64_t qualification);
	// CPUID: regs (EAX, EBX, ECX, EDX) hold the core's answer (the host's
	// values with VMX hidden and the hypervisor bit set; the hypervisor
	// leaf names this kernel), which the owner may change. Default: as is.
	void (*cpuid)(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
	// Called after an exit for a host interrupt, with the vCPU put
	// (vcpu_put) and interrupts on: the owner may sleep, yield or move to
	// another CPU here. Returns false to end the run (a kill, say).
	// Default: the guest goes on at once on the same CPU.
	bool (*reschedule)(struct vcpu *v);
};

struct vm {
	struct ept ept;                 // guest-physical -> host-physical
	const struct vcpu_ops *ops;     // never NULL (vmx_vm_init)
	void *owner;                    // the policy's own state
	uint64_t ept_flushes;           // atomic: vm_flush_ept calls
};

// An empty VM (an EPT mapping nothing) whose exits go to ops (NULL: every
// default) with owner. Returns 0 or -ENOMEM.
int vmx_vm_init(struct vm *vm, const struct vcpu_ops *ops, void *owner);
// After the EPT lost or narrowed entries: INVEPT on this CPU, and every
// vCPU of vm INVEPTs on its CPU before it next enters the guest (SDM
// Vol. 3C 29.4.3.1). A vCPU that is in the guest now keeps its stale
// translations until it exits: the caller makes it exit (an
// interprocessor interrupt, such as an address space's shootdown) before
// it frees a page the EPT mapped.
void vm_flush_ept(struct vm *vm);
// Frees the EPT's tables (not the memory they map; that is the owner's).
// The VM's vCPUs must be destroyed first.
void vmx_vm_free(struct vm *vm);

#endif
