// The dataplane's neighbours: ARP (RFC 826) answered and asked for every
// flow group's instance, and the table of the addresses learned, one for
// the whole process (written rarely, under a lock; read by every core).
// Addresses are numbers in host order (10.0.2.15 is 0x0A00020F).

#ifndef IX_DP_NEIGH_H
#define IX_DP_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include "ix/drivers/ixgbe.h"

#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_IPV4 0x0800

struct neigh_stats {
	uint64_t received;      // ARP frames
	uint64_t sent;          // ARP frames: replies and requests
};

// Our own address and MAC, which requests ask for and replies give.
void neigh_init(uint32_t ip, const uint8_t mac[6]);

// An ARP frame b received on queue q of dev: learns its sender, and a
// request for our address is answered in b itself, sent on queue q.
// b is the neighbour code's from then on.
void neigh_input(struct ixgbe_dev *dev, int q, struct pktbuf *b);

// Whether ip's MAC is known: if so, copies it into mac; if not, asks
// (a request on queue q of dev, at most one every NEIGH_ASK_MS for an
// address).
bool neigh_resolve(struct ixgbe_dev *dev, int q, uint32_t ip, uint8_t mac[6]);

// The counters, of all cores.
struct neigh_stats neigh_stats(void);

#endif
