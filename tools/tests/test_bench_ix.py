#!/usr/bin/env python3
"""run=bench.ix (ix/bench/ixbench.c) under Bochs, checked from its table.

One boot runs the echo and the key-value server over the IX dataplane
at batch limits 1, 4, 16 and 64, and both natively at batch limit 1,
each under ixload's requests (a number chosen here), and prints a row a
run. The rows must all be there, each with exactly the requests asked
for, latencies in order and a cost of which the emulated NIC's share is
a part; the dataplane's crossings per request must be at least 1 at
batch limit 1 (a crossing takes one frame then, and each request needs
one) and fall as the limit grows. From batch limit 1 to 64, the echo's
crossings per request must fall at least 8x, and the server's
instructions (the TSC under Bochs) per 64-byte echo at least 1.25x, or
1.4x without the emulated NIC's share (a real 82599's work, not the
CPU's); one run measures 10.4x, 1.55x and 1.68x. The echo's cost at the
four limits must fit a cost a request plus a cost a crossing (least
squares, printed by ixbench) within 10% at each, and the most batching
can save (batch limit 1's cost over a request's alone) is printed as
the fit gives it: one run fits 9891 instructions a request and 4854 a
crossing, at most 1.54x, which batch limit 64 already reaches: the
per-request work of lwIP, the dataplane and the application and the
NIC's DMA is what no batching divides. All checked from the numbers;
request rates and latencies are printed, not checked. BenchIx2Cores
boots two CPUs: then the IX servers run again at batch limit 64 on two
cores (and ixload on two), rows checked as the others; not the ratios,
since ixload then runs beside the server, whose batches (what has
arrived) fill less: one run measures 6.2x, 1.26x and 1.42x.

  python3 tools/tests/test_bench_ix.py [-v]
"""
import random
import re
import sys
import unittest
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(TOP / "tools"))
import runner  # noqa: E402

LOG = runner.BUILD / "bench-ix" / "bench-ix.log"
LIMITS = (1, 4, 16, 64)
IX_SERVERS = ("echo over IX", "kv over IX")
RUNS = ([(s, 1, b) for s in IX_SERVERS for b in LIMITS] +
        [("echo native", 1, 1), ("kv native", 1, 1)])
RUNS_2_CORES = [(s, 2, LIMITS[-1]) for s in IX_SERVERS]
# The least each must fall from batch limit 1 to 64 (see above).
CROSSINGS_MIN, COST_MIN, CPU_COST_MIN = 8, 1.25, 1.4
FIT = re.compile(r"bench\.ix: echo over IX as a cost a request plus a cost a crossing \(least "
                 r"squares over batch limits 1 to 64\): (\d+) instructions a request, (\d+) a "
                 r"crossing; (\d+) and (\d+) without the emulated NIC's work")
MOST = re.compile(r"bench\.ix: echo over IX at no crossing a request \(its cost a request "
                  r"alone\): (\d+\.\d\d)x fewer instructions than at batch limit 1, "
                  r"(\d+\.\d\d)x without the emulated NIC's work: the most any batching can save")
# How far the fitted cost (a request's plus its crossings') may be from
# each echo run's measured cost.
FIT_TOLERANCE = 0.1
ROW = re.compile(r"bench\.ix: (echo over IX|kv over IX|echo native|kv native) +(\d+) +(\d+) "
                 r"+(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+\.\d\d|-)")


class BenchIx(unittest.TestCase):
    CPUS = 1
    HEADER = "bench.ix: 1 CPU; the dataplane runs on 1 core"
    RUNS = RUNS
    RATIOS = True

    def test_bochs(self):
        requests = random.randrange(1500, 2000)
        log = LOG.with_name("bench-ix-%d.log" % self.CPUS)
        result = runner.run_captured("bochs", "run=bench.ix requests=%d" % requests, log,
                                     timeout=400 * self.CPUS, smp=self.CPUS)
        lines = result.lines()
        table = "\n".join(line for line in lines if line.startswith("bench.ix: "))
        where = "run=bench.ix requests=%d under Bochs (%s; log %s)\n%s" % (
            requests, result.status, log, table)
        self.assertEqual(result.status, "ok", where + "\n" + "\n".join(lines[-20:]))
        self.assertIn(self.HEADER, lines, where)
        self.assertTrue(any(line.startswith("bench.ix: on bochs") and
                            "the TSC counts instructions" in line for line in lines), where)
        rows = {}
        for line in lines:
            m = ROW.fullmatch(line)
            if m:
                key = (m.group(1), int(m.group(2)), int(m.group(3)))
                self.assertNotIn(key, rows, where)
                rows[key] = [int(v) for v in m.groups()[3:10]] + [m.group(11)]
        self.assertEqual(sorted(rows), sorted(self.RUNS), where)
        for (server, cores, batch), (n, per_s, p50, p99, p999, cost, nic, crossings) in \
                rows.items():
            what = "%s: %s on %d cores at batch limit %d" % (where, server, cores, batch)
            self.assertEqual(n, requests, what)
            self.assertGreater(per_s, 0, what)
            self.assertTrue(0 < p50 <= p99 <= p999, what)
            self.assertTrue(0 < nic < cost, what)
            self.assertEqual(crossings == "-", server not in IX_SERVERS, what)
        for server in IX_SERVERS:
            crossings = [float(rows[(server, 1, b)][7]) for b in LIMITS]
            self.assertGreaterEqual(crossings[0], 1.0, where)
            self.assertEqual(crossings, sorted(crossings, reverse=True), where)
            self.assertLess(crossings[-1], crossings[0], where)
        one, most = rows[("echo over IX", 1, 1)], rows[("echo over IX", 1, 64)]
        for what, least, at_one, at_most in () if not self.RATIOS else (
                ("crossings per echo", CROSSINGS_MIN, float(one[7]), float(most[7])),
                ("server instructions per echo", COST_MIN, one[5], most[5]),
                ("server instructions per echo without the NIC's", CPU_COST_MIN,
                 one[5] - one[6], most[5] - most[6])):
            self.assertGreaterEqual(at_one, least * at_most,
                                    "%s: %s %s at batch limit 1, %s at 64: %.2fx, not %sx"
                                    % (where, what, at_one, at_most, at_one / at_most, least))
        if self.RATIOS:
            self.check_fit(lines, rows, where)
        self.assertIn("process ixbench[1] ended with status 0", lines, where)

    def check_fit(self, lines, rows, where):
        """The fit of the echo's cost: each run's cost within FIT_TOLERANCE of
        a request's plus its crossings', and the most batching can save is
        batch limit 1's cost over a request's."""
        fits = [m for m in map(FIT.fullmatch, lines) if m]
        mosts = [m for m in map(MOST.fullmatch, lines) if m]
        self.assertEqual((len(fits), len(mosts)), (1, 1), where)
        per_request, per_crossing, cpu_request, cpu_crossing = map(int, fits[0].groups())
        self.assertTrue(0 < cpu_request < per_request and 0 < cpu_crossing <= per_crossing,
                        where)
        for batch in LIMITS:
            n, cost, nic, crossings = (rows[("echo over IX", 1, batch)][i] for i in (0, 5, 6, 7))
            for what, measured, request, crossing in (
                    ("all", cost, per_request, per_crossing),
                    ("without the NIC's", cost - nic, cpu_request, cpu_crossing)):
                fitted = request + crossing * float(crossings)
                self.assertLess(abs(fitted - measured), FIT_TOLERANCE * measured,
                                "%s: batch limit %d, %s: fitted %.0f, measured %d"
                                % (where, batch, what, fitted, measured))
        one = rows[("echo over IX", 1, 1)]
        for printed, measured, request in ((mosts[0].group(1), one[5], per_request),
                                           (mosts[0].group(2), one[5] - one[6], cpu_request)):
            self.assertAlmostEqual(float(printed), measured / request, delta=0.02, msg=where)


class BenchIx2Cores(BenchIx):
    CPUS = 2
    HEADER = "bench.ix: 2 CPUs; the dataplane runs on 1 core, then on 2 (a dataplane thread a core)"
    RUNS = RUNS + RUNS_2_CORES
    RATIOS = False


if __name__ == "__main__":
    unittest.main()
