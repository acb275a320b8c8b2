// Ethernet: frames to our MAC or to everyone, by type (net/net.h).

#include "lib/printfmt.h"
#include "lib/string.h"
#include "net/net.h"

struct net_stats net_stats;
struct net_iface net_iface;

void net_init(const uint8_t mac[ETH_ALEN], uint32_t ip, uint16_t echo_port,
	      int (*send)(const void *frame, size_t len))
{
	memcpy(net_iface.mac, mac, ETH_ALEN);
	net_iface.ip = ip;
	net_iface.echo_port = echo_port;
	net_iface.send = send;
}

void net_input(const void *frame, size_t len)
{
	static const uint8_t broadcast[ETH_ALEN] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
	const struct eth_header *eth = frame;

	if (len < ETH_HEADER_LEN) {
		net_stats.malformed++;
		return;
	}
	if (memcmp(eth->dst, net_iface.mac, ETH_ALEN) != 0 &&
	    memcmp(eth->dst, broadcast, ETH_ALEN) != 0) {
		net_stats.ignored++;
		return;
	}
	switch (net_ntohs(eth->type)) {
	case ETH_TYPE_ARP:
		arp_input(frame, len);
		break;
	case ETH_TYPE_IPV4:
		ip_input(frame, len);
		break;
	default:
		net_stats.ignored++;
	}
}

void net_reply(uint8_t *frame, size_t len)
{
	struct eth_header *eth = (struct eth_header *)frame;

	memcpy(eth->dst, eth->src, ETH_ALEN);
	memcpy(eth->src, net_iface.mac, ETH_ALEN);
	if (net_iface.send(frame, len) < 0)
		net_stats.send_failed++;
}

uint32_t net_checksum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len >= 2; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return sum;
}

uint16_t net_checksum_finish(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t net_parse_ip(const char *s)
{
	uint32_t ip = 0;

	for (int part = 0; part < 4; part++) {
		uint32_t v = 0;
		int digits = 0;
		for (; *s >= '0' && *s <= '9' && digits < 3; s++, digits++)
			v = v * 10 + (*s - '0');
		if (digits == 0 || v > 255 || *s != (part < 3 ? '.' : '\0'))
			return 0;
		if (part < 3)
			s++;
		ip = ip << 8 | v;
	}
	return ip;
}

int net_format_stats(char *buf, size_t size)
{
	const struct net_stats *n = &net_stats;

	return snprintf(buf, size,
			"net: arp replies %lu, icmp echoes %lu, udp echoes %lu, ignored %lu, "
			"malformed %lu, send failed %lu\n"
			"net: tcp connections %lu, closed %lu, reset %lu, segments sent %lu, "
			"bytes echoed %lu, segments left unacknowledged %lu\n",
			n->arp_replies, n->icmp_echoes, n->udp_echoes, n->ignored, n->malformed,
			n->send_failed, n->tcp_accepted, n->tcp_closed, n->tcp_reset,
			n->tcp_segments, n->tcp_bytes, n->tcp_unacked);
}
