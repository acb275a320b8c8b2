// lwIP's options for the dataplane (lwIP's src/include/lwip/opt.h lists
// them all, with their defaults): only what differs from the defaults.
//
// One thread drives the stack, from a run-to-completion loop (NO_SYS:
// no threads, no locks, no sockets or netconns: the raw API of
// callbacks); IPv4 with ARP, ICMP, UDP and TCP over Ethernet; no DHCP
// (the address is given). Received frames stay in the driver's 2 KiB
// buffers (ix/net/ixgbe_netif.h wraps each in a custom pbuf), so lwIP's
// own pbuf pool serves only what the stack builds itself; data to send
// is copied into segments from lwIP's heap (MEM_SIZE).

#ifndef IX_LWIP_LWIPOPTS_H
#define IX_LWIP_LWIPOPTS_H

#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            0
#define LWIP_SOCKET                     0
#define LWIP_NETCONN                    0

#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define LWIP_ARP                        1
#define LWIP_ETHERNET                   1
#define LWIP_ICMP                       1
#define LWIP_RAW                        0
#define LWIP_UDP                        1
#define LWIP_TCP                        1
#define LWIP_DHCP                       0
#define LWIP_AUTOIP                     0
#define LWIP_IGMP                       0
#define LWIP_DNS                        0
#define IP_REASSEMBLY                   0
#define IP_FRAG                         0
// Packets to a neighbour whose address ARP is still resolving wait,
// up to 64 of them: a burst of new connections' SYN-ACKs otherwise
// loses all but the last (or the last 3), which TCP sends again only
// a second or more later.
#define ARP_QUEUEING                    1
#define ARP_QUEUE_LEN                   64
#define MEMP_NUM_ARP_QUEUE              64

// Memory: a heap for the segments TCP sends and the pools of fixed-size
// objects. 64 connections; about 40 of them with full send buffers and
// as much data waiting for room (apps/echo.c) fit in the heap, past
// which tcp_write says ERR_MEM and the app tries again later. A SYN
// that finds all 64 in use is dropped (the client sends it again).
#define MEM_ALIGNMENT                   8
#ifdef IX_LWIP_FLOW_GROUP
// One of the IX dataplane's FG_COUNT instances (ix/dp/fg.h), whose
// sends are by reference: the heap holds segments' headers and the
// bytes echoed from received buffers of the flow group's connections.
#define MEM_SIZE                        (256 * 1024)
#else
#define MEM_SIZE                        (2 * 1024 * 1024)
#endif
#define MEMP_NUM_TCP_PCB                64
#define MEMP_NUM_TCP_PCB_LISTEN         4
#define MEMP_NUM_TCP_SEG                1024
// A send by reference (ix/dp/tcp.c) takes a pbuf of this pool for each
// piece of application memory a segment points at: one a segment.
#define MEMP_NUM_PBUF                   MEMP_NUM_TCP_SEG
#define PBUF_POOL_SIZE                  16
// lwIP's own timeouts, and one of the dataplane's (ix/dp/main.c's
// count_timer_run).
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 1)
#define LWIP_SUPPORT_CUSTOM_PBUF        1

// TCP: a 1500-byte Ethernet MTU; windows of 16 segments (no window
// scaling: at most 64 KiB); out-of-order segments hold driver buffers,
// so at most 4 of them a connection: 256 for 64 connections, a third of
// a queue's pool (ix/drivers/ixgbe.h: three rings' worth), which must
// keep buffers for the receive ring.
#define TCP_MSS                         1460
#define TCP_WND                         (16 * TCP_MSS)
#define TCP_SND_BUF                     (16 * TCP_MSS)
#define TCP_SND_QUEUELEN                (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_OOSEQ_MAX_PBUFS             4
// Keep-alive's idle time, interval and probes set per connection (the
// dataplane's ix/dp/tcp.c); lwIP's TCP timer sends the probes.
#define LWIP_TCP_KEEPALIVE              1

// lwIP's timers run on our hierarchical timer wheel
// (ix/lwip/sys_timeouts.c, ix/lwip/timerwheel.h), not on lwIP's list.
#define LWIP_TIMERS_CUSTOM              1

// Counters the programs print (lwip_stats), not printed by lwIP itself.
#define LWIP_STATS                      1
#define LWIP_STATS_LARGE                1
#define LWIP_STATS_DISPLAY              0
#define MIB2_STATS                      0

// Checksums are computed and checked in software (the defaults, said
// here because the 82599 could offload them: not yet used).
#define CHECKSUM_GEN_IP                 1
#define CHECKSUM_GEN_TCP                1
#define CHECKSUM_CHECK_IP               1
#define CHECKSUM_CHECK_TCP              1

#endif
