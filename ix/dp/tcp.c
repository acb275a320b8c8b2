// The dataplane's connections (dp.h): the application's commands run on
// lwIP's raw API, and lwIP's callbacks recorded in the connection until
// dp_tcp_report turns them into events.
//
// Nothing is reported from inside a callback: lwIP calls them while it
// processes a frame, when the crossing's event array may be full. So a
// connection keeps its news (a knock, a connect's outcome, data lwIP
// gave it, bytes acknowledged, its end) and reports it later, in this
// order, as room allows; no event is ever dropped, and a connection's
// events keep their order. The connections with news wait in a queue,
// in the order they got it, so a turn of the loop visits only those.
//
// One flow group's connections (fg.h): this file is part of every
// flow group's lwIP instance, its statics the flow group's own.
//
// Received data stays in lwIP's pbufs (the driver's buffers, zero-copy)
// in the connection's rx chain from the recv callback until the
// application gives it back (IX_CMD_RECV_DONE), which also reopens the
// peer's window: the application's reading paces the peer.

#include <lwip/tcp.h>

#include "ix/dp/dp.h"
#include "ix/dp/fg.h"
#include "ix/libix/ix.h"
#include "ix/net/ixgbe_netif.h"
#include "ulib.h"

#define DP_CONNS MEMP_NUM_TCP_PCB
#define KEEPALIVE_INTERVAL_MS 1000      // between two probes (keep_alive)
#define KEEPALIVE_PROBES 4              // unanswered, and the connection is aborted

_Static_assert(IX_TCP_SNDBUF == TCP_SND_BUF, "ix.h's IX_TCP_SNDBUF is lwIP's TCP_SND_BUF");
_Static_assert(DP_CONNS <= 256, "news_queue holds slots in bytes");

enum conn_state {
	CONN_FREE,
	CONN_KNOCKING,          // offered to the application, not accepted yet
	CONN_CONNECTING,        // IX_CMD_CONNECT's SYN sent
	CONN_OPEN,              // accepted or connected
};

// News to report (conn.news).
#define NEWS_KNOCK     0x1
#define NEWS_CONNECTED 0x2
#define NEWS_DEAD      0x4

struct conn {
	enum conn_state state;
	uint32_t gen;           // the handle's upper half: old handles of the slot are refused
	struct tcp_pcb *pcb;    // NULL once lwIP has freed it (reset, abort)
	uint64_t cookie;        // the application's
	unsigned news;          // NEWS_*
	int err;                // the reason of NEWS_CONNECTED or NEWS_DEAD
	bool dead;              // NEWS_DEAD was set (once)
	uint64_t remote, local; // the knock's addresses: ip << 16 | port
	struct pbuf *rx;        // received, not yet given back
	uint32_t rx_reported;   // bytes at the start of rx the application was told of
	uint32_t acked;         // bytes acknowledged, not yet reported
	bool queued;            // in news_queue (kept when the slot is used again)
};

static struct conn conns[DP_CONNS];
// The slots of the connections with news, each once, oldest first: a
// ring that holds them all.
static uint8_t news_queue[DP_CONNS];
static unsigned news_head, news_count;
static int flow_group;          // the one this instance is (fg.h)

static hid_t conn_handle(const struct conn *c)
{
	return (uint64_t)c->gen << 32 | (uint64_t)flow_group << FG_HANDLE_SHIFT |
	       (uint64_t)(c - conns + 1);
}

// The connection of handle h, or NULL if h names none (now).
static struct conn *conn_lookup(hid_t h)
{
	uint64_t slot = h & ((1u << FG_HANDLE_SHIFT) - 1);

	if (slot == 0 || slot > DP_CONNS || (uint32_t)h >> FG_HANDLE_SHIFT != (uint32_t)flow_group)
		return NULL;
	struct conn *c = &conns[slot - 1];
	return c->state != CONN_FREE && c->gen == h >> 32 ? c : NULL;
}

// A free slot, cleared, or NULL.
static struct conn *conn_alloc(void)
{
	for (struct conn *c = conns; c < conns + DP_CONNS; c++) {
		if (c->state != CONN_FREE)
			continue;
		uint32_t gen = c->gen + 1;
		bool queued = c->queued;
		memset(c, 0, sizeof(*c));
		c->gen = gen;
		c->queued = queued;
		return c;
	}
	return NULL;
}

// Queues c for dp_tcp_report, unless it is already.
static void news_for(struct conn *c)
{
	if (c->queued)
		return;
	c->queued = true;
	news_queue[(news_head + news_count++) % DP_CONNS] = (uint8_t)(c - conns);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len);
static void on_err(void *arg, err_t err);

// Sets (c != NULL) or clears a pcb's callbacks.
static void set_callbacks(struct tcp_pcb *pcb, struct conn *c)
{
	tcp_arg(pcb, c);
	tcp_recv(pcb, c ? on_recv : NULL);
	tcp_sent(pcb, c ? on_sent : NULL);
	tcp_err(pcb, c ? on_err : NULL);
}

// Ends c: its pcb closed (or aborted: with abort, or when lwIP has no
// memory for the FIN), its buffers back to the driver, its slot free.
static void conn_end(struct conn *c, bool abort)
{
	if (c->pcb != NULL) {
		set_callbacks(c->pcb, NULL);
		if (abort || tcp_close(c->pcb) != ERR_OK)
			tcp_abort(c->pcb);
	}
	if (c->rx != NULL)
		pbuf_free(c->rx);
	c->pcb = NULL;
	c->rx = NULL;
	c->state = CONN_FREE;
}

// Marks c dead (once) with reason err.
static void conn_dead(struct conn *c, int err)
{
	if (c->dead)
		return;
	c->dead = true;
	c->news |= NEWS_DEAD;
	c->err = err;
	news_for(c);
}

// Keep-alive (RFC 1122 4.2.3.6) for pcb: a dataplane holds a
// connection's state for a client that may vanish without a word (a
// machine powered off sends no FIN), so every connection is probed after
// dp_keepalive_ms of silence, then every KEEPALIVE_INTERVAL_MS; after
// KEEPALIVE_PROBES probes unanswered, lwIP aborts it (on_err: a dead
// event for the application).
static void keep_alive(struct tcp_pcb *pcb)
{
	ip_set_option(pcb, SOF_KEEPALIVE);
	pcb->keep_idle = dp_keepalive_ms();
	pcb->keep_intvl = KEEPALIVE_INTERVAL_MS;
	pcb->keep_cnt = KEEPALIVE_PROBES;
}

// -- lwIP's callbacks --

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	struct conn *c = conn_alloc();
	if (c == NULL) {
		dp_stats_here()->no_slot++;
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->state = CONN_KNOCKING;
	c->pcb = pcb;
	c->news = NEWS_KNOCK;
	c->remote = (uint64_t)lwip_ntohl(ip4_addr_get_u32(&pcb->remote_ip)) << 16 | pcb->remote_port;
	c->local = (uint64_t)lwip_ntohl(ip4_addr_get_u32(&pcb->local_ip)) << 16 | pcb->local_port;
	set_callbacks(pcb, c);
	keep_alive(pcb);
	news_for(c);
	dp_stats_here()->knocks++;
	return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct conn *c = arg;

	c->state = CONN_OPEN;
	c->news |= NEWS_CONNECTED;
	c->err = 0;
	news_for(c);
	return ERR_OK;
}

// p: the next data in order, or NULL when the peer closed its side.
static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;

	if (p == NULL)
		conn_dead(c, 0);
	else if (c->rx == NULL)
		c->rx = p;
	else
		pbuf_cat(c->rx, p);
	news_for(c);
	return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct conn *c = arg;

	c->acked += len;
	news_for(c);
	return ERR_OK;
}

// lwIP freed the pcb: reset by the peer, or aborted (retransmissions
// given up, a failed connect).
static void on_err(void *arg, err_t err)
{
	struct conn *c = arg;
	int reason = err == ERR_RST ? -ECONNRESET : -ECONNABORTED;

	c->pcb = NULL;
	if (c->state == CONN_CONNECTING) {
		c->news |= NEWS_CONNECTED;
		c->err = err == ERR_RST ? -ECONNREFUSED : reason;
		news_for(c);
	} else if (c->news & NEWS_KNOCK) {
		// Never offered to the application: it disappears.
		conn_end(c, false);
	} else {
		conn_dead(c, reason);
	}
}

bool dp_tcp_start(int fg, uint16_t port)
{
	struct tcp_pcb *pcb = tcp_new();

	flow_group = fg;

	if (pcb == NULL) {
		printf("ixdp: tcp_new: no memory for the listening pcb\n");
		return false;
	}
	err_t err = tcp_bind(pcb, IP_ADDR_ANY, port);
	struct tcp_pcb *listener = err == ERR_OK ? tcp_listen(pcb) : NULL;
	if (listener == NULL) {
		printf("ixdp: cannot listen on port %u: lwIP error %d\n", port, err);
		tcp_close(pcb);
		return false;
	}
	tcp_accept(listener, on_accept);
	return true;
}

// -- commands --

static int cmd_connect(const struct ix_cmd *cmd, uint16_t local_port)
{
	uint64_t ip = cmd->arg[0], port = cmd->arg[1];

	if (ip == 0 || ip > UINT32_MAX || port == 0 || port > UINT16_MAX)
		return -EINVAL;
	struct conn *c = conn_alloc();
	if (c == NULL)
		return -ENOMEM;
	struct tcp_pcb *pcb = tcp_new();
	if (pcb == NULL)
		return -ENOMEM;
	ip_addr_t addr;
	ip4_addr_set_u32(&addr, lwip_htonl((uint32_t)ip));
	set_callbacks(pcb, c);
	keep_alive(pcb);
	if (tcp_bind(pcb, IP_ADDR_ANY, local_port) != ERR_OK ||
	    tcp_connect(pcb, &addr, (u16_t)port, on_connected) != ERR_OK) {
		set_callbacks(pcb, NULL);
		tcp_abort(pcb);
		return -ENOMEM;
	}
	c->state = CONN_CONNECTING;
	c->pcb = pcb;
	c->cookie = cmd->arg[2];
	return 0;
}

// Whether c may send len more bytes now; 0, or why not.
static int send_check(const struct conn *c, uint64_t len)
{
	if (c->state != CONN_OPEN)
		return -EINVAL;
	if (c->pcb == NULL)
		return -ENOTCONN;
	if (len > tcp_sndbuf(c->pcb))
		return -ENOBUFS;
	return 0;
}

// tcp_write of [addr, addr + len), bytes of ring 3 the command may send
// (more: TCP_WRITE_FLAG_MORE or 0). By reference (IX's zero-copy send):
// lwIP's segments point at the application's memory until the peer
// acknowledges them, and ix.h's rule keeps those bytes unchanged until
// then; ring 3's memory stays mapped while the process lives, so a
// reference never dangles. Bytes in a received buffer are copied: the
// buffer goes back to the NIC when the application gives it back,
// acknowledged or not.
static err_t write_app(struct tcp_pcb *pcb, uint64_t addr, uint64_t len, u8_t more)
{
	bool copy = dp_in_rx_alias(addr, len);
	err_t e = tcp_write(pcb, (const void *)addr, (u16_t)len,
			    (copy ? TCP_WRITE_FLAG_COPY : 0) | more);

	if (e == ERR_OK) {
		struct dp_stats *stats = dp_stats_here();
		*(copy ? &stats->sent_copied : &stats->sent_referenced) += len;
	}
	return e;
}

// tcp_write's error as ours.
static int write_error(err_t err)
{
	return err == ERR_MEM ? -ENOMEM : -ENOTCONN;
}

static int cmd_send(struct conn *c, uint64_t addr, uint64_t len)
{
	// BEGIN LAB 10 SOLUTION: tcp_commands
	int err = send_check(c, len);

	if (err < 0)
		return err;
	if (len == 0)
		return -EINVAL;
	if (!dp_user_range(addr, len, false))
		return -EFAULT;
	err_t e = write_app(c->pcb, addr, len, 0);
	if (e != ERR_OK)
		return write_error(e);
	tcp_output(c->pcb);
	return 0;
	// STUB:
	// static bool told;
	// if (!told) {
	// 	told = true;
	// 	printf("ixdp: LAB 10: cmd_send not written: refused with ENOSYS\n");
	// }
	// (void)c, (void)addr, (void)len, (void)write_error, (void)write_app;
	// return -ENOSYS;
	// END LAB 10
}

// The pieces are checked whole first (the array, every piece, the total
// against the window, the segments against lwIP's queue), so only a
// lack of memory can refuse a sendv after some of it is written.
static int cmd_sendv(struct conn *c, uint64_t addr, uint64_t n)
{
	// BEGIN LAB 10 SOLUTION: tcp_commands
	struct ix_sg sg[IX_SENDV_MAX];
	uint64_t total = 0;

	if (n == 0 || n > IX_SENDV_MAX)
		return -EINVAL;
	if (!dp_user_range(addr, n * sizeof(sg[0]), false))
		return -EFAULT;
	memcpy(sg, (const void *)addr, n * sizeof(sg[0]));
	for (uint64_t i = 0; i < n; i++) {
		if (sg[i].len == 0 || sg[i].len > TCP_SND_BUF)
			return -EINVAL;
		if (!dp_user_range((uint64_t)sg[i].base, sg[i].len, false))
			return -EFAULT;
		total += sg[i].len;
	}
	int err = send_check(c, total);
	if (err < 0)
		return err;
	if (tcp_sndqueuelen(c->pcb) + n > TCP_SND_QUEUELEN)
		return -ENOBUFS;
	for (uint64_t i = 0; i < n; i++) {
		u8_t more = i + 1 < n ? TCP_WRITE_FLAG_MORE : 0;
		err_t e = write_app(c->pcb, (uint64_t)sg[i].base, sg[i].len, more);
		if (e != ERR_OK)
			return write_error(e);
	}
	tcp_output(c->pcb);
	return 0;
	// STUB:
	// static bool told;
	// if (!told) {
	// 	told = true;
	// 	printf("ixdp: LAB 10: cmd_sendv not written: refused with ENOSYS\n");
	// }
	// (void)c, (void)addr, (void)n, (void)send_check;
	// return -ENOSYS;
	// END LAB 10
}

// Gives back the first len reported bytes: their buffers go back to the
// driver, and the peer's window opens by as much.
static int cmd_recv_done(struct conn *c, uint64_t len)
{
	// BEGIN LAB 10 SOLUTION: tcp_commands
	if (len == 0 || len > c->rx_reported)
		return -EINVAL;
	c->rx_reported -= (uint32_t)len;
	for (uint64_t left = len; left > 0; ) {
		u16_t n = left > 0xFFFF ? 0xFFFF : (u16_t)left;
		c->rx = pbuf_free_header(c->rx, n);
		if (c->pcb != NULL)
			tcp_recved(c->pcb, n);
		left -= n;
	}
	return 0;
	// STUB:
	// static bool told;
	// if (!told) {
	// 	told = true;
	// 	printf("ixdp: LAB 10: cmd_recv_done not written: refused with ENOSYS\n");
	// }
	// (void)c, (void)len;
	// return -ENOSYS;
	// END LAB 10
}

// Runs cmd on c (NULL: its handle names no connection); 0 or why not.
static int cmd_run(const struct ix_cmd *cmd, struct conn *c)
{
	if (c == NULL)
		return -EBADF;
	bool offered = c->state == CONN_KNOCKING && !(c->news & NEWS_KNOCK);
	switch (cmd->op) {
	case IX_CMD_ACCEPT:
		if (!offered)
			return -EINVAL;
		c->state = CONN_OPEN;
		c->cookie = cmd->arg[0];
		news_for(c);    // its data and its end, held until now
		return 0;
	case IX_CMD_REJECT:
		if (!offered)
			return -EINVAL;
		conn_end(c, true);
		return 0;
	case IX_CMD_SEND:
		return cmd_send(c, cmd->arg[0], cmd->arg[1]);
	case IX_CMD_SENDV:
		return cmd_sendv(c, cmd->arg[0], cmd->arg[1]);
	case IX_CMD_RECV_DONE:
		return cmd_recv_done(c, cmd->arg[0]);
	case IX_CMD_CLOSE:
		if (c->state == CONN_KNOCKING)
			return -EINVAL;
		conn_end(c, false);
		return 0;
	default:
		return -EINVAL;
	}
}

void dp_tcp_command(const struct ix_cmd *cmd, struct dp_out *out)
{
	// BEGIN LAB 10 SOLUTION: tcp_commands
	struct conn *c = conn_lookup(cmd->handle);
	int err = cmd->op == IX_CMD_CONNECT ? -EINVAL : cmd_run(cmd, c);

	if (err < 0)
		dp_refuse(cmd, c != NULL ? c->cookie : 0, err, out);
	// STUB:
	// static bool told;
	// if (!told) {
	// 	told = true;
	// 	printf("ixdp: LAB 10: dp_tcp_command not written: command %u ignored\n", cmd->op);
	// }
	// (void)conn_lookup, (void)cmd_run, (void)out;
	// END LAB 10
}

void dp_tcp_connect(const struct ix_cmd *cmd, uint16_t local_port, struct dp_out *out)
{
	int err = cmd_connect(cmd, local_port);

	// A refused connect has no handle: its cookie names it to the application.
	if (err < 0)
		dp_refuse(cmd, cmd->arg[2], err, out);
}

// -- reports --

// A connection's event of type, or NULL when out is full.
static struct ix_event *conn_event(const struct conn *c, struct dp_out *out, uint32_t type)
{
	struct ix_event *e = dp_emit(out, type);

	if (e != NULL) {
		e->handle = conn_handle(c);
		e->cookie = c->cookie;
	}
	return e;
}

// Reports the pbufs of rx after the first rx_reported bytes, one event
// each (the received data lies in one buffer per segment). Returns
// whether all are.
static bool report_rx(struct conn *c, struct dp_out *out)
{
	uint32_t skip = c->rx_reported;

	for (struct pbuf *q = c->rx; q != NULL; q = q->next) {
		if (skip >= q->len) {
			skip -= q->len;
			continue;
		}
		struct ix_event *e = conn_event(c, out, IX_EV_RECV);
		if (e == NULL)
			return false;
		e->arg[0] = dp_rx_alias(ixgbe_netif_rx_buf(q), q->payload);
		e->arg[1] = q->len;
		c->rx_reported += q->len;
	}
	return true;
}

// Reports c's news in order (knock, connected, data, acknowledgements,
// end) while out has room. Returns false if out filled up first.
static bool report(struct conn *c, struct dp_out *out)
{
	struct ix_event *e;

	if (c->news & NEWS_KNOCK) {
		if ((e = conn_event(c, out, IX_EV_KNOCK)) == NULL)
			return false;
		e->arg[0] = c->remote;
		e->arg[1] = c->local;
		c->news &= ~NEWS_KNOCK;
	}
	// Before the application accepts it, a connection has no cookie:
	// its data waits, and its end, which follows the data.
	bool accepted = c->state != CONN_KNOCKING;
	if (c->news & NEWS_CONNECTED) {
		if ((e = conn_event(c, out, IX_EV_CONNECTED)) == NULL)
			return false;
		e->err = c->err;
		c->news &= ~NEWS_CONNECTED;
		if (c->err < 0) {
			conn_end(c, false);
			return true;
		}
	}
	if (accepted && !report_rx(c, out))
		return false;
	if (accepted && c->acked > 0) {
		if ((e = conn_event(c, out, IX_EV_SENT)) == NULL)
			return false;
		e->arg[0] = c->acked;
		e->arg[1] = c->pcb != NULL ? tcp_sndbuf(c->pcb) : 0;
		c->acked = 0;
	}
	if (accepted && (c->news & NEWS_DEAD)) {
		if ((e = conn_event(c, out, IX_EV_DEAD)) == NULL)
			return false;
		e->err = c->err;
		c->news &= ~NEWS_DEAD;
	}
	return true;
}

void dp_tcp_report(struct dp_out *out)
{
	while (news_count > 0) {
		struct conn *c = &conns[news_queue[news_head]];
		if (c->state != CONN_FREE && !report(c, out))
			return;         // out is full: c goes first next time
		c->queued = false;
		news_head = (news_head + 1) % DP_CONNS;
		news_count--;
	}
}
