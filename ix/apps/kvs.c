// ixkvs [-b LIMIT] [IP [PORT [SECONDS [UNIXTIME]]]]: a key-value server speaking
// memcached's text protocol (ix/apps/kvproto.h) on lwIP's raw API, run
// to completion on port 0 of the 82599 like ixecho (ix/apps/server.h:
// the loop and the counters). With the bridge on (lab10.kvs), memcached
// clients on the host machine reach it through the emulator's port
// forward. UNIXTIME is the Unix time now (the machine has no calendar
// clock), for exptimes given as Unix times; without it (or 0), such a
// time counts as that many seconds after the start. The run ends after
// a client's "shutdown", or after SECONDS.
//
// Each connection has its state (struct conn, tcp_arg): the protocol's
// (kvproto's kv_conn), the data received and not yet taken by it, and
// the replies not yet in the send buffer. Flow control: received data
// is acknowledged to the peer (tcp_recved) only once the protocol took
// it; the protocol takes no more once the replies waiting reach
// OUT_MAX bytes, and a get answers its keys one at a time as they
// drain, so a client that does not read holds its own requests back
// instead of filling memory. Replies are copies in lwIP's heap; a
// reply that finds no memory there ends its connection.
//
// All connections share one store (ix/apps/kvstore.h) in a fixed arena.

#include <stdbool.h>

#include <lwip/sys.h>
#include <lwip/tcp.h>

#include "ix/apps/kvprint.h"
#include "ix/apps/kvproto.h"
#include "ix/apps/server.h"
#include "ulib.h"

#define ARENA_SIZE (8u << 20)
#define OUT_MAX (16 * 1024)     // bytes of replies waiting, past which no more input is taken
#define OUT_PIECE 4096          // bytes of a reply a pbuf holds at most
#define POLL_INTERVAL 2         // lwIP's coarse timer periods (500 ms) between polls

struct conn {
	struct tcp_pcb *pcb;
	bool peer_closed;               // its FIN came: close once the data it sent is answered
	struct pbuf *in;                // received, not yet taken by the protocol
	struct pbuf *out;               // replies, not yet in the send buffer
	uint32_t out_bytes;             // bytes in out
	struct kv_conn kv;
};

static struct {
	uint64_t accepted, closed, reset, refused;      // connections
	uint64_t bytes_in, bytes_out;                   // taken by the protocol; put in send buffers
	uint64_t no_memory;                             // replies lwIP's heap had no room for
	uint64_t writes_refused;                        // tcp_write said ERR_MEM (retried later)
} kvs_stats;

static struct kv_server server;
static uint8_t arena[ARENA_SIZE];
static u32_t start_ms;

static err_t kvs_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t kvs_sent(void *arg, struct tcp_pcb *pcb, u16_t len);
static err_t kvs_poll(void *arg, struct tcp_pcb *pcb);
static void kvs_err(void *arg, err_t err);

// Sets (c != NULL) or clears all of a connection's callbacks.
static void kvs_callbacks(struct tcp_pcb *pcb, struct conn *c)
{
	tcp_arg(pcb, c);
	tcp_recv(pcb, c ? kvs_recv : NULL);
	tcp_sent(pcb, c ? kvs_sent : NULL);
	tcp_err(pcb, c ? kvs_err : NULL);
	tcp_poll(pcb, c ? kvs_poll : NULL, POLL_INTERVAL);
}

// kv_out's write: appends a copy of the reply to the connection's out.
static bool kvs_out_write(void *arg, const void *data, size_t len)
{
	struct conn *c = arg;

	while (len > 0) {
		u16_t n = (u16_t)LWIP_MIN(len, OUT_PIECE);
		struct pbuf *p = pbuf_alloc(PBUF_RAW, n, PBUF_RAM);
		if (p == NULL) {
			kvs_stats.no_memory++;
			return false;
		}
		memcpy(p->payload, data, n);
		if (c->out == NULL)
			c->out = p;
		else
			pbuf_cat(c->out, p);
		c->out_bytes += n;
		data = (const char *)data + n;
		len -= n;
	}
	return true;
}

static bool kvs_out_full(void *arg)
{
	const struct conn *c = arg;

	return c->out_bytes >= OUT_MAX;
}

// Puts as much of the connection's replies into its send buffer as fits.
static void kvs_send(struct conn *c)
{
	if (c->out == NULL)
		return;
	u16_t taken = server_write(c->pcb, c->out, &kvs_stats.writes_refused);
	c->out = pbuf_free_header(c->out, taken);
	c->out_bytes -= taken;
	kvs_stats.bytes_out += taken;
	tcp_output(c->pcb);
}

// Runs the protocol on the data received, as far as the replies
// waiting let it, and sends the replies.
static void kvs_serve(struct conn *c)
{
	const struct kv_out out = { kvs_out_write, kvs_out_full, c };

	server.now = 1 + (sys_now() - start_ms) / 1000;
	for (;;) {
		struct pbuf *q = c->in;
		size_t n = kv_conn_input(&c->kv, q ? q->payload : NULL, q ? q->len : 0, &out);
		if (n > 0) {
			c->in = pbuf_free_header(c->in, (u16_t)n);
			tcp_recved(c->pcb, (u16_t)n);
			kvs_stats.bytes_in += n;
		}
		kvs_send(c);
		if (n == 0 || c->in == NULL || kv_conn_closed(&c->kv) || kvs_out_full(c))
			break;
	}
}

// Frees a connection's state (its pcb is closed or gone).
static void kvs_free(struct conn *c)
{
	kv_conn_release(&c->kv);
	if (c->in != NULL)
		pbuf_free(c->in);
	if (c->out != NULL)
		pbuf_free(c->out);
	server.stats.curr_connections--;
	free(c);
}

// Closes the connection once it is over (the protocol says so, or the
// peer closed and all it sent is answered) and its replies are in the
// send buffer (lwIP sends its FIN after them).
static void kvs_close_if_done(struct conn *c)
{
	bool over = kv_conn_closed(&c->kv) ||
		    (c->peer_closed && c->in == NULL && c->kv.state != KV_GET);

	if (!over || c->out != NULL)
		return;
	if (c->in != NULL) {
		// What follows a quit is dropped as read: lwIP resets a
		// connection closed with data it was not told was read, and the
		// peer then loses the replies still on their way.
		tcp_recved(c->pcb, c->in->tot_len);
		pbuf_free(c->in);
		c->in = NULL;
	}
	kvs_callbacks(c->pcb, NULL);
	if (tcp_close(c->pcb) != ERR_OK) {
		// No memory for the FIN: kvs_poll tries again.
		kvs_callbacks(c->pcb, c);
		return;
	}
	kvs_stats.closed++;
	kvs_free(c);
}

// lwIP's recv: p holds the next data in order (it is ours to free), or
// is NULL when the peer closed its side.
static err_t kvs_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;

	if (p == NULL)
		c->peer_closed = true;
	else if (c->in == NULL)
		c->in = p;
	else
		pbuf_cat(c->in, p);
	kvs_serve(c);
	kvs_close_if_done(c);
	return ERR_OK;
}

// lwIP's sent: the peer acknowledged len bytes, which left the send
// buffer: room for replies, and so for more requests.
static err_t kvs_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct conn *c = arg;

	kvs_send(c);
	kvs_serve(c);
	kvs_close_if_done(c);
	return ERR_OK;
}

// lwIP's poll (every POLL_INTERVAL): retries what a lack of memory
// stopped (a write, a close) when no acknowledgement will come to do it.
static err_t kvs_poll(void *arg, struct tcp_pcb *pcb)
{
	struct conn *c = arg;

	kvs_send(c);
	kvs_serve(c);
	kvs_close_if_done(c);
	return ERR_OK;
}

// lwIP's err: the connection was reset or aborted; lwIP has freed pcb.
static void kvs_err(void *arg, err_t err)
{
	kvs_stats.reset++;
	kvs_free(arg);
}

// lwIP's accept: a new connection gets its state, or is aborted
// (ERR_ABRT tells lwIP it is gone) when there is no memory.
static err_t kvs_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	struct conn *c = malloc(sizeof(*c));
	if (c == NULL) {
		kvs_stats.refused++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	memset(c, 0, sizeof(*c));
	c->pcb = pcb;
	kv_conn_init(&c->kv, &server);
	kvs_callbacks(pcb, c);
	kvs_stats.accepted++;
	server.stats.curr_connections++;
	server.stats.total_connections++;
	return ERR_OK;
}

// ixkvs's counters, after the line that says why the run ended.
static void kvs_print_counters(void)
{
	printf("ixkvs: tcp connections %lu, closed %lu, reset %lu, refused %lu, bytes in %lu, "
	       "bytes out %lu, no reply memory %lu, writes refused %lu\n", kvs_stats.accepted,
	       kvs_stats.closed, kvs_stats.reset, kvs_stats.refused, kvs_stats.bytes_in,
	       kvs_stats.bytes_out, kvs_stats.no_memory, kvs_stats.writes_refused);
	kv_print_counters("ixkvs", &server);
}

int main(int argc, char **argv)
{
	static const struct server_app kvs = {
		.name = "ixkvs",
		.usage = "[-b LIMIT] [IP [PORT [SECONDS [UNIXTIME]]]]",
		.service = "memcached's text protocol",
		.default_port = 11211,
		.accept = kvs_accept,
		.done = &server.shutdown,
		.done_reason = "shutdown received",
		.print_counters = kvs_print_counters,
	};
	unsigned long unix_now = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;

	// Server time starts at 1: time 0 was a second before now.
	if (!kv_server_init(&server, arena, sizeof(arena), unix_now ? (int64_t)unix_now - 1 : 0)) {
		printf("ixkvs: an arena of %u bytes cannot hold a store\n", ARENA_SIZE);
		return 100;
	}
	start_ms = sys_now();
	return server_main(argc, argv, &kvs);
}
