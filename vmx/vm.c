#include <stddef.h>

#include "vmx/vm.h"

static const struct vcpu_ops default_ops;

int vmx_vm_init(struct vm *vm, const struct vcpu_ops *ops, void *owner)
{
	vm->ops = ops != NULL ? ops : &default_ops;
	vm->owner = owner;
	return ept_create(&vm->ept);
}

void vm_flush_ept(struct vm *vm)
{
	// The count first: a vCPU that reads the old count has not passed
	// its check before entry, or did so before the EPT changed.
	__atomic_fetch_add(&vm->ept_flushes, 1, __ATOMIC_SEQ_CST);
	ept_invalidate(&vm->ept);
}

void vmx_vm_free(struct vm *vm)
{
	if (vm->ept.pml4 != NULL)
		ept_destroy(&vm->ept);
}
