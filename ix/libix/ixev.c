// ixev (ixev.h): libix's callbacks note what happened to each
// connection; ixev_wait hands the dataplane what the handlers asked for,
// crosses, settles what the crossing took, then calls the handlers.
//
// Three lists of contexts, each threaded through the contexts:
//   ready   news noted in this crossing: the handler is due after it;
//   dirty   bytes consumed or taken to send, or a close to queue: the
//           commands go before the next crossing;
//   flight  commands in the next crossing that must be settled after it
//           (a send's bytes freed or tried again; a close's context
//           released).
// Libix's callbacks run during a crossing's dispatch and never call a
// handler; handlers run after the crossing is settled.
//
// A context's send buffer is a ring: the dataplane sends by reference,
// so bytes handed over stay where they are until the peer acknowledges
// them (a sent callback); behind them come the bytes staged for the next
// crossing, then the room (the window). A crossing takes the staged
// bytes up to the ring's end; what wrapped goes at the next one, so a
// refusal for want of memory never leaves a later piece ahead of it.

#include "ix/libix/ixev.h"
#include "ulib.h"

// Each core's own (ix.h), as libix's state is.
static __thread const struct ixev_conn_ops *conn_ops;
static __thread struct ixev_stats stats;

static __thread struct ixev_ctx *ready_head, **ready_tail;       // ready_tail set by ixev_init
static __thread struct ixev_ctx *dirty;
static __thread struct ixev_ctx *flight;

// Notes reason for ctx's handler (not called again once closing).
static void mark_ready(struct ixev_ctx *ctx, unsigned int reason)
{
	ctx->reasons |= reason;
	if (ctx->on_ready || ctx->closing)
		return;
	ctx->on_ready = true;
	ctx->next_ready = NULL;
	*ready_tail = ctx;
	ready_tail = &ctx->next_ready;
}

static void mark_dirty(struct ixev_ctx *ctx)
{
	if (ctx->on_dirty)
		return;
	ctx->on_dirty = true;
	ctx->next_dirty = dirty;
	dirty = ctx;
}

static void add_flight(struct ixev_ctx *ctx)
{
	ctx->next_flight = flight;
	flight = ctx;
}

// Received bytes held in ctx's pieces.
static size_t unread(const struct ixev_ctx *ctx)
{
	size_t n = 0;

	for (unsigned int i = 0; i < ctx->count; i++)
		n += ctx->pieces[(ctx->head + i) % IXEV_RECV_DEPTH].len;
	return n;
}

// Gives every received byte of ctx back to the dataplane now (consumed
// or not: nobody will read them), and extra more just reported.
static void give_back_all(struct ixev_ctx *ctx, size_t extra)
{
	size_t n = ctx->done + unread(ctx) + extra;

	if (n > 0)
		ix_tcp_recv_done(ctx->handle, n);
	ctx->done = 0;
	ctx->count = 0;
}

// Whether every byte ctx's send ring handed over is acknowledged: the
// dataplane holds no reference into it any more.
static bool all_acked(const struct ixev_ctx *ctx)
{
	return ctx->staged + ctx->window == IX_TCP_SNDBUF;
}

static void queue_close(struct ixev_ctx *ctx)
{
	ix_tcp_close(ctx->handle);
	ctx->close_queued = true;
	add_flight(ctx);
}

// -- libix's callbacks (during a crossing's dispatch) --

static void on_knock(hid_t handle, const struct ix_tuple *id)
{
	struct ixev_ctx *ctx = conn_ops->accept(id);

	if (ctx == NULL) {
		stats.refused++;
		ix_tcp_reject(handle);
		return;
	}
	ctx->handle = handle;
	stats.accepted++;
	ix_tcp_accept(handle, (unsigned long)ctx);
}

static void on_connected(hid_t handle, unsigned long cookie, long ret)
{
	printf("ixev: a connected event for handle 0x%lx, but ixev dials no connection\n", handle);
}

static void on_recv(hid_t handle, unsigned long cookie, const void *addr, size_t len)
{
	struct ixev_ctx *ctx = (struct ixev_ctx *)cookie;

	if (ctx->closing || ctx->end == -ENOBUFS) {
		// Nobody will read it: the dataplane gets it back at once.
		ix_tcp_recv_done(handle, len);
		return;
	}
	if (ctx->count == IXEV_RECV_DEPTH) {
		printf("ixev: connection 0x%lx holds %u pieces unread: it is ended\n", handle,
		       IXEV_RECV_DEPTH);
		give_back_all(ctx, len);
		ctx->end = -ENOBUFS;
		stats.overruns++;
		mark_ready(ctx, IXEVHUP);
		return;
	}
	ctx->pieces[(ctx->head + ctx->count) % IXEV_RECV_DEPTH] = (struct ixev_piece){ addr, len };
	ctx->count++;
	mark_ready(ctx, IXEVIN);
}

static void on_sent(hid_t handle, unsigned long cookie, size_t len, size_t window)
{
	struct ixev_ctx *ctx = (struct ixev_ctx *)cookie;

	ctx->window += len;
	mark_ready(ctx, IXEVOUT);
	if (ctx->closing && all_acked(ctx))
		mark_dirty(ctx);        // its close may go now
}

static void on_dead(hid_t handle, unsigned long cookie, long reason)
{
	struct ixev_ctx *ctx = (struct ixev_ctx *)cookie;

	if (reason == 0) {
		if (ctx->end == 0)
			ctx->end = 1;
		mark_ready(ctx, IXEVIN);
	} else {
		if (ctx->end >= 0)
			ctx->end = (int)reason;
		mark_ready(ctx, IXEVHUP);
	}
}

static void on_error(hid_t handle, unsigned long cookie, int op, long err)
{
	struct ixev_ctx *ctx = (struct ixev_ctx *)cookie;

	if (ctx != NULL && op == IX_CMD_SEND && err == -ENOMEM) {
		// The dataplane's TCP had no memory for the segments: the
		// same bytes go again after the crossing (settle).
		ctx->send_refused = true;
		stats.send_retries++;
		return;
	}
	stats.errors++;
	printf("ixev: the dataplane refused command %d of handle 0x%lx: %s\n", op, handle,
	       strerror((int)err));
}

static const struct ix_ops ixev_ix_ops = {
	.knock = on_knock, .connected = on_connected, .recv = on_recv, .sent = on_sent,
	.dead = on_dead, .error = on_error,
};

// -- the loop --

// Queues the commands of the dirty contexts: bytes consumed go back,
// staged bytes go (a gone connection's are dropped), and a close goes
// once its connection's bytes are all acknowledged, or the connection is
// gone.
static void hand_over(void)
{
	while (dirty != NULL) {
		struct ixev_ctx *ctx = dirty;
		dirty = ctx->next_dirty;
		ctx->on_dirty = false;
		if (ctx->done > 0) {
			ix_tcp_recv_done(ctx->handle, ctx->done);
			ctx->done = 0;
		}
		if (ctx->end < 0)
			ctx->staged = 0;
		if (ctx->staged > 0) {
			size_t to_end = IX_TCP_SNDBUF - ctx->send_start;
			ctx->handed = ctx->staged < to_end ? ctx->staged : to_end;
			ix_tcp_send(ctx->handle, ctx->send_buf + ctx->send_start, ctx->handed);
			add_flight(ctx);
		} else if (ctx->closing && !ctx->close_queued && (ctx->end < 0 || all_acked(ctx))) {
			queue_close(ctx);
		}
	}
}

// After the crossing that took the commands of list (flight): a closed
// context goes back to the application; a send's bytes are the
// dataplane's until acknowledged, or, refused for want of memory, go
// again.
static void settle(struct ixev_ctx *list)
{
	while (list != NULL) {
		struct ixev_ctx *ctx = list;
		list = ctx->next_flight;
		if (ctx->close_queued) {
			stats.released++;
			conn_ops->release(ctx);
			continue;
		}
		if (ctx->send_refused) {
			ctx->send_refused = false;
		} else {
			ctx->send_start = (ctx->send_start + ctx->handed) % IX_TCP_SNDBUF;
			ctx->staged -= ctx->handed;
		}
		if (ctx->staged > 0 || ctx->closing)
			mark_dirty(ctx);
	}
}

// Calls each ready context's handler once with its reasons.
static void run_handlers(void)
{
	struct ixev_ctx *list = ready_head;

	ready_head = NULL;
	ready_tail = &ready_head;
	while (list != NULL) {
		struct ixev_ctx *ctx = list;
		list = ctx->next_ready;
		ctx->on_ready = false;
		unsigned int reasons = ctx->reasons & (ctx->mask | IXEVHUP);
		ctx->reasons = 0;
		if (reasons != 0 && !ctx->closing && ctx->handler != NULL)
			ctx->handler(ctx, reasons);
	}
}

int ixev_wait(void)
{
	hand_over();
	struct ixev_ctx *took = flight;
	flight = NULL;
	int n = ix_poll();
	if (n < 0)
		return n;
	settle(took);
	run_handlers();
	return n;
}

int ixev_init(const struct ixev_conn_ops *ops)
{
	if (ops == NULL || ops->accept == NULL || ops->release == NULL)
		return -EINVAL;
	conn_ops = ops;
	ready_head = NULL;
	ready_tail = &ready_head;
	return ix_init(&ixev_ix_ops);
}

// -- a connection --

void ixev_ctx_init(struct ixev_ctx *ctx)
{
	memset(ctx, 0, offsetof(struct ixev_ctx, send_buf));
	ctx->window = IX_TCP_SNDBUF;
}

void ixev_set_handler(struct ixev_ctx *ctx, unsigned int mask, ixev_handler_t handler)
{
	ctx->mask = mask & (IXEVIN | IXEVOUT);
	ctx->handler = handler;
	if ((mask & IXEVIN) && (ctx->count > 0 || ctx->end == 1))
		mark_ready(ctx, IXEVIN);
}

// Consumes the first n bytes of the first piece (n no more than it has).
static void consume(struct ixev_ctx *ctx, size_t n)
{
	struct ixev_piece *p = &ctx->pieces[ctx->head];

	p->addr += n;
	p->len -= n;
	if (p->len == 0) {
		ctx->head = (ctx->head + 1) % IXEV_RECV_DEPTH;
		ctx->count--;
	}
	ctx->done += n;
	mark_dirty(ctx);
}

// What ixev_recv returns with nothing to read.
static long nothing_to_read(const struct ixev_ctx *ctx)
{
	if (ctx->closing)
		return -EINVAL;
	if (ctx->end == 0)
		return -EAGAIN;
	return ctx->end > 0 ? 0 : ctx->end;
}

long ixev_recv(struct ixev_ctx *ctx, void *buf, size_t len)
{
	size_t got = 0;

	if (ctx->closing || len == 0)
		return -EINVAL;
	while (got < len && ctx->count > 0) {
		const struct ixev_piece *p = &ctx->pieces[ctx->head];
		size_t n = p->len < len - got ? p->len : len - got;
		memcpy((char *)buf + got, p->addr, n);
		consume(ctx, n);
		got += n;
	}
	return got > 0 ? (long)got : nothing_to_read(ctx);
}

long ixev_recv_peek(struct ixev_ctx *ctx, const void **addr)
{
	if (ctx->closing || ctx->count == 0)
		return nothing_to_read(ctx);
	*addr = ctx->pieces[ctx->head].addr;
	return (long)ctx->pieces[ctx->head].len;
}

const void *ixev_recv_zc(struct ixev_ctx *ctx, size_t len)
{
	const void *addr = NULL;

	if (len == 0 || ixev_recv_peek(ctx, &addr) < (long)len)
		return NULL;
	consume(ctx, len);
	return addr;
}

long ixev_send(struct ixev_ctx *ctx, const void *addr, size_t len)
{
	if (ctx->closing || len == 0)
		return -EINVAL;
	if (ctx->end < 0)
		return -ENOTCONN;
	size_t n = len < ctx->window ? len : ctx->window;
	if (n == 0)
		return -EAGAIN;
	// The room follows the staged bytes, up to the oldest byte not yet
	// acknowledged: staged + unacknowledged + window = IX_TCP_SNDBUF.
	size_t at = (ctx->send_start + ctx->staged) % IX_TCP_SNDBUF;
	size_t first = n < IX_TCP_SNDBUF - at ? n : IX_TCP_SNDBUF - at;
	memcpy(ctx->send_buf + at, addr, first);
	memcpy(ctx->send_buf, (const char *)addr + first, n - first);
	ctx->staged += n;
	ctx->window -= n;
	mark_dirty(ctx);
	return (long)n;
}

void ixev_close(struct ixev_ctx *ctx)
{
	if (ctx->closing)
		return;
	ctx->closing = true;
	// Unread bytes go back first: lwIP resets a connection closed
	// with received data it was not told was read.
	give_back_all(ctx, 0);
	if (ctx->end < 0)
		ctx->staged = 0;
	if (ctx->staged == 0 && (ctx->end < 0 || all_acked(ctx)))
		queue_close(ctx);
	else
		mark_dirty(ctx);
}

const struct ixev_stats *ixev_stats(void)
{
	return &stats;
}
