// The memory of a Dune process: one VM per address space, whose EPT
// mirrors the process's page tables. Guest-physical addresses are
// host-virtual ones (in the two windows of vmx/dune/dune.h), so an EPT
// entry is a copy of a page-table entry: the same physical page, with
// read, write and execute as the entry allows. The EPT starts empty and
// is filled at EPT violations; the address space's notifier drops or
// narrows entries whenever the page tables lose or narrow theirs (munmap,
// sbrk, mprotect, copy-on-write after fork and its breaks), under the
// address space's lock, before any page is freed. The shootdown that
// follows each such change reaches every CPU that runs a thread of the
// process (they have its address space loaded), so a vCPU in the guest
// exits and INVEPTs (vm_flush_ept) before it enters again.

#include <stddef.h>

#include "cpu/cpu.h"
#include "cpu/ipi.h"
#include "console/console.h"
#include "mm/devmem.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"
#include "trap/mmio.h"
#include "trap/trap.h"
#include "vmx/dune/dune.h"
#include "vmx/dune/internal.h"
#include "vmx/exits.h"
#include "vmx/vmcs.h"

// Exit qualification of an EPT violation (SDM Vol. 3C 28.2.1, Table
// 28-7): bit 8, with bit 7, says the access was the translation of the
// guest-linear address, not one to the guest's own paging structures.
#define EPT_Q_LINEAR_TRANSLATION (1u << 8)
// VM-exit interruption and IDT-vectoring information: valid (SDM Vol. 3C
// 25.9.2, 25.9.3).
#define VECTORING_VALID (1u << 31)

#define PAGE_MASK (~(uint64_t)(PAGE_SIZE - 1))

static const struct aspace_notifier_ops mirror_ops;

struct dune_vm *dune_vm_get(struct aspace *as, const struct vcpu_ops *ops)
{
	struct dune_vm *d = kzalloc(sizeof(*d));

	if (d == NULL)
		return NULL;
	if (vmx_vm_init(&d->vm, ops, d) < 0) {
		kfree(d);
		return NULL;
	}
	d->as = as;
	d->notifier.ops = &mirror_ops;
	struct aspace_notifier *n = aspace_notifier_register_once(as, &d->notifier);
	if (n != &d->notifier) {
		// Another thread made it first.
		vmx_vm_free(&d->vm);
		kfree(d);
		d = (struct dune_vm *)((char *)n - offsetof(struct dune_vm, notifier));
	}
	return d;
}

// Records this CPU in d->cpus: it may cache translations of d's EPT
// until an INVEPT here (mirror_release sends one to every such CPU).
void dune_vm_ran_here(struct dune_vm *d)
{
	// BEGIN LAB 7 SOLUTION: dune_migrate
	__atomic_fetch_or(&d->cpus, 1ul << this_cpu()->id, __ATOMIC_SEQ_CST);
	// STUB:
	// (void)d;
	// END LAB 7
}

// The EPT permissions of a page-table entry: none without user access
// (PTE_P and PTE_U); else read, write if PTE_W, execute unless PTE_NX.
static uint64_t ept_perm(pte_t e)
{
	// BEGIN LAB 7 SOLUTION: dune_ept_fill
	if (!(e & PTE_P) || !(e & PTE_U))
		return 0;
	return EPT_R | (e & PTE_W ? EPT_W : 0) | (e & PTE_NX ? 0 : EPT_X);
	// STUB:
	// (void)e;
	// return 0;
	// END LAB 7
}

// Maps guest-physical gpa (page-aligned) from the page table of host-
// virtual va if it allows the access, as->lock held. Returns true if it
// did; *present says whether the page exists for the process at all
// (ept_perm of its entry is not 0). The page tables' entry (pt_walk,
// without creating tables) gives the physical page (PTE_ADDR); a large
// page (PTE_PS) is not mirrored; a write (EPT_Q_WRITE) needs EPT_W, an
// instruction fetch (EPT_Q_FETCH) needs EPT_X.
static bool fill_locked(struct dune_vm *d, uint64_t va, uint64_t gpa, uint64_t q, bool *present)
{
	// BEGIN LAB 7 SOLUTION: dune_ept_fill
	pte_t *pte = pt_walk(d->as->pml4, va, false);
	pte_t e = pte != NULL ? *pte : 0;
	uint64_t perm = ept_perm(e);

	*present = perm != 0;
	if (perm == 0 || (e & PTE_PS) || ((q & EPT_Q_WRITE) && !(perm & EPT_W)) ||
	    ((q & EPT_Q_FETCH) && !(perm & EPT_X)))
		return false;
	return ept_map(&d->vm.ept, gpa, PTE_ADDR(e), PAGE_SIZE, perm) == 0;
	// STUB:
	// (void)d, (void)va, (void)gpa, (void)q, (void)ept_perm;
	// *present = false;
	// return false;
	// END LAB 7
}

// Fills the EPT entry of gpa from the page tables. Returns true if the
// guest may retry the access. gpa must be in one of the two windows
// (dune_pa_to_va); the page tables are read under the address space's
// lock. A write to a page that is there but read-only may be one to a
// copy-on-write page: aspace_fault breaks it as a native write fault
// would (it takes the lock itself), and the fill is tried once more.
static bool fill(struct dune_vm *d, uint64_t gpa, uint64_t q, bool *present)
{
	// BEGIN LAB 7 SOLUTION: dune_ept_fill
	uint64_t va = dune_pa_to_va(gpa);
	bool ok;

	*present = false;
	if (va == DUNE_NO_GPA)
		return false;
	aspace_lock(d->as);
	ok = fill_locked(d, va, gpa, q, present);
	aspace_unlock(d->as);
	if (ok || !*present || !(q & EPT_Q_WRITE))
		return ok;
	// A write to a copy-on-write page: the process gets its own copy,
	// as at a native write fault (the notifier drops the old entry).
	if (!aspace_fault(d->as, va, PF_PRESENT | PF_WRITE | PF_USER))
		return false;
	aspace_lock(d->as);
	ok = fill_locked(d, va, gpa, q, present);
	aspace_unlock(d->as);
	return ok;
	// STUB:
	// (void)d, (void)gpa, (void)q, (void)fill_locked;
	// *present = false;
	// return false;
	// END LAB 7
}

// An access to the registers of an emulated device: gpa is, as host-
// virtual address va, in an MMIO region of the process (mm/devmem.h),
// where nothing is mapped. It is emulated as for a native process
// (trap/mmio.h); guest-virtual addresses are host-virtual ones in Dune
// mode, so RIP finds the instruction in the process's memory. Returns
// false if va is in no region, or the instruction is not one to emulate.
static bool emulate_mmio(struct vcpu *v, uint64_t va, uint64_t q)
{
	struct dune_vm *d = v->vm->owner;
	struct vcpu_regs *g = &v->regs;
	struct mmio_region r;

	// Only the data access of the instruction at RIP is emulated: not a
	// walk of the guest's own page tables, nor an event's delivery.
	if ((q & (EPT_Q_LINEAR_VALID | EPT_Q_LINEAR_TRANSLATION)) !=
	    (EPT_Q_LINEAR_VALID | EPT_Q_LINEAR_TRANSLATION) ||
	    (vmcs_read32(IDT_VECTORING_INFO) & VECTORING_VALID))
		return false;
	if (va == DUNE_NO_GPA || (q & EPT_Q_FETCH) || !aspace_find_mmio(d->as, va, &r))
		return false;
	// In the decoder's numbering (trap/mmio.h); RSP is in the VMCS.
	uint64_t regs[16] = {
		g->rax, g->rcx, g->rdx, g->rbx, vmcs_readnat(GUEST_RSP), g->rbp, g->rsi, g->rdi,
		g->r8, g->r9, g->r10, g->r11, g->r12, g->r13, g->r14, g->r15,
	};
	uint64_t rip = vmcs_readnat(GUEST_RIP);
	int len = mmio_emulate(&r, va, q & EPT_Q_WRITE, rip, regs);
	if (len < 0)
		return false;
	*g = (struct vcpu_regs){
		.rax = regs[0], .rcx = regs[1], .rdx = regs[2], .rbx = regs[3], .rbp = regs[5],
		.rsi = regs[6], .rdi = regs[7], .r8 = regs[8], .r9 = regs[9], .r10 = regs[10],
		.r11 = regs[11], .r12 = regs[12], .r13 = regs[13], .r14 = regs[14], .r15 = regs[15],
		.cr2 = g->cr2,
	};
	vmcs_writenat(GUEST_RSP, regs[4]);
	vmcs_writenat(GUEST_RIP, rip + len);
	return true;
}

bool dune_ept_fault(struct vcpu *v, uint64_t gpa, uint64_t q)
{
	struct dune_vm *d = v->vm->owner;
	bool present;

	if (fill(d, gpa & PAGE_MASK, q, &present))
		return true;
	if (!present && emulate_mmio(v, dune_pa_to_va(gpa), q))
		return true;
	// BEGIN LAB 7 SOLUTION: dune_fault_reflect
	// A page fault for the thread, if the access was one the guest's own
	// page tables allowed and no event was being delivered; else the
	// core reports the violation and the run ends.
	if ((q & (EPT_Q_LINEAR_VALID | EPT_Q_LINEAR_TRANSLATION)) !=
	    (EPT_Q_LINEAR_VALID | EPT_Q_LINEAR_TRANSLATION) ||
	    (vmcs_read32(IDT_VECTORING_INFO) & VECTORING_VALID))
		return false;
	uint32_t cpl = (vmcs_read32(GUEST_SS_ACCESS_RIGHTS) >> 5) & 3;
	uint32_t error = (present ? PF_PRESENT : 0) | (q & EPT_Q_WRITE ? PF_WRITE : 0) |
			 (cpl == 3 ? PF_USER : 0) | (q & EPT_Q_FETCH ? PF_FETCH : 0);
	v->regs.cr2 = vmcs_readnat(GUEST_LINEAR_ADDRESS);
	vcpu_inject_exception(v, T_PAGE_FAULT, error);
	return true;
	// STUB:
	// printk("dune_ept_fault: LAB 7: no page fault given for guest-physical 0x%lx\n", gpa);
	// return false;
	// END LAB 7
}

// Narrows the EPT entries of host-virtual [va, va + len) to keep, in both
// windows, and makes every vCPU forget the old ones. The range may cover
// parts of both windows, or neither: each part that lies in a window is
// narrowed at its guest-physical address (ept_narrow_range); then one
// vm_flush_ept, which every vCPU of the VM sees before its next entry.
static void narrow(struct dune_vm *d, uint64_t va, uint64_t len, uint64_t keep)
{
	// BEGIN LAB 7 SOLUTION: dune_mirror
	uint64_t end = va + len;
	uint64_t lo = va, hi = end < DUNE_LOW_END ? end : DUNE_LOW_END;

	if (lo < hi)
		ept_narrow_range(&d->vm.ept, lo, hi - lo, keep);
	lo = va > DUNE_STACK_VA ? va : DUNE_STACK_VA;
	hi = end < DUNE_USER_TOP ? end : DUNE_USER_TOP;
	if (lo < hi)
		ept_narrow_range(&d->vm.ept, dune_va_to_pa(lo), hi - lo, keep);
	vm_flush_ept(&d->vm);
	// STUB:
	// (void)d, (void)va, (void)len, (void)keep;
	// END LAB 7
}

static struct dune_vm *of(struct aspace_notifier *n)
{
	return (struct dune_vm *)((char *)n - offsetof(struct dune_vm, notifier));
}

// The notifier (mm/aspace.h): [va, va + len) loses its pages.
static void mirror_unmap(struct aspace_notifier *n, uint64_t va, uint64_t len)
{
	// BEGIN LAB 7 SOLUTION: dune_mirror
	narrow(of(n), va, len, 0);
	// STUB:
	// (void)n, (void)va, (void)len;
	// END LAB 7
}

// [va, va + len) keeps its pages with the page-table permissions perm
// (PTE_U, PTE_W, PTE_NX bits; without PTE_P).
static void mirror_protect(struct aspace_notifier *n, uint64_t va, uint64_t len, uint64_t perm)
{
	// BEGIN LAB 7 SOLUTION: dune_mirror
	narrow(of(n), va, len, ept_perm(perm | PTE_P));
	// STUB:
	// (void)n, (void)va, (void)len, (void)perm;
	// END LAB 7
}

// The copy-on-write page at va (any address in it) is now private and
// writable: the physical page behind va may have changed.
static void mirror_cow_break(struct aspace_notifier *n, uint64_t va)
{
	// BEGIN LAB 7 SOLUTION: dune_mirror
	narrow(of(n), va & PAGE_MASK, PAGE_SIZE, 0);
	// STUB:
	// (void)n, (void)va, (void)narrow;
	// END LAB 7
}

static void invept_here(void *arg)
{
	ept_invalidate(arg);
}

// The address space is gone, and with it every thread and vCPU: no CPU
// that ran one may keep a translation of this EPT (a later one may get
// the same root page).
static void mirror_release(struct aspace_notifier *n)
{
	struct dune_vm *d = of(n);

	// BEGIN LAB 7 SOLUTION: dune_migrate
	ipi_call(__atomic_load_n(&d->cpus, __ATOMIC_SEQ_CST), invept_here, &d->vm.ept);
	// STUB:
	// (void)invept_here;
	// END LAB 7
	vmx_vm_free(&d->vm);
	kfree(d);
}

static const struct aspace_notifier_ops mirror_ops = {
	.unmap = mirror_unmap,
	.protect = mirror_protect,
	.cow_break = mirror_cow_break,
	.release = mirror_release,
};
