// The emulated Intel 82599 (vmx/dev/82599.h says what it does and does
// not do). Sections cited are those of the Intel 82599 10 GbE Controller
// Datasheet; ix/hw/ixgbe_hw.h holds the register map.
//
// Reading order: the state (vmx/dev/82599_internal.h: struct port), then
// this file: reports, power-on, the register decoder (reg_read and
// reg_write, one switch each, grouped as the datasheet groups the
// registers in 8.2.3), the interface; then vmx/dev/82599_queues.c, the
// engines the registers drive: interrupts (i82599_raise), transmit
// (i82599_tx_process), receive (i82599_port_receive).
//
// Choices the datasheet leaves to an implementation, or that the model
// makes simpler:
// - Everything happens at once: a TDT write sends every complete frame
//   up to the tail before it returns; a frame from the wire is in host
//   memory, or dropped, before i82599_receive returns. There is no packet
//   buffer, so a frame that finds no free descriptor is dropped at once:
//   counted in QPRDC if its queue has SRRCTL.DROP_EN (as the 82599 does),
//   else in MPC[0] (what the 82599 counts once its packet buffer fills).
// - A received frame larger than the queue's buffer (SRRCTL.BSIZEPACKET)
//   spans several descriptors, as on the 82599 (7.1.6): DD on each, EOP
//   on the last; the length, RSS type and hash are in each. If fewer free
//   descriptors than the frame needs are left, the frame is dropped.
// - The model strips nothing and adds nothing: frames carry no CRC, and
//   statistics count 4 bytes of CRC per frame as the 82599 does.
// - Multicast frames are accepted only with FCTRL.MPE (the multicast
//   table, MTA, is not emulated), VLANs are not filtered or stripped,
//   only queue vectors 0-15 are raised (the EICR_EX causes of vectors
//   16-63 are not emulated), EITR is stored and does not throttle, the
//   link never changes (no LSC), short frames are sent as given (no
//   padding), RSS hashes IPv4 only (IPv6 goes to queue 0 unhashed), and
//   a port has 16 queue pairs.

#include "vmx/dev/82599_internal.h"

// ---------------------------------------------------------------------
// Lines for ops->log, without a C library.

struct line {
	char buf[160];
	size_t n;
};

static void put(struct line *l, const char *s)
{
	while (*s && l->n < sizeof(l->buf) - 1)
		l->buf[l->n++] = *s++;
	l->buf[l->n] = 0;
}

static void put_num(struct line *l, uint64_t v, unsigned base)
{
	char digits[24];
	int n = 0;

	if (base == 16)
		put(l, "0x");
	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n > 0 && l->n < sizeof(l->buf) - 1)
		l->buf[l->n++] = digits[--n];
	l->buf[l->n] = 0;
}

// Starts a line about port p: "82599 port N: ".
static void start(struct line *l, const struct port *p)
{
	l->n = 0;
	put(l, "82599 port ");
	put_num(l, p->id, 10);
	put(l, ": ");
}

static void say(struct i82599 *nic, const struct line *l)
{
	if (nic->ops->log)
		nic->ops->log(nic->ctx, l->buf);
}

// True the first time it is asked about bit in *told.
static bool first_time(uint8_t *told, uint8_t bit)
{
	bool first = !(*told & bit);

	*told |= bit;
	return first;
}

void i82599_queue_complaint(struct i82599 *nic, struct port *p, int q, bool tx, uint8_t what,
			    const char *text, uint64_t value, unsigned base)
{
	struct line l;

	if (!first_time(tx ? &p->tx[q].told : &p->rx[q].told, what))
		return;
	start(&l, p);
	put(&l, tx ? "TX queue " : "RX queue ");
	put_num(&l, q, 10);
	put(&l, ": ");
	put(&l, text);
	put_num(&l, value, base);
	say(nic, &l);
}

void i82599_port_complaint(struct i82599 *nic, struct port *p, const char *text, uint64_t value,
			   unsigned base)
{
	struct line l;

	start(&l, p);
	put(&l, text);
	put_num(&l, value, base);
	say(nic, &l);
}

// ---------------------------------------------------------------------
// Power-on state.

// The address of port `id` from the EEPROM image (see i82599_reset).
static void eeprom_mac(const struct i82599 *nic, int id, uint8_t mac[6])
{
	for (int i = 0; i < 3; i++) {
		uint16_t word = nic->eeprom[3 * id + i];
		mac[2 * i] = word & 0xFF;
		mac[2 * i + 1] = word >> 8;
	}
}

// A port's registers at power-on and after CTRL.RST (4.6.3): the EEPROM
// auto-read has put the port's address in RAL/RAH[0] (valid), DMA
// initialisation is done, the link is up at 10 Gb/s; queues, interrupts
// and receive are off; statistics are zero.
static void port_reset(struct i82599 *nic, struct port *p)
{
	int id = p->id;
	uint8_t mac[6];

	__builtin_memset(p, 0, sizeof(*p));
	p->id = id;
	// HLREG0: CRC insertion and stripping, and short-frame padding, are on
	// at power-on (8.2.3.22.8).
	p->hlreg0 = IXGBE_HLREG0_TXCRCEN | IXGBE_HLREG0_RXCRCSTRP | IXGBE_HLREG0_TXPADEN;
	// SRRCTL: 2 KiB packet buffers and legacy descriptors until the
	// driver says otherwise (8.2.3.8.7).
	for (int q = 0; q < IXGBE_MAX_QUEUES; q++)
		p->rx[q].srrctl = 2u;
	eeprom_mac(nic, id, mac);
	p->ral[0] = mac[0] | mac[1] << 8 | mac[2] << 16 | (uint32_t)mac[3] << 24;
	p->rah[0] = mac[4] | mac[5] << 8 | IXGBE_RAH_AV;
}

// ---------------------------------------------------------------------
// Statistics (8.2.3.23): read-to-clear.

// Returns *counter and clears it, unless peek (a read without side
// effects, for a partial write's merge).
static uint32_t take(uint32_t *counter, bool peek)
{
	uint32_t v = *counter;

	if (!peek)
		*counter = 0;
	return v;
}

// The low half of a 64-bit octet counter: clears it, keeping the high
// half for the read of the high register.
static uint32_t take_low(uint64_t *counter, uint32_t *high, bool peek)
{
	uint64_t v = *counter;

	if (!peek) {
		*high = v >> 32;
		*counter = 0;
	}
	return (uint32_t)v;
}

// ---------------------------------------------------------------------
// The register decoder. reg_read and reg_write take a 4-byte aligned
// offset and return false for a register the model does not implement.

// The offset of the register an alias names (8.2: a few registers keep
// the 82598's address as a second one, which drivers still use).
static uint32_t canonical(uint32_t off)
{
	if (off >= IXGBE_RAL_ALIAS(0) && off < IXGBE_RAL_ALIAS(16))
		return off - IXGBE_RAL_ALIAS(0) + IXGBE_RAL(0);
	if (off >= IXGBE_SRRCTL_ALIAS(0) && off < IXGBE_SRRCTL_ALIAS(16))
		return IXGBE_SRRCTL((off - IXGBE_SRRCTL_ALIAS(0)) / 4);
	if (off >= IXGBE_QPTC_ALIAS(0) && off < IXGBE_QPTC_ALIAS(16) &&
	    (off - IXGBE_QPTC_ALIAS(0)) % 0x40 == 0)
		return IXGBE_QPTC((off - IXGBE_QPTC_ALIAS(0)) / 0x40);
	if (off == IXGBE_MRQC_ALIAS)
		return IXGBE_MRQC;
	if (off >= IXGBE_RETA_ALIAS(0) && off < IXGBE_RETA_ALIAS(32))
		return off - IXGBE_RETA_ALIAS(0) + IXGBE_RETA(0);
	if (off >= IXGBE_RSSRK_ALIAS(0) && off < IXGBE_RSSRK_ALIAS(10))
		return off - IXGBE_RSSRK_ALIAS(0) + IXGBE_RSSRK(0);
	return off;
}

// If off is in the array of n registers at base, stride apart, sets *i.
static bool in_array(uint32_t off, uint32_t base, unsigned n, uint32_t stride, unsigned *i)
{
	if (off < base || off >= base + n * stride || (off - base) % stride)
		return false;
	*i = (off - base) / stride;
	return true;
}

// RX queue registers: q < 16, reg the offset in the queue's 0x40 bytes
// (8.2.3.8.1-6, and QPRC at 0x30, 8.2.3.23).
static bool rx_queue_read(struct port *p, int q, uint32_t reg, bool peek, uint32_t *v)
{
	struct rx_queue *rq = &p->rx[q];

	switch (reg) {
	case 0x00: *v = rq->rdbal; return true;
	case 0x04: *v = rq->rdbah; return true;
	case 0x08: *v = rq->rdlen; return true;
	case 0x10: *v = rq->rdh; return true;
	case 0x14: *v = rq->srrctl; return true;
	case 0x18: *v = rq->rdt; return true;
	case 0x28: *v = rq->rxdctl; return true;
	case 0x30: *v = take(&p->stats.qprc[q], peek); return true;
	}
	return false;
}

static bool rx_queue_write(struct port *p, int q, uint32_t reg, uint32_t v)
{
	struct rx_queue *rq = &p->rx[q];

	switch (reg) {
	case 0x00: rq->rdbal = v & ~0x7Fu; return true;  // 128-byte aligned (8.2.3.8.1)
	case 0x04: rq->rdbah = v; return true;
	case 0x08: rq->rdlen = v & 0xFFF80u; return true; // a multiple of 128 (8.2.3.8.3)
	case 0x10: rq->rdh = v & 0xFFFF; return true;
	case 0x14: rq->srrctl = v; return true;
	case 0x18: rq->rdt = v & 0xFFFF; return true;
	case 0x28:
		if ((v & IXGBE_RXDCTL_ENABLE) && !(rq->rxdctl & IXGBE_RXDCTL_ENABLE))
			rq->told = 0;
		rq->rxdctl = v;
		return true;
	case 0x30: return true;                         // QPRC: read-only
	}
	return false;
}

// TX queue registers (8.2.3.9.5-10).
static bool tx_queue_read(struct port *p, int q, uint32_t reg, uint32_t *v)
{
	struct tx_queue *tq = &p->tx[q];

	switch (reg) {
	case 0x00: *v = tq->tdbal; return true;
	case 0x04: *v = tq->tdbah; return true;
	case 0x08: *v = tq->tdlen; return true;
	case 0x10: *v = tq->tdh; return true;
	case 0x18: *v = tq->tdt; return true;
	case 0x28: *v = tq->txdctl; return true;
	}
	return false;
}

static bool tx_queue_write(struct i82599 *nic, struct port *p, int q, uint32_t reg, uint32_t v)
{
	struct tx_queue *tq = &p->tx[q];

	switch (reg) {
	case 0x00: tq->tdbal = v & ~0x7Fu; return true;
	case 0x04: tq->tdbah = v; return true;
	case 0x08: tq->tdlen = v & 0xFFF80u; return true;
	case 0x10: tq->tdh = v & 0xFFFF; return true;
	case 0x18:
		// The driver hands descriptors up to the tail to the NIC (7.2).
		tq->tdt = v & 0xFFFF;
		i82599_tx_process(nic, p, q);
		return true;
	case 0x28:
		if ((v & IXGBE_TXDCTL_ENABLE) && !(tq->txdctl & IXGBE_TXDCTL_ENABLE))
			tq->told = 0;
		tq->txdctl = v;
		i82599_tx_process(nic, p, q);
		return true;
	}
	return false;
}

// Arrays of registers outside the queue blocks.
static bool array_read(struct port *p, uint32_t off, bool peek, uint32_t *v)
{
	unsigned i;

	if (in_array(off, IXGBE_RAL(0), 16, 8, &i)) *v = p->ral[i];
	else if (in_array(off, IXGBE_RAH(0), 16, 8, &i)) *v = p->rah[i];
	else if (in_array(off, IXGBE_RSSRK(0), 10, 4, &i)) *v = p->rssrk[i];
	else if (in_array(off, IXGBE_RETA(0), 32, 4, &i)) *v = p->reta[i];
	else if (in_array(off, IXGBE_IVAR(0), 64, 4, &i)) *v = p->ivar[i];
	else if (in_array(off, IXGBE_EITR(0), 24, 4, &i)) *v = p->eitr[i];
	else if (in_array(off, IXGBE_RQSMR(0), 4, 4, &i)) *v = p->rqsmr[i];
	else if (in_array(off, IXGBE_TQSM(0), 4, 4, &i)) *v = p->tqsm[i];
	else if (in_array(off, IXGBE_MPC(0), 8, 4, &i)) *v = take(&p->stats.mpc[i], peek);
	else if (in_array(off, IXGBE_QPRDC(0), 16, 0x40, &i)) *v = take(&p->stats.qprdc[i], peek);
	else if (in_array(off, IXGBE_QPTC(0), 16, 4, &i)) *v = take(&p->stats.qptc[i], peek);
	else return false;
	return true;
}

static bool array_write(struct port *p, uint32_t off, uint32_t v)
{
	unsigned i;

	if (in_array(off, IXGBE_RAL(0), 16, 8, &i)) p->ral[i] = v;
	else if (in_array(off, IXGBE_RAH(0), 16, 8, &i)) p->rah[i] = v & (0xFFFF | IXGBE_RAH_AV);
	else if (in_array(off, IXGBE_RSSRK(0), 10, 4, &i)) p->rssrk[i] = v, p->rss_table_stale = true;
	else if (in_array(off, IXGBE_RETA(0), 32, 4, &i)) p->reta[i] = v;
	else if (in_array(off, IXGBE_IVAR(0), 64, 4, &i)) p->ivar[i] = v;
	else if (in_array(off, IXGBE_EITR(0), 24, 4, &i)) p->eitr[i] = v;
	else if (in_array(off, IXGBE_RQSMR(0), 4, 4, &i)) p->rqsmr[i] = v;
	else if (in_array(off, IXGBE_TQSM(0), 4, 4, &i)) p->tqsm[i] = v;
	else if (in_array(off, IXGBE_MPC(0), 8, 4, &i)) ;              // statistics: read-only
	else if (in_array(off, IXGBE_QPRDC(0), 16, 0x40, &i)) ;
	else if (in_array(off, IXGBE_QPTC(0), 16, 4, &i)) ;
	else return false;
	return true;
}

static bool reg_read(struct port *p, uint32_t off, bool peek, uint32_t *v)
{
	uint32_t clear;

	off = canonical(off);
	if (off >= IXGBE_RDBAL(0) && off < IXGBE_RDBAL(IXGBE_MAX_QUEUES))
		return rx_queue_read(p, (off - IXGBE_RDBAL(0)) / 0x40, off % 0x40, peek, v);
	if (off >= IXGBE_TDBAL(0) && off < IXGBE_TDBAL(IXGBE_MAX_QUEUES))
		return tx_queue_read(p, (off - IXGBE_TDBAL(0)) / 0x40, off % 0x40, v);
	if (array_read(p, off, peek, v))
		return true;
	switch (off) {
	// General control and status (8.2.3.1).
	case IXGBE_CTRL: *v = p->ctrl; return true;
	case IXGBE_STATUS:
		// The LAN ID is the port; the PCIe master stays enabled until
		// CTRL.GIO_DIS asks it to stop (8.2.3.1.2).
		*v = (uint32_t)p->id << IXGBE_STATUS_LAN_ID_SHIFT | IXGBE_STATUS_LINKUP;
		if (!(p->ctrl & IXGBE_CTRL_GIO_DIS))
			*v |= IXGBE_STATUS_GIO;
		return true;
	case IXGBE_CTRL_EXT: *v = p->ctrl_ext; return true;
	// EEPROM (8.2.3.2): present, and its auto-read done since reset.
	case IXGBE_EEC: *v = IXGBE_EEC_PRES | IXGBE_EEC_ARD; return true;
	case IXGBE_EERD: *v = p->eerd; return true;
	// Interrupts (8.2.3.5). Reading EICR clears it, but for the other
	// causes (bits 29:16) when GPIE.OCD is set; reading EICS returns EICR
	// and clears nothing.
	case IXGBE_EICR:
		*v = p->eicr;
		clear = p->gpie & IXGBE_GPIE_OCD ? ~0x3FFF0000u : ~0u;
		if (!peek)
			p->eicr &= ~clear;
		return true;
	case IXGBE_EICS: *v = p->eicr; return true;
	case IXGBE_EIMS: *v = p->eims; return true;
	case IXGBE_EIMC: *v = 0; return true;
	case IXGBE_EIAC: *v = p->eiac; return true;
	case IXGBE_EIAM: *v = p->eiam; return true;
	case IXGBE_GPIE: *v = p->gpie; return true;
	case IXGBE_IVAR_MISC: *v = p->ivar_misc; return true;
	// Receive (8.2.3.7, 8.2.3.8): DMA initialisation is done at once.
	case IXGBE_RDRXCTL: *v = p->rdrxctl | IXGBE_RDRXCTL_DMAIDONE; return true;
	case IXGBE_RXCTRL: *v = p->rxctrl; return true;
	case IXGBE_FCTRL: *v = p->fctrl; return true;
	case IXGBE_RXCSUM: *v = p->rxcsum; return true;
	case IXGBE_HLREG0: *v = p->hlreg0; return true;
	case IXGBE_MRQC: *v = p->mrqc; return true;
	// Transmit (8.2.3.9, 8.2.3.10).
	case IXGBE_DMATXCTL: *v = p->dmatxctl; return true;
	case IXGBE_RTTDCS: *v = p->rttdcs; return true;
	// Link (8.2.3.22): always up, at 10 Gb/s.
	case IXGBE_AUTOC: *v = p->autoc; return true;
	case IXGBE_LINKS: *v = IXGBE_LINKS_UP | IXGBE_LINKS_SPEED_10G; return true;
	// Statistics (8.2.3.23).
	case IXGBE_CRCERRS: *v = take(&p->stats.crcerrs, peek); return true;
	case IXGBE_GPRC: *v = take(&p->stats.gprc, peek); return true;
	case IXGBE_GPTC: *v = take(&p->stats.gptc, peek); return true;
	case IXGBE_TPR: *v = take(&p->stats.tpr, peek); return true;
	case IXGBE_TPT: *v = take(&p->stats.tpt, peek); return true;
	case IXGBE_GORCL: *v = take_low(&p->stats.gorc, &p->stats.gorch, peek); return true;
	case IXGBE_GORCH: *v = take(&p->stats.gorch, peek); return true;
	case IXGBE_GOTCL: *v = take_low(&p->stats.gotc, &p->stats.gotch, peek); return true;
	case IXGBE_GOTCH: *v = take(&p->stats.gotch, peek); return true;
	}
	return false;
}

// EERD (8.2.3.2.2): a write with START reads the word at ADDR; the model
// answers at once, DONE with the data in bits 31:16.
static void eeprom_read(struct i82599 *nic, struct port *p, uint32_t v)
{
	uint32_t addr = (v >> IXGBE_EERD_ADDR_SHIFT) & 0x3FFF;
	uint16_t data = addr < EEPROM_WORDS ? nic->eeprom[addr] : 0;

	if (!(v & IXGBE_EERD_START))
		return;
	p->eerd = (uint32_t)data << IXGBE_EERD_DATA_SHIFT | addr << IXGBE_EERD_ADDR_SHIFT |
		  IXGBE_EERD_DONE;
}

static bool reg_write(struct i82599 *nic, struct port *p, uint32_t off, uint32_t v)
{
	uint32_t pending;

	off = canonical(off);
	if (off >= IXGBE_RDBAL(0) && off < IXGBE_RDBAL(IXGBE_MAX_QUEUES))
		return rx_queue_write(p, (off - IXGBE_RDBAL(0)) / 0x40, off % 0x40, v);
	if (off >= IXGBE_TDBAL(0) && off < IXGBE_TDBAL(IXGBE_MAX_QUEUES))
		return tx_queue_write(nic, p, (off - IXGBE_TDBAL(0)) / 0x40, off % 0x40, v);
	if (array_write(p, off, v))
		return true;
	switch (off) {
	case IXGBE_CTRL:
		// RST resets the port and clears itself; LRST (a link reset)
		// clears itself and leaves the link up (8.2.3.1.1).
		if (v & IXGBE_CTRL_RST) {
			port_reset(nic, p);
			return true;
		}
		p->ctrl = v & ~(IXGBE_CTRL_RST | IXGBE_CTRL_LRST);
		return true;
	case IXGBE_STATUS: return true;
	case IXGBE_CTRL_EXT: p->ctrl_ext = v; return true;
	case IXGBE_EEC: return true;
	case IXGBE_EERD: eeprom_read(nic, p, v); return true;
	// Interrupts (8.2.3.5): EICR bits written 1 clear, EICS bits written
	// 1 raise their cause, EIMS bits written 1 enable (a pending cause is
	// then sent), EIMC bits written 1 disable.
	case IXGBE_EICR: p->eicr &= ~v; return true;
	case IXGBE_EICS: i82599_raise(nic, p, v); return true;
	case IXGBE_EIMS:
		pending = v & ~p->eims & p->eicr;
		p->eims |= v;
		i82599_send_interrupts(nic, p, pending);
		return true;
	case IXGBE_EIMC: p->eims &= ~v; return true;
	case IXGBE_EIAC: p->eiac = v; return true;
	case IXGBE_EIAM: p->eiam = v; return true;
	case IXGBE_GPIE: p->gpie = v; return true;
	case IXGBE_IVAR_MISC: p->ivar_misc = v; return true;
	// Receive.
	case IXGBE_RDRXCTL: p->rdrxctl = v & ~IXGBE_RDRXCTL_DMAIDONE; return true;
	case IXGBE_RXCTRL: p->rxctrl = v; return true;
	case IXGBE_FCTRL: p->fctrl = v; return true;
	case IXGBE_RXCSUM: p->rxcsum = v; return true;
	case IXGBE_HLREG0: p->hlreg0 = v; return true;
	case IXGBE_MRQC: p->mrqc = v; return true;
	// Transmit: TE starts the queues that have work.
	case IXGBE_DMATXCTL:
		p->dmatxctl = v;
		for (int q = 0; q < IXGBE_MAX_QUEUES; q++)
			i82599_tx_process(nic, p, q);
		return true;
	case IXGBE_RTTDCS: p->rttdcs = v; return true;
	// Link.
	case IXGBE_AUTOC: p->autoc = v & ~IXGBE_AUTOC_RESTART_AN; return true;
	case IXGBE_LINKS: return true;
	// Statistics are read-only.
	case IXGBE_CRCERRS: case IXGBE_GPRC: case IXGBE_GPTC: case IXGBE_TPR: case IXGBE_TPT:
	case IXGBE_GORCL: case IXGBE_GORCH: case IXGBE_GOTCL: case IXGBE_GOTCH:
		return true;
	}
	return false;
}

// Registers a driver may touch that the model does not implement, named
// in the report (8.2).
static const struct {
	uint32_t base;
	unsigned n;
	uint32_t stride;
	const char *name;
} unmodeled[] = {
	{ 0x0100C, 64, 0x40, "DCA_RXCTRL" },
	{ 0x0600C, 128, 0x40, "DCA_TXCTRL" },
	{ 0x03C00, 8, 4, "RXPBSIZE" },
	{ 0x0CC00, 8, 4, "TXPBSIZE" },
	{ 0x03260, 8, 4, "FCRTH" },
	{ 0x03D00, 1, 4, "FCCFG" },
	{ 0x04294, 1, 4, "MFLCN" },
	{ 0x04268, 1, 4, "MAXFRS" },
	{ 0x05200, 128, 4, "MTA" },
	{ 0x0A000, 128, 4, "VFTA" },
	{ 0x0A600, 256, 4, "MPSAR" },
	{ 0x0EA00, 64, 4, "PSRTYPE" },
	{ 0x08100, 1, 4, "DTXMXSZRQ" },
	{ 0x08120, 1, 4, "MTQC" },
	{ 0x08D00, 1, 4, "SECRXCTRL" },
	{ 0x10140, 1, 4, "SWSM" },
	{ 0x10160, 1, 4, "SW_FW_SYNC" },
};

// Counts an access to a register the model does not implement and
// reports each such offset once (the first REPORTED_MAX of them).
static void unimplemented(struct i82599 *nic, struct port *p, uint32_t off, bool write)
{
	struct line l;
	unsigned i;

	nic->unimplemented++;
	for (i = 0; i < nic->nreported; i++)
		if (nic->reported[i] == off)
			return;
	if (nic->nreported == REPORTED_MAX)
		return;
	nic->reported[nic->nreported++] = off;
	start(&l, p);
	put(&l, "register ");
	for (unsigned k = 0; k < sizeof(unmodeled) / sizeof(unmodeled[0]); k++) {
		if (in_array(off, unmodeled[k].base, unmodeled[k].n, unmodeled[k].stride, &i)) {
			put(&l, unmodeled[k].name);
			put(&l, " ");
			break;
		}
	}
	put_num(&l, off, 16);
	put(&l, write ? " written" : " read");
	put(&l, ", not emulated (reads 0, writes ignored)");
	if (nic->nreported == REPORTED_MAX)
		put(&l, "; no more such reports");
	say(nic, &l);
}

static uint32_t read32(struct i82599 *nic, struct port *p, uint32_t off)
{
	uint32_t v;

	if (off < IXGBE_BAR0_SIZE && reg_read(p, off, false, &v))
		return v;
	unimplemented(nic, p, off, false);
	return 0;
}

static void write32(struct i82599 *nic, struct port *p, uint32_t off, uint32_t v)
{
	if (off < IXGBE_BAR0_SIZE && reg_write(nic, p, off, v))
		return;
	unimplemented(nic, p, off, true);
}

// A 1- or 2-byte write changes part of a register: for the registers
// whose written 1 bits act (clear, set, mask), the other bytes are
// written 0; for the others they keep their value.
static void write_part(struct i82599 *nic, struct port *p, uint32_t off, int width, uint32_t v)
{
	uint32_t reg = off & ~3u, shift = 8 * (off & 3);
	uint32_t mask = (width == 1 ? 0xFFu : 0xFFFFu) << shift, old = 0;
	uint32_t c = canonical(reg);
	bool acts = c == IXGBE_EICR || c == IXGBE_EICS || c == IXGBE_EIMS || c == IXGBE_EIMC;

	if (!acts && !(reg < IXGBE_BAR0_SIZE && reg_read(p, reg, true, &old))) {
		unimplemented(nic, p, reg, true);
		return;
	}
	write32(nic, p, reg, (old & ~mask) | ((v << shift) & mask));
}

uint64_t i82599_read(struct i82599 *nic, int port, uint32_t offset, int width)
{
	uint32_t shift = 8 * (offset & 3);
	struct port *p;

	if (port < 0 || port >= I82599_PORTS)
		return 0;
	p = &nic->port[port];

	switch (width) {
	case 1:
		return (read32(nic, p, offset & ~3u) >> shift) & 0xFF;
	case 2:
		if ((offset & 3) == 3)
			break;
		return (read32(nic, p, offset & ~3u) >> shift) & 0xFFFF;
	case 4:
		if (offset & 3)
			break;
		return read32(nic, p, offset);
	case 8:
		if (offset & 3)
			break;
		// The low half first: the order the octet counters want.
		return read32(nic, p, offset) | (uint64_t)read32(nic, p, offset + 4) << 32;
	}
	unimplemented(nic, p, offset, false);
	return 0;
}

void i82599_write(struct i82599 *nic, int port, uint32_t offset, int width, uint64_t value)
{
	struct port *p;

	if (port < 0 || port >= I82599_PORTS)
		return;
	p = &nic->port[port];

	switch (width) {
	case 1:
		write_part(nic, p, offset, 1, (uint32_t)value);
		return;
	case 2:
		if ((offset & 3) == 3)
			break;
		write_part(nic, p, offset, 2, (uint32_t)value);
		return;
	case 4:
		if (offset & 3)
			break;
		write32(nic, p, offset, (uint32_t)value);
		return;
	case 8:
		if (offset & 3)
			break;
		write32(nic, p, offset, (uint32_t)value);
		write32(nic, p, offset + 4, (uint32_t)(value >> 32));
		return;
	}
	unimplemented(nic, p, offset, true);
}

// ---------------------------------------------------------------------
// The interface (vmx/dev/82599.h).

size_t i82599_size(void)
{
	return sizeof(struct i82599);
}

struct i82599 *i82599_init(void *mem, const struct i82599_ops *ops, void *ctx)
{
	static const uint8_t zero[6];
	struct i82599 *nic = mem;

	__builtin_memset(nic, 0, sizeof(*nic));
	nic->ops = ops;
	nic->ctx = ctx;
	for (int i = 0; i < I82599_PORTS; i++)
		nic->port[i].id = i;
	i82599_reset(nic, zero);
	return nic;
}

struct i82599 *i82599_create(const struct i82599_ops *ops, void *ctx)
{
	void *mem = i82599_zalloc(i82599_size());

	return mem ? i82599_init(mem, ops, ctx) : NULL;
}

void i82599_destroy(struct i82599 *nic)
{
	i82599_free(nic);
}

void i82599_reset(struct i82599 *nic, const uint8_t base_mac[6])
{
	uint8_t mac[6];

	__builtin_memcpy(mac, base_mac, 6);
	__builtin_memset(nic->eeprom, 0, sizeof(nic->eeprom));
	for (int id = 0; id < I82599_PORTS; id++) {
		for (int i = 0; i < 3; i++)
			nic->eeprom[3 * id + i] = mac[2 * i] | mac[2 * i + 1] << 8;
		// The next port's address is this one plus 1, carried.
		for (int b = 5; b >= 0 && ++mac[b] == 0; b--)
			;
	}
	for (int id = 0; id < I82599_PORTS; id++)
		port_reset(nic, &nic->port[id]);
}

void i82599_reset_port(struct i82599 *nic, int port)
{
	port_reset(nic, &nic->port[port]);
}

bool i82599_receive(struct i82599 *nic, int port, const void *frame, size_t len)
{
	return i82599_port_receive(nic, &nic->port[port], frame, len);
}

void i82599_set_loss(struct i82599 *nic, unsigned loss_every)
{
	nic->loss_every = loss_every;
	nic->wire_frames = 0;
}

uint32_t i82599_take_causes(struct i82599 *nic, int port)
{
	struct port *p = &nic->port[port];
	uint32_t causes = p->eicr & p->eims;

	p->eicr &= ~causes;
	return causes;
}

uint64_t i82599_unimplemented(const struct i82599 *nic)
{
	return nic->unimplemented;
}
