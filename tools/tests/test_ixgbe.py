#!/usr/bin/env python3
"""The ixgbe driver (ix/drivers) on the emulated 82599, checked line by line.

Each test boots the kernel with run=lab9.ixgbe under QEMU (the 82599's
registers trap as page faults of the native process: no VT-x needed),
or with run=lab9.ixgbe.dune under Bochs (nictest-dune: the same program
in Dune mode, where they trap as EPT violations), with a seed, a number
of queues and a ring size chosen here, and checks every line nictest (ix/tests/nictest.c) prints against numbers computed
here from the same seed: the frames of each subtest, the queue that the
Toeplitz hash and the redirection table give each flow, the frames a
full ring drops, the counters at the end (tools/nictestlib.py, which
the Lab 9 grader shares). nictest checks itself too (its
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
import nictestlib  # noqa: E402

LOGS = runner.BUILD / "ixgbe-tests"
Nictest = nictestlib.Nictest
BATCHES = nictestlib.BATCHES


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

    def test_toeplitz_suite(self):
        self.assertEqual(nictestlib.check_toeplitz(), [])

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
