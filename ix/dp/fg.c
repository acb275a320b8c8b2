// Flow groups (fg.h): the instances, and which flow group a frame or a
// flow belongs to.

#include "ix/dp/fg.h"
#include "ix/dp/neigh.h"
#include "ix/hw/rss.h"

#define IPV4_PROTO_TCP 6
#define IPV4_PROTO_UDP 17
#define IPV4_HEADER_MIN 20

// fg_ops_N is copy N's fg_ops (ix/Makefrag makes the copies).
#define FG_DECLARE(n) extern const struct fg_ops fg_ops_##n;
#define FG_ENTRY(n) &fg_ops_##n,
#define FG_EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
	X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

FG_EACH(FG_DECLARE)

const struct fg_ops *const fg_instances[] = { FG_EACH(FG_ENTRY) };

_Static_assert(sizeof(fg_instances) / sizeof(fg_instances[0]) == FG_COUNT,
	       "FG_EACH names FG_COUNT instances");

int fg_of_flow(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint8_t input[RSS_IPV4_INPUT_SIZE];
	size_t len = rss_ipv4_input(input, src, dst, sport, dport);

	return fg_of_hash(rss_toeplitz(ixgbe_rss_key, input, len));
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

// The 82599 hashes what the frame holds (7.1.2.8.1): an unfragmented
// TCP or UDP packet's addresses and ports, another IPv4 packet's
// addresses. Computed here when the NIC reported no hash (RSS off).
int fg_of_frame(const struct pktbuf *b)
{
	if (b->rss_type != 0)
		return fg_of_hash(b->rss_hash);
	const uint8_t *ip = b->data + ETH_HEADER_LEN;
	if (b->len < ETH_HEADER_LEN + IPV4_HEADER_MIN)
		return 0;
	unsigned ihl = (ip[0] & 0xF) * 4u;
	bool fragment = (be16(ip + 6) & 0x3FFF) != 0;
	bool ports = (ip[9] == IPV4_PROTO_TCP || ip[9] == IPV4_PROTO_UDP) && !fragment &&
		     b->len >= ETH_HEADER_LEN + ihl + 4;
	uint8_t input[RSS_IPV4_INPUT_SIZE];
	size_t len = rss_ipv4_input(input, be32(ip + 12), be32(ip + 16),
				    ports ? be16(ip + ihl) : 0, ports ? be16(ip + ihl + 2) : 0);

	return fg_of_hash(rss_toeplitz(ixgbe_rss_key, input, ports ? len : RSS_IPV4_ADDRS_SIZE));
}
