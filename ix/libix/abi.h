// What libix (ring 3) and the dataplane (ring 0) exchange at a crossing
// (IX's batched system calls and events): one shared area, owned by the
// application and mapped for ring 3, holding an array of commands the
// application queued and an array of events the dataplane returns.
//
// A crossing is one SYSCALL from ring 3 with rax IX_SYS_CROSS, rdi the
// area and rsi IX_CROSS_POLL or IX_CROSS_FLUSH; the dataplane (libdune's
// system-call handler) runs cmds[0..ncmds) in order, sets ncmds to 0,
// appends events at events[nevents..] and returns the new nevents, or a
// negative error if the area itself is bad. The dataplane trusts nothing
// in the area: it copies each command before checking it, and a
// command it refuses becomes an IX_EV_ERROR event.

#ifndef IX_LIBIX_ABI_H
#define IX_LIBIX_ABI_H

#include <stddef.h>
#include <stdint.h>

#define IX_SYS_CROSS 0x1000     // rax of a crossing (not a kernel system call)
#define IX_CROSS_POLL 0         // commands, then the dataplane's loop once, then events
#define IX_CROSS_FLUSH 1        // commands and their transmission only; no receive

#define IX_MAX_CMDS 1024        // commands a crossing takes at most
#define IX_MAX_EVENTS 256       // events an area holds

// Where the application sees received buffers: the dataplane maps its
// receive pool here, read-only for ring 3, buffer i at i * 2 KiB.
#define IX_RX_ALIAS 0x0000004000000000ul

enum ix_cmd_op {
	IX_CMD_CONNECT = 1,     // arg: remote ip, remote port, cookie
	IX_CMD_ACCEPT,          // handle; arg: cookie
	IX_CMD_REJECT,          // handle
	IX_CMD_SEND,            // handle; arg: address, length
	IX_CMD_SENDV,           // handle; arg: address of struct ix_sg[], how many
	IX_CMD_RECV_DONE,       // handle; arg: length
	IX_CMD_CLOSE,           // handle
};

struct ix_cmd {
	uint32_t op;            // enum ix_cmd_op
	uint32_t reserved;
	uint64_t handle;
	uint64_t arg[3];
};

enum ix_event_type {
	IX_EV_KNOCK = 1,        // handle; arg: remote ip << 16 | remote port, local likewise
	IX_EV_CONNECTED,        // handle, cookie; err: 0 or why the connection failed
	IX_EV_RECV,             // handle, cookie; arg: address (read-only), length
	IX_EV_SENT,             // handle, cookie; arg: bytes acknowledged, window
	IX_EV_DEAD,             // handle, cookie; err: 0 (the peer closed) or why
	IX_EV_ERROR,            // handle, cookie (0 for a bad handle); err; arg[0]: the op
};

struct ix_event {
	uint32_t type;          // enum ix_event_type
	int32_t err;
	uint64_t handle;
	uint64_t cookie;
	uint64_t arg[2];
};

// One piece of an IX_CMD_SENDV (ix_tcp_sendv), read by the dataplane.
struct ix_sg {
	const void *base;
	size_t len;
};

#define IX_SENDV_MAX 16         // pieces a sendv may have

struct ix_area {
	uint32_t ncmds;
	uint32_t nevents;
	struct ix_cmd cmds[IX_MAX_CMDS];
	struct ix_event events[IX_MAX_EVENTS];
};

#endif
