#!/usr/bin/env python3
"""The README's `make run` as a script uses it: the shell's input piped
in, under QEMU (the automatic choice on a machine without a usable KVM)
and under Bochs (whose COM1 the runner then types into). Each run must
show the shell's output, end with status 0 and leave make's exit status 0.

  python3 tools/tests/test_make_run.py
"""
import os
import signal
import subprocess
import unittest
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent.parent
TYPED = "ls\necho piped input\nexit\n"


class MakeRun(unittest.TestCase):
    def make_run(self, emu):
        # A session of its own: a run past the limit is ended with the
        # emulator that make started, not make alone.
        proc = subprocess.Popen(["make", "-s", "run", "EMU=" + emu], cwd=TOP,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = proc.communicate(TYPED, timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
            self.fail("make run EMU=%s did not end within 120 s:\n%s" % (emu, output[-2000:]))
        lines = [line.rstrip("\r") for line in output.splitlines()]
        self.assertEqual(proc.returncode, 0, "make run EMU=%s: exit status %d\n%s"
                         % (emu, proc.returncode, "\n".join(lines[-15:])))
        self.assertTrue(any("hello divzero breakpoint" in line for line in lines),
                        "ls's list of programs is missing:\n" + "\n".join(lines[-15:]))
        self.assertTrue(any(line.endswith("piped input") for line in lines if "echo" not in line))
        # Typed ahead, the input echoes before the shell's prompts.
        self.assertTrue(any(line.endswith("process sh[1] ended with status 0") for line in lines))
        self.assertIn("== end: ok", lines)

    def test_qemu(self):
        self.make_run("qemu")

    def test_bochs(self):
        self.make_run("bochs")


if __name__ == "__main__":
    unittest.main()
