#include "ix/drivers/nicsys.h"

#include "ulib.h"

int64_t dma_alloc(size_t len, uint64_t *bus)
{
	return syscall3(SYS_dma_alloc, len, (uint64_t)bus, 0);
}

int nic_open(int port, struct nic_info *info)
{
	return (int)syscall3(SYS_nic_open, (uint64_t)port, (uint64_t)info, 0);
}

int64_t nic_wait(int port, uint64_t ticks)
{
	return syscall3(SYS_nic_wait, (uint64_t)port, ticks, 0);
}
