#include <stddef.h>

#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "trap/trap.h"
#include "vmx/exits.h"
#include "vmx/vmcs.h"

static const char *const reason_names[NR_EXIT_REASONS] = {
#define EXIT_REASON(name, number, text) [number] = text,
#include "vmx/exit_reasons.h"
#undef EXIT_REASON
};

const char *exit_reason_name(uint32_t reason)
{
	reason = EXIT_REASON_BASIC(reason);
	if (reason < NR_EXIT_REASONS && reason_names[reason] != NULL)
		return reason_names[reason];
	return "unknown exit reason";
}

// The host takes its own interrupts: with interrupts on for an instant,
// the one that caused the exit (still pending at the local APIC) is
// delivered through the host's IDT.
static void handle_external_interrupt(struct vcpu *v)
{
	(void)v;
	asm volatile("sti; nop; cli" ::: "memory");
}

// The guest's quantum (vcpu_config.quantum) ran out: as after a host
// interrupt, the owner may give the CPU to someone else. Interrupts on
// for an instant too: Bochs 2.7 holds a host interrupt pending without
// an exit while the guest runs with IF 0, and delivers it here.
static void handle_preemption_timer(struct vcpu *v)
{
	(void)v;
	asm volatile("sti; nop; cli" ::: "memory");
}

static void handle_triple_fault(struct vcpu *v)
{
	printk("vcpu %d: the guest triple-faulted at rip 0x%lx\n", v->id, vmcs_readnat(GUEST_RIP));
	vcpu_stop(v, "triple fault");
}

// CPUID returns what the host chooses: the host's values, with VMX
// hidden and the hypervisor bit set in leaf 1, and the hypervisor leaf
// naming this kernel in EBX:ECX:EDX ("TeachOS VMM "); then the owner's
// policy may change them.
static void handle_cpuid(struct vcpu *v)
{
	// BEGIN LAB 5 SOLUTION: cpuid_exit
	uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
	uint32_t r[4] = { 0 };

	if (leaf == CPUID_HYPERVISOR_LEAF) {
		memcpy(&r[1], "TeachOS VMM ", 12);
	} else {
		cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
		if (leaf == 1)
			r[2] = (r[2] & ~CPUID_1_ECX_VMX) | CPUID_1_ECX_HYPERVISOR;
	}
	if (v->vm->ops->cpuid != NULL)
		v->vm->ops->cpuid(v, leaf, sub, r);
	v->regs.rax = r[0], v->regs.rbx = r[1], v->regs.rcx = r[2], v->regs.rdx = r[3];
	vcpu_skip_instruction(v);
	// STUB:
	// printk("LAB 5: cpuid_exit not written: CPUID stops the guest\n");
	// vcpu_stop(v, "CPUID not handled");
	// END LAB 5
}

static void handle_hlt(struct vcpu *v)
{
	vcpu_skip_instruction(v);
	vcpu_stop(v, "halted");
}

// Port I/O, decoded from the exit qualification (SDM Vol. 3C 28.2.1,
// Table 28-5; IO_Q_* in vmx/exits.h): the size less one in bits 2:0, IN
// in bit 3, a string instruction in bit 4, the port in bits 31:16. String
// I/O is not emulated: it stops the guest, named. An IN first reads all
// ones (no device), then the owner's io() serves the access; unless it
// stopped the guest, RIP moves past the instruction (its length is in
// the VMCS: vcpu_skip_instruction).
static void handle_io(struct vcpu *v)
{
	// BEGIN LAB 5 SOLUTION: io_exit
	uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);
	struct vcpu_io io = {
		.port = (uint16_t)(q >> IO_Q_PORT_SHIFT),
		.size = (uint8_t)((q & IO_Q_SIZE_MASK) + 1),
		.in = q & IO_Q_IN,
	};

	if (q & IO_Q_STRING) {
		printk("vcpu %d: unsupported I/O: %ss of %u bytes at port 0x%x\n", v->id,
		       io.in ? "in" : "out", io.size, io.port);
		vcpu_stop(v, "unsupported I/O");
		return;
	}
	if (io.in)
		vcpu_io_result(v, &io, 0xFFFFFFFF);     // what a port without a device reads
	if (v->vm->ops->io != NULL)
		v->vm->ops->io(v, &io);
	if (!v->stopped)
		vcpu_skip_instruction(v);
	// STUB:
	// printk("LAB 5: io_exit not written: port I/O stops the guest\n");
	// vcpu_stop(v, "I/O not handled");
	// END LAB 5
}

static void handle_vmcall(struct vcpu *v)
{
	vcpu_skip_instruction(v);
	if (v->vm->ops->hypercall != NULL)
		v->vm->ops->hypercall(v);
	else
		v->regs.rax = (uint64_t)-ENOSYS;
}

// The VMCS field that holds the guest's value of msr, for a guest with
// MSRs of its own; 0 if none.
static enum vmcs_field msr_field(struct vcpu *v, uint32_t msr)
{
	if (v->msr_areas == NULL)
		return 0;
	return msr == MSR_FS_BASE ? GUEST_FS_BASE : msr == MSR_GS_BASE ? GUEST_GS_BASE :
	       msr == MSR_EFER ? GUEST_IA32_EFER : 0;
}

// MSRs: the guest may read the TSC, and a guest with MSRs of its own
// (vcpu_config.guest_msrs) those; any other MSR access gets a #GP, as on
// a CPU without that MSR.
static void handle_rdmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	uint64_t *own = vcpu_guest_msr(v, msr);
	enum vmcs_field field = msr_field(v, msr);
	uint64_t value;

	if (own != NULL) {
		value = *own;
	} else if (field == GUEST_IA32_EFER) {
		value = vmcs_read64(field);
	} else if (field != 0) {
		value = vmcs_readnat(field);
	} else if (msr == MSR_TSC) {
		value = rdtsc();
	} else {
		printk("vcpu %d: rdmsr 0x%x: no such MSR for guests, #GP\n", v->id, msr);
		vcpu_inject_exception(v, T_GP, 0);
		return;
	}
	v->regs.rax = (uint32_t)value;
	v->regs.rdx = value >> 32;
	vcpu_skip_instruction(v);
}

// A write the CPU itself would refuse with a #GP: a non-canonical base
// or handler address, or an EFER change other than SCE and NXE (LME and
// LMA must stay: the guest is a 64-bit one).
static bool bad_msr_value(uint32_t msr, uint64_t value, uint64_t old)
{
	if (msr == MSR_EFER)
		return ((value ^ old) & ~(uint64_t)(EFER_SCE | EFER_NXE)) != 0;
	if (msr == MSR_STAR)
		return false;
	if (msr == MSR_FMASK)
		return value >> 32 != 0;
	return !is_canonical(value);
}

static void handle_wrmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	uint64_t value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	uint64_t *own = vcpu_guest_msr(v, msr);
	enum vmcs_field field = msr_field(v, msr);

	if (own == NULL && field == 0) {
		printk("vcpu %d: wrmsr 0x%x: guests may not write MSRs, #GP\n", v->id, msr);
		vcpu_inject_exception(v, T_GP, 0);
		return;
	}
	uint64_t old = own != NULL ? *own : field == GUEST_IA32_EFER ? vmcs_read64(field) : 0;
	if (bad_msr_value(msr, value, old)) {
		vcpu_inject_exception(v, T_GP, 0);
		return;
	}
	if (own != NULL)
		*own = value;
	else if (field == GUEST_IA32_EFER)
		vmcs_write64(field, value);
	else
		vmcs_writenat(field, value);
	vcpu_skip_instruction(v);
}

// An EPT violation is the owner's first; one it does not resolve stops
// the run, named by its access and what the entry allowed.
static void handle_ept_violation(struct vcpu *v)
{
	uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);
	uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);

	if (v->vm->ops->ept_fault != NULL && v->vm->ops->ept_fault(v, gpa, q))
		return;
	// BEGIN LAB 6 SOLUTION: ept_violation
	const uint64_t allowed = EPT_Q_ALLOWED_R | EPT_Q_ALLOWED_W | EPT_Q_ALLOWED_X;

	printk("vcpu %d: EPT violation at guest-physical 0x%lx: %s; the entry allowed %s%s%s%s",
	       v->id, gpa, q & EPT_Q_WRITE ? "write" : q & EPT_Q_FETCH ? "instruction fetch" : "read",
	       q & EPT_Q_ALLOWED_R ? "r" : "", q & EPT_Q_ALLOWED_W ? "w" : "",
	       q & EPT_Q_ALLOWED_X ? "x" : "", q & allowed ? "" : "nothing");
	if (q & EPT_Q_LINEAR_VALID)
		printk(", guest-linear 0x%lx", vmcs_readnat(GUEST_LINEAR_ADDRESS));
	printk("\n");
	// STUB:
	// printk("vcpu %d: EPT violation at guest-physical 0x%lx (LAB 6: ept_violation not written)\n",
	//        v->id, gpa);
	// END LAB 6
	vcpu_stop(v, "EPT violation");
}

static void handle_ept_misconfig(struct vcpu *v)
{
	printk("vcpu %d: EPT misconfiguration at guest-physical 0x%lx\n", v->id,
	       vmcs_read64(GUEST_PHYSICAL_ADDRESS));
	vcpu_stop(v, "EPT misconfiguration");
}

// The trace prints a run of identical exits as one line:
// "vmexit: I/O instruction x12".
void vcpu_trace_flush(struct vcpu *v)
{
	if (v->traced_count == 1)
		printk("vmexit: %s\n", exit_reason_name(v->traced_reason));
	else if (v->traced_count > 1)
		printk("vmexit: %s x%lu\n", exit_reason_name(v->traced_reason), v->traced_count);
	v->traced_count = 0;
}

static void trace_exit(struct vcpu *v, uint32_t reason)
{
	if (v->traced_count > 0 && v->traced_reason != reason)
		vcpu_trace_flush(v);
	v->traced_reason = reason;
	v->traced_count++;
}

// An exit in the middle of delivering an event to the guest (an EPT
// violation on the stack its IDT gate switches to, say) leaves the event
// in the IDT-vectoring information (SDM Vol. 3C 28.2.4); once the handler
// resolved the exit, it is injected again at the next entry, unless the
// handler injected another.
static void redeliver_event(struct vcpu *v)
{
	uint32_t info = vmcs_read32(IDT_VECTORING_INFO);
	uint32_t type = (info >> 8) & 7;

	if (!(info & INTR_INFO_VALID) || (vmcs_read32(ENTRY_INTERRUPTION_INFO) & INTR_INFO_VALID))
		return;
	// Bits 30:12 of the VM-entry field are reserved (bit 12 of this one
	// is undefined).
	vmcs_write32(ENTRY_INTERRUPTION_INFO, info & (INTR_INFO_VALID | INTR_INFO_DELIVER_ERROR_CODE |
						      0x7FF));
	if (info & INTR_INFO_DELIVER_ERROR_CODE)
		vmcs_write32(ENTRY_EXCEPTION_ERROR_CODE, vmcs_read32(IDT_VECTORING_ERROR_CODE));
	// A software interrupt or exception (INT n, INT3, INTO; type 4, 5 or
	// 6) is injected with the length of its instruction.
	if (type >= 4 && type <= 6)
		vmcs_write32(ENTRY_INSTRUCTION_LENGTH, vmcs_read32(EXIT_INSTRUCTION_LENGTH));
}

typedef void (*exit_handler)(struct vcpu *v);

static const exit_handler handlers[NR_EXIT_REASONS] = {
	[EXIT_REASON_EXTERNAL_INTERRUPT] = handle_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_PREEMPTION_TIMER] = handle_preemption_timer,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[EXIT_REASON_HLT] = handle_hlt,
	[EXIT_REASON_VMCALL] = handle_vmcall,
	[EXIT_REASON_IO_INSTRUCTION] = handle_io,
	[EXIT_REASON_RDMSR] = handle_rdmsr,
	[EXIT_REASON_WRMSR] = handle_wrmsr,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
};

// The exit reason's bits 15:0 are the basic reason, bit 31 says the
// entry failed (SDM Vol. 3C 28.2.1, Appendix C). A failed entry is
// reported and stops v. Otherwise (the dispatch): the exit is traced
// (host interrupts and the preemption timer are not), then handed to its
// handler in handlers[]; a handler that stopped v ends the trace's run,
// one that did not has the event it interrupted delivered again; an exit
// with no handler is reported with the qualification, the guest's RIP
// and the VMCS, and stops v.
enum exit_reason vmx_handle_exit(struct vcpu *v)
{
	uint32_t reason = vmcs_read32(EXIT_REASON);
	enum exit_reason basic = EXIT_REASON_BASIC(reason);

	if (reason & EXIT_REASON_ENTRY_FAILED) {
		vcpu_trace_flush(v);
		printk("vcpu %d: VM entry failed: %s (exit reason 0x%x), qualification 0x%lx\n",
		       v->id, exit_reason_name(basic), reason, vmcs_readnat(EXIT_QUALIFICATION));
		vmcs_dump();
		vcpu_stop(v, "VM entry failed");
		return basic;
	}
	// BEGIN LAB 5 SOLUTION: exit_dispatch
	if (v->trace && basic != EXIT_REASON_EXTERNAL_INTERRUPT && basic != EXIT_REASON_PREEMPTION_TIMER)
		trace_exit(v, basic);
	if (basic < NR_EXIT_REASONS && handlers[basic] != NULL) {
		handlers[basic](v);
		if (v->stopped)
			vcpu_trace_flush(v);
		else
			redeliver_event(v);
		return basic;
	}
	vcpu_trace_flush(v);
	printk("vcpu %d: no handler for exit %u (%s), qualification 0x%lx, guest rip 0x%lx\n",
	       v->id, basic, exit_reason_name(basic), vmcs_readnat(EXIT_QUALIFICATION),
	       vmcs_readnat(GUEST_RIP));
	vmcs_dump();
	vcpu_stop(v, "unhandled exit");
	return basic;
	// STUB:
	// (void)trace_exit, (void)redeliver_event, (void)handlers;
	// printk("LAB 5: exit_dispatch not written: exit %u (%s) stops the guest\n", basic,
	//        exit_reason_name(basic));
	// vcpu_stop(v, "exit not dispatched");
	// return basic;
	// END LAB 5
}
