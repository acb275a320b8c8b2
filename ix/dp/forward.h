// What one core hands another once a flow group has moved (fg.h): the
// frames of the flow group still arriving on the old core's queue, and
// the application's commands for its connections issued on the old
// core. One ring for each pair of cores (single producer, single
// consumer, no lock), in order: the frames and commands of one core to
// another arrive as they were sent.

#ifndef IX_DP_FORWARD_H
#define IX_DP_FORWARD_H

#include <stdbool.h>
#include <stdint.h>

#include "ix/drivers/pktbuf.h"
#include "ix/libix/abi.h"

#define FWD_RING 512            // items a ring holds (a power of two)

struct fwd_item {
	struct pktbuf *frame;   // a frame, or NULL: cmd
	struct ix_cmd cmd;
};

// Free-running indices, masked by FWD_RING - 1: tail - head items wait.
struct fwd_ring {
	struct fwd_item items[FWD_RING];
	uint32_t head;          // the consumer's
	uint32_t tail;          // the producer's
};

// The producer: appends *item; false if the ring is full.
bool fwd_put(struct fwd_ring *r, const struct fwd_item *item);
// The consumer: takes the oldest item into *item; false if there is none.
bool fwd_get(struct fwd_ring *r, struct fwd_item *item);

#endif
