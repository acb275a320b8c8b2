// One flow group's lwIP instance (fg.h): the entry points of a copy of
// lwIP, tcp.c, the interface and the timer wheel. Linked into the
// instance object, whose only global is fg_ops (renamed fg_ops_N in
// each copy), so every static here and in lwIP is the flow group's own.
//
// The interface sends IP packets: its output looks the next hop up in
// the dataplane's neighbour table (neigh.h) and adds the Ethernet
// header. A packet for a neighbour still unknown waits, copied, until
// the dataplane learns it (up to HELD_MAX packets; a burst of new
// connections' SYNs otherwise loses all but the first, which TCP sends
// again only seconds later).

#include <lwip/init.h>
#include <lwip/timeouts.h>
#include <netif/ethernet.h>

#include "ix/dp/fg.h"
#include "ix/dp/neigh.h"
#include "ix/net/ixgbe_netif.h"
#include "ulib.h"

#define HELD_MAX 64
#define TIMER_RUN_MS 250        // count_timer_run's period: lwIP's TCP timer's

struct held {
	struct pbuf *p;         // an IP packet, copied; NULL: free
	uint32_t next_hop;      // host order
};

static struct ixgbe_netif ifc;
static struct held held[HELD_MAX];
static int held_count;          // the entries of held in use

// Sends p to next_hop (host order) if the neighbour table knows it.
static bool send_known(struct pbuf *p, uint32_t next_hop)
{
	struct eth_addr mac;

	if (!neigh_resolve(ifc.dev, ifc.queue, next_hop, mac.addr))
		return false;
	ethernet_output(&ifc.netif, p, (const struct eth_addr *)ifc.netif.hwaddr, &mac,
			ETHTYPE_IP);
	return true;
}

// The interface's output: an IP packet p for next hop ip.
static err_t ip_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *ip)
{
	uint32_t next_hop = lwip_ntohl(ip4_addr_get_u32(ip));

	if (send_known(p, next_hop))
		return ERR_OK;
	for (struct held *h = held; h < held + HELD_MAX; h++) {
		if (h->p != NULL)
			continue;
		h->p = pbuf_clone(PBUF_LINK, PBUF_RAM, p);
		h->next_hop = next_hop;
		held_count += h->p != NULL;
		return h->p != NULL ? ERR_OK : ERR_MEM;
	}
	// As lost on the wire: TCP sends it again.
	return ERR_OK;
}

// Sends the held packets whose next hop is known now.
static void send_held(void)
{
	for (struct held *h = held; h < held + HELD_MAX && held_count > 0; h++) {
		if (h->p != NULL && send_known(h->p, h->next_hop)) {
			pbuf_free(h->p);
			h->p = NULL;
			held_count--;
		}
	}
}

// A timeout of lwIP's, every TIMER_RUN_MS: it runs only where the loop
// runs the instance's timers (sys_check_timeouts), as TCP's do.
static void count_timer_run(void *arg)
{
	dp_stats_here()->timer_runs++;
	sys_timeout(TIMER_RUN_MS, count_timer_run, NULL);
}

static bool start(int fg, struct ixgbe_dev *dev, int q, uint32_t ip, uint16_t port)
{
	ip4_addr_t addr, netmask;

	lwip_init();
	ip4_addr_set_u32(&addr, lwip_htonl(ip));
	IP4_ADDR(&netmask, 255, 255, 255, 0);
	if (ixgbe_netif_add(&ifc, dev, q, &addr, &netmask, IP4_ADDR_ANY4) != ERR_OK)
		return false;
	ifc.netif.output = ip_output;
	ifc.rx_free = dp_rx_free;
	sys_timeout(TIMER_RUN_MS, count_timer_run, NULL);
	return dp_tcp_start(fg, port);
}

static void input(struct pktbuf *b)
{
	ixgbe_netif_input(&ifc, b);
}

static void timers(void)
{
	sys_check_timeouts();
	send_held();
}

static void flush(void)
{
	ixgbe_netif_flush(&ifc);
}

static void move(int q)
{
	ixgbe_netif_set_queue(&ifc, q);
}

static void check_link(void)
{
	ixgbe_netif_check_link(&ifc);
}

static const struct ixgbe_netif_stats *stats(void)
{
	return &ifc.stats;
}

const struct fg_ops fg_ops = {
	.start = start,
	.input = input,
	.command = dp_tcp_command,
	.connect = dp_tcp_connect,
	.timers = timers,
	.report = dp_tcp_report,
	.flush = flush,
	.move = move,
	.check_link = check_link,
	.stats = stats,
};
