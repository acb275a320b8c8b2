// nicecho [IP [PORT [SECONDS]]]: the network services of the kernel's
// own stack (kernel/net/net.h: ARP, ping, UDP and TCP echo on PORT), run
// in user space on port 0 of the 82599 through the ixgbe driver. With
// the bridge on (lab9.bridge: the port's wire is the emulator's e1000),
// clients on the host machine reach it through the emulator's port
// forward: e1000 -> bridge -> 82599 -> driver -> stack, and back.
//
// The loop is a dataplane's: receive a batch, hand each frame to the
// stack, send what it answers; with nothing received, wait for the
// port's interrupt. It ends at a "quit" (net_stats.quit_requests) or
// after SECONDS, and prints the stack's and the NIC's counters.

#include <stdbool.h>

#include "ix/drivers/ixgbe.h"
#include "lib/string.h"
#include "net/net.h"
#include "ulib.h"

#define BATCH 32
#define RING 256
#define WAIT_TICKS 1

static struct ixgbe_dev port;
static uint64_t tx_dropped;     // replies the ring had no room or buffer for

// The stack's send: one frame, copied into a buffer of the queue.
static int send_frame(const void *frame, size_t len)
{
	struct pktbuf *b = ixgbe_alloc(&port, 0);
	uint16_t n = (uint16_t)len;

	if (b == NULL || len > IXGBE_FRAME_MAX) {
		if (b != NULL)
			pktbuf_free(b);
		tx_dropped++;
		return -ENOSPC;
	}
	memcpy(b->data, frame, len);
	if (ixgbe_tx_burst(&port, 0, &b, &n, 1) != 1) {
		pktbuf_free(b);
		tx_dropped++;
		return -ENOSPC;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t ip = net_parse_ip(argc > 1 ? argv[1] : "10.0.2.15");
	unsigned long echo_port = argc > 2 ? strtoul(argv[2], NULL, 10) : 7;
	unsigned long seconds = argc > 3 ? strtoul(argv[3], NULL, 10) : 30;

	if (ip == 0 || echo_port == 0 || echo_port > 65535 || seconds == 0) {
		printf("usage: nicecho [IP [PORT [SECONDS]]]\n");
		return 100;
	}
	if (ixgbe_init(&port, 0, 1, RING) < 0)
		return 100;
	net_init(port.mac, ip, (uint16_t)echo_port, send_frame);
	printf("nicecho: %s port 0, mac %02x:%02x:%02x:%02x:%02x:%02x, link %s; %s serves "
	       "ARP, ping, UDP and TCP echo on port %lu\n", port.emulated ? "emulated" : "real",
	       port.mac[0], port.mac[1], port.mac[2], port.mac[3], port.mac[4], port.mac[5],
	       port.link_up ? "up" : "down", argc > 1 ? argv[1] : "10.0.2.15", echo_port);

	uint64_t deadline = uptime_ms() + seconds * 1000;
	struct pktbuf *batch[BATCH];
	while (net_stats.quit_requests == 0 && uptime_ms() < deadline) {
		int n = ixgbe_rx_burst(&port, 0, batch, BATCH);
		for (int i = 0; i < n; i++) {
			net_input(batch[i]->data, batch[i]->len);
			pktbuf_free(batch[i]);
		}
		if (n == 0 && ixgbe_wait(&port, WAIT_TICKS) < 0)
			break;
	}

	struct ixgbe_stats s;
	char text[320];
	ixgbe_stats(&port, &s);
	net_format_stats(text, sizeof(text));
	printf("nicecho: %s\n", net_stats.quit_requests ? "quit received" : "time is up");
	printf("%s", text);
	printf("nicecho: 82599 received %lu, sent %lu, missed %lu, dropped %lu; replies dropped %lu\n",
	       s.rx_packets, s.tx_packets, s.rx_missed, s.queue_drop[0], tx_dropped);
	return ixgbe_stopped_queues(&port);
}
