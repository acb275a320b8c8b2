// libix (ix.h): commands queued in the shared area, crossings, and the
// dispatch of the events the dataplane returns. Ring 3 code: it reaches
// the dataplane only by the crossing's SYSCALL.

#include "ix/libix/abi.h"
#include "ix/libix/ix.h"
#include "ulib.h"

// The area lives in the application's own memory (ring 3's, which the
// dataplane checks at every crossing); each core has its own (ix.h).
static __thread struct ix_area area;
static __thread const struct ix_ops *ops;
static __thread struct ix_stats stats;
static __thread int core;
static int cores = 1;           // the same on every core

// The crossing: one SYSCALL that libdune hands to the dataplane's
// system-call handler. Returns its rax.
static int64_t cross(uint64_t how)
{
	int64_t ret;

	asm volatile("syscall" : "=a"(ret) : "a"(IX_SYS_CROSS), "D"(&area), "S"(how)
		     : "rcx", "r11", "memory");
	return ret;
}

int ix_init(const struct ix_ops *o)
{
	if (o == NULL || o->knock == NULL || o->connected == NULL || o->recv == NULL ||
	    o->sent == NULL || o->dead == NULL || o->error == NULL)
		return -EINVAL;
	ops = o;
	area.ncmds = 0;
	area.nevents = 0;
	return 0;
}

int ix_flush(void)
{
	stats.flushes++;
	stats.commands += area.ncmds;
	int64_t n = cross(IX_CROSS_FLUSH);
	return n < 0 ? (int)n : 0;
}

// Calls the callback of one event.
static void dispatch(const struct ix_event *e)
{
	switch (e->type) {
	case IX_EV_KNOCK: {
		struct ix_tuple id = {
			.src_ip = (uint32_t)(e->arg[0] >> 16), .src_port = (uint16_t)e->arg[0],
			.dst_ip = (uint32_t)(e->arg[1] >> 16), .dst_port = (uint16_t)e->arg[1],
		};
		ops->knock(e->handle, &id);
		break;
	}
	case IX_EV_CONNECTED:
		ops->connected(e->handle, e->cookie, e->err);
		break;
	case IX_EV_RECV:
		ops->recv(e->handle, e->cookie, (const void *)e->arg[0], e->arg[1]);
		break;
	case IX_EV_SENT:
		ops->sent(e->handle, e->cookie, e->arg[0], e->arg[1]);
		break;
	case IX_EV_DEAD:
		ops->dead(e->handle, e->cookie, e->err);
		break;
	case IX_EV_ERROR:
		ops->error(e->handle, e->cookie, (int)e->arg[0], e->err);
		break;
	default:
		printf("libix: event %u of an unknown type from the dataplane, ignored\n", e->type);
	}
}

int ix_poll(void)
{
	if (ops == NULL)
		return -EINVAL;
	stats.polls++;
	stats.commands += area.ncmds;
	int64_t n = cross(IX_CROSS_POLL);
	if (n < 0)
		return (int)n;
	// A callback's commands may fill the array and flush it, which may
	// append events: they are dispatched in this same loop.
	uint32_t i;
	for (i = 0; i < area.nevents; i++)
		dispatch(&area.events[i]);
	area.nevents = 0;
	stats.events += i;
	return (int)i;
}

// Queues a command of op with up to three arguments, after a flush if
// the array is full. Returns 0, or the flush's error.
static int queue(uint32_t op, hid_t handle, uint64_t a0, uint64_t a1, uint64_t a2)
{
	if (area.ncmds == IX_MAX_CMDS) {
		int err = ix_flush();
		if (err < 0)
			return err;
	}
	area.cmds[area.ncmds++] = (struct ix_cmd){
		.op = op, .handle = handle, .arg = { a0, a1, a2 },
	};
	return 0;
}

int ix_tcp_connect(const struct ix_tuple *id, unsigned long cookie)
{
	if (id == NULL)
		return -EINVAL;
	return queue(IX_CMD_CONNECT, 0, id->dst_ip, id->dst_port, cookie);
}

int ix_tcp_accept(hid_t handle, unsigned long cookie)
{
	return queue(IX_CMD_ACCEPT, handle, cookie, 0, 0);
}

int ix_tcp_reject(hid_t handle)
{
	return queue(IX_CMD_REJECT, handle, 0, 0, 0);
}

int ix_tcp_send(hid_t handle, const void *addr, size_t len)
{
	return queue(IX_CMD_SEND, handle, (uint64_t)addr, len, 0);
}

int ix_tcp_sendv(hid_t handle, const struct ix_sg *ents, unsigned int n)
{
	return queue(IX_CMD_SENDV, handle, (uint64_t)ents, n, 0);
}

int ix_tcp_recv_done(hid_t handle, size_t len)
{
	return queue(IX_CMD_RECV_DONE, handle, len, 0, 0);
}

int ix_tcp_close(hid_t handle)
{
	return queue(IX_CMD_CLOSE, handle, 0, 0, 0);
}

const struct ix_stats *ix_stats(void)
{
	return &stats;
}

int ix_core(void)
{
	return core;
}

int ix_cores(void)
{
	return cores;
}

void ix_start(int argc, char **argv, int (*main)(int, char **), int this_core, int all_cores)
{
	core = this_core;
	cores = all_cores;
	int status = main(argc, argv);

	// Commands queued last (a close) still reach the dataplane.
	if (ops != NULL && area.ncmds > 0)
		ix_flush();
	exit(status);
}
