// nictest [SEED [QUEUES [RING]]]: the ixgbe driver (ix/drivers/ixgbe.h)
// on ports 0 and 1 of the 82599, which the emulated NIC joins with a
// wire. Each subtest prints one line "nictest: NAME: ... ok" (or
// "FAILED") with exact numbers; the last line counts the subtests that
// passed, and the exit status is the number that failed (100: the
// arguments are wrong or a port did not come up).
//
// Frames are IPv4 UDP or TCP between chosen addresses and ports (a
// flow), of lengths 62-1514 drawn from SEED; the receiver rebuilds each
// frame from the flow, tag and sequence number it carries and compares
// every byte.

#include <stdarg.h>
#include <stdbool.h>

#include "ix/drivers/ixgbe.h"
#include "ix/hw/rss.h"
#include "lib/printfmt.h"
#include "ulib.h"

#define BATCH_MAX 64
#define TAG_OFFSET 54                   // tag and sequence number: after a TCP header
#define FRAME_MIN (TAG_OFFSET + 8)
#define MAX_FLOWS 64
#define IDLE_MS 100                     // a receiver gives up after this long without a frame
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

struct flow {
	uint32_t src_ip, dst_ip;
	uint16_t sport, dport;
	uint8_t proto;
	int from, to;                   // ports
	uint32_t next_rx;               // the sequence number expected next
};

// What a receiver saw.
struct tally {
	uint32_t received;
	uint32_t bad;                   // not the frame sent, or out of order
	uint32_t per_queue[IXGBE_MAX_QUEUES];
	uint32_t on_predicted_queue;
	uint32_t predicted_hash;        // NIC's RSS hash and type equal to the prediction
};

static struct ixgbe_dev ports[2];
static struct flow flows[MAX_FLOWS];
static uint64_t frames_sent[2], bytes_sent[2];  // per port, as the NIC counts (with the CRC)
static uint64_t seed;
static int nqueues;
static uint32_t ring_size;
static int passed, failed;
static bool short_send_expected;        // send: a driver that takes fewer frames is no news

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

// Flow f from port `from` to port `to`: addresses and ports drawn from
// the seed and n.
static void make_flow(int f, int from, int to, uint8_t proto, uint64_t n)
{
	uint64_t r = mix(seed ^ (n << 8) ^ 0xF10);

	flows[f] = (struct flow){
		.src_ip = 0x0A000000 | (uint32_t)(r & 0xFFFFFF),       // 10.x.y.z
		.dst_ip = 0xC0A80000 | (uint32_t)((r >> 24) & 0xFFFF), // 192.168.x.y
		.sport = 1024 + (r >> 40) % 60000,
		.dport = 1 + (r >> 56) * 100,
		.proto = proto, .from = from, .to = to,
	};
}

static uint16_t frame_len(uint32_t tag, uint32_t seq)
{
	uint64_t r = mix(seed ^ (uint64_t)tag << 32 ^ seq);

	return FRAME_MIN + r % (IXGBE_FRAME_MAX - FRAME_MIN + 1);
}

static uint16_t ip_checksum(const uint8_t *h)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return ~sum;
}

// Writes frame seq of flow f (tag: f and the subtest) into out; returns
// its length. Ethernet to the receiving port's MAC address, IPv4, a UDP
// or TCP header, then tag, seq and bytes drawn from both.
static uint16_t build_frame(uint8_t *out, int f, uint32_t tag, uint32_t seq)
{
	const struct flow *fl = &flows[f];
	uint16_t len = frame_len(tag, seq);
	uint8_t *ip = out + 14, *l4 = ip + 20;

	memmove(out, ports[fl->to].mac, 6);
	memmove(out + 6, ports[fl->from].mac, 6);
	put16(out + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, len - 14);
	put16(ip + 4, seq);
	ip[8] = 64;
	ip[9] = fl->proto;
	put32(ip + 12, fl->src_ip);
	put32(ip + 16, fl->dst_ip);
	put16(ip + 10, ip_checksum(ip));
	memset(l4, 0, 20);
	put16(l4, fl->sport);
	put16(l4 + 2, fl->dport);
	if (fl->proto == IPPROTO_UDP) {
		put16(l4 + 4, len - 34);
	} else {
		put32(l4 + 4, seq);
		l4[12] = 0x50;          // 5 words of header
		l4[13] = 0x18;          // PSH, ACK
		put16(l4 + 14, 65535);
	}
	put32(out + TAG_OFFSET, tag);
	put32(out + TAG_OFFSET + 4, seq);
	for (uint16_t i = TAG_OFFSET + 8; i < len; i++)
		out[i] = mix(seed ^ (uint64_t)tag << 40 ^ (uint64_t)seq << 16 ^ (i / 8)) >>
			 (8 * (i % 8));
	return len;
}

// The tag of flow f's frames in the subtest numbered subtest.
static uint32_t tag_of(int subtest, int f)
{
	return (uint32_t)subtest << 16 | (uint32_t)f;
}

// The queue of port to that RSS picks for flow f, and the hash: the
// Toeplitz hash of the addresses and ports (7.1.2.8) under the key the
// driver gave, looked up in the RETA the port holds (read back).
static int predict_queue(int f, uint32_t *hash)
{
	const struct flow *fl = &flows[f];
	uint8_t input[RSS_IPV4_INPUT_SIZE];

	rss_ipv4_input(input, fl->src_ip, fl->dst_ip, fl->sport, fl->dport);
	*hash = rss_toeplitz(ixgbe_rss_key, input, sizeof(input));
	uint32_t index = *hash & (IXGBE_RETA_ENTRIES - 1);
	uint32_t reta = ixgbe_read(&ports[fl->to], IXGBE_RETA(index / 4));
	return (reta >> (8 * (index % 4))) & IXGBE_RETA_QUEUE_MASK;
}

// Checks a received frame against the one sent (every byte), and that
// it is the next of its flow and came on the queue and with the hash
// RSS predicts; counts it in t and frees it.
static void check_frame(struct pktbuf *b, int q, uint32_t subtest, struct tally *t)
{
	static uint8_t expected[IXGBE_FRAME_MAX];
	uint32_t tag = b->len >= TAG_OFFSET + 8 ? get32(b->data + TAG_OFFSET) : 0;
	uint32_t seq = b->len >= TAG_OFFSET + 8 ? get32(b->data + TAG_OFFSET + 4) : 0;
	int f = tag & 0xFFFF;

	t->received++;
	t->per_queue[q]++;
	if (tag >> 16 != subtest || f >= MAX_FLOWS || seq != flows[f].next_rx ||
	    b->len != build_frame(expected, f, tag, seq) ||
	    memcmp(b->data, expected, b->len) != 0) {
		if (t->bad++ == 0)
			printf("nictest: unexpected frame on queue %d: %u bytes, tag 0x%x, "
			       "seq %u (flow %d expects %u)\n", q, b->len, tag, seq, f,
			       f < MAX_FLOWS ? flows[f].next_rx : 0);
	} else {
		uint32_t hash;
		flows[f].next_rx++;
		t->on_predicted_queue += predict_queue(f, &hash) == q;
		uint8_t type = flows[f].proto == IPPROTO_TCP ? IXGBE_RXD_RSSTYPE_IPV4_TCP :
			IXGBE_RXD_RSSTYPE_IPV4_UDP;
		t->predicted_hash += b->rss_hash == hash && b->rss_type == type;
	}
	pktbuf_free(b);
}

// Receives on port's queue q (every queue if q < 0), in bursts of up to
// batch, until want frames came or none came for IDLE_MS; checks each.
// Returns how many came.
static uint32_t receive(int port, int q, uint32_t want, int batch, uint32_t subtest,
		    struct tally *t)
{
	struct pktbuf *bufs[BATCH_MAX];
	uint32_t got = 0;
	uint64_t idle_since = uptime_ms();

	while (got < want && uptime_ms() - idle_since < IDLE_MS) {
		for (int i = q < 0 ? 0 : q; i < (q < 0 ? nqueues : q + 1); i++) {
			int n = ixgbe_rx_burst(&ports[port], i, bufs, batch);
			for (int j = 0; j < n; j++)
				check_frame(bufs[j], i, subtest, t);
			got += n;
			if (n > 0)
				idle_since = uptime_ms();
		}
	}
	return got;
}

// Sends count frames of flow f (sequence numbers from first) on queue q
// of its port, in bursts of batch. Returns how many the driver took.
static uint32_t send(int f, int q, uint32_t first, uint32_t count, int batch, uint32_t subtest)
{
	struct ixgbe_dev *dev = &ports[flows[f].from];
	struct pktbuf *bufs[BATCH_MAX];
	uint16_t lens[BATCH_MAX];
	uint32_t sent = 0;
	uint64_t idle_since = uptime_ms();

	while (sent < count && uptime_ms() - idle_since < IDLE_MS) {
		int n = 0;
		for (; n < batch && sent + n < count; n++) {
			if ((bufs[n] = ixgbe_alloc(dev, q)) == NULL)
				break;
			lens[n] = build_frame(bufs[n]->data, f, tag_of(subtest, f),
					      first + sent + n);
		}
		int k = ixgbe_tx_burst(dev, q, bufs, lens, n);
		for (int i = 0; i < k; i++)
			bytes_sent[dev->port] += lens[i] + 4;
		frames_sent[dev->port] += k;
		for (int i = k; i < n; i++)
			pktbuf_free(bufs[i]);
		sent += k;
		if (k > 0)
			idle_since = uptime_ms();
	}
	if (sent < count && !short_send_expected)
		printf("nictest: send: port %d queue %d took %u of %u frames\n", dev->port, q,
		       sent, count);
	return sent;
}

// Prints a subtest's line, "nictest: " what fmt says ": ok" or
// ": FAILED", and counts it.
static void report(bool ok, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (ok)
		passed++;
	else
		failed++;
	printf("nictest: %s: %s\n", line, ok ? "ok" : "FAILED");
}

// Takes every frame waiting on port's queues and frees it: what a
// subtest left behind. Returns how many.
static uint32_t discard_all(int port)
{
	struct pktbuf *bufs[BATCH_MAX];
	uint32_t n = 0;

	for (int q = 0; q < nqueues; q++) {
		int k;
		while ((k = ixgbe_rx_burst(&ports[port], q, bufs, BATCH_MAX)) > 0) {
			for (int i = 0; i < k; i++)
				pktbuf_free(bufs[i]);
			n += k;
		}
	}
	return n;
}

// Frames both ways at once, in bursts of batch: port 0 to 1 on one flow,
// 1 to 0 on another, three rings' worth each, on every queue in turn.
static void test_both_ways(int batch)
{
	uint32_t subtest = 1 + batch, count = 3 * ring_size, sent[2] = { 0, 0 };
	struct tally t[2] = { 0 };

	make_flow(0, 0, 1, IPPROTO_UDP, subtest);
	make_flow(1, 1, 0, IPPROTO_TCP, subtest);
	for (uint32_t done = 0; done < count; done += batch) {
		uint32_t n = count - done < (uint32_t)batch ? count - done : (uint32_t)batch;
		int q = (done / batch) % nqueues;
		uint32_t s0 = send(0, q, done, n, batch, subtest);
		uint32_t s1 = send(1, q, done, n, batch, subtest);
		sent[0] += s0;
		sent[1] += s1;
		// A subtest that fell behind has failed: it stops rather than
		// wait out the idle time of every batch left.
		if (receive(1, -1, n, batch, subtest, &t[0]) < n ||
		    receive(0, -1, n, batch, subtest, &t[1]) < n || s0 < n || s1 < n)
			break;
	}
	uint32_t stray = discard_all(0) + discard_all(1);
	report(sent[0] == count && sent[1] == count && t[0].received == count &&
	       t[1].received == count && t[0].bad + t[1].bad + stray == 0,
	       "both ways, batch %d: sent %u and %u, received %u and %u, %u bad, %u stray",
	       batch, sent[0], sent[1], t[0].received, t[1].received, t[0].bad + t[1].bad, stray);
}

// Ten rings' worth of frames of one flow (which RSS keeps on one
// receive queue), so that both rings wrap around ten times, in order.
static void test_wrap(void)
{
	uint32_t subtest = 200, count = 10 * ring_size, sent = 0, hash;
	struct tally t = { 0 };

	make_flow(0, 0, 1, IPPROTO_TCP, subtest);
	int q = predict_queue(0, &hash);
	for (uint32_t done = 0; done < count; done += IXGBE_TX_RS_THRESH) {
		uint32_t n = send(0, 0, done, IXGBE_TX_RS_THRESH, IXGBE_TX_RS_THRESH, subtest);
		sent += n;
		if (receive(1, q, IXGBE_TX_RS_THRESH, IXGBE_TX_RS_THRESH, subtest, &t) <
		    IXGBE_TX_RS_THRESH || n < IXGBE_TX_RS_THRESH)
			break;
	}
	uint32_t stray = discard_all(0) + discard_all(1);
	report(sent == count && t.received == count && t.bad + stray == 0,
	       "wrap: %u frames through rings of %u (%u laps), received %u in order on queue %d, "
	       "%u bad, %u stray", sent, ring_size, count / ring_size, t.received, q, t.bad, stray);
}

// One frame of each of MAX_FLOWS flows, half TCP, half UDP: each must
// come on the queue, and with the hash, that the Toeplitz hash and the
// RETA predict.
static void test_rss(void)
{
	uint32_t subtest = 300, sent = 0, predicted[IXGBE_MAX_QUEUES] = { 0 }, hash;
	struct tally t = { 0 };
	char counts[IXGBE_MAX_QUEUES * 6] = "";
	bool spread_ok = true;

	for (int f = 0; f < MAX_FLOWS; f++) {
		make_flow(f, 0, 1, f % 2 ? IPPROTO_TCP : IPPROTO_UDP, subtest + f);
		predicted[predict_queue(f, &hash)]++;
	}
	for (int f = 0; f < MAX_FLOWS; f++) {
		uint32_t n = send(f, f % nqueues, 0, 1, 1, subtest);
		sent += n;
		if (n == 0)
			break;
	}
	receive(1, -1, MAX_FLOWS, BATCH_MAX, subtest, &t);
	for (int q = 0; q < nqueues; q++) {
		size_t used = strlen(counts);
		snprintf(counts + used, sizeof(counts) - used, "%s%u", q ? " " : "",
			 t.per_queue[q]);
		spread_ok = spread_ok && t.per_queue[q] == predicted[q];
	}
	uint32_t stray = discard_all(0) + discard_all(1);
	report(sent == MAX_FLOWS && t.received == MAX_FLOWS && t.bad + stray == 0 &&
	       t.on_predicted_queue == MAX_FLOWS && t.predicted_hash == MAX_FLOWS && spread_ok,
	       "rss: %d flows, received %u, %u on the predicted queue, %u with the predicted hash, "
	       "per queue %s", MAX_FLOWS, t.received, t.on_predicted_queue, t.predicted_hash,
	       counts);
}

// More frames than a receive ring holds (ring_size - 1), none taken
// until all are sent: the first ring_size - 1 arrive, the rest are
// dropped, counted in the queue's QPRDC (the driver sets
// SRRCTL.DROP_EN), none in MPC.
static void test_full_ring(void)
{
	uint32_t subtest = 400, excess = 1 + seed % 50, count = ring_size - 1 + excess, hash;
	struct ixgbe_stats before, after;
	struct tally t = { 0 };

	make_flow(0, 0, 1, IPPROTO_UDP, subtest);
	int q = predict_queue(0, &hash);
	ixgbe_stats(&ports[1], &before);
	uint32_t sent = send(0, 0, 0, count, IXGBE_TX_RS_THRESH, subtest);
	ixgbe_stats(&ports[1], &after);
	receive(1, q, count, BATCH_MAX, subtest, &t);
	uint64_t dropped = after.queue_drop[q] - before.queue_drop[q];
	uint64_t missed = after.rx_missed - before.rx_missed;
	uint32_t stray = discard_all(0) + discard_all(1);
	report(sent == count && t.received == ring_size - 1 && dropped == excess &&
	       missed == 0 && t.bad + stray == 0,
	       "full ring: sent %u to a ring of %u, received %u in order, dropped %lu "
	       "(QPRDC of queue %d), missed %lu (MPC), %u bad, %u stray", sent, ring_size,
	       t.received, dropped, q, missed, t.bad, stray);
}

// A frame for queue q of port 1 wakes a process sleeping in nic_wait
// with cause bit q, and no other.
static void test_interrupt(void)
{
	uint32_t subtest = 500, hash;
	struct tally t = { 0 };

	make_flow(0, 0, 1, IPPROTO_TCP, subtest);
	int q = predict_queue(0, &hash);
	int64_t stale = ixgbe_wait(&ports[1], 0);
	uint32_t sent = send(0, 0, 0, 1, 1, subtest);
	int64_t causes = ixgbe_wait(&ports[1], 10);
	receive(1, q, 1, 1, subtest, &t);
	report(stale >= 0 && sent == 1 && causes == (1 << q) && t.received == 1 && t.bad == 0,
	       "interrupt: a frame for queue %d, causes 0x%lx", q, causes);
}

// Port 1 is reset and initialized again while frames wait in its ring:
// they are gone, and traffic goes on (two rings' worth, in bursts).
static void test_reset(void)
{
	uint32_t subtest = 600, left = ring_size / 2, count = 2 * ring_size, sent = 0;
	struct tally t = { 0 };

	make_flow(0, 0, 1, IPPROTO_UDP, subtest);
	uint32_t sent_before = send(0, 0, 0, left, IXGBE_TX_RS_THRESH, subtest);
	int r = ixgbe_init(&ports[1], 1, nqueues, ring_size);
	uint32_t stale = discard_all(1);
	flows[0].next_rx = left;
	for (uint32_t done = 0; done < count; done += IXGBE_TX_RS_THRESH) {
		uint32_t n = send(0, 0, left + done, IXGBE_TX_RS_THRESH, IXGBE_TX_RS_THRESH,
				  subtest);
		sent += n;
		if (receive(1, -1, IXGBE_TX_RS_THRESH, IXGBE_TX_RS_THRESH, subtest, &t) <
		    IXGBE_TX_RS_THRESH || n < IXGBE_TX_RS_THRESH)
			break;
	}
	uint32_t stray = discard_all(0) + discard_all(1);
	report(sent_before == left && r == 0 && stale == 0 && sent == count &&
	       t.received == count && t.bad + stray == 0,
	       "reset: %u frames left in the ring, re-initialized (%d), %u of them after, then "
	       "sent %u, received %u, %u bad, %u stray", sent_before, r, stale, sent, t.received,
	       t.bad, stray);
}

// A transmit queue paused (TXDCTL.ENABLE cleared, as a driver does to
// change a queue's settings) while frames are offered: the driver must
// keep their buffers until the NIC reports them sent (DD), however long
// that takes, and never hand over the whole ring (TDT == TDH would say
// "empty"). More frames than the ring holds are offered: the driver takes
// ring_size - 1. Enabled again, the queue sends them all, every byte
// intact. Port 1 sends: its transmit rings are empty since test_reset
// initialized it again.
static void test_paused(void)
{
	uint32_t subtest = 650, count = ring_size + 16;
	struct ixgbe_dev *dev = &ports[1];
	struct tally t = { 0 };

	make_flow(0, 1, 0, IPPROTO_UDP, subtest);
	uint32_t txdctl = ixgbe_read(dev, IXGBE_TXDCTL(0));
	ixgbe_write(dev, IXGBE_TXDCTL(0), txdctl & ~IXGBE_TXDCTL_ENABLE);
	short_send_expected = true;
	uint32_t took = send(0, 0, 0, count, IXGBE_TX_RS_THRESH, subtest);
	short_send_expected = false;
	ixgbe_write(dev, IXGBE_TXDCTL(0), txdctl);
	receive(0, -1, took, BATCH_MAX, subtest, &t);
	uint32_t stray = discard_all(0) + discard_all(1);
	report(took == ring_size - 1 && t.received == took && t.bad + stray == 0,
	       "paused: port 1's transmit queue 0 disabled, took %u of %u frames; enabled, received %u in "
	       "order, %u bad, %u stray", took, count, t.received, t.bad, stray);
}

// A transmit descriptor whose buffer is at a bus address with no memory
// (emulated NIC only: a real one would fault on the bus, or the IOMMU
// stop it): the NIC stops that queue, the others go on, and a new init
// brings it back.
static void test_bad_dma(void)
{
	uint32_t subtest = 700;
	int bad_q = nqueues - 1, good_q = 0;
	struct tally good = { 0 }, again = { 0 };

	make_flow(0, 0, 1, IPPROTO_UDP, subtest);
	struct pktbuf *real = ixgbe_alloc(&ports[0], bad_q), fake = *real, *frame = &fake;
	uint16_t len = build_frame(real->data, 0, tag_of(subtest, 0), 0);
	pktbuf_free(real);
	fake.bus = 1ull << 45;
	int took = ixgbe_tx_burst(&ports[0], bad_q, &frame, &len, 1);
	int stopped = ixgbe_stopped_queues(&ports[0]);
	uint32_t good_sent = 0;
	if (good_q != bad_q) {
		good_sent = send(0, good_q, 0, 10, 8, subtest);
		receive(1, -1, 10, 8, subtest, &good);
	}
	int r = ixgbe_init(&ports[0], 0, nqueues, ring_size);
	int stopped_after = ixgbe_stopped_queues(&ports[0]);
	uint32_t sent_after = send(0, bad_q, good_sent, 10, 8, subtest);
	receive(1, -1, 10, 8, subtest, &again);
	uint32_t stray = discard_all(0) + discard_all(1);
	report(took == 1 && stopped == 1 && good.received == good_sent &&
	       (good_q == bad_q || good_sent == 10) && r == 0 && stopped_after == 0 &&
	       sent_after == 10 && again.received == 10 && good.bad + again.bad + stray == 0,
	       "bad dma: queue %d stopped (%d stopped), queue %d then sent %u, received %u; "
	       "re-initialized (%d), queue %d sent %u, received %u, %u bad, %u stray", bad_q,
	       stopped, good_q, good_sent, good.received, r, bad_q, sent_after, again.received,
	       good.bad + again.bad, stray);
}

// The NIC's counters, accumulated by the driver across the resets of
// the subtests, against what nictest sent: every frame one port sent
// reached the other's memory but those dropped for want of a
// descriptor; the per-queue counters add up to the port's.
static void test_stats(void)
{
	struct ixgbe_stats s[2];
	bool ok = true;

	for (int p = 0; p < 2; p++)
		ixgbe_stats(&ports[p], &s[p]);
	for (int p = 0; p < 2; p++) {
		uint64_t queue_rx = 0, queue_tx = 0, drops = 0;
		for (int q = 0; q < nqueues; q++) {
			queue_rx += s[p].queue_rx[q];
			queue_tx += s[p].queue_tx[q];
			drops += s[p].queue_drop[q];
		}
		ok = ok && s[p].tx_packets == frames_sent[p] && s[p].tx_bytes == bytes_sent[p] &&
		     s[p].rx_packets == frames_sent[1 - p] - drops && queue_rx == s[p].rx_packets &&
		     queue_tx == s[p].tx_packets && s[p].rx_missed == 0 && s[p].crc_errors == 0;
		printf("nictest: stats of port %d: sent %lu frames, %lu bytes; received %lu "
		       "frames, %lu bytes; dropped %lu, missed %lu\n", p, s[p].tx_packets,
		       s[p].tx_bytes, s[p].rx_packets, s[p].rx_bytes, drops, s[p].rx_missed);
	}
	report(ok, "stats: port 0 sent %lu frames, %lu bytes, port 1 %lu frames, %lu bytes",
	       frames_sent[0], bytes_sent[0], frames_sent[1], bytes_sent[1]);
}

// The Toeplitz hash (ix/hw/rss.c) against the verification suite of
// Microsoft's RSS specification, which the 82599 datasheet's 7.1.2.8.1
// repeats: five IPv4 packets under the key the driver gives, each hashed
// over its addresses and over addresses and ports; then the hashes of a
// flow drawn from the seed, which the grader computes. Needs no NIC.
static void test_toeplitz(void)
{
	static const struct {
		uint8_t src[4], dst[4];
		uint16_t sport, dport;
		uint32_t ipv4, ipv4_tcp;
	} suite[] = {
		{ { 66, 9, 149, 187 }, { 161, 142, 100, 80 }, 2794, 1766, 0x323e8fc2, 0x51ccc178 },
		{ { 199, 92, 111, 2 }, { 65, 69, 140, 83 }, 14230, 4739, 0xd718262a, 0xc626b0ea },
		{ { 24, 19, 198, 95 }, { 12, 22, 207, 184 }, 12898, 38024, 0xd2d0a5de, 0x5c2b394a },
		{ { 38, 27, 205, 30 }, { 209, 142, 163, 6 }, 48228, 2217, 0x82989176, 0xafc7327f },
		{ { 153, 39, 163, 191 }, { 202, 188, 127, 2 }, 44251, 1303, 0x5d1809c5, 0x10e828a2 },
	};
	uint8_t input[RSS_IPV4_INPUT_SIZE];
	int right = 0, total = 0;

	for (size_t i = 0; i < sizeof(suite) / sizeof(suite[0]); i++) {
		rss_ipv4_input(input, get32(suite[i].src), get32(suite[i].dst), suite[i].sport,
			       suite[i].dport);
		right += rss_toeplitz(ixgbe_rss_key, input, RSS_IPV4_ADDRS_SIZE) == suite[i].ipv4;
		right += rss_toeplitz(ixgbe_rss_key, input, sizeof(input)) == suite[i].ipv4_tcp;
		total += 2;
	}
	make_flow(0, 0, 1, IPPROTO_TCP, 800);
	rss_ipv4_input(input, flows[0].src_ip, flows[0].dst_ip, flows[0].sport, flows[0].dport);
	report(right == total, "toeplitz: verification suite %d of %d, flow hashes 0x%08x 0x%08x",
	       right, total, rss_toeplitz(ixgbe_rss_key, input, RSS_IPV4_ADDRS_SIZE),
	       rss_toeplitz(ixgbe_rss_key, input, sizeof(input)));
}

static void print_port(const struct ixgbe_dev *dev)
{
	const uint8_t *m = dev->mac;

	printf("nictest: port %d (%s): mac %02x:%02x:%02x:%02x:%02x:%02x, link %s %u Mb/s, "
	       "%d queues of %u descriptors\n", dev->port, dev->emulated ? "emulated" : "real",
	       m[0], m[1], m[2], m[3], m[4], m[5], dev->link_up ? "up" : "down",
	       dev->link_mbps, dev->nqueues, dev->ring_size);
}

int main(int argc, char **argv)
{
	seed = argc > 1 ? strtoul(argv[1], NULL, 0) : 1;
	nqueues = argc > 2 ? (int)strtoul(argv[2], NULL, 0) : 4;
	ring_size = argc > 3 ? strtoul(argv[3], NULL, 0) : 128;
	printf("nictest: seed %lu\n", seed);
	// A ring must hold a whole burst, and one frame of every RSS flow.
	if (nqueues < 1 || nqueues > IXGBE_MAX_QUEUES || ring_size < 2 * BATCH_MAX) {
		printf("nictest: %d queues of %u descriptors: want 1-%d queues of at least %d\n",
		       nqueues, ring_size, IXGBE_MAX_QUEUES, 2 * BATCH_MAX);
		return 100;
	}
	test_toeplitz();
	for (int p = 0; p < 2; p++) {
		int r = ixgbe_init(&ports[p], p, nqueues, ring_size);
		if (r < 0) {
			printf("nictest: port %d: ixgbe_init: %s\n", p, strerror(r));
			return 100;
		}
		print_port(&ports[p]);
	}
	static const int batches[] = { 1, 8, 32, 64 };
	for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++)
		test_both_ways(batches[i]);
	test_wrap();
	test_rss();
	test_full_ring();
	test_interrupt();
	test_reset();
	test_paused();
	// A real NIC would write through the bad address (there is no IOMMU).
	if (ports[0].emulated)
		test_bad_dma();
	else
		printf("nictest: bad dma: skipped on a real 82599\n");
	test_stats();
	printf("nictest: %d of %d subtests passed\n", passed, passed + failed);
	return failed;
}
