// Dune process mode inside the kernel: the one layer that joins the
// processes of kernel/proc and the vCPUs of the vmx/ core (which knows
// nothing of processes). The interface to processes is vmx/dune/dune.h.
//
//   memory.c  one VM per address space: its EPT mirrors the process's
//             page tables (guest-physical = host-virtual, in the windows
//             of dune.h), filled at EPT violations and kept coherent by an
//             address-space notifier (mm/aspace.h)
//   dune.c    entering (SYS_dune_enter), the run loop of a thread in Dune
//             mode, its system calls (VMCALL), fork, exec, exit and kill
//
// Locks: a VM's EPT changes only under its address space's lock (fills
// at EPT violations, and the notifier, which the address space calls with
// its lock held). A thread's struct dune_thread is its own.

#ifndef VMX_DUNE_INTERNAL_H
#define VMX_DUNE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/aspace.h"
#include "vmx/vcpu.h"
#include "vmx/vm.h"

struct proc;

// The guest-physical memory of the threads that share an address space.
struct dune_vm {
	struct vm vm;                   // its EPT; owner: this dune_vm
	struct aspace *as;              // the memory it mirrors (it lives as long)
	struct aspace_notifier notifier;
	uint64_t cpus;                  // atomic: CPUs where a vCPU of it ran
};

// A thread in Dune mode (struct proc's dune).
struct dune_thread {
	struct vcpu *vcpu;
	struct dune_vm *dvm;
	bool syscall;                   // its run stopped at a VMCALL to serve
	uint64_t ticks_seen;            // the CPU's tick count when it last yielded
};

// The VM of as, made (with ops for its vCPUs) if it has none yet. NULL if
// memory is short.
struct dune_vm *dune_vm_get(struct aspace *as, const struct vcpu_ops *ops);
// Notes that a vCPU of d ran on this CPU (INVEPT there when d is freed).
void dune_vm_ran_here(struct dune_vm *d);

// The EPT-violation policy (struct vcpu_ops's ept_fault) of a Dune VM:
// a page of the process's memory is mapped with the permissions of its
// page-table entry (a write to a copy-on-write page breaks it first);
// else the thread gets a page fault.
bool dune_ept_fault(struct vcpu *v, uint64_t gpa, uint64_t qualification);

#endif
