"""What nictest (ix/tests/nictest.c) prints, computed from its seed, queue
count and ring size: the frames of each subtest, the queue that the
Toeplitz hash and the redirection table give each flow, the frames a full
ring drops, the counters at the end. Shared by tools/tests/test_ixgbe.py
and the Lab 9 grader (grader/lab9.py), which compare nictest's lines with
these; Python standard library only."""

MASK64 = (1 << 64) - 1
TCP, UDP = 6, 17
TAG_OFFSET = 54
FRAME_MIN, FRAME_MAX = TAG_OFFSET + 8, 1514
BATCHES = (1, 8, 32, 64)
RS_THRESH = 32
FLOWS = 64
# Microsoft's RSS verification key, as ix/drivers/ixgbe.c gives RSSRK.
RSS_KEY = bytes.fromhex("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c"
                        "6a42b73bbeac01fa")


def mix(x):
    """nictest's mix (splitmix64's finalizer)."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def toeplitz(key, data):
    """The Toeplitz hash of data under key (82599 datasheet 7.1.2.8.1)."""
    bits = int.from_bytes(key, "big")
    keylen = len(key) * 8
    result = 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                result ^= (bits >> (keylen - 32 - (8 * i + b))) & 0xFFFFFFFF
    return result


class Nictest:
    """What nictest sends and where it should land, for one seed."""

    def __init__(self, seed, queues, ring):
        self.seed, self.queues, self.ring = seed, queues, ring

    def flow(self, n, proto):
        r = mix(self.seed ^ (n << 8) ^ 0xF10)
        return (0x0A000000 | (r & 0xFFFFFF), 0xC0A80000 | ((r >> 24) & 0xFFFF),
                1024 + (r >> 40) % 60000, 1 + (r >> 56) * 100, proto)

    @staticmethod
    def hash_input(flow):
        """The 12 bytes RSS hashes (addresses, then ports; the first 8
        alone for the addresses-only hash)."""
        src, dst, sport, dport, _ = flow
        return (src.to_bytes(4, "big") + dst.to_bytes(4, "big") + sport.to_bytes(2, "big") +
                dport.to_bytes(2, "big"))

    def queue(self, flow):
        """The queue RSS gives flow: the redirection table the driver
        fills round robin, indexed by the hash's 7 low bits."""
        return (toeplitz(RSS_KEY, self.hash_input(flow)) & 127) % self.queues

    def frame_len(self, subtest, f, seq):
        tag = subtest << 16 | f
        return FRAME_MIN + mix(self.seed ^ (tag << 32) ^ seq) % (FRAME_MAX - FRAME_MIN + 1)

    def bytes_of(self, subtest, f, seqs):
        """Bytes the NIC counts for these frames (each with its CRC)."""
        return sum(self.frame_len(subtest, f, s) + 4 for s in seqs)

    def expected(self):
        """nictest's lines after its seed's (without "nictest: "), in
        order, and the bad-DMA queue."""
        R, Q = self.ring, self.queues
        lines, sent = [], {0: [0, 0], 1: [0, 0]}
        data = self.hash_input(self.flow(800, TCP))
        lines.append("toeplitz: verification suite 10 of 10, flow hashes 0x%08x 0x%08x: ok"
                     % (toeplitz(RSS_KEY, data[:8]), toeplitz(RSS_KEY, data)))

        def add(port, subtest, f, seqs):
            seqs = list(seqs)
            sent[port][0] += len(seqs)
            sent[port][1] += self.bytes_of(subtest, f, seqs)

        for b in BATCHES:
            add(0, 1 + b, 0, range(3 * R))
            add(1, 1 + b, 1, range(3 * R))
            lines.append("both ways, batch %d: sent %d and %d, received %d and %d, 0 bad, "
                         "0 stray: ok" % (b, 3 * R, 3 * R, 3 * R, 3 * R))
        q = self.queue(self.flow(200, TCP))
        add(0, 200, 0, range(10 * R))
        lines.append("wrap: %d frames through rings of %d (10 laps), received %d in order on "
                     "queue %d, 0 bad, 0 stray: ok" % (10 * R, R, 10 * R, q))
        per_queue = [0] * Q
        for f in range(FLOWS):
            per_queue[self.queue(self.flow(300 + f, TCP if f % 2 else UDP))] += 1
            add(0, 300, f, [0])
        lines.append("rss: %d flows, received %d, %d on the predicted queue, %d with the "
                     "predicted hash, per queue %s: ok" %
                     (FLOWS, FLOWS, FLOWS, FLOWS, " ".join(map(str, per_queue))))
        excess = 1 + self.seed % 50
        q = self.queue(self.flow(400, UDP))
        add(0, 400, 0, range(R - 1 + excess))
        dropped_bytes = self.bytes_of(400, 0, range(R - 1, R - 1 + excess))
        lines.append("full ring: sent %d to a ring of %d, received %d in order, dropped %d "
                     "(QPRDC of queue %d), missed 0 (MPC), 0 bad, 0 stray: ok" %
                     (R - 1 + excess, R, R - 1, excess, q))
        q = self.queue(self.flow(500, TCP))
        add(0, 500, 0, [0])
        lines.append("interrupt: a frame for queue %d, causes 0x%x: ok" % (q, 1 << q))
        add(0, 600, 0, range(R // 2 + 2 * R))
        lines.append("reset: %d frames left in the ring, re-initialized (0), 0 of them after, "
                     "then sent %d, received %d, 0 bad, 0 stray: ok" % (R // 2, 2 * R, 2 * R))
        add(1, 650, 0, range(R - 1))
        lines.append("paused: port 1's transmit queue 0 disabled, took %d of %d frames; enabled, "
                     "received %d in order, 0 bad, 0 stray: ok" % (R - 1, R + 16, R - 1))
        bad_q, good = Q - 1, 10 if Q > 1 else 0
        add(0, 700, 0, range(good + 10))
        lines.append("bad dma: queue %d stopped (1 stopped), queue 0 then sent %d, received %d; "
                     "re-initialized (0), queue %d sent 10, received 10, 0 bad, 0 stray: ok" %
                     (bad_q, good, good, bad_q))
        (f0, b0), (f1, b1) = sent[0], sent[1]
        lines.append("stats of port 0: sent %d frames, %d bytes; received %d frames, %d bytes; "
                     "dropped 0, missed 0" % (f0, b0, f1, b1))
        lines.append("stats of port 1: sent %d frames, %d bytes; received %d frames, %d bytes; "
                     "dropped %d, missed 0" % (f1, b1, f0 - excess, b0 - dropped_bytes, excess))
        lines.append("stats: port 0 sent %d frames, %d bytes, port 1 %d frames, %d bytes: ok" %
                     (f0, b0, f1, b1))
        n = sum(1 for line in lines if line.endswith(": ok"))
        lines.append("%d of %d subtests passed" % (n, n))
        return lines, bad_q


# Microsoft's RSS verification suite (the 82599 datasheet's 7.1.2.8.1):
# source, destination, source port, destination port, the hash of the
# addresses, the hash of addresses and ports.
VERIFICATION_SUITE = [
    ("66.9.149.187", "161.142.100.80", 2794, 1766, 0x323e8fc2, 0x51ccc178),
    ("199.92.111.2", "65.69.140.83", 14230, 4739, 0xd718262a, 0xc626b0ea),
    ("24.19.198.95", "12.22.207.184", 12898, 38024, 0xd2d0a5de, 0x5c2b394a),
    ("38.27.205.30", "209.142.163.6", 48228, 2217, 0x82989176, 0xafc7327f),
    ("153.39.163.191", "202.188.127.2", 44251, 1303, 0x5d1809c5, 0x10e828a2),
]


def check_toeplitz():
    """This module's hash against the suite: a list of what disagrees."""
    wrong = []
    for src, dst, sport, dport, h2, h4 in VERIFICATION_SUITE:
        data = (bytes(map(int, src.split("."))) + bytes(map(int, dst.split("."))) +
                sport.to_bytes(2, "big") + dport.to_bytes(2, "big"))
        if toeplitz(RSS_KEY, data[:8]) != h2 or toeplitz(RSS_KEY, data) != h4:
            wrong.append(src)
    return wrong
