// What the dataplane's TCP servers (ixecho, ixkvs) share: lwIP on port
// 0 of the 82599 (ix/net/ixgbe_netif.h), a listening pcb, the
// run-to-completion loop, writes into a connection's send buffer, and
// the counters printed at the end.
//
// The loop is the dataplane's: receive a burst and run lwIP on each
// frame (which calls the app's callbacks), run lwIP's timers, send what
// it queued with one tail write; with nothing received, sleep until the
// port interrupts. It ends when the app says it is done (a client asked
// for it) or after SECONDS, and prints the app's, lwIP's and the NIC's
// counters.

#ifndef IX_APPS_SERVER_H
#define IX_APPS_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <lwip/tcp.h>

struct server_app {
	const char *name;               // the program's; its lines begin with it
	const char *usage;              // its arguments, for the usage line
	const char *service;            // what it serves, for its first line
	unsigned long default_port;
	tcp_accept_fn accept;           // lwIP's accept for the listening pcb
	const bool *done;               // set when a client asked to end the run
	const char *done_reason;        // printed when *done ended the run
	void (*print_counters)(void);   // the app's own counter lines
};

// Runs app: arguments [-b LIMIT] [IP [PORT [SECONDS]]] (the batch limit
// of the loop, ixgbe_netif_take_batch_limit; 10.0.2.15, the app's port,
// 30), the port brought up, lwIP on it, a pcb listening on PORT,
// then the loop. Returns the program's status: 100 if it could not
// start (after a line that says why), else the number of the port's
// stopped queues (0).
int server_main(int argc, char **argv, const struct server_app *app);

// Puts as much of the chain p into pcb's send buffer as it takes (room
// and lwIP's segment queue); a write lwIP refuses for want of memory
// adds one to *refused (the caller retries later: on sent or poll).
// Returns how many bytes it took.
u16_t server_write(struct tcp_pcb *pcb, struct pbuf *p, uint64_t *refused);

#endif
