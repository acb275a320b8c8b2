// The IX dataplane (ring 0 of a Dune process): the ixgbe driver and
// lwIP's TCP, driven by the application's crossings (ix/libix/abi.h).
// main.c starts it, its cores and their ring 3, owns ring 3's memory
// and the handlers, runs a crossing and the control plane's requests;
// fg.h says what a flow group is: an lwIP instance of its own, in which
// tcp.c keeps the connections, runs their commands and turns what lwIP
// tells into events; neigh.c answers ARP for all of them; forward.c
// carries work between cores.

#ifndef IX_DP_DP_H
#define IX_DP_DP_H

#include <stdbool.h>
#include <stdint.h>

#include "ix/drivers/pktbuf.h"
#include "ix/libix/abi.h"

// The events a crossing returns: events[n..max) are free.
struct dp_out {
	struct ix_event *events;
	uint32_t n, max;
};

struct dp_stats {
	uint64_t crossings, flushes;    // crossings (polls and flushes), flushes among them
	uint64_t idle;                  // crossings with no command and no event
	uint64_t sleeps;                // idle polls that waited for the port's interrupt
	uint64_t timer_runs;            // lwIP's timers seen to run (count_timer_run)
	uint64_t commands, events;      // commands run, events returned
	uint64_t errors;                // commands refused (each an IX_EV_ERROR)
	uint64_t errors_lost;           // refusals with no room left for their event
	uint32_t most_commands;         // in one crossing
	uint32_t most_events;
	uint32_t most_received;         // frames of the largest burst from its queue
	uint64_t sent_referenced;       // bytes sent from ring 3's memory by reference
	uint64_t sent_copied;           // bytes sent from received buffers, copied
	uint64_t knocks;                // connections offered to the application
	uint64_t no_slot;               // connections refused for want of a slot
	uint64_t frames;                // IPv4 frames given to the flow groups
	uint64_t dropped;               // frames for no one (not IPv4 or ARP; a full ring)
	uint64_t moves;                 // flow groups it gave another core
	uint64_t forwarded_frames;      // frames of another core's flow groups sent there
	uint64_t forwarded_commands;    // commands likewise
};

// The calling core's counters (main.c: each core counts its own).
struct dp_stats *dp_stats_here(void);

// How long a connection may be silent before keep-alive probes it
// (ixdp's --keepalive=MS; RFC 1122's two hours by default).
#define DP_KEEPALIVE_DEFAULT_MS (2 * 60 * 60 * 1000)
uint32_t dp_keepalive_ms(void);

// A free event of out, zeroed but for its type, or NULL when out is full.
struct ix_event *dp_emit(struct dp_out *out, uint32_t type);

// Whether every byte of [addr, addr + len) is memory ring 3 may read
// (write, if write): pages mapped with PTE_U (and PTE_W).
bool dp_user_range(uint64_t addr, uint64_t len, bool write);

// Whether [addr, addr + len) overlaps the read-only alias of the
// receive buffers (IX_RX_ALIAS).
bool dp_in_rx_alias(uint64_t addr, uint64_t len);

// Where the application sees payload, in received buffer b (in the
// read-only alias of the receive pool, IX_RX_ALIAS). b must be a
// received buffer (the process ends, reported, if it is NULL: a
// dataplane bug).
uint64_t dp_rx_alias(const struct pktbuf *b, const void *payload);

// Gives back a received buffer lwIP is done with, on whichever core:
// to its pool if the calling core's queue owns it, else through the
// owner's return list.
void dp_rx_free(struct pktbuf *b);

// Refuses cmd: an IX_EV_ERROR with err and cookie (the connection's, or
// 0) in out, counted.
void dp_refuse(const struct ix_cmd *cmd, uint64_t cookie, int err, struct dp_out *out);

// tcp.c, in each flow group's instance (fg.h): the instance is flow
// group fg, and listens on port (false after a line that says why not).
bool dp_tcp_start(int fg, uint16_t port);
// Runs one command on a connection of the flow group (a copy the
// application can no longer change); a refusal becomes an IX_EV_ERROR
// in out.
void dp_tcp_command(const struct ix_cmd *cmd, struct dp_out *out);
// Runs an IX_CMD_CONNECT from local_port; a refusal likewise.
void dp_tcp_connect(const struct ix_cmd *cmd, uint16_t local_port, struct dp_out *out);
// Reports what lwIP said of the connections as events, while out has
// room; the rest waits for the next crossing.
void dp_tcp_report(struct dp_out *out);

#endif
