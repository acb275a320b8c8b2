// Packet buffer pools (pktbuf.h).

#include "ix/drivers/pktbuf.h"

#include "ulib.h"

// Buffers are taken from DMA regions of this many: each region is
// physically contiguous, so a buffer's bus address is the region's
// plus its offset; small regions ask the kernel for less contiguous
// memory at a time.
#define PKTBUF_REGION_BUFS 64

int pktbuf_pool_init(struct pktbuf_pool *pool, uint32_t nbufs)
{
	pool->bufs = malloc(nbufs * sizeof(*pool->bufs));
	pool->free = malloc(nbufs * sizeof(*pool->free));
	if (pool->bufs == NULL || pool->free == NULL) {
		printf("pktbuf_pool_init: no memory for %u buffer records\n", nbufs);
		return -ENOMEM;
	}
	pool->nbufs = nbufs;
	for (uint32_t first = 0; first < nbufs; first += PKTBUF_REGION_BUFS) {
		uint32_t n = nbufs - first;
		if (n > PKTBUF_REGION_BUFS)
			n = PKTBUF_REGION_BUFS;
		uint64_t bus;
		int64_t region = dma_alloc(n * PKTBUF_SIZE, &bus);
		if (region < 0) {
			printf("pktbuf_pool_init: dma_alloc of %u bytes (%u buffers of %u): %s\n",
			       n * PKTBUF_SIZE, n, nbufs, strerror(region));
			return region;
		}
		for (uint32_t i = 0; i < n; i++) {
			struct pktbuf *b = &pool->bufs[first + i];
			b->data = (uint8_t *)region + i * PKTBUF_SIZE;
			b->bus = bus + i * PKTBUF_SIZE;
			b->pool = pool;
		}
	}
	pktbuf_pool_reset(pool);
	return 0;
}

void pktbuf_pool_reset(struct pktbuf_pool *pool)
{
	for (uint32_t i = 0; i < pool->nbufs; i++) {
		pool->free[i] = &pool->bufs[i];
		pool->bufs[i].is_free = true;
	}
	pool->nfree = pool->nbufs;
}

struct pktbuf *pktbuf_alloc(struct pktbuf_pool *pool)
{
	if (pool->nfree == 0)
		return NULL;
	struct pktbuf *b = pool->free[--pool->nfree];
	b->is_free = false;
	b->len = 0;
	return b;
}

void pktbuf_free(struct pktbuf *b)
{
	struct pktbuf_pool *pool = b->pool;

	if (b->is_free) {
		printf("pktbuf_free: buffer %ld of %u freed twice\n", (long)(b - pool->bufs),
		       pool->nbufs);
		return;
	}
	b->is_free = true;
	pool->free[pool->nfree++] = b;
}
