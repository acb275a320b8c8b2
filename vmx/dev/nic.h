// The kernel side of the 82599 NIC: one per machine, a real one found on
// PCI (8086:10FB, one function per port) or, without one, the emulated
// model (vmx/dev/82599.h). A user-space driver (ix/drivers) reaches it
// through four system calls (lib/sysnum.h):
//
//   dma_alloc(len, &bus)   memory the NIC may read and write
//                          (syscall/sys_mem.c, mm/devmem.h)
//   nic_open(port, &info)  the port's registers (BAR 0) mapped into the
//                          caller at an address the kernel picks: trapped
//                          and emulated for the model (an MMIO region,
//                          mm/devmem.h), uncached for a real NIC
//   nic_wait(port, ticks)  sleeps until the port interrupts or ticks pass
//   nic_ctl(port, op, ...) the control plane: a request (NIC_CTL_MOVE: a
//                          flow group to another core) posted into a page
//                          of the owner's (nic_open gives its address),
//                          which the owner's dataplane carries out
//
// Ownership. Each port is a PCI function of its own (on a real 82599
// as on the model), owned by one process: the first to open it; another
// open of it gets -EBUSY until the owner's address space goes (exec, or
// exit once the process is reaped), which detaches that port only: the
// model's port is reset to its power-on state (a real NIC's is left as
// the driver left it), and the other port runs on. One process may own
// both ports, or two processes one each (a server on port 0, a load
// generator on port 1, joined by the model's internal wire). fork's
// child does not get the registers or the DMA memory (mm/devmem.h) and
// owns no port.
//
// DMA. The model reaches memory only through the DMA ranges of the
// port's owner (aspace_dma_range): a port's descriptors and buffers
// must be its owner's, and any other bus address stops the queue, as a
// DMA fault would. A real NIC reaches all memory (no IOMMU).
//
// Interrupts. For the model, a cause the driver unmasked (EIMS) wakes
// the port's nic_wait, which takes the causes as an EICR read would
// (i82599_take_causes) and returns them. For a real NIC, any vector of
// the port's MSI-X table (all send the same message) wakes it and
// nic_wait returns bit 0 (the driver reads EICR itself). The real NIC's path is not tested: the emulators have
// no 82599.
//
// Locking. nic.lock serializes every call into the model (MMIO from
// several threads and CPUs, the model's DMA and interrupts) and guards
// the ports' owners. It is taken with no other lock held
// but the model's leaf locks (an address space's dma_lock); sleep takes
// proc_lock under it, and wakeups are made after it is released.

#ifndef VMX_DEV_NIC_H
#define VMX_DEV_NIC_H

#include <stdbool.h>
#include <stdint.h>

// Finds a real 82599 or makes the model (STAGE_SMP: PCI needs it).
void nic_init(void);

// Joins port 0 of the model to the host's e1000 (nic.c says how), for
// as long as the machine runs: outside clients reach a driver of port 0
// through the emulator's network. Returns 0, -ENODEV (no model: a real
// 82599 has its own wire), -EBUSY (a process owns a port), or
// e1000_init's error (-ENODEV: no e1000).
int nic_bridge(void);
// Frames the model sent where no wire is (port 1 while bridged) or the
// e1000 refused.
uint64_t nic_unplugged(void);

// The emulated registers' accesses of port `index` since its present or
// last owner opened it (the model only): reads, writes, and the
// writes that moved a receive or transmit tail (RDT, TDT), which a
// driver that batches makes once per burst. For the tests (lab9.ixgbe).
struct nic_counts {
	uint64_t reads, writes;
	uint64_t rdt_writes, tdt_writes;
};
void nic_counts(int index, struct nic_counts *c);

// Whether the receiver of the model's port `index` is on (RXCTRL.RXEN):
// its owner's driver is up, and frames sent to it are not lost. For the
// tests that start a server and then its client (lab10.load); false for
// a real NIC.
bool nic_receiving(int index);

// The control plane: posts request op (lib/sysnum.h's NIC_CTL_*) with
// arg0 and arg1 into the control page of port index's owner (struct
// nic_ctl), which carries it out in its loop. Returns 0, -EINVAL (no such
// port), -ENOENT (no owner), or -EBUSY (the last request is not carried
// out yet). sys_nic_ctl is the same for a process.
int nic_ctl(int index, uint32_t op, uint32_t arg0, uint32_t arg1);
// The result of the last request to port index's owner: 1 while it is
// posted, else what the owner said (0, or a negative error); -ENOENT
// with no owner.
int nic_ctl_result(int index);

// sys_nic_open, sys_nic_wait and sys_nic_ctl are declared in syscall/syscall.h.
// nic_open's errors: -EINVAL (port not 0 or 1), -EFAULT (info not
// writable), -EBUSY (a process, the caller or another, owns the port),
// -ENODEV (no NIC: nic_init failed), -ENOMEM. nic_wait's: -EINVAL (port),
// -EPERM (the caller has not opened the port), -EINTR (killed).

#endif
