// The dataplane's neighbour table and ARP (neigh.h).

#include "ix/dp/neigh.h"
#include "ulib.h"

#define NEIGH_MAX 32            // neighbours at once; the oldest learned gives way
#define NEIGH_ASK_MS 100        // between two requests for one address
#define ARP_FRAME_LEN 42        // Ethernet header (14) and ARP for IPv4 (28)
#define ETH_FRAME_MIN 60        // without CRC (IEEE 802.3 3.2.8)
#define ARP_REQUEST 1
#define ARP_REPLY 2

struct neigh {
	uint32_t ip;            // 0: free
	uint8_t mac[6];         // valid when known
	bool known;
	uint64_t asked_ms;      // the last request for it
	uint64_t learned;       // when, in learnings: the oldest gives way
};

// An Ethernet frame holding ARP for IPv4 over Ethernet.
struct arp_frame {
	uint8_t dst[6], src[6];
	uint8_t type[2];
	uint8_t htype[2], ptype[2], hlen, plen, oper[2];
	uint8_t sha[6], spa[4], tha[6], tpa[4];
} __attribute__((packed));

_Static_assert(sizeof(struct arp_frame) == ARP_FRAME_LEN, "struct arp_frame is ARP's layout");

static struct neigh table[NEIGH_MAX];
static uint64_t learnings;
static struct neigh_stats stats;        // each count added to atomically (every core's)
static bool locked;             // the table's lock
static uint32_t my_ip;
static uint8_t my_mac[6];
static uint64_t clock_rate;     // ms_clock_read's: the time without a system call

static void lock(void)
{
	while (__atomic_test_and_set(&locked, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void unlock(void)
{
	__atomic_clear(&locked, __ATOMIC_RELEASE);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

// ip's entry, or a new one for it (the oldest learned, if all are
// taken). Called with the lock held.
static struct neigh *entry(uint32_t ip)
{
	struct neigh *victim = &table[0];

	for (struct neigh *n = table; n < table + NEIGH_MAX; n++) {
		if (n->ip == ip)
			return n;
		if (n->ip == 0 || (victim->ip != 0 && n->learned < victim->learned))
			victim = n;
	}
	memset(victim, 0, sizeof(*victim));
	victim->ip = ip;
	return victim;
}

void neigh_init(uint32_t ip, const uint8_t mac[6])
{
	my_ip = ip;
	memcpy(my_mac, mac, sizeof(my_mac));
	clock_rate = ms_clock_rate();
}

static void learn(uint32_t ip, const uint8_t mac[6])
{
	lock();
	struct neigh *n = entry(ip);
	memcpy(n->mac, mac, sizeof(n->mac));
	n->known = true;
	n->learned = ++learnings;
	unlock();
}

// Fills f as an ARP message oper from us to (tha, tpa), sent to dst.
static void arp_fill(struct arp_frame *f, int oper, const uint8_t dst[6], const uint8_t tha[6],
		     uint32_t tpa)
{
	memcpy(f->dst, dst, 6);
	memcpy(f->src, my_mac, 6);
	put16(f->type, ETH_TYPE_ARP);
	put16(f->htype, 1);
	put16(f->ptype, ETH_TYPE_IPV4);
	f->hlen = 6;
	f->plen = 4;
	put16(f->oper, (uint16_t)oper);
	memcpy(f->sha, my_mac, 6);
	put32(f->spa, my_ip);
	memcpy(f->tha, tha, 6);
	put32(f->tpa, tpa);
}

// Sends b, len bytes, on queue q alone (ARP is rare: its own tail write).
static void send_frame(struct ixgbe_dev *dev, int q, struct pktbuf *b, uint16_t len)
{
	if (ixgbe_tx_burst(dev, q, &b, &len, 1) == 1)
		__atomic_fetch_add(&stats.sent, 1, __ATOMIC_RELAXED);
	else
		pktbuf_free(b);
}

void neigh_input(struct ixgbe_dev *dev, int q, struct pktbuf *b)
{
	struct arp_frame *f = (struct arp_frame *)b->data;

	__atomic_fetch_add(&stats.received, 1, __ATOMIC_RELAXED);
	if (b->len < ARP_FRAME_LEN || get16(f->htype) != 1 || get16(f->ptype) != ETH_TYPE_IPV4 ||
	    f->hlen != 6 || f->plen != 4) {
		pktbuf_free(b);
		return;
	}
	uint32_t spa = get32(f->spa), tpa = get32(f->tpa);
	int oper = get16(f->oper);
	if (spa != 0 && (tpa == my_ip || oper == ARP_REPLY))
		learn(spa, f->sha);
	if (oper != ARP_REQUEST || tpa != my_ip) {
		pktbuf_free(b);
		return;
	}
	uint8_t sha[6];
	memcpy(sha, f->sha, sizeof(sha));
	memset(b->data, 0, ETH_FRAME_MIN);
	arp_fill(f, ARP_REPLY, sha, sha, spa);
	send_frame(dev, q, b, ETH_FRAME_MIN);
}

// Sends a request for ip on queue q.
static void ask(struct ixgbe_dev *dev, int q, uint32_t ip)
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t unknown[6];
	struct pktbuf *b = ixgbe_alloc(dev, q);

	if (b == NULL)
		return;
	memset(b->data, 0, ETH_FRAME_MIN);
	arp_fill((struct arp_frame *)b->data, ARP_REQUEST, broadcast, unknown, ip);
	send_frame(dev, q, b, ETH_FRAME_MIN);
}

bool neigh_resolve(struct ixgbe_dev *dev, int q, uint32_t ip, uint8_t mac[6])
{
	bool asking = false;

	// Every frame sent comes here: the time is read only for a neighbour
	// still unknown, and from the TSC (a system call is a VM exit).
	lock();
	struct neigh *n = entry(ip);
	bool known = n->known;
	if (known) {
		memcpy(mac, n->mac, 6);
	} else {
		uint64_t now = ms_clock_read(clock_rate);
		asking = n->asked_ms == 0 || now - n->asked_ms >= NEIGH_ASK_MS;
		if (asking)
			n->asked_ms = now;
	}
	unlock();
	if (asking)
		ask(dev, q, ip);
	return known;
}

struct neigh_stats neigh_stats(void)
{
	return (struct neigh_stats){
		__atomic_load_n(&stats.received, __ATOMIC_RELAXED),
		__atomic_load_n(&stats.sent, __ATOMIC_RELAXED),
	};
}
