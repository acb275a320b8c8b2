// The ixgbe driver (ixgbe.h): initialization in the order of the 82599
// datasheet's 4.6.3, then the batched receive and transmit paths.

#include "ix/drivers/ixgbe.h"

#include "ulib.h"

#define IXGBE_RESET_MS 100              // CTRL.RST, EEC.ARD, RDRXCTL.DMAIDONE
#define IXGBE_RESET_SETTLE_MS 10
#define IXGBE_LINK_MS 2000              // an SFP+ link comes up in well under a second
#define IXGBE_QUEUE_ENABLE_MS 100       // RXDCTL/TXDCTL.ENABLE reads back

const uint8_t ixgbe_rss_key[IXGBE_RSS_KEY_SIZE] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

// Sleeps at least ms milliseconds.
static void ixgbe_delay_ms(uint32_t ms)
{
	uint64_t until = uptime_ms() + ms;

	while (uptime_ms() < until)
		sleep(1);
}

// Polls reg until (reg & mask) == want, for at most ms milliseconds
// (sleeping a tick between reads once the first read fails). Returns 0,
// or -ETIMEDOUT after saying what was awaited and what the register
// held.
static int ixgbe_wait_reg(struct ixgbe_dev *dev, uint32_t reg, uint32_t mask, uint32_t want,
			  uint32_t ms, const char *what)
{
	uint64_t deadline = uptime_ms() + ms;
	uint32_t v;

	while (((v = ixgbe_read(dev, reg)) & mask) != want) {
		if (uptime_ms() > deadline) {
			printf("ixgbe: port %d: %s: register 0x%05x is 0x%08x after %u ms "
			       "(waited for bits 0x%08x to be 0x%08x)\n",
			       dev->port, what, reg, v, ms, mask, want);
			return -ETIMEDOUT;
		}
		sleep(1);
	}
	return 0;
}

// Descriptor rings and buffers of every queue, the first time dev is
// initialized; a later init reuses them (there is no SYS_dma_free).
static int ixgbe_alloc_queues(struct ixgbe_dev *dev)
{
	size_t ring_bytes = dev->ring_size * sizeof(union ixgbe_adv_rx_desc);

	for (int q = 0; q < dev->nqueues; q++) {
		struct ixgbe_queue *queue = &dev->queues[q];
		int64_t rx = dma_alloc(ring_bytes, &queue->rx.ring_bus);
		int64_t tx = dma_alloc(ring_bytes, &queue->tx.ring_bus);
		queue->rx.bufs = malloc(dev->ring_size * sizeof(struct pktbuf *));
		queue->tx.bufs = malloc(dev->ring_size * sizeof(struct pktbuf *));
		if (rx < 0 || tx < 0 || queue->rx.bufs == NULL || queue->tx.bufs == NULL) {
			printf("ixgbe: port %d: no memory for queue %d's rings (%lu bytes each)\n",
			       dev->port, q, ring_bytes);
			return -ENOMEM;
		}
		// RDBAL and TDBAL take 128-byte aligned addresses (8.2.3.8, 8.2.3.9).
		if ((queue->rx.ring_bus | queue->tx.ring_bus) & 127) {
			printf("ixgbe: port %d: rings at bus 0x%lx and 0x%lx are not 128-byte "
			       "aligned\n", dev->port, queue->rx.ring_bus, queue->tx.ring_bus);
			return -EINVAL;
		}
		queue->rx.ring = (volatile union ixgbe_adv_rx_desc *)rx;
		queue->tx.ring = (volatile union ixgbe_adv_tx_desc *)tx;
		int r = pktbuf_pool_init(&queue->pool, 3 * dev->ring_size);
		if (r < 0)
			return r;
	}
	return 0;
}

// 4.6.3.1-2: interrupts off, a global reset, interrupts off again (the
// reset turned nothing on, but a cause may have come in between), the
// 10 ms the datasheet asks after a reset, then what the NIC does after
// one: the EEPROM auto-read (which loads the MAC address into
// RAL(0)/RAH(0)) and the DMA init.
static int ixgbe_reset(struct ixgbe_dev *dev)
{
	int r;

	ixgbe_write(dev, IXGBE_EIMC, 0x7FFFFFFF);
	ixgbe_write(dev, IXGBE_CTRL, ixgbe_read(dev, IXGBE_CTRL) | IXGBE_CTRL_RST);
	if ((r = ixgbe_wait_reg(dev, IXGBE_CTRL, IXGBE_CTRL_RST, 0, IXGBE_RESET_MS,
				"reset (CTRL.RST did not clear)")) < 0)
		return r;
	ixgbe_delay_ms(IXGBE_RESET_SETTLE_MS);
	ixgbe_write(dev, IXGBE_EIMC, 0x7FFFFFFF);
	if ((r = ixgbe_wait_reg(dev, IXGBE_EEC, IXGBE_EEC_ARD, IXGBE_EEC_ARD, IXGBE_RESET_MS,
				"EEPROM auto-read (EEC.ARD)")) < 0)
		return r;
	uint32_t ral = ixgbe_read(dev, IXGBE_RAL(0));
	uint32_t rah = ixgbe_read(dev, IXGBE_RAH(0));
	for (int i = 0; i < 4; i++)
		dev->mac[i] = ral >> (8 * i);
	dev->mac[4] = rah;
	dev->mac[5] = rah >> 8;
	if ((r = ixgbe_wait_reg(dev, IXGBE_RDRXCTL, IXGBE_RDRXCTL_DMAIDONE,
				IXGBE_RDRXCTL_DMAIDONE, IXGBE_RESET_MS,
				"DMA init (RDRXCTL.DMAIDONE)")) < 0)
		return r;
	ixgbe_write(dev, IXGBE_CTRL_EXT, ixgbe_read(dev, IXGBE_CTRL_EXT) | IXGBE_CTRL_EXT_DRV_LOAD);
	return 0;
}

bool ixgbe_link(struct ixgbe_dev *dev)
{
	uint32_t links = ixgbe_read(dev, IXGBE_LINKS);

	dev->link_up = (links & IXGBE_LINKS_UP) != 0;
	dev->link_mbps = !dev->link_up ? 0 :
		(links & IXGBE_LINKS_SPEED_MASK) == IXGBE_LINKS_SPEED_10G ? 10000 : 1000;
	return dev->link_up;
}

// 4.6.4: restart auto-negotiation and wait (bounded) for the link. A
// link that stays down is not an error of the driver (no cable yet):
// init goes on and says so.
static void ixgbe_link_setup(struct ixgbe_dev *dev)
{
	ixgbe_write(dev, IXGBE_AUTOC, ixgbe_read(dev, IXGBE_AUTOC) | IXGBE_AUTOC_RESTART_AN);
	if (ixgbe_wait_reg(dev, IXGBE_LINKS, IXGBE_LINKS_UP, IXGBE_LINKS_UP, IXGBE_LINK_MS,
			   "link (LINKS.UP)") < 0)
		printf("ixgbe: port %d: going on with the link down\n", dev->port);
	ixgbe_link(dev);
}

// Gives the NIC a buffer in every empty slot of the receive ring but
// one, then tells it with ONE write of RDT (not one per buffer: a
// register write is a PCIe transaction, here even a trap).
// Invariant: the NIC owns [next, tail); refilling moves tail up to
// next + ring_size - 1. If the pool runs dry the ring stays short and
// the next refill tries again.
static void ixgbe_rx_refill(struct ixgbe_dev *dev, int q)
{
	// BEGIN LAB 9 SOLUTION: ixgbe_rx_refill
	struct ixgbe_rxq *rxq = &dev->queues[q].rx;
	uint32_t mask = dev->ring_size - 1;
	uint32_t old_tail = rxq->tail;

	while (rxq->tail - rxq->next < dev->ring_size - 1) {
		struct pktbuf *b = pktbuf_alloc(&dev->queues[q].pool);
		if (b == NULL) {
			dev->stats.rx_no_buffer++;
			break;
		}
		volatile union ixgbe_adv_rx_desc *d = &rxq->ring[rxq->tail & mask];
		d->read.pkt_addr = b->bus;
		d->read.hdr_addr = 0;   // no header split; also clears DD of the write-back
		rxq->bufs[rxq->tail & mask] = b;
		rxq->tail++;
	}
	if (rxq->tail != old_tail) {
		// The descriptors must be in memory before the NIC hears of them.
		__atomic_thread_fence(__ATOMIC_RELEASE);
		ixgbe_write(dev, IXGBE_RDT(q), rxq->tail & mask);
	}
	// STUB:
	// static bool told;
	// if (!told) {
	// 	told = true;
	// 	printf("ixgbe: port %d: LAB 9: ixgbe_rx_refill not written: receive queue %d has "
	// 	       "no buffers\n", dev->port, q);
	// }
	// END LAB 9
}

// 4.6.7, per queue: the ring's address and length, advanced one-buffer
// descriptors with 2 KiB buffers, a frame dropped (and counted in
// QPRDC) when the ring has no free descriptor, rather than held in the
// packet buffer where it would stall the other queues' frames behind
// it (SRRCTL.DROP_EN); enable and wait for it, then fill the ring
// (RDT = ring_size - 1).
static int ixgbe_rx_queue_init(struct ixgbe_dev *dev, int q)
{
	struct ixgbe_rxq *rxq = &dev->queues[q].rx;

	ixgbe_write(dev, IXGBE_RDBAL(q), (uint32_t)rxq->ring_bus);
	ixgbe_write(dev, IXGBE_RDBAH(q), (uint32_t)(rxq->ring_bus >> 32));
	ixgbe_write(dev, IXGBE_RDLEN(q), dev->ring_size * sizeof(union ixgbe_adv_rx_desc));
	ixgbe_write(dev, IXGBE_SRRCTL(q), IXGBE_SRRCTL_DESCTYPE_ADV | IXGBE_SRRCTL_DROP_EN |
		    (PKTBUF_SIZE >> IXGBE_SRRCTL_BSIZEPKT_SHIFT));
	rxq->next = rxq->tail = 0;
	rxq->discarding = false;
	ixgbe_write(dev, IXGBE_RXDCTL(q), ixgbe_read(dev, IXGBE_RXDCTL(q)) | IXGBE_RXDCTL_ENABLE);
	int r = ixgbe_wait_reg(dev, IXGBE_RXDCTL(q), IXGBE_RXDCTL_ENABLE, IXGBE_RXDCTL_ENABLE,
			       IXGBE_QUEUE_ENABLE_MS, "receive queue enable (RXDCTL.ENABLE)");
	if (r < 0)
		return r;
	ixgbe_rx_refill(dev, q);
	return 0;
}

// 4.6.7: with receive off (as the reset left it) while the queues are
// set up: broadcasts accepted, the CRC stripped; then receive on.
static int ixgbe_rx_init(struct ixgbe_dev *dev)
{
	ixgbe_write(dev, IXGBE_FCTRL, IXGBE_FCTRL_BAM);
	ixgbe_write(dev, IXGBE_HLREG0, ixgbe_read(dev, IXGBE_HLREG0) |
		    IXGBE_HLREG0_RXCRCSTRP | IXGBE_HLREG0_TXCRCEN);
	for (int q = 0; q < dev->nqueues; q++) {
		int r = ixgbe_rx_queue_init(dev, q);
		if (r < 0)
			return r;
	}
	ixgbe_write(dev, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);
	return 0;
}

// 4.6.8: the transmit DMA on first, then each queue's ring, enabled and
// awaited. TDH and TDT are 0 after the reset.
static int ixgbe_tx_init(struct ixgbe_dev *dev)
{
	ixgbe_write(dev, IXGBE_DMATXCTL, ixgbe_read(dev, IXGBE_DMATXCTL) | IXGBE_DMATXCTL_TE);
	for (int q = 0; q < dev->nqueues; q++) {
		struct ixgbe_txq *txq = &dev->queues[q].tx;
		ixgbe_write(dev, IXGBE_TDBAL(q), (uint32_t)txq->ring_bus);
		ixgbe_write(dev, IXGBE_TDBAH(q), (uint32_t)(txq->ring_bus >> 32));
		ixgbe_write(dev, IXGBE_TDLEN(q), dev->ring_size * sizeof(union ixgbe_adv_tx_desc));
		txq->tail = txq->clean = 0;
		ixgbe_write(dev, IXGBE_TXDCTL(q), ixgbe_read(dev, IXGBE_TXDCTL(q)) |
			    IXGBE_TXDCTL_ENABLE);
		int r = ixgbe_wait_reg(dev, IXGBE_TXDCTL(q), IXGBE_TXDCTL_ENABLE,
				       IXGBE_TXDCTL_ENABLE, IXGBE_QUEUE_ENABLE_MS,
				       "transmit queue enable (TXDCTL.ENABLE)");
		if (r < 0)
			return r;
	}
	return 0;
}

// RSS (7.1.2.8): the NIC hashes each received IPv4 frame's addresses
// and, for TCP and UDP, ports with the Toeplitz function under the
// 40-byte key in RSSRK, and sends it to queue RETA[hash & 127]. Spread
// the 128 entries round-robin over the queues, so each queue gets an
// equal share of the flows. RSSRK and RETA take their bytes lowest
// first: byte i of the key is bits 8*(i%4) of RSSRK(i/4), entry i is
// bits 8*(i%4) of RETA(i/4).
static void ixgbe_rss_setup(struct ixgbe_dev *dev)
{
	// BEGIN LAB 9 SOLUTION: ixgbe_rss_setup
	for (int i = 0; i < IXGBE_RSS_KEY_SIZE; i += 4)
		ixgbe_write(dev, IXGBE_RSSRK(i / 4), ixgbe_rss_key[i] |
			    ixgbe_rss_key[i + 1] << 8 | ixgbe_rss_key[i + 2] << 16 |
			    (uint32_t)ixgbe_rss_key[i + 3] << 24);
	for (int i = 0; i < IXGBE_RETA_ENTRIES; i += 4) {
		uint32_t reta = 0;
		for (int j = 0; j < 4; j++)
			reta |= (uint32_t)((i + j) % dev->nqueues) << (8 * j);
		ixgbe_write(dev, IXGBE_RETA(i / 4), reta);
	}
	ixgbe_write(dev, IXGBE_MRQC, IXGBE_MRQC_RSSEN | IXGBE_MRQC_RSS_IPV4 |
		    IXGBE_MRQC_RSS_TCPIPV4 | IXGBE_MRQC_RSS_UDPIPV4);
	// STUB:
	// printf("ixgbe: port %d: LAB 9: ixgbe_rss_setup not written: every frame goes to "
	//        "queue 0\n", dev->port);
	// END LAB 9
}

void ixgbe_reta_set(struct ixgbe_dev *dev, int entry, int q)
{
	int shift = 8 * (entry % 4);
	uint32_t reta = ixgbe_read(dev, IXGBE_RETA(entry / 4));

	reta = (reta & ~(0xFFu << shift)) | (uint32_t)q << shift;
	ixgbe_write(dev, IXGBE_RETA(entry / 4), reta);
}

// 4.6.6: MSI-X mode; queue q's receive and transmit causes on vector q
// (IVAR(n) holds four entries: receive and transmit of queue 2n, then of
// queue 2n + 1); then unmasked. Neither auto-clear (EIAC) nor auto-mask
// (GPIE.EIAME): a cause stays in EICR until it is read, which is what
// nic_wait does, so a driver that slept learns which queues have work.
static void ixgbe_irq_setup(struct ixgbe_dev *dev)
{
	ixgbe_write(dev, IXGBE_GPIE, IXGBE_GPIE_MSIX_MODE | IXGBE_GPIE_PBA_SUPPORT);
	for (int q = 0; q < dev->nqueues; q += 2) {
		uint32_t ivar = 0;
		for (int j = 0; j < 2 && q + j < dev->nqueues; j++) {
			uint32_t entry = (uint32_t)(q + j) | IXGBE_IVAR_VALID;
			ivar |= entry << IXGBE_IVAR_SHIFT(q + j, 0) |
				entry << IXGBE_IVAR_SHIFT(q + j, 1);
		}
		ixgbe_write(dev, IXGBE_IVAR(q / 2), ivar);
	}
	ixgbe_write(dev, IXGBE_EIMS, (1u << dev->nqueues) - 1);
}

// Queue q's packets counted in statistics counter q (QPRC, QPTC,
// QPRDC): after a reset every queue counts in counter 0 (RQSMR, TQSM,
// 8.2.3.23). Four queues per register, a byte each.
static void ixgbe_stats_setup(struct ixgbe_dev *dev)
{
	for (int q = 0; q < dev->nqueues; q += 4) {
		uint32_t map = 0;
		for (int j = 0; j < 4 && q + j < dev->nqueues; j++)
			map |= (uint32_t)(q + j) << (8 * j);
		ixgbe_write(dev, IXGBE_RQSMR(q / 4), map);
		ixgbe_write(dev, IXGBE_TQSM(q / 4), map);
	}
}

// The read-to-clear counters, added to dev->stats.
static void ixgbe_collect_stats(struct ixgbe_dev *dev)
{
	struct ixgbe_stats *s = &dev->stats;

	s->rx_packets += ixgbe_read(dev, IXGBE_GPRC);
	s->tx_packets += ixgbe_read(dev, IXGBE_GPTC);
	s->rx_bytes += ixgbe_read(dev, IXGBE_GORCL);
	s->rx_bytes += (uint64_t)ixgbe_read(dev, IXGBE_GORCH) << 32;
	s->tx_bytes += ixgbe_read(dev, IXGBE_GOTCL);
	s->tx_bytes += (uint64_t)ixgbe_read(dev, IXGBE_GOTCH) << 32;
	s->crc_errors += ixgbe_read(dev, IXGBE_CRCERRS);
	for (int i = 0; i < 8; i++)
		s->rx_missed += ixgbe_read(dev, IXGBE_MPC(i));
	for (int q = 0; q < dev->nqueues; q++) {
		s->queue_rx[q] += ixgbe_read(dev, IXGBE_QPRC(q));
		s->queue_tx[q] += ixgbe_read(dev, IXGBE_QPTC(q));
		s->queue_drop[q] += ixgbe_read(dev, IXGBE_QPRDC(q));
	}
}

void ixgbe_stats(struct ixgbe_dev *dev, struct ixgbe_stats *stats)
{
	ixgbe_collect_stats(dev);
	*stats = dev->stats;
}

// Checks init's arguments, and that a second init of dev keeps the
// shape of the first (its memory is reused).
static int ixgbe_check_args(struct ixgbe_dev *dev, int port, int nqueues, uint32_t ring_size)
{
	if (nqueues < 1 || nqueues > IXGBE_MAX_QUEUES || ring_size < IXGBE_RING_MIN ||
	    ring_size > IXGBE_RING_MAX || (ring_size & (ring_size - 1)) != 0) {
		printf("ixgbe_init: port %d: %d queues of %u descriptors: want 1-%d queues and "
		       "a power of two %d-%d\n", port, nqueues, ring_size, IXGBE_MAX_QUEUES,
		       IXGBE_RING_MIN, IXGBE_RING_MAX);
		return -EINVAL;
	}
	if (dev->nqueues != 0 && (dev->port != port || dev->nqueues != nqueues ||
				  dev->ring_size != ring_size)) {
		printf("ixgbe_init: port %d, %d queues of %u again as port %d, %d queues of %u: "
		       "a device is initialized again only as it was\n", dev->port,
		       dev->nqueues, dev->ring_size, port, nqueues, ring_size);
		return -EINVAL;
	}
	return 0;
}

// Maps the port's registers and makes the queues' memory (first init).
static int ixgbe_open(struct ixgbe_dev *dev, int port, int nqueues, uint32_t ring_size)
{
	struct nic_info info;
	int r = nic_open(port, &info);

	if (r < 0) {
		printf("ixgbe_init: port %d: nic_open: %s\n", port, strerror(r));
		return r;
	}
	if (info.vendor != IXGBE_VENDOR_INTEL || info.device != IXGBE_DEVICE_82599_SFP) {
		printf("ixgbe_init: port %d is PCI %04x:%04x, not an 82599 (%04x:%04x)\n", port,
		       info.vendor, info.device, IXGBE_VENDOR_INTEL, IXGBE_DEVICE_82599_SFP);
		return -ENODEV;
	}
	dev->port = port;
	dev->regs = (volatile uint8_t *)info.regs;
	dev->ctl = (struct nic_ctl *)info.ctl;
	dev->emulated = info.emulated;
	dev->nqueues = nqueues;
	dev->ring_size = ring_size;
	r = ixgbe_alloc_queues(dev);
	if (r < 0)
		dev->nqueues = 0;       // not initialized: no memory to reuse
	return r;
}

int ixgbe_init(struct ixgbe_dev *dev, int port, int nqueues, uint32_t ring_size)
{
	int r = ixgbe_check_args(dev, port, nqueues, ring_size);

	if (r < 0)
		return r;
	if (dev->nqueues == 0)
		r = ixgbe_open(dev, port, nqueues, ring_size);
	else
		ixgbe_collect_stats(dev);       // what the reset would clear
	if (r < 0 || (r = ixgbe_reset(dev)) < 0)
		return r;
	ixgbe_link_setup(dev);
	ixgbe_stats_setup(dev);
	for (int q = 0; q < nqueues; q++)
		pktbuf_pool_reset(&dev->queues[q].pool);
	if ((r = ixgbe_rx_init(dev)) < 0 || (r = ixgbe_tx_init(dev)) < 0)
		return r;
	ixgbe_rss_setup(dev);
	ixgbe_irq_setup(dev);
	return 0;
}

// Receives up to max frames from queue q (the contract is in ixgbe.h).
// The NIC writes each frame into the buffer of the slot at next and
// overwrites the descriptor with its write-back, DD set last (7.1.6):
// so read DD first, and the rest of the descriptor only after it. Each
// frame's buffer goes to the caller as it is; one refill at the end
// gives the emptied slots fresh buffers and moves RDT once.
int ixgbe_rx_burst(struct ixgbe_dev *dev, int q, struct pktbuf *bufs[], int max)
{
	// BEGIN LAB 9 SOLUTION: ixgbe_rx_burst
	struct ixgbe_rxq *rxq = &dev->queues[q].rx;
	uint32_t mask = dev->ring_size - 1;
	int n = 0;

	while (n < max && rxq->next != rxq->tail) {
		volatile union ixgbe_adv_rx_desc *d = &rxq->ring[rxq->next & mask];
		uint32_t status = d->wb.status_error;
		if (!(status & IXGBE_RXD_STAT_DD))
			break;
		// Not to read the length or hash before DD (an acquire orders
		// the loads; on x86 it only stops the compiler).
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		struct pktbuf *b = rxq->bufs[rxq->next & mask];
		rxq->next++;
		// A frame fits one 2 KiB buffer (frames over 1518 bytes are
		// dropped unless jumbo frames are on); should one ever span
		// several, all its pieces are dropped, up to EOP.
		if (rxq->discarding || !(status & IXGBE_RXD_STAT_EOP)) {
			rxq->discarding = !(status & IXGBE_RXD_STAT_EOP);
			if (!rxq->discarding)
				dev->stats.rx_split++;
			pktbuf_free(b);
			continue;
		}
		b->len = d->wb.length;
		b->rss_hash = d->wb.rss_hash;
		b->rss_type = d->wb.info & IXGBE_RXD_RSSTYPE_MASK;
		bufs[n++] = b;
	}
	ixgbe_rx_refill(dev, q);
	return n;
	// STUB:
	// static bool told;
	// if (!told) {
	// 	told = true;
	// 	printf("ixgbe: port %d: LAB 9: ixgbe_rx_burst not written: nothing received\n",
	// 	       dev->port);
	// }
	// (void)q, (void)bufs, (void)max;
	// return 0;
	// END LAB 9
}

// Frees the buffers of frames the NIC has sent. Descriptors complete in
// order and the NIC writes DD only into those with RS: tx_burst puts RS
// on the last slot of each group of IXGBE_TX_RS_THRESH, so when that
// slot shows DD, the whole group is done. A group is looked at only
// once it is all in the ring, since until tx_burst rewrites its last
// slot, a DD there is the previous lap's. (With a ring of fewer than two
// groups, a full ring could hold no whole group: IXGBE_RING_MIN.)
static void ixgbe_tx_reclaim(struct ixgbe_dev *dev, int q)
{
	// BEGIN LAB 9 SOLUTION: ixgbe_tx_reclaim
	struct ixgbe_txq *txq = &dev->queues[q].tx;
	uint32_t mask = dev->ring_size - 1;

	while (txq->tail - txq->clean >= IXGBE_TX_RS_THRESH) {
		uint32_t last = txq->clean + IXGBE_TX_RS_THRESH - 1;
		if (!(txq->ring[last & mask].wb.status & IXGBE_TXD_STAT_DD))
			break;
		for (; txq->clean <= last; txq->clean++)
			pktbuf_free(txq->bufs[txq->clean & mask]);
	}
	// STUB:
	// static bool told;
	// if (!told) {
	// 	told = true;
	// 	printf("ixgbe: port %d: LAB 9: ixgbe_tx_reclaim not written: sent buffers are not "
	// 	       "freed\n", dev->port);
	// }
	// (void)q;
	// END LAB 9
}

// Sends frames on queue q (the contract is in ixgbe.h): reclaims what
// the NIC has sent, fills one advanced data descriptor per frame (7.2.3:
// the NIC appends the CRC, IFCS; the frame ends in it, EOP; RS every
// IXGBE_TX_RS_THRESH slots), then moves TDT once for the whole batch.
int ixgbe_tx_burst(struct ixgbe_dev *dev, int q, struct pktbuf *const frames[],
		   const uint16_t lens[], int n)
{
	// BEGIN LAB 9 SOLUTION: ixgbe_tx_burst
	struct ixgbe_txq *txq = &dev->queues[q].tx;
	uint32_t mask = dev->ring_size - 1;
	int sent;

	ixgbe_tx_reclaim(dev, q);
	uint32_t room = dev->ring_size - 1 - (txq->tail - txq->clean);
	for (sent = 0; sent < n && (uint32_t)sent < room; sent++) {
		if (lens[sent] == 0 || lens[sent] > IXGBE_FRAME_MAX) {
			printf("ixgbe_tx_burst: port %d queue %d: frame %d has %u bytes (1-%d)\n",
			       dev->port, q, sent, lens[sent], IXGBE_FRAME_MAX);
			break;
		}
		volatile union ixgbe_adv_tx_desc *d = &txq->ring[txq->tail & mask];
		uint32_t cmd = IXGBE_TXD_DTYP_DATA | IXGBE_TXD_CMD_DEXT | IXGBE_TXD_CMD_IFCS |
			IXGBE_TXD_CMD_EOP | lens[sent];
		if ((txq->tail + 1) % IXGBE_TX_RS_THRESH == 0)
			cmd |= IXGBE_TXD_CMD_RS;
		d->read.buffer_addr = frames[sent]->bus;
		d->read.cmd_type_len = cmd;
		d->read.olinfo_status = (uint32_t)lens[sent] << IXGBE_TXD_PAYLEN_SHIFT;
		txq->bufs[txq->tail & mask] = frames[sent];
		txq->tail++;
	}
	if (sent > 0) {
		__atomic_thread_fence(__ATOMIC_RELEASE);
		ixgbe_write(dev, IXGBE_TDT(q), txq->tail & mask);
	}
	return sent;
	// STUB:
	// static bool told;
	// if (!told) {
	// 	told = true;
	// 	printf("ixgbe: port %d: LAB 9: ixgbe_tx_burst not written: nothing sent\n",
	// 	       dev->port);
	// }
	// (void)q, (void)frames, (void)lens, (void)n, (void)ixgbe_tx_reclaim;
	// return 0;
	// END LAB 9
}

struct pktbuf *ixgbe_alloc(struct ixgbe_dev *dev, int q)
{
	return pktbuf_alloc(&dev->queues[q].pool);
}

int ixgbe_stopped_queues(struct ixgbe_dev *dev)
{
	int stopped = 0;

	for (int q = 0; q < dev->nqueues; q++) {
		if (!(ixgbe_read(dev, IXGBE_RXDCTL(q)) & IXGBE_RXDCTL_ENABLE)) {
			printf("ixgbe: port %d: receive queue %d stopped by the NIC (RDH %u, "
			       "RDT %u)\n", dev->port, q, ixgbe_read(dev, IXGBE_RDH(q)),
			       ixgbe_read(dev, IXGBE_RDT(q)));
			stopped++;
		}
		if (!(ixgbe_read(dev, IXGBE_TXDCTL(q)) & IXGBE_TXDCTL_ENABLE)) {
			printf("ixgbe: port %d: transmit queue %d stopped by the NIC (TDH %u, "
			       "TDT %u)\n", dev->port, q, ixgbe_read(dev, IXGBE_TDH(q)),
			       ixgbe_read(dev, IXGBE_TDT(q)));
			stopped++;
		}
	}
	return stopped;
}

// nic_wait returns the causes of the emulated NIC (it read EICR), but
// only bit 0 for a real one (whose vector 0 woke it): reading EICR as
// well gives the real causes, and for the model those that came since.
int64_t ixgbe_wait(struct ixgbe_dev *dev, uint64_t ticks)
{
	int64_t woke = nic_wait(dev->port, ticks);

	return woke < 0 ? woke : woke | ixgbe_read(dev, IXGBE_EICR);
}
