// The rings between cores (forward.h). The producer writes an item, then
// publishes it by its tail (release); the consumer reads the tail
// (acquire), then the item, then frees its slot by its head (release),
// which the producer reads (acquire) before it reuses the slot.

#include "ix/dp/forward.h"

bool fwd_put(struct fwd_ring *r, const struct fwd_item *item)
{
	uint32_t tail = r->tail;

	if (tail - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == FWD_RING)
		return false;
	r->items[tail & (FWD_RING - 1)] = *item;
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

bool fwd_get(struct fwd_ring *r, struct fwd_item *item)
{
	uint32_t head = r->head;

	if (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == head)
		return false;
	*item = r->items[head & (FWD_RING - 1)];
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return true;
}
