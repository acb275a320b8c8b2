// The IX dataplane's start and its ring 0 (dp.h): a Dune process whose
// ring 0 drives a port of the 82599 (port 0, or 1) with lwIP, and whose
// ring 3 runs the application linked with it (ix/libix). The link's
// --wrap=main sends crt0's call of main here (__wrap_main); the
// application's own main (__real_main) runs in ring 3.
//
// Ring 3's memory (ix/libix/libix.ld lays it out): the program's code
// and constants (read and execute), the application's and libix's data,
// bss and stack (read and write: .ixapp), and the receive buffers,
// read-only, at IX_RX_ALIAS. Everything else (the dataplane's data, its
// heap, lwIP, the rings, the NIC's registers, the real address of the
// buffers) is ring 0's only: dune_init(false).
//
// The application reaches ring 0 by three doors: the crossing (a
// SYSCALL, IX_SYS_CROSS), the few system calls it may make (write to
// the console, clock, exit), and a fault or another exception, which
// ends it, reported.
//
// Arguments: [--nic=N] [--cores=N] [--keepalive=MS] [-b LIMIT] [IP [PORT
// [ARGS...]]], the options in that order, each ixdp's alone and taken
// out of the command line. --nic=N picks port N of the 82599 (0, the
// default, or 1: a second dataplane, a load generator say, on the far
// end of the model's internal wire). --cores=N runs N cores, a thread
// and a queue pair each (1). --keepalive=MS probes a connection silent
// for MS (DP_KEEPALIVE_DEFAULT_MS: two hours). -b LIMIT is the batch limit: the frames one crossing
// takes from the NIC at most, 1 to IXGBE_NETIF_RX_BURST (64, the
// default). The batching is adaptive: a crossing takes what has
// arrived, up to the limit, and never waits for more (IX's rule: a batch
// forms only when frames come faster than they are served). The rest is
// the application's too: IP (10.0.2.15 on port 0, 10.0.2.16 on port 1)
// and PORT (7), where the dataplane listens, then the application's own
// arguments.

#include <lwip/init.h>

#include "ix/dp/dp.h"
#include "ix/dp/fg.h"
#include "ix/dp/forward.h"
#include "ix/dp/neigh.h"
#include "ix/drivers/ixgbe.h"
#include "ix/libix/ix.h"
#include "ix/net/ixgbe_netif.h"
#include "lib/printfmt.h"
#include "libdune/dune.h"
#include "ulib.h"

#define RING 256
#define MAX_ARGS 16
#define APP_FAULTED 3           // ixdp's status when the application faulted
#define NIC_OPTION "--nic="
#define CORES_OPTION "--cores="
#define KEEPALIVE_OPTION "--keepalive="
#define DP_MAX_CORES 4          // libix.ld's IXAPP_CORES
#define CORE_STACK (64 * 1024)  // ring 0's stack of a core's thread (but the first's)
#define EPHEMERAL_FIRST 49152   // IANA's dynamic ports (RFC 6335): a connect's local port
#define EPHEMERAL_PORTS 16384
#define TLS_STATIC_ALIGN 16     // the x86-64 ABI's alignment of the static TLS block

// libix.ld's symbols (the sizes' addresses are the sizes).
extern char __text_start[], __rodata_start[], __data_start[];
extern char __ixapp_start[], __ixapp_end[], __ixapp_stack_top[], __ixapp_stack_size[];
extern char __ixapp_tls_blocks[], __ixapp_tls_block_size[];
extern char __tls_image[], __tls_image_size[], __tls_size[], __tls_align[];

int __real_main(int argc, char **argv);

// A core: a thread of the process in Dune mode that owns queue `id` of
// the port and the flow groups fg_owner gives it, and runs the
// application's main in its ring 3.
struct dp_core {
	int id;
	struct ix_area *checked_area;   // the last area dp_user_range accepted
	struct dp_stats stats;
	bool app_faulted;
	int status;                     // its ring 3's exit status
	uint16_t next_port;             // the next of its share of the ephemeral ports
	struct pktbuf *returns;         // its pool's buffers other cores gave back (a stack)
	struct fwd_ring from[DP_MAX_CORES];     // what the other cores forward it
	int tid;                        // its thread (but core 0's)
	struct clock_reading begin, end;        // around its ring 3
	int argc;
	char **argv;
};

static struct ixgbe_dev port;
static uint32_t my_ip;                  // host order
static struct dp_core cores[DP_MAX_CORES];
static int ncores = 1;                  // --cores=N
static int fg_owner[FG_COUNT];          // the core that runs each flow group (owner_of)
static uint64_t fg_frames[FG_COUNT];    // frames received, by flow group (its owner counts)
// Frames a poll takes at most (-b): IX's batch limit. Adaptive batching
// takes what has arrived, up to this, so a batch grows only when the
// application falls behind.
static int batch_limit = IXGBE_NETIF_RX_BURST;
static int keepalive_ms = DP_KEEPALIVE_DEFAULT_MS;

// The calling thread's core.
static struct dp_core *this_core(void)
{
	return dune_thread_data();
}

struct dp_stats *dp_stats_here(void)
{
	return &this_core()->stats;
}

// The core that runs flow group fg: it changes it (move_fg), the others
// read it.
static int owner_of(int fg)
{
	return __atomic_load_n(&fg_owner[fg], __ATOMIC_ACQUIRE);
}

// The queue whose pool b belongs to.
static int queue_of(const struct pktbuf *b)
{
	int q = 0;

	while (b->pool != &port.queues[q].pool)
		q++;
	return q;
}

void dp_rx_free(struct pktbuf *b)
{
	int q = queue_of(b);

	if (q == this_core()->id) {
		pktbuf_free(b);
		return;
	}
	// A buffer of another core's pool (its flow group moved here with
	// it): pushed on that core's return list, which only it empties.
	struct pktbuf **top = &cores[q].returns;
	b->next = __atomic_load_n(top, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(top, &b->next, b, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
}

// Gives the buffers the other cores gave back to core's pool.
static void take_returns(struct dp_core *core)
{
	struct pktbuf *b = __atomic_exchange_n(&core->returns, NULL, __ATOMIC_ACQUIRE);

	while (b != NULL) {
		struct pktbuf *next = b->next;
		pktbuf_free(b);
		b = next;
	}
}

// Hands item to core `to` (a full ring drops a frame, refuses a command).
static void forward(struct dp_core *core, int to, const struct fwd_item *item,
		    struct dp_out *out)
{
	if (fwd_put(&cores[to].from[core->id], item)) {
		*(item->frame != NULL ? &core->stats.forwarded_frames
				      : &core->stats.forwarded_commands) += 1;
	} else if (item->frame != NULL) {
		core->stats.dropped++;
		dp_rx_free(item->frame);
	} else {
		dp_refuse(&item->cmd, 0, -EBUSY, out);
	}
}

struct ix_event *dp_emit(struct dp_out *out, uint32_t type)
{
	if (out->n == out->max)
		return NULL;
	struct ix_event *e = &out->events[out->n++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	return e;
}

bool dp_user_range(uint64_t addr, uint64_t len, bool write)
{
	uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0);

	if (addr + len < addr || addr + len > DUNE_USER_TOP)
		return false;
	for (uint64_t va = PGADDR(addr); va < addr + len; va += PGSIZE) {
		ptent_t *pte;
		if (dune_vm_lookup(pgroot, (void *)va, CREATE_NONE, &pte) < 0 || (*pte & need) != need)
			return false;
	}
	return true;
}

bool dp_in_rx_alias(uint64_t addr, uint64_t len)
{
	uint64_t end = IX_RX_ALIAS + (uint64_t)port.nqueues * port.queues[0].pool.nbufs * PKTBUF_SIZE;

	return addr < end && addr + len > IX_RX_ALIAS;
}

uint64_t dp_rx_alias(const struct pktbuf *b, const void *payload)
{
	if (b == NULL) {
		dune_printf("ixdp: dp_rx_alias: payload %p is not in a received buffer\n", payload);
		dune_die();
	}
	// BEGIN LAB 10 SOLUTION: rx_alias
	uint64_t index = (uint64_t)queue_of(b) * b->pool->nbufs + (uint64_t)(b - b->pool->bufs);
	return IX_RX_ALIAS + index * PKTBUF_SIZE + (uint64_t)((const uint8_t *)payload - b->data);
	// STUB:
	// dune_printf("ixdp: LAB 10: dp_rx_alias not written: the application cannot see "
	// 	    "received data\n");
	// dune_die();
	// END LAB 10
}

void dp_refuse(const struct ix_cmd *cmd, uint64_t cookie, int err, struct dp_out *out)
{
	// BEGIN LAB 10 SOLUTION: tcp_commands
	struct dp_stats *stats = dp_stats_here();

	stats->errors++;
	struct ix_event *e = dp_emit(out, IX_EV_ERROR);
	if (e == NULL) {
		stats->errors_lost++;
		return;
	}
	e->err = err;
	e->handle = cmd->handle;
	e->cookie = cookie;
	e->arg[0] = cmd->op;
	// STUB:
	// (void)cmd, (void)cookie, (void)err, (void)out;
	// END LAB 10
}

// -- ring 3's memory --

// Maps queue q's receive pool, read-only for ring 3, in IX_RX_ALIAS
// after the pools of the queues before it: buffer i at i * PKTBUF_SIZE,
// two to a page (pktbuf_pool_init's regions are whole pages of
// consecutive buffers).
static int map_rx_alias(int q)
{
	const struct pktbuf_pool *pool = &port.queues[q].pool;

	// BEGIN LAB 10 SOLUTION: rx_alias
	uint64_t alias = IX_RX_ALIAS + (uint64_t)q * pool->nbufs * PKTBUF_SIZE;
	for (uint32_t i = 0; i < pool->nbufs; i += PGSIZE / PKTBUF_SIZE) {
		uint64_t pa = dune_va_to_pa((uint64_t)pool->bufs[i].data);
		if (pa % PGSIZE != 0 || pool->bufs[i + 1].data != pool->bufs[i].data + PKTBUF_SIZE) {
			dune_printf("ixdp: buffers %u and %u do not share a page\n", i, i + 1);
			return -EINVAL;
		}
		int err = dune_vm_map_phys(pgroot, (void *)(alias + (uint64_t)i * PKTBUF_SIZE),
					   PGSIZE, (void *)pa, PERM_R | PERM_U);
		if (err < 0)
			return err;
	}
	return 0;
	// STUB:
	// dune_printf("ixdp: LAB 10: map_rx_alias not written: %u received buffers not mapped "
	// 	    "for ring 3\n", pool->nbufs);
	// return 0;
	// END LAB 10
}

static int map_app(void)
{
	int err;

	if ((err = dune_vm_mprotect(pgroot, __text_start, __rodata_start - __text_start,
				    PERM_R | PERM_X | PERM_U)) < 0 ||
	    (err = dune_vm_mprotect(pgroot, __rodata_start, __data_start - __rodata_start,
				    PERM_R | PERM_U)) < 0 ||
	    (err = dune_vm_mprotect(pgroot, __ixapp_start, __ixapp_end - __ixapp_start,
				    PERM_R | PERM_W | PERM_U)) < 0)
		return err;
	for (int q = 0; q < port.nqueues; q++)
		if ((err = map_rx_alias(q)) < 0)
			return err;
	return 0;
}

// -- the crossing --

// Gives a frame core received (or another core forwarded) to whom it is
// for: ARP to the neighbour table, IPv4 to its flow group's instance if
// the core runs it, else to the core that does (a frame that came
// before its flow group's RETA entries moved, or one the NIC did not
// hash, which lands on queue 0).
static void dispatch(struct dp_core *core, struct pktbuf *b, struct dp_out *out)
{
	uint16_t type = b->len >= ETH_HEADER_LEN ? (uint16_t)(b->data[12] << 8 | b->data[13]) : 0;
	int fg = type == ETH_TYPE_IPV4 ? fg_of_frame(b) : 0;
	int owner = owner_of(fg);

	if (type == ETH_TYPE_ARP) {
		neigh_input(&port, core->id, b);
	} else if (type == ETH_TYPE_IPV4 && owner == core->id) {
		fg_frames[fg]++;
		core->stats.frames++;
		fg_instances[fg]->input(b);
	} else if (type == ETH_TYPE_IPV4) {
		forward(core, owner, &(struct fwd_item){ .frame = b }, out);
	} else {
		core->stats.dropped++;
		dp_rx_free(b);
	}
}

static void command(struct dp_core *core, const struct ix_cmd *cmd, struct dp_out *out);

// Runs what the other cores forwarded core, in order. Returns how many
// items.
static int take_forwarded(struct dp_core *core, struct dp_out *out)
{
	struct fwd_item item;
	int n = 0;

	for (int from = 0; from < ncores; from++) {
		while (fwd_get(&core->from[from], &item)) {
			if (item.frame != NULL)
				dispatch(core, item.frame, out);
			else
				command(core, &item.cmd, out);
			n++;
		}
	}
	return n;
}

// Flow group fg, core's, moves to core `to`: what it queued goes out,
// its RETA entries send its frames to the queue of `to`, and its
// instance sends from there; the store of the owner publishes all of it
// to `to`, which runs it from its next loop on. Frames already on
// core's queue are forwarded (dispatch), and so are commands for its
// connections (command).
static void move_fg(struct dp_core *core, int fg, int to)
{
	fg_instances[fg]->move(to);
	for (int i = fg; i < FG_RETA_ENTRIES; i += FG_COUNT)
		ixgbe_reta_set(&port, i, to);
	__atomic_store_n(&fg_owner[fg], to, __ATOMIC_RELEASE);
	core->stats.moves++;
}

// Carries out the control plane's request (lib/sysnum.h's struct
// nic_ctl), if one is posted and is core's to carry out: a move of one
// of its flow groups (a bad request, core 0's).
static void take_request(struct dp_core *core)
{
	struct nic_ctl *ctl = port.ctl;
	uint64_t posted = __atomic_load_n(&ctl->posted, __ATOMIC_ACQUIRE);

	if (posted == ctl->done)
		return;
	uint32_t fg = ctl->arg0, to = ctl->arg1;
	int result = 0;
	if (ctl->op != NIC_CTL_MOVE || fg >= FG_COUNT || to >= (uint32_t)ncores) {
		if (core->id != 0)
			return;
		result = -EINVAL;
	} else if (owner_of((int)fg) != core->id) {
		return;
	} else if (to != (uint32_t)core->id) {
		move_fg(core, (int)fg, (int)to);
	}
	ctl->result = result;
	__atomic_store_n(&ctl->done, posted, __ATOMIC_RELEASE);
}

// One turn of core's run-to-completion loop: takes back the buffers
// other cores freed and runs what they forwarded; receives a burst of at
// most batch_limit frames from core's queue and gives each to whom it is
// for (dispatch); for each flow group core runs, runs lwIP's timers,
// reports what lwIP told of the connections as events in out, and
// transmits what all of it sent with one tail write. Returns how many
// frames and forwarded items it took.
static int loop_once(struct dp_core *core, struct dp_out *out)
{
	take_returns(core);
	int n = take_forwarded(core, out);
	// BEGIN LAB 10 SOLUTION: ixdp_loop
	struct pktbuf *bufs[IXGBE_NETIF_RX_BURST];
	int received = ixgbe_rx_burst(&port, core->id, bufs, batch_limit);
	if ((uint32_t)received > core->stats.most_received)
		core->stats.most_received = (uint32_t)received;
	for (int i = 0; i < received; i++)
		dispatch(core, bufs[i], out);
	for (int fg = 0; fg < FG_COUNT; fg++) {
		if (owner_of(fg) != core->id)
			continue;
		const struct fg_ops *g = fg_instances[fg];
		g->timers();
		g->report(out);
		g->flush();
	}
	n += received;
	// STUB:
	// static bool told;
	// if (!told) {
	// 	told = true;
	// 	dune_printf("ixdp: LAB 10: loop_once not written: nothing received, nothing "
	// 		    "reported\n");
	// }
	// (void)out, (void)batch_limit, (void)dispatch;
	// END LAB 10
	return n;
}

uint32_t dp_keepalive_ms(void)
{
	return (uint32_t)keepalive_ms;
}

// Calls what(fg) for each flow group core runs.
static void each_owned(const struct dp_core *core, void (*what)(int fg))
{
	for (int fg = 0; fg < FG_COUNT; fg++)
		if (owner_of(fg) == core->id)
			what(fg);
}

static void flush_fg(int fg)
{
	fg_instances[fg]->flush();
}

static void check_link_fg(int fg)
{
	fg_instances[fg]->check_link();
}

// A local port for a connect of core's to remote:remote_port: the
// next port of the core's share of the ephemeral ports whose replies
// (the NIC hashes them from remote to us) land in a flow group of the
// core's, that flow group in *fg; 0 if no port of the share does (the
// core runs no flow group). Each core counts through a share of its
// own, so which port a connect gets does not depend on the other cores.
static uint16_t connect_port(struct dp_core *core, uint32_t remote, uint16_t remote_port, int *fg)
{
	uint16_t share = EPHEMERAL_PORTS / ncores, first = EPHEMERAL_FIRST + core->id * share;

	for (uint16_t tries = 0; tries < share; tries++) {
		uint16_t port = core->next_port;
		core->next_port = port + 1 < first + share ? port + 1 : first;
		*fg = fg_of_flow(remote, my_ip, remote_port, port);
		if (owner_of(*fg) == core->id)
			return port;
	}
	return 0;
}

// Runs one command in the flow group of its handle (forwarded to its
// core if that is another); a connect in a flow group of core's
// (connect_port).
static void command(struct dp_core *core, const struct ix_cmd *cmd, struct dp_out *out)
{
	if (cmd->op == IX_CMD_CONNECT) {
		int fg;
		uint16_t local_port = connect_port(core, (uint32_t)cmd->arg[0],
						   (uint16_t)cmd->arg[1], &fg);
		if (local_port == 0)
			dp_refuse(cmd, cmd->arg[2], -EAGAIN, out);
		else
			fg_instances[fg]->connect(cmd, local_port, out);
		return;
	}
	int fg = fg_of_handle(cmd->handle);
	int owner = fg < FG_COUNT ? owner_of(fg) : -1;
	if (owner < 0)
		dp_refuse(cmd, 0, -EBADF, out);
	else if (owner != core->id)
		forward(core, owner, &(struct fwd_item){ .cmd = *cmd }, out);
	else
		fg_instances[fg]->command(cmd, out);
}

// Waits for the port's interrupt or a tick; after a tick, reads the
// link state. Any core's queue wakes it (the port's causes are one set):
// at worst a core waits for the next tick.
static void sleep_until_work(struct dp_core *core)
{
	core->stats.sleeps++;
	if (ixgbe_wait(&port, 1) == 0)
		each_owned(core, check_link_fg);
}

// The work of one crossing of core's on area a (checked by cross): runs
// its ncmds commands in order (command, each on a copy ring 3 can no
// longer change) and empties the array; then, for IX_CROSS_FLUSH,
// transmits only (flush_fg for each flow group core runs); for
// IX_CROSS_POLL, runs the loop once. A poll with nothing to do (no
// command, no frame, no new event) waits for the port's interrupt or a
// tick (sleep_until_work) and runs the loop once more, so an idle
// application does not spin. Events go to out.
static void cross_run(struct dp_core *core, struct ix_area *a, uint32_t ncmds, uint64_t how,
		      struct dp_out *out)
{
	// BEGIN LAB 10 SOLUTION: ixdp_loop
	uint32_t before = out->n;

	for (uint32_t i = 0; i < ncmds; i++) {
		struct ix_cmd cmd = a->cmds[i];
		command(core, &cmd, out);
	}
	a->ncmds = 0;
	if (how == IX_CROSS_FLUSH)
		each_owned(core, flush_fg);
	else if (loop_once(core, out) == 0 && out->n == before && ncmds == 0) {
		sleep_until_work(core);
		loop_once(core, out);
	}
	// STUB:
	// static bool told;
	// if (!told) {
	// 	told = true;
	// 	dune_printf("ixdp: LAB 10: cross_run not written: %u commands dropped\n", ncmds);
	// }
	// a->ncmds = 0;
	// (void)how, (void)out, (void)loop_once, (void)sleep_until_work, (void)flush_fg;
	// END LAB 10
}

// One crossing (abi.h): the area checked, then cross_run, then the
// counters.
static int64_t cross(uint64_t addr, uint64_t how)
{
	struct dp_core *core = this_core();
	struct dp_stats *stats = &core->stats;

	if (how != IX_CROSS_POLL && how != IX_CROSS_FLUSH)
		return -EINVAL;
	if ((struct ix_area *)addr != core->checked_area) {
		// Ring 3's permissions never change once it runs: one check
		// of an area is enough.
		if (!dp_user_range(addr, sizeof(struct ix_area), true))
			return -EFAULT;
		core->checked_area = (struct ix_area *)addr;
	}
	struct ix_area *a = core->checked_area;
	uint32_t ncmds = a->ncmds;
	struct dp_out out = { a->events, a->nevents, IX_MAX_EVENTS };
	uint32_t before = out.n;        // events the application has not dispatched yet
	if (ncmds > IX_MAX_CMDS || before > IX_MAX_EVENTS)
		return -EINVAL;
	// A flow group moves only while the application holds none of its
	// events: at a poll, which it makes once it has dispatched them all.
	if (how == IX_CROSS_POLL && before == 0)
		take_request(core);
	cross_run(core, a, ncmds, how, &out);
	a->nevents = out.n;
	stats->crossings++;
	stats->flushes += how == IX_CROSS_FLUSH;
	stats->idle += ncmds == 0 && out.n == before;
	stats->commands += ncmds;
	stats->events += out.n - before;
	if (ncmds > stats->most_commands)
		stats->most_commands = ncmds;
	if (out.n - before > stats->most_events)
		stats->most_events = out.n - before;
	return out.n;
}

// -- ring 3's doors --

// The application's system calls: the crossing, and the few others it
// may make, their buffers checked.
static void app_syscall(struct dune_tf *tf)
{
	switch (tf->rax) {
	case IX_SYS_CROSS:
		tf->rax = (uint64_t)cross(tf->rdi, tf->rsi);
		return;
	case SYS_write:
		if (tf->rdi != 1 && tf->rdi != 2)
			tf->rax = (uint64_t)-EBADF;
		else if (!dp_user_range(tf->rsi, tf->rdx, false))
			tf->rax = (uint64_t)-EFAULT;
		else
			dune_passthrough_syscall(tf);
		return;
	case SYS_clock:
		if (dp_user_range(tf->rdi, sizeof(struct clock_reading), true))
			dune_passthrough_syscall(tf);
		else
			tf->rax = (uint64_t)-EFAULT;
		return;
	case SYS_exit:
		dune_ret_from_user((int)tf->rdi);
	default:
		dune_printf("ixdp: the application's system call %lu refused\n", tf->rax);
		tf->rax = (uint64_t)-ENOSYS;
	}
}

// Abandons ring 3 after a fault of the application: run_app returns
// APP_FAULTED.
static __attribute__((noreturn)) void app_stop(void)
{
	this_core()->app_faulted = true;
	dune_ret_from_user(APP_FAULTED);
}

// A page fault: the application's ends it, reported; one of ring 0 is
// the dataplane's own bug, and ends the process.
static void app_pgflt(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	const char *what = fec & 0x10 ? "instruction fetch" : fec & 0x2 ? "write" : "read";

	if (dune_tf_ring(tf) != 3) {
		dune_printf("ixdp: page fault in the dataplane: %s of 0x%lx at rip 0x%lx\n", what,
			    addr, tf->rip);
		dune_die();
	}
	bool rx = dp_in_rx_alias(addr, 1);
	dune_printf("ixdp: the application faulted: %s of 0x%lx at rip 0x%lx, %s; it is stopped\n",
		    what, addr, tf->rip,
		    rx ? "a received buffer (read-only in ring 3)" : "not the application's memory");
	app_stop();
}

// Any other exception (a privileged instruction, an undefined opcode, a
// division by zero...): the application's ends it, reported; one of
// ring 0 ends the process, as libdune's own report would.
static void app_exception(struct dune_tf *tf)
{
	if (dune_tf_ring(tf) != 3) {
		dune_printf("ixdp: exception %lu in the dataplane at rip 0x%lx, error 0x%lx\n",
			    tf->vector, tf->rip, tf->err);
		dune_die();
	}
	dune_printf("ixdp: the application faulted: exception %lu at rip 0x%lx, error 0x%lx; "
		    "it is stopped\n", tf->vector, tf->rip, tf->err);
	app_stop();
}

static uint64_t align_up(uint64_t x, uint64_t align)
{
	return (x + align - 1) / align * align;
}

// Makes core's block of ring 3's thread-local variables, in .ixapp: the
// image of .tdata, zeros for .tbss, then the thread pointer, which
// points at itself (x86-64 ELF TLS, variant II: a variable's %fs
// offset, which the linker fixed, is its place in the image less the
// image's size rounded up to TLS_STATIC_ALIGN). Returns the thread
// pointer.
static uint64_t make_tls(const struct dp_core *core)
{
	uint64_t size = align_up((uint64_t)__tls_size, TLS_STATIC_ALIGN);
	uint64_t align = (uint64_t)__tls_align > 64 ? (uint64_t)__tls_align : 64;
	uint64_t block = (uint64_t)__ixapp_tls_blocks +
			 (uint64_t)core->id * (uint64_t)__ixapp_tls_block_size;
	uint64_t tp = align_up(block + size, align);
	uint8_t *image = (uint8_t *)(tp - size);

	memcpy(image, __tls_image, (size_t)__tls_image_size);
	memset(image + (size_t)__tls_image_size, 0, size - (size_t)__tls_image_size);
	*(uint64_t *)tp = tp;
	return tp;
}

// Runs the application's main(argc, argv) in ring 3 of core, its
// arguments copied to the top of the core's stack, %fs at its
// thread-local variables. Returns its exit status (APP_FAULTED if it
// faulted).
static int run_app(const struct dp_core *core, int argc, char **argv)
{
	char *top = __ixapp_stack_top - (uint64_t)core->id * (uint64_t)__ixapp_stack_size;
	char *uargv[MAX_ARGS + 1];

	if (argc > MAX_ARGS)
		argc = MAX_ARGS;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		top -= n;
		memcpy(top, argv[i], n);
		uargv[i] = top;
	}
	uargv[argc] = NULL;
	top = (char *)((uintptr_t)top & ~15ul) - (argc + 1) * sizeof(char *);
	memcpy(top, uargv, (argc + 1) * sizeof(char *));
	struct dune_tf tf = {
		.rip = (uint64_t)ix_start,
		// As after a call: the return address's slot below a 16-byte boundary.
		.rsp = ((uint64_t)top & ~15ul) - 8,
		.rdi = (uint64_t)argc, .rsi = (uint64_t)top, .rdx = (uint64_t)__real_main,
		.rcx = (uint64_t)core->id, .r8 = (uint64_t)ncores,
	};
	dune_set_fs_base(make_tls(core));
	return dune_jump_to_user(&tf);
}

// Runs core's ring 3 (the calling thread is in Dune mode): its status
// and clock readings recorded.
static void run_core(struct dp_core *core)
{
	dune_set_thread_data(core);
	clock(&core->begin);
	core->status = run_app(core, core->argc, core->argv);
	clock(&core->end);
	char where[24] = "";
	if (ncores > 1)
		snprintf(where, sizeof(where), " on core %d", core->id);
	if (!core->app_faulted)
		dune_printf("ixdp: the application ended with status %d%s\n", core->status, where);
}

// The thread of a core but the first.
static int core_thread(void *arg)
{
	struct dp_core *core = arg;
	int err = dune_enter();

	if (err < 0) {
		printf("ixdp: core %d cannot enter Dune mode: %s\n", core->id, strerror(err));
		return 100;
	}
	run_core(core);
	return core->status;
}

// The interfaces' counters, summed over the flow groups.
static struct ixgbe_netif_stats netif_totals(void)
{
	struct ixgbe_netif_stats t = { 0 };

	for (int fg = 0; fg < FG_COUNT; fg++) {
		const struct ixgbe_netif_stats *s = fg_instances[fg]->stats();
		t.rx_frames += s->rx_frames;
		t.rx_refused += s->rx_refused;
		t.tx_frames += s->tx_frames;
		t.tx_no_buffer += s->tx_no_buffer;
		t.tx_ring_full += s->tx_ring_full;
		t.tx_bursts += s->tx_bursts;
	}
	return t;
}

// The cores' counters, summed (their most, the most of any).
static struct dp_stats stats_totals(void)
{
	struct dp_stats t = { 0 };

	for (int c = 0; c < ncores; c++) {
		const struct dp_stats *s = &cores[c].stats;
		t.crossings += s->crossings;
		t.flushes += s->flushes;
		t.idle += s->idle;
		t.sleeps += s->sleeps;
		t.timer_runs += s->timer_runs;
		t.commands += s->commands;
		t.events += s->events;
		t.errors += s->errors;
		t.errors_lost += s->errors_lost;
		t.most_commands = s->most_commands > t.most_commands ? s->most_commands : t.most_commands;
		t.most_events = s->most_events > t.most_events ? s->most_events : t.most_events;
		t.most_received = s->most_received > t.most_received ? s->most_received
								      : t.most_received;
		t.sent_referenced += s->sent_referenced;
		t.sent_copied += s->sent_copied;
		t.knocks += s->knocks;
		t.no_slot += s->no_slot;
		t.frames += s->frames;
		t.dropped += s->dropped;
		t.moves += s->moves;
		t.forwarded_frames += s->forwarded_frames;
		t.forwarded_commands += s->forwarded_commands;
	}
	return t;
}

// The dataplane's counters and the NIC's, one line each (and one a core
// with more than one).
static void print_counters(void)
{
	struct ixgbe_netif_stats totals = netif_totals();
	const struct ixgbe_netif_stats *n = &totals;
	struct ixgbe_stats s;

	struct dp_stats d = stats_totals();

	for (int c = 0; ncores > 1 && c < ncores; c++) {
		const struct dp_stats *k = &cores[c].stats;
		dune_printf("ixdp: port %d, core %d: frames %lu, dropped %lu, crossings %lu, "
			    "commands %lu, events %lu, knocks %lu\n", port.port, c, k->frames,
			    k->dropped, k->crossings, k->commands, k->events, k->knocks);
	}
	dune_printf("ixdp: crossings %lu, flushes %lu, idle %lu, sleeps %lu, timer runs %lu, "
		    "commands %lu, events %lu, errors %lu, errors lost %lu, most commands %u, "
		    "most events %u, knocks %lu, no slot %lu\n", d.crossings, d.flushes, d.idle,
		    d.sleeps, d.timer_runs, d.commands, d.events, d.errors, d.errors_lost,
		    d.most_commands, d.most_events, d.knocks, d.no_slot);
	dune_printf("ixdp: bytes sent by reference %lu, copied from received buffers %lu\n",
		    d.sent_referenced, d.sent_copied);
	dune_printf("ixdp: flow groups moved %lu, frames forwarded %lu, commands forwarded %lu\n",
		    d.moves, d.forwarded_frames, d.forwarded_commands);
	dune_printf("netif: rx frames %lu, refused %lu, tx frames %lu, no buffer %lu, "
		    "ring full %lu, bursts %lu, most per poll %u\n", n->rx_frames, n->rx_refused,
		    n->tx_frames, n->tx_no_buffer, n->tx_ring_full, n->tx_bursts, d.most_received);
	char line[FG_COUNT * 21 + 1];
	size_t len = 0;
	for (int fg = 0; fg < FG_COUNT; fg++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %lu", fg_frames[fg]);
	dune_printf("ixdp: frames by flow group:%s\n", line);
	struct neigh_stats arp = neigh_stats();
	dune_printf("ixdp: arp frames received %lu, arp frames sent %lu\n", arp.received,
		    arp.sent);
	ixgbe_stats(&port, &s);
	uint64_t dropped = 0;
	for (int q = 0; q < port.nqueues; q++)
		dropped += s.queue_drop[q];
	dune_printf("ixdp: 82599 received %lu, sent %lu, missed %lu, dropped %lu, no buffer %lu\n",
		    s.rx_packets, s.tx_packets, s.rx_missed, dropped, s.rx_no_buffer);
}

// Parses a dotted quad into *ip (host order); returns whether it is one.
static bool parse_ip(const char *text, uint32_t *ip)
{
	const char *p = text;

	*ip = 0;
	for (int i = 0; i < 4; i++) {
		const char *end;
		unsigned long byte = strtoul(p, &end, 10);
		if (end == p || byte > 255 || *end != (i < 3 ? '.' : '\0'))
			return false;
		*ip = *ip << 8 | (uint32_t)byte;
		p = end + 1;
	}
	return true;
}

// Brings up Dune mode, the port, the flow groups' lwIP instances and
// ring 3's memory. Returns 0,
// or 100 after a line that says what failed.
static int start(const char *name, int nic_port, const char *ip_text, unsigned long listen_port)
{
	int err;

	if (!parse_ip(ip_text, &my_ip) || listen_port == 0 || listen_port > 65535) {
		printf("usage: %s [--nic=0|1] [--cores=1..%d] [--keepalive=MS] [-b LIMIT] [IP [PORT "
		       "[ARGS...]]]\n", name, DP_MAX_CORES);
		return 100;
	}
	if ((err = dune_init(false)) < 0 || (err = dune_enter()) < 0) {
		printf("ixdp: cannot enter Dune mode: %s\n", strerror(err));
		return 100;
	}
	if (ixgbe_init(&port, nic_port, ncores, RING) < 0)
		return 100;
	// Flow group fg's RETA entries (fg.h) go to its core's queue.
	for (int fg = 0; fg < FG_COUNT; fg++)
		fg_owner[fg] = fg % ncores;
	for (int i = 0; i < FG_RETA_ENTRIES; i++)
		ixgbe_reta_set(&port, i, fg_owner[i % FG_COUNT]);
	neigh_init(my_ip, port.mac);
	for (int fg = 0; fg < FG_COUNT; fg++)
		if (!fg_instances[fg]->start(fg, &port, fg_owner[fg], my_ip, (uint16_t)listen_port))
			return 100;
	if ((err = map_app()) < 0) {
		dune_printf("ixdp: cannot map ring 3's memory: %s\n", strerror(err));
		return 100;
	}
	dune_register_syscall_handler(app_syscall);
	dune_register_pgflt_handler(app_pgflt);
	// NMI, double fault and machine check stay libdune's: not the application's doing.
	for (int v = 0; v < 32; v++)
		if (v != 2 && v != 8 && v != 14 && v != 18)
			dune_register_intr_handler(v, app_exception);
	return 0;
}

// Takes the option NAME=N (name: "--nic=", say) out of argv if it is
// argv[1] (argv[0] stays, then the application's arguments). Returns N,
// absent without the option, or -1 after a line that says what is wrong
// if N is not a number from min to max.
static int take_number_option(int *argc, char **argv, const char *name, int min, int max,
			      int absent)
{
	size_t n = strlen(name);

	if (*argc < 2 || strncmp(argv[1], name, n) != 0)
		return absent;
	const char *option = argv[1], *value = option + n, *end;
	unsigned long v = strtoul(value, &end, 10);
	(*argc)--;
	memmove(&argv[1], &argv[2], (size_t)*argc * sizeof(char *));
	if (end == value || *end != '\0' || v < (unsigned long)min || v > (unsigned long)max) {
		printf("ixdp: %s: want a number from %d to %d\n", option, min, max);
		return -1;
	}
	return (int)v;
}

static int port_queues_max(void)
{
	return DP_MAX_CORES < IXGBE_MAX_QUEUES ? DP_MAX_CORES : IXGBE_MAX_QUEUES;
}

// Starts the thread of each core but the first, each to run ring 3 with
// argc and argv. Returns 0, or 100 after a line that says what failed.
static int start_cores(int argc, char **argv)
{
	for (int c = 0; c < ncores; c++) {
		struct dp_core *core = &cores[c];
		core->id = c;
		core->next_port = (uint16_t)(EPHEMERAL_FIRST + c * (EPHEMERAL_PORTS / ncores));
		core->argc = argc;
		core->argv = argv;
		if (c == 0)
			continue;
		void *stack = malloc(CORE_STACK);
		core->tid = stack != NULL ? thread_create(core_thread, core, stack, CORE_STACK)
					  : -ENOMEM;
		if (core->tid < 0) {
			dune_printf("ixdp: cannot start core %d's thread: %s\n", c,
				    strerror(core->tid));
			return 100;
		}
	}
	return 0;
}

int __wrap_main(int argc, char **argv)
{
	int nic_port = take_number_option(&argc, argv, NIC_OPTION, 0, 1, 0);
	if (nic_port < 0)
		return 100;
	ncores = take_number_option(&argc, argv, CORES_OPTION, 1, port_queues_max(), 1);
	if (ncores < 0)
		return 100;
	keepalive_ms = take_number_option(&argc, argv, KEEPALIVE_OPTION, 1,
					  DP_KEEPALIVE_DEFAULT_MS, DP_KEEPALIVE_DEFAULT_MS);
	if (keepalive_ms < 0 || !ixgbe_netif_take_batch_limit(&argc, &argv, &batch_limit))
		return 100;
	const char *ip_text = argc > 1 ? argv[1] : nic_port == 1 ? "10.0.2.16" : "10.0.2.15";
	unsigned long listen_port = argc > 2 ? strtoul(argv[2], NULL, 10) : 7;
	int status = start(argv[0], nic_port, ip_text, listen_port);

	if (status != 0)
		return status;
	dune_printf("ixdp: %s port %d, mac %02x:%02x:%02x:%02x:%02x:%02x, link %s; %s port %lu "
		    "for %s in ring 3 (lwIP %s)\n", port.emulated ? "emulated" : "real", nic_port,
		    port.mac[0], port.mac[1], port.mac[2], port.mac[3], port.mac[4], port.mac[5],
		    port.link_up ? "up" : "down", ip_text, listen_port, argv[0],
		    LWIP_VERSION_STRING);
	dune_printf("ixdp: batch limit %d frames a crossing, %d core%s, %d flow groups\n",
		    batch_limit, ncores, ncores > 1 ? "s" : "", FG_COUNT);
	if ((status = start_cores(argc, argv)) != 0)
		return status;
	run_core(&cores[0]);
	status = cores[0].status;
	for (int c = 1; c < ncores; c++) {
		int value;
		if (join(cores[c].tid, &value) < 0 || value != 0)
			status = status != 0 ? status : value != 0 ? value : 100;
	}
	// What a benchmark divides by its messages (bench.ix): the ticks of
	// ring 3, the dataplane and the kernel's work for them in the cores'
	// threads (under Bochs the TSC counts instructions).
	uint64_t ticks = 0, nic_ticks = 0;
	for (int c = 0; c < ncores; c++) {
		ticks += cores[c].end.thread_cycles - cores[c].begin.thread_cycles;
		nic_ticks += cores[c].end.device_cycles - cores[c].begin.device_cycles;
	}
	dune_printf("ixdp: ring 3 ran %lu ms: %lu TSC ticks in the cores' threads, %lu of them in "
		    "the emulated NIC, %lu crossings\n",
		    (cores[0].end.ns - cores[0].begin.ns) / 1000000, ticks, nic_ticks,
		    stats_totals().crossings);
	print_counters();
	int stopped = ixgbe_stopped_queues(&port);
	return status != 0 ? status : stopped;
}
