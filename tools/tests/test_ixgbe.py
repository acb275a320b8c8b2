#!/usr/bin/env python3
"""The ixgbe driver (ix/drivers) on the emulated 82599, checked line by line.

Each test boots the kernel with run=lab9.ixgbe under QEMU (the 82599's
registers trap as page faults of the native process: no VT-x needed),
or with run=lab9.ixgbe.dune under Bochs (nictest-dune: the same program
in Dune mode, where they trap as EPT violations), with a seed, a number
of queues and a ring size chosen here, and checks every line nictest (ix/tests/nictest.c) prints against numbers computed
here from the same seed: the frames of each subtest, the queue that the
Toeplitz hash and the redirection table give each flow, the frames a
full ring drops, the counters at the end. nictest checks itself too (its
exit status, which lab9.ixgbe turns into a panic); this test does not
trust it. The NicBench tests run run=bench.nic and check batching's
effect on the trapped register accesses per packet.

  python3 tools/tests/test_ixgbe.py [-v] [Ixgbe|NicBench[.test_...]]
"""
import random
import re
import sys
import unittest
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(TOP / "tools"))
import runner  # noqa: E402

LOGS = runner.BUILD / "ixgbe-tests"
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

    def queue(self, flow):
        src, dst, sport, dport, _ = flow
        data = (src.to_bytes(4, "big") + dst.to_bytes(4, "big") + sport.to_bytes(2, "big") +
                dport.to_bytes(2, "big"))
        return (toeplitz(RSS_KEY, data) & 127) % self.queues

    def frame_len(self, subtest, f, seq):
        tag = subtest << 16 | f
        return FRAME_MIN + mix(self.seed ^ (tag << 32) ^ seq) % (FRAME_MAX - FRAME_MIN + 1)

    def bytes_of(self, subtest, f, seqs):
        """Bytes the NIC counts for these frames (each with its CRC)."""
        return sum(self.frame_len(subtest, f, s) + 4 for s in seqs)

    def expected(self):
        """nictest's lines, in order, and the bad-DMA queue."""
        R, Q = self.ring, self.queues
        lines, sent = [], {0: [0, 0], 1: [0, 0]}

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


class Ixgbe(unittest.TestCase):
    def run_nictest(self, queues, ring, dune=False):
        """One run of nictest, natively under QEMU or in Dune mode
        (nictest-dune, lab9.ixgbe.dune) under Bochs, which has VT-x."""
        seed = random.randrange(1, 1 << 32)
        test, program, emu = (("lab9.ixgbe.dune", "nictest-dune", "bochs") if dune else
                              ("lab9.ixgbe", "nictest", "qemu"))
        cmdline = "run=%s seed=%d queues=%d ring=%d" % (test, seed, queues, ring)
        log = LOGS / ("%s-q%d-r%d.log" % (emu, queues, ring))
        result = runner.run_captured(emu, cmdline, log, timeout=120)
        where = "%s (%s; log %s)" % (cmdline, result.status, log)
        self.assertEqual(result.status, "ok", where + "\n" + "\n".join(result.lines()[-20:]))
        lines = result.lines()
        got = [line[len("nictest: "):] for line in lines
               if line.startswith("nictest: ") and not line.startswith("nictest: port ")]
        want, bad_q = Nictest(seed, queues, ring).expected()
        self.assertEqual(got, ["seed %d" % seed] + want, where)
        for port in (0, 1):
            self.assertTrue(any(re.fullmatch(
                r"nictest: port %d \(emulated\): mac (\w\w:){5}\w\w, link up 10000 Mb/s, "
                r"%d queues of %d descriptors" % (port, queues, ring), line)
                for line in lines), where + ": port %d's line" % port)
        # The model says one line: the fault. No register it does not
        # implement was touched.
        self.assertEqual([line for line in lines if "82599 port" in line],
                         ["82599 model: 82599 port 0: TX queue %d: stopped: DMA refused the "
                          "buffer at bus 0x200000000000" % bad_q], where)
        self.assertTrue(any(line.startswith("ixgbe: port 0: transmit queue %d stopped by the "
                                            "NIC" % bad_q) for line in lines), where)
        self.assertTrue(any(re.fullmatch(r"process %s\[\d+\] ended with status 0" % program,
                                         line) for line in lines), where)

    def test_four_queues(self):
        self.run_nictest(4, 128)

    def test_one_queue(self):
        self.run_nictest(1, 256)

    def test_sixteen_queues(self):
        self.run_nictest(16, 128)

    def test_dune_mode(self):
        """The same lines with every register access an EPT violation."""
        self.run_nictest(4, 128, dune=True)


class NicBench(unittest.TestCase):
    """run=bench.nic (ix/bench/nicbench.c): batching must cut the register
    traps (page faults natively, VM exits in Dune mode) per packet at
    least 8x from bursts of 1 to bursts of 32. Checked from the counts the
    bench prints, not from its own verdict; timings are not checked."""

    ROW = (r"bench\.nic: %s +burst +(\d+): (\d+) packets, \d+ packets/s, \d+ cycles/packet, "
           r"(\d+) register traps \(\d+\.\d\d/packet\)")

    def run_bench(self, emu, modes):
        log = LOGS / ("bench-%s.log" % emu)
        result = runner.run_captured(emu, "run=bench.nic", log, timeout=120)
        where = "run=bench.nic under %s (%s; log %s)" % (emu, result.status, log)
        lines = result.lines()
        self.assertEqual(result.status, "ok", where + "\n" + "\n".join(lines[-20:]))
        header = [line for line in lines if line.startswith("bench.nic: on ")]
        self.assertEqual(len(header), 1, where)
        self.assertEqual("the TSC counts instructions" in header[0], emu == "bochs", where)
        self.assertIn("bench.nic: Dune mode %s" % ("too" if "dune" in modes else
                                                   "not measured: no VT-x here (see above)"),
                      lines, where)
        for mode in ("native", "dune"):
            rows = {}
            for line in lines:
                m = re.fullmatch(self.ROW % mode, line)
                if m:
                    rows[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
            if mode not in modes:
                self.assertEqual(rows, {}, where)
                continue
            self.assertEqual(sorted(rows), list(BATCHES), "%s: %s's rows" % (where, mode))
            (packets1, traps1), (packets32, traps32) = rows[1], rows[32]
            self.assertGreater(traps32, 0, "%s: %s: no traps counted" % (where, mode))
            self.assertGreaterEqual(traps1 * packets32, 8 * traps32 * packets1,
                                    "%s: %s: traps per packet %d/%d at bursts of 1, %d/%d at "
                                    "32" % (where, mode, traps1, packets1, traps32, packets32))
            self.assertTrue(any(re.fullmatch(r"bench\.nic: %s: register traps per packet fall "
                                             r"[\d.]+x from bursts of 1 to bursts of 32 \(at "
                                             r"least 8x wanted\): ok" % mode, line)
                                for line in lines), where + ": %s's verdict" % mode)
        self.assertTrue(any(re.fullmatch(r"process nicbench\[\d+\] ended with status 0", line)
                            for line in lines), where)

    def test_native(self):
        self.run_bench("qemu", ("native",))

    def test_native_and_dune(self):
        self.run_bench("bochs", ("native", "dune"))


if __name__ == "__main__":
    unittest.main()
