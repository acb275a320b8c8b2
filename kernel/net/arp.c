// ARP (RFC 826) for IPv4 over Ethernet: a request for our address gets
// a reply, sent to whoever asked. We never ask: replies go to the MAC
// address the request or datagram came from.

#include "lib/string.h"
#include "net/net.h"

#define ARP_HTYPE_ETHERNET 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct __attribute__((packed)) arp_packet {
	struct eth_header eth;
	uint16_t htype;         // hardware type: 1, Ethernet
	uint16_t ptype;         // protocol type: 0x0800, IPv4
	uint8_t hlen, plen;     // 6 and 4
	uint16_t op;
	uint8_t sha[ETH_ALEN];  // sender hardware and protocol address
	uint32_t spa;
	uint8_t tha[ETH_ALEN];  // target
	uint32_t tpa;
};

void arp_input(const uint8_t *frame, size_t len)
{
	struct arp_packet a;

	if (len < sizeof(a)) {
		net_stats.malformed++;
		return;
	}
	memcpy(&a, frame, sizeof(a));
	if (net_ntohs(a.htype) != ARP_HTYPE_ETHERNET || net_ntohs(a.ptype) != ETH_TYPE_IPV4 ||
	    a.hlen != ETH_ALEN || a.plen != 4) {
		net_stats.malformed++;
		return;
	}
	if (net_ntohs(a.op) != ARP_OP_REQUEST || net_ntohl(a.tpa) != net_iface.ip) {
		net_stats.ignored++;
		return;
	}
	a.op = net_htons(ARP_OP_REPLY);
	memcpy(a.tha, a.sha, ETH_ALEN);
	a.tpa = a.spa;
	memcpy(a.sha, net_iface.mac, ETH_ALEN);
	a.spa = net_htonl(net_iface.ip);
	net_stats.arp_replies++;
	net_reply((uint8_t *)&a, sizeof(a));
}
