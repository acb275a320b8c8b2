// ixecho [IP [PORT [SECONDS]]]: a TCP echo server on lwIP's raw API,
// run to completion on port 0 of the 82599 (ix/net/ixgbe_netif.h: lwIP
// over the ixgbe driver). With the bridge on (lab10.echo), clients on
// the host machine reach it through the emulator's port forward.
//
// The loop is the dataplane's: receive a burst and run lwIP on each
// frame (which calls the callbacks below), run lwIP's timers, send
// what it queued with one tail write; with nothing received, sleep
// until the port interrupts. It ends once a connection whose data
// begins with "quit" has had that echoed and acknowledged, or after
// SECONDS, and prints its own, lwIP's and the NIC's counters.
//
// Each connection has its state (struct conn, tcp_arg). Flow control:
// received data is acknowledged to the peer (tcp_recved, which opens
// its window again) only once it is in the send buffer; what does not
// fit waits in the connection (pending) until acknowledgements make
// room (echo_sent) and holds the peer back meanwhile. Pending data is a
// copy in lwIP's heap, so the driver's buffers return to the pool at
// once even when a peer does not read its echo.

#include <stdbool.h>

#include <lwip/init.h>
#include <lwip/stats.h>
#include <lwip/sys.h>
#include <lwip/tcp.h>
#include <lwip/timeouts.h>

#include "ix/drivers/ixgbe.h"
#include "ix/net/ixgbe_netif.h"
#include "ulib.h"

#define RING 256
#define WAIT_TICKS 1
#define POLL_INTERVAL 2         // lwIP's coarse timer periods (500 ms) between polls

enum conn_state {
	CONN_OPEN,              // echoing
	CONN_CLOSING,           // the peer closed: close once pending data is written
};

struct conn {
	struct tcp_pcb *pcb;
	enum conn_state state;
	struct pbuf *pending;   // received, not yet in the send buffer (at most TCP_WND bytes)
	uint32_t received;      // bytes received so far
	char head[4];           // the first bytes received
	bool quit;              // they say "quit"
};

static struct {
	uint64_t accepted, closed, reset, refused;      // connections
	uint64_t bytes;                                 // bytes put in send buffers
	uint64_t held;                                  // times data waited for room
	uint64_t writes_refused;                        // tcp_write said ERR_MEM (retried later)
} echo_stats;

static bool quit_done;          // a "quit" connection was echoed and acknowledged (or reset)

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len);
static err_t echo_poll(void *arg, struct tcp_pcb *pcb);
static void echo_err(void *arg, err_t err);

// Sets (c != NULL) or clears all of a connection's callbacks.
static void echo_callbacks(struct tcp_pcb *pcb, struct conn *c)
{
	tcp_arg(pcb, c);
	tcp_recv(pcb, c ? echo_recv : NULL);
	tcp_sent(pcb, c ? echo_sent : NULL);
	tcp_err(pcb, c ? echo_err : NULL);
	tcp_poll(pcb, c ? echo_poll : NULL, POLL_INTERVAL);
}

// Puts as much of the chain p into the send buffer as it takes (room
// and lwIP's segment queue). Returns how many bytes it took.
static u16_t echo_write(struct conn *c, struct pbuf *p)
{
	u16_t taken = 0;

	for (struct pbuf *q = p; q != NULL; q = q->next) {
		u16_t n = LWIP_MIN(q->len, tcp_sndbuf(c->pcb));
		if (n == 0)
			break;
		err_t err = tcp_write(c->pcb, q->payload, n,
				      TCP_WRITE_FLAG_COPY | (q->next ? TCP_WRITE_FLAG_MORE : 0));
		if (err != ERR_OK) {
			// ERR_MEM: the queue is full; echo_sent or echo_poll retries.
			echo_stats.writes_refused++;
			break;
		}
		taken += n;
		if (n < q->len)
			break;
	}
	return taken;
}

// Writes what the connection has pending, as much as fits, and tells
// the peer's window about what was taken.
static void echo_drain(struct conn *c)
{
	if (c->pending == NULL)
		return;
	u16_t taken = echo_write(c, c->pending);
	c->pending = pbuf_free_header(c->pending, taken);
	tcp_recved(c->pcb, taken);
	echo_stats.bytes += taken;
}

// Keeps p (what the send buffer did not take) after the pending data,
// as a copy in lwIP's heap; p itself if the heap is full.
static void echo_hold(struct conn *c, struct pbuf *p)
{
	struct pbuf *copy = pbuf_clone(PBUF_RAW, PBUF_RAM, p);

	if (copy != NULL) {
		pbuf_free(p);
		p = copy;
	}
	if (c->pending == NULL)
		c->pending = p;
	else
		pbuf_cat(c->pending, p);
	echo_stats.held++;
}

// Frees a connection's state (its pcb is closed or gone).
static void echo_free(struct conn *c)
{
	if (c->pending != NULL)
		pbuf_free(c->pending);
	free(c);
}

// Closes the connection once the peer has closed and everything it
// sent is in the send buffer (lwIP sends its FIN after the data).
static void echo_close_if_done(struct conn *c)
{
	if (c->state != CONN_CLOSING || c->pending != NULL)
		return;
	echo_callbacks(c->pcb, NULL);
	if (tcp_close(c->pcb) != ERR_OK) {
		// No memory for the FIN: echo_poll tries again.
		echo_callbacks(c->pcb, c);
		return;
	}
	echo_stats.closed++;
	echo_free(c);
}

// A connection that began with "quit" ends the run once the peer has
// acknowledged all of its echo.
static void echo_check_quit(struct conn *c)
{
	if (c->quit && c->pending == NULL && tcp_sndqueuelen(c->pcb) == 0)
		quit_done = true;
}

// Counts p's bytes and keeps the connection's first four: "quit"?
static void note_head(struct conn *c, const struct pbuf *p)
{
	if (c->received < sizeof(c->head)) {
		u16_t n = pbuf_copy_partial(p, c->head + c->received,
					    (u16_t)(sizeof(c->head) - c->received), 0);
		c->quit = c->received + n == sizeof(c->head) && memcmp(c->head, "quit", 4) == 0;
	}
	c->received += p->tot_len;
}

// lwIP's recv: p holds the next data in order (it is ours to free), or
// is NULL when the peer closed its side.
static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;

	if (p == NULL) {
		c->state = CONN_CLOSING;
		echo_close_if_done(c);
		return ERR_OK;
	}
	note_head(c, p);
	// Nothing waiting before p: what of p fits goes to the send buffer
	// at once, from the driver's buffer; only the rest is held.
	if (c->pending == NULL) {
		c->pending = p;
		echo_drain(c);
		p = c->pending;
		c->pending = NULL;
	}
	if (p != NULL)
		echo_hold(c, p);
	tcp_output(pcb);
	return ERR_OK;
}

// lwIP's sent: the peer acknowledged len bytes, which left the send
// buffer: room for pending data.
static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct conn *c = arg;

	echo_drain(c);
	tcp_output(pcb);
	echo_check_quit(c);
	echo_close_if_done(c);
	return ERR_OK;
}

// lwIP's poll (every POLL_INTERVAL): retries what a lack of memory
// stopped (a write, a close) when no acknowledgement will come to do it.
static err_t echo_poll(void *arg, struct tcp_pcb *pcb)
{
	struct conn *c = arg;

	echo_drain(c);
	tcp_output(pcb);
	echo_close_if_done(c);
	return ERR_OK;
}

// lwIP's err: the connection was reset or aborted; lwIP has freed pcb.
static void echo_err(void *arg, err_t err)
{
	struct conn *c = arg;

	echo_stats.reset++;
	quit_done |= c->quit;
	echo_free(c);
}

// lwIP's accept: a new connection on the listening pcb gets its state,
// or is aborted (ERR_ABRT tells lwIP it is gone) when there is no memory.
static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	struct conn *c = malloc(sizeof(*c));
	if (c == NULL) {
		echo_stats.refused++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	memset(c, 0, sizeof(*c));
	c->pcb = pcb;
	c->state = CONN_OPEN;
	echo_callbacks(pcb, c);
	echo_stats.accepted++;
	return ERR_OK;
}

// Listens on port; returns false after a line that says why it cannot.
static bool echo_listen(uint16_t port)
{
	struct tcp_pcb *pcb = tcp_new();

	if (pcb == NULL) {
		printf("ixecho: tcp_new: no memory for a pcb\n");
		return false;
	}
	err_t err = tcp_bind(pcb, IP_ADDR_ANY, port);
	if (err != ERR_OK) {
		printf("ixecho: tcp_bind to port %u: lwIP error %d\n", port, err);
		tcp_close(pcb);
		return false;
	}
	struct tcp_pcb *listener = tcp_listen(pcb);
	if (listener == NULL) {
		printf("ixecho: tcp_listen on port %u: no memory\n", port);
		tcp_close(pcb);
		return false;
	}
	tcp_accept(listener, echo_accept);
	return true;
}

// One line of lwIP's counters of a protocol (lwip/stats.h).
static void print_proto(const char *name, const struct stats_proto *s)
{
	printf("lwip: %s recv %u, xmit %u, drop %u, chkerr %u, lenerr %u, memerr %u, "
	       "proterr %u, err %u\n", name, s->recv, s->xmit, s->drop, s->chkerr, s->lenerr,
	       s->memerr, s->proterr, s->err);
}

// The run's end: why, then the counters of ixecho, lwIP, the interface
// and the NIC, one line each (tools/tests/test_ix.py reads them).
static void print_counters(struct ixgbe_dev *port, const struct ixgbe_netif *ifc)
{
	struct ixgbe_stats s;
	const struct ixgbe_netif_stats *n = &ifc->stats;

	printf("ixecho: %s\n", quit_done ? "quit received" : "time is up");
	printf("ixecho: tcp connections %lu, closed %lu, reset %lu, refused %lu, "
	       "bytes echoed %lu, held %lu, writes refused %lu\n", echo_stats.accepted,
	       echo_stats.closed, echo_stats.reset, echo_stats.refused, echo_stats.bytes,
	       echo_stats.held, echo_stats.writes_refused);
	print_proto("tcp", &lwip_stats.tcp);
	print_proto("ip", &lwip_stats.ip);
	print_proto("icmp", &lwip_stats.icmp);
	print_proto("etharp", &lwip_stats.etharp);
	printf("lwip: heap used %lu, max %lu, err %u\n", (unsigned long)lwip_stats.mem.used,
	       (unsigned long)lwip_stats.mem.max, lwip_stats.mem.err);
	printf("netif: rx frames %lu, refused %lu, tx frames %lu, no buffer %lu, ring full %lu, "
	       "bursts %lu\n", n->rx_frames, n->rx_refused, n->tx_frames, n->tx_no_buffer,
	       n->tx_ring_full, n->tx_bursts);
	ixgbe_stats(port, &s);
	printf("ixecho: 82599 received %lu, sent %lu, missed %lu, dropped %lu, no buffer %lu\n",
	       s.rx_packets, s.tx_packets, s.rx_missed, s.queue_drop[0], s.rx_no_buffer);
}

int main(int argc, char **argv)
{
	static struct ixgbe_dev port;
	static struct ixgbe_netif ifc;
	const char *ip_text = argc > 1 ? argv[1] : "10.0.2.15";
	unsigned long echo_port = argc > 2 ? strtoul(argv[2], NULL, 10) : 7;
	unsigned long seconds = argc > 3 ? strtoul(argv[3], NULL, 10) : 30;
	ip4_addr_t ip, netmask;

	if (!ip4addr_aton(ip_text, &ip) || echo_port == 0 || echo_port > 65535 || seconds == 0) {
		printf("usage: ixecho [IP [PORT [SECONDS]]]\n");
		return 100;
	}
	if (ixgbe_init(&port, 0, 1, RING) < 0)
		return 100;
	lwip_init();
	IP4_ADDR(&netmask, 255, 255, 255, 0);
	if (ixgbe_netif_add(&ifc, &port, 0, &ip, &netmask, IP4_ADDR_ANY4) != ERR_OK ||
	    !echo_listen((uint16_t)echo_port))
		return 100;
	printf("ixecho: %s port 0, mac %02x:%02x:%02x:%02x:%02x:%02x, link %s; %s serves TCP "
	       "echo on port %lu (lwIP %s)\n", port.emulated ? "emulated" : "real",
	       port.mac[0], port.mac[1], port.mac[2], port.mac[3], port.mac[4], port.mac[5],
	       port.link_up ? "up" : "down", ip_text, echo_port, LWIP_VERSION_STRING);

	u32_t start = sys_now();
	while (!quit_done && sys_now() - start < seconds * 1000) {
		int n = ixgbe_netif_poll(&ifc, IXGBE_NETIF_RX_BURST);
		sys_check_timeouts();
		ixgbe_netif_flush(&ifc);
		if (n > 0)
			continue;
		int64_t causes = ixgbe_wait(&port, WAIT_TICKS);
		if (causes < 0)
			break;
		if (causes == 0)
			ixgbe_netif_check_link(&ifc);
	}
	print_counters(&port, &ifc);
	return ixgbe_stopped_queues(&port);
}
