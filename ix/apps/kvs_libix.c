// ixkvs-libix [IP [PORT [SECONDS [UNIXTIME]]]]: ixkvs's key-value
// server (memcached's text protocol: the same protocol and store,
// ix/apps/kvproto.h) as an IX application: it runs in ring 3 on ixev
// (ix/libix/ixev.h) over libix, while the dataplane (ix/dp, ring 0 of
// the same Dune process) runs the driver and lwIP and listens on
// IP:PORT (11211 in run=lab10.ixkvs). UNIXTIME and the end of the run
// ("shutdown", or SECONDS) are as in ixkvs.
//
// Each connection (struct conn) is an ixev context, the protocol's
// state and the replies ixev_send has not taken yet (out, a ring). The
// protocol reads the received bytes where they lie (ixev_recv_peek) and
// what it took is consumed (ixev_recv_zc), which gives the buffers back
// to the dataplane and reopens the peer's window. It takes no more once
// OUT_MAX bytes of replies wait, and a get answers its keys one at a
// time as they drain, so a client that does not read holds its own
// requests back. Every handler call, whatever its reasons, does the
// same: send what waits, serve, close if the connection is over.
//
// Ring 3 has no heap: the connections, the store's arena and the rest
// are static (ix/libix/libix.ld puts them on ring 3's pages).

#include <stdbool.h>

#include "ix/apps/kvprint.h"
#include "ix/apps/kvproto.h"
#include "ix/libix/ixev.h"
#include "ulib.h"

#define MAX_CONNS 64             // as many as the dataplane has (lwipopts.h: MEMP_NUM_TCP_PCB)
#define ARENA_SIZE (8u << 20)
#define OUT_MAX (16 * 1024)     // bytes of replies waiting, past which no more input is taken
// The protocol stops between replies only: out must hold OUT_MAX and
// then the largest reply, a get's of an item of a whole store page.
#define OUT_RING (OUT_MAX + KV_PAGE_SIZE + 512)

struct conn {
	struct ixev_ctx ctx;
	bool used;
	bool peer_closed;               // its FIN came: close once all it sent is answered
	struct kv_conn kv;
	size_t out_head, out_len;       // replies waiting: out[out_head ..] in the ring
	char out[OUT_RING];
};

static struct conn conns[MAX_CONNS];

static struct {
	uint64_t accepted, closed, reset, refused;      // connections
	uint64_t bytes_in, bytes_out;                   // taken by the protocol; by ixev_send
	uint64_t no_memory;                             // replies out had no room for
} kvs_stats;

static struct kv_server server;
static uint8_t arena[ARENA_SIZE];
static uint64_t clock_rate, start_ms;      // ms_clock_read's rate; the start

static struct conn *conn_of(struct ixev_ctx *ctx)
{
	return (struct conn *)((char *)ctx - offsetof(struct conn, ctx));
}

// kv_out's write: appends the reply to the connection's out.
static bool out_write(void *arg, const void *data, size_t len)
{
	struct conn *c = arg;

	if (len > OUT_RING - c->out_len) {
		kvs_stats.no_memory++;
		return false;
	}
	size_t tail = (c->out_head + c->out_len) % OUT_RING;
	size_t first = len < OUT_RING - tail ? len : OUT_RING - tail;
	memcpy(c->out + tail, data, first);
	memcpy(c->out, (const char *)data + first, len - first);
	c->out_len += len;
	return true;
}

static bool out_full(void *arg)
{
	const struct conn *c = arg;

	return c->out_len >= OUT_MAX;
}

// Hands ixev_send as much of the replies waiting as the window takes.
static void out_send(struct conn *c)
{
	while (c->out_len > 0) {
		size_t to_end = OUT_RING - c->out_head;         // the ring's bytes before it wraps
		size_t chunk = to_end < c->out_len ? to_end : c->out_len;
		long n = ixev_send(&c->ctx, c->out + c->out_head, chunk);
		if (n <= 0)
			return;
		c->out_head = (c->out_head + (size_t)n) % OUT_RING;
		c->out_len -= (size_t)n;
		kvs_stats.bytes_out += (uint64_t)n;
	}
}

// Runs the protocol on the bytes received, as far as the replies
// waiting let it, and sends the replies.
static void serve(struct conn *c)
{
	const struct kv_out out = { out_write, out_full, c };

	server.now = 1 + (kv_time_t)((ms_clock_read(clock_rate) - start_ms) / 1000);
	for (;;) {
		const void *data = NULL;
		long len = ixev_recv_peek(&c->ctx, &data);
		if (len == 0)
			c->peer_closed = true;
		size_t n = kv_conn_input(&c->kv, data, len > 0 ? (size_t)len : 0, &out);
		if (n > 0) {
			ixev_recv_zc(&c->ctx, n);
			kvs_stats.bytes_in += n;
		}
		out_send(c);
		if (n == 0 || kv_conn_closed(&c->kv) || out_full(c))
			return;
	}
}

// Closes the connection once it is over (the protocol says so, or the
// peer closed and all it sent is answered) and ixev has taken all its
// replies (they go before the FIN).
static void close_if_done(struct conn *c)
{
	bool over = kv_conn_closed(&c->kv) || (c->peer_closed && c->kv.state != KV_GET);

	if (over && c->out_len == 0) {
		ixev_close(&c->ctx);
		kvs_stats.closed++;
	}
}

static void on_event(struct ixev_ctx *ctx, unsigned int reasons)
{
	struct conn *c = conn_of(ctx);

	if (reasons & IXEVHUP) {
		kvs_stats.reset++;
		ixev_close(ctx);
		return;
	}
	out_send(c);
	serve(c);
	close_if_done(c);
}

static struct ixev_ctx *on_accept(const struct ix_tuple *id)
{
	for (struct conn *c = conns; c < conns + MAX_CONNS; c++) {
		if (c->used)
			continue;
		c->used = true;
		c->peer_closed = false;
		c->out_head = c->out_len = 0;
		kv_conn_init(&c->kv, &server);
		ixev_ctx_init(&c->ctx);
		ixev_set_handler(&c->ctx, IXEVIN | IXEVOUT, on_event);
		kvs_stats.accepted++;
		server.stats.curr_connections++;
		server.stats.total_connections++;
		return &c->ctx;
	}
	kvs_stats.refused++;
	return NULL;
}

static void on_release(struct ixev_ctx *ctx)
{
	struct conn *c = conn_of(ctx);

	kv_conn_release(&c->kv);
	c->used = false;
	server.stats.curr_connections--;
}

static const struct ixev_conn_ops conn_ops = { .accept = on_accept, .release = on_release };

static void print_counters(void)
{
	const struct ixev_stats *e = ixev_stats();
	const struct ix_stats *s = ix_stats();

	printf("ixkvs-libix: tcp connections %lu, closed %lu, reset %lu, refused %lu, "
	       "bytes in %lu, bytes out %lu, no reply memory %lu\n", kvs_stats.accepted,
	       kvs_stats.closed, kvs_stats.reset, kvs_stats.refused, kvs_stats.bytes_in,
	       kvs_stats.bytes_out, kvs_stats.no_memory);
	kv_print_counters("ixkvs-libix", &server);
	printf("ixev: accepted %lu, refused %lu, released %lu, send retries %lu, overruns %lu, "
	       "errors %lu\n", e->accepted, e->refused, e->released, e->send_retries, e->overruns,
	       e->errors);
	printf("libix: polls %lu, flushes %lu, commands %lu, events %lu\n", s->polls, s->flushes,
	       s->commands, s->events);
}

int main(int argc, char **argv)
{
	unsigned long seconds = argc > 3 ? strtoul(argv[3], NULL, 10) : 30;
	unsigned long unix_now = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;

	// Server time starts at 1: time 0 was a second before now.
	if (!kv_server_init(&server, arena, sizeof(arena), unix_now ? (int64_t)unix_now - 1 : 0)) {
		printf("ixkvs-libix: an arena of %u bytes cannot hold a store\n", ARENA_SIZE);
		return 100;
	}
	if (seconds == 0 || ixev_init(&conn_ops) < 0) {
		printf("usage: ixkvs-libix [IP [PORT [SECONDS [UNIXTIME]]]]\n");
		return 100;
	}
	printf("ixkvs-libix: serving memcached's text protocol for %lu seconds\n", seconds);
	clock_rate = ms_clock_rate();
	start_ms = ms_clock_read(clock_rate);
	while (!server.shutdown && ms_clock_read(clock_rate) - start_ms < seconds * 1000) {
		int n = ixev_wait();
		if (n < 0) {
			printf("ixkvs-libix: ixev_wait: %s\n", strerror(n));
			return 1;
		}
	}
	printf("ixkvs-libix: %s\n", server.shutdown ? "shutdown received" : "time is up");
	print_counters();
	return 0;
}
