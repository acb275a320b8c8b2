// The 82540EM driver (net/e1000.h). Section numbers are those of the
// 8254x SDM (net/e1000_regs.h).
//
// Rings: power-of-two sizes with free-running 32-bit indices masked by
// size - 1. Receive: the NIC owns the descriptors from RDH up to (not
// including) RDT; rx_next is the first one software has not yet taken
// back, and RDT = rx_next - 1 keeps one slot between tail and head, so
// that RDT == RDH always means "empty" (3.2.6). Transmit: software fills
// from tx_next, the NIC sends from TDH to TDT = tx_next, tx_clean is the
// first descriptor not yet seen done; tx_next - tx_clean < size - 1.

#include "arch/x86.h"
#include "boot/cmdline.h"
#include "console/console.h"
#include "cpu/lapic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "arch/memlayout.h"
#include "mm/page.h"
#include "net/e1000.h"
#include "net/e1000_regs.h"
#include "pci/pci.h"
#include "sync/spinlock.h"

#define RESET_TIMEOUT_US 100000
#define EEPROM_TIMEOUT_US 10000
#define LINK_TIMEOUT_MS 1000
// The causes the driver unmasks (13.4.20).
#define IRQ_CAUSES (E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0 | E1000_ICR_LSC | \
		    E1000_ICR_TXDW)

static struct e1000 {
	const struct pci_func *pci;
	volatile uint8_t *regs;
	uint8_t mac[ETH_ADDR_LEN];
	const char *mac_source;
	enum pci_irq_kind irq_kind;
	int vector;
	void (*receiver)(const void *frame, size_t len);

	struct e1000_rx_desc *rx_ring;  // E1000_RX_RING descriptors
	uint8_t *rx_bufs;               // E1000_RX_RING buffers of E1000_BUF_SIZE
	uint32_t rx_next;               // rx_lock
	bool rx_held;

	struct e1000_tx_desc *tx_ring;
	uint8_t *tx_bufs;
	uint32_t tx_next, tx_clean;     // tx_lock

	uint32_t pending;               // causes the top half saw (atomic)
	bool link_up;
	struct e1000_stats stats;       // stats_lock, but for the atomic interrupts
} nic;

static struct spinlock rx_lock = SPINLOCK_INIT("e1000 rx");
static struct spinlock tx_lock = SPINLOCK_INIT("e1000 tx");
static struct spinlock stats_lock = SPINLOCK_INIT("e1000 stats");

static uint32_t reg_read(uint32_t reg)
{
	return *(volatile uint32_t *)(nic.regs + reg);
}

static void reg_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(nic.regs + reg) = v;
}

// Waits up to us microseconds for (reg & bit) == want. Returns whether it came.
static bool wait_reg(uint32_t reg, uint32_t bit, uint32_t want, uint64_t us)
{
	for (uint64_t waited = 0; (reg_read(reg) & bit) != want; waited += 10) {
		if (waited >= us)
			return false;
		udelay(10);
	}
	return true;
}

// A global reset (CTRL.RST, 13.4.1): every register goes back to its
// default; the NIC's interrupts stay masked
// and the causes it had are read away.
static int reset(void)
{
	reg_write(E1000_IMC, E1000_ICR_ALL);
	reg_write(E1000_CTRL, reg_read(E1000_CTRL) | E1000_CTRL_RST);
	udelay(10);                     // 1 us at least before the next access
	if (!wait_reg(E1000_CTRL, E1000_CTRL_RST, 0, RESET_TIMEOUT_US))
		return -ETIMEDOUT;
	reg_write(E1000_IMC, E1000_ICR_ALL);
	(void)reg_read(E1000_ICR);
	return 0;
}

// One 16-bit word of the EEPROM through EERD (5.3.1). Returns it, or -1.
static int eeprom_read(uint8_t word)
{
	reg_write(E1000_EERD, (uint32_t)word << E1000_EERD_ADDR_SHIFT | E1000_EERD_START);
	if (!wait_reg(E1000_EERD, E1000_EERD_DONE, E1000_EERD_DONE, EEPROM_TIMEOUT_US))
		return -1;
	return reg_read(E1000_EERD) >> E1000_EERD_DATA_SHIFT;
}

// The Ethernet address: EEPROM words 0-2 (5.6.1), else what the NIC
// loaded into receive address 0 (RAL0/RAH0) at power-on. It is
// written back to RAL0/RAH0, valid, so that the NIC accepts frames to it.
static void read_mac(void)
{
	nic.mac_source = "the EEPROM";
	for (int i = 0; i < 3; i++) {
		int w = eeprom_read(E1000_EEPROM_MAC_WORD + i);
		if (w < 0) {
			nic.mac_source = "RAL/RAH";
			break;
		}
		nic.mac[2 * i] = w & 0xFF;
		nic.mac[2 * i + 1] = w >> 8;
	}
	if (strcmp(nic.mac_source, "RAL/RAH") == 0) {
		uint32_t low = reg_read(E1000_RAL0), high = reg_read(E1000_RAH0);
		for (int i = 0; i < 4; i++)
			nic.mac[i] = low >> (8 * i);
		nic.mac[4] = high, nic.mac[5] = high >> 8;
	}
	reg_write(E1000_RAL0, nic.mac[0] | nic.mac[1] << 8 | nic.mac[2] << 16 |
		  (uint32_t)nic.mac[3] << 24);
	reg_write(E1000_RAH0, nic.mac[4] | nic.mac[5] << 8 | E1000_RAH_AV);
}

// A zeroed, physically contiguous block of at least size bytes, or NULL.
static void *alloc_block(size_t size)
{
	unsigned order = 0;
	while (((size_t)PAGE_SIZE << order) < size)
		order++;
	struct page *p = page_alloc(order, true);
	return p ? page_to_va(p) : NULL;
}

// Receive initialization (14.4): the ring, every descriptor given a
// buffer, the tail one before the head, no interrupt delay, then the
// receiver on: broadcasts accepted, 2 KiB buffers, the CRC stripped.
static void rx_init(void)
{
	for (int i = 0; i < E1000_MTA_ENTRIES; i++)
		reg_write(E1000_MTA + 4 * i, 0);
	for (int i = 0; i < E1000_RX_RING; i++)
		nic.rx_ring[i].addr = V2P(nic.rx_bufs + i * E1000_BUF_SIZE);
	uint64_t pa = V2P(nic.rx_ring);
	reg_write(E1000_RDBAL, (uint32_t)pa);
	reg_write(E1000_RDBAH, (uint32_t)(pa >> 32));
	reg_write(E1000_RDLEN, E1000_RX_RING * sizeof(struct e1000_rx_desc));
	reg_write(E1000_RDH, 0);
	nic.rx_next = 0;
	reg_write(E1000_RDT, E1000_RX_RING - 1);
	reg_write(E1000_RDTR, 0);
	reg_write(E1000_RADV, 0);
	reg_write(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_BSIZE_2048 |
		  E1000_RCTL_SECRC);
}

// Transmit initialization (14.5): the ring, empty (head = tail), then the
// transmitter on, short frames padded, the recommended gaps.
static void tx_init(void)
{
	for (int i = 0; i < E1000_TX_RING; i++) {
		nic.tx_ring[i].addr = V2P(nic.tx_bufs + i * E1000_BUF_SIZE);
		nic.tx_ring[i].status = E1000_TXD_STAT_DD;
	}
	uint64_t pa = V2P(nic.tx_ring);
	reg_write(E1000_TDBAL, (uint32_t)pa);
	reg_write(E1000_TDBAH, (uint32_t)(pa >> 32));
	reg_write(E1000_TDLEN, E1000_TX_RING * sizeof(struct e1000_tx_desc));
	reg_write(E1000_TDH, 0);
	reg_write(E1000_TDT, 0);
	nic.tx_next = nic.tx_clean = 0;
	reg_write(E1000_TIDV, 0);
	reg_write(E1000_TIPG, E1000_TIPG_82540EM);
	reg_write(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP |
		  E1000_TCTL_CT << E1000_TCTL_CT_SHIFT | E1000_TCTL_COLD_FD << E1000_TCTL_COLD_SHIFT);
}

// The top half. The line may be shared (INTx): a read of ICR that finds
// no cause means another device interrupted. Reading ICR clears the
// causes and lowers the line; IMC masks further interrupts until the
// bottom half has run.
static void e1000_interrupt(void *arg)
{
	(void)arg;
	uint32_t icr = reg_read(E1000_ICR);
	if (icr == 0)
		return;
	reg_write(E1000_IMC, E1000_ICR_ALL);
	__atomic_fetch_or(&nic.pending, icr, __ATOMIC_RELEASE);
	__atomic_fetch_add(&nic.stats.interrupts, 1, __ATOMIC_RELAXED);
}

// The registers, both rings and their buffers. Returns 0 or -ENOMEM.
static int map_and_allocate(const struct pci_func *f)
{
	nic.regs = pci_map_bar(f, 0);
	nic.rx_ring = alloc_block(E1000_RX_RING * sizeof(struct e1000_rx_desc));
	nic.tx_ring = alloc_block(E1000_TX_RING * sizeof(struct e1000_tx_desc));
	nic.rx_bufs = alloc_block(E1000_RX_RING * E1000_BUF_SIZE);
	nic.tx_bufs = alloc_block(E1000_TX_RING * E1000_BUF_SIZE);
	if (nic.regs == NULL || !nic.rx_ring || !nic.tx_ring || !nic.rx_bufs || !nic.tx_bufs)
		return -ENOMEM;
	return 0;
}

// The interrupt (e1000_irq=intx on the command line: the INTx line even
// where the NIC could send messages), counters from zero, the causes
// unmasked. Returns 0, or -ENODEV if the NIC cannot interrupt.
static int start_interrupts(const struct pci_func *f)
{
	const char *irq = cmdline_get("e1000_irq");
	bool prefer_intx = irq != NULL && strcmp(irq, "intx") == 0;

	nic.irq_kind = pci_setup_interrupt(f, e1000_interrupt, NULL, prefer_intx, &nic.vector);
	if (nic.irq_kind == PCI_IRQ_NONE)
		return -ENODEV;
	// The statistics registers clear on read.
	struct e1000_stats ignored;
	e1000_stats(&ignored);
	memset(&nic.stats, 0, sizeof(nic.stats));
	reg_write(E1000_IMS, IRQ_CAUSES);
	return 0;
}

int e1000_init(void (*receiver)(const void *frame, size_t len))
{
	const struct pci_func *f = pci_find(E1000_VENDOR_INTEL, E1000_DEVICE_82540EM);
	if (f == NULL)
		return -ENODEV;
	nic.pci = f;
	nic.receiver = receiver;
	pci_enable(f, true);
	int r = map_and_allocate(f);
	if (r == 0)
		r = reset();
	if (r < 0)
		return r;
	// Link set up by the MAC's auto-speed detection (14.3): no link or
	// PHY reset, no inverted loss of signal, no VLANs.
	uint32_t ctrl = reg_read(E1000_CTRL);
	ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS | E1000_CTRL_VME);
	reg_write(E1000_CTRL, ctrl | E1000_CTRL_SLU | E1000_CTRL_ASDE);
	read_mac();
	rx_init();
	tx_init();
	r = start_interrupts(f);
	if (r < 0)
		return r;
	for (int ms = 0; ms < LINK_TIMEOUT_MS && !(reg_read(E1000_STATUS) & E1000_STATUS_LU); ms++)
		udelay(1000);
	nic.link_up = reg_read(E1000_STATUS) & E1000_STATUS_LU;
	return 0;
}

const uint8_t *e1000_mac(void)
{
	return nic.mac;
}

const char *e1000_mac_source(void)
{
	return nic.mac_source;
}

const char *e1000_irq_kind(void)
{
	return pci_irq_kind_name(nic.irq_kind);
}

int e1000_vector(void)
{
	return nic.vector;
}

bool e1000_link(int *mbps, bool *full_duplex)
{
	static const int speeds[] = { 10, 100, 1000, 1000 };
	uint32_t status = reg_read(E1000_STATUS);

	*mbps = speeds[(status >> E1000_STATUS_SPEED_SHIFT) & E1000_STATUS_SPEED_MASK];
	*full_duplex = status & E1000_STATUS_FD;
	return status & E1000_STATUS_LU;
}

// Takes back the descriptors the NIC has sent. tx_lock held.
static void tx_reclaim(void)
{
	while (nic.tx_clean != nic.tx_next) {
		struct e1000_tx_desc *d = &nic.tx_ring[nic.tx_clean % E1000_TX_RING];
		if (!(__atomic_load_n(&d->status, __ATOMIC_ACQUIRE) & E1000_TXD_STAT_DD))
			break;
		nic.tx_clean++;
		nic.stats.tx_frames++;
	}
}

int e1000_transmit(const void *frame, size_t len)
{
	if (len == 0 || len > E1000_BUF_SIZE)
		return -EINVAL;
	spin_lock(&tx_lock);
	tx_reclaim();
	if (nic.tx_next - nic.tx_clean >= E1000_TX_RING - 1) {
		nic.stats.tx_ring_full++;
		spin_unlock(&tx_lock);
		return -ENOSPC;
	}
	uint32_t i = nic.tx_next % E1000_TX_RING;
	struct e1000_tx_desc *d = &nic.tx_ring[i];
	memcpy(nic.tx_bufs + i * E1000_BUF_SIZE, frame, len);
	d->length = len;
	d->cso = d->css = 0;
	d->special = 0;
	d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
	d->status = 0;
	nic.tx_next++;
	// The descriptor in memory before the tail moves (x86 keeps stores in
	// order; the fence keeps the compiler from moving them).
	__atomic_thread_fence(__ATOMIC_RELEASE);
	reg_write(E1000_TDT, nic.tx_next % E1000_TX_RING);
	spin_unlock(&tx_lock);
	return 0;
}

bool e1000_work_pending(void)
{
	return __atomic_load_n(&nic.pending, __ATOMIC_ACQUIRE) != 0;
}

void e1000_hold_rx(bool hold)
{
	__atomic_store_n(&nic.rx_held, hold, __ATOMIC_RELEASE);
}

// Hands the frames the NIC has written to the receiver, in order, up to
// the first descriptor not done; gives them back with one tail write.
// rx_lock held. Returns how many were taken.
static int rx_drain(void)
{
	int taken = 0;

	for (;;) {
		struct e1000_rx_desc *d = &nic.rx_ring[nic.rx_next % E1000_RX_RING];
		// DD first; the acquire keeps the reads of the length and the
		// buffer after it (the NIC writes them before DD).
		uint8_t status = __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
		if (!(status & E1000_RXD_STAT_DD))
			break;
		const uint8_t *buf = nic.rx_bufs + (nic.rx_next % E1000_RX_RING) * E1000_BUF_SIZE;
		// A frame longer than one buffer cannot come (no long packets,
		// RCTL.LPE clear); a piece of one is dropped like a bad frame.
		if ((status & E1000_RXD_STAT_EOP) && !(d->errors & E1000_RXD_ERR_FRAME)) {
			nic.stats.rx_frames++;
			nic.receiver(buf, d->length);
		} else {
			nic.stats.rx_errors++;
		}
		d->status = 0;
		nic.rx_next++;
		taken++;
	}
	if (taken > 0) {
		__atomic_thread_fence(__ATOMIC_RELEASE);
		reg_write(E1000_RDT, (nic.rx_next - 1) % E1000_RX_RING);
	}
	return taken;
}

int e1000_poll(void)
{
	int taken = 0;

	spin_lock(&rx_lock);
	uint32_t causes = __atomic_exchange_n(&nic.pending, 0, __ATOMIC_ACQ_REL);
	nic.stats.polls++;
	if (causes & E1000_ICR_LSC) {
		int mbps;
		bool fd;
		nic.link_up = e1000_link(&mbps, &fd);
		printk("e1000: link %s\n", nic.link_up ? "up" : "down");
	}
	if (!__atomic_load_n(&nic.rx_held, __ATOMIC_ACQUIRE))
		taken = rx_drain();
	spin_unlock(&rx_lock);
	spin_lock(&tx_lock);
	tx_reclaim();
	spin_unlock(&tx_lock);
	// Unmasked last: a cause raised since the ICR read interrupts now.
	reg_write(E1000_IMS, IRQ_CAUSES);
	return taken;
}

int e1000_rx_waiting(void)
{
	int n = 0;

	spin_lock(&rx_lock);
	while (n < E1000_RX_RING &&
	       (__atomic_load_n(&nic.rx_ring[(nic.rx_next + n) % E1000_RX_RING].status,
				__ATOMIC_ACQUIRE) & E1000_RXD_STAT_DD))
		n++;
	spin_unlock(&rx_lock);
	return n;
}

void e1000_stats(struct e1000_stats *out)
{
	spin_lock(&stats_lock);
	nic.stats.missed += reg_read(E1000_MPC);
	nic.stats.no_buffers += reg_read(E1000_RNBC);
	nic.stats.good_rx += reg_read(E1000_GPRC);
	nic.stats.good_tx += reg_read(E1000_GPTC);
	nic.stats.crc_errors += reg_read(E1000_CRCERRS);
	(void)reg_read(E1000_TPR);
	(void)reg_read(E1000_TPT);
	*out = nic.stats;
	out->interrupts = __atomic_load_n(&nic.stats.interrupts, __ATOMIC_RELAXED);
	spin_unlock(&stats_lock);
}
