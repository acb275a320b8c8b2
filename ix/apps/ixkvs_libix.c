// ixkvs-libix [-b LIMIT] [IP [PORT [SECONDS [UNIXTIME]]]]: ixkvs, the
// key-value server (memcached's text protocol, ix/apps/kvproto.h), as
// an IX application: it runs in ring 3 over libix (ix/libix/ix.h), the
// dataplane (ix/dp: the driver and lwIP, -b its batch limit) in ring 0
// of the same Dune process, listening on IP:PORT (11211). UNIXTIME is
// as for ixkvs. It ends after a client's "shutdown", or after SECONDS.
//
// Each connection has the protocol's state, the pieces received and
// not yet taken by it, and its replies. Received pieces are read where
// they lie (the read-only receive buffers) and given back
// (ix_tcp_recv_done) as the protocol takes them, which reopens the
// peer's window: a client whose replies wait holds its own requests
// back. Replies go to the connection's out buffer; ix_tcp_send hands
// the dataplane as much of them as the window takes, and the dataplane
// copies those bytes at the next crossing, after which they leave the
// buffer. The protocol takes no more input once OUT_MAX bytes of
// replies wait (kv_out's full), and a get answers its keys one at a
// time as they drain.
//
// Cookies are slot + 1: a dead callback with cookie 0 is one the
// dataplane reported before it ran the accept (the peer closed at
// once); the data it sent comes after.

#include <stdbool.h>

#include "ix/apps/kvproto.h"
#include "ix/libix/ix.h"
#include "ulib.h"

#define MAX_CONNS 40
#define PENDING 64              // received pieces a connection may hold
#define ARENA_SIZE (8u << 20)
#define OUT_MAX (16 * 1024)     // bytes of replies waiting, past which no more input is taken
// Room for a window of replies handed and not yet copied, OUT_MAX
// waiting, and then one more reply, the largest a get gives (a value of
// a whole store page, with its VALUE line and END).
#define OUT_SIZE (IX_TCP_SNDBUF + OUT_MAX + KV_PAGE_SIZE + 512)

struct piece {
	const char *addr;
	size_t len;
};

struct conn {
	bool used;
	hid_t handle;
	size_t window;                  // bytes it may send now
	bool peer_closed;               // its FIN came: close once what it sent is answered
	// Its FIN came in the crossing that offered it (crossing number
	// closed_early), before the dataplane ran the accept: its data
	// comes in the next crossing's events, after which main's loop
	// lets it close.
	bool early;
	uint64_t closed_early;
	struct piece in[PENDING];       // received, not yet taken: a ring
	unsigned head, count;
	// out[0, out_len) are replies; the first out_handed of them went to
	// ix_tcp_send during crossing number out_crossing (they stay until
	// the dataplane has copied them, at that crossing's end).
	char out[OUT_SIZE];
	size_t out_len, out_handed;
	uint64_t out_crossing;
	struct kv_conn kv;
};

static struct conn conns[MAX_CONNS];
static struct kv_server server;
static uint8_t arena[ARENA_SIZE];
static uint64_t start_ms;

static struct {
	uint64_t accepted, closed, reset, refused, bytes_in, bytes_out, too_long, errors;
} stats;

// Crossings so far: each one copies the bytes handed before it.
static uint64_t crossings(void)
{
	const struct ix_stats *s = ix_stats();

	return s->polls + s->flushes;
}

static struct conn *conn_of(unsigned long cookie)
{
	return cookie >= 1 && cookie <= MAX_CONNS && conns[cookie - 1].used ? &conns[cookie - 1]
									      : NULL;
}

static struct conn *conn_by_handle(hid_t handle)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].handle == handle)
			return &conns[i];
	return NULL;
}

// Drops the replies the dataplane has copied since they were handed.
static void out_reclaim(struct conn *c)
{
	if (c->out_handed == 0 || c->out_crossing == crossings())
		return;
	memmove(c->out, c->out + c->out_handed, c->out_len - c->out_handed);
	c->out_len -= c->out_handed;
	c->out_handed = 0;
}

// kv_out's write: appends a reply to out (false, which ends the
// connection, only if it cannot hold it: OUT_SIZE is more than the
// protocol writes once full).
static bool out_write(void *arg, const void *data, size_t len)
{
	struct conn *c = arg;

	out_reclaim(c);
	if (len > OUT_SIZE - c->out_len) {
		stats.too_long++;
		return false;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return true;
}

static bool out_full(void *arg)
{
	const struct conn *c = arg;

	return c->out_len - c->out_handed >= OUT_MAX;
}

// Hands the dataplane as much of the waiting replies as the window takes.
static void out_send(struct conn *c)
{
	size_t n = c->out_len - c->out_handed;

	if (n > c->window)
		n = c->window;
	if (n == 0)
		return;
	ix_tcp_send(c->handle, c->out + c->out_handed, n);
	c->out_handed += n;
	c->out_crossing = crossings();
	c->window -= n;
	stats.bytes_out += n;
}

// Runs the protocol on the pieces received, as far as the replies
// waiting let it, and sends the replies.
static void serve(struct conn *c)
{
	const struct kv_out out = { out_write, out_full, c };

	out_reclaim(c);
	server.now = (kv_time_t)(1 + (uptime_ms() - start_ms) / 1000);
	for (;;) {
		struct piece *p = c->count > 0 ? &c->in[c->head] : NULL;
		size_t n = kv_conn_input(&c->kv, p ? p->addr : NULL, p ? p->len : 0, &out);
		if (n > 0) {
			ix_tcp_recv_done(c->handle, n);
			stats.bytes_in += n;
			p->addr += n;
			p->len -= n;
			if (p->len == 0) {
				c->head = (c->head + 1) % PENDING;
				c->count--;
			}
		}
		out_send(c);
		if (n == 0 || c->count == 0 || kv_conn_closed(&c->kv) || out_full(c))
			break;
	}
}

static void conn_end(struct conn *c)
{
	kv_conn_release(&c->kv);
	ix_tcp_close(c->handle);
	c->used = false;
	server.stats.curr_connections--;
}

// Closes the connection once it is over (the protocol says so, or the
// peer closed and all it sent is answered) and its replies are all
// handed to the dataplane (which sends the FIN after them).
static void close_if_done(struct conn *c)
{
	bool over = kv_conn_closed(&c->kv) ||
		    (c->peer_closed && c->count == 0 && c->kv.state != KV_GET);

	if (!over || c->out_handed < c->out_len || c->early)
		return;
	// What follows a quit is given back as read: the dataplane's lwIP
	// resets a connection closed with data it was not told was read.
	for (; c->count > 0; c->head = (c->head + 1) % PENDING, c->count--)
		ix_tcp_recv_done(c->handle, c->in[c->head].len);
	conn_end(c);
	stats.closed++;
}

static void on_knock(hid_t handle, const struct ix_tuple *id)
{
	for (unsigned long i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];
		if (c->used)
			continue;
		c->used = true;
		c->handle = handle;
		c->window = IX_TCP_SNDBUF;
		c->peer_closed = c->early = false;
		c->head = c->count = 0;
		c->out_len = c->out_handed = 0;
		kv_conn_init(&c->kv, &server);
		ix_tcp_accept(handle, i + 1);
		stats.accepted++;
		server.stats.curr_connections++;
		server.stats.total_connections++;
		return;
	}
	ix_tcp_reject(handle);
	stats.refused++;
}

static void on_connected(hid_t handle, unsigned long cookie, long ret)
{
	printf("ixkvs-libix: connected callback for a connection it did not open\n");
}

static void on_recv(hid_t handle, unsigned long cookie, const void *addr, size_t len)
{
	struct conn *c = conn_of(cookie);

	if (c == NULL)
		return;
	if (c->count == PENDING) {
		printf("ixkvs-libix: connection %lu holds %u pieces already: closed\n", cookie,
		       PENDING);
		conn_end(c);
		return;
	}
	c->in[(c->head + c->count) % PENDING] = (struct piece){ addr, len };
	c->count++;
	serve(c);
	close_if_done(c);
}

static void on_sent(hid_t handle, unsigned long cookie, size_t len, size_t window)
{
	struct conn *c = conn_of(cookie);

	if (c == NULL)
		return;
	c->window += len;
	serve(c);
	close_if_done(c);
}

static void on_dead(hid_t handle, unsigned long cookie, long reason)
{
	struct conn *c = cookie == 0 ? conn_by_handle(handle) : conn_of(cookie);

	// None: the server closed it already (a quit, in the same batch of
	// events), and the handle is gone.
	if (c == NULL)
		return;
	if (cookie == 0 && reason == 0) {
		c->peer_closed = c->early = true;
		c->closed_early = crossings();
		return;
	}
	if (reason == 0) {
		c->peer_closed = true;
		serve(c);
		close_if_done(c);
		return;
	}
	stats.reset++;
	conn_end(c);
}

static void on_error(hid_t handle, unsigned long cookie, int op, long err)
{
	printf("ixkvs-libix: the dataplane refused command %d of handle 0x%lx: %s\n", op, handle,
	       strerror((int)err));
	stats.errors++;
}

static const struct ix_ops ops = {
	.knock = on_knock, .connected = on_connected, .recv = on_recv, .sent = on_sent,
	.dead = on_dead, .error = on_error,
};

static void print_counters(void)
{
	const struct kv_stats *k = &server.stats;
	const struct ix_stats *s = ix_stats();

	printf("ixkvs-libix: tcp connections %lu, closed %lu, reset %lu, refused %lu, bytes in %lu, "
	       "bytes out %lu, replies too long %lu, errors %lu\n", stats.accepted, stats.closed,
	       stats.reset, stats.refused, stats.bytes_in, stats.bytes_out, stats.too_long,
	       stats.errors);
	printf("ixkvs-libix: gets %lu, hits %lu, misses %lu, sets %lu, deletes %lu\n", k->cmd_get,
	       k->get_hits, k->get_misses, k->cmd_set, k->delete_hits + k->delete_misses);
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
	if (ix_init(&ops) < 0)
		return 1;
	start_ms = uptime_ms();
	printf("ixkvs-libix: serving memcached's text protocol for %lu seconds\n", seconds);
	while (!server.shutdown && uptime_ms() - start_ms < seconds * 1000) {
		int n = ix_poll();
		if (n < 0) {
			printf("ixkvs-libix: ix_poll: %s\n", strerror(n));
			return 1;
		}
		// After the crossing that ran their accept, all they sent
		// has been dispatched.
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];
			if (c->used && c->early && crossings() > c->closed_early) {
				c->early = false;
				close_if_done(c);
			}
		}
	}
	printf("ixkvs-libix: %s\n", server.shutdown ? "shutdown received" : "time is up");
	print_counters();
	return 0;
}
