// ixecho-libix [-b LIMIT] [IP [PORT [SECONDS]]]: ixecho's TCP echo as an IX
// application: it runs in ring 3 and sees the network only through
// libix (ix/libix/ix.h), while the dataplane (ix/dp, ring 0 of the same
// Dune process) runs the driver and lwIP and listens on IP:PORT. It
// ends once a connection whose data begins with "quit" has had that
// echoed and acknowledged, or after SECONDS, and prints its counters
// and libix's.
//
// Echo without a copy of its own: each recv callback's bytes (in the
// read-only receive buffer) are sent from where they lie (the dataplane
// copies them into the send buffer at the next crossing) and given back
// in the same batch. What the connection's window does not take waits
// in pending, still in its receive buffers: not given back, it keeps
// the peer's window closed until acknowledgements make room (flow
// control).

#include <stdbool.h>

#include "ix/libix/ix.h"
#include "ulib.h"

#define MAX_CONNS 64
#define PENDING 64              // received pieces a connection may hold unsent

struct piece {
	const char *addr;
	size_t len;
};

struct conn {
	bool used;
	hid_t handle;
	size_t window;                  // bytes it may send now
	struct piece pending[PENDING];  // received, not yet sent: a ring
	unsigned head, count;
	uint64_t received;              // bytes received so far
	char first[4];                  // the first bytes received
	bool quit;                      // they say "quit"
	bool peer_closed;               // close once pending is sent
};

// Each core's own (ix.h), but for quit_done: a quit on one core ends them all.
static __thread struct conn conns[MAX_CONNS];

static __thread struct {
	uint64_t accepted, closed, reset, aborted, refused, bytes, held, errors;
} stats;

static bool quit_done;

static struct conn *conn_of(unsigned long cookie)
{
	return cookie < MAX_CONNS && conns[cookie].used ? &conns[cookie] : NULL;
}

static void conn_close(struct conn *c)
{
	ix_tcp_close(c->handle);
	c->used = false;
}

// Sends what is pending, as much as the window takes; what it sent is
// given back at once (the dataplane copies it before the buffers go).
static void drain(struct conn *c)
{
	while (c->count > 0 && c->window > 0) {
		struct piece *p = &c->pending[c->head];
		size_t n = p->len < c->window ? p->len : c->window;
		ix_tcp_send(c->handle, p->addr, n);
		ix_tcp_recv_done(c->handle, n);
		c->window -= n;
		stats.bytes += n;
		p->addr += n;
		p->len -= n;
		if (p->len == 0) {
			c->head = (c->head + 1) % PENDING;
			c->count--;
		}
	}
	if (c->peer_closed && c->count == 0) {
		conn_close(c);
		stats.closed++;
	}
}

// Keeps the connection's first four bytes: "quit"?
static void note_first(struct conn *c, const char *addr, size_t len)
{
	for (size_t i = 0; i < len && c->received + i < sizeof(c->first); i++)
		c->first[c->received + i] = addr[i];
	c->received += len;
	c->quit = c->received >= sizeof(c->first) && memcmp(c->first, "quit", 4) == 0;
}

static void on_knock(hid_t handle, const struct ix_tuple *id)
{
	for (unsigned long i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];
		if (c->used)
			continue;
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->handle = handle;
		c->window = IX_TCP_SNDBUF;
		ix_tcp_accept(handle, i);
		stats.accepted++;
		return;
	}
	ix_tcp_reject(handle);
	stats.refused++;
}

static void on_connected(hid_t handle, unsigned long cookie, long ret)
{
	printf("ixecho-libix: connected callback for a connection it did not open\n");
}

static void on_recv(hid_t handle, unsigned long cookie, const void *addr, size_t len)
{
	struct conn *c = conn_of(cookie);

	if (c == NULL)
		return;
	note_first(c, addr, len);
	if (c->count == PENDING) {
		printf("ixecho-libix: connection %lu holds %u pieces already: closed\n", cookie,
		       PENDING);
		conn_close(c);
		return;
	}
	c->pending[(c->head + c->count) % PENDING] = (struct piece){ addr, len };
	c->count++;
	drain(c);
	if (c->used && c->count > 0)
		stats.held++;
}

static void on_sent(hid_t handle, unsigned long cookie, size_t len, size_t window)
{
	struct conn *c = conn_of(cookie);

	if (c == NULL)
		return;
	c->window += len;
	drain(c);
	if (c->quit && c->count == 0 && c->window == IX_TCP_SNDBUF)
		__atomic_store_n(&quit_done, true, __ATOMIC_RELAXED);
}

static void on_dead(hid_t handle, unsigned long cookie, long reason)
{
	struct conn *c = conn_of(cookie);

	if (c == NULL) {
		ix_tcp_close(handle);
		return;
	}
	if (reason == 0) {
		c->peer_closed = true;
		drain(c);
		return;
	}
	// Reset by the peer, or given up by the dataplane's TCP (the peer
	// silent: retransmissions or keep-alive probes unanswered).
	if (reason == -ECONNRESET)
		stats.reset++;
	else
		stats.aborted++;
	quit_done |= c->quit;
	conn_close(c);
}

static void on_error(hid_t handle, unsigned long cookie, int op, long err)
{
	printf("ixecho-libix: the dataplane refused command %d of handle 0x%lx: %s\n", op, handle,
	       strerror((int)err));
	stats.errors++;
}

static const struct ix_ops ops = {
	.knock = on_knock, .connected = on_connected, .recv = on_recv, .sent = on_sent,
	.dead = on_dead, .error = on_error,
};

// The privilege level this code runs at (3: libix's programs run in ring 3).
static int current_ring(void)
{
	uint16_t cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

int main(int argc, char **argv)
{
	unsigned long seconds = argc > 3 ? strtoul(argv[3], NULL, 10) : 30;

	if (ix_init(&ops) < 0)
		return 1;
	printf("ixecho-libix: in ring %d, echoing for %lu seconds\n", current_ring(), seconds);
	uint64_t rate = ms_clock_rate(), start = ms_clock_read(rate);
	while (!__atomic_load_n(&quit_done, __ATOMIC_RELAXED) &&
	       ms_clock_read(rate) - start < seconds * 1000) {
		int n = ix_poll();
		if (n < 0) {
			printf("ixecho-libix: ix_poll: %s\n", strerror(n));
			return 1;
		}
	}
	const struct ix_stats *s = ix_stats();
	printf("ixecho-libix: %s\n",
	       __atomic_load_n(&quit_done, __ATOMIC_RELAXED) ? "quit received" : "time is up");
	printf("ixecho-libix: tcp connections %lu, closed %lu, reset %lu, aborted %lu, refused %lu, "
	       "bytes echoed %lu, held %lu, errors %lu\n", stats.accepted, stats.closed,
	       stats.reset, stats.aborted, stats.refused, stats.bytes, stats.held, stats.errors);
	printf("libix: polls %lu, flushes %lu, commands %lu, events %lu\n", s->polls, s->flushes,
	       s->commands, s->events);
	return 0;
}
