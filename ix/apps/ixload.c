// ixload [--nic=N] [IP [PORT [OPTION=VALUE...]]]: a closed-loop load
// generator, an IX client application (ix/libix/ix.h) in ring 3 over the
// dataplane (ix/dp), which runs on port N of the 82599 (--nic=1: port 1,
// the far end of the model's internal wire from a server on port 0) at
// IP (10.0.2.16 on port 1) and listens on PORT (7, unused). Each of C
// connections sends a request and waits for the whole reply before it
// sends the next; every reply is checked byte for byte.
//
// Options (each once at most, in any order):
//   server=IP:PORT   the server (10.0.2.15, port 7 for echo, 11211 for
//                    memcached)
//   mode=echo        messages of size= bytes, each echoed back whole
//   mode=memcached   memcached's text protocol: get= percent of the
//                    requests are "get KEY", the others "set KEY 0 0
//                    VALUE"; keys of key= bytes from a keyspace of keys=
//                    keys, values of value= bytes
//   conns=C          connections (8, at most 32)
//   requests=N       requests in all (1000), then the run ends ...
//   seconds=T        ... or after T seconds (30), whichever comes first
//   size=S           echo's message (64 bytes, at most 4096)
//   key=K value=V    memcached's key (16 bytes, at most 250) and value (32
//                    bytes, at most 4096)
//   get=P keys=K     memcached's gets in percent (90) and keyspace (1000,
//                    at most 16384, at least C)
//   seed=X           the requests' choices and bytes (1): a run is
//                    deterministic for a seed
//   tsc=UNIT         what the TSC counts: cycles (the default), or
//                    instructions (under Bochs, whose TSC advances per
//                    instruction)
//   end=quit         once done, a last connection that says "quit" and
//   end=shutdown     waits for its echo (ixecho-libix's end), or says
//                    "shutdown" (ixkvs's end); end=none (the default):
//                    nothing; end=vanish: ixload ends without closing
//                    its connections, as a client whose machine lost
//                    its power (its port goes off with it: the server
//                    hears nothing more, until its keep-alive gives up)
//
// Connection c sends requests / C requests (one more if c < requests %
// C), and uses only the keys k with k % C == c, so that no two
// connections race on a key: ixload knows what each get must return
// (END for a key never set, else the VALUE its last set stored). Each
// connection draws from its own generator (splitmix64 from seed *
// (2^32 + 1) + c: for each request, a draw for get or set, then one for
// the key, or one for echo's bytes), so the requests, the replies
// expected and every count do not depend on timing.
//
// On N cores (ixdp --cores=N), each core's main opens connections c
// with c % N equal to its number (ix_core), and core 0 sends the end
// once every core is done, then prints the results of all: the same
// lines, the same counts. A connection's events come to the core that
// runs its flow group, which the control plane may move (conns and the
// end's state are shared by the cores; a connection's events never
// come to two cores at once).
//
// Output (these lines are stable: tools/tests/test_ix.py and
// run=bench.ix read them):
//   ixload: mode M, server IP:PORT, conns C, requests N, seed X
//   ixload: requests R, replies checked K, errors E, connections C, failed F
//   ixload: gets G, hits H, misses M, sets S, stored S         (memcached)
//   ixload: end quit done          (end= only; "failed" if it did not go)
//   ixload: throughput Q requests/s, K replies in T ms
//   ixload: cost W UNIT/request
//   ixload: latency UNIT p50 A, p99 B, p99.9 C, max D
// R counts the requests sent, K the replies that matched, E every
// mismatch, refused command and lost connection; C the connections
// opened, F those that failed to open (a connect the server refused is
// tried again, up to 5 times: it may be starting). Throughput is by
// uptime_ms from the first request to the last reply; cost and latency
// are TSC ticks (each request's from its send to the end of its reply,
// from a histogram of fixed size whose buckets are within 1/16 of their
// values). The status is 0 when every request sent got its reply, as
// expected, and nothing failed; 1 otherwise; 100 for bad options.

#include <stdbool.h>

#include "arch/x86.h"
#include "ix/apps/histogram.h"
#include "ix/libix/ix.h"
#include "lib/printfmt.h"
#include "ulib.h"

#define MAX_CONNS 32
#define CONNECT_TRIES 5         // a refused connect is tried again (the server starting)
#define MSG_MAX 4096            // echo's message, memcached's value
#define KEY_MAX 250             // memcached's limit
#define KEYS_MAX 16384
#define REQ_MAX (MSG_MAX + KEY_MAX + 64)        // a request, with its command line
#define REPLY_MAX (MSG_MAX + KEY_MAX + 64)      // a reply expected

// -- options --

enum mode { MODE_ECHO, MODE_MEMCACHED };

// Core 0 parses them (options_parsed); the other cores read them.
static struct {
	enum mode mode;
	uint32_t server_ip;
	uint16_t server_port;           // 0: the mode's
	unsigned long conns, requests, seconds, size, key, value, get, keys, seed;
	const char *tsc_unit;
	const char *end;                // "quit", "shutdown", or NULL
} opt = {
	.mode = MODE_ECHO, .server_ip = 0x0A00020F, .conns = 8, .requests = 1000,
	.seconds = 30, .size = 64, .key = 16, .value = 32, .get = 90, .keys = 1000, .seed = 1,
	.tsc_unit = "cycles",
};

// Parses "A.B.C.D:PORT"; false if it is not one.
static bool parse_server(const char *s, uint32_t *ip, uint16_t *port)
{
	uint32_t addr = 0;

	for (int i = 0; i < 4; i++) {
		const char *end;
		unsigned long byte = strtoul(s, &end, 10);
		if (end == s || byte > 255 || *end != (i < 3 ? '.' : ':'))
			return false;
		addr = addr << 8 | (uint32_t)byte;
		s = end + 1;
	}
	const char *end;
	unsigned long p = strtoul(s, &end, 10);
	if (end == s || *end != 0 || p == 0 || p > 65535)
		return false;
	*ip = addr;
	*port = (uint16_t)p;
	return true;
}

// A number option's value, within [min, max]; false if it is not one.
static bool parse_number(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	const char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end != 0 || v < min || v > max)
		return false;
	*out = v;
	return true;
}

// The number options: name, where its value goes, its range.
static const struct {
	const char *name;
	unsigned long *value, min, max;
} numbers[] = {
	{ "conns", &opt.conns, 1, MAX_CONNS }, { "requests", &opt.requests, 1, ~0ul },
	{ "seconds", &opt.seconds, 1, 3600 }, { "size", &opt.size, 1, MSG_MAX },
	{ "key", &opt.key, 1, KEY_MAX }, { "value", &opt.value, 1, MSG_MAX },
	{ "get", &opt.get, 0, 100 }, { "keys", &opt.keys, 1, KEYS_MAX },
	{ "seed", &opt.seed, 0, ~0ul },
};

// Whether word is one of the NULL-terminated choices; if so, *choice is
// the one it is (the caller's constant, which outlives argv).
static bool parse_choice(const char *word, const char *const choices[], const char **choice)
{
	for (int i = 0; choices[i] != NULL; i++) {
		if (strcmp(word, choices[i]) == 0) {
			*choice = choices[i];
			return true;
		}
	}
	return false;
}

// Parses one OPTION=VALUE; false after a line that says what is wrong.
static bool parse_option(const char *arg)
{
	static const char *const modes[] = { "echo", "memcached", NULL };
	static const char *const units[] = { "cycles", "instructions", NULL };
	static const char *const ends[] = { "quit", "shutdown", "none", "vanish", NULL };
	const char *eq = strchr(arg, '='), *value = eq ? eq + 1 : "", *choice;
	char name[16];

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(name)) {
		printf("ixload: '%s' is not OPTION=VALUE (ixload.c's header lists them)\n", arg);
		return false;
	}
	strlcpy(name, arg, (size_t)(eq - arg) + 1);
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		if (strcmp(name, numbers[i].name) != 0)
			continue;
		if (parse_number(value, numbers[i].min, numbers[i].max, numbers[i].value))
			return true;
		printf("ixload: %s: want a number from %lu to %lu\n", arg, numbers[i].min,
		       numbers[i].max);
		return false;
	}
	bool ok = false;
	if (strcmp(name, "mode") == 0 && (ok = parse_choice(value, modes, &choice)))
		opt.mode = choice == modes[0] ? MODE_ECHO : MODE_MEMCACHED;
	else if (strcmp(name, "server") == 0)
		ok = parse_server(value, &opt.server_ip, &opt.server_port);
	else if (strcmp(name, "tsc") == 0)
		ok = parse_choice(value, units, &opt.tsc_unit);
	else if (strcmp(name, "end") == 0 && (ok = parse_choice(value, ends, &choice)))
		opt.end = choice == ends[2] ? NULL : choice;
	if (!ok)
		printf("ixload: option '%s' not understood (ixload.c's header lists them)\n", arg);
	return ok;
}

// -- the requests: deterministic bytes, and the replies they must get --

// splitmix64: a connection's generator.
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

// Fills buf with n letters that stand for (a, b): a stream of the
// generator, so that no shift of the bytes looks the same.
static void fill_bytes(char *buf, size_t n, uint64_t a, uint64_t b)
{
	uint64_t state = a << 32 ^ b, bits = 0;

	for (size_t i = 0; i < n; i++, bits /= 26) {
		if (i % 8 == 0)
			bits = next_random(&state);
		buf[i] = (char)('a' + bits % 26);
	}
}

// memcached: sets of each key so far (0: never set). Shared by the
// cores: key k is connection k % conns's alone, so one core's.
static uint32_t versions[KEYS_MAX];

struct conn {
	enum { IDLE, CONNECTING, OPEN, GONE } state;
	hid_t handle;
	uint64_t random;                // the generator
	unsigned tries;                 // connects made
	uint64_t sent;                  // requests sent on it
	size_t window;                  // bytes it may send now
	char req[REQ_MAX];              // the request in flight (kept until acknowledged)
	size_t req_len;
	bool waiting;                   // a request is in flight
	bool set;                       // memcached: the request is a set
	char expect[REPLY_MAX];         // its reply
	size_t expect_len, got;         // bytes of the reply, and those received
	uint64_t start;                 // the TSC when it was sent
};

struct counts {
	uint64_t requests, checked, errors, opened, failed;
	uint64_t gets, hits, misses, sets, stored;
	uint64_t first_ms, last_ms, first_tsc, last_tsc;
};

// Shared by the cores: connection i is core i % ix_cores()'s alone.
static struct conn conns[MAX_CONNS];
// This core's.
// TSC ticks from a request's send to its reply's end.
static __thread struct histogram latency;
static __thread struct counts count;
// Every core's, added up as each is done (under all_lock).
static struct histogram all_latency;
static struct counts all_count;
static bool all_lock;
static uint64_t clock_rate;             // ms_clock_read's, the same on every core
static int cores_done;
static bool finished;                   // core 0 is done: the others may end

// Makes connection c's next echo request and its reply.
static void make_echo(struct conn *c, unsigned long id)
{
	c->req_len = opt.size;
	fill_bytes(c->req, c->req_len, id, next_random(&c->random));
	memcpy(c->expect, c->req, c->req_len);
	c->expect_len = c->req_len;
}

// The key of index k: "k" and k's digits, zero-padded to opt.key bytes.
static int format_key(char *buf, unsigned long k)
{
	return snprintf(buf, KEY_MAX + 1, "k%0*lu", (int)opt.key - 1, k);
}

// Puts the value of key k (as its last set made it) at buf + at, then
// tail; returns the length up to tail's end.
static size_t put_value(char *buf, size_t at, unsigned long k, const char *tail)
{
	size_t n = strlen(tail);

	fill_bytes(buf + at, opt.value, k, versions[k]);
	memcpy(buf + at + opt.value, tail, n);
	return at + opt.value + n;
}

// Makes connection c's next memcached request (a get or a set of one of
// its keys) and the reply it must get.
static void make_memcached(struct conn *c, unsigned long id)
{
	unsigned long own = (opt.keys - id + opt.conns - 1) / opt.conns;     // keys of c
	bool get = next_random(&c->random) % 100 < opt.get;
	unsigned long k = id + opt.conns * (next_random(&c->random) % own);
	char key[KEY_MAX + 1];

	format_key(key, k);
	c->set = !get;
	if (!get) {
		count.sets++;
		versions[k]++;
		size_t h = (size_t)snprintf(c->req, REQ_MAX, "set %s 0 0 %lu\r\n", key, opt.value);
		c->req_len = put_value(c->req, h, k, "\r\n");
		c->expect_len = (size_t)snprintf(c->expect, REPLY_MAX, "STORED\r\n");
		return;
	}
	count.gets++;
	c->req_len = (size_t)snprintf(c->req, REQ_MAX, "get %s\r\n", key);
	if (versions[k] == 0) {
		count.misses++;
		c->expect_len = (size_t)snprintf(c->expect, REPLY_MAX, "END\r\n");
		return;
	}
	count.hits++;
	size_t h = (size_t)snprintf(c->expect, REPLY_MAX, "VALUE %s 0 %lu\r\n", key, opt.value);
	c->expect_len = put_value(c->expect, h, k, "\r\nEND\r\n");
}

// -- the connections --

// The end message's connection (end=), its cookie END_COOKIE.
#define END_COOKIE MAX_CONNS
static enum { END_NONE, END_CONNECTING, END_SENDING, END_DONE, END_FAILED } end_state;
static hid_t end_handle;
static size_t end_echoed;               // bytes of the end message echoed (quit)
static char end_text[16];               // the message: "quit\r\n" or "shutdown\r\n"

static struct conn *conn_of(unsigned long cookie)
{
	return cookie < opt.conns ? &conns[cookie] : NULL;
}

static void conn_error(struct conn *c, const char *what)
{
	printf("ixload: connection %ld: %s\n", (long)(c - conns), what);
	count.errors++;
}

// Ends c (its handle closed; no more requests on it).
static void conn_gone(struct conn *c)
{
	if (c->state == OPEN)
		ix_tcp_close(c->handle);
	c->state = GONE;
	c->waiting = false;
}

_Static_assert(REQ_MAX <= IX_TCP_SNDBUF, "a request fits in the send window");

// Connection c's share of requests=, the same whatever the timing.
static uint64_t share_of(const struct conn *c)
{
	unsigned long id = (unsigned long)(c - conns);

	return opt.requests / opt.conns + (id < opt.requests % opt.conns);
}

// Makes and sends c's next request, if c has requests left and the peer
// has acknowledged the last one: the dataplane sends c->req by reference
// (ix.h), so it stays as it is until then. (The reply's first segment
// acknowledges the request: the sent event comes with the reply's end
// at the latest, in the same poll or, if that poll's events filled up,
// the next.)
static void next_request(struct conn *c)
{
	unsigned long id = (unsigned long)(c - conns);

	if (c->sent == share_of(c) || c->waiting || c->window < IX_TCP_SNDBUF)
		return;
	if (count.requests == 0) {
		count.first_ms = ms_clock_read(clock_rate);
		count.first_tsc = rdtsc();
	}
	if (opt.mode == MODE_ECHO)
		make_echo(c, id);
	else
		make_memcached(c, id);
	count.requests++;
	c->got = 0;
	// waiting before sent: busy, on another core, sees either.
	c->waiting = true;
	__atomic_store_n(&c->sent, c->sent + 1, __ATOMIC_RELEASE);
	c->window -= c->req_len;
	c->start = rdtsc();
	ix_tcp_send(c->handle, c->req, c->req_len);
}

// The whole reply to c's request has come, as expected.
static void reply_done(struct conn *c)
{
	uint64_t now = rdtsc();

	histogram_add(&latency, now - c->start);
	count.checked++;
	count.stored += c->set;
	count.last_ms = ms_clock_read(clock_rate);
	count.last_tsc = now;
	c->waiting = false;
	next_request(c);
}

// Opens connection i to the server.
static void conn_open(unsigned long i)
{
	struct ix_tuple id = { .dst_ip = opt.server_ip, .dst_port = opt.server_port };

	conns[i].state = CONNECTING;
	conns[i].tries++;
	ix_tcp_connect(&id, i);
}

static void on_knock(hid_t handle, const struct ix_tuple *id)
{
	ix_tcp_reject(handle);
}

static void on_connected(hid_t handle, unsigned long cookie, long ret)
{
	if (cookie == END_COOKIE) {
		if (ret < 0) {
			printf("ixload: the end's connection: connect: %s\n", strerror((int)ret));
			end_state = END_FAILED;
			return;
		}
		end_handle = handle;
		end_state = END_SENDING;
		ix_tcp_send(handle, end_text, strlen(end_text));
		return;
	}
	struct conn *c = conn_of(cookie);
	if (c == NULL || c->state != CONNECTING) {
		if (ret == 0)
			ix_tcp_close(handle);   // given up on while it opened
		return;
	}
	if (ret == -ECONNREFUSED && c->tries < CONNECT_TRIES) {
		conn_open(cookie);
		return;
	}
	if (ret < 0) {
		printf("ixload: connection %lu: connect: %s\n", cookie, strerror((int)ret));
		count.failed++;
		count.errors++;
		c->state = GONE;
		return;
	}
	count.opened++;
	c->state = OPEN;
	c->handle = handle;
	c->window = IX_TCP_SNDBUF;
	next_request(c);
}

static void on_recv(hid_t handle, unsigned long cookie, const void *addr, size_t len)
{
	struct conn *c = conn_of(cookie);

	if (c != NULL && c->state == GONE)
		return;                 // closed: the handle is gone with its buffers
	ix_tcp_recv_done(handle, len);
	if (cookie == END_COOKIE) {
		end_echoed += len;
		if (end_echoed >= strlen(end_text))
			end_state = END_DONE;
		return;
	}
	if (c == NULL)
		return;
	if (!c->waiting || c->got + len > c->expect_len) {
		conn_error(c, "more bytes than the reply expected");
		conn_gone(c);
		return;
	}
	if (memcmp(c->expect + c->got, addr, len) != 0) {
		conn_error(c, opt.mode == MODE_ECHO ? "the echo differs from the message" :
			   "the reply differs from the one expected");
		conn_gone(c);
		return;
	}
	c->got += len;
	if (c->got == c->expect_len)
		reply_done(c);
}

static void on_sent(hid_t handle, unsigned long cookie, size_t len, size_t window)
{
	struct conn *c = conn_of(cookie);

	if (c == NULL || c->state != OPEN)
		return;
	c->window += len;
	next_request(c);
}

static void on_dead(hid_t handle, unsigned long cookie, long reason)
{
	struct conn *c = conn_of(cookie);

	if (cookie == END_COOKIE) {
		if (end_state != END_DONE)
			end_state = END_FAILED;
		return;
	}
	if (c == NULL) {
		ix_tcp_close(handle);
		return;
	}
	if (c->state != OPEN)
		return;
	conn_error(c, reason == 0 ? "the server closed the connection" : strerror((int)reason));
	conn_gone(c);
}

static void on_error(hid_t handle, unsigned long cookie, int op, long err)
{
	printf("ixload: the dataplane refused command %d of handle 0x%lx: %s\n", op, handle,
	       strerror((int)err));
	count.errors++;
	// A refused connect names its connection by the cookie: it will not open.
	struct conn *c = op == IX_CMD_CONNECT ? conn_of(cookie) : NULL;
	if (c != NULL && c->state == CONNECTING) {
		count.failed++;
		c->state = GONE;
	}
	if (op == IX_CMD_CONNECT && cookie == END_COOKIE)
		end_state = END_FAILED;
}

static const struct ix_ops ops = {
	.knock = on_knock, .connected = on_connected, .recv = on_recv, .sent = on_sent,
	.dead = on_dead, .error = on_error,
};

// Whether connection i is this core's.
static bool mine(unsigned long i)
{
	return i % (unsigned long)ix_cores() == (unsigned long)ix_core();
}

// Whether a connection, of any core, is not done: it has requests left
// (it is still to open, or waits for the acknowledgment that lets it
// send its next one) or waits for a reply; one that failed is done. Its
// events may come to any core (its flow group moves), so a core's
// counts are whole only once no connection is busy.
static bool busy(void)
{
	for (unsigned long i = 0; i < opt.conns; i++) {
		const struct conn *c = &conns[i];
		uint64_t sent = __atomic_load_n(&c->sent, __ATOMIC_ACQUIRE);
		if (c->state != GONE && (c->waiting || sent < share_of(c)))
			return true;
	}
	return false;
}

// Runs ix_poll until done() or the time is up; false if ix_poll failed.
static bool poll_until(bool (*done)(void), uint64_t deadline_ms)
{
	while (!done() && ms_clock_read(clock_rate) < deadline_ms) {
		int n = ix_poll();
		if (n < 0) {
			printf("ixload: ix_poll: %s\n", strerror(n));
			return false;
		}
	}
	return true;
}

static bool idle(void)
{
	return !busy();
}

static bool end_sending(void)
{
	return end_state != END_CONNECTING;
}

static bool end_over(void)
{
	return end_state == END_DONE || end_state == END_FAILED;
}

static bool all_done(void)
{
	return __atomic_load_n(&cores_done, __ATOMIC_ACQUIRE) == ix_cores();
}

static bool all_finished(void)
{
	return __atomic_load_n(&finished, __ATOMIC_ACQUIRE);
}

static uint64_t min_set(uint64_t a, uint64_t b)
{
	return a == 0 || (b != 0 && b < a) ? b : a;
}

// Adds this core's counts and latencies to every core's; it is done.
static void add_to_all(void)
{
	while (__atomic_test_and_set(&all_lock, __ATOMIC_ACQUIRE))
		;
	struct counts *a = &all_count;
	a->requests += count.requests;
	a->checked += count.checked;
	a->errors += count.errors;
	a->opened += count.opened;
	a->failed += count.failed;
	a->gets += count.gets;
	a->hits += count.hits;
	a->misses += count.misses;
	a->sets += count.sets;
	a->stored += count.stored;
	a->first_ms = min_set(a->first_ms, count.first_ms);
	a->first_tsc = min_set(a->first_tsc, count.first_tsc);
	a->last_ms = count.last_ms > a->last_ms ? count.last_ms : a->last_ms;
	a->last_tsc = count.last_tsc > a->last_tsc ? count.last_tsc : a->last_tsc;
	histogram_merge(&all_latency, &latency);
	__atomic_clear(&all_lock, __ATOMIC_RELEASE);
	__atomic_add_fetch(&cores_done, 1, __ATOMIC_RELEASE);
}

// -- the run --

static bool parse_options(int argc, char **argv)
{
	for (int i = 3; i < argc; i++)
		if (!parse_option(argv[i]))
			return false;
	if (opt.server_port == 0)
		opt.server_port = opt.mode == MODE_ECHO ? 7 : 11211;
	if (opt.mode == MODE_MEMCACHED) {
		char key[KEY_MAX + 1];
		if (opt.keys < opt.conns || (unsigned long)format_key(key, opt.keys - 1) > opt.key) {
			printf("ixload: keys=%lu: want at least conns=%lu keys, each with its digits "
			       "in key=%lu bytes\n", opt.keys, opt.conns, opt.key);
			return false;
		}
	}
	return true;
}

// Prints the results of every core (all_count, all_latency).
static void print_results(void)
{
	const struct counts *c = &all_count;
	const struct histogram *h = &all_latency;
	uint64_t ms = c->last_ms - c->first_ms, done = c->checked;

	printf("ixload: requests %lu, replies checked %lu, errors %lu, connections %lu, failed %lu\n",
	       c->requests, c->checked, c->errors, c->opened, c->failed);
	if (opt.mode == MODE_MEMCACHED)
		printf("ixload: gets %lu, hits %lu, misses %lu, sets %lu, stored %lu\n", c->gets,
		       c->hits, c->misses, c->sets, c->stored);
	if (opt.end)
		printf("ixload: end %s %s\n", opt.end, end_state == END_DONE ? "done" : "failed");
	printf("ixload: throughput %lu requests/s, %lu replies in %lu ms\n",
	       ms ? done * 1000 / ms : 0, done, ms);
	printf("ixload: cost %lu %s/request\n",
	       done ? (c->last_tsc - c->first_tsc) / done : 0, opt.tsc_unit);
	printf("ixload: latency %s p50 %lu, p99 %lu, p99.9 %lu, max %lu\n", opt.tsc_unit,
	       histogram_percentile(h, 500), histogram_percentile(h, 990),
	       histogram_percentile(h, 999), h->max);
}

// Sends the end message on a connection of its own: "shutdown" is done
// once it left (the server stops at once, without a reply), "quit" once
// it is echoed back (the server stops when its echo is acknowledged: by
// the close's FIN). Returns false if that went wrong.
static bool send_end(uint64_t deadline_ms)
{
	struct ix_tuple id = { .dst_ip = opt.server_ip, .dst_port = opt.server_port };
	bool quit = strcmp(opt.end, "quit") == 0;

	snprintf(end_text, sizeof(end_text), "%s\r\n", opt.end);
	end_state = END_CONNECTING;
	ix_tcp_connect(&id, END_COOKIE);
	if (!poll_until(end_sending, deadline_ms) || end_state == END_FAILED)
		return false;
	if (ix_flush() < 0)
		return false;
	if (!quit && end_state == END_SENDING)
		end_state = END_DONE;
	if (!poll_until(end_over, deadline_ms) || end_state == END_FAILED)
		return false;
	ix_tcp_close(end_handle);
	return ix_flush() == 0;
}

// Core 0's parse of the options: 1 once they are good, -1 if not.
static int options_parsed;

// Whether core 0 found the options good (it parses them, the other
// cores wait for that).
static bool options(int argc, char **argv)
{
	if (ix_core() == 0)
		__atomic_store_n(&options_parsed, parse_options(argc, argv) ? 1 : -1,
				 __ATOMIC_RELEASE);
	int parsed;
	while ((parsed = __atomic_load_n(&options_parsed, __ATOMIC_ACQUIRE)) == 0)
		__builtin_ia32_pause();
	return parsed == 1;
}

int main(int argc, char **argv)
{
	if (!options(argc, argv))
		return 100;
	if (ix_init(&ops) < 0)
		return 1;
	clock_rate = ms_clock_rate();
	if (ix_core() == 0)
		printf("ixload: mode %s, server %u.%u.%u.%u:%u, conns %lu, requests %lu, seed %lu\n",
		       opt.mode == MODE_ECHO ? "echo" : "memcached", opt.server_ip >> 24,
		       (opt.server_ip >> 16) & 0xFF, (opt.server_ip >> 8) & 0xFF,
		       opt.server_ip & 0xFF, opt.server_port, opt.conns, opt.requests, opt.seed);
	for (unsigned long i = 0; i < opt.conns; i++) {
		if (!mine(i))
			continue;
		conns[i].random = opt.seed * 0x100000001ull + i;
		conn_open(i);
	}
	uint64_t deadline = ms_clock_read(clock_rate) + opt.seconds * 1000;
	bool ok = poll_until(idle, deadline);
	bool vanish = opt.end != NULL && strcmp(opt.end, "vanish") == 0;
	for (unsigned long i = 0; i < opt.conns; i++)
		if (mine(i) && !vanish)
			conn_gone(&conns[i]);
	// A connection's replies may come to another core than its requests
	// (its flow group moved): only the sums of all cores are checked.
	add_to_all();
	// The other cores run their flow groups (their connections' ends)
	// until core 0 has sent the end.
	if (ix_core() != 0)
		return poll_until(all_finished, deadline) && ok ? 0 : 1;
	ok = poll_until(all_done, deadline) && all_done() && ok;
	if (vanish)
		end_state = END_DONE;
	else
		ok = ok && (opt.end == NULL || send_end(deadline));
	print_results();
	__atomic_store_n(&finished, true, __ATOMIC_RELEASE);
	return ok && all_count.errors == 0 && all_count.checked == all_count.requests &&
	       all_count.requests == opt.requests ? 0 : 1;
}
