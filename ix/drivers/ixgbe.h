// The ixgbe driver: the Intel 82599 10 GbE controller (ix/hw/ixgbe_hw.h),
// real or emulated (vmx/dev), from user space. The kernel maps the
// port's registers into the process and gives it DMA memory
// (lib/sysnum.h: SYS_nic_open, SYS_dma_alloc); the driver does the rest.
//
// Each queue pair q has a receive ring, a transmit ring and a pool of
// packet buffers (pktbuf.h), used by one thread: rx_burst and tx_burst
// take no lock. Receiving and sending are batched and zero-copy: a burst
// moves the ring's tail register once, and the buffers themselves pass
// between the NIC, the driver and the caller.
//
// Reading order: ixgbe_init (the datasheet's 4.6.3 sequence, one step a
// function), then ixgbe_rx_refill and ixgbe_rx_burst, then ixgbe_tx_burst
// and ixgbe_tx_reclaim.

#ifndef IX_DRIVERS_IXGBE_H
#define IX_DRIVERS_IXGBE_H

#include <stdbool.h>
#include <stdint.h>

#include "ix/drivers/pktbuf.h"
#include "ix/hw/ixgbe_hw.h"

#define IXGBE_RING_MIN 64               // 2 * IXGBE_TX_RS_THRESH: see ixgbe_tx_reclaim
#define IXGBE_RING_MAX 4096
#define IXGBE_FRAME_MAX 1514            // bytes a frame to send may have (the NIC adds the CRC)

// The NIC reports a sent descriptor (writes DD back) only if it has RS;
// tx_burst sets RS on every IXGBE_TX_RS_THRESH-th descriptor, as DPDK's
// tx_rs_thresh, so the NIC writes back 32 times less and the driver
// reclaims 32 buffers per look.
#define IXGBE_TX_RS_THRESH 32

// A receive ring. Indices run free (uint32_t, masked by ring_size - 1):
// the NIC owns slots [next, tail), which hold buffers; slots [tail,
// next + ring_size) are empty. tail - next <= ring_size - 1: RDT never
// reaches RDH (a ring whose head equals its tail is empty to the NIC).
struct ixgbe_rxq {
	volatile union ixgbe_adv_rx_desc *ring;
	uint64_t ring_bus;
	struct pktbuf **bufs;           // the buffer in each slot
	uint32_t next;                  // the next slot the NIC fills
	uint32_t tail;                  // what RDT says
	bool discarding;                // inside a frame spread over buffers: see ixgbe_rx_burst
};

// A transmit ring. Slots [clean, tail) hold frames handed to the NIC
// whose buffers are not yet back in the pool; tail - clean <=
// ring_size - 1 (TDT never reaches TDH from behind). clean advances by
// whole groups of IXGBE_TX_RS_THRESH.
struct ixgbe_txq {
	volatile union ixgbe_adv_tx_desc *ring;
	uint64_t ring_bus;
	struct pktbuf **bufs;           // the frame in each slot
	uint32_t tail;                  // what TDT says: the next slot to fill
	uint32_t clean;                 // the first slot not yet reclaimed
};

struct ixgbe_queue {
	struct ixgbe_rxq rx;
	struct ixgbe_txq tx;
	struct pktbuf_pool pool;        // 3 * ring_size: both rings and a burst in hand
};

// Counters: the NIC's read-to-clear ones (8.2.3.23), accumulated, and
// the driver's own.
struct ixgbe_stats {
	uint64_t rx_packets, rx_bytes;  // GPRC, GORC: good frames received
	uint64_t tx_packets, tx_bytes;  // GPTC, GOTC
	uint64_t rx_missed;             // MPC: the packet buffer had no room
	uint64_t crc_errors;            // CRCERRS
	uint64_t queue_rx[IXGBE_MAX_QUEUES];    // QPRC
	uint64_t queue_tx[IXGBE_MAX_QUEUES];    // QPTC
	uint64_t queue_drop[IXGBE_MAX_QUEUES];  // QPRDC: the ring had no free descriptor
	uint64_t rx_no_buffer;          // driver: a refill found its pool empty
	uint64_t rx_split;              // driver: frames in more than one buffer, dropped
};

struct ixgbe_dev {
	int port;
	volatile uint8_t *regs;         // BAR 0, mapped by SYS_nic_open
	uint8_t mac[6];                 // from RAL(0)/RAH(0), which the EEPROM filled
	int nqueues;
	uint32_t ring_size;             // descriptors per ring, a power of two
	bool link_up;
	uint32_t link_mbps;
	bool emulated;                  // vmx/dev's model (for messages)
	struct nic_ctl *ctl;            // the control plane's requests (lib/sysnum.h)
	struct ixgbe_queue queues[IXGBE_MAX_QUEUES];
	struct ixgbe_stats stats;       // accumulated by ixgbe_stats
};

// Register access: one 32-bit MOV each. The registers of the emulated
// NIC trap into the kernel, which decodes only MOV forms (trap/mmio.h);
// a plain volatile access could be folded into another instruction
// (TEST, OR to memory) by the compiler, so these use MOV explicitly.
static inline uint32_t ixgbe_read(const struct ixgbe_dev *dev, uint32_t reg)
{
	uint32_t v;

	asm volatile("movl %1, %0" : "=r"(v) : "m"(*(volatile uint32_t *)(dev->regs + reg)));
	return v;
}

static inline void ixgbe_write(struct ixgbe_dev *dev, uint32_t reg, uint32_t v)
{
	asm volatile("movl %1, %0" : "=m"(*(volatile uint32_t *)(dev->regs + reg)) : "r"(v)
		     : "memory");
}

// The key RSSRK holds: Microsoft's RSS verification key, which the
// datasheet's examples (7.1.2.8.1) and most drivers use.
extern const uint8_t ixgbe_rss_key[IXGBE_RSS_KEY_SIZE];

// Brings port up with nqueues queue pairs (1..IXGBE_MAX_QUEUES) of
// ring_size descriptors (a power of two, IXGBE_RING_MIN..IXGBE_RING_MAX),
// RSS spreading received flows over the queues, and queue q's
// interrupts on MSI-X vector q. dev must be zeroed before its first
// init; calling again resets the NIC and starts over with the same
// memory (same port, queues and ring size), every buffer free: the
// caller must hold none. Returns 0, or a negative error after a line
// that says which step failed and why.
int ixgbe_init(struct ixgbe_dev *dev, int port, int nqueues, uint32_t ring_size);

// Receives up to max frames from queue q into bufs: each a buffer of the
// queue's pool, with len, rss_hash and rss_type set, now the caller's
// (give it back with pktbuf_free, or send it). Returns how many.
int ixgbe_rx_burst(struct ixgbe_dev *dev, int q, struct pktbuf *bufs[], int max);

// Sends frames[i], lens[i] bytes, i < n, on queue q. The buffers are the
// NIC's from then on and go back to their pools once sent, in groups of
// IXGBE_TX_RS_THRESH (the last frames of a burst wait for the next
// bursts to fill their group). Returns how many were queued, from the
// first: fewer than n when the ring is full (or a length is out of
// range, with a message); the caller keeps the rest.
int ixgbe_tx_burst(struct ixgbe_dev *dev, int q, struct pktbuf *const frames[],
		   const uint16_t lens[], int n);

// A free buffer of queue q's pool for a frame to send, or NULL.
struct pktbuf *ixgbe_alloc(struct ixgbe_dev *dev, int q);

// Sends the frames whose RSS hash picks RETA entry `entry` (0 to 127)
// to queue q from now on (7.1.2.8.1; one register read and write).
void ixgbe_reta_set(struct ixgbe_dev *dev, int entry, int q);

// Adds the NIC's counters (read-to-clear) to dev->stats and copies the
// totals to *stats.
void ixgbe_stats(struct ixgbe_dev *dev, struct ixgbe_stats *stats);

// Reads LINKS: whether the link is up (and its speed into dev).
bool ixgbe_link(struct ixgbe_dev *dev);

// Queues the NIC stopped (RXDCTL or TXDCTL ENABLE cleared, as after a
// DMA fault): prints a line for each, returns how many.
int ixgbe_stopped_queues(struct ixgbe_dev *dev);

// Sleeps until one of the port's enabled causes (EICR bits: bit q for
// queue q) or ticks pass. Returns the causes (0: none), or an error.
int64_t ixgbe_wait(struct ixgbe_dev *dev, uint64_t ticks);

#endif
