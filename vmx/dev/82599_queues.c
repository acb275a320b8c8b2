// The engines of the emulated 82599 (vmx/dev/82599.c says what the
// model does and leaves out; vmx/dev/82599_internal.h holds its state):
// interrupts, transmit, receive. The register decoder in 82599.c calls
// them when the driver writes a register; a frame from outside comes in
// through i82599_receive.

#include "vmx/dev/82599_internal.h"
#include "ix/hw/rss.h"

// ---------------------------------------------------------------------
// Interrupts (7.3). A cause sets its bit in EICR; if EIMS enables the
// bit, the interrupt is sent at once (EITR does not delay it). In MSI-X
// mode (GPIE.MSIX_MODE) bit n < 16 is MSI-X vector n, the TCP timer (bit
// 30) and the other causes use the vectors of IVAR_MISC; otherwise every
// cause is the one vector 0 (MSI).

// The MSI-X vector of EICR bit `bit`, or -1 if none is allocated.
static int cause_vector(const struct port *p, int bit)
{
	uint32_t entry;

	if (bit < 16)
		return bit;
	entry = bit == 30 ? p->ivar_misc & 0xFF : (p->ivar_misc >> 8) & 0xFF;
	return entry & IXGBE_IVAR_VALID ? (int)(entry & IXGBE_IVAR_VECTOR_MASK) : -1;
}

// Sends the interrupts of the causes in `bits` that EIMS enables. After
// each MSI-X message, its EICR bit clears if EIAC has it (auto-clear,
// 7.3.1), and its EIMS bit clears if GPIE.EIAME is set and EIAM has it
// (auto-mask, 7.3.1), which is what lets a driver skip the EIMC write.
void i82599_send_interrupts(struct i82599 *nic, struct port *p, uint32_t bits)
{
	bool msix = p->gpie & IXGBE_GPIE_MSIX_MODE;

	if (!msix) {
		if ((bits & p->eims) && nic->ops->interrupt)
			nic->ops->interrupt(nic->ctx, p->id, 0);
		return;
	}
	for (int bit = 0; bit < 32; bit++) {
		uint32_t mask = 1u << bit;
		int vector;

		// An interrupt handler called below may have masked the rest.
		if (!(bits & mask) || !(p->eims & mask))
			continue;
		vector = cause_vector(p, bit);
		p->eicr &= ~(mask & p->eiac);
		if (p->gpie & IXGBE_GPIE_EIAME)
			p->eims &= ~(mask & p->eiam);
		if (vector >= 0 && nic->ops->interrupt)
			nic->ops->interrupt(nic->ctx, p->id, vector);
	}
}

void i82599_raise(struct i82599 *nic, struct port *p, uint32_t causes)
{
	p->eicr |= causes;
	i82599_send_interrupts(nic, p, causes);
}

// The cause of queue q's receive (tx false) or transmit: the EICR bit of
// the vector its IVAR entry allocates, if the entry is valid (8.2.3.5).
static void queue_interrupt(struct i82599 *nic, struct port *p, int q, bool tx)
{
	uint32_t entry = (p->ivar[q / 2] >> IXGBE_IVAR_SHIFT(q, tx)) & 0xFF;
	unsigned vector = entry & IXGBE_IVAR_VECTOR_MASK;

	if (!(entry & IXGBE_IVAR_VALID))
		return;
	if (vector >= 16) {
		if (!p->vector_told) {
			p->vector_told = true;
			i82599_port_complaint(nic, p, "IVAR gives a queue a vector above 15, not "
					      "emulated (EICR_EX): vector ", vector, 10);
		}
		return;
	}
	i82599_raise(nic, p, 1u << vector);
}

// ---------------------------------------------------------------------
// Statistics (8.2.3.23): 32-bit counters stick at their maximum.

static void count(uint32_t *counter, uint32_t n)
{
	*counter = *counter > UINT32_MAX - n ? UINT32_MAX : *counter + n;
}

// The statistics counter (0-15) of queue q, as RQSMR or TQSM map it.
static int stat_index(const uint32_t map[4], int q)
{
	return (map[q / 4] >> (8 * (q % 4))) & IXGBE_QSM_MASK;
}

// ---------------------------------------------------------------------
// DMA: port p's, checked by the environment against p's owner.

static int dma_read(struct i82599 *nic, const struct port *p, uint64_t bus, void *buf, size_t len)
{
	return nic->ops->dma_read(nic->ctx, p->id, bus, buf, len);
}

static int dma_write(struct i82599 *nic, const struct port *p, uint64_t bus, const void *buf,
		     size_t len)
{
	return nic->ops->dma_write(nic->ctx, p->id, bus, buf, len);
}

// ---------------------------------------------------------------------
// Transmit (7.2). The queue's descriptors from TDH up to TDT belong to
// the NIC; each frame is one or more data descriptors, the last with
// EOP. The model gathers a frame's buffers, writes DD back into each of
// its descriptors that asked (RS), moves TDH past it, and sends it.

static void wire_send(struct i82599 *nic, struct port *p, const void *frame, size_t len);

static bool tx_enabled(const struct port *p, const struct tx_queue *tq)
{
	return (tq->txdctl & IXGBE_TXDCTL_ENABLE) && (p->dmatxctl & IXGBE_DMATXCTL_TE);
}

// A DMA the owner refused: the queue stops, as after a real DMA error
// the driver must reset it.
static void queue_fault(struct i82599 *nic, struct port *p, int q, bool tx, const char *what,
			uint64_t bus)
{
	if (tx)
		p->tx[q].txdctl &= ~IXGBE_TXDCTL_ENABLE;
	else
		p->rx[q].rxdctl &= ~IXGBE_RXDCTL_ENABLE;
	i82599_queue_complaint(nic, p, q, tx, TOLD_FAULT, what, bus, 16);
}

// Sends the frame that starts at TDH. Returns 1 if it was sent (or
// dropped, too large) and TDH moved past it, 0 if its EOP is not yet
// before TDT (it waits for the driver), -1 if the queue stopped.
static int tx_frame(struct i82599 *nic, struct port *p, int q, bool *wrote_back)
{
	struct tx_queue *tq = &p->tx[q];
	uint32_t ndesc = tq->tdlen / DESC_SIZE, i = tq->tdh, used = 0, rs[TX_FRAME_DESCS];
	uint64_t base = (uint64_t)tq->tdbah << 32 | tq->tdbal;
	size_t len = 0, nrs = 0;
	bool eop = false, oversize = false;

	while (!eop) {
		union ixgbe_adv_tx_desc d;
		uint64_t at = base + (uint64_t)i * DESC_SIZE;
		uint32_t cmd, n;

		if (i == tq->tdt)
			return 0;
		if (used == TX_FRAME_DESCS) {
			i82599_queue_complaint(nic, p, q, true, TOLD_RING,
					"no EOP within 64 descriptors; stopped at descriptor ", i, 10);
			tq->txdctl &= ~IXGBE_TXDCTL_ENABLE;
			return -1;
		}
		if (dma_read(nic, p, at, &d, sizeof(d)) != 0) {
			queue_fault(nic, p, q, true, "stopped: DMA refused the descriptor at bus ", at);
			return -1;
		}
		cmd = d.read.cmd_type_len;
		// A context descriptor (DEXT, DTYP 0010b) carries offload
		// parameters and no data (7.2.3.2). A legacy descriptor
		// (DEXT 0) has its length, EOP and RS where an advanced data
		// descriptor has them (7.2.3.2).
		bool context = (cmd & IXGBE_TXD_CMD_DEXT) &&
			       (cmd & IXGBE_TXD_DTYP_MASK) == IXGBE_TXD_DTYP_CTXT;
		n = context ? 0 : cmd & IXGBE_TXD_DTALEN_MASK;
		if (oversize || len + n > I82599_FRAME_MAX) {
			oversize = true;
		} else if (n && dma_read(nic, p, d.read.buffer_addr, p->frame + len, n) != 0) {
			queue_fault(nic, p, q, true, "stopped: DMA refused the buffer at bus ",
				    d.read.buffer_addr);
			return -1;
		} else {
			len += n;
		}
		if (cmd & IXGBE_TXD_CMD_RS)
			rs[nrs++] = i;
		eop = !context && (cmd & IXGBE_TXD_CMD_EOP);
		used++;
		i = (i + 1) % ndesc;
	}
	// Write DD back into the status of each descriptor that asked
	// (7.2.3.2: the write-back format; its other bits are reserved).
	for (size_t k = 0; k < nrs; k++) {
		uint64_t at = base + (uint64_t)rs[k] * DESC_SIZE + 12;
		uint32_t status = IXGBE_TXD_STAT_DD;
		if (dma_write(nic, p, at, &status, sizeof(status)) != 0) {
			queue_fault(nic, p, q, true, "stopped: DMA refused the write-back at bus ", at);
			return -1;
		}
		*wrote_back = true;
	}
	tq->tdh = i;
	if (oversize) {
		i82599_queue_complaint(nic, p, q, true, TOLD_OVERSIZE,
				"frame larger than the model's maximum dropped, maximum ",
				I82599_FRAME_MAX, 10);
		return 1;
	}
	if (len == 0)
		return 1;
	count(&p->stats.gptc, 1);
	count(&p->stats.tpt, 1);
	count(&p->stats.qptc[stat_index(p->tqsm, q)], 1);
	p->stats.gotc += len + ETH_FCS_LEN;
	wire_send(nic, p, p->frame, len);
	return 1;
}

// Sends every complete frame between TDH and TDT of queue q, if the
// queue and DMATXCTL.TE are enabled, then raises the queue's transmit
// cause if a descriptor was written back.
void i82599_tx_process(struct i82599 *nic, struct port *p, int q)
{
	struct tx_queue *tq = &p->tx[q];
	bool wrote_back = false;

	// The loop reads the queue's state again each time: the frame just
	// sent may have reached an interrupt handler that reset the port.
	while (tx_enabled(p, tq) && tq->tdh != tq->tdt) {
		uint32_t ndesc = tq->tdlen / DESC_SIZE;
		if (tq->tdh >= ndesc || tq->tdt >= ndesc) {
			i82599_queue_complaint(nic, p, q, true, TOLD_RING,
					"TDH or TDT beyond the ring; TDLEN (bytes) ", tq->tdlen, 10);
			break;
		}
		if (tx_frame(nic, p, q, &wrote_back) <= 0)
			break;
	}
	if (wrote_back)
		queue_interrupt(nic, p, q, true);
}

// A frame port p sent: to the owner, or over the internal wire to the
// other port, which loses one frame in every loss_every.
static void wire_send(struct i82599 *nic, struct port *p, const void *frame, size_t len)
{
	if (nic->ops->transmit) {
		nic->ops->transmit(nic->ctx, p->id, frame, len);
		return;
	}
	nic->wire_frames++;
	if (nic->loss_every && nic->wire_frames % nic->loss_every == 0)
		return;
	i82599_port_receive(nic, &nic->port[1 - p->id], frame, len);
}

// ---------------------------------------------------------------------
// Receive (7.1): the L2 filters, the queue (RSS), the descriptors.

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

// The L2 filter (7.1.1.1): broadcast with FCTRL.BAM, multicast with
// FCTRL.MPE, unicast that matches a valid RAL/RAH or with FCTRL.UPE.
static const uint8_t broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static bool accepted(const struct port *p, const uint8_t *dst)
{
	if (__builtin_memcmp(dst, broadcast, 6) == 0)
		return p->fctrl & IXGBE_FCTRL_BAM;
	if (dst[0] & 1)
		return p->fctrl & IXGBE_FCTRL_MPE;
	if (p->fctrl & IXGBE_FCTRL_UPE)
		return true;
	uint32_t lo = dst[0] | dst[1] << 8 | dst[2] << 16 | (uint32_t)dst[3] << 24;
	uint32_t hi = dst[4] | dst[5] << 8;
	for (int n = 0; n < 16; n++) {
		if ((p->rah[n] & IXGBE_RAH_AV) && p->ral[n] == lo && (p->rah[n] & 0xFFFF) == hi)
			return true;
	}
	return false;
}

// What the parser found, and the queue RSS chose.
struct rx_class {
	int queue;
	uint32_t info;          // RSS type and packet type, the write-back's first dword
	uint32_t hash;
};

// The Toeplitz hash is linear: the hash of an input is the XOR of the
// hashes of its one-bit parts. So a table per input byte, the hashes of
// its 256 values alone, gives a frame's hash in 12 lookups instead of 96
// steps of the key's window (the work a real NIC does in hardware). The
// table is made again from rss_toeplitz at the first frame after the
// key changed; a port's power-on table (all zero) is its zero key's.
static void make_rss_table(struct port *p)
{
	uint8_t key[RSS_KEY_SIZE], input[RSS_IPV4_INPUT_SIZE] = { 0 };
	uint32_t bit_hash[8];

	// RSSRK[i] holds key bytes 4i..4i+3, the first in bits 7:0.
	for (int i = 0; i < RSS_KEY_SIZE; i++)
		key[i] = p->rssrk[i / 4] >> (8 * (i % 4));
	for (int i = 0; i < RSS_IPV4_INPUT_SIZE; i++) {
		uint32_t *t = p->rss_table[i];

		for (int b = 0; b < 8; b++) {
			input[i] = (uint8_t)(1u << b);
			bit_hash[b] = rss_toeplitz(key, input, RSS_IPV4_INPUT_SIZE);
		}
		input[i] = 0;
		t[0] = 0;
		for (unsigned v = 1; v < 256; v++)
			t[v] = t[v & (v - 1)] ^ bit_hash[__builtin_ctz(v)];
	}
	p->rss_table_stale = false;
}

// RSS (7.1.2.8). With MRQC.MRQE = RSS, an IPv4 packet is hashed over its
// addresses and, for TCP or UDP when MRQC enables that type and the
// packet is not a fragment, its ports; the 7 low bits of the hash index
// RETA, whose entry is the queue. A packet not hashed goes to queue 0.
static void classify(struct port *p, const uint8_t *f, size_t len, struct rx_class *c)
{
	const uint8_t *ip = f + ETH_HLEN;
	uint8_t input[RSS_IPV4_INPUT_SIZE];
	size_t ihl, n = 0;
	bool ports;
	uint32_t entry, type = IXGBE_RXD_RSSTYPE_NONE;

	c->queue = 0;
	c->info = 0;
	c->hash = 0;
	if (len < ETH_HLEN + 20 || be16(f + 12) != ETHERTYPE_IPV4 || ip[0] >> 4 != 4)
		return;
	ihl = (ip[0] & 0xF) * 4;
	if (ihl < 20 || ETH_HLEN + ihl > len)
		return;
	c->info = IXGBE_RXD_PKTTYPE_IPV4;
	// Ports only in the first fragment's header: no MF, offset 0.
	ports = (be16(ip + 6) & 0x3FFF) == 0 && ETH_HLEN + ihl + 4 <= len;
	if (ports && ip[9] == IPPROTO_TCP)
		c->info |= IXGBE_RXD_PKTTYPE_TCP;
	if (ports && ip[9] == IPPROTO_UDP)
		c->info |= IXGBE_RXD_PKTTYPE_UDP;
	if ((p->mrqc & IXGBE_MRQC_MRQE_MASK) != IXGBE_MRQC_RSSEN)
		return;
	rss_ipv4_input(input, be32(ip + 12), be32(ip + 16), ports ? be16(ip + ihl) : 0,
		       ports ? be16(ip + ihl + 2) : 0);
	if ((c->info & IXGBE_RXD_PKTTYPE_TCP) && (p->mrqc & IXGBE_MRQC_RSS_TCPIPV4)) {
		type = IXGBE_RXD_RSSTYPE_IPV4_TCP;
		n = RSS_IPV4_INPUT_SIZE;
	} else if ((c->info & IXGBE_RXD_PKTTYPE_UDP) && (p->mrqc & IXGBE_MRQC_RSS_UDPIPV4)) {
		type = IXGBE_RXD_RSSTYPE_IPV4_UDP;
		n = RSS_IPV4_INPUT_SIZE;
	} else if (p->mrqc & IXGBE_MRQC_RSS_IPV4) {
		type = IXGBE_RXD_RSSTYPE_IPV4;
		n = RSS_IPV4_ADDRS_SIZE;
	} else {
		return;
	}
	if (p->rss_table_stale)
		make_rss_table(p);
	for (size_t i = 0; i < n; i++)
		c->hash ^= p->rss_table[i][input[i]];
	c->info |= type;
	entry = c->hash & (IXGBE_RETA_ENTRIES - 1);
	c->queue = (p->reta[entry / 4] >> (8 * (entry % 4))) & IXGBE_RETA_QUEUE_MASK;
}

// A frame for queue q that found no free descriptor, or a disabled
// queue: dropped and counted (see the top of this file).
static void missed(struct port *p, int q)
{
	if (p->rx[q].srrctl & IXGBE_SRRCTL_DROP_EN)
		count(&p->stats.qprdc[stat_index(p->rqsmr, q)], 1);
	else
		count(&p->stats.mpc[0], 1);
}

// Puts the frame into queue q's buffers, one or more descriptors from
// RDH, each written back in the advanced format (7.1.6). Returns false
// if it was dropped.
static bool rx_frame(struct i82599 *nic, struct port *p, int q, const uint8_t *frame, size_t len,
		     const struct rx_class *c)
{
	struct rx_queue *rq = &p->rx[q];
	uint32_t ndesc = rq->rdlen / DESC_SIZE, bsize;
	uint64_t base = (uint64_t)rq->rdbah << 32 | rq->rdbal;

	if (!(rq->rxdctl & IXGBE_RXDCTL_ENABLE)) {
		missed(p, q);
		return false;
	}
	if (ndesc == 0 || rq->rdh >= ndesc || rq->rdt >= ndesc) {
		i82599_queue_complaint(nic, p, q, false, TOLD_RING,
				"RDH or RDT beyond the ring, frames dropped; RDLEN (bytes) ", rq->rdlen, 10);
		return false;
	}
	if ((rq->srrctl & IXGBE_SRRCTL_DESCTYPE_MASK) != IXGBE_SRRCTL_DESCTYPE_ADV) {
		i82599_queue_complaint(nic, p, q, false, TOLD_DESCTYPE,
				"SRRCTL.DESCTYPE is not advanced one-buffer, frames dropped; SRRCTL ",
				rq->srrctl, 16);
		return false;
	}
	bsize = (rq->srrctl & IXGBE_SRRCTL_BSIZEPKT_MASK) << IXGBE_SRRCTL_BSIZEPKT_SHIFT;
	if (bsize == 0) {
		i82599_queue_complaint(nic, p, q, false, TOLD_BSIZE,
				"SRRCTL.BSIZEPACKET is 0, frames dropped; SRRCTL ", rq->srrctl, 16);
		return false;
	}
	// BEGIN LAB 9 SOLUTION: i82599_rx_writeback
	// The free descriptors are RDH up to, not including, RDT (7.1).
	uint32_t need = (len + bsize - 1) / bsize;
	uint32_t avail = (rq->rdt + ndesc - rq->rdh) % ndesc;
	if (avail < need) {
		missed(p, q);
		return false;
	}
	for (size_t off = 0; off < len; ) {
		union ixgbe_adv_rx_desc d;
		uint64_t at = base + (uint64_t)rq->rdh * DESC_SIZE;
		uint32_t chunk = len - off < bsize ? len - off : bsize;

		if (dma_read(nic, p, at, &d, sizeof(d)) != 0) {
			queue_fault(nic, p, q, false, "stopped: DMA refused the descriptor at bus ", at);
			return false;
		}
		if (dma_write(nic, p, d.read.pkt_addr, frame + off, chunk) != 0) {
			queue_fault(nic, p, q, false, "stopped: DMA refused the buffer at bus ",
				    d.read.pkt_addr);
			return false;
		}
		off += chunk;
		d.wb.info = c->info;
		d.wb.rss_hash = c->hash;
		d.wb.status_error = IXGBE_RXD_STAT_DD | (off == len ? IXGBE_RXD_STAT_EOP : 0);
		d.wb.length = chunk;
		d.wb.vlan = 0;
		if (dma_write(nic, p, at, &d, sizeof(d)) != 0) {
			queue_fault(nic, p, q, false, "stopped: DMA refused the write-back at bus ", at);
			return false;
		}
		rq->rdh = (rq->rdh + 1) % ndesc;
	}
	return true;
	// STUB:
	// (void)frame, (void)len, (void)c, (void)base;
	// i82599_queue_complaint(nic, p, q, false, TOLD_RING, "LAB 9: i82599_rx_writeback not "
	// 		"written: frames dropped; RDH ", rq->rdh, 10);
	// return false;
	// END LAB 9
}

// A frame arrives at port p. Nothing is counted while the receiver is
// off (RXCTRL.RXEN); TPR counts what passes the filter, and broadcasts
// the filter rejects (8.2.3.23); GPRC and GORC what reaches memory.
bool i82599_port_receive(struct i82599 *nic, struct port *p, const uint8_t *frame, size_t len)
{
	struct rx_class c;
	bool pass;

	if (!(p->rxctrl & IXGBE_RXCTRL_RXEN) || len < ETH_HLEN || len > I82599_FRAME_MAX)
		return false;
	pass = accepted(p, frame);
	if (pass || __builtin_memcmp(frame, broadcast, 6) == 0)
		count(&p->stats.tpr, 1);
	if (!pass)
		return false;
	classify(p, frame, len, &c);
	if (!rx_frame(nic, p, c.queue, frame, len, &c))
		return false;
	count(&p->stats.gprc, 1);
	count(&p->stats.qprc[stat_index(p->rqsmr, c.queue)], 1);
	p->stats.gorc += len + ETH_FCS_LEN;
	queue_interrupt(nic, p, c.queue, false);
	return true;
}
