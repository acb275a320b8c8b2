// Packet buffers: 2 KiB of DMA memory each, taken from and given back to
// a pool. A buffer is what the driver and its caller pass between them,
// never a copy: a received frame is the buffer the NIC wrote it into, a
// frame to send is a buffer the caller filled (IX's mbufs, DPDK's
// rte_mbuf). The 82599 reads and writes the data at the buffer's bus
// address; the program reads and writes it at data.
//
// A pool belongs to one queue and is used by one thread at a time: it
// has no lock (IX's rule: one queue per core, nothing shared).

#ifndef IX_DRIVERS_PKTBUF_H
#define IX_DRIVERS_PKTBUF_H

#include <stdbool.h>
#include <stdint.h>

#define PKTBUF_SIZE 2048        // the receive buffer size SRRCTL.BSIZEPACKET names

struct pktbuf_pool;

struct pktbuf {
	uint8_t *data;                  // PKTBUF_SIZE bytes in DMA memory
	uint64_t bus;                   // the address the NIC uses for data
	uint16_t len;                   // bytes of the frame in data
	uint8_t rss_type;               // received: IXGBE_RXD_RSSTYPE_*
	uint32_t rss_hash;              // received: the NIC's Toeplitz hash
	struct pktbuf_pool *pool;       // where pktbuf_free returns it
	bool is_free;                   // on the pool's free stack
	struct pktbuf *next;            // a list its holder keeps it on (not the pool's)
};

struct pktbuf_pool {
	struct pktbuf *bufs;            // all of them, nbufs
	struct pktbuf **free;           // a stack of the nfree free ones
	uint32_t nbufs;
	uint32_t nfree;
};

// Makes pool's nbufs buffers, all free, in DMA memory (SYS_dma_alloc).
// Returns 0, or dma_alloc's error or -ENOMEM after a line that says how
// much was asked.
int pktbuf_pool_init(struct pktbuf_pool *pool, uint32_t nbufs);
// Makes every buffer of pool free again (a re-initialized NIC owns none
// of them, and the caller must hold none).
void pktbuf_pool_reset(struct pktbuf_pool *pool);

// A free buffer of pool (len 0), or NULL if there is none.
struct pktbuf *pktbuf_alloc(struct pktbuf_pool *pool);
// Gives b back to its pool; a buffer already free is left there, with
// a line that says so (a caller's bug: two owners thought it theirs).
void pktbuf_free(struct pktbuf *b);

#endif
