// The driver of the Intel 82540EM ("e1000"), the NIC that QEMU and Bochs
// emulate (registers: net/e1000_regs.h).
//
// Receiving is split in two. The top half, at the interrupt, reads (and so
// clears) the interrupt causes, remembers them and masks the NIC's
// interrupts. The bottom half, e1000_poll(), runs in the kernel's own loop
// (never at the interrupt): it hands every received frame to the receiver
// in ring order, gives the descriptors back with one tail write, reclaims
// sent descriptors, notes link changes, and only then unmasks the
// interrupts. A frame that arrives meanwhile sets a cause that interrupts
// again at the unmask, and the bottom half always empties the ring up to
// the first descriptor the NIC has not written: no frame is left behind.
// When the ring is full the NIC itself drops the frame and counts it
// (MPC, 8254x SDM 13.7.5), which e1000_stats() reports.

#ifndef KERNEL_NET_E1000_H
#define KERNEL_NET_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define E1000_RX_RING 32        // descriptors (RDLEN: a multiple of 8, 3.2.6)
#define E1000_TX_RING 32
#define E1000_BUF_SIZE 2048     // one buffer per descriptor: RCTL.BSIZE 2048
#define ETH_ADDR_LEN 6

struct e1000_stats {
	// Kept by the driver.
	uint64_t rx_frames;     // handed to the receiver
	uint64_t rx_errors;     // dropped: a frame error, or a frame in several buffers
	uint64_t tx_frames;     // sent (descriptor written back)
	uint64_t tx_ring_full;  // refused by e1000_transmit: no free descriptor
	uint64_t interrupts;    // top halves that found a cause
	uint64_t polls;         // bottom halves run
	// The NIC's statistics registers (8254x SDM 13.7), summed.
	uint64_t missed;        // MPC: dropped for want of a free descriptor
	uint64_t no_buffers;    // RNBC: times the ring had no free descriptor
	uint64_t good_rx;       // GPRC
	uint64_t good_tx;       // GPTC
	uint64_t crc_errors;    // CRCERRS
};

// Once: finds the first 82540EM on PCI (pci_init must have run), resets it,
// reads its MAC address, sets up both rings and its interrupt, turns the
// receiver and transmitter on and waits up to a second for the link.
// Frames received go to receiver(frame, length) from e1000_poll. Returns
// 0, -ENODEV if there is no such NIC, -ENOMEM, or -ETIMEDOUT if the NIC
// does not come out of reset.
int e1000_init(void (*receiver)(const void *frame, size_t len));

// The MAC address, and where it came from ("the EEPROM" or "RAL/RAH").
const uint8_t *e1000_mac(void);
const char *e1000_mac_source(void);
// How the NIC interrupts ("MSI", "INTx", ...) and on which vector.
const char *e1000_irq_kind(void);
int e1000_vector(void);
// STATUS: link up, its speed in Mb/s and duplex.
bool e1000_link(int *mbps, bool *full_duplex);

// Queues one frame (without its CRC, which the NIC appends) for sending.
// Returns 0, -EINVAL if it is longer than a buffer, or -ENOSPC if the
// ring is full (counted in tx_ring_full).
int e1000_transmit(const void *frame, size_t len);

// Whether the top half has left work for the bottom half.
bool e1000_work_pending(void);
// The bottom half (see above). Returns the frames handed to the receiver.
int e1000_poll(void);

// While held, the bottom half leaves received frames in the ring (which
// fills, so that the NIC drops and counts what comes next): for tests.
void e1000_hold_rx(bool hold);

// How many received frames wait in the ring for the bottom half.
int e1000_rx_waiting(void);

// Reads the statistics registers (clearing them) into the running sums
// and copies the whole set to *out.
void e1000_stats(struct e1000_stats *out);

#endif
