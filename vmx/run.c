// The run loop of a vCPU: enter the guest, dispatch each exit to its
// handler (vmx/exits.c), stop when a handler says so. It sits above both
// the vCPU (vmx/vcpu.c) and the exit handlers, which use the vCPU.

#include <stdbool.h>

#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include "vmx/ept.h"
#include "vmx/exits.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

// Loads v on this CPU for a run: the host page tables at an exit are
// the ones the run started on (a Dune process's own).
static void load_here(struct vcpu *v)
{
	vcpu_load(v);
	vmcs_writenat(HOST_CR3, read_cr3());
}

// After a host interrupt: the owner may give up the CPU, with the vCPU
// put, and the guest goes on wherever the owner comes back.
static void reschedule(struct vcpu *v)
{
	bool go_on;

	if (v->vm->ops->reschedule == NULL)
		return;
	vcpu_put(v);
	sti();
	go_on = v->vm->ops->reschedule(v);
	cli();
	load_here(v);
	if (!go_on)
		vcpu_stop(v, "stopped by its owner");
}

// Each round: vmx_enter with VMLAUNCH the first time since the vCPU was
// loaded and VMRESUME after (SDM Vol. 3C 27.1: VMLAUNCH wants a clear
// VMCS, VMRESUME a launched one); an entry that fails as an instruction
// (1: VMfailInvalid, 2: VMfailValid with the VM-instruction error) is
// reported with the VMCS and stops the vCPU; otherwise the exit is
// counted and dispatched (vmx_handle_exit), and after a host interrupt
// or the preemption timer the owner may reschedule.
const char *vcpu_run(struct vcpu *v)
{
	bool interrupts_were_on = read_rflags() & RFLAGS_IF;

	cli();
	load_here(v);
	v->stopped = false;
	while (!v->stopped) {
		// The EPT changed since this CPU last forgot its translations
		// (vm_flush_ept on another CPU): INVEPT here before entering.
		// BEGIN LAB 7 SOLUTION: dune_mirror
		uint64_t flushes = __atomic_load_n(&v->vm->ept_flushes, __ATOMIC_SEQ_CST);
		if (flushes != v->ept_flushes_seen) {
			v->ept_flushes_seen = flushes;
			ept_invalidate(&v->vm->ept);
		}
		// END LAB 7
		// BEGIN LAB 5 SOLUTION: vm_entry
		int failed = vmx_enter(&v->regs, v->launched);
		if (failed) {
			uint32_t error = failed == 2 ? vmcs_read32(VM_INSTRUCTION_ERROR) : 0;
			printk("vcpu %d: %s failed: %s\n", v->id, v->launched ? "VMRESUME" : "VMLAUNCH",
			       failed == 1 ? "VMfailInvalid" : vm_instruction_error_name(error));
			vmcs_dump();
			vcpu_stop(v, "VM entry failed");
			break;
		}
		v->launched = true;
		v->exits++;
		enum exit_reason reason = vmx_handle_exit(v);
		if ((reason == EXIT_REASON_EXTERNAL_INTERRUPT ||
		     reason == EXIT_REASON_PREEMPTION_TIMER) && !v->stopped)
			reschedule(v);
		// STUB:
		// (void)reschedule;
		// printk("LAB 5: vm_entry not written: the guest never runs\n");
		// vcpu_stop(v, "VM entry not written");
		// END LAB 5
	}
	vcpu_trace_flush(v);
	if (interrupts_were_on)
		sti();
	return v->stop_reason;
}
