// Host-side test of ixev (ix/libix/ixev.c), built with the host
// compiler (make host-tests) against a scripted libix: the test says
// which events each crossing brings, and the fake libix below records
// the commands ixev queued for it, with a send's bytes read at the
// crossing (when the dataplane copies them). Each case compares the
// commands of every crossing and the handler calls with the exact text
// it expects: accept and refuse, reads that copy and reads in place,
// sends within the window, a send refused for want of memory and tried
// again, a close that waits for its bytes and gives back what was not
// read, the peer's close, a reset, too many pieces. The last line is
// "N passed, N failed".

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ix/libix/ixev.h"

static int failed, passed;

// ---------------------------------------------------------------------
// The fake libix: ix_init, ix_poll and the commands ixev uses.

#define MAX_EVENTS 256
#define MAX_SENDS 16

static const struct ix_ops *ix;
static char commands[4096];             // the commands, "|" after each crossing's
static struct ix_event script[MAX_EVENTS];      // what the next crossing brings
static int nscript;
static struct {
	hid_t handle;
	const char *addr;
	size_t len;
} sends[MAX_SENDS];                     // sends queued, read at the crossing
static int nsends;
static unsigned long cookies[8];        // handle -> the cookie ix_tcp_accept gave it

// Appends to a log (commands, calls) of size bytes.
static void log_append(char *log, size_t size, const char *fmt, va_list ap)
{
	size_t n = strlen(log);

	vsnprintf(log + n, size - n, fmt, ap);
}

static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_append(commands, sizeof(commands), fmt, ap);
	va_end(ap);
}

int ix_init(const struct ix_ops *ops)
{
	ix = ops;
	return 0;
}

int ix_tcp_accept(hid_t handle, unsigned long cookie)
{
	cookies[handle] = cookie;
	note("accept %lu;", handle);
	return 0;
}

int ix_tcp_reject(hid_t handle)
{
	note("reject %lu;", handle);
	return 0;
}

int ix_tcp_send(hid_t handle, const void *addr, size_t len)
{
	sends[nsends].handle = handle;
	sends[nsends].addr = addr;
	sends[nsends].len = len;
	note("send %lu #%d;", handle, nsends++);
	return 0;
}

int ix_tcp_recv_done(hid_t handle, size_t len)
{
	note("recv_done %lu %zu;", handle, len);
	return 0;
}

int ix_tcp_close(hid_t handle)
{
	note("close %lu;", handle);
	return 0;
}

// The crossing: each send's bytes as the dataplane would copy them
// now (their length and first and last bytes), then the scripted events.
int ix_poll(void)
{
	for (int i = 0; i < nsends; i++)
		note("#%d=%zu:%c%c;", i, sends[i].len, sends[i].addr[0],
		     sends[i].addr[sends[i].len - 1]);
	nsends = 0;
	note("|");
	int n = nscript;
	nscript = 0;
	for (int i = 0; i < n; i++) {
		const struct ix_event *e = &script[i];
		switch (e->type) {
		case IX_EV_KNOCK: {
			struct ix_tuple id = { 0x0a000202, 0x0a00020f, 40000, 11211 };
			ix->knock(e->handle, &id);
			break;
		}
		case IX_EV_RECV:
			ix->recv(e->handle, e->cookie, (const void *)e->arg[0], e->arg[1]);
			break;
		case IX_EV_SENT:
			ix->sent(e->handle, e->cookie, e->arg[0], 0);
			break;
		case IX_EV_DEAD:
			ix->dead(e->handle, e->cookie, e->err);
			break;
		case IX_EV_ERROR:
			ix->error(e->handle, e->cookie, (int)e->arg[0], e->err);
			break;
		}
	}
	return n;
}

static void event(uint32_t type, hid_t handle, int32_t err, uint64_t a0, uint64_t a1)
{
	script[nscript++] = (struct ix_event){ type, err, handle, cookies[handle], { a0, a1 } };
}

static void knock(hid_t h)
{
	event(IX_EV_KNOCK, h, 0, 0, 0);
}

static void recv_bytes(hid_t h, const char *data)
{
	event(IX_EV_RECV, h, 0, (uint64_t)data, strlen(data));
}

// ---------------------------------------------------------------------
// The application: contexts with handlers that log their calls.

struct conn {
	struct ixev_ctx ctx;
	int id;
	int used;
	// What the handler does when called: read (0: no) up to this many
	// bytes with ixev_recv and log them.
	size_t read;
};

static struct conn conns[4];
static char calls[4096];                // the handlers' calls and the releases
static int refuse;                      // the next accept refuses

static void call(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_append(calls, sizeof(calls), fmt, ap);
	va_end(ap);
}

static void handler(struct ixev_ctx *ctx, unsigned int reasons)
{
	struct conn *c = (struct conn *)ctx;
	char buf[64];

	call("c%d:%s%s%s", c->id, reasons & IXEVIN ? "IN" : "", reasons & IXEVOUT ? "OUT" : "",
	     reasons & IXEVHUP ? "HUP" : "");
	if (c->read > 0) {
		long n = ixev_recv(ctx, buf, c->read < sizeof(buf) ? c->read : sizeof(buf));
		if (n > 0)
			call("='%.*s'", (int)n, buf);
		else
			call("=%ld", n);
	}
	call(";");
}

static struct ixev_ctx *on_accept(const struct ix_tuple *id)
{
	if (refuse) {
		refuse = 0;
		return NULL;
	}
	for (int i = 0; i < 4; i++) {
		struct conn *c = &conns[i];
		if (c->used)
			continue;
		c->used = 1;
		c->id = i;
		c->read = 0;
		ixev_ctx_init(&c->ctx);
		ixev_set_handler(&c->ctx, IXEVIN | IXEVOUT, handler);
		return &c->ctx;
	}
	return NULL;
}

static void on_release(struct ixev_ctx *ctx)
{
	struct conn *c = (struct conn *)ctx;

	call("release c%d;", c->id);
	c->used = 0;
}

static const struct ixev_conn_ops conn_ops = { on_accept, on_release };

// ---------------------------------------------------------------------

static void check(const char *name, const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) == 0) {
		passed++;
		return;
	}
	failed++;
	printf("%s: %s\n  got  %s\n  want %s\n", name, what, got, want);
}

static void check_long(const char *name, const char *what, long got, long want)
{
	if (got == want) {
		passed++;
		return;
	}
	failed++;
	printf("%s: %s %ld, want %ld\n", name, what, got, want);
}

// Ends a case: what the crossings carried and the handlers did.
static void expect(const char *name, const char *want_commands, const char *want_calls)
{
	check(name, "commands", commands, want_commands);
	check(name, "handler calls", calls, want_calls);
	commands[0] = calls[0] = '\0';
}

// Connection h knocks and is accepted: returns its conn.
static struct conn *open_conn(hid_t h)
{
	knock(h);
	ixev_wait();
	commands[0] = calls[0] = '\0';
	return (struct conn *)cookies[h];
}

static void test_accept(void)
{
	refuse = 1;                     // the first knock
	knock(1);
	knock(2);
	ixev_wait();
	ixev_wait();
	expect("accept", "|reject 1;accept 2;|", "");
	check_long("accept", "accepted", (long)ixev_stats()->accepted, 1);
	check_long("accept", "refused", (long)ixev_stats()->refused, 1);
	conns[0].used = 0;
}

// Two pieces in one crossing: one handler call; ixev_recv copies across
// them; what it consumed goes back once, at the next crossing.
static void test_recv(void)
{
	struct conn *c = open_conn(1);

	c->read = 7;
	recv_bytes(1, "hello ");
	recv_bytes(1, "world");
	ixev_wait();
	expect("recv", "|", "c0:IN='hello w';");
	c->read = 0;
	const void *addr = NULL;
	check_long("recv", "peek", ixev_recv_peek(&c->ctx, &addr), 4);
	check("recv", "peeked", addr, "orld");
	check("recv", "zc of 2", ixev_recv_zc(&c->ctx, 2), "orld");
	check_long("recv", "zc past the piece", ixev_recv_zc(&c->ctx, 3) == NULL, 1);
	check_long("recv", "peek after", ixev_recv_peek(&c->ctx, &addr), 2);
	char buf[8];
	check_long("recv", "ixev_recv", ixev_recv(&c->ctx, buf, sizeof(buf)), 2);
	check_long("recv", "ixev_recv with nothing", ixev_recv(&c->ctx, buf, sizeof(buf)), -EAGAIN);
	ixev_wait();
	expect("recv", "recv_done 1 11;|", "");
	// Turning IXEVIN on while bytes wait calls the handler.
	recv_bytes(1, "x");
	ixev_set_handler(&c->ctx, IXEVOUT, handler);
	ixev_wait();
	ixev_set_handler(&c->ctx, IXEVIN | IXEVOUT, handler);
	ixev_wait();
	expect("recv", "||", "c0:IN;");
	ixev_close(&c->ctx);
	ixev_wait();
	expect("recv", "recv_done 1 1;close 1;|", "release c0;");
}

// Sends take what the window has room for; the bytes go at the next
// crossing, read from the context then; IXEVOUT when acknowledged.
static void test_send(void)
{
	static char big[IX_TCP_SNDBUF + 100];
	struct conn *c = open_conn(2);

	memset(big, 'b', sizeof(big));
	big[0] = 'B';
	check_long("send", "a send past the window", ixev_send(&c->ctx, big, sizeof(big)),
		   IX_TCP_SNDBUF);
	check_long("send", "a full window", ixev_send(&c->ctx, "x", 1), -EAGAIN);
	event(IX_EV_SENT, 2, 0, 1000, 0);
	ixev_wait();
	check_long("send", "after 1000 acknowledged", ixev_send(&c->ctx, "yz", 2), 2);
	check_long("send", "len 0", ixev_send(&c->ctx, "", 0), -EINVAL);
	ixev_wait();
	expect("send", "send 2 #0;#0=23360:Bb;|send 2 #0;#0=2:yz;|", "c0:OUT;");
	// Refused for want of memory: the same bytes again, then what
	// came after them.
	event(IX_EV_SENT, 2, 0, 20, 0);
	ixev_wait();
	check_long("send", "ab", ixev_send(&c->ctx, "ab", 2), 2);
	event(IX_EV_ERROR, 2, -ENOMEM, IX_CMD_SEND, 0);
	ixev_wait();
	event(IX_EV_ERROR, 2, -ENOMEM, IX_CMD_SEND, 0);
	ixev_wait();
	check_long("send", "cd", ixev_send(&c->ctx, "cd", 2), 2);
	ixev_wait();
	check_long("send", "retries", (long)ixev_stats()->send_retries, 2);
	expect("send", "|send 2 #0;#0=2:ab;|send 2 #0;#0=2:ab;|send 2 #0;#0=4:ad;|", "c0:OUT;");
	// A close waits for the bytes taken before it, and for the peer to
	// acknowledge every byte (the dataplane sends them by reference).
	check_long("send", "ef", ixev_send(&c->ctx, "ef", 2), 2);
	ixev_close(&c->ctx);
	check_long("send", "after close", ixev_send(&c->ctx, "g", 1), -EINVAL);
	ixev_wait();
	ixev_wait();
	event(IX_EV_SENT, 2, 0, IX_TCP_SNDBUF + 8 - 1020, 0);
	ixev_wait();
	ixev_wait();
	expect("send", "send 2 #0;#0=2:ef;|||close 2;|", "release c0;");
}

// The send buffer is a ring: bytes staged past its end go at the next
// crossing, after those before the end.
static void test_wrap(void)
{
	static char first[IX_TCP_SNDBUF - 360], second[1000];
	struct conn *c = open_conn(1);

	memset(first, 'a', sizeof(first));
	check_long("wrap", "first", ixev_send(&c->ctx, first, sizeof(first)), sizeof(first));
	event(IX_EV_SENT, 1, 0, sizeof(first), 0);
	ixev_wait();
	memset(second, '.', sizeof(second));
	second[0] = 'F', second[359] = 'G', second[360] = 'H', second[999] = 'I';
	check_long("wrap", "second", ixev_send(&c->ctx, second, sizeof(second)), sizeof(second));
	ixev_wait();
	ixev_wait();
	expect("wrap", "send 1 #0;#0=23000:aa;|send 1 #0;#0=360:FG;|send 1 #0;#0=640:HI;|",
	       "c0:OUT;");
	event(IX_EV_SENT, 1, 0, sizeof(second), 0);
	ixev_close(&c->ctx);
	ixev_wait();
	ixev_wait();
	expect("wrap", "|close 1;|", "release c0;");
}

// The peer's close: the bytes before it, then 0; sending still works.
// A reset: IXEVHUP, the bytes held, then why; sends fail and staged
// bytes are dropped.
static void test_end(void)
{
	struct conn *c = open_conn(3);

	c->read = 10;
	recv_bytes(3, "bye");
	event(IX_EV_DEAD, 3, 0, 0, 0);
	ixev_wait();
	ixev_set_handler(&c->ctx, IXEVIN, handler);     // the close is still there to read
	ixev_wait();
	check_long("end", "send after the peer's close", ixev_send(&c->ctx, "ok", 2), 2);
	ixev_close(&c->ctx);
	event(IX_EV_SENT, 3, 0, 2, 0);
	ixev_wait();
	ixev_wait();
	expect("end", "|recv_done 3 3;|send 3 #0;#0=2:ok;|close 3;|",
	       "c0:IN='bye';c0:IN=0;release c0;");

	c = open_conn(4);
	c->read = 0;
	recv_bytes(4, "late");
	ixev_wait();
	ixev_send(&c->ctx, "lost", 4);
	ixev_set_handler(&c->ctx, 0, handler);          // IXEVHUP comes anyway
	event(IX_EV_DEAD, 4, -ECONNRESET, 0, 0);
	ixev_wait();
	char buf[8];
	check_long("end", "read after a reset", ixev_recv(&c->ctx, buf, sizeof(buf)), 4);
	check_long("end", "then", ixev_recv(&c->ctx, buf, sizeof(buf)), -ECONNRESET);
	check_long("end", "send after a reset", ixev_send(&c->ctx, "x", 1), -ENOTCONN);
	ixev_close(&c->ctx);
	ixev_wait();
	expect("end", "|send 4 #0;#0=4:lt;|recv_done 4 4;close 4;|", "c0:IN;c0:HUP;release c0;");
}

// Two connections with news in one crossing: each handler once, in the
// order their news came.
static void test_two(void)
{
	struct conn *a = open_conn(6), *b = open_conn(7);

	recv_bytes(7, "b");
	recv_bytes(6, "a");
	recv_bytes(7, "b");
	ixev_wait();
	ixev_close(&a->ctx);
	ixev_close(&b->ctx);
	ixev_wait();
	expect("two", "|recv_done 6 1;close 6;recv_done 7 2;close 7;|",
	       "c1:IN;c0:IN;release c1;release c0;");
}

// More pieces than IXEV_RECV_DEPTH unread: the connection is ended and
// every byte given back, those that come after too.
static void test_overrun(void)
{
	struct conn *c = open_conn(5);

	for (int i = 0; i <= IXEV_RECV_DEPTH; i++)
		recv_bytes(5, "p");
	recv_bytes(5, "q");
	ixev_wait();
	char buf[8];
	check_long("overrun", "ixev_recv", ixev_recv(&c->ctx, buf, sizeof(buf)), -ENOBUFS);
	check_long("overrun", "overruns", (long)ixev_stats()->overruns, 1);
	ixev_close(&c->ctx);
	ixev_wait();
	expect("overrun", "|recv_done 5 129;recv_done 5 1;close 5;|", "c0:INHUP;release c0;");
}

int main(void)
{
	ixev_init(&conn_ops);
	test_accept();
	test_recv();
	test_send();
	test_wrap();
	test_end();
	test_two();
	test_overrun();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
