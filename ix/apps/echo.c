// ixecho [-b LIMIT] [IP [PORT [SECONDS]]]: a TCP echo server on lwIP's raw API,
// run to completion on port 0 of the 82599 (ix/net/ixgbe_netif.h: lwIP
// over the ixgbe driver). With the bridge on (lab10.echo), clients on
// the host machine reach it through the emulator's port forward.
//
// The loop and the counters at the end are ix/apps/server.h's. The
// run ends once a connection whose data begins with "quit" has had
// that echoed and acknowledged, or after SECONDS.
//
// Each connection has its state (struct conn, tcp_arg). Flow control:
// received data is acknowledged to the peer (tcp_recved, which opens
// its window again) only once it is in the send buffer; what does not
// fit waits in the connection (pending) until acknowledgements make
// room (echo_sent) and holds the peer back meanwhile. Pending data is a
// copy in lwIP's heap, so the driver's buffers return to the pool at
// once even when a peer does not read its echo.

#include <stdbool.h>

#include <lwip/tcp.h>

#include "ix/apps/server.h"
#include "ulib.h"

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

// Writes what the connection has pending, as much as fits, and tells
// the peer's window about what was taken.
static void echo_drain(struct conn *c)
{
	if (c->pending == NULL)
		return;
	u16_t taken = server_write(c->pcb, c->pending, &echo_stats.writes_refused);
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

// ixecho's counters, after the line that says why the run ended.
static void echo_print_counters(void)
{
	printf("ixecho: tcp connections %lu, closed %lu, reset %lu, refused %lu, "
	       "bytes echoed %lu, held %lu, writes refused %lu\n", echo_stats.accepted,
	       echo_stats.closed, echo_stats.reset, echo_stats.refused, echo_stats.bytes,
	       echo_stats.held, echo_stats.writes_refused);
}

int main(int argc, char **argv)
{
	static const struct server_app echo = {
		.name = "ixecho",
		.usage = "[-b LIMIT] [IP [PORT [SECONDS]]]",
		.service = "TCP echo",
		.default_port = 7,
		.accept = echo_accept,
		.done = &quit_done,
		.done_reason = "quit received",
		.print_counters = echo_print_counters,
	};

	return server_main(argc, argv, &echo);
}
