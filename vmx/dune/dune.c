// Dune process mode: a thread of an ordinary process continues in VMX
// non-root ring 0 (vmx/dune/dune.h says what the process sees).
//
// A thread enters with SYS_dune_enter: the kernel checks the start state,
// gives the thread a vCPU of its address space's VM (memory.c) and runs
// it, in the thread's own system call, until the thread ends or execs:
//
//   sys_dune_enter -> dune_run: vcpu_run ... exit ... vcpu_run ...
//
// vcpu_run returns for what needs the thread's kernel context: a VMCALL
// (a system call, served with the same table as native ones,
// syscall_invoke; it may sleep and go on on another CPU, and sched() then
// puts the vCPU through the thread's switch_out), and
// the end of the run (a kill, or an exit the kernel does not serve, which
// ends the process with a message). A host interrupt (the timer) exits
// too; the core then calls dune_reschedule with the vCPU put, which gives
// the CPU to another process as the timer does to a native one.

#include <stddef.h>

#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "cpu/lapic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "proc/proc.h"
#include "mm/uaccess.h"
#include "syscall/syscall.h"
#include "lib/sysnum.h"
#include "vmx/dune/dune.h"
#include "vmx/dune/internal.h"
#include "vmx/exits.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

// The longest a thread runs in the guest without an exit: a host
// interrupt exits at once, but an emulator may hold one back while the
// guest has interrupts off (vmx/exits.c, handle_preemption_timer).
#define DUNE_QUANTUM_MS 1

// A VMCALL: the run stops, and dune_run serves the system call.
static void dune_hypercall(struct vcpu *v)
{
	proc_current()->dune->syscall = true;
	vcpu_stop(v, "system call");
}

// After a host interrupt or the end of a quantum, with the vCPU put
// (interrupts on): the timer preempts a thread in Dune mode as it
// preempts a native one, once per tick of this CPU (this_cpu()->ticks,
// against d->ticks_seen), with yield(), after which the thread may go on
// on another CPU. Notes first that the VM ran here. Returns whether the
// guest goes on: not if the thread was killed (proc_killed).
static bool dune_reschedule(struct vcpu *v)
{
	// BEGIN LAB 7 SOLUTION: dune_migrate
	struct dune_thread *d = proc_current()->dune;
	uint64_t ticks = this_cpu()->ticks;

	(void)v;
	dune_vm_ran_here(d->dvm);
	if (ticks != d->ticks_seen) {
		d->ticks_seen = ticks;
		yield();
	}
	return !proc_killed();
	// STUB:
	// (void)v;
	// printk("dune_reschedule: LAB 7: the thread never gives up its CPU: stopped\n");
	// return false;
	// END LAB 7
}

static const struct vcpu_ops dune_ops = {
	.hypercall = dune_hypercall,
	.ept_fault = dune_ept_fault,
	.reschedule = dune_reschedule,
};

// The thread leaves this CPU (sched): its vCPU, which stays loaded while
// the kernel serves its system calls, must be put here (VMCLEAR: SDM
// Vol. 3C 25.11.1), so that the thread may go on on any CPU. A thread
// that is not in Dune mode (any more), or whose vCPU is put already, has
// nothing to put.
static void dune_switch_out(struct proc *p)
{
	// BEGIN LAB 7 SOLUTION: dune_migrate
	if (p->dune != NULL && p->dune->vcpu->cpu == this_cpu()->id)
		vcpu_put(p->dune->vcpu);
	// STUB:
	// (void)p;
	// END LAB 7
}

// A vCPU of as's VM for config, put. NULL if memory is short.
static struct dune_thread *thread_create(struct aspace *as, const struct vcpu_config *config)
{
	struct dune_thread *d = kzalloc(sizeof(*d));

	if (d == NULL)
		return NULL;
	if ((d->dvm = dune_vm_get(as, &dune_ops)) == NULL ||
	    (d->vcpu = vcpu_create(&d->dvm->vm, config)) == NULL) {
		kfree(d);
		return NULL;
	}
	vcpu_put(d->vcpu);
	return d;
}

// Puts p in Dune mode with d.
static void thread_start(struct proc *p, struct dune_thread *d)
{
	p->dune = d;
	p->switch_out = dune_switch_out;
}

// Takes p out of Dune mode: its vCPU and VMCS are freed (the VM lives as
// long as the address space).
static void thread_free(struct proc *p)
{
	struct dune_thread *d = p->dune;

	p->switch_out = NULL;
	vcpu_destroy(d->vcpu);
	kfree(d);
	p->dune = NULL;
}

// Ends the current thread's process for an exit the kernel does not
// serve; the vCPU is still loaded here, its VMCS telling why.
__attribute__((noreturn)) static void kill_for_exit(struct proc *p, const char *why)
{
	uint32_t reason = vmcs_read32(EXIT_REASON);
	// VMLAUNCH or VMRESUME itself may fail (VMfailValid), with no exit.
	bool no_exit = strcmp(why, "VM entry failed") == 0 && !(reason & EXIT_REASON_ENTRY_FAILED);

	printk("process %s[%d] killed: Dune mode: %s: ", p->name, p->pid, why);
	if (!no_exit)
		printk("exit reason %u (%s%s), qualification 0x%lx", EXIT_REASON_BASIC(reason),
		       reason & EXIT_REASON_ENTRY_FAILED ? "VM entry failure: " : "",
		       exit_reason_name(reason), vmcs_readnat(EXIT_QUALIFICATION));
	else
		printk("VM-instruction error %u (%s)", vmcs_read32(VM_INSTRUCTION_ERROR),
		       vm_instruction_error_name(vmcs_read32(VM_INSTRUCTION_ERROR)));
	printk(", guest rip 0x%lx, cr3 0x%lx\n", vmcs_readnat(GUEST_RIP), vmcs_readnat(GUEST_CR3));
	vcpu_put(p->dune->vcpu);
	thread_free(p);
	proc_exit(DUNE_KILLED_STATUS);
}

static void dune_resume(struct proc *p);

// fork from Dune mode (proc_fork_with calls it with the child made, not
// yet running): the child's thread continues in Dune mode with a copy of
// the caller's vCPU state (vcpu_copy_state, which leaves both loaded
// here: put them), on an EPT of its own address space, with RAX 0; it
// starts in dune_resume. 0, or -ENOMEM.
static int fork_prepare(struct proc *child, void *arg)
{
	// BEGIN LAB 7 SOLUTION: dune_vmcall
	struct dune_thread *parent = arg;
	struct vcpu_config config = { .guest_msrs = true, .quantum = DUNE_QUANTUM_MS * tsc_per_ms };
	struct dune_thread *d = thread_create(child->as, &config);

	if (d == NULL)
		return -ENOMEM;
	vcpu_copy_state(d->vcpu, parent->vcpu);
	vcpu_put(d->vcpu);
	vcpu_put(parent->vcpu);
	d->vcpu->regs.rax = 0;          // fork returns 0 in the child
	thread_start(child, d);
	child->kernel_start = dune_resume;
	return 0;
	// STUB:
	// (void)child, (void)arg, (void)dune_resume;
	// return -ENOSYS;
	// END LAB 7
}

// Serves the system call the thread asked for with VMCALL (its vCPU
// loaded on this CPU, or put if the thread slept meanwhile): the number
// in the guest's RAX, the arguments in RDI, RSI, RDX, R10, R8, R9, the
// result back in RAX (syscall_invoke, the table of native calls, gives
// -ENOSYS for an unknown number). exit and thread_exit leave Dune mode
// first (thread_free: they do not return); fork makes a child in Dune
// mode (proc_fork_with, fork_prepare); an exec that succeeds leaves Dune
// mode, the new program starting as after a native exec.
// Returns true if it left Dune mode (exec).
static bool serve_syscall(struct proc *p)
{
	// BEGIN LAB 7 SOLUTION: dune_vmcall
	struct vcpu_regs *r = &p->dune->vcpu->regs;
	const uint64_t args[SYSCALL_ARGS] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	int64_t result;

	switch (r->rax) {
	case SYS_exit:
	case SYS_thread_exit:
		thread_free(p);
		syscall_invoke(r->rax, args);
		break;          // not reached
	case SYS_fork:
		r->rax = (uint64_t)(int64_t)proc_fork_with(fork_prepare, p->dune);
		break;
	case SYS_exec:
		result = syscall_invoke(SYS_exec, args);
		if (result == 0) {
			thread_free(p);
			p->tf->rax = 0;         // the new program starts as after a native exec
			return true;
		}
		r->rax = (uint64_t)result;
		break;
	default:
		r->rax = (uint64_t)syscall_invoke(r->rax, args);
		break;
	}
	return false;
	// STUB:
	// printk("process %s[%d] killed: Dune mode: LAB 7: system call %lu not forwarded\n",
	//        p->name, p->pid, p->dune->vcpu->regs.rax);
	// (void)fork_prepare;
	// thread_free(p);
	// proc_exit(DUNE_KILLED_STATUS);
	// END LAB 7
}

// Runs the current thread p in Dune mode until it leaves it by exec
// (returns) or ends (does not return). Interrupts off.
// Each turn: a killed thread leaves Dune mode and ends; else the vCPU
// runs (vcpu_run) until it stops, and the VM is noted as having run
// here. A stop at a VMCALL (d->syscall) is served (serve_syscall) with
// the vCPU still loaded; any other stop of a killed thread puts the vCPU
// and goes round (to end it); anything else is an exit the kernel does
// not serve (kill_for_exit, with the reason vcpu_run gave).
static void dune_run(struct proc *p)
{
	// BEGIN LAB 7 SOLUTION: dune_enter
	struct dune_thread *d = p->dune;

	for (;;) {
		if (proc_killed()) {
			thread_free(p);
			proc_exit_if_killed();
		}
		const char *why = vcpu_run(d->vcpu);
		dune_vm_ran_here(d->dvm);
		if (d->syscall) {
			// Served with the vCPU still loaded here: the next entry
			// is as cheap as after any exit, unless the thread leaves
			// the CPU meanwhile (dune_switch_out puts it).
			d->syscall = false;
			if (serve_syscall(p))
				return;
			continue;
		}
		if (proc_killed()) {
			vcpu_put(d->vcpu);
			continue;
		}
		kill_for_exit(p, why);
	}
	// STUB:
	// printk("process %s[%d] killed: Dune mode: LAB 7: no run loop\n", p->name, p->pid);
	// (void)serve_syscall, (void)kill_for_exit;
	// thread_free(p);
	// proc_exit(DUNE_KILLED_STATUS);
	// END LAB 7
}

// The child of a fork from Dune mode starts here (forkret), then returns
// to user mode if it execs.
static void dune_resume(struct proc *p)
{
	cli();          // as in a system call
	dune_run(p);
}

// The checks of dune.h on a start state, in order; 0 or an error. CR3
// is a guest-physical address: the page it names must be in a window
// (dune_pa_to_va) and mapped, present and user, in the page tables of
// as (pt_walk under the address space's lock).
static int check_config(struct aspace *as, const struct dune_config *c)
{
	// BEGIN LAB 7 SOLUTION: dune_enter
	if (c->flags != 0 || !is_canonical(c->rip) || !is_canonical(c->rsp) || c->rsp % 16 != 0)
		return -EINVAL;
	uint64_t va = dune_pa_to_va(c->cr3);
	if (c->cr3 % PAGE_SIZE != 0 || va == DUNE_NO_GPA)
		return -EFAULT;
	aspace_lock(as);
	pte_t *pte = pt_walk(as->pml4, va, false);
	bool mapped = pte != NULL && (*pte & (PTE_P | PTE_U)) == (PTE_P | PTE_U);
	aspace_unlock(as);
	return mapped ? 0 : -EFAULT;
	// STUB:
	// (void)as, (void)c;
	// return 0;
	// END LAB 7
}

// The system call (dune.h): after the checks that need no memory of
// the process, the start state's (check_config); then the thread gets a
// vCPU of its address space's VM (thread_create, with the registers,
// EFER.SCE and NXE, MSRs of its own and the quantum) and runs in Dune
// mode (thread_start, dune_run) until it leaves by exec.
int64_t sys_dune_enter(uint64_t config)
{
	struct proc *p = proc_current();
	struct dune_config c;

	if (!vmx_running)
		return -ENODEV;
	if (p->dune != NULL)
		return -EBUSY;
	if (copy_from_user(&c, config, sizeof(c)) < 0)
		return -EFAULT;
	// BEGIN LAB 7 SOLUTION: dune_enter
	int err = check_config(p->as, &c);
	if (err < 0)
		return err;
	struct vcpu_config vc = {
		.rip = c.rip, .rsp = c.rsp, .cr3 = c.cr3,
		.rax = c.rax, .rdi = c.rdi, .rsi = c.rsi,
		.efer = EFER_SCE | EFER_NXE, .guest_msrs = true, .quantum = DUNE_QUANTUM_MS * tsc_per_ms,
	};
	struct dune_thread *d = thread_create(p->as, &vc);
	if (d == NULL)
		return -ENOMEM;
	thread_start(p, d);
	dune_run(p);
	return 0;               // after exec
	// STUB:
	// (void)c, (void)check_config, (void)thread_create, (void)thread_start;
	// return -ENOSYS;
	// END LAB 7
}
