// The system calls a user-space driver reaches the NIC with
// (lib/sysnum.h: SYS_dma_alloc, SYS_nic_open, SYS_nic_wait), until the
// user library has their wrappers.

#ifndef IX_DRIVERS_NICSYS_H
#define IX_DRIVERS_NICSYS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/sysnum.h"

int64_t dma_alloc(size_t len, uint64_t *bus);
int nic_open(int port, struct nic_info *info);
int64_t nic_wait(int port, uint64_t ticks);

#endif
