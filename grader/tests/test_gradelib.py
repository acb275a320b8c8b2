#!/usr/bin/env python3
"""Tests of the grader and the runner: pure helpers, and real runs of the
built kernel under QEMU for each way a run can go wrong (an unexpected
panic, a hang, a triple fault), checking that the grader says so clearly
instead of waiting or passing.

  python3 grader/tests/test_gradelib.py     (needs build/kernel/kernel.elf)
"""
import random
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

GRADER = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(GRADER))
import gradelib  # noqa: E402
import lab1  # noqa: E402
from gradelib import runner  # noqa: E402
from prng import Prng  # noqa: E402


class PureHelpers(unittest.TestCase):
    def test_classify_end_markers(self):
        for status in ("ok", "panic"):
            r = runner.RunResult("qemu", "", output="x\n== end: %s\n" % status)
            runner.classify(r, "", timed_out=False)
            self.assertEqual(r.status, status)

    def test_classify_timeout_and_reset(self):
        r = runner.RunResult("qemu", "", output="booting\n")
        runner.classify(r, "", timed_out=True)
        self.assertEqual(r.status, "timeout")
        r = runner.RunResult("bochs", "", output="booting\n", exit_code=1,
                             emulator_log="00001e[CPU0 ] exception(): 3rd (13) exception with no resolution, shutdown status is 00h, resetting\n"
                                          "00002p[CPU0 ] >>PANIC<< triple fault\n")
        runner.classify(r, "", timed_out=False)
        self.assertEqual(r.status, "reset")
        self.assertIn("triple fault", r.reason)

    def test_line_diff_names_the_first_difference(self):
        diff = gradelib.line_diff(["a", "b", "c"], ["a", "x"])
        self.assertIn("line 2:\n      expected: b\n      got:      x", diff)
        self.assertIn("line 3:\n      expected: c\n      got:      (nothing)", diff)

    def test_prng_matches_the_kernels(self):
        """grader/prng.py and kernel/test/prng.h make the same values."""
        program = ('#include <stdio.h>\n#include "test/prng.h"\n'
                   "int main(void) { struct prng r; prng_seed(&r, 12345);"
                   ' for (int i = 0; i < 1000; i++) printf("%lx\\n", prng_next(&r)); }\n')
        with tempfile.TemporaryDirectory() as tmp:
            src, exe = Path(tmp) / "prng.c", Path(tmp) / "prng"
            src.write_text(program)
            subprocess.run(["gcc", "-I", str(runner.TOP / "kernel"), "-o", str(exe), str(src)],
                           check=True)
            kernel_values = subprocess.run([str(exe)], capture_output=True, text=True,
                                           check=True).stdout.split()
        p = Prng(12345)
        self.assertEqual([int(v, 16) for v in kernel_values], [p.next() for _ in range(1000)])

    def test_printf_expectations(self):
        self.assertEqual(lab1.printf_expected("%-6d|", "small", 10000 - 42), "-42   |")
        self.assertEqual(lab1.printf_expected("%06d", "small", 10000 - 42), "-00042")
        self.assertEqual(lab1.printf_expected("%d", "int", 0xFFFFFFFF), "-1")
        self.assertEqual(lab1.printf_expected("%p", "pointer", 0xABC), "0x0000000000000abc")
        self.assertEqual(lab1.printf_expected("100%%", "none", 5), "100%")


@unittest.skipUnless(runner.KERNEL_ELF.exists(), "needs the built kernel (make kernel)")
class BrokenRuns(unittest.TestCase):
    """The grader meets a kernel that fails in each way it can."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.ctx = gradelib.Context("qemu", Path(self.tmp.name), random.Random(1), echo=False)

    def tearDown(self):
        self.tmp.cleanup()

    def boot_expecting_ok(self, selftest, **kwargs):
        self.ctx.current = gradelib.Test("broken", "broken", 1, None)
        boot = self.ctx.boot(selftest, **kwargs)
        with self.assertRaises(gradelib.TestFailure) as failure:
            boot.expect_status("ok")
        return boot, str(failure.exception)

    def test_unexpected_panic_shows_message_and_backtrace(self):
        boot, message = self.boot_expecting_ok("lab1.null", timeout=30)
        self.assertEqual(boot.result.status, "panic")
        self.assertTrue(message.startswith("the kernel panicked:"), message)
        self.assertIn("page fault (vector 14) in kernel code at address 0x0000000000000000", message)
        self.assertIn("backtrace:", message)
        self.assertIn("lab1_null_write+0x", message)

    def test_hang_is_a_timeout_with_the_last_lines(self):
        boot, message = self.boot_expecting_ok("monitor", timeout=3)
        self.assertEqual(boot.result.status, "timeout")
        self.assertIn("timeout: no end marker within the time limit", message)
        self.assertIn("kernel monitor: type 'help' for the commands", message)

    def test_triple_fault_is_a_reset(self):
        boot, message = self.boot_expecting_ok("lab1.triple", timeout=30)
        self.assertEqual(boot.result.status, "reset")
        self.assertIn("without an end marker", message)
        self.assertIn("== run: lab1.triple", message)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=1).result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed - len(result.skipped), failed))
    sys.exit(1 if failed else 0)
