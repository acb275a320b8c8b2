// nicbench [native|dune]: the ixgbe driver (ix/drivers) moving frames
// from port 0 to port 1 of the emulated 82599 over its internal wire, in
// bursts of 1, 8, 32 and 64 (run=bench.nic). For each burst size:
//   packets/s       in the machine's time (the TSC at its boot rate)
//   cycles/packet   the TSC; under Bochs it counts instructions
//   register traps  accesses to the 82599's registers the kernel trapped
//                   and emulated (SYS_mmio_count): each a page fault
//                   natively, an EPT-violation VM exit in Dune mode
// natively, then with "dune" in Dune mode (VMX non-root ring 0, after
// dune_init_and_enter), the same ports and rings. A burst costs one
// TDT write and one RDT write, whatever its size, so batching divides
// the traps per packet: the line after each mode's rows gives the ratio
// from bursts of 1 to bursts of 32, which must be at least 8
// (tools/tests/test_ixgbe.py checks it from the counts). Timings are
// printed only.

#include <stdbool.h>

#include "ix/bench/fixed.h"
#include "ix/drivers/ixgbe.h"
#include "lib/printfmt.h"
#include "libdune/dune.h"
#include "ulib.h"

#define PACKETS 2048            // per row: a multiple of every burst size
#define RING 256
#define BURST_MAX 64
#define FRAME_LEN 60            // the shortest Ethernet frame without its CRC
#define RATIO_FROM 1            // the requirement on batching: traps per packet
#define RATIO_TO 32             // from bursts of 1 to bursts of 32 ...
#define RATIO_MIN 8             // ... fall at least 8 times

static const int bursts[] = { 1, 8, 32, 64 };
#define NBURSTS (int)(sizeof(bursts) / sizeof(bursts[0]))

struct row {
	uint64_t packets, ns, cycles, traps;
};

static struct ixgbe_dev ports[2];
static uint8_t frame[FRAME_LEN];

// A UDP/IPv4 frame from port 0 to port 1 (the model checks only the
// destination address; RSS sends it to the one queue).
static void make_frame(void)
{
	memmove(frame, ports[1].mac, 6);
	memmove(frame + 6, ports[0].mac, 6);
	frame[12] = 0x08;               // IPv4
	frame[14] = 0x45;               // version 4, 5 words of header
	frame[17] = FRAME_LEN - 14;     // total length
	frame[22] = 64;                 // TTL
	frame[23] = 17;                 // UDP
}

// Sends count frames (a multiple of burst) from port 0 in bursts of
// burst, and takes each burst from port 1's ring. The model sends at
// the TDT write and its wire delivers at once, so the whole burst is in
// port 1's ring when tx_burst returns. Returns the frames received: fewer
// than count only if a burst did not go whole (a bug: the rings are
// emptied after every burst).
static uint64_t pass(uint64_t count, int burst)
{
	struct pktbuf *bufs[BURST_MAX];
	uint16_t lens[BURST_MAX];
	uint64_t received = 0;

	for (uint64_t done = 0; done < count; done += burst) {
		int n = 0;
		for (; n < burst && (bufs[n] = ixgbe_alloc(&ports[0], 0)) != NULL; n++) {
			memmove(bufs[n]->data, frame, FRAME_LEN);
			lens[n] = FRAME_LEN;
		}
		int sent = ixgbe_tx_burst(&ports[0], 0, bufs, lens, n);
		for (int i = sent; i < n; i++)
			pktbuf_free(bufs[i]);
		int got = ixgbe_rx_burst(&ports[1], 0, bufs, burst);
		for (int i = 0; i < got; i++)
			pktbuf_free(bufs[i]);
		received += got;
		if (sent != burst || got != sent)
			break;
	}
	return received;
}

static struct row measure(int burst)
{
	struct clock_reading start, end;
	uint64_t traps = mmio_count();

	clock(&start);
	uint64_t packets = pass(PACKETS, burst);
	clock(&end);
	return (struct row){ packets, end.ns - start.ns, end.cycles - start.cycles,
			     mmio_count() - traps };
}

// One mode's rows and its ratio line. Returns false if frames were lost.
static bool bench(const char *mode)
{
	uint64_t from = 0, to = 0;
	char per[24], ratio[24];

	// Warm up: fills the EPT with the rings and buffers in Dune mode.
	pass(RING, RATIO_TO);
	for (int i = 0; i < NBURSTS; i++) {
		struct row r = measure(bursts[i]);
		if (r.packets != PACKETS) {
			printf("bench.nic: %s, bursts of %d: %lu of %d frames arrived\n", mode,
			       bursts[i], r.packets, PACKETS);
			return false;
		}
		printf("bench.nic: %-6s burst %2d: %lu packets, %lu packets/s, %lu cycles/packet, "
		       "%lu register traps (%s/packet)\n", mode, bursts[i], r.packets,
		       r.ns ? r.packets * 1000000000 / r.ns : 0, r.cycles / r.packets, r.traps,
		       fixed2(per, sizeof(per), r.traps, r.packets));
		// Every row has PACKETS packets: the traps' ratio is the per-packet one.
		if (bursts[i] == RATIO_FROM)
			from = r.traps;
		if (bursts[i] == RATIO_TO)
			to = r.traps;
	}
	printf("bench.nic: %s: register traps per packet fall %sx from bursts of %d to bursts "
	       "of %d (at least %dx wanted): %s\n", mode, fixed2(ratio, sizeof(ratio), from, to),
	       RATIO_FROM, RATIO_TO, RATIO_MIN, from >= RATIO_MIN * to ? "ok" : "FAILED");
	return true;
}

int main(int argc, char **argv)
{
	bool dune = argc > 1 && strcmp(argv[1], "dune") == 0;

	for (int p = 0; p < 2; p++) {
		int err = ixgbe_init(&ports[p], p, 1, RING);
		if (err < 0) {
			printf("bench.nic: port %d: ixgbe_init: %s\n", p, strerror(err));
			return 1;
		}
	}
	make_frame();
	printf("bench.nic: %d frames of %d bytes a row, port 0 to port 1, one queue of %d "
	       "descriptors; register traps: page faults natively, EPT-violation exits in "
	       "Dune mode\n", PACKETS, FRAME_LEN, RING);
	if (!bench("native"))
		return 1;
	if (!dune)
		return 0;
	int err = dune_init_and_enter();
	if (err < 0) {
		printf("bench.nic: cannot enter Dune mode: error %d\n", err);
		return 1;
	}
	return bench("dune") ? 0 : 1;
}
