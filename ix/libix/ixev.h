// ixev: IX's libevent-like layer over libix (ix.h), written anew with
// IX's names. Where libix hands the application one callback per event,
// ixev gathers a crossing's events per connection and calls the
// connection's handler once, after the crossing, with the reasons that
// came: like a poll loop over sockets, but with one crossing per batch.
//
// The loop: the application calls ixev_wait() again and again. Each call
// (1) hands the dataplane what the handlers asked for since the last one
// (the bytes ixev_send took, the closes), (2) makes one crossing
// (ix_poll), during which new connections are offered to ops->accept,
// and (3) calls each connection's handler with what happened to it.
//
// Handler reasons (a mask; the handler gets those in the mask it set,
// and IXEVHUP always):
//   IXEVIN   bytes arrived, or the peer closed its side: ixev_recv says
//            0 once the bytes before the close are read (sending still
//            works). Turning IXEVIN on while bytes wait unread calls the
//            handler after the next crossing.
//   IXEVOUT  the peer acknowledged bytes: room again in the send window.
//   IXEVHUP  the connection is gone (reset by the peer, aborted by TCP,
//            or ended by ixev, see below): ixev_recv still gives the
//            bytes held, then why; sends fail.
// A connection ends with ixev_close, whatever ended it.
//
// Ownership and buffers:
//   - A context (struct ixev_ctx) is the application's memory: it gives
//     one to each connection it accepts (ops->accept, after
//     ixev_ctx_init), and gets it back from ops->release once ixev no
//     longer uses it: after ixev_close, once the peer has acknowledged
//     every byte sent (or the connection is gone) and the dataplane has
//     taken the connection's last commands.
//   - Received bytes stay in the dataplane's receive buffers (read-only,
//     zero copy) until the application consumes them: ixev_recv copies
//     them out, ixev_recv_zc hands out their address. Either way ixev
//     gives them back to the dataplane (ix_tcp_recv_done, which also
//     reopens the peer's window) at the next crossing: an address from
//     ixev_recv_peek or ixev_recv_zc is valid until the next ixev_wait.
//     Unread bytes hold the peer back (flow control); a connection that
//     holds more than IXEV_RECV_DEPTH pieces unread is ended (IXEVHUP,
//     -ENOBUFS).
//   - ixev_send copies into the context's send buffer and returns at
//     once; the dataplane sends the bytes from there by reference, so
//     they stay in the buffer until the peer acknowledges them. It
//     takes no more than the send window has room for (IX_TCP_SNDBUF
//     bytes unacknowledged at most): a partial send returns the bytes it
//     took, a full window -EAGAIN, and IXEVOUT says when to try again.
//     A send the dataplane refuses for want of memory is tried again at
//     the next crossing, so the stream never loses bytes.
//
// One thread, the one that called ixev_init (and so ix_init). Accepted
// connections only: ixev does not dial.

#ifndef IX_LIBIX_IXEV_H
#define IX_LIBIX_IXEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ix/libix/ix.h"

#define IXEVIN  0x1
#define IXEVOUT 0x2
#define IXEVHUP 0x4

#define IXEV_RECV_DEPTH 128             // received pieces a connection may hold unread

struct ixev_ctx;

// A connection's handler: reasons is a mask of IXEV*.
typedef void (*ixev_handler_t)(struct ixev_ctx *ctx, unsigned int reasons);

struct ixev_conn_ops {
	// A new connection (id: remote src, local dst): returns its context,
	// ixev_ctx_init'ed and with its handler set, or NULL to refuse it.
	struct ixev_ctx *(*accept)(const struct ix_tuple *id);
	// ctx is the application's again (after ixev_close).
	void (*release)(struct ixev_ctx *ctx);
};

// A received piece not yet consumed: bytes in a read-only receive buffer.
struct ixev_piece {
	const char *addr;
	size_t len;
};

// ixev's state of a connection; the application reads none of it.
struct ixev_ctx {
	hid_t handle;
	ixev_handler_t handler;
	unsigned int mask;              // reasons the handler wants
	unsigned int reasons;           // reasons noted in this crossing
	int end;                        // 0: open; 1: the peer closed its side; < 0: why it is gone
	bool closing;                   // ixev_close was called
	bool close_queued;              // ... and the dataplane has the close
	bool send_refused;              // the dataplane had no memory for the last send
	// ixev's lists (ixev.c): ready, dirty, flight.
	struct ixev_ctx *next_ready, *next_dirty, *next_flight;
	bool on_ready, on_dirty;
	// Received: pieces[head .. head + count) in a ring; done: bytes
	// consumed, given back at the next crossing.
	struct ixev_piece pieces[IXEV_RECV_DEPTH];
	unsigned int head, count;
	size_t done;
	// Sending (ixev.c): send_buf is a ring; staged bytes start at
	// send_start, after the bytes not yet acknowledged and before the
	// room (window); handed: the staged bytes the crossing took.
	size_t window;
	size_t staged;
	size_t send_start;
	size_t handed;
	char send_buf[IX_TCP_SNDBUF];
};

// ixev's counters.
struct ixev_stats {
	uint64_t accepted, refused, released;   // connections
	uint64_t send_retries;                  // sends tried again for want of memory
	uint64_t overruns;                      // connections ended with too many pieces unread
	uint64_t errors;                        // other commands the dataplane refused
};

// Starts ixev (and libix) with the application's ops (both set).
// Returns 0, or -EINVAL.
int ixev_init(const struct ixev_conn_ops *ops);

// Clears ctx for a new connection (handler and mask: ixev_set_handler).
void ixev_ctx_init(struct ixev_ctx *ctx);

// The handler of ctx and the reasons it wants (IXEVIN, IXEVOUT).
void ixev_set_handler(struct ixev_ctx *ctx, unsigned int mask, ixev_handler_t handler);

// Copies up to len received bytes into buf. Returns how many (> 0); 0
// once the peer closed and all is read; -EAGAIN with nothing to read
// now; or, once all is read, why the connection is gone (-ECONNRESET,
// -ECONNABORTED, -ENOBUFS); -EINVAL after ixev_close or for len 0.
long ixev_recv(struct ixev_ctx *ctx, void *buf, size_t len);

// The next received bytes where they lie, without consuming them: sets
// *addr (read-only) and returns how many lie there (those of one
// piece); with nothing waiting, returns what ixev_recv would (0, -EAGAIN
// or why the connection is gone) and leaves *addr.
long ixev_recv_peek(struct ixev_ctx *ctx, const void **addr);

// Consumes the next len bytes, which must lie in one piece (len no more
// than ixev_recv_peek's): returns their address, or NULL (nothing
// consumed) if they do not.
const void *ixev_recv_zc(struct ixev_ctx *ctx, size_t len);

// Takes up to len bytes of addr to send (a copy). Returns how many (> 0),
// -EAGAIN when the window is full, -ENOTCONN once the connection is
// gone, -EINVAL after ixev_close or for len 0.
long ixev_send(struct ixev_ctx *ctx, const void *addr, size_t len);

// Ends the connection: the bytes ixev_send took still go, unread bytes
// are given back, and once the peer has acknowledged them all the
// dataplane closes it (a FIN after the data); ops->release follows. The handler is not called again.
void ixev_close(struct ixev_ctx *ctx);

// One turn of the loop (see above). Returns the number of events the
// crossing brought, or ix_poll's negative error (the area is bad: the
// loop cannot go on).
int ixev_wait(void);

const struct ixev_stats *ixev_stats(void);

#endif
