// Flow groups (IX's unit of TCP state and of its placement on cores):
// the 82599 sends a received frame to queue RETA[hash & 127]
// (82599 datasheet 7.1.2.8.1), and the dataplane gives it to flow group
// (hash & 127) % FG_COUNT, which owns the RETA entries i with
// i % FG_COUNT == fg. Every connection of a flow group lives in its own
// lwIP instance: lwIP, the connections (tcp.c), the interface glue
// (ix/net) and the timer wheel linked into one object and copied
// FG_COUNT times, each copy with its statics made local and one global
// left, fg_ops_N (ix/Makefrag). So a flow group's state is explicit
// (a copy of the statics, no hidden global) and one core runs it
// without a lock.
//
// A flow group moves between cores at the control plane's request
// (main.c): its instance, with every connection and buffer it holds, is
// run by the new core from then on, its RETA entries send its frames
// there, and the old core forwards what still comes to it
// (forward.h).
//
// An instance talks IP only: the dataplane answers ARP and keeps the
// neighbour table for all of them (neigh.h), and an instance's
// interface looks its next hop up there to add the Ethernet header.

#ifndef IX_DP_FG_H
#define IX_DP_FG_H

#include <stdbool.h>
#include <stdint.h>

#include "ix/dp/dp.h"
#include "ix/net/ixgbe_netif.h"

#define FG_COUNT 16
#define FG_RETA_ENTRIES 128     // the 82599's RETA (7.1.2.8.1): 7 bits of the hash

// A handle names its flow group (bits 16-23) and the connection's slot
// in the instance (bits 0-15, from 1), its generation above (bits 32-63).
#define FG_HANDLE_SHIFT 16

static inline int fg_of_handle(uint64_t handle)
{
	return (int)(handle >> FG_HANDLE_SHIFT & 0xFF);
}

static inline int fg_of_hash(uint32_t rss_hash)
{
	return (int)(rss_hash % FG_RETA_ENTRIES % FG_COUNT);
}

// One instance's entry points.
struct fg_ops {
	// Starts the instance as flow group fg: lwIP, its interface on
	// queue q of dev with address ip (host order)/24, listening on
	// port. Returns whether all went well; a line says what did not.
	bool (*start)(int fg, struct ixgbe_dev *dev, int q, uint32_t ip, uint16_t port);
	// Gives lwIP a received frame of the flow group (now the instance's).
	void (*input)(struct pktbuf *b);
	// Runs a command whose handle names this flow group (dp_tcp_command).
	void (*command)(const struct ix_cmd *cmd, struct dp_out *out);
	// Runs an IX_CMD_CONNECT from local port local_port, which the
	// dataplane chose so that the replies land in this flow group.
	void (*connect)(const struct ix_cmd *cmd, uint16_t local_port, struct dp_out *out);
	// Runs lwIP's due timers (and sends the packets that waited for a
	// neighbour the dataplane has learned since).
	void (*timers)(void);
	// Reports what lwIP told of the connections as events in out
	// (dp_tcp_report).
	void (*report)(struct dp_out *out);
	// Sends what lwIP queued since the last flush (one tail write).
	void (*flush)(void);
	// Sends what is queued, then sends from queue q from now on: the
	// flow group moves to q's core.
	void (*move)(int q);
	// Reads the port's link state into lwIP's interface.
	void (*check_link)(void);
	// The interface's counters.
	const struct ixgbe_netif_stats *(*stats)(void);
};

extern const struct fg_ops *const fg_instances[FG_COUNT];

#define ETH_HEADER_LEN 14

// The flow group of a flow's frames (addresses and ports in host order),
// as the NIC's hash picks it.
int fg_of_flow(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport);
// The flow group of a received IPv4 frame b: the NIC's hash, or the same
// computed when the NIC gave none.
int fg_of_frame(const struct pktbuf *b);

#endif
