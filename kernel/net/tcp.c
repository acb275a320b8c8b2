// A TCP echo service (RFC 9293), one connection at a time, on the echo
// port: every byte that arrives in order goes back at once, in a segment
// that also acknowledges it; a FIN is answered with a FIN.
//
// It keeps no retransmission queue. What it has not acknowledged the peer
// sends again, so it acknowledges a segment only once its echo is on the
// NIC's ring: a segment out of order, or one whose echo the ring has no
// room for, gets a bare acknowledgement of what came before (and is
// counted). Echoes once sent are not lost on an emulator's user network,
// which is what this serves; a lost one would stall the connection.
//
// States (RFC 9293 3.3.2): LISTEN -SYN-> SYN-RECEIVED -ACK-> ESTABLISHED
// -FIN-> (our FIN sent) LAST-ACK -ACK-> LISTEN. A RST from the peer
// returns to LISTEN from any state.

#include <stdbool.h>

#include "lib/string.h"
#include "net/net.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_WINDOW 8192         // what we advertise; echoes go out at once
#define TCP_MAX_SEGMENT 1460    // what an Ethernet frame holds

struct __attribute__((packed)) tcp_header {
	uint16_t src_port, dst_port;
	uint32_t seq, ack;
	uint8_t data_offset;    // header length in dwords, in bits 7:4
	uint8_t flags;
	uint16_t window;
	uint16_t checksum;
	uint16_t urgent;
};

enum tcp_state { TCP_LISTEN, TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_LAST_ACK };

// The one connection (RFC 9293 3.3.1's names for the sequence variables).
static struct {
	enum tcp_state state;
	uint8_t peer_mac[ETH_ALEN];
	uint32_t peer_ip;
	uint16_t peer_port;
	uint32_t snd_nxt;       // the next sequence number we send
	uint32_t rcv_nxt;       // the next one we expect
	uint32_t iss;           // our initial sequence number
} conn;

// Sends a segment of the connection with these flags and data. Returns
// 0, or < 0 if the NIC's ring was full.
static int send_segment(uint8_t flags, const void *data, size_t len)
{
	static uint8_t seg[sizeof(struct tcp_header) + TCP_MAX_SEGMENT];
	struct tcp_header *t = (struct tcp_header *)seg;

	*t = (struct tcp_header){
		.src_port = net_htons(net_iface.echo_port),
		.dst_port = net_htons(conn.peer_port),
		.seq = net_htonl(conn.snd_nxt),
		.ack = net_htonl(conn.rcv_nxt),
		.data_offset = sizeof(*t) / 4 << 4,
		.flags = flags,
		.window = net_htons(TCP_WINDOW),
	};
	memcpy(t + 1, data, len);
	struct ip_header ip = { .src = net_htonl(net_iface.ip), .dst = net_htonl(conn.peer_ip) };
	t->checksum = net_htons(net_checksum_finish(ip_pseudo_sum(&ip, IP_PROTO_TCP, seg,
								  sizeof(*t) + len)));
	int r = ip_send(conn.peer_mac, conn.peer_ip, IP_PROTO_TCP, seg, sizeof(*t) + len);
	if (r < 0)
		net_stats.send_failed++;
	else
		net_stats.tcp_segments++;
	return r;
}

// A SYN to the echo port: a new connection (the old one, if any, is
// dropped: one at a time).
static void accept_syn(const struct ip_header *ip, const struct tcp_header *t,
		       const uint8_t mac[ETH_ALEN])
{
	memcpy(conn.peer_mac, mac, ETH_ALEN);
	conn.peer_ip = net_ntohl(ip->src);
	conn.peer_port = net_ntohs(t->src_port);
	conn.rcv_nxt = net_ntohl(t->seq) + 1;
	conn.iss = 0x10000 * (uint32_t)(net_stats.tcp_accepted + 1);
	conn.snd_nxt = conn.iss;
	if (send_segment(TCP_SYN | TCP_ACK, NULL, 0) < 0) {
		conn.state = TCP_LISTEN;        // the peer sends its SYN again
		return;
	}
	conn.snd_nxt++;
	conn.state = TCP_SYN_RECEIVED;
	net_stats.tcp_accepted++;
}

// Data and FIN of a segment that starts at rcv_nxt.
static void take_segment(const struct tcp_header *t, const uint8_t *data, size_t len)
{
	if (len > 0) {
		if (len > TCP_MAX_SEGMENT || conn.state != TCP_ESTABLISHED) {
			net_stats.tcp_unacked++;
			send_segment(TCP_ACK, NULL, 0);
			return;
		}
		conn.rcv_nxt += len;
		if (send_segment(TCP_ACK | TCP_PSH, data, len) < 0) {
			conn.rcv_nxt -= len;    // not acknowledged: it comes again
			net_stats.tcp_unacked++;
			return;
		}
		conn.snd_nxt += len;
		net_stats.tcp_bytes += len;
		if (len == 4 && memcmp(data, "quit", 4) == 0)
			net_stats.quit_requests++;
	}
	if ((t->flags & TCP_FIN) && conn.state == TCP_ESTABLISHED) {
		conn.rcv_nxt++;
		if (send_segment(TCP_FIN | TCP_ACK, NULL, 0) < 0) {
			conn.rcv_nxt--;
			return;
		}
		conn.snd_nxt++;
		conn.state = TCP_LAST_ACK;
	}
}

void tcp_input(const struct ip_header *ip, const uint8_t *seg, size_t len,
	       const uint8_t src_mac[ETH_ALEN])
{
	const struct tcp_header *t = (const struct tcp_header *)seg;
	size_t hlen = len >= sizeof(*t) ? (t->data_offset >> 4) * 4u : 0;

	if (hlen < sizeof(*t) || hlen > len ||
	    net_checksum_finish(ip_pseudo_sum(ip, IP_PROTO_TCP, seg, len)) != 0) {
		net_stats.malformed++;
		return;
	}
	if (net_ntohs(t->dst_port) != net_iface.echo_port) {
		net_stats.ignored++;
		return;
	}
	if ((t->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
		accept_syn(ip, t, src_mac);
		return;
	}
	bool ours = conn.state != TCP_LISTEN && net_ntohl(ip->src) == conn.peer_ip &&
		    net_ntohs(t->src_port) == conn.peer_port;
	if (!ours) {
		net_stats.ignored++;
		return;
	}
	if (t->flags & TCP_RST) {
		conn.state = TCP_LISTEN;
		net_stats.tcp_reset++;
		return;
	}
	if (!(t->flags & TCP_ACK))
		return;
	uint32_t ack = net_ntohl(t->ack);
	if (conn.state == TCP_SYN_RECEIVED && ack == conn.iss + 1)
		conn.state = TCP_ESTABLISHED;
	if (conn.state == TCP_LAST_ACK && ack == conn.snd_nxt) {
		conn.state = TCP_LISTEN;
		net_stats.tcp_closed++;
		return;
	}
	size_t data_len = len - hlen;
	if (net_ntohl(t->seq) != conn.rcv_nxt) {
		// Out of order, or again: say what we expect.
		if (data_len > 0 || (t->flags & TCP_FIN)) {
			net_stats.tcp_unacked++;
			send_segment(TCP_ACK, NULL, 0);
		}
		return;
	}
	take_segment(t, seg + hlen, data_len);
}
