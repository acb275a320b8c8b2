// An lwIP network interface on one queue of an ixgbe port (ix/drivers):
// the glue between the driver's batches of packet buffers and lwIP's
// pbufs, for a run-to-completion loop.
//
// Receiving is zero-copy: ixgbe_netif_poll takes a burst from the queue
// and gives lwIP each frame in the buffer the NIC wrote it into, wrapped
// in a custom pbuf; when lwIP frees the pbuf (at once, or later for a
// segment it queued out of order), the buffer goes back to the pool.
// Sending copies once: lwIP's frames are pbuf chains (its headers, and
// data in its memory or, sent by reference, the application's), each
// copied into a buffer of the queue's pool and batched; the batch goes
// to the NIC with one tail write at ixgbe_netif_flush (or when it is
// full), so a loop iteration costs one doorbell, however many segments
// it sent.
//
// One thread uses an interface and its queue (the driver's rule).

#ifndef IX_NET_IXGBE_NETIF_H
#define IX_NET_IXGBE_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include <lwip/netif.h>

#include "ix/drivers/ixgbe.h"

#define IXGBE_NETIF_BATCH IXGBE_TX_RS_THRESH    // frames sent with one tail write
#define IXGBE_NETIF_RX_BURST 64                 // frames a poll takes at most (IX's batch)

struct ixgbe_netif;

// A frame lwIP holds: a custom pbuf and the driver's buffer under it.
struct ixgbe_rx_pbuf {
	struct pbuf_custom custom;      // first: lwIP's pbuf is this struct
	struct pktbuf *buf;
	struct ixgbe_netif *ifc;        // whose rx_free gives buf back
};

struct ixgbe_netif_stats {
	uint64_t rx_frames;             // frames handed to lwIP
	uint64_t rx_refused;            // frames lwIP's input refused (ERR_MEM...)
	uint64_t tx_frames;             // frames queued to the NIC
	uint64_t tx_no_buffer;          // frames dropped: the pool had no free buffer
	uint64_t tx_ring_full;          // frames dropped: the ring had no room
	uint64_t tx_bursts;             // tail writes
	uint32_t rx_most;               // frames of the largest poll
};

struct ixgbe_netif {
	struct netif netif;             // lwIP's interface; its state points here
	struct ixgbe_dev *dev;
	int queue;
	// One record per buffer of the port's pools, by the buffer's queue
	// and index: the pbuf that wraps it while lwIP has it.
	struct ixgbe_rx_pbuf *rx_pbufs;
	// Gives back a received buffer lwIP is done with: pktbuf_free, or
	// the IX dataplane's, whose flow groups move between cores with the
	// buffers they hold (ix/dp/fg.h).
	void (*rx_free)(struct pktbuf *b);
	struct pktbuf *tx_batch[IXGBE_NETIF_BATCH];
	uint16_t tx_lens[IXGBE_NETIF_BATCH];
	int tx_count;                   // frames in tx_batch
	struct ixgbe_netif_stats stats;
};

// Adds queue q of dev (brought up by ixgbe_init) to lwIP as an Ethernet
// interface with the port's MAC address, an MTU of 1500, the address
// ip/netmask and gateway gw, up, and the default interface. Returns
// ERR_OK, or an error after a line that says what failed.
err_t ixgbe_netif_add(struct ixgbe_netif *ifc, struct ixgbe_dev *dev, int q,
		      const ip4_addr_t *ip, const ip4_addr_t *netmask, const ip4_addr_t *gw);

// What a one-queue server or client does first: brings up port (0 or
// 1) of the 82599 with one queue of ring descriptors (ixgbe_init), lwIP
// (lwip_init) and ifc on that queue with address ip/24 and no gateway.
// Returns whether all went well; a line says what did not.
bool ixgbe_netif_start(struct ixgbe_netif *ifc, struct ixgbe_dev *dev, int port, uint32_t ring,
		       const ip4_addr_t *ip);

// Gives lwIP the frame in b, a buffer received on the interface's queue
// (now the interface's: it goes back to its pool when lwIP is done).
void ixgbe_netif_input(struct ixgbe_netif *ifc, struct pktbuf *b);

// Receives up to max frames (at most IXGBE_NETIF_RX_BURST) and gives
// each to lwIP, which may answer into the batch. Returns how many.
int ixgbe_netif_poll(struct ixgbe_netif *ifc, int max);

// The driver's buffer under p, a pbuf ixgbe_netif_poll made (or what
// lwIP kept of one: its payload still lies in the buffer); NULL if p is
// another pbuf.
struct pktbuf *ixgbe_netif_rx_buf(const struct pbuf *p);

// batch_limit.c (no lwIP in it): a server's option -b LIMIT, the batch
// limit of its loop: the frames one poll takes at most, 1 to
// IXGBE_NETIF_RX_BURST. If argv[1] is -b, sets *limit, takes the option
// out of argc and argv (the program's name stays first) and returns
// true; returns true, changing nothing, without it; false after a line
// that says what is wrong with it.
bool ixgbe_netif_take_batch_limit(int *argc, char ***argv, int *limit);

// Sends what is queued, then sends from queue q of the port from now on
// (the caller runs q: the driver's rule).
void ixgbe_netif_set_queue(struct ixgbe_netif *ifc, int q);

// Sends the frames lwIP queued since the last flush: one tail write.
// Frames the ring has no room for are dropped (and counted).
void ixgbe_netif_flush(struct ixgbe_netif *ifc);

// Reads the port's link state (one register read) into lwIP's link
// flag, without which lwIP sends nothing; returns whether it is up.
bool ixgbe_netif_check_link(struct ixgbe_netif *ifc);

#endif
