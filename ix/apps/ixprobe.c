// ixprobe IP PORT SECONDS PROBE: an IX application that tries what it
// must not, to show that the dataplane holds (lab10.ixprobe runs it
// once per PROBE; tools/tests/test_ix.py is the client):
//
//   commands   bad commands, before and on a real connection (a handle
//              that names nothing, a connect to port 0, buffers it does
//              not own, lengths past its window (in one piece or in two)
//              or past what it received, a second accept): each must
//              come back as an error event with the expected error, in
//              order (a refused connect with its cookie); the connection
//              must still echo the data it received (read from the
//              read-only buffer, sent back in two pieces by ix_tcp_sendv).
//   rx-write   a write into a received buffer: it must fault.
//   dp-write   a write to the dataplane's memory (the page after ring
//              3's data, libix.ld): it must fault.
//   dp-read    a read of the same: it must fault.
//   privileged a privileged instruction (cli): it must fault (#GP).
//
// Each check prints "ixprobe: ok: ..." or "ixprobe: FAIL: ..."; the exit
// status is the number of failures. A probe that should fault and does
// not fails; when it faults, the dataplane reports it and ixprobe ends
// there.

#include <stdbool.h>

#include "ix/libix/ix.h"
#include "ulib.h"

#define BAD_HANDLE 0x0000dead00000001ul
#define OUTSIDE 0xffff800000000000ul    // past every user address
#define CONNECT_COOKIE 7                // a refused connect's error event carries it

extern char __ixapp_end[];              // the first page that is not ring 3's (libix.ld)

#define ON_CONN (~0ul)            // expected.handle: the probe's connection (cookie 1)

struct expected {
	int op;
	long err;
	const char *what;
	hid_t handle;           // the handle the event must name (its cookie: 1 on ON_CONN, else 0)
};

// The refusals the commands probe expects, in the order it asks.
static const struct expected expected[] = {
	{ IX_CMD_ACCEPT, -EBADF, "accept of handle 0", 0 },
	{ IX_CMD_SEND, -EBADF, "send on a handle that names nothing", BAD_HANDLE },
	{ IX_CMD_RECV_DONE, -EBADF, "recv_done on a handle that names nothing", BAD_HANDLE },
	{ IX_CMD_CLOSE, -EBADF, "close of a handle that names nothing", BAD_HANDLE },
	{ IX_CMD_CONNECT, -EINVAL, "connect to port 0", 0 },
	// On the connection, after its first data:
	{ IX_CMD_SEND, -EFAULT, "send from the dataplane's memory", ON_CONN },
	{ IX_CMD_SEND, -EFAULT, "send from past the user addresses", ON_CONN },
	{ IX_CMD_SEND, -ENOBUFS, "send past the window", ON_CONN },
	{ IX_CMD_SEND, -EINVAL, "send of 0 bytes", ON_CONN },
	{ IX_CMD_SENDV, -EFAULT, "sendv of a piece in the dataplane's memory", ON_CONN },
	{ IX_CMD_SENDV, -EFAULT, "sendv of an array in the dataplane's memory", ON_CONN },
	{ IX_CMD_SENDV, -EINVAL, "sendv of too many pieces", ON_CONN },
	{ IX_CMD_SENDV, -ENOBUFS, "sendv of pieces past the window together", ON_CONN },
	{ IX_CMD_RECV_DONE, -EINVAL, "recv_done past what was received", ON_CONN },
	{ IX_CMD_ACCEPT, -EINVAL, "a second accept", ON_CONN },
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

static const char *probe;
static unsigned refused;        // error events so far (the next expected one)
static int failures;
static bool done;
static hid_t conn;
static size_t echoed;           // bytes received and echoed, not yet given back
static struct ix_sg bad_piece[1], pieces[IX_SENDV_MAX + 1], echo_pieces[2], halves[2];
static char half_window[IX_TCP_SNDBUF / 2 + 1];        // two of them: past the window

static void check(bool ok, const char *what)
{
	printf("ixprobe: %s: %s\n", ok ? "ok" : "FAIL", what);
	failures += !ok;
}

// The commands probe's refusals on a live connection that received
// len (at least 2) bytes at addr; then the echo of those bytes, which
// must work.
static void bad_commands_on(hid_t h, const void *addr, size_t len)
{
	bad_piece[0] = (struct ix_sg){ __ixapp_end, 16 };
	for (unsigned i = 0; i < IX_SENDV_MAX + 1; i++)
		pieces[i] = (struct ix_sg){ addr, 1 };
	ix_tcp_send(h, __ixapp_end, 16);
	ix_tcp_send(h, (const void *)OUTSIDE, 16);
	ix_tcp_send(h, addr, IX_TCP_SNDBUF + 1);
	ix_tcp_send(h, addr, 0);
	ix_tcp_sendv(h, bad_piece, 1);
	ix_tcp_sendv(h, (const struct ix_sg *)__ixapp_end, 1);
	ix_tcp_sendv(h, pieces, IX_SENDV_MAX + 1);
	halves[0] = halves[1] = (struct ix_sg){ half_window, sizeof(half_window) };
	ix_tcp_sendv(h, halves, 2);
	ix_tcp_recv_done(h, len + 1);
	ix_tcp_accept(h, 1);
	// The echo, in two pieces: sendv's own path.
	echo_pieces[0] = (struct ix_sg){ addr, len / 2 };
	echo_pieces[1] = (struct ix_sg){ (const char *)addr + len / 2, len - len / 2 };
	ix_tcp_sendv(h, echo_pieces, 2);
	echoed = len;
}

static void on_knock(hid_t handle, const struct ix_tuple *id)
{
	if (conn != 0) {
		ix_tcp_reject(handle);
		return;
	}
	conn = handle;
	ix_tcp_accept(handle, 1);
}

static void on_connected(hid_t handle, unsigned long cookie, long ret)
{
	check(false, "a connected callback for a connection it did not open");
}

static void on_recv(hid_t handle, unsigned long cookie, const void *addr, size_t len)
{
	char text[64];
	size_t n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;

	memcpy(text, addr, n);
	text[n] = '\0';
	printf("ixprobe: received %lu bytes at 0x%lx: '%s'\n", len, (unsigned long)addr, text);
	if (strcmp(probe, "rx-write") == 0) {
		printf("ixprobe: writing into the received buffer\n");
		*(volatile char *)addr = 'x';
		check(false, "a write into a received buffer did not fault");
		done = true;
		return;
	}
	bad_commands_on(handle, addr, len);
}

// The received bytes are given back only once their echo is
// acknowledged: the dataplane receives the acknowledgment while the
// application still holds the buffer.
static void on_sent(hid_t handle, unsigned long cookie, size_t len, size_t window)
{
	if (window == IX_TCP_SNDBUF) {
		ix_tcp_recv_done(handle, echoed);
		check(refused == NEXPECTED, "every bad command refused, the echo acknowledged");
		ix_tcp_close(handle);
		done = true;
	}
}

static void on_dead(hid_t handle, unsigned long cookie, long reason)
{
	check(false, "the connection ended before its echo was acknowledged");
	ix_tcp_close(handle);
	done = true;
}

static void on_error(hid_t handle, unsigned long cookie, int op, long err)
{
	if (refused >= NEXPECTED) {
		printf("ixprobe: FAIL: an unexpected refusal of command %d: %s\n", op,
		       strerror((int)err));
		failures++;
		return;
	}
	const struct expected *e = &expected[refused++];
	hid_t want = e->handle == ON_CONN ? conn : e->handle;
	// A refused connect names itself by its cookie.
	unsigned long want_cookie = op == IX_CMD_CONNECT ? CONNECT_COOKIE : e->handle == ON_CONN;
	bool ok = op == e->op && err == e->err && handle == want && cookie == want_cookie;
	printf("ixprobe: %s: %s refused: %s", ok ? "ok" : "FAIL", e->what, strerror((int)err));
	if (!ok)
		printf(" (command %d, handle 0x%lx, cookie %lu; expected %d, 0x%lx, %lu: %s)", op,
		       handle, cookie, e->op, want, want_cookie, strerror((int)e->err));
	printf("\n");
	failures += !ok;
}

static const struct ix_ops ops = {
	.knock = on_knock, .connected = on_connected, .recv = on_recv, .sent = on_sent,
	.dead = on_dead, .error = on_error,
};

// The refusals that need no connection.
static void bad_commands(void)
{
	struct ix_tuple to_port_0 = { .dst_ip = 0x0A000202, .dst_port = 0 };

	ix_tcp_accept(0, 1);
	ix_tcp_send(BAD_HANDLE, "x", 1);
	ix_tcp_recv_done(BAD_HANDLE, 1);
	ix_tcp_close(BAD_HANDLE);
	ix_tcp_connect(&to_port_0, CONNECT_COOKIE);
}

int main(int argc, char **argv)
{
	unsigned long seconds = argc > 3 ? strtoul(argv[3], NULL, 10) : 30;

	probe = argc > 4 ? argv[4] : "";
	if (ix_init(&ops) < 0)
		return 1;
	if (strcmp(probe, "dp-write") == 0) {
		printf("ixprobe: ready (probe dp-write): writing 0x%lx\n", (unsigned long)__ixapp_end);
		*(volatile char *)__ixapp_end = 'x';
		check(false, "a write to the dataplane's memory did not fault");
		return failures;
	}
	if (strcmp(probe, "dp-read") == 0) {
		printf("ixprobe: ready (probe dp-read): reading 0x%lx\n", (unsigned long)__ixapp_end);
		printf("ixprobe: read %d\n", *(volatile char *)__ixapp_end);
		check(false, "a read of the dataplane's memory did not fault");
		return failures;
	}
	if (strcmp(probe, "privileged") == 0) {
		printf("ixprobe: ready (probe privileged): cli\n");
		asm volatile("cli");
		check(false, "cli in ring 3 did not fault");
		return failures;
	}
	if (strcmp(probe, "commands") == 0)
		bad_commands();
	else if (strcmp(probe, "rx-write") != 0) {
		printf("usage: ixprobe IP PORT SECONDS commands|rx-write|dp-write|dp-read|privileged\n");
		return 100;
	}
	printf("ixprobe: ready (probe %s)\n", probe);
	uint64_t rate = ms_clock_rate(), start = ms_clock_read(rate);
	while (!done && ms_clock_read(rate) - start < seconds * 1000)
		if (ix_poll() < 0)
			return 100;
	check(done, "the client came and the probe ran");
	printf("ixprobe: %d failures\n", failures);
	return failures;
}
