// Host-side test of the emulated 82599 (vmx/dev/82599.c, 82599_queues.c)
// and of the RSS hash (ix/hw/rss.c). Built with the host compiler (make
// host-tests).
//
// A tiny driver below sets up rings in "bus memory": one malloc'ed
// arena whose bus addresses start at BUS_BASE, so that a model mixing
// up bus addresses and pointers fails. The DMA callbacks refuse anything
// outside the arena, and a window a test chooses. Each test prints what
// failed with the values involved; the last line is "N passed, N failed".

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ix/hw/ixgbe_hw.h"
#include "ix/hw/rss.h"
#include "vmx/dev/82599.h"

// ---------------------------------------------------------------------
// Checks.

static const char *test_name;
static int test_failed;

static void fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s:%d: ", test_name, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	test_failed = 1;
}

#define CHECK(cond) do { \
	if (!(cond)) \
		fail(__FILE__, __LINE__, "%s", #cond); \
} while (0)

#define CHECK_EQ(got, want) do { \
	unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want); \
	if (g_ != w_) \
		fail(__FILE__, __LINE__, "%s is 0x%llx (%llu), want 0x%llx (%llu)", \
		     #got, g_, g_, w_, w_); \
} while (0)

// ---------------------------------------------------------------------
// The model's environment: bus memory, the wire, interrupts, the log.

#define BUS_BASE 0x100000000ull
#define ARENA_SIZE (4u << 20)

static uint8_t *arena;
static size_t arena_used;
static uint64_t refuse_lo, refuse_hi;           // DMA to [lo, hi) is refused too
static int refuse_port;                         // every DMA of this port is refused (-1: none)
static int dma_calls[2];                        // DMA asked for, by port

static void *bus_ptr(uint64_t bus)
{
	return arena + (bus - BUS_BASE);
}

static uint64_t bus_alloc(size_t size, size_t align)
{
	uint64_t at = (arena_used + align - 1) & ~(uint64_t)(align - 1);

	if (at + size > ARENA_SIZE) {
		printf("bus_alloc: arena of %u bytes full\n", ARENA_SIZE);
		exit(2);
	}
	arena_used = at + size;
	return BUS_BASE + at;
}

static int dma_ok(int port, uint64_t bus, size_t len)
{
	dma_calls[port]++;
	if (port == refuse_port)
		return 0;
	if (bus < BUS_BASE || bus + len > BUS_BASE + ARENA_SIZE || bus + len < bus)
		return 0;
	return !(bus < refuse_hi && bus + len > refuse_lo);
}

static int dma_read(void *ctx, int port, uint64_t bus, void *buf, size_t len)
{
	if (!dma_ok(port, bus, len))
		return -EFAULT;
	memcpy(buf, bus_ptr(bus), len);
	return 0;
}

static int dma_write(void *ctx, int port, uint64_t bus, const void *buf, size_t len)
{
	if (!dma_ok(port, bus, len))
		return -EFAULT;
	memcpy(bus_ptr(bus), buf, len);
	return 0;
}

#define MAX_LOG 32
static char log_lines[MAX_LOG][200];
static int nlog;

static void log_line(void *ctx, const char *line)
{
	if (nlog < MAX_LOG)
		snprintf(log_lines[nlog], sizeof(log_lines[0]), "%s", line);
	nlog++;
}

// Interrupts per port and vector.
static int interrupts[2][64];
static int nirq;

static void interrupt(void *ctx, int port, int vector)
{
	interrupts[port][vector]++;
	nirq++;
}

// Frames that left the model, when the test sets ops.transmit.
static uint8_t sent[8][I82599_FRAME_MAX];
static size_t sent_len[8];
static int sent_port[8], nsent;

static void transmit(void *ctx, int port, const void *frame, size_t len)
{
	if (nsent < 8) {
		memcpy(sent[nsent], frame, len);
		sent_len[nsent] = len;
		sent_port[nsent] = port;
	}
	nsent++;
}

static struct i82599_ops ops;
static struct i82599 *nic;

void *i82599_zalloc(size_t size)
{
	return calloc(1, size);
}

void i82599_free(void *ptr)
{
	free(ptr);
}

static const uint8_t BASE_MAC[6] = { 0x02, 0x1B, 0x21, 0xAA, 0xBB, 0xFF };
// Port 1's address: BASE_MAC + 1, carried.
static const uint8_t MAC1[6] = { 0x02, 0x1B, 0x21, 0xAA, 0xBC, 0x00 };
static const uint8_t BROADCAST[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static uint32_t rd(int port, uint32_t off)
{
	return (uint32_t)i82599_read(nic, port, off, 4);
}

static void wr(int port, uint32_t off, uint32_t v)
{
	i82599_write(nic, port, off, 4, v);
}

// A fresh model, arena and record for each test.
static void setup(void)
{
	memset(arena, 0, ARENA_SIZE);
	arena_used = 0;
	refuse_lo = refuse_hi = 0;
	refuse_port = -1;
	memset(dma_calls, 0, sizeof(dma_calls));
	nlog = nirq = nsent = 0;
	memset(interrupts, 0, sizeof(interrupts));
	ops = (struct i82599_ops){ .dma_read = dma_read, .dma_write = dma_write,
				   .interrupt = interrupt, .log = log_line };
	nic = i82599_create(&ops, NULL);
	if (!nic) {
		printf("i82599_create: no memory\n");
		exit(2);
	}
	i82599_reset(nic, BASE_MAC);
}

static void teardown(void)
{
	i82599_destroy(nic);
	nic = NULL;
}

// ---------------------------------------------------------------------
// The test driver: per port, queues with rings of n descriptors and a
// buffer of bufsize bytes for each descriptor.

#define NQ 4
#define BUF_MAX 4096

struct ring {
	uint64_t desc;                  // bus address of the descriptors
	uint64_t buf[256];              // bus address of each descriptor's buffer
	uint32_t n, next;               // size; next descriptor to look at (RX) or fill (TX)
};

struct drv {
	int port;
	uint32_t bufsize;
	struct ring rx[NQ], tx[NQ];
};

static struct drv drv[2];

static void ring_init(struct ring *r, uint32_t n, uint32_t bufsize)
{
	r->n = n;
	r->next = 0;
	r->desc = bus_alloc(n * 16, 128);
	for (uint32_t i = 0; i < n; i++)
		r->buf[i] = bus_alloc(bufsize, 64);
}

static union ixgbe_adv_rx_desc *rx_desc(struct ring *r, uint32_t i)
{
	return bus_ptr(r->desc + 16 * i);
}

static union ixgbe_adv_tx_desc *tx_desc(struct ring *r, uint32_t i)
{
	return bus_ptr(r->desc + 16 * i);
}

// Brings up port with nq queue pairs of n descriptors, the way 4.6.3 and
// 4.6.7-8 of the datasheet say (less what the model ignores).
static void drv_init(int port, int nq, uint32_t n, uint32_t bufsize, uint32_t srrctl_extra)
{
	struct drv *d = &drv[port];

	d->port = port;
	d->bufsize = bufsize;
	wr(port, IXGBE_EIMC, 0x7FFFFFFF);
	wr(port, IXGBE_CTRL, IXGBE_CTRL_RST);
	CHECK_EQ(rd(port, IXGBE_CTRL) & IXGBE_CTRL_RST, 0);
	CHECK(rd(port, IXGBE_EEC) & IXGBE_EEC_ARD);
	CHECK(rd(port, IXGBE_RDRXCTL) & IXGBE_RDRXCTL_DMAIDONE);
	wr(port, IXGBE_FCTRL, IXGBE_FCTRL_BAM);
	for (int q = 0; q < nq; q++) {
		struct ring *rx = &d->rx[q], *tx = &d->tx[q];
		ring_init(rx, n, bufsize);
		for (uint32_t i = 0; i < n; i++)
			rx_desc(rx, i)->read.pkt_addr = rx->buf[i];
		wr(port, IXGBE_RDBAL(q), (uint32_t)rx->desc);
		wr(port, IXGBE_RDBAH(q), rx->desc >> 32);
		wr(port, IXGBE_RDLEN(q), n * 16);
		wr(port, IXGBE_SRRCTL(q), IXGBE_SRRCTL_DESCTYPE_ADV |
		   (bufsize >> IXGBE_SRRCTL_BSIZEPKT_SHIFT) | srrctl_extra);
		wr(port, IXGBE_RXDCTL(q), IXGBE_RXDCTL_ENABLE);
		wr(port, IXGBE_RDT(q), n - 1);
		ring_init(tx, n, bufsize);
		wr(port, IXGBE_TDBAL(q), (uint32_t)tx->desc);
		wr(port, IXGBE_TDBAH(q), tx->desc >> 32);
		wr(port, IXGBE_TDLEN(q), n * 16);
		wr(port, IXGBE_TXDCTL(q), IXGBE_TXDCTL_ENABLE);
	}
	wr(port, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);
	wr(port, IXGBE_DMATXCTL, IXGBE_DMATXCTL_TE);
}

// Fills TX descriptors of queue q with frame, cut into `pieces`
// descriptors (RS and EOP on the last), without moving TDT. Returns the
// new tail.
static uint32_t drv_fill(int port, int q, const void *frame, size_t len, int pieces)
{
	struct ring *r = &drv[port].tx[q];
	size_t off = 0;

	for (int k = 0; k < pieces; k++) {
		size_t n = k == pieces - 1 ? len - off : len / pieces;
		union ixgbe_adv_tx_desc *d = tx_desc(r, r->next);
		memcpy(bus_ptr(r->buf[r->next]), (const uint8_t *)frame + off, n);
		d->read.buffer_addr = r->buf[r->next];
		d->read.cmd_type_len = n | IXGBE_TXD_DTYP_DATA | IXGBE_TXD_CMD_DEXT | IXGBE_TXD_CMD_IFCS |
				       (k == pieces - 1 ? IXGBE_TXD_CMD_EOP | IXGBE_TXD_CMD_RS : 0);
		d->read.olinfo_status = len << IXGBE_TXD_PAYLEN_SHIFT;
		off += n;
		r->next = (r->next + 1) % r->n;
	}
	return r->next;
}

static void drv_send(int port, int q, const void *frame, size_t len)
{
	wr(port, IXGBE_TDT(q), drv_fill(port, q, frame, len, 1));
}

// Takes the next frame of RX queue q into buf: returns its length, or -1
// if none is done. Each descriptor goes back to the NIC (RDT).
static int drv_recv(int port, int q, uint8_t *buf, uint32_t *info, uint32_t *hash)
{
	struct ring *r = &drv[port].rx[q];
	size_t len = 0;

	if (!(rx_desc(r, r->next)->wb.status_error & IXGBE_RXD_STAT_DD))
		return -1;
	for (;;) {
		union ixgbe_adv_rx_desc *d = rx_desc(r, r->next);
		uint32_t status = d->wb.status_error;
		if (!(status & IXGBE_RXD_STAT_DD)) {
			fail(__FILE__, __LINE__, "frame without EOP at descriptor %u", r->next);
			return -1;
		}
		memcpy(buf + len, bus_ptr(r->buf[r->next]), d->wb.length);
		len += d->wb.length;
		if (info)
			*info = d->wb.info;
		if (hash)
			*hash = d->wb.rss_hash;
		d->read.pkt_addr = r->buf[r->next];
		d->read.hdr_addr = 0;
		wr(port, IXGBE_RDT(q), r->next);
		r->next = (r->next + 1) % r->n;
		if (status & IXGBE_RXD_STAT_EOP)
			return (int)len;
	}
}

// ---------------------------------------------------------------------
// Frames.

struct flow {
	uint8_t proto;                  // 6 TCP, 17 UDP, anything else: no ports
	uint32_t src, dst;              // host order
	uint16_t sport, dport;
};

// An IPv4 frame to dst_mac of `len` bytes (>= 54); its payload is
// filled from seq, so that each frame differs.
static size_t make_ipv4(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac,
			const struct flow *fl, size_t len, uint32_t seq)
{
	uint8_t *ip = f + 14, *l4 = ip + 20;

	memset(f, 0, len);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	ip[0] = 0x45;
	ip[2] = (len - 14) >> 8;
	ip[3] = (len - 14) & 0xFF;
	ip[8] = 64;
	ip[9] = fl->proto;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = fl->src >> (24 - 8 * i);
		ip[16 + i] = fl->dst >> (24 - 8 * i);
	}
	l4[0] = fl->sport >> 8;
	l4[1] = fl->sport & 0xFF;
	l4[2] = fl->dport >> 8;
	l4[3] = fl->dport & 0xFF;
	for (size_t i = 54; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i);
	memcpy(f + 50, &seq, 4);
	return len;
}

static const struct flow FLOW = { 6, 0x0A000001, 0x0A000002, 1234, 80 };

static uint32_t ip4(int a, int b, int c, int d)
{
	return (uint32_t)a << 24 | b << 16 | c << 8 | d;
}

// ---------------------------------------------------------------------
// RSS: the Microsoft verification suite (82599 datasheet 7.1.2.8.3):
// the standard key, IPv4 addresses and ports, the 2-tuple (IPv4) and
// 4-tuple (IPv4 with TCP) hashes.

static const uint8_t MS_KEY[RSS_KEY_SIZE] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static const struct {
	uint32_t dst;
	uint16_t dport;
	uint32_t src;
	uint16_t sport;
	uint32_t ipv4, tcp;
} MS_VECTORS[] = {
	{ 0xA18E6450, 1766, 0x420995BB, 2794, 0x323e8fc2, 0x51ccc178 },  // 161.142.100.80, 66.9.149.187
	{ 0x41458C53, 4739, 0xC75C6F02, 14230, 0xd718262a, 0xc626b0ea }, // 65.69.140.83, 199.92.111.2
	{ 0x0C16CFB8, 38024, 0x1813C65F, 12898, 0xd2d0a5de, 0x5c2b394a }, // 12.22.207.184, 24.19.198.95
	{ 0xD18EA306, 2217, 0x261BCD1E, 48228, 0x82989176, 0xafc7327f }, // 209.142.163.6, 38.27.205.30
	{ 0xCABC7F02, 1303, 0x9927A3BF, 44251, 0x5d1809c5, 0x10e828a2 }, // 202.188.127.2, 153.39.163.191
};
#define NVECTORS (sizeof(MS_VECTORS) / sizeof(MS_VECTORS[0]))

static void test_toeplitz(void)
{
	static const uint8_t first[12] = { 66, 9, 149, 187, 161, 142, 100, 80, 0x0A, 0xEA, 0x06, 0xE6 };
	uint8_t in[RSS_IPV4_INPUT_SIZE];

	CHECK_EQ(MS_VECTORS[0].src, ip4(66, 9, 149, 187));
	CHECK_EQ(MS_VECTORS[4].dst, ip4(202, 188, 127, 2));
	CHECK_EQ(rss_ipv4_input(in, MS_VECTORS[0].src, MS_VECTORS[0].dst, MS_VECTORS[0].sport,
				MS_VECTORS[0].dport), 12);
	CHECK(memcmp(in, first, 12) == 0);
	for (size_t i = 0; i < NVECTORS; i++) {
		rss_ipv4_input(in, MS_VECTORS[i].src, MS_VECTORS[i].dst, MS_VECTORS[i].sport,
			       MS_VECTORS[i].dport);
		CHECK_EQ(rss_toeplitz(MS_KEY, in, RSS_IPV4_ADDRS_SIZE), MS_VECTORS[i].ipv4);
		CHECK_EQ(rss_toeplitz(MS_KEY, in, RSS_IPV4_INPUT_SIZE), MS_VECTORS[i].tcp);
	}
	CHECK_EQ(rss_toeplitz(MS_KEY, in, 0), 0);
}

// ---------------------------------------------------------------------
// Registers.

static void test_power_on(void)
{
	uint8_t mac[2][6] = { { 0 }, { 0 } };

	for (int port = 0; port < 2; port++) {
		const uint8_t *want = port ? MAC1 : BASE_MAC;
		uint32_t ral = rd(port, IXGBE_RAL(0)), rah = rd(port, IXGBE_RAH(0));
		CHECK_EQ(rd(port, IXGBE_STATUS) & (IXGBE_STATUS_LINKUP | IXGBE_STATUS_LAN_ID_MASK),
			 IXGBE_STATUS_LINKUP | (uint32_t)port << IXGBE_STATUS_LAN_ID_SHIFT);
		CHECK_EQ(rd(port, IXGBE_EEC) & (IXGBE_EEC_PRES | IXGBE_EEC_ARD),
			 IXGBE_EEC_PRES | IXGBE_EEC_ARD);
		CHECK(rd(port, IXGBE_RDRXCTL) & IXGBE_RDRXCTL_DMAIDONE);
		CHECK_EQ(rd(port, IXGBE_LINKS) & (IXGBE_LINKS_UP | IXGBE_LINKS_SPEED_MASK),
			 IXGBE_LINKS_UP | IXGBE_LINKS_SPEED_10G);
		CHECK(rah & IXGBE_RAH_AV);
		for (int i = 0; i < 4; i++)
			mac[port][i] = ral >> (8 * i);
		mac[port][4] = rah;
		mac[port][5] = rah >> 8;
		CHECK(memcmp(mac[port], want, 6) == 0);
		// The EEPROM words: port 0's address in words 0-2, port 1's in 3-5.
		for (int w = 0; w < 3; w++) {
			wr(0, IXGBE_EERD, IXGBE_EERD_START | (3 * port + w) << IXGBE_EERD_ADDR_SHIFT);
			uint32_t eerd = rd(0, IXGBE_EERD);
			CHECK(eerd & IXGBE_EERD_DONE);
			CHECK_EQ(eerd >> IXGBE_EERD_DATA_SHIFT, want[2 * w] | want[2 * w + 1] << 8);
		}
		CHECK_EQ(rd(port, IXGBE_SRRCTL(0)) & IXGBE_SRRCTL_BSIZEPKT_MASK, 2);
		CHECK_EQ(rd(port, IXGBE_RXDCTL(0)), 0);
		CHECK_EQ(rd(port, IXGBE_EIMS), 0);
	}
	// CTRL.RST resets one port, and clears itself.
	wr(1, IXGBE_FCTRL, IXGBE_FCTRL_UPE);
	wr(1, IXGBE_RAL(0), 0x12345678);
	wr(1, IXGBE_EIMS, 0xFF);
	wr(1, IXGBE_RDBAL(3), 0x1000);
	wr(0, IXGBE_FCTRL, IXGBE_FCTRL_BAM);
	wr(1, IXGBE_CTRL, IXGBE_CTRL_RST);
	CHECK_EQ(rd(1, IXGBE_CTRL), 0);
	CHECK_EQ(rd(1, IXGBE_FCTRL), 0);
	CHECK_EQ(rd(1, IXGBE_EIMS), 0);
	CHECK_EQ(rd(1, IXGBE_RDBAL(3)), 0);
	CHECK_EQ(rd(1, IXGBE_RAL(0)), MAC1[0] | MAC1[1] << 8 | MAC1[2] << 16 | (uint32_t)MAC1[3] << 24);
	CHECK_EQ(rd(0, IXGBE_FCTRL), IXGBE_FCTRL_BAM);
	// PCIe master disable shows in STATUS.
	wr(0, IXGBE_CTRL, IXGBE_CTRL_GIO_DIS);
	CHECK_EQ(rd(0, IXGBE_STATUS) & IXGBE_STATUS_GIO, 0);
	wr(0, IXGBE_CTRL, 0);
	CHECK(rd(0, IXGBE_STATUS) & IXGBE_STATUS_GIO);
	// The 82598 aliases reach the same registers.
	CHECK_EQ(rd(1, IXGBE_RAL_ALIAS(0)), rd(1, IXGBE_RAL(0)));
	wr(0, IXGBE_RETA_ALIAS(5), 0x03020100);
	CHECK_EQ(rd(0, IXGBE_RETA(5)), 0x03020100);
	wr(0, IXGBE_SRRCTL_ALIAS(2), 0x02000004);
	CHECK_EQ(rd(0, IXGBE_SRRCTL(2)), 0x02000004);
	CHECK_EQ(i82599_unimplemented(nic), 0);
	CHECK_EQ(nlog, 0);
}

static void test_access_widths(void)
{
	// 8 bytes: two registers, low first.
	i82599_write(nic, 0, IXGBE_RDBAL(1), 8, 0x0000000123456780ull);
	CHECK_EQ(rd(0, IXGBE_RDBAL(1)), 0x23456780);
	CHECK_EQ(rd(0, IXGBE_RDBAH(1)), 0x1);
	CHECK_EQ(i82599_read(nic, 0, IXGBE_RDBAL(1), 8), 0x0000000123456780ull);
	// 1 and 2 bytes: part of the register, the rest kept.
	wr(0, IXGBE_RAL(2), 0x44332211);
	i82599_write(nic, 0, IXGBE_RAL(2) + 1, 1, 0xAA);
	CHECK_EQ(rd(0, IXGBE_RAL(2)), 0x4433AA11);
	i82599_write(nic, 0, IXGBE_RAL(2) + 2, 2, 0xBEEF);
	CHECK_EQ(rd(0, IXGBE_RAL(2)), 0xBEEFAA11);
	CHECK_EQ(i82599_read(nic, 0, IXGBE_RAL(2) + 2, 2), 0xBEEF);
	CHECK_EQ(i82599_read(nic, 0, IXGBE_RAL(2) + 3, 1), 0xBE);
	// A byte written to EIMC masks only its bits.
	wr(0, IXGBE_EIMS, 0xFFFF);
	i82599_write(nic, 0, IXGBE_EIMC + 1, 1, 0x01);
	CHECK_EQ(rd(0, IXGBE_EIMS), 0xFEFF);
	// A byte written to EICR clears only its bits.
	wr(0, IXGBE_EIMC, ~0u);
	wr(0, IXGBE_EICS, 0x0303);
	i82599_write(nic, 0, IXGBE_EICR + 1, 1, 0x01);
	CHECK_EQ(rd(0, IXGBE_EICS), 0x0203);
	CHECK_EQ(i82599_unimplemented(nic), 0);
}

static void test_unimplemented(void)
{
	CHECK_EQ(rd(0, 0x03C00), 0);                    // RXPBSIZE[0]
	CHECK_EQ(rd(1, 0x03C00), 0);
	wr(0, 0x03C00, 0x80000);
	CHECK_EQ(rd(0, 0x03C00), 0);
	CHECK_EQ(i82599_unimplemented(nic), 4);
	CHECK_EQ(nlog, 1);
	CHECK(strstr(log_lines[0], "RXPBSIZE") != NULL);
	CHECK(strstr(log_lines[0], "0x3c00") != NULL);
	wr(1, 0x1F000, 1);                              // nothing there
	CHECK_EQ(i82599_unimplemented(nic), 5);
	CHECK_EQ(nlog, 2);
	CHECK(strstr(log_lines[1], "port 1") != NULL && strstr(log_lines[1], "0x1f000") != NULL);
	// Queues beyond the 16 the model has are not implemented either.
	CHECK_EQ(rd(0, IXGBE_RDBAL(16)), 0);
	CHECK_EQ(i82599_unimplemented(nic), 6);
	// An unaligned 4-byte access.
	CHECK_EQ(i82599_read(nic, 0, IXGBE_CTRL + 2, 4), 0);
	CHECK_EQ(i82599_unimplemented(nic), 7);
	CHECK_EQ(nlog, 4);
}

// ---------------------------------------------------------------------
// Traffic over the internal wire.

static void test_both_ways(void)
{
	uint8_t f[1600], got[1600];
	uint32_t info = 0;
	uint64_t octets[2] = { 0, 0 };

	drv_init(0, 1, 16, 2048, 0);
	drv_init(1, 1, 16, 2048, 0);
	for (uint32_t i = 0; i < 10; i++) {
		int from = i % 2, to = 1 - from;
		size_t len = make_ipv4(f, to ? MAC1 : BASE_MAC, from ? MAC1 : BASE_MAC, &FLOW,
				       60 + 140 * i, i);
		drv_send(from, 0, f, len);
		octets[from] += len + 4;
		CHECK_EQ(drv_recv(to, 0, got, &info, NULL), len);
		CHECK(memcmp(got, f, len) == 0);
		CHECK_EQ(info, IXGBE_RXD_PKTTYPE_IPV4 | IXGBE_RXD_PKTTYPE_TCP);
		CHECK_EQ(drv_recv(to, 0, got, NULL, NULL), -1);
		// DD written back into the TX descriptor (RS), TDH past it.
		CHECK(tx_desc(&drv[from].tx[0], (drv[from].tx[0].next + 15) % 16)->wb.status &
		      IXGBE_TXD_STAT_DD);
		CHECK_EQ(rd(from, IXGBE_TDH(0)), drv[from].tx[0].next);
	}
	for (int port = 0; port < 2; port++) {
		CHECK_EQ(rd(port, IXGBE_GPTC), 5);
		CHECK_EQ(rd(port, IXGBE_TPT), 5);
		CHECK_EQ(rd(port, IXGBE_GPRC), 5);
		CHECK_EQ(rd(port, IXGBE_TPR), 5);
		CHECK_EQ(rd(port, IXGBE_QPRC(0)), 5);
		CHECK_EQ(rd(port, IXGBE_QPTC(0)), 5);
		CHECK_EQ(i82599_read(nic, port, IXGBE_GOTCL, 8), octets[port]);
		CHECK_EQ(i82599_read(nic, port, IXGBE_GORCL, 8), octets[1 - port]);
		CHECK_EQ(rd(port, IXGBE_MPC(0)), 0);
	}
	CHECK_EQ(nlog, 0);
	CHECK_EQ(i82599_unimplemented(nic), 0);
}

// Frames spread over several descriptors: on transmit (gathered up to
// EOP) and on receive (a frame larger than the 1 KiB buffers).
static void test_multi_descriptor(void)
{
	uint8_t f[1600], got[1600];
	struct ring *rx = &drv[1].rx[0];
	size_t len;

	drv_init(0, 1, 8, 1024, 0);
	drv_init(1, 1, 8, 1024, 0);
	len = make_ipv4(f, MAC1, BASE_MAC, &FLOW, 1514, 7);
	wr(0, IXGBE_TDT(0), drv_fill(0, 0, f, len, 3));
	CHECK_EQ(rd(0, IXGBE_TDH(0)), 3);
	CHECK_EQ(rx_desc(rx, 0)->wb.length, 1024);
	CHECK_EQ(rx_desc(rx, 0)->wb.status_error, IXGBE_RXD_STAT_DD);
	CHECK_EQ(rx_desc(rx, 1)->wb.length, 1514 - 1024);
	CHECK_EQ(rx_desc(rx, 1)->wb.status_error, IXGBE_RXD_STAT_DD | IXGBE_RXD_STAT_EOP);
	CHECK_EQ(rd(1, IXGBE_RDH(0)), 2);
	CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), len);
	CHECK(memcmp(got, f, len) == 0);
	CHECK_EQ(rd(1, IXGBE_GPRC), 1);
	// Not enough free descriptors for a 2-descriptor frame: dropped whole.
	// RDT is 1 behind RDH... the ring has 7 free; take 6 with small frames.
	for (int i = 0; i < 6; i++)
		drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, i));
	CHECK_EQ(rd(1, IXGBE_GPRC), 6);
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 1500, 99));
	CHECK_EQ(rd(1, IXGBE_GPRC), 0);
	CHECK_EQ(rd(1, IXGBE_MPC(0)), 1);
	CHECK_EQ(rd(1, IXGBE_RDH(0)), 0);       // 2 + 6, mod 8: nothing of the big frame
}

// An incomplete frame (no EOP before TDT) waits for the rest.
static void test_incomplete_frame(void)
{
	uint8_t f[600], got[600];
	struct ring *tx;
	size_t len;

	drv_init(0, 1, 8, 2048, 0);
	drv_init(1, 1, 8, 2048, 0);
	tx = &drv[0].tx[0];
	len = make_ipv4(f, MAC1, BASE_MAC, &FLOW, 600, 1);
	drv_fill(0, 0, f, len, 2);
	wr(0, IXGBE_TDT(0), 1);                 // only the first descriptor
	CHECK_EQ(rd(0, IXGBE_TDH(0)), 0);
	CHECK_EQ(rd(0, IXGBE_GPTC), 0);
	CHECK_EQ(tx_desc(tx, 0)->wb.status & IXGBE_TXD_STAT_DD, 0);
	wr(0, IXGBE_TDT(0), 2);
	CHECK_EQ(rd(0, IXGBE_TDH(0)), 2);
	CHECK_EQ(rd(0, IXGBE_GPTC), 1);
	CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), len);
	CHECK(memcmp(got, f, len) == 0);
	// DD only where RS asked (the last descriptor).
	CHECK_EQ(tx_desc(tx, 0)->read.olinfo_status & IXGBE_TXD_STAT_DD, 0);
	CHECK(tx_desc(tx, 1)->wb.status & IXGBE_TXD_STAT_DD);
}

// A frame larger than the model sends (two descriptors, 2000 bytes) is
// dropped, reported once, and its descriptors are done all the same.
static void test_oversize_frame(void)
{
	uint8_t f[2000], got[2000];
	size_t len;

	drv_init(0, 1, 8, 2048, 0);
	drv_init(1, 1, 8, 2048, 0);
	make_ipv4(f, MAC1, BASE_MAC, &FLOW, 2000, 1);
	drv_fill(0, 0, f, 2000, 2);
	wr(0, IXGBE_TDT(0), drv_fill(0, 0, f, 2000, 2));
	CHECK_EQ(rd(0, IXGBE_TDH(0)), 4);
	CHECK(tx_desc(&drv[0].tx[0], 3)->wb.status & IXGBE_TXD_STAT_DD);
	CHECK_EQ(rd(0, IXGBE_GPTC), 0);
	CHECK_EQ(rd(1, IXGBE_TPR), 0);
	CHECK_EQ(nlog, 1);
	CHECK(strstr(log_lines[0], "TX queue 0") && strstr(log_lines[0], "1518"));
	CHECK(rd(0, IXGBE_TXDCTL(0)) & IXGBE_TXDCTL_ENABLE);
	len = make_ipv4(f, MAC1, BASE_MAC, &FLOW, I82599_FRAME_MAX, 2);
	drv_send(0, 0, f, len);
	CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), len);
	CHECK(memcmp(got, f, len) == 0);
}

// Rings of 8 go round many times; batches of 5 frames at one TDT write.
static void test_ring_wrap(void)
{
	uint8_t f[256], got[256];
	uint32_t seq = 0, total = 0;

	drv_init(0, 1, 8, 2048, 0);
	drv_init(1, 1, 8, 2048, 0);
	for (int round = 0; round < 400; round++) {
		int batch = round % 2 ? 5 : 1;
		uint32_t tail = 0;
		for (int k = 0; k < batch; k++)
			tail = drv_fill(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 64 + (seq + k) % 100,
							   seq + k), 1);
		wr(0, IXGBE_TDT(0), tail);
		for (int k = 0; k < batch; k++, seq++) {
			size_t len = make_ipv4(f, MAC1, BASE_MAC, &FLOW, 64 + seq % 100, seq);
			int n = drv_recv(1, 0, got, NULL, NULL);
			CHECK_EQ(n, len);
			if (n != (int)len || memcmp(got, f, len) != 0) {
				fail(__FILE__, __LINE__, "frame %u differs", seq);
				return;
			}
		}
		total += batch;
	}
	CHECK_EQ(total, 1200);
	CHECK_EQ(rd(0, IXGBE_TDH(0)), total % 8);
	CHECK_EQ(rd(1, IXGBE_RDH(0)), total % 8);
	CHECK_EQ(rd(1, IXGBE_RDT(0)), (total + 7) % 8);
	CHECK_EQ(rd(1, IXGBE_GPRC), total);
	CHECK_EQ(rd(0, IXGBE_GPTC), total);
	CHECK_EQ(rd(1, IXGBE_MPC(0)), 0);
}

// A full RX ring drops: MPC without SRRCTL.DROP_EN, QPRDC with it.
static void test_rx_full(void)
{
	uint8_t f[128], got[128];

	drv_init(0, 2, 8, 2048, 0);
	drv_init(1, 2, 8, 2048, 0);
	wr(1, IXGBE_SRRCTL(1), rd(1, IXGBE_SRRCTL(1)) | IXGBE_SRRCTL_DROP_EN);
	for (uint32_t i = 0; i < 10; i++)
		drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 128, i));
	CHECK_EQ(rd(1, IXGBE_GPRC), 7);         // 8 descriptors, one always kept back
	CHECK_EQ(rd(1, IXGBE_TPR), 10);
	CHECK_EQ(rd(1, IXGBE_MPC(0)), 3);
	CHECK_EQ(rd(1, IXGBE_MPC(0)), 0);
	CHECK_EQ(rd(1, IXGBE_QPRDC(0)), 0);
	CHECK_EQ(rd(1, IXGBE_RDH(0)), 7);
	for (uint32_t i = 0; i < 7; i++) {
		make_ipv4(f, MAC1, BASE_MAC, &FLOW, 128, i);
		CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), 128);
		CHECK(memcmp(got, f, 128) == 0);
	}
	CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), -1);
	// Room again: the next frame arrives.
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 128, 42));
	CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), 128);
	CHECK(memcmp(got, f, 128) == 0);
	// i82599_receive says whether a queue took the frame.
	make_ipv4(f, MAC1, BASE_MAC, &FLOW, 128, 43);
	CHECK(i82599_receive(nic, 1, f, 128));
	// Queue 1 with DROP_EN, steered by RSS (every RETA entry 1).
	wr(1, IXGBE_MRQC, IXGBE_MRQC_RSSEN | IXGBE_MRQC_RSS_IPV4);
	for (int i = 0; i < 32; i++)
		wr(1, IXGBE_RETA(i), 0x01010101);
	for (uint32_t i = 0; i < 9; i++)
		i82599_receive(nic, 1, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 128, i));
	// Counter 0 counts every queue by default: 9 on queue 0, 7 on queue 1.
	CHECK_EQ(rd(1, IXGBE_QPRC(0)), 9 + 7);
	CHECK_EQ(rd(1, IXGBE_QPRDC(0)), 2);
	CHECK_EQ(rd(1, IXGBE_MPC(0)), 0);
	CHECK_EQ(nlog, 0);
}

// ---------------------------------------------------------------------
// RSS in the model.

static int reta_queue(uint32_t hash)
{
	uint32_t e = hash & 0x7F;
	return (e ^ e >> 2 ^ e >> 4 ^ e >> 6) % NQ;
}

static void rss_setup(int port, uint32_t mrqc)
{
	for (int i = 0; i < 10; i++)
		wr(port, IXGBE_RSSRK(i), MS_KEY[4 * i] | MS_KEY[4 * i + 1] << 8 |
		   MS_KEY[4 * i + 2] << 16 | (uint32_t)MS_KEY[4 * i + 3] << 24);
	// Entry e sends to a queue that depends on all 7 bits of e (a model
	// that used fewer bits of the hash would pick another queue).
	for (int i = 0; i < 32; i++) {
		uint32_t v = 0;
		for (int b = 0; b < 4; b++)
			v |= (uint32_t)reta_queue(4 * i + b) << (8 * b);
		wr(port, IXGBE_RETA(i), v);
	}
	wr(port, IXGBE_MRQC, mrqc);
}


// Receives from any queue: returns the queue, or -1.
static int recv_any(int port, uint8_t *buf, int *len, uint32_t *info, uint32_t *hash)
{
	for (int q = 0; q < NQ; q++)
		if ((*len = drv_recv(port, q, buf, info, hash)) >= 0)
			return q;
	return -1;
}

static void test_rss(void)
{
	uint8_t f[128], got[128];
	uint32_t info, hash;
	int len, queues_seen = 0;

	drv_init(0, NQ, 16, 2048, 0);
	drv_init(1, NQ, 16, 2048, 0);
	rss_setup(1, IXGBE_MRQC_RSSEN | IXGBE_MRQC_RSS_TCPIPV4 | IXGBE_MRQC_RSS_IPV4 |
		  IXGBE_MRQC_RSS_UDPIPV4);
	for (uint32_t i = 0; i < 4; i++)                // counter q for queue q
		wr(1, IXGBE_RQSMR(0), rd(1, IXGBE_RQSMR(0)) | i << (8 * i));
	for (size_t i = 0; i < NVECTORS; i++) {
		struct flow tcp = { 6, MS_VECTORS[i].src, MS_VECTORS[i].dst, MS_VECTORS[i].sport,
				    MS_VECTORS[i].dport };
		struct flow udp = tcp, icmp = tcp, frag = tcp;
		udp.proto = 17;
		icmp.proto = 1;
		drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &tcp, 100, i));
		int q = recv_any(1, got, &len, &info, &hash);
		CHECK_EQ(q, reta_queue(MS_VECTORS[i].tcp));
		CHECK_EQ(hash, MS_VECTORS[i].tcp);
		CHECK_EQ(info & IXGBE_RXD_RSSTYPE_MASK, IXGBE_RXD_RSSTYPE_IPV4_TCP);
		CHECK_EQ(len, 100);
		queues_seen |= 1 << q;
		drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &udp, 100, i));
		CHECK_EQ(recv_any(1, got, &len, &info, &hash), reta_queue(MS_VECTORS[i].tcp));
		CHECK_EQ(hash, MS_VECTORS[i].tcp);
		CHECK_EQ(info, IXGBE_RXD_RSSTYPE_IPV4_UDP | IXGBE_RXD_PKTTYPE_IPV4 | IXGBE_RXD_PKTTYPE_UDP);
		drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &icmp, 100, i));
		CHECK_EQ(recv_any(1, got, &len, &info, &hash), reta_queue(MS_VECTORS[i].ipv4));
		CHECK_EQ(hash, MS_VECTORS[i].ipv4);
		CHECK_EQ(info, IXGBE_RXD_RSSTYPE_IPV4 | IXGBE_RXD_PKTTYPE_IPV4);
		// A fragment (MF set) has no ports to hash.
		make_ipv4(f, MAC1, BASE_MAC, &frag, 100, i);
		f[14 + 6] = 0x20;
		drv_send(0, 0, f, 100);
		CHECK_EQ(recv_any(1, got, &len, &info, &hash), reta_queue(MS_VECTORS[i].ipv4));
		CHECK_EQ(hash, MS_VECTORS[i].ipv4);
		CHECK_EQ(info & IXGBE_RXD_RSSTYPE_MASK, IXGBE_RXD_RSSTYPE_IPV4);
	}
	CHECK(queues_seen != 1 && queues_seen != 0);    // the suite does not land on one queue
	// Per-queue counters follow RQSMR.
	uint32_t sum = 0;
	for (int q = 0; q < NQ; q++)
		sum += rd(1, IXGBE_QPRC(q));
	CHECK_EQ(sum, 4 * NVECTORS);
	// Not IPv4 (ARP): queue 0, no hash.
	memset(f, 0, 64);
	memcpy(f, BROADCAST, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	drv_send(0, 0, f, 64);
	CHECK_EQ(recv_any(1, got, &len, &info, &hash), 0);
	CHECK_EQ(hash, 0);
	CHECK_EQ(info, 0);
	// TCP hashing off: the 2-tuple hash of a TCP packet.
	struct flow tcp = { 6, MS_VECTORS[1].src, MS_VECTORS[1].dst, MS_VECTORS[1].sport,
			    MS_VECTORS[1].dport };
	wr(1, IXGBE_MRQC, IXGBE_MRQC_RSSEN | IXGBE_MRQC_RSS_IPV4);
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &tcp, 100, 0));
	CHECK_EQ(recv_any(1, got, &len, &info, &hash), reta_queue(MS_VECTORS[1].ipv4));
	CHECK_EQ(hash, MS_VECTORS[1].ipv4);
	// The model hashes by tables made from the key (82599_queues.c):
	// many flows, each hashed as rss_toeplitz hashes it, and again under
	// a new key once RSSRK is written.
	uint8_t key[RSS_KEY_SIZE], in[RSS_IPV4_INPUT_SIZE];
	uint64_t x = 88172645463325252ull;
	memcpy(key, MS_KEY, sizeof(key));
	wr(1, IXGBE_MRQC, IXGBE_MRQC_RSSEN | IXGBE_MRQC_RSS_TCPIPV4);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 200; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;        // xorshift64
			struct flow fl = { 6, (uint32_t)x, (uint32_t)(x >> 32), (uint16_t)(x >> 7),
					   (uint16_t)(x >> 23) };
			rss_ipv4_input(in, fl.src, fl.dst, fl.sport, fl.dport);
			drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &fl, 100, i));
			uint32_t want = rss_toeplitz(key, in, RSS_IPV4_INPUT_SIZE);
			CHECK_EQ(recv_any(1, got, &len, &info, &hash), reta_queue(want));
			CHECK_EQ(hash, want);
		}
		for (int i = 0; i < RSS_KEY_SIZE; i++)
			key[i] = (uint8_t)(0x6D + 0x5A * i);
		for (int i = 0; i < 10; i++)
			wr(1, IXGBE_RSSRK(i), key[4 * i] | key[4 * i + 1] << 8 | key[4 * i + 2] << 16 |
			   (uint32_t)key[4 * i + 3] << 24);
	}
	// RSS off: queue 0 for everything, no RSS type.
	wr(1, IXGBE_MRQC, 0);
	for (size_t i = 0; i < NVECTORS; i++) {
		tcp.src = MS_VECTORS[i].src;
		drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &tcp, 100, i));
		CHECK_EQ(recv_any(1, got, &len, &info, &hash), 0);
		CHECK_EQ(info & IXGBE_RXD_RSSTYPE_MASK, IXGBE_RXD_RSSTYPE_NONE);
	}
}

// ---------------------------------------------------------------------
// Filters.

static void test_filters(void)
{
	static const uint8_t OTHER[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	static const uint8_t MULTI[6] = { 0x01, 0, 0x5E, 0, 0, 1 };
	uint8_t f[64];

	drv_init(1, 1, 64, 2048, 0);
	wr(1, IXGBE_FCTRL, 0);
	// Unicast: its own address, not another; broadcast only with BAM.
	CHECK(i82599_receive(nic, 1, f, make_ipv4(f, MAC1, OTHER, &FLOW, 64, 0)));
	CHECK(!i82599_receive(nic, 1, f, make_ipv4(f, OTHER, MAC1, &FLOW, 64, 0)));
	CHECK(!i82599_receive(nic, 1, f, make_ipv4(f, BROADCAST, OTHER, &FLOW, 64, 0)));
	CHECK(!i82599_receive(nic, 1, f, make_ipv4(f, MULTI, OTHER, &FLOW, 64, 0)));
	CHECK_EQ(rd(1, IXGBE_TPR), 2);          // TPR counts the broadcast the filter refused
	wr(1, IXGBE_FCTRL, IXGBE_FCTRL_BAM);
	CHECK(i82599_receive(nic, 1, f, make_ipv4(f, BROADCAST, OTHER, &FLOW, 64, 0)));
	CHECK(!i82599_receive(nic, 1, f, make_ipv4(f, MULTI, OTHER, &FLOW, 64, 0)));
	wr(1, IXGBE_FCTRL, IXGBE_FCTRL_MPE);
	CHECK(i82599_receive(nic, 1, f, make_ipv4(f, MULTI, OTHER, &FLOW, 64, 0)));
	// A second address in RAL/RAH[3], valid or not.
	wr(1, IXGBE_RAL(3), OTHER[0] | OTHER[1] << 8 | OTHER[2] << 16 | (uint32_t)OTHER[3] << 24);
	wr(1, IXGBE_RAH(3), OTHER[4] | OTHER[5] << 8);
	CHECK(!i82599_receive(nic, 1, f, make_ipv4(f, OTHER, MAC1, &FLOW, 64, 0)));
	wr(1, IXGBE_RAH(3), OTHER[4] | OTHER[5] << 8 | IXGBE_RAH_AV);
	CHECK(i82599_receive(nic, 1, f, make_ipv4(f, OTHER, MAC1, &FLOW, 64, 0)));
	wr(1, IXGBE_RAH(3), 0);
	CHECK(!i82599_receive(nic, 1, f, make_ipv4(f, OTHER, MAC1, &FLOW, 64, 0)));
	// Unicast promiscuous.
	wr(1, IXGBE_FCTRL, IXGBE_FCTRL_UPE);
	CHECK(i82599_receive(nic, 1, f, make_ipv4(f, OTHER, MAC1, &FLOW, 64, 0)));
	CHECK_EQ(rd(1, IXGBE_GPRC), 5);
	CHECK_EQ(rd(1, IXGBE_TPR), 4);
	// The receiver off: nothing taken, nothing counted.
	wr(1, IXGBE_RXCTRL, 0);
	CHECK(!i82599_receive(nic, 1, f, make_ipv4(f, MAC1, OTHER, &FLOW, 64, 0)));
	CHECK_EQ(rd(1, IXGBE_TPR), 0);
	CHECK_EQ(rd(1, IXGBE_MPC(0)), 0);
}

// ---------------------------------------------------------------------
// Reset in the middle of traffic.

static void test_reset_mid_traffic(void)
{
	uint8_t f[200], got[200];

	drv_init(0, 1, 8, 2048, 0);
	drv_init(1, 1, 8, 2048, 0);
	for (uint32_t i = 0; i < 3; i++)
		drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 200, i));
	CHECK_EQ(rd(1, IXGBE_RDH(0)), 3);
	// Port 1 resets with frames in its ring: its queues and receiver stop.
	wr(1, IXGBE_CTRL, IXGBE_CTRL_RST);
	CHECK_EQ(rd(1, IXGBE_RDH(0)), 0);
	CHECK_EQ(rd(1, IXGBE_RDLEN(0)), 0);
	CHECK_EQ(rd(1, IXGBE_RXDCTL(0)), 0);
	CHECK_EQ(rd(1, IXGBE_RXCTRL), 0);
	CHECK_EQ(rd(1, IXGBE_GPRC), 0);
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 200, 3));
	CHECK_EQ(rd(0, IXGBE_GPTC), 4);         // sent, and lost on the far side
	CHECK_EQ(rd(1, IXGBE_TPR), 0);
	// Port 0 resets with an incomplete frame in its TX ring.
	drv_fill(0, 0, f, 200, 2);
	wr(0, IXGBE_TDT(0), (drv[0].tx[0].next + 7) % 8);
	CHECK_EQ(rd(0, IXGBE_TDH(0)), 4);
	wr(0, IXGBE_CTRL, IXGBE_CTRL_RST);
	CHECK_EQ(rd(0, IXGBE_TDH(0)), 0);
	CHECK_EQ(rd(0, IXGBE_TDT(0)), 0);
	CHECK_EQ(rd(0, IXGBE_TXDCTL(0)), 0);
	CHECK_EQ(rd(0, IXGBE_DMATXCTL), 0);
	CHECK_EQ(rd(0, IXGBE_GPTC), 0);
	// Both brought up again: traffic flows.
	arena_used = 0;
	drv_init(0, 1, 8, 2048, 0);
	drv_init(1, 1, 8, 2048, 0);
	for (uint32_t i = 0; i < 20; i++) {
		size_t len = make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100 + i, 100 + i);
		drv_send(0, 0, f, len);
		CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), len);
		CHECK(memcmp(got, f, len) == 0);
	}
	CHECK_EQ(nlog, 0);
}

// A reset from the interrupt handler, while the model is sending.
static int reset_port_in_irq = -1;

static void interrupt_resets(void *ctx, int port, int vector)
{
	interrupt(ctx, port, vector);
	if (port == reset_port_in_irq)
		wr(port, IXGBE_CTRL, IXGBE_CTRL_RST);
}

static void test_reset_in_interrupt(void)
{
	uint8_t f[100];
	uint32_t tail = 0;

	ops.interrupt = interrupt_resets;
	drv_init(0, 1, 16, 2048, 0);
	drv_init(1, 1, 16, 2048, 0);
	wr(1, IXGBE_GPIE, IXGBE_GPIE_MSIX_MODE);
	wr(1, IXGBE_IVAR(0), IXGBE_IVAR_VALID | 2);     // RX queue 0: vector 2
	wr(1, IXGBE_EIMS, 1u << 2);
	reset_port_in_irq = 1;
	for (uint32_t i = 0; i < 5; i++)
		tail = drv_fill(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, i), 1);
	wr(0, IXGBE_TDT(0), tail);
	reset_port_in_irq = -1;
	CHECK_EQ(interrupts[1][2], 1);
	CHECK_EQ(rd(0, IXGBE_TDH(0)), 5);       // all five sent, the last four to a reset port
	CHECK_EQ(rd(0, IXGBE_GPTC), 5);
	CHECK_EQ(rd(1, IXGBE_GPRC), 0);
	CHECK_EQ(rd(1, IXGBE_RXCTRL), 0);
}

// ---------------------------------------------------------------------
// DMA refused.

static void test_dma_refused(void)
{
	uint8_t f[200], got[200];
	struct ring *rx, *tx;
	size_t len;

	drv_init(0, 2, 8, 2048, 0);
	drv_init(1, 2, 8, 2048, 0);
	rx = &drv[1].rx[0];
	// RX: the buffer of port 1's next descriptor is refused.
	refuse_lo = rx->buf[0];
	refuse_hi = rx->buf[0] + 1;
	CHECK(!i82599_receive(nic, 1, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 200, 0)));
	CHECK_EQ(rd(1, IXGBE_RXDCTL(0)) & IXGBE_RXDCTL_ENABLE, 0);
	CHECK_EQ(nlog, 1);
	CHECK(strstr(log_lines[0], "port 1") && strstr(log_lines[0], "RX queue 0"));
	CHECK_EQ(rd(1, IXGBE_RDH(0)), 0);
	CHECK_EQ(rx_desc(rx, 0)->wb.status_error & IXGBE_RXD_STAT_DD, 0);
	refuse_lo = refuse_hi = 0;
	// The queue stays stopped, and is reported once.
	CHECK(!i82599_receive(nic, 1, f, 200));
	CHECK_EQ(nlog, 1);
	CHECK_EQ(rd(1, IXGBE_GPRC), 0);
	// The other direction still works.
	len = make_ipv4(f, BASE_MAC, MAC1, &FLOW, 150, 1);
	drv_send(1, 0, f, len);
	CHECK_EQ(drv_recv(0, 0, got, NULL, NULL), len);
	// The driver enables the queue again: frames arrive.
	wr(1, IXGBE_RXDCTL(0), IXGBE_RXDCTL_ENABLE);
	len = make_ipv4(f, MAC1, BASE_MAC, &FLOW, 120, 2);
	drv_send(0, 0, f, len);
	CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), len);
	CHECK(memcmp(got, f, len) == 0);
	// TX: a descriptor whose buffer lies outside bus memory.
	tx = &drv[0].tx[1];
	drv_fill(0, 1, f, 100, 1);
	tx_desc(tx, 0)->read.buffer_addr = 0xDEAD0000;
	wr(0, IXGBE_TDT(1), 1);
	CHECK_EQ(rd(0, IXGBE_TXDCTL(1)) & IXGBE_TXDCTL_ENABLE, 0);
	CHECK_EQ(rd(0, IXGBE_TDH(1)), 0);
	CHECK_EQ(rd(0, IXGBE_GPTC), 1);         // only the frame sent before, on queue 0
	CHECK_EQ(nlog, 2);
	CHECK(strstr(log_lines[1], "port 0") && strstr(log_lines[1], "TX queue 1") &&
	      strstr(log_lines[1], "0xdead0000"));
	// TX queue 0 still sends.
	len = make_ipv4(f, MAC1, BASE_MAC, &FLOW, 90, 3);
	drv_send(0, 0, f, len);
	CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), len);
	// RX ring base outside bus memory: the descriptor read is refused.
	wr(1, IXGBE_RDBAL(1), 0x1000);
	wr(1, IXGBE_RDBAH(1), 0);
	wr(1, IXGBE_MRQC, IXGBE_MRQC_RSSEN | IXGBE_MRQC_RSS_IPV4);
	for (int i = 0; i < 32; i++)
		wr(1, IXGBE_RETA(i), 0x01010101);
	CHECK(!i82599_receive(nic, 1, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 90, 4)));
	CHECK_EQ(rd(1, IXGBE_RXDCTL(1)) & IXGBE_RXDCTL_ENABLE, 0);
	CHECK_EQ(nlog, 3);
	CHECK(strstr(log_lines[2], "RX queue 1") && strstr(log_lines[2], "0x1000"));
}

// Each port's DMA is asked for with its own port number (the kernel
// checks it against that port's owner): port 1 refused whole, as if its
// owner had no such memory, while port 0 sends.
static void test_dma_per_port(void)
{
	uint8_t f[200];

	drv_init(0, 1, 8, 2048, 0);
	drv_init(1, 1, 8, 2048, 0);
	CHECK_EQ(dma_calls[0], 0);
	CHECK_EQ(dma_calls[1], 0);
	refuse_port = 1;
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 200, 0));
	// Port 0: the descriptor, the buffer, the write-back.
	CHECK_EQ(dma_calls[0], 3);
	// Port 1: the descriptor read, refused.
	CHECK_EQ(dma_calls[1], 1);
	CHECK_EQ(rd(0, IXGBE_GPTC), 1);
	CHECK_EQ(rd(0, IXGBE_TXDCTL(0)) & IXGBE_TXDCTL_ENABLE, IXGBE_TXDCTL_ENABLE);
	CHECK_EQ(rd(1, IXGBE_RXDCTL(0)) & IXGBE_RXDCTL_ENABLE, 0);
	CHECK_EQ(rd(1, IXGBE_GPRC), 0);
	CHECK_EQ(nlog, 1);
	CHECK(strstr(log_lines[0], "port 1") && strstr(log_lines[0], "RX queue 0"));
	// Port 0's own DMA refused: port 1's goes on.
	refuse_port = 0;
	wr(1, IXGBE_RXDCTL(0), IXGBE_RXDCTL_ENABLE);
	CHECK(i82599_receive(nic, 1, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 200, 1)));
	CHECK_EQ(rd(1, IXGBE_GPRC), 1);
}

// One port reset alone (its owner went): the other runs on.
static void test_reset_port(void)
{
	uint8_t f[200], got[200];
	size_t len;

	drv_init(0, 1, 8, 2048, 0);
	drv_init(1, 1, 8, 2048, 0);
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 200, 0));
	i82599_reset_port(nic, 1);
	CHECK_EQ(rd(1, IXGBE_RDLEN(0)), 0);
	CHECK_EQ(rd(1, IXGBE_RXCTRL), 0);
	CHECK_EQ(rd(1, IXGBE_GPRC), 0);
	CHECK_EQ(rd(1, IXGBE_RAL(0)), MAC1[0] | MAC1[1] << 8 | MAC1[2] << 16 | (uint32_t)MAC1[3] << 24);
	CHECK_EQ(rd(1, IXGBE_RAH(0)), MAC1[4] | MAC1[5] << 8 | IXGBE_RAH_AV);
	CHECK_EQ(rd(0, IXGBE_TDLEN(0)), 8 * 16);
	CHECK_EQ(rd(0, IXGBE_TDH(0)), 1);
	CHECK_EQ(rd(0, IXGBE_GPTC), 1);
	// Port 1 brought up again by a new owner: frames flow.
	drv_init(1, 1, 8, 2048, 0);
	len = make_ipv4(f, MAC1, BASE_MAC, &FLOW, 150, 1);
	drv_send(0, 0, f, len);
	CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), len);
	CHECK(memcmp(got, f, len) == 0);
	CHECK_EQ(nlog, 0);
}

// A queue set up wrong drops its frames and says why, once.
static void test_bad_queue_setup(void)
{
	uint8_t f[100];

	drv_init(1, 1, 8, 2048, 0);
	make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, 0);
	wr(1, IXGBE_SRRCTL(0), 2);                      // legacy descriptors
	CHECK(!i82599_receive(nic, 1, f, 100));
	CHECK(!i82599_receive(nic, 1, f, 100));
	CHECK_EQ(nlog, 1);
	CHECK(strstr(log_lines[0], "RX queue 0") && strstr(log_lines[0], "DESCTYPE"));
	wr(1, IXGBE_SRRCTL(0), IXGBE_SRRCTL_DESCTYPE_ADV);      // no buffer size
	CHECK(!i82599_receive(nic, 1, f, 100));
	CHECK_EQ(nlog, 2);
	CHECK(strstr(log_lines[1], "BSIZEPACKET"));
	wr(1, IXGBE_SRRCTL(0), IXGBE_SRRCTL_DESCTYPE_ADV | 2);
	wr(1, IXGBE_RDT(0), 8);                         // beyond a ring of 8
	CHECK(!i82599_receive(nic, 1, f, 100));
	CHECK_EQ(nlog, 3);
	CHECK(strstr(log_lines[2], "RDLEN (bytes) 128"));
	wr(1, IXGBE_RDT(0), 7);
	CHECK(i82599_receive(nic, 1, f, 100));
	CHECK_EQ(rd(1, IXGBE_GPRC), 1);
	// Nothing read or written outside the ring and its buffers.
	CHECK_EQ(i82599_unimplemented(nic), 0);
}

// ---------------------------------------------------------------------
// Read-to-clear statistics and causes; interrupts.

static void test_read_to_clear(void)
{
	uint8_t f[100];

	drv_init(0, 1, 16, 2048, 0);
	drv_init(1, 1, 16, 2048, 0);
	wr(1, IXGBE_IVAR(0), IXGBE_IVAR_VALID | 4);     // RX queue 0: EICR bit 4
	for (uint32_t i = 0; i < 3; i++)
		drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, i));
	CHECK_EQ(nirq, 0);                              // EIMS enables nothing
	CHECK_EQ(rd(1, IXGBE_GPRC), 3);
	CHECK_EQ(rd(1, IXGBE_GPRC), 0);
	CHECK_EQ(rd(1, IXGBE_GORCL), 312);
	CHECK_EQ(rd(1, IXGBE_GORCH), 0);
	CHECK_EQ(rd(1, IXGBE_GORCL), 0);
	CHECK_EQ(rd(1, IXGBE_QPRC(0)), 3);
	CHECK_EQ(rd(1, IXGBE_QPRC(0)), 0);
	CHECK_EQ(rd(0, IXGBE_QPTC_ALIAS(0)), 3);
	CHECK_EQ(rd(0, IXGBE_QPTC(0)), 0);
	// EICS reads EICR without clearing it; EICR's read clears it.
	CHECK_EQ(rd(1, IXGBE_EICS), 1u << 4);
	CHECK_EQ(rd(1, IXGBE_EICR), 1u << 4);
	CHECK_EQ(rd(1, IXGBE_EICR), 0);
	// Write 1 to clear.
	wr(1, IXGBE_EICS, 0x30);
	wr(1, IXGBE_EICR, 0x10);
	CHECK_EQ(rd(1, IXGBE_EICR), 0x20);
	// GPIE.OCD keeps the other causes over a read.
	wr(1, IXGBE_GPIE, IXGBE_GPIE_OCD);
	wr(1, IXGBE_EICS, IXGBE_EICR_LSC | 1);
	CHECK_EQ(rd(1, IXGBE_EICR), IXGBE_EICR_LSC | 1);
	CHECK_EQ(rd(1, IXGBE_EICR), IXGBE_EICR_LSC);
	// The octet counters carry past 32 bits: 2,830,000 frames of 1518
	// bytes (with their CRC, 1522) make 4,307,260,000 octets.
	struct ring *rx = &drv[1].rx[0];
	make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, 0);
	uint8_t *big = calloc(1, I82599_FRAME_MAX);
	memcpy(big, f, 100);
	for (uint32_t i = 0; i < 2830000; i++) {
		if (!i82599_receive(nic, 1, big, I82599_FRAME_MAX)) {
			fail(__FILE__, __LINE__, "frame %u not received", i);
			break;
		}
		rx_desc(rx, rx->next)->read.pkt_addr = rx->buf[rx->next];
		wr(1, IXGBE_RDT(0), rx->next);
		rx->next = (rx->next + 1) % rx->n;
	}
	free(big);
	CHECK_EQ(rd(1, IXGBE_GORCL), (uint32_t)4307260000ull);
	CHECK_EQ(rd(1, IXGBE_GORCH), 4307260000ull >> 32);
	CHECK_EQ(i82599_read(nic, 1, IXGBE_GORCL, 8), 0);
	CHECK_EQ(rd(1, IXGBE_GPRC), 2830000);
	// Statistics are read-only.
	wr(1, IXGBE_GPRC, 5);
	CHECK_EQ(rd(1, IXGBE_GPRC), 0);
	CHECK_EQ(nirq, 0);
}

static void test_interrupts(void)
{
	uint8_t f[100], got[100];

	drv_init(0, 2, 16, 2048, 0);
	drv_init(1, 2, 16, 2048, 0);
	for (int port = 0; port < 2; port++) {
		wr(port, IXGBE_GPIE, IXGBE_GPIE_MSIX_MODE | IXGBE_GPIE_EIAME | IXGBE_GPIE_PBA_SUPPORT);
		// Queue 0: RX vector 3, TX vector 5; queue 1: RX vector 7, TX invalid.
		wr(port, IXGBE_IVAR(0), (IXGBE_IVAR_VALID | 3) << IXGBE_IVAR_SHIFT(0, 0) |
		   (IXGBE_IVAR_VALID | 5) << IXGBE_IVAR_SHIFT(0, 1) |
		   (IXGBE_IVAR_VALID | 7) << IXGBE_IVAR_SHIFT(1, 0) | 6u << IXGBE_IVAR_SHIFT(1, 1));
		wr(port, IXGBE_EIAC, 1u << 3);          // auto-clear RX queue 0's cause
		wr(port, IXGBE_EIMS, 1u << 3 | 1u << 5 | 1u << 6 | 1u << 7);
	}
	// Port 0 sends on queue 0 (TX interrupt, vector 5); port 1 receives
	// on queue 0 (vector 3, auto-cleared).
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, 0));
	CHECK_EQ(interrupts[0][5], 1);
	CHECK_EQ(interrupts[1][3], 1);
	CHECK_EQ(nirq, 2);
	CHECK_EQ(rd(1, IXGBE_EICS), 0);                 // auto-cleared
	CHECK_EQ(rd(0, IXGBE_EICS), 1u << 5);           // not in EIAC
	CHECK_EQ(i82599_take_causes(nic, 0), 1u << 5);
	CHECK_EQ(rd(0, IXGBE_EICS), 0);
	// Auto-mask: with EIAM's bit, the vector masks itself after firing.
	wr(1, IXGBE_EIAM, 1u << 3);
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, 1));
	CHECK_EQ(interrupts[1][3], 2);
	CHECK_EQ(rd(1, IXGBE_EIMS) & (1u << 3), 0);
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, 2));
	CHECK_EQ(interrupts[1][3], 2);                  // masked: no interrupt, the cause kept
	CHECK_EQ(rd(1, IXGBE_EICS), 1u << 3);
	wr(1, IXGBE_EIMS, 1u << 3);                     // unmasking sends the pending cause
	CHECK_EQ(interrupts[1][3], 3);
	CHECK_EQ(rd(1, IXGBE_EICS), 0);
	// EIMC masks; EICS raises a cause by hand.
	wr(1, IXGBE_EIMC, 1u << 7);
	wr(1, IXGBE_EICS, 1u << 7);
	CHECK_EQ(interrupts[1][7], 0);
	wr(1, IXGBE_EIMS, 1u << 7);
	CHECK_EQ(interrupts[1][7], 1);
	// An invalid IVAR entry (TX queue 1) raises nothing.
	wr(1, IXGBE_EIAM, 0);
	wr(1, IXGBE_EIMS, 1u << 3);
	CHECK_EQ(interrupts[1][3], 3);                  // nothing was pending
	wr(0, IXGBE_EICR, ~0u);
	nirq = 0;
	drv_send(0, 1, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, 3));
	CHECK_EQ(rd(0, IXGBE_EICS), 0);
	CHECK_EQ(interrupts[0][6], 0);
	CHECK_EQ(nirq, 1);                              // port 1's RX queue 0 (no RSS)
	for (int i = 0; i < 4; i++)
		CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), 100);
	// Not MSI-X: every cause is vector 0.
	wr(1, IXGBE_GPIE, 0);
	memset(interrupts, 0, sizeof(interrupts));
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, 4));
	CHECK_EQ(interrupts[1][0], 1);
	CHECK_EQ(interrupts[1][3], 0);
	// A vector above 15 is reported once and raises nothing.
	wr(1, IXGBE_GPIE, IXGBE_GPIE_MSIX_MODE);
	wr(1, IXGBE_IVAR(0), IXGBE_IVAR_VALID | 20);
	nlog = 0;
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, 5));
	drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, 6));
	CHECK_EQ(nlog, 1);
	CHECK(strstr(log_lines[0], "vector 20") != NULL);
	CHECK_EQ(interrupts[1][20], 0);
}

// ---------------------------------------------------------------------
// The wire: loss, and frames to and from outside the model.

static void test_wire_loss(void)
{
	uint8_t f[100], got[100];
	int received = 0;

	drv_init(0, 1, 64, 2048, 0);
	drv_init(1, 1, 64, 2048, 0);
	i82599_set_loss(nic, 3);
	for (uint32_t i = 0; i < 9; i++) {
		drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, i));
		if (drv_recv(1, 0, got, NULL, NULL) == 100) {
			received++;
			CHECK(i % 3 != 2);
			CHECK(memcmp(got, f, 100) == 0);
		}
	}
	CHECK_EQ(received, 6);
	CHECK_EQ(rd(0, IXGBE_GPTC), 9);
	CHECK_EQ(rd(1, IXGBE_GPRC), 6);
	CHECK_EQ(rd(1, IXGBE_TPR), 6);
	i82599_set_loss(nic, 0);
	for (uint32_t i = 0; i < 9; i++)
		drv_send(0, 0, f, make_ipv4(f, MAC1, BASE_MAC, &FLOW, 100, i));
	CHECK_EQ(rd(1, IXGBE_GPRC), 9);
}

static void test_transmit_op(void)
{
	uint8_t f[300], got[300];
	size_t len;

	ops.transmit = transmit;
	drv_init(0, 1, 8, 2048, 0);
	drv_init(1, 1, 8, 2048, 0);
	len = make_ipv4(f, MAC1, BASE_MAC, &FLOW, 300, 1);
	drv_send(0, 0, f, len);
	CHECK_EQ(nsent, 1);
	CHECK_EQ(sent_port[0], 0);
	CHECK_EQ(sent_len[0], len);
	CHECK(memcmp(sent[0], f, len) == 0);
	CHECK_EQ(rd(1, IXGBE_TPR), 0);                  // not on the internal wire
	// A frame from outside.
	CHECK(i82599_receive(nic, 1, f, len));
	CHECK_EQ(drv_recv(1, 0, got, NULL, NULL), len);
	CHECK(memcmp(got, f, len) == 0);
	// Too short or too long for Ethernet: refused.
	CHECK(!i82599_receive(nic, 1, f, 10));
	CHECK(!i82599_receive(nic, 1, f, I82599_FRAME_MAX + 1));
}

// ---------------------------------------------------------------------

static const struct {
	const char *name;
	void (*run)(void);
} tests[] = {
	{ "toeplitz", test_toeplitz },
	{ "power_on", test_power_on },
	{ "access_widths", test_access_widths },
	{ "unimplemented", test_unimplemented },
	{ "both_ways", test_both_ways },
	{ "multi_descriptor", test_multi_descriptor },
	{ "incomplete_frame", test_incomplete_frame },
	{ "oversize_frame", test_oversize_frame },
	{ "ring_wrap", test_ring_wrap },
	{ "rx_full", test_rx_full },
	{ "rss", test_rss },
	{ "filters", test_filters },
	{ "reset_mid_traffic", test_reset_mid_traffic },
	{ "reset_in_interrupt", test_reset_in_interrupt },
	{ "dma_refused", test_dma_refused },
	{ "dma_per_port", test_dma_per_port },
	{ "reset_port", test_reset_port },
	{ "bad_queue_setup", test_bad_queue_setup },
	{ "read_to_clear", test_read_to_clear },
	{ "interrupts", test_interrupts },
	{ "wire_loss", test_wire_loss },
	{ "transmit_op", test_transmit_op },
};

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	arena = malloc(ARENA_SIZE);
	if (!arena) {
		printf("82599_test: no memory for the arena\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		test_name = tests[i].name;
		test_failed = 0;
		setup();
		tests[i].run();
		teardown();
		printf("%s: %s\n", tests[i].name, test_failed ? "FAIL" : "ok");
		test_failed ? failed++ : passed++;
	}
	free(arena);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
