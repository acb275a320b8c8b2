// IPv4 (RFC 791) to our address: ICMP echo requests (RFC 792) and UDP
// datagrams to the echo port (RFC 768) are answered, TCP goes to tcp.c;
// the rest is ignored.

#include "lib/errno.h"
#include "lib/string.h"
#include "net/net.h"

#define IP_VERSION 4
#define IP_FLAG_MF 0x2000       // more fragments
#define IP_FRAGMENT_OFFSET 0x1FFF
#define IP_TTL 64
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

struct __attribute__((packed)) icmp_header {
	uint8_t type, code;
	uint16_t checksum;
	uint16_t id, sequence;
};

struct __attribute__((packed)) udp_header {
	uint16_t src_port, dst_port;
	uint16_t length;        // header and data
	uint16_t checksum;      // 0: none (IPv4 only)
};

// Replies are built here (and frames in ip_send): net_input runs for one
// frame at a time (net/net.h).
static uint8_t reply[ETH_MAX_FRAME];

uint32_t ip_pseudo_sum(const struct ip_header *ip, uint8_t protocol, const void *data,
		       size_t len)
{
	uint8_t pseudo[12];

	memcpy(pseudo, &ip->src, 4);
	memcpy(pseudo + 4, &ip->dst, 4);
	pseudo[8] = 0, pseudo[9] = protocol;
	pseudo[10] = len >> 8, pseudo[11] = len;
	return net_checksum_add(net_checksum_add(0, pseudo, sizeof(pseudo)), data, len);
}

// A datagram whose checksum is right sums to all ones with its
// pseudo-header (RFC 768).
static uint32_t udp_sum(const struct ip_header *ip, const uint8_t *udp, size_t len)
{
	return ip_pseudo_sum(ip, IP_PROTO_UDP, udp, len);
}

int ip_send(const uint8_t mac[ETH_ALEN], uint32_t dst, uint8_t protocol, const void *payload,
	    size_t len)
{
	static uint8_t frame[ETH_MAX_FRAME];
	static uint16_t next_id;
	struct eth_header *eth = (struct eth_header *)frame;
	struct ip_header *ip = (struct ip_header *)(frame + ETH_HEADER_LEN);

	if (len > ETH_MAX_FRAME - ETH_HEADER_LEN - sizeof(*ip))
		return -EINVAL;
	memcpy(eth->dst, mac, ETH_ALEN);
	memcpy(eth->src, net_iface.mac, ETH_ALEN);
	eth->type = net_htons(ETH_TYPE_IPV4);
	*ip = (struct ip_header){
		.version_ihl = IP_VERSION << 4 | sizeof(*ip) / 4,
		.total_length = net_htons(sizeof(*ip) + len),
		.id = net_htons(next_id++),
		.ttl = IP_TTL,
		.protocol = protocol,
		.src = net_htonl(net_iface.ip),
		.dst = net_htonl(dst),
	};
	ip->checksum = net_htons(net_checksum_finish(net_checksum_add(0, ip, sizeof(*ip))));
	memcpy(ip + 1, payload, len);
	return net_iface.send(frame, ETH_HEADER_LEN + sizeof(*ip) + len);
}

// Turns the copy of the request in `reply` into its answer's IP header:
// addresses swapped, a fresh TTL, the header checksum.
static void ip_answer(struct ip_header *ip)
{
	uint32_t src = ip->src;

	ip->src = ip->dst;
	ip->dst = src;
	ip->ttl = IP_TTL;
	ip->flags_fragment = 0;
	ip->checksum = 0;
	size_t hlen = (ip->version_ihl & 0xF) * 4;
	ip->checksum = net_htons(net_checksum_finish(net_checksum_add(0, ip, hlen)));
}

static void icmp_input(size_t frame_len, struct ip_header *ip, uint8_t *data, size_t len)
{
	struct icmp_header *icmp = (struct icmp_header *)data;

	if (len < sizeof(*icmp) || net_checksum_finish(net_checksum_add(0, data, len)) != 0) {
		net_stats.malformed++;
		return;
	}
	if (icmp->type != ICMP_ECHO_REQUEST || icmp->code != 0) {
		net_stats.ignored++;
		return;
	}
	icmp->type = ICMP_ECHO_REPLY;
	icmp->checksum = 0;
	icmp->checksum = net_htons(net_checksum_finish(net_checksum_add(0, data, len)));
	ip_answer(ip);
	net_stats.icmp_echoes++;
	net_reply(reply, frame_len);
}

static void udp_input(size_t frame_len, struct ip_header *ip, uint8_t *data, size_t len)
{
	struct udp_header *udp = (struct udp_header *)data;

	if (len < sizeof(*udp) || net_ntohs(udp->length) < sizeof(*udp) ||
	    net_ntohs(udp->length) > len) {
		net_stats.malformed++;
		return;
	}
	len = net_ntohs(udp->length);
	if (udp->checksum != 0 && net_checksum_finish(udp_sum(ip, data, len)) != 0) {
		net_stats.malformed++;
		return;
	}
	if (net_ntohs(udp->dst_port) != net_iface.echo_port) {
		net_stats.ignored++;
		return;
	}
	uint16_t port = udp->src_port;
	udp->src_port = udp->dst_port;
	udp->dst_port = port;
	ip_answer(ip);
	udp->checksum = 0;
	uint16_t sum = net_checksum_finish(udp_sum(ip, data, len));
	udp->checksum = net_htons(sum == 0 ? 0xFFFF : sum);     // 0 would mean none
	net_stats.udp_echoes++;
	if (len == sizeof(*udp) + 4 && memcmp(udp + 1, "quit", 4) == 0)
		net_stats.quit_requests++;
	net_reply(reply, frame_len);
}

void ip_input(const uint8_t *frame, size_t len)
{
	const struct ip_header *in = (const struct ip_header *)(frame + ETH_HEADER_LEN);
	size_t hlen = len >= ETH_HEADER_LEN + sizeof(*in) ? (in->version_ihl & 0xF) * 4u : 0;

	if (hlen < sizeof(*in) || (in->version_ihl >> 4) != IP_VERSION ||
	    len < ETH_HEADER_LEN + (size_t)net_ntohs(in->total_length) ||
	    net_ntohs(in->total_length) < hlen ||
	    net_checksum_finish(net_checksum_add(0, in, hlen)) != 0) {
		net_stats.malformed++;
		return;
	}
	if (net_ntohl(in->dst) != net_iface.ip ||
	    (net_ntohs(in->flags_fragment) & (IP_FLAG_MF | IP_FRAGMENT_OFFSET))) {
		net_stats.ignored++;
		return;
	}
	// Work on a copy cut to the datagram's length (the frame may carry padding).
	size_t frame_len = ETH_HEADER_LEN + net_ntohs(in->total_length);
	memcpy(reply, frame, frame_len);
	struct ip_header *ip = (struct ip_header *)(reply + ETH_HEADER_LEN);
	uint8_t *data = reply + ETH_HEADER_LEN + hlen;
	size_t data_len = frame_len - ETH_HEADER_LEN - hlen;
	switch (ip->protocol) {
	case IP_PROTO_ICMP:
		icmp_input(frame_len, ip, data, data_len);
		break;
	case IP_PROTO_UDP:
		udp_input(frame_len, ip, data, data_len);
		break;
	case IP_PROTO_TCP:
		tcp_input(ip, data, data_len, ((const struct eth_header *)frame)->src);
		break;
	default:
		net_stats.ignored++;
	}
}
