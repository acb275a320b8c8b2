// libix: the application's side of the IX dataplane (IX's libix, written
// anew). The application runs in ring 3 of a Dune process whose ring 0
// is the dataplane (ix/dp: the ixgbe driver and lwIP's TCP); it reaches
// the dataplane only through these calls.
//
// Batching: ix_tcp_* only append a command to an array and return; one
// crossing into ring 0 (ix_poll, or ix_flush) hands the dataplane the
// whole array, and ix_poll also runs the dataplane's loop once (receive
// a burst, TCP, timers, transmit) and dispatches the events it returns
// to the application's struct ix_ops callbacks. A command the dataplane
// refuses (a bad handle, a buffer the application does not own, a
// length past what it may use) comes back as an error callback; the
// dataplane never trusts the application.
//
// Zero-copy receive: a recv callback's address points into the 2 KiB
// buffer the NIC wrote the segment into, mapped read-only for ring 3 (a
// write to it faults and ends the application). The buffer stays the
// application's until it gives the bytes back, in order, with
// ix_tcp_recv_done (which also reopens the peer's window).
//
// Zero-copy send: the dataplane's TCP sends the bytes of ix_tcp_send and
// ix_tcp_sendv from where they lie, by reference, and sends them again
// from there if they are lost; so they must stay as they are until sent
// callbacks have acknowledged them (in the order sent), which after
// ix_tcp_close no callback tells: close once they are, or send from
// memory that does not change. (Bytes of a received buffer are the
// exception: the dataplane copies them, since the buffer goes back to
// the NIC at ix_tcp_recv_done.) At most a window of
// IX_TCP_SNDBUF bytes may be unacknowledged: the application counts it
// down by what it sends and up by each sent callback's len; a send past
// the room the dataplane sees is refused whole (-ENOBUFS).
//
// Handles: a knock callback names a new incoming connection (on the
// port the dataplane listens on); ix_tcp_accept gives it the
// application's cookie, which every later callback of it carries. A
// handle stays valid until ix_tcp_close or ix_tcp_reject, even after its
// dead callback, so its buffers do too.
//
// Cores: the dataplane runs the application's main once on each of its
// cores (ixdp --cores=N), in ring 3 of that core's thread; each core's
// libix (its commands, events and callbacks) is its own (thread-local),
// and sees the connections of the flow groups its core runs. The
// application keeps its own state per core likewise (__thread), and
// shares what it must with the other cores' mains itself. Each core's
// libix serves the thread that called ix_init there.

#ifndef IX_LIBIX_IX_H
#define IX_LIBIX_IX_H

#include <stddef.h>
#include <stdint.h>

#include "ix/libix/abi.h"

typedef uint64_t hid_t;                 // a connection's handle (IX's name)

#define IX_TCP_SNDBUF (16 * 1460)       // a new connection's window (lwIP's TCP_SND_BUF)

// A connection's addresses (host byte order).
struct ix_tuple {
	uint32_t src_ip, dst_ip;
	uint16_t src_port, dst_port;
};

// The application's callbacks, called from ix_poll, each with the
// handle and its cookie. Each may queue commands.
struct ix_ops {
	// A new connection knocks: accept (ix_tcp_accept) or refuse
	// (ix_tcp_reject) it, now or later. id: remote (src) and local (dst).
	void (*knock)(hid_t handle, const struct ix_tuple *id);
	// ix_tcp_connect's answer: ret 0, the connection is open; or a
	// negative error and the handle is already gone.
	void (*connected)(hid_t handle, unsigned long cookie, long ret);
	// len more bytes in order at addr (read-only): the application's
	// until it gives them back with ix_tcp_recv_done.
	void (*recv)(hid_t handle, unsigned long cookie, const void *addr, size_t len);
	// The peer acknowledged len bytes, room again in the window; window
	// is the room when the dataplane reported (commands queued since
	// are not counted).
	void (*sent)(hid_t handle, unsigned long cookie, size_t len, size_t window);
	// The peer closed its side after the data already received (reason
	// 0; the application may still send), or the connection is gone
	// (reason -ECONNRESET, or -ECONNABORTED: lwIP gave up, its
	// retransmissions or keep-alive probes unanswered). Either way the application ends
	// it with ix_tcp_close. Told once the connection is accepted,
	// after its data (a knock ended before it was answered is
	// still answered).
	void (*dead)(hid_t handle, unsigned long cookie, long reason);
	// The dataplane refused a command (op: enum ix_cmd_op of
	// ix/libix/abi.h) with err (-EBADF, -EFAULT, -EINVAL, -ENOBUFS,
	// -ENOMEM...); cookie is 0 when the handle was bad,
	// and a refused ix_tcp_connect's own (no connection was made: no
	// connected callback follows).
	void (*error)(hid_t handle, unsigned long cookie, int op, long err);
};

// libix's counters: crossings (polls and flushes), the commands they
// carried, the events they brought back.
struct ix_stats {
	uint64_t polls, flushes, commands, events;
};

// Starts libix with the application's callbacks (every one must be set).
// Returns 0, or -EINVAL.
int ix_init(const struct ix_ops *ops);
// One crossing: the queued commands, the dataplane's loop once, then the
// events dispatched to the callbacks. Returns how many events, or a
// negative error (-EINVAL before ix_init). With nothing to do the
// dataplane may wait a tick for the NIC first, so a loop of ix_poll
// does not spin.
int ix_poll(void);
// One crossing with the queued commands only (no receive); the events
// they cause wait for the next ix_poll (at most IX_MAX_EVENTS wait: a
// refusal past that is counted by the dataplane, not reported).
// Returns 0, or a negative error.
// ix_tcp_* call it themselves when the command array is full.
int ix_flush(void);

// Each queues one command and returns 0, or the error of the flush it
// needed when the array was full (ix_tcp_connect: -EINVAL without id).
// The dataplane checks everything else: its refusals come as error
// callbacks after the next ix_poll.
int ix_tcp_connect(const struct ix_tuple *id, unsigned long cookie);
int ix_tcp_accept(hid_t handle, unsigned long cookie);
int ix_tcp_reject(hid_t handle);
int ix_tcp_send(hid_t handle, const void *addr, size_t len);
// ents (n of them) is read during the next crossing: keep it until then.
int ix_tcp_sendv(hid_t handle, const struct ix_sg *ents, unsigned int n);
int ix_tcp_recv_done(hid_t handle, size_t len);
int ix_tcp_close(hid_t handle);

const struct ix_stats *ix_stats(void);

// This core's number (0 to ix_cores() - 1), and how many cores run the
// application.
int ix_core(void);
int ix_cores(void);

// Where the dataplane starts ring 3 on core `core` of `cores`: runs
// main, flushes the commands it left queued, and exits with main's
// status.
void ix_start(int argc, char **argv, int (*main)(int, char **), int core, int cores);

#endif
