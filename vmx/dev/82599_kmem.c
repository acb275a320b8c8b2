// The emulated 82599's memory in the kernel (vmx/dev/82599.h): the model
// includes no kernel header and asks its environment for memory through
// these two functions; the host test defines them with calloc and free.

#include "mm/kmalloc.h"
#include "vmx/dev/82599.h"

void *i82599_zalloc(size_t size)
{
	return kzalloc(size);
}

void i82599_free(void *ptr)
{
	kfree(ptr);
}
