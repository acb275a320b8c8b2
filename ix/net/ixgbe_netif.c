// An lwIP interface on an ixgbe queue (ixgbe_netif.h).

#include <lwip/etharp.h>
#include <lwip/init.h>
#include <lwip/pbuf.h>
#include <netif/ethernet.h>

#include "ix/net/ixgbe_netif.h"
#include "ulib.h"

#define IXGBE_NETIF_MTU 1500

// lwIP frees the pbuf of a received frame: the buffer under it goes back
// to its pool (and may hold the next frame the NIC receives).
static void rx_pbuf_free(struct pbuf *p)
{
	// BEGIN LAB 10 SOLUTION: netif_rx
	struct ixgbe_rx_pbuf *r = (struct ixgbe_rx_pbuf *)p;

	r->ifc->rx_free(r->buf);
	// STUB:
	// (void)p;
	// END LAB 10
}

// b's record in rx_pbufs: its queue's pool's, at its index there.
static struct ixgbe_rx_pbuf *rx_record(struct ixgbe_netif *ifc, const struct pktbuf *b)
{
	int q = 0;

	while (b->pool != &ifc->dev->queues[q].pool)
		q++;
	return &ifc->rx_pbufs[(size_t)q * b->pool->nbufs + (size_t)(b - b->pool->bufs)];
}

struct pktbuf *ixgbe_netif_rx_buf(const struct pbuf *p)
{
	// BEGIN LAB 10 SOLUTION: netif_rx
	const struct ixgbe_rx_pbuf *r = (const struct ixgbe_rx_pbuf *)p;

	if (!(p->flags & PBUF_FLAG_IS_CUSTOM) || r->custom.custom_free_function != rx_pbuf_free)
		return NULL;
	return r->buf;
	// STUB:
	// (void)p, (void)rx_pbuf_free;
	// return NULL;
	// END LAB 10
}

void ixgbe_netif_input(struct ixgbe_netif *ifc, struct pktbuf *b)
{
	// BEGIN LAB 10 SOLUTION: netif_rx
	struct ixgbe_rx_pbuf *r = rx_record(ifc, b);

	r->buf = b;
	r->ifc = ifc;
	r->custom.custom_free_function = rx_pbuf_free;
	// PBUF_REF: the payload is not beside the pbuf, so lwIP never
	// grows a header in front of the buffer (lwIP's ZeroCopyRx.c).
	struct pbuf *p = pbuf_alloced_custom(PBUF_RAW, b->len, PBUF_REF, &r->custom,
					     b->data, PKTBUF_SIZE);
	if (ifc->netif.input(p, &ifc->netif) == ERR_OK) {
		ifc->stats.rx_frames++;
	} else {
		ifc->stats.rx_refused++;
		pbuf_free(p);
	}
	// STUB:
	// static bool told;
	// if (!told) {
	// 	told = true;
	// 	printf("ixgbe_netif: LAB 10: ixgbe_netif_input not written: received frames "
	// 	       "dropped\n");
	// }
	// (void)rx_record;
	// ifc->rx_free(b);
	// END LAB 10
}

int ixgbe_netif_poll(struct ixgbe_netif *ifc, int max)
{
	struct pktbuf *bufs[IXGBE_NETIF_RX_BURST];

	if (max > IXGBE_NETIF_RX_BURST)
		max = IXGBE_NETIF_RX_BURST;
	int n = ixgbe_rx_burst(ifc->dev, ifc->queue, bufs, max);
	if ((uint32_t)n > ifc->stats.rx_most)
		ifc->stats.rx_most = (uint32_t)n;
	for (int i = 0; i < n; i++)
		ixgbe_netif_input(ifc, bufs[i]);
	return n;
}

void ixgbe_netif_set_queue(struct ixgbe_netif *ifc, int q)
{
	ixgbe_netif_flush(ifc);
	ifc->queue = q;
}

void ixgbe_netif_flush(struct ixgbe_netif *ifc)
{
	if (ifc->tx_count == 0)
		return;
	int sent = ixgbe_tx_burst(ifc->dev, ifc->queue, ifc->tx_batch, ifc->tx_lens,
				  ifc->tx_count);
	ifc->stats.tx_bursts++;
	ifc->stats.tx_frames += sent;
	// lwIP was told these were sent: TCP sends its segments again when
	// they are not acknowledged, as if the wire had lost them.
	for (int i = sent; i < ifc->tx_count; i++) {
		pktbuf_free(ifc->tx_batch[i]);
		ifc->stats.tx_ring_full++;
	}
	ifc->tx_count = 0;
}

// lwIP's linkoutput: a whole Ethernet frame (without CRC) in the pbuf
// chain p, copied into a buffer of the queue and added to the batch.
static err_t ixgbe_netif_output(struct netif *netif, struct pbuf *p)
{
	struct ixgbe_netif *ifc = netif->state;

	LWIP_ASSERT("ixgbe_netif_output: frame longer than IXGBE_FRAME_MAX",
		    p->tot_len <= IXGBE_FRAME_MAX);
	struct pktbuf *b = ixgbe_alloc(ifc->dev, ifc->queue);
	if (b == NULL) {
		ifc->stats.tx_no_buffer++;
		return ERR_MEM;
	}
	pbuf_copy_partial(p, b->data, p->tot_len, 0);
	ifc->tx_batch[ifc->tx_count] = b;
	ifc->tx_lens[ifc->tx_count] = p->tot_len;
	if (++ifc->tx_count == IXGBE_NETIF_BATCH)
		ixgbe_netif_flush(ifc);
	return ERR_OK;
}

// netif_add's init callback: the interface's Ethernet identity.
static err_t ixgbe_netif_init(struct netif *netif)
{
	struct ixgbe_netif *ifc = netif->state;

	netif->name[0] = 'i';
	netif->name[1] = 'x';
	netif->output = etharp_output;
	netif->linkoutput = ixgbe_netif_output;
	netif->mtu = IXGBE_NETIF_MTU;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, ifc->dev->mac, ETH_HWADDR_LEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	return ERR_OK;
}

err_t ixgbe_netif_add(struct ixgbe_netif *ifc, struct ixgbe_dev *dev, int q,
		      const ip4_addr_t *ip, const ip4_addr_t *netmask, const ip4_addr_t *gw)
{
	uint32_t nbufs = (uint32_t)dev->nqueues * dev->queues[q].pool.nbufs;

	memset(ifc, 0, sizeof(*ifc));
	ifc->dev = dev;
	ifc->queue = q;
	ifc->rx_free = pktbuf_free;
	ifc->rx_pbufs = malloc(nbufs * sizeof(*ifc->rx_pbufs));
	if (ifc->rx_pbufs == NULL) {
		printf("ixgbe_netif_add: no memory for %u pbuf records of port %d\n", nbufs,
		       dev->port);
		return ERR_MEM;
	}
	if (netif_add(&ifc->netif, ip, netmask, gw, ifc, ixgbe_netif_init, ethernet_input) == NULL) {
		printf("ixgbe_netif_add: lwIP's netif_add refused port %d queue %d\n", dev->port, q);
		return ERR_IF;
	}
	netif_set_default(&ifc->netif);
	netif_set_up(&ifc->netif);
	ixgbe_netif_check_link(ifc);
	return ERR_OK;
}

bool ixgbe_netif_start(struct ixgbe_netif *ifc, struct ixgbe_dev *dev, int port, uint32_t ring,
		       const ip4_addr_t *ip)
{
	ip4_addr_t netmask;

	if (ixgbe_init(dev, port, 1, ring) < 0)
		return false;
	lwip_init();
	IP4_ADDR(&netmask, 255, 255, 255, 0);
	return ixgbe_netif_add(ifc, dev, 0, ip, &netmask, IP4_ADDR_ANY4) == ERR_OK;
}

bool ixgbe_netif_check_link(struct ixgbe_netif *ifc)
{
	bool up = ixgbe_link(ifc->dev);

	if (up && !netif_is_link_up(&ifc->netif))
		netif_set_link_up(&ifc->netif);
	else if (!up && netif_is_link_up(&ifc->netif))
		netif_set_link_down(&ifc->netif);
	return up;
}
