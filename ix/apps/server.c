// The dataplane's TCP servers' common part: see server.h.

#include "ix/apps/server.h"

#include <lwip/init.h>
#include <lwip/stats.h>
#include <lwip/sys.h>
#include <lwip/timeouts.h>

#include "ix/drivers/ixgbe.h"
#include "ix/lwip/sys_timeouts.h"
#include "ix/net/ixgbe_netif.h"
#include "ulib.h"

#define RING 256
#define WAIT_TICKS 1

u16_t server_write(struct tcp_pcb *pcb, struct pbuf *p, uint64_t *refused)
{
	u16_t taken = 0;

	for (struct pbuf *q = p; q != NULL; q = q->next) {
		u16_t n = LWIP_MIN(q->len, tcp_sndbuf(pcb));
		if (n == 0)
			break;
		err_t err = tcp_write(pcb, q->payload, n,
				      TCP_WRITE_FLAG_COPY | (q->next ? TCP_WRITE_FLAG_MORE : 0));
		if (err != ERR_OK) {
			(*refused)++;
			break;
		}
		taken += n;
		if (n < q->len)
			break;
	}
	return taken;
}

// Listens on port; returns false after a line that says why it cannot.
static bool server_listen(const struct server_app *app, uint16_t port)
{
	struct tcp_pcb *pcb = tcp_new();

	if (pcb == NULL) {
		printf("%s: tcp_new: no memory for a pcb\n", app->name);
		return false;
	}
	err_t err = tcp_bind(pcb, IP_ADDR_ANY, port);
	if (err != ERR_OK) {
		printf("%s: tcp_bind to port %u: lwIP error %d\n", app->name, port, err);
		tcp_close(pcb);
		return false;
	}
	struct tcp_pcb *listener = tcp_listen(pcb);
	if (listener == NULL) {
		printf("%s: tcp_listen on port %u: no memory\n", app->name, port);
		tcp_close(pcb);
		return false;
	}
	tcp_accept(listener, app->accept);
	return true;
}

// One line of lwIP's counters of a protocol (lwip/stats.h).
static void print_proto(const char *name, const struct stats_proto *s)
{
	printf("lwip: %s recv %u, xmit %u, drop %u, chkerr %u, lenerr %u, memerr %u, "
	       "proterr %u, err %u\n", name, s->recv, s->xmit, s->drop, s->chkerr, s->lenerr,
	       s->memerr, s->proterr, s->err);
}

// The run's end: why, then the counters of the app, lwIP, the
// interface and the NIC, one line each (tools/tests/test_ix.py and
// test_kvs.py read them).
static void print_counters(const struct server_app *app, struct ixgbe_dev *port,
			   const struct ixgbe_netif *ifc)
{
	struct ixgbe_stats s;
	const struct ixgbe_netif_stats *n = &ifc->stats;

	printf("%s: %s\n", app->name, *app->done ? app->done_reason : "time is up");
	app->print_counters();
	print_proto("tcp", &lwip_stats.tcp);
	print_proto("ip", &lwip_stats.ip);
	print_proto("icmp", &lwip_stats.icmp);
	print_proto("etharp", &lwip_stats.etharp);
	printf("lwip: heap used %lu, max %lu, err %u\n", (unsigned long)lwip_stats.mem.used,
	       (unsigned long)lwip_stats.mem.max, lwip_stats.mem.err);
	printf("lwip: timers fired %lu, cascaded %lu\n", sys_timeouts_stats()->fired,
	       sys_timeouts_stats()->cascaded);
	printf("netif: rx frames %lu, refused %lu, tx frames %lu, no buffer %lu, ring full %lu, "
	       "bursts %lu, most per poll %u\n", n->rx_frames, n->rx_refused, n->tx_frames,
	       n->tx_no_buffer, n->tx_ring_full, n->tx_bursts, n->rx_most);
	ixgbe_stats(port, &s);
	printf("%s: 82599 received %lu, sent %lu, missed %lu, dropped %lu, no buffer %lu\n",
	       app->name, s.rx_packets, s.tx_packets, s.rx_missed, s.queue_drop[0],
	       s.rx_no_buffer);
}

int server_main(int argc, char **argv, const struct server_app *app)
{
	static struct ixgbe_dev port;
	static struct ixgbe_netif ifc;
	int batch_limit = IXGBE_NETIF_RX_BURST;

	if (!ixgbe_netif_take_batch_limit(&argc, &argv, &batch_limit))
		return 100;
	const char *ip_text = argc > 1 ? argv[1] : "10.0.2.15";
	unsigned long tcp_port = argc > 2 ? strtoul(argv[2], NULL, 10) : app->default_port;
	unsigned long seconds = argc > 3 ? strtoul(argv[3], NULL, 10) : 30;
	ip4_addr_t ip;

	if (!ip4addr_aton(ip_text, &ip) || tcp_port == 0 || tcp_port > 65535 || seconds == 0) {
		printf("usage: %s %s\n", app->name, app->usage);
		return 100;
	}
	if (!ixgbe_netif_start(&ifc, &port, 0, RING, &ip) || !server_listen(app, (uint16_t)tcp_port))
		return 100;
	printf("%s: %s port 0, mac %02x:%02x:%02x:%02x:%02x:%02x, link %s; %s serves %s "
	       "on port %lu (lwIP %s)\n", app->name, port.emulated ? "emulated" : "real",
	       port.mac[0], port.mac[1], port.mac[2], port.mac[3], port.mac[4], port.mac[5],
	       port.link_up ? "up" : "down", ip_text, app->service, tcp_port, LWIP_VERSION_STRING);
	printf("%s: batch limit %d frames a poll\n", app->name, batch_limit);

	struct clock_reading begin, end;
	clock(&begin);
	u32_t start = sys_now();
	while (!*app->done && sys_now() - start < seconds * 1000) {
		int n = ixgbe_netif_poll(&ifc, batch_limit);
		sys_check_timeouts();
		ixgbe_netif_flush(&ifc);
		if (n > 0)
			continue;
		int64_t causes = ixgbe_wait(&port, WAIT_TICKS);
		if (causes < 0)
			break;
		if (causes == 0)
			ixgbe_netif_check_link(&ifc);
	}
	clock(&end);
	// What a benchmark divides by its messages (bench.ix): the kernel's
	// work for the thread included (under Bochs the TSC counts
	// instructions). Under printf's 128 bytes: one write, whole.
	printf("%s: served %lu ms: %lu TSC ticks in this thread, %lu of them in the emulated "
	       "NIC\n", app->name, (end.ns - begin.ns) / 1000000,
	       end.thread_cycles - begin.thread_cycles, end.device_cycles - begin.device_cycles);
	print_counters(app, &port, &ifc);
	return ixgbe_stopped_queues(&port);
}
