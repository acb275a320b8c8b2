// Host-side test of the key-value server's protocol and store
// (ix/apps/kvproto.c, kvstore.c). Built with the host compiler (make
// host-tests).
//
// Each case sends bytes to a new server's connection and compares the
// reply bytes with memcached 1.6.18's for the same bytes (read from a
// real one). Every case runs three ways: all bytes at once, one byte at
// a time (a command split anywhere), and with an output that is full
// after every reply (the connection must stop, then go on where it
// stopped once the output drains). The last line is "N passed, N failed".

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ix/apps/kvproto.h"

#define UNIX_START 1000000000           // the Unix time at the server's time 0
#define ARENA (1u << 20)

static int failed, passed;

// ---------------------------------------------------------------------
// The connection's output: a buffer, "full" once it holds window bytes
// more than were drained.

struct outbuf {
	char data[1 << 20];
	size_t len, drained, window;
};

static bool out_write(void *arg, const void *data, size_t len)
{
	struct outbuf *o = arg;

	if (o->len + len > sizeof(o->data))
		return false;
	memcpy(o->data + o->len, data, len);
	o->len += len;
	return true;
}

static bool out_full(void *arg)
{
	struct outbuf *o = arg;

	return o->len - o->drained >= o->window;
}

static struct outbuf out_buf;
static const struct kv_out out = { out_write, out_full, &out_buf };

// Sends len bytes in pieces of piece bytes; drains the output whenever
// the connection stops for it. Returns the bytes the connection took.
static size_t feed(struct kv_conn *c, const char *in, size_t len, size_t piece)
{
	size_t used = 0;

	for (int stalls = 0; stalls < 3; ) {
		size_t n = len - used < piece ? len - used : piece;
		size_t took = kv_conn_input(c, in + used, n, &out);
		used += took;
		if (kv_conn_closed(c) || (used == len && c->state != KV_GET))
			break;
		stalls = took == 0 && !out_full(out.arg) ? stalls + 1 : 0;
		out_buf.drained = out_buf.len;
	}
	return used;
}

// Shows bytes with \r and \n spelled out.
static void show(const char *what, const char *s, size_t n)
{
	printf("  %s: \"", what);
	for (size_t i = 0; i < n && i < 400; i++) {
		if (s[i] == '\r')
			printf("\\r");
		else if (s[i] == '\n')
			printf("\\n");
		else if (s[i] >= ' ' && s[i] < 127)
			putchar(s[i]);
		else
			printf("\\x%02x", (unsigned char)s[i]);
	}
	printf("%s\"\n", n > 400 ? "..." : "");
}

static void check_reply(const char *name, const char *mode, const char *want, size_t nwant)
{
	if (out_buf.len == nwant && memcmp(out_buf.data, want, nwant) == 0) {
		passed++;
		return;
	}
	failed++;
	printf("%s (%s): the replies differ\n", name, mode);
	show("want", want, nwant);
	show("got ", out_buf.data, out_buf.len);
}

// ---------------------------------------------------------------------
// Cases: bytes sent, replies expected, on a new server at time 1.

struct kv_case {
	const char *name;
	const char *in;
	const char *want;
};

#define VALUE_A "VALUE k 0 1\r\na\r\nEND\r\n"

static const struct kv_case cases[] = {
	{ "set and get", "set k 0 0 1\r\na\r\nget k\r\n", "STORED\r\n" VALUE_A },
	{ "get of several keys, one missing, one twice",
	  "set a 1 0 1\r\nx\r\nset b 2 0 2\r\nyy\r\nget a nokey b a\r\n",
	  "STORED\r\nSTORED\r\nVALUE a 1 1\r\nx\r\nVALUE b 2 2\r\nyy\r\nVALUE a 1 1\r\nx\r\n"
	  "END\r\n" },
	{ "gets shows cas, which each store changes",
	  "set k 0 0 1\r\na\r\ngets k\r\nset k 0 0 1\r\nb\r\ngets k\r\n",
	  "STORED\r\nVALUE k 0 1 1\r\na\r\nEND\r\nSTORED\r\nVALUE k 0 1 2\r\nb\r\nEND\r\n" },
	{ "flags are 32 bits: larger ones keep their low bits",
	  "set k 4294967295 0 1\r\na\r\nget k\r\nset k 4294967296 0 1\r\na\r\nget k\r\n",
	  "STORED\r\nVALUE k 4294967295 1\r\na\r\nEND\r\nSTORED\r\n" VALUE_A },
	{ "set: numbers with a sign, a tab, spaces; an extra word",
	  "set k +5 0 1\r\na\r\n  set   k  0 0 1 junk\r\nb\r\nset k 7\t 0 1\r\nc\r\nget k\r\n",
	  "STORED\r\nSTORED\r\nSTORED\r\nVALUE k 7 1\r\nc\r\nEND\r\n" },
	{ "set noreply", "set k 0 0 1 noreply\r\na\r\nget k\r\n", VALUE_A },
	{ "set: bad numbers, negative length, key too long",
	  "set k -1 0 1\r\nset k 0 x 1\r\nset k 0 0 -1\r\nset k 0 0 1x\r\n"
	  "set kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	  "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	  "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	  " 0 0 1\r\nabc\r\n",
	  "CLIENT_ERROR bad command line format\r\nCLIENT_ERROR bad command line format\r\n"
	  "CLIENT_ERROR bad command line format\r\nCLIENT_ERROR bad command line format\r\n"
	  "CLIENT_ERROR bad command line format\r\nERROR\r\n" },
	{ "set: length 4294967301 is 5 (32 bits)", "set k 0 0 4294967301\r\nabcde\r\nget k\r\n",
	  "STORED\r\nVALUE k 0 5\r\nabcde\r\nEND\r\n" },
	{ "set: wrong number of words", "set k 0 0\r\nset k 0 0 1 noreply x\r\nset\r\n",
	  "ERROR\r\nERROR\r\nERROR\r\n" },
	{ "bad data chunk: the rest of the block is a command line",
	  "set k 0 0 3\r\nabcdef\r\nset k 0 0 1\r\na\nget k\r\n",
	  "CLIENT_ERROR bad data chunk\r\nERROR\r\nCLIENT_ERROR bad data chunk\r\nERROR\r\n" },
	{ "bad data chunk with noreply is silent",
	  "set k 0 0 1 noreply\r\nab\r\nget k\r\n", "ERROR\r\nEND\r\n" },
	{ "add, replace", "add k 0 0 1\r\na\r\nadd k 0 0 1\r\nb\r\nreplace nokey 0 0 1\r\nc\r\n"
	  "replace k 3 0 1\r\nd\r\nget k\r\n",
	  "STORED\r\nNOT_STORED\r\nNOT_STORED\r\nSTORED\r\nVALUE k 3 1\r\nd\r\nEND\r\n" },
	{ "append, prepend keep the flags; missing keys",
	  "set k 7 0 2\r\nbb\r\nprepend k 0 0 1\r\n1\r\nappend k 5 0 1 noreply\r\n2\r\n"
	  "append nokey 0 0 1\r\nx\r\nprepend nokey 0 0 1\r\nx\r\ngets k\r\n",
	  "STORED\r\nSTORED\r\nNOT_STORED\r\nNOT_STORED\r\nVALUE k 7 4 3\r\n1bb2\r\nEND\r\n" },
	{ "cas: stored, then exists; missing key; bad cas",
	  "set k 0 0 1\r\na\r\ncas k 0 0 1 1\r\nb\r\ncas k 0 0 1 1\r\nc\r\n"
	  "cas nokey 0 0 1 1\r\nd\r\n"
	  "cas k 0 0 1 -1\r\ncas k 0 0 1\r\nget k\r\n",
	  "STORED\r\nSTORED\r\nEXISTS\r\nNOT_FOUND\r\nCLIENT_ERROR bad command line format\r\n"
	  "ERROR\r\nVALUE k 0 1\r\nb\r\nEND\r\n" },
	{ "delete and its forms",
	  "set k 0 0 1\r\na\r\ndelete\r\ndelete a b c d e\r\ndelete k x\r\ndelete k 0\r\n"
	  "delete k 0 noreply\r\ndelete k noreply\r\ndelete k\r\nget k\r\n",
	  "STORED\r\nERROR\r\nERROR\r\n"
	  "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"
	  "DELETED\r\nNOT_FOUND\r\nEND\r\n" },
	{ "incr and decr: results, padding, wrap, floor",
	  "set k 0 0 2\r\n10\r\ndecr k 1\r\nget k\r\nincr k 100\r\nget k\r\ndecr k 1000\r\n"
	  "incr k 18446744073709551615\r\nincr k 1\r\nincr nokey 1\r\n",
	  "STORED\r\n9\r\nVALUE k 0 2\r\n9 \r\nEND\r\n109\r\nVALUE k 0 3\r\n109\r\nEND\r\n"
	  "0\r\n18446744073709551615\r\n0\r\nNOT_FOUND\r\n" },
	{ "incr and decr give the item a new cas, in place or not",
	  "set k 0 0 2\r\n10\r\ngets k\r\nincr k 1\r\ngets k\r\nincr k 100\r\ngets k\r\n",
	  "STORED\r\nVALUE k 0 2 1\r\n10\r\nEND\r\n11\r\nVALUE k 0 2 2\r\n11\r\nEND\r\n"
	  "111\r\nVALUE k 0 3 3\r\n111\r\nEND\r\n" },
	{ "incr: non-numeric values, bad deltas",
	  "set k 0 0 0\r\n\r\nincr k 1\r\nset k 0 0 2\r\n 5\r\nincr k 1\r\nset k 0 0 2\r\n-5\r\n"
	  "incr k 1\r\nset k 0 0 3\r\n12a\r\ndecr k 1\r\nincr k x\r\nincr k -1\r\n"
	  "incr k 18446744073709551616\r\nincr k\r\nincr k 1 noreply\r\n",
	  "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
	  "STORED\r\n6\r\nSTORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
	  "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
	  "CLIENT_ERROR invalid numeric delta argument\r\n"
	  "CLIENT_ERROR invalid numeric delta argument\r\n"
	  "CLIENT_ERROR invalid numeric delta argument\r\nERROR\r\n" },
	{ "touch", "touch k\r\ntouch k x\r\ntouch nokey 10\r\nset k 0 0 1\r\na\r\ntouch k 10\r\n"
	  "touch k 10 noreply\r\ntouch k -1\r\nget k\r\n",
	  "ERROR\r\nCLIENT_ERROR invalid exptime argument\r\nNOT_FOUND\r\nSTORED\r\nTOUCHED\r\n"
	  "TOUCHED\r\nEND\r\n" },
	{ "exptime: negative, 32-bit wrap, absolute before the start",
	  "set a 0 -1 1\r\na\r\nset b 0 4294967295 1\r\nb\r\nset c 0 2592001 1\r\nc\r\n"
	  "set d 0 2592000 1\r\nd\r\nget a b c d\r\n",
	  "STORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nVALUE d 0 1\r\nd\r\nEND\r\n" },
	{ "set with an expired exptime removes the old value",
	  "set k 0 0 1\r\na\r\nset k 0 -1 1\r\nb\r\nget k\r\n", "STORED\r\nSTORED\r\nEND\r\n" },
	{ "flush_all and its forms",
	  "set k 0 0 1\r\na\r\nflush_all foo\r\nflush_all -1\r\nget k\r\nflush_all 0 noreply\r\n"
	  "flush_all noreply\r\nflush_all 1 2 3\r\nflush_all 10 noreply\r\nflush_all\r\n",
	  "STORED\r\nCLIENT_ERROR invalid exptime argument\r\nOK\r\nEND\r\nERROR\r\nOK\r\n" },
	{ "unknown and empty lines",
	  "\r\n\n \r\nx\r\nxx\r\nGET k\r\nget\r\ngets\r\nfoo bar\r\n",
	  "ERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\n" },
	{ "a line ends at \\n alone", "set a 0 0 1\na\r\nget a\n",
	  "STORED\r\nVALUE a 0 1\r\na\r\nEND\r\n" },
	{ "verbosity", "verbosity\r\nverbosity 1\r\nverbosity x\r\nverbosity 1 noreply\r\n"
	  "verbosity noreply\r\nverbosity 1 2 3\r\n",
	  "ERROR\r\nOK\r\nCLIENT_ERROR bad command line format\r\nERROR\r\n" },
	{ "version, stats's errors", "version foo\r\nstats noreply\r\nstats foo\r\nstats reset\r\n",
	  "VERSION " KV_VERSION "\r\nERROR\r\nERROR\r\nRESET\r\n" },
	{ "more than 23 words is ERROR", "set k 0 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 "
	  "20 21 22 23 24 25\r\na\r\n", "ERROR\r\nERROR\r\n" },
	{ "quit ends the connection; what follows is not read",
	  "set a 0 0 1\r\na\r\nquit foo\r\nget a\r\n", "STORED\r\n" },
	{ "an HTTP request ends the connection", "GET / HTTP/1.1\r\nversion\r\n", "" },
};

static void run_case(const struct kv_case *k, void *arena, size_t piece, size_t window,
		     const char *mode)
{
	static struct kv_server srv;
	static struct kv_conn c;
	if (!kv_server_init(&srv, arena, ARENA, UNIX_START)) {
		printf("kv_server_init: an arena of %u bytes is too small\n", ARENA);
		exit(2);
	}
	kv_conn_init(&c, &srv);
	out_buf.len = out_buf.drained = 0;
	out_buf.window = window;
	feed(&c, k->in, strlen(k->in), piece);
	check_reply(k->name, mode, k->want, strlen(k->want));
	kv_conn_release(&c);
}

// ---------------------------------------------------------------------
// Tests of state across time and of the store's limits.

static struct kv_server srv;
static struct kv_conn conn;

static void start(void *arena, size_t size)
{
	if (!kv_server_init(&srv, arena, size, UNIX_START)) {
		printf("kv_server_init: an arena of %zu bytes is too small\n", size);
		exit(2);
	}
	kv_conn_init(&conn, &srv);
}

// Sends in (whole) and checks the replies.
static void expect(const char *name, const char *in, const char *want)
{
	out_buf.len = out_buf.drained = 0;
	out_buf.window = sizeof(out_buf.data);
	feed(&conn, in, strlen(in), strlen(in));
	check_reply(name, "whole", want, strlen(want));
}

// A NUL ends a line, as in memcached (which reads lines as C strings);
// a get with a key too long answers no key, not even those before it.
// (memcached, when the set's reply is still in its buffer then, drops
// that too: here each reply is sent at once.)
static void test_lines(void *arena)
{
	static const char in[] = "set a 0 0 1\r\na\r\nget a\0junk\r\n";
	const char *want = "STORED\r\nVALUE a 0 1\r\na\r\nEND\r\n";
	char get[KV_KEY_MAX + 20];

	start(arena, ARENA);
	out_buf.len = 0;
	feed(&conn, in, sizeof(in) - 1, sizeof(in) - 1);
	check_reply("a NUL ends a line", "whole", want, strlen(want));
	snprintf(get, sizeof(get), "get a %0*d a\r\n", KV_KEY_MAX + 1, 0);
	expect("get: a key too long fails the whole line", get,
	       "CLIENT_ERROR bad command line format\r\n");
}

// Whether a line of n bytes (a get's, or a set's) with no newline yet
// ends the connection; and then, if not, what its newline brings.
static void check_long_line(const char *name, void *arena, const char *cmd, size_t n,
			    bool closes, const char *want)
{
	static char line[KV_LINE_BUF + 100];

	start(arena, ARENA);
	snprintf(line, sizeof(line), "%s %0*d", cmd, (int)(n - strlen(cmd) - 1), 0);
	out_buf.len = 0;
	feed(&conn, line, n, 1000);
	if (kv_conn_closed(&conn) != closes) {
		failed++;
		printf("%s: the connection is %s, want %s\n", name,
		       kv_conn_closed(&conn) ? "closed" : "open", closes ? "closed" : "open");
		return;
	}
	if (!closes)
		expect(name, "\r\n", want);
	else
		passed++;
}

// memcached closes a connection whose line has more than 2048 bytes
// and no newline yet, but for a get or gets (up to KV_LINE_BUF here);
// the \r of a \r\n counts.
static void test_long_lines(void *arena)
{
	check_long_line("long line: set", arena, "set", KV_LINE_MAX + 1, true, NULL);
	check_long_line("long line: set at the limit", arena, "set", KV_LINE_MAX - 1, false,
			"ERROR\r\n");
	check_long_line("long line: get", arena, "  get", KV_LINE_BUF - 1, false,
			"CLIENT_ERROR bad command line format\r\n");
	check_long_line("long line: get too long", arena, "get", KV_LINE_BUF + 1, true, NULL);
}

static void test_time(void *arena)
{
	start(arena, ARENA);
	expect("time: store", "set rel 0 10 1\r\na\r\nset abs 0 1000000020 1\r\nb\r\n"
	       "set fl 0 0 1\r\nc\r\nflush_all 15\r\n", "STORED\r\nSTORED\r\nSTORED\r\nOK\r\n");
	srv.now = 10;
	expect("time: before", "get rel abs fl\r\n", "VALUE rel 0 1\r\na\r\nVALUE abs 0 1\r\nb\r\n"
	       "VALUE fl 0 1\r\nc\r\nEND\r\n");
	srv.now = 11;
	expect("time: relative expired", "get rel abs\r\nset new 0 0 1\r\nd\r\n",
	       "VALUE abs 0 1\r\nb\r\nEND\r\nSTORED\r\n");
	srv.now = 16;
	expect("time: flush with a delay", "get fl new\r\n", "END\r\n");
	srv.now = 20;
	expect("time: absolute expired", "get abs\r\n", "END\r\n");
}

// An arena of 11 pages for items: 1000-byte values (2048-byte chunks,
// 32 a page) evict the least recently used once every page is taken,
// after which a class with no page has no room; a value of more than a
// page is too large, and its data block is dropped.
static void test_limits(void *arena)
{
	char value[1000], in[1100], want[2300];
	int sets = 1000;

	start(arena, 12 * KV_PAGE_SIZE);
	memset(value, 'v', sizeof(value));
	for (int i = 0; i < sets; i++) {
		int n = snprintf(in, sizeof(in), "set key%d 0 0 1000\r\n%.1000s\r\n", i, value);
		feed(&conn, in, (size_t)n, (size_t)n);
		if (i % 100 == 0)
			feed(&conn, "get key0\r\n", 10, 10);
	}
	out_buf.len = 0;
	feed(&conn, "get key0 key1 key999\r\n", 22, 22);
	snprintf(want, sizeof(want), "VALUE key0 0 1000\r\n%.1000s\r\nVALUE key999 0 1000\r\n"
		 "%.1000s\r\nEND\r\n", value, value);
	check_reply("limits: LRU eviction kept the key in use and the newest", "whole", want,
		    strlen(want));
	const struct kv_store_stats *st = &srv.store.stats;
	if (st->items != 11 * 32 || st->evictions != (uint64_t)sets - st->items || st->pages != 11) {
		failed++;
		printf("limits: %lu items, %lu evictions, %lu pages; want 352, %d, 11\n",
		       (unsigned long)st->items, (unsigned long)st->evictions,
		       (unsigned long)st->pages, sets - 352);
	}
	static char big[70000];
	int n = snprintf(big, sizeof(big), "set big 0 0 66000\r\n%66000d\r\nget big\r\n", 7);
	out_buf.len = 0;
	feed(&conn, big, (size_t)n, (size_t)n);
	const char *too_large = "SERVER_ERROR object too large for cache\r\nEND\r\n";
	check_reply("limits: too large", "whole", too_large, strlen(too_large));
	expect("limits: a class with no page", "set a 0 0 1\r\na\r\n",
	       "SERVER_ERROR out of memory storing object\r\n");
}

// A store that keeps nothing (add of a key that exists, replace of one
// that does not, a cas that does not match) gives the item it read the
// block into back: a thousand of them in the arena of test_limits, which
// holds 352 such items, evict nothing.
static void test_refused_stores(void *arena)
{
	char value[1000], in[3400];

	start(arena, 12 * KV_PAGE_SIZE);
	memset(value, 'v', sizeof(value));
	int n = snprintf(in, sizeof(in), "set k 0 0 1000\r\n%.1000s\r\n", value);
	feed(&conn, in, (size_t)n, (size_t)n);
	for (int i = 0; i < 1000; i++) {
		n = snprintf(in, sizeof(in), "add k 0 0 1000\r\n%.1000s\r\nreplace nokey 0 0 1000"
			     "\r\n%.1000s\r\ncas k 0 0 1000 99\r\n%.1000s\r\n", value, value, value);
		feed(&conn, in, (size_t)n, (size_t)n);
	}
	char want[1100];
	snprintf(want, sizeof(want), "VALUE k 0 1000\r\n%.1000s\r\nEND\r\n", value);
	expect("limits: refused stores give their memory back", "get k\r\n", want);
	if (srv.store.stats.evictions != 0) {
		failed++;
		printf("limits: refused stores: %lu evictions, want 0\n",
		       (unsigned long)srv.store.stats.evictions);
	}
}

int main(void)
{
	void *arena = malloc(ARENA);

	if (arena == NULL)
		return 2;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(&cases[i], arena, 1 << 20, sizeof(out_buf.data), "whole");
		run_case(&cases[i], arena, 1, sizeof(out_buf.data), "byte by byte");
		run_case(&cases[i], arena, 1 << 20, 1, "output full after each reply");
	}
	test_lines(arena);
	test_long_lines(arena);
	test_time(arena);
	test_limits(arena);
	test_refused_stores(arena);
	free(arena);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
