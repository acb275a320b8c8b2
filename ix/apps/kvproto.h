// memcached's text protocol for the key-value server (ix/apps/kvs.c),
// on a byte stream, with no network code: the server feeds each
// connection's bytes as they come, in pieces of any size, and the
// protocol writes the replies through the connection's kv_out.
//
// Commands: get, gets, set, add, replace, append, prepend, cas, delete,
// incr, decr, touch, flush_all, version, verbosity, stats (and stats
// reset), quit, and shutdown, which ends the server (memcached has it
// off unless started with -A). Replies and error
// replies are memcached 1.6's, byte for byte, for good and bad input
// alike (tools/tests/test_kvs.py compares them with a real memcached):
// a line memcached does not know is ERROR, a bad argument CLIENT_ERROR
// with memcached's words, a value too large or no memory SERVER_ERROR
// (the value's bytes are then read and dropped). An item is at most a
// store page, 64 KiB with its key: memcached's -I 64k, whose limit
// lies within a few dozen bytes of it. Not served: the meta
// commands (mg, ms ...), gat and gats, the binary protocol; stats gives
// a few of memcached's counters, and no "stats NAME" but reset.
//
// Lines end with "\n" (a "\r" before it is dropped). A line memcached
// would refuse to buffer ends the connection, as there: one of more
// than KV_LINE_MAX bytes (a "\r" at its end included) before its
// newline, unless it is a get or gets, which may have KV_LINE_BUF.
//
// Times: exptime 0 is never; up to 30 days, seconds from now; above,
// a Unix time (before the server started: expired); negative:
// expired at once. The server has no calendar clock: it is told the
// Unix time at which its own time began (kv_server.unix_start).
// flush_all with a delay takes the items stored before the time it
// names (memcached: the items last used before it, a use counting once
// a minute).

#ifndef IX_APPS_KVPROTO_H
#define IX_APPS_KVPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ix/apps/kvstore.h"

#define KV_VERSION "1.6.18-ixkvs"       // speaks as memcached 1.6.18 does
#define KV_LINE_MAX 2048                // bytes of a line before its newline (memcached's)
#define KV_LINE_BUF 8192                // ... of a get or gets line (here)
#define KV_MAX_EXPTIME (60 * 60 * 24 * 30)      // relative exptimes up to 30 days

struct kv_stats {
	uint64_t curr_connections, total_connections;   // the server keeps these
	uint64_t cmd_get, get_hits, get_misses;         // keys asked for by get and gets
	uint64_t cmd_set;                               // set, add, replace, append, prepend, cas
	uint64_t cas_hits, cas_misses, cas_badval;
	uint64_t delete_hits, delete_misses;
	uint64_t incr_hits, incr_misses, decr_hits, decr_misses;
	uint64_t cmd_touch, touch_hits, touch_misses;
	uint64_t cmd_flush;
};

// What all connections share.
struct kv_server {
	struct kv_store store;
	kv_time_t now;                  // the server's time (seconds, from 1): the server sets it
	int64_t unix_start;             // the Unix time at server time 0
	bool shutdown;                  // a client said "shutdown"
	struct kv_stats stats;
};

// Where a connection's replies go.
struct kv_out {
	// Appends len bytes to the connection's output; returns false if it
	// cannot (no memory), which ends the connection.
	bool (*write)(void *arg, const void *data, size_t len);
	// Whether the output holds as much as it should: the connection
	// then reads no more commands until it has drained.
	bool (*full)(void *arg);
	void *arg;
};

enum kv_state {
	KV_LINE,                        // reading a command line
	KV_DATA,                        // reading a storage command's data block
	KV_SWALLOW,                     // dropping a data block the store refused
	KV_GET,                         // answering the keys of a get, as the output drains
	KV_CLOSED,                      // quit, shutdown, a line too long, or a failed write
};

enum kv_store_cmd { KV_SET, KV_ADD, KV_REPLACE, KV_APPEND, KV_PREPEND, KV_CAS };

struct kv_conn {
	struct kv_server *srv;
	enum kv_state state;
	char line[KV_LINE_BUF + 1];     // the command line so far (then NUL-terminated)
	size_t nline;
	bool noreply;                   // the command said noreply: no reply, errors included
	bool write_failed;              // out refused a reply: the connection ends
	// KV_DATA: the item being filled, the command, its cas argument,
	// bytes of the block read so far (value, then "\r\n").
	struct kv_item *item;
	enum kv_store_cmd cmd;
	uint64_t cas;
	uint32_t have;
	char crlf[2];
	uint32_t swallow;               // KV_SWALLOW: bytes left to drop
	size_t get_next;                // KV_GET: offset in line of the next key
	bool get_cas;                   // KV_GET: gets
};

// Makes srv's store in the arena [arena, arena + size) (kv_store_init).
bool kv_server_init(struct kv_server *srv, void *arena, size_t size, int64_t unix_start);

void kv_conn_init(struct kv_conn *c, struct kv_server *srv);

// Takes the next bytes of the connection's stream, runs the commands
// they complete and writes the replies to out. Returns how many of the
// len bytes it took; it stops early when out is full (the caller offers
// the rest again once out has drained; with len 0 it goes on with a get
// that out's room stopped) or the connection has closed (the rest is
// never taken).
size_t kv_conn_input(struct kv_conn *c, const char *data, size_t len, const struct kv_out *out);

// Whether the connection is over (quit, shutdown, a line too long, a
// failed write): send what out holds, then close.
static inline bool kv_conn_closed(const struct kv_conn *c)
{
	return c->state == KV_CLOSED;
}

// Frees what the connection holds in the store (a data block being read).
void kv_conn_release(struct kv_conn *c);

#endif
