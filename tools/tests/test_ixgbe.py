#!/usr/bin/env python3
"""The ixgbe driver (ix/drivers) on the emulated 82599, checked line by line.

Each test boots the kernel with run=lab9.ixgbe under QEMU (the 82599's
registers trap as page faults of the native process: no VT-x needed)
with a seed, a number of queues and a ring size chosen here, and checks
every line nictest (ix/tests/nictest.c) prints against numbers computed
here from the same seed: the frames of each subtest, the queue that the
Toeplitz hash and the redirection table give each flow, the frames a
full ring drops, the counters at the end (tools/nictestlib.py, which
the Lab 9 grader shares). nictest checks itself too (its
exit status, which lab9.ixgbe turns into a panic); this test does not
trust it.

  python3 tools/tests/test_ixgbe.py [-v]
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


class Ixgbe(unittest.TestCase):
    def run_nictest(self, queues, ring):
        seed = random.randrange(1, 1 << 32)
        cmdline = "run=lab9.ixgbe seed=%d queues=%d ring=%d" % (seed, queues, ring)
        log = LOGS / ("q%d-r%d.log" % (queues, ring))
        result = runner.run_captured("qemu", cmdline, log, timeout=120)
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
        self.assertTrue(any(re.fullmatch(r"process nictest\[\d+\] ended with status 0", line)
                            for line in lines), where)

    def test_toeplitz_suite(self):
        self.assertEqual(nictestlib.check_toeplitz(), [])

    def test_four_queues(self):
        self.run_nictest(4, 128)

    def test_one_queue(self):
        self.run_nictest(1, 256)

    def test_sixteen_queues(self):
        self.run_nictest(16, 128)


if __name__ == "__main__":
    unittest.main()
