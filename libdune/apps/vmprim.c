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

bool vmprim_in_dune(void)
{
	return dune_cpl() == 0;
}

void vmprim_protect(void *va, size_t len, bool writable)
{
	if (vmprim_in_dune())
		dune_vm_mprotect(pgroot, va, len, PERM_R | (writable ? PERM_W : 0));
	else
		mprotect(va, len, PROT_READ | (writable ? PROT_WRITE : 0));
}

void vmprim_region(volatile char *base, int pages, int next)
{
	region = base, region_pages = pages, next_to_protect = next;
}

static enum vmprim_fault action;

// What the handler does with a fault at addr; returns how far to move
// the faulting instruction pointer.
static uint64_t handle(uintptr_t addr)
{
	if (action == VMPRIM_SKIP)
		return STORE_LENGTH;
	vmprim_protect((void *)PGADDR(addr), PGSIZE, true);
	if (action == VMPRIM_UNPROTECT_NEXT) {
		vmprim_protect((void *)&region[next_to_protect * PGSIZE], PGSIZE, false);
		next_to_protect = (next_to_protect + 1) % region_pages;
	}
	return 0;
}

static void native_fault(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	ctx->rip += handle(info->addr);
}

static void dune_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
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
