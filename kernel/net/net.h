// What the kernel does on the network: it answers ARP requests for its
// own IPv4 address, ICMP echo requests (ping), UDP datagrams to its echo
// port, which it sends back as they came, and a TCP connection at a time
// to the same port, whose bytes it echoes (net/tcp.c). A datagram or a
// segment that says just "quit" is counted, so that whoever serves knows
// a client is done. Nothing else: no routing,
// no ARP cache (a reply goes to the frame's sender), no fragments.
//
// Sources: RFC 826 (ARP), RFC 791 (IPv4), RFC 792 (ICMP), RFC 768 (UDP),
// RFC 9293 (TCP),
// RFC 1071 (the Internet checksum); IEEE 802.3 for the Ethernet header.
// Multi-byte fields on the wire are big-endian.

#ifndef KERNEL_NET_NET_H
#define KERNEL_NET_NET_H

#include <stddef.h>
#include <stdint.h>

#define ETH_ALEN 6
#define ETH_HEADER_LEN 14
#define ETH_MAX_FRAME 1514      // without the CRC
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806

struct __attribute__((packed)) eth_header {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;
};

#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17

struct __attribute__((packed)) ip_header {
	uint8_t version_ihl;    // version (4) and header length in dwords
	uint8_t tos;
	uint16_t total_length;
	uint16_t id;
	uint16_t flags_fragment;
	uint8_t ttl;
	uint8_t protocol;
	uint16_t checksum;
	uint32_t src, dst;
};

struct net_stats {
	uint64_t arp_replies;   // ARP requests for our address answered
	uint64_t icmp_echoes;   // pings answered
	uint64_t udp_echoes;    // datagrams echoed
	uint64_t ignored;       // frames not for us or of no protocol we serve
	uint64_t malformed;     // too short, a bad checksum or length
	uint64_t send_failed;   // replies the NIC could not take
	uint64_t quit_requests; // echoed datagrams or TCP data that said exactly "quit"
	uint64_t tcp_accepted;  // connections to the echo port
	uint64_t tcp_closed;    // closed by FIN both ways
	uint64_t tcp_reset;     // ended by a reset from the peer
	uint64_t tcp_segments;  // sent
	uint64_t tcp_bytes;     // echoed
	uint64_t tcp_unacked;   // segments left unacknowledged (no room to echo, out of order)
};

extern struct net_stats net_stats;

// Starts serving on this MAC and IPv4 address (host byte order), UDP
// echo on echo_port; replies are sent with send(frame, len).
void net_init(const uint8_t mac[ETH_ALEN], uint32_t ip, uint16_t echo_port,
	      int (*send)(const void *frame, size_t len));
// One received Ethernet frame (without its CRC). Called for one frame at
// a time (the e1000's bottom half holds its receive lock): the services
// build their replies in static buffers.
void net_input(const void *frame, size_t len);

// The counters as two lines, "net: arp replies N, ..." and "net: tcp
// connections N, ...", for the kernel's and a user program's output
// alike. Returns what snprintf returns.
int net_format_stats(char *buf, size_t size);

// "a.b.c.d" to a host-order address; 0 if malformed.
uint32_t net_parse_ip(const char *s);

// For arp.c and ip.c.
struct net_iface {
	uint8_t mac[ETH_ALEN];
	uint32_t ip;
	uint16_t echo_port;
	int (*send)(const void *frame, size_t len);
};
extern struct net_iface net_iface;
void arp_input(const uint8_t *frame, size_t len);
void ip_input(const uint8_t *frame, size_t len);
// A TCP segment for us (tcp.c): its IP header, the segment, its length,
// and the MAC address it came from.
void tcp_input(const struct ip_header *ip, const uint8_t *seg, size_t len,
	       const uint8_t src_mac[ETH_ALEN]);
// The partial checksum of the pseudo-header of UDP and TCP (RFC 768,
// RFC 9293 3.1) and of the len bytes at data.
uint32_t ip_pseudo_sum(const struct ip_header *ip, uint8_t protocol, const void *data,
		       size_t len);
// Sends an IPv4 datagram of protocol with this payload to ip at mac.
// Returns 0, -EINVAL if it does not fit a frame, or what the NIC's send
// returned.
int ip_send(const uint8_t mac[ETH_ALEN], uint32_t ip, uint8_t protocol, const void *payload,
	    size_t len);
// Sends a frame built in place, its Ethernet header addressed back to
// the sender of the frame that it answers.
void net_reply(uint8_t *frame, size_t len);

static inline uint16_t net_htons(uint16_t v) { return __builtin_bswap16(v); }
static inline uint32_t net_htonl(uint32_t v) { return __builtin_bswap32(v); }
#define net_ntohs net_htons
#define net_ntohl net_htonl

// RFC 1071: the ones' complement sum of 16-bit words, folded, added to
// sum (a partial sum, e.g. of a pseudo-header); net_checksum_finish
// complements it.
uint32_t net_checksum_add(uint32_t sum, const void *data, size_t len);
uint16_t net_checksum_finish(uint32_t sum);

#endif
