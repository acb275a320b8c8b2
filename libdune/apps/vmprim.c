// The Appel-Li virtual-memory primitives natively and in Dune mode
// (libdune/apps/vmprim.h).

#include "libdune/apps/vmprim.h"
#include "libdune/dune.h"
#include "ulib.h"

#define STORE_LENGTH 3  // movq %rax, (%rdi): REX.W 89 /r

asm(".text\n"
    ".globl write_and_skip\n"
    "write_and_skip:\n"
    "	movq %rax, (%rdi)\n"
    "	ret\n");

static volatile char *region;
static int region_pages, next_to_protect;
uint64_t vmprim_faults;

bool vmprim_in_dune(void)
{
	return dune_cpl() == 0;
}

// In Dune mode the process's own page tables (pgroot), ring 0 only;
// natively the kernel's (mprotect).
void vmprim_protect(void *va, size_t len, bool writable)
{
	// BEGIN LAB 8 SOLUTION: appel_li
	if (vmprim_in_dune())
		dune_vm_mprotect(pgroot, va, len, PERM_R | (writable ? PERM_W : 0));
	else
		mprotect(va, len, PROT_READ | (writable ? PROT_WRITE : 0));
	// STUB:
	// (void)va, (void)len, (void)writable;
	// printf("vmprim: LAB 8: vmprim_protect is not written\n");
	// exit(1);
	// END LAB 8
}

void vmprim_region(volatile char *base, int pages, int next)
{
	region = base, region_pages = pages, next_to_protect = next;
}

static enum vmprim_fault action;

// What the handler does with a write fault at addr, by action
// (vmprim.h): returns how far to move the faulting instruction pointer
// (the length of write_and_skip's store, to step over it; 0 to retry the
// write).
static uint64_t handle(uintptr_t addr)
{
	// BEGIN LAB 8 SOLUTION: appel_li
	if (action == VMPRIM_SKIP)
		return STORE_LENGTH;
	vmprim_protect((void *)PGADDR(addr), PGSIZE, true);
	if (action == VMPRIM_UNPROTECT_NEXT) {
		vmprim_protect((void *)&region[next_to_protect * PGSIZE], PGSIZE, false);
		next_to_protect = (next_to_protect + 1) % region_pages;
	}
	return 0;
	// STUB:
	// (void)action, (void)region, (void)region_pages, (void)next_to_protect;
	// printf("vmprim: LAB 8: no handler for the fault at 0x%lx\n", addr);
	// exit(1);
	// END LAB 8
}

static void native_fault(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	vmprim_faults++;
	ctx->rip += handle(info->addr);
}

static void dune_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	vmprim_faults++;
	tf->rip += handle(addr);
}

void vmprim_on_fault(enum vmprim_fault what)
{
	action = what;
	if (vmprim_in_dune())
		dune_register_pgflt_handler(what == VMPRIM_DEFAULT ? NULL : dune_fault);
	else
		sigaction(SIGSEGV, what == VMPRIM_DEFAULT ? SIG_DFL : native_fault);
}
