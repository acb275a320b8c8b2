#!/usr/bin/env python3
"""Tests of the grader and the runner: pure helpers, and real runs of the
built kernel under QEMU for each way a run can go wrong (an unexpected
panic, a hang, an endless loop of output, a triple fault), and a hang
under Bochs, checking that the grader says so clearly (and where the CPUs
were) instead of waiting or passing.

  python3 grader/tests/test_gradelib.py     (needs build/kernel/kernel.elf)
"""
import contextlib
import io
import random
import shutil
import subprocess
import sys
import tempfile
import unittest
import unittest.mock
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

    def test_an_emulator_killed_by_a_signal_crashed(self):
        r = runner.RunResult("qemu", "", output="booting\n", exit_code=-11)
        runner.classify(r, "", timed_out=False)
        self.assertEqual(r.status, "crashed")
        self.assertEqual(r.reason, "qemu itself died of SIGSEGV (signal 11): a fault of the "
                                   "emulator's, not of the kernel")

    def test_a_timeout_says_where_the_cpus_were(self):
        r = runner.RunResult("qemu", "", output="booting\n",
                             places=[runner.CpuPlace(0, 0xffffffff80100010),
                                     runner.CpuPlace(1, 0xfd09a, halted=True)])
        with unittest.mock.patch.object(runner, "kernel_symbols",
                                        return_value=([(0xffffffff80100000, "kmain")],
                                                      0xffffffff80200000)):
            runner.classify(r, "", timed_out=True, timeout=30)
        self.assertEqual(r.reason, "no end marker within 30 s (a hang?); "
                                   "cpu 0 in kmain+0x10, cpu 1 at 0xfd09a (halted)")

    def test_addresses_are_named_by_the_kernels_functions(self):
        symbols, etext = [(0x1000, "backtrace_walk"), (0x1100, "sched_idle")], 0x1200
        places = [runner.CpuPlace(0, 0x101c), runner.CpuPlace(1, 0x1105),
                  runner.CpuPlace(2, 0x1200), runner.CpuPlace(3, 0xfff)]
        self.assertEqual(runner.describe_places(places, symbols, etext),
                         "cpu 0 in backtrace_walk+0x1c, cpu 1 in sched_idle+0x5, "
                         "cpu 2 at 0x1200, cpu 3 at 0xfff")

    def test_callers_are_named_from_the_frame_chain(self):
        symbols, etext = [(0x1000, "backtrace_walk"), (0x1100, "printk"), (0x1200, "f")], 0x1300
        places = [runner.CpuPlace(0, 0x1104, callers=[0x1020, 0x1200, 0x3454445352, 0x1010]),
                  runner.CpuPlace(1, 0xfff0, callers=[0x1020])]
        # A return address at a function's start belongs to the one before
        # (its call was the last instruction there); one outside the
        # kernel ends the chain.
        self.assertEqual(runner.describe_places(places, symbols, etext),
                         "cpu 0 in printk+0x4 < backtrace_walk+0x20 < printk+0x100, "
                         "cpu 1 at 0xfff0")

    def test_the_frame_walk_stops_where_the_chain_goes_wrong(self):
        top = runner.KERNEL_HALF + 0x1000
        memory = {top: (top + 0x20, 0xa1), top + 0x20: (top + 0x40, 0xa2),
                  top + 0x40: (top + 0x20, 0xa3)}           # points back down: a cycle
        self.assertEqual(runner.walk_frames(top, memory.get), [0xa1, 0xa2, 0xa3])
        memory[top + 0x40] = (top + 0x60, 0xa3)             # then memory that cannot be read
        self.assertEqual(runner.walk_frames(top, memory.get), [0xa1, 0xa2, 0xa3])
        self.assertEqual(runner.walk_frames(0x7fff0000, memory.get), [])     # a user stack
        self.assertEqual(runner.walk_frames(None, memory.get), [])
        endless = lambda rbp: (rbp + 16, 0xa0)              # noqa: E731
        self.assertEqual(len(runner.walk_frames(top, endless)), runner.MAX_CALLERS)

    def test_bochs_registers_and_memory_are_read(self):
        """What Bochs 2.7's debugger prints for `r` and `x /2gx`."""
        self.assertEqual(runner.parse_bochs_rbp(
            " r\nCPU0:\nrax: 00000000_00000001\nrsp: ffffffff_8019cfa8\n"
            "rbp: ffffffff_8019cfb0\nrip: ffffffff_8010b3b2\n<bochs:2> "), 0xffffffff8019cfb0)
        self.assertEqual(runner.parse_bochs_words(
            " x /2gx 0xffffffff8019cfb0\n[bochs]:\n0xffffffff8019cfb0 <bogus+       0>:"
            "\t0xffffffff8019cfd0\t0xffffffff8010b3a5\n<bochs:3> "),
            (0xffffffff8019cfd0, 0xffffffff8010b3a5))
        self.assertIsNone(runner.parse_bochs_words(
            "[bochs]:\n0x0000007fff000000 <bogus+       0>:bx_dbg_read_linear: physical "
            "address not available for linear 0x0000007fff000000\n<bochs:4> "))

    def test_the_monitor_socket_fits_in_a_socket_address(self):
        short = Path("/tmp/lab1.run")
        self.assertEqual(runner.qemu_monitor_path(short), short / runner.QEMU_MONITOR_SOCKET)
        cmd = runner.qemu_command("qemu", "run=x", 1, 128, monitor=Path("/a,b/m.sock"))
        self.assertEqual(cmd[cmd.index("-monitor") + 1], "unix:/a,,b/m.sock,server=on,wait=off")
        path = runner.qemu_monitor_path(Path("/tmp") / ("d" * 120))
        try:
            self.assertLessEqual(len(str(path)), runner.UNIX_PATH_MAX)
            self.assertTrue(path.parent.is_dir())
        finally:
            shutil.rmtree(path.parent)

    def test_qemu_memory_words_are_read(self):
        self.assertEqual(runner.parse_qemu_words(
            "x /2gx 0xffffffff8019ce40\x1b[K\r\nffffffff8019ce40: 0xffffffff8019ce60 "
            "0xffffffff801028fe\r\n(qemu) "), (0xffffffff8019ce60, 0xffffffff801028fe))
        self.assertIsNone(runner.parse_qemu_words(
            "x /2gx 0xffffffff8019ce40\r\nffffffff8019ce40: Cannot access memory\r\n(qemu) "))

    def test_qemu_registers_are_read(self):
        """What QEMU 7.2's monitor prints for `info registers -a`: a CPU in
        long mode (RIP) and one that the BIOS left halted (EIP)."""
        text = ("info registers -a\r\n\r\nCPU#0\r\n"
                "RAX=00000000ffffffff RBX=0000000000000000 RCX=0000000000000193\r\n"
                "RSI=00000000000003d5 RDI=0000000000000000 RBP=ffffffff8019bfd0 "
                "RSP=ffffffff8019bef0\r\n"
                "RIP=ffffffff801077b2 RFL=00000086 [--S--P-] CPL=0 II=0 A20=1 SMM=0 HLT=0\r\n"
                "ES =0010 0000000000000000 00000000 00009300 DPL=0 DS   [-WA]\r\n"
                "\r\nCPU#1\r\nEAX=000f49f6 EBX=00000000 ECX=000002ff EDX=00000001\r\n"
                "EIP=000fd09a EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=1\r\n(qemu) ")
        self.assertEqual(runner.parse_qemu_registers(text),
                         [runner.CpuPlace(0, 0xffffffff801077b2, False, 0xffffffff8019bfd0),
                          runner.CpuPlace(1, 0xfd09a, True, None)])

    def test_bochs_stop_is_read(self):
        """What Bochs 2.7's debugger prints when SIGINT stops it (two CPUs)."""
        text = ("Next at t=1533734038\n"
                "(0) [0x000000109bce] 0008:ffffffff80109bce (unk. ctxt): cli        ; fa\n"
                "(1) [0x0000fffffff0] f000:fff0 (unk. ctxt): jmpf 0xf000:e05b          ; ea5be\n"
                "<bochs:1> ")
        self.assertEqual(runner.parse_bochs_stop(text),
                         [runner.CpuPlace(0, 0xffffffff80109bce), runner.CpuPlace(1, 0xfff0)])

    def test_a_line_printed_a_thousand_times_is_a_loop(self):
        watch = runner.LoopWatch(repeats=1000)
        self.assertIsNone(watch.feed(b"== run: x\r\n" + b"same\r\n" * 999 + b"sa"))
        found = watch.feed(b"me\r\nafter\n")
        self.assertEqual(found, "the kernel printed 'same' 1000 times in a row (a loop?)")
        self.assertEqual(watch.end, len(b"== run: x\r\n" + b"same\r\n" * 1000))

    def test_a_short_cycle_of_lines_is_a_loop(self):
        watch = runner.LoopWatch(repeats=10)
        self.assertIsNone(watch.feed(b"a\nb\nc\n" * 9 + b"a\nb\n"))
        self.assertEqual(watch.feed(b"c\n"), "the kernel printed the 3 lines 'a', 'b', 'c' "
                                              "10 times in a row (a loop?)")

    def test_lines_that_change_are_no_loop(self):
        watch = runner.LoopWatch(repeats=10)
        self.assertIsNone(watch.feed(b"".join(b"tick %d\n" % i for i in range(100))))
        self.assertIsNone(watch.feed((b"x\n" * 9 + b"y\n") * 10))
        # A cycle longer than MAX_PERIOD lines is not one the watch looks for.
        long_cycle = b"".join(b"%d\n" % i for i in range(runner.LoopWatch.MAX_PERIOD + 1))
        self.assertIsNone(watch.feed(long_cycle * 20))

    def test_a_loop_without_newlines_is_seen_too(self):
        watch = runner.LoopWatch(repeats=3)
        self.assertIsNotNone(watch.feed(b"h" * runner.LoopWatch.LONGEST_LINE * 3))

    def test_a_loop_says_where_the_cpus_were(self):
        r = runner.RunResult("qemu", "", output="x\n" * 3, places=[runner.CpuPlace(0, 0x1004)])
        with unittest.mock.patch.object(runner, "kernel_symbols",
                                        return_value=([(0x1000, "printk")], 0x2000)):
            runner.classify(r, "", timed_out=False, loop="the kernel printed 'x' 3 times")
        self.assertEqual((r.status, r.reason), ("loop", "the kernel printed 'x' 3 times; "
                                                        "cpu 0 in printk+0x4"))

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


def fake_boot(status, output, emulator_log=""):
    """A Boot of a run that printed output and ended with status, without
    an emulator."""
    result = runner.RunResult("qemu", "", status=status, output=output,
                              emulator_log=emulator_log, log_path=Path("fake.log"))
    return gradelib.Boot(result, "0", "fake")


class FakeLab:
    """Tests declared on a scratch list, run by run_tests without booting:
    each parent "boots" a fake run."""

    def __init__(self, testcase):
        self.saved = gradelib.TESTS[:]
        gradelib.TESTS[:] = []
        self.tmp = tempfile.TemporaryDirectory()
        testcase.addCleanup(self.restore)
        self.drawn = {}

    def restore(self):
        gradelib.TESTS[:] = self.saved
        self.tmp.cleanup()

    def parent(self, name, status, output, emulator_log=""):
        def fn(ctx):
            self.drawn[name] = ctx.rng.getrandbits(64)
            ctx.current.boot = fake_boot(status, output, emulator_log)
            ctx.current.boot.expect_status("ok")
        fn.__name__ = "test_" + name
        return gradelib.test(0, name)(fn)

    def child(self, name, parent, points, regex, expected):
        def fn(ctx, boot):
            self.drawn[name] = ctx.rng.getrandbits(64)
            boot.expect_lines(regex, expected, name)
        fn.__name__ = "test_" + name
        return gradelib.test(points, name, parent=parent)(fn)

    def run(self, filters=(), seed=7):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            tests = gradelib.run_tests(0, "qemu", list(filters), Path(self.tmp.name), seed)
        return {t.name: t for t in tests}, out.getvalue()


RUN = "== run: fake (token 0)\n"


class GraderBehaviour(unittest.TestCase):
    def test_seed_replays_each_test_whatever_the_filter(self):
        lab = FakeLab(self)
        a = lab.parent("a", "ok", RUN + "== end: ok\n")
        lab.child("a_one", a, 1, r"x", [])
        lab.parent("b", "ok", RUN + "== end: ok\n")
        lab.run()
        everything = dict(lab.drawn)
        lab.drawn.clear()
        lab.run(["^b$"])
        self.assertEqual(lab.drawn, {"b": everything["b"]})
        lab.drawn.clear()
        lab.run(["a_one"])
        self.assertEqual(lab.drawn, {"a": everything["a"], "a_one": everything["a_one"]})
        lab.run(seed=8)
        self.assertNotEqual(lab.drawn["b"], everything["b"])

    def test_filter_on_a_subtest_runs_its_parent(self):
        lab = FakeLab(self)
        a = lab.parent("printf", "ok", RUN + "w 1\n== end: ok\n")
        lab.child("printf_signed", a, 5, r"w ", ["w 1"])
        lab.child("printf_other", a, 5, r"w ", ["w 2"])
        tests, _ = lab.run(["printf_signed"])
        self.assertEqual(sorted(tests), ["printf", "printf_signed"])
        self.assertTrue(tests["printf_signed"].passed)

    def test_a_filter_that_matches_nothing_lists_the_tests(self):
        lab = FakeLab(self)
        lab.parent("boot", "ok", RUN + "== end: ok\n")
        lab.parent("panic", "ok", RUN + "== end: ok\n")
        with self.assertRaises(gradelib.NoSuchTest) as e:
            lab.run(["boot", "nosuch"])
        self.assertIn("no test matches --filter 'nosuch'", str(e.exception))
        self.assertIn("the tests are: boot panic", str(e.exception))

    def test_a_hang_keeps_the_points_of_the_lines_printed(self):
        lab = FakeLab(self)
        run = lab.parent("run", "timeout", RUN + "echo ok\nfork ok\n")
        lab.child("run_echo", run, 5, r"echo ", ["echo ok"])
        lab.child("run_fork", run, 10, r"fork ", ["fork ok"])
        lab.child("run_pipe", run, 10, r"pipe ", ["pipe ok"])
        tests, out = lab.run()
        self.assertFalse(tests["run"].passed)
        self.assertTrue(tests["run_echo"].passed and tests["run_fork"].passed)
        self.assertIn("judged on the lines before the run stopped (timeout) after the line "
                      "'fork ok'", out)
        self.assertFalse(tests["run_pipe"].passed)
        self.assertIn("the run stopped early (timeout) after the line 'fork ok'",
                      tests["run_pipe"].message)

    def test_children_of_a_wrong_parent_fail(self):
        lab = FakeLab(self)

        @gradelib.test(0, "wrong")
        def test_wrong(ctx):
            ctx.current.boot = fake_boot("ok", RUN + "a\n== end: ok\n")
            raise gradelib.TestFailure("wrong")
        lab.child("wrong_child", test_wrong, 5, r"a", ["a"])
        tests, _ = lab.run()
        self.assertEqual(tests["wrong_child"].message, "parent test wrong failed")

    def test_a_killed_process_is_shown_next_to_the_failure(self):
        lab = FakeLab(self)
        killed = "process pipetest[3] killed: page fault (vector 14) at rip 0x401000"
        run = lab.parent("run", "ok", RUN + killed + "\npipe bad\n== end: ok\n")
        lab.child("run_pipe", run, 10, r"pipe ", ["pipe ok"])
        tests, _ = lab.run()
        message = tests["run_pipe"].message
        self.assertIn("line 1:\n      expected: pipe ok\n      got:      pipe bad", message)
        self.assertIn("during the run the kernel killed:\n    " + killed, message)

    def test_the_stubs_that_ran_are_shown_next_to_the_failure(self):
        lab = FakeLab(self)
        stub = "LAB 3: load_segment not written"
        run = lab.parent("run", "ok", RUN + stub + "\n" + stub + "\nhello bad\n== end: ok\n")
        lab.child("run_hello", run, 10, r"hello ", ["hello ok"])
        tests, _ = lab.run()
        message = tests["run_hello"].message
        self.assertIn("exercises whose stubs ran:\n    " + stub, message)
        self.assertEqual(message.count(stub), 1)

    def test_a_boot_whose_emulator_crashed_runs_again_once(self):
        lab = FakeLab(self)
        crashed = runner.RunResult("qemu", "", status="crashed", output="booting\n",
                                   reason="qemu itself died of SIGSEGV (signal 11): ...")
        ok = runner.RunResult("qemu", "", status="ok", output="== run: x (token %s)\n== end: ok\n")
        runs = []

        def run_captured(emulator, cmdline, log, **kw):
            runs.append(cmdline)
            if len(runs) <= lab.crashes:
                return crashed
            token = cmdline.split("token=")[1].split()[0]
            return runner.RunResult("qemu", "", status="ok", output=ok.output % token)

        @gradelib.test(5, "boots")
        def test_boots(ctx):
            ctx.boot("x").expect_status("ok")
        with unittest.mock.patch.object(runner, "run_captured", run_captured):
            lab.crashes = 1
            tests, out = lab.run()
            self.assertTrue(tests["boots"].passed)
            self.assertEqual(len(runs), 2)
            self.assertIn("ran again: qemu itself died of SIGSEGV", out)
            runs.clear()
            lab.crashes = 2
            tests, _ = lab.run()
            self.assertFalse(tests["boots"].passed)
            self.assertEqual(len(runs), 2)
            self.assertIn("crashed: qemu itself died of SIGSEGV", tests["boots"].message)

    def test_bochs_power_off_is_not_an_error(self):
        lab = FakeLab(self)
        shutdown = "00012345p[UNMP ] >>PANIC<< Shutdown port: shutdown requested"
        lab.parent("wants_ok", "panic", RUN + "kernel panic at x.c:1: boom\n== end: panic\n",
                   emulator_log=shutdown + "\n00012346e[CPU0 ] a real error\n")
        tests, _ = lab.run()
        message = tests["wants_ok"].message
        self.assertNotIn("Shutdown port", message)
        self.assertIn("a real error", message)

    def test_lists_are_compared_by_item(self):
        with self.assertRaises(gradelib.TestFailure) as e:
            gradelib.expect_equal_lists(["cpu 0: up", "cpu 1: up", "cpu 2: up"],
                                        ["cpu 0: up", "cpu 2: up"], "CPUs")
        message = str(e.exception)
        self.assertIn("(3 items expected, 2 came)", message)
        self.assertIn("line 2:\n      expected: cpu 1: up\n      got:      cpu 2: up", message)

    def test_leak_counts_are_never_negative(self):
        for start, end, want in ((100, 88, "12 leaked"), (100, 612, "512 more pages free")):
            boot = fake_boot("ok", RUN + "free pages: start %d end %d\n" % (start, end))
            with self.assertRaises(gradelib.TestFailure) as e:
                gradelib.expect_no_leak(boot)
            self.assertIn(want, str(e.exception))
            self.assertNotIn("-", str(e.exception))
        gradelib.expect_no_leak(fake_boot("ok", RUN + "free pages: start 5 end 5\n"))


class MachineOptions(unittest.TestCase):
    def test_ram_is_split_around_the_pci_hole(self):
        self.assertEqual(gradelib.ram_layout(3000), (3000, 0))
        self.assertEqual(gradelib.ram_layout(3584), (3072, 512))
        self.assertEqual(gradelib.ram_layout(5120), (3072, 2048))

    def test_what_was_asked_wins_over_the_tests_choices(self):
        ctx = gradelib.Context("qemu", Path("."), random.Random(1), False,
                               gradelib.Machine(megs=5120, smp=3))
        self.assertEqual((ctx.megs(64, 128), ctx.cpus(1, 2, 4)), (5120, 3))
        ctx = gradelib.Context("qemu", Path("."), random.Random(1), False)
        self.assertIn(ctx.megs(64, 128), (64, 128))

    def test_the_cpu_model_reaches_both_emulators(self):
        cmd = runner.qemu_command("qemu", "run=x", 3, 3584, cpu="Haswell")
        self.assertEqual(cmd[cmd.index("-cpu") + 1], "Haswell")
        self.assertEqual(cmd[cmd.index("-m") + 1], "3584")
        self.assertNotIn("-cpu", runner.qemu_command("qemu", "run=x", 1, 128))
        config = runner.bochs_config("k.iso", "b.log", 3, 512, "file", "c.log",
                                     "corei7_skylake_x")
        self.assertIn("cpu: model=corei7_skylake_x, count=3,", config)
        self.assertIn("cpu: model=%s," % runner.BOCHS_CPU_MODEL,
                      runner.bochs_config("k.iso", "b.log", 1, 512, "file", "c.log"))

    def test_the_network_is_restricted_and_forwarded_from_loopback_only(self):
        cmd = runner.qemu_command("qemu", "run=x", 1, 128)
        self.assertEqual(cmd[cmd.index("-nic") + 1], "none")
        cmd = runner.qemu_command("qemu", "run=x", 1, 128, net_port=12345)
        self.assertNotIn("-nic", cmd)
        netdev = cmd[cmd.index("-netdev") + 1].split(",")
        self.assertIn("restrict=on", netdev)
        self.assertEqual(["hostfwd=tcp:127.0.0.1:12345-:12345",
                          "hostfwd=udp:127.0.0.1:12345-:12345"],
                         [o for o in netdev if o.startswith("hostfwd")])
        self.assertIn("e1000,netdev=n0,mac=" + runner.NET_MAC, cmd)
        slirp = runner.bochs_slirp_config(12345).splitlines()
        self.assertEqual("# slirp config", slirp[0])
        self.assertIn("restricted = 1", slirp)
        self.assertEqual(["hostfwd = tcp:127.0.0.1:12345-:12345",
                          "hostfwd = udp:127.0.0.1:12345-:12345"],
                         [l for l in slirp if l.startswith("hostfwd")])
        self.assertNotIn("e1000", runner.bochs_config("k.iso", "b.log", 1, 512, "file", "c.log"))
        config = runner.bochs_config("k.iso", "b.log", 1, 512, "file", "c.log",
                                     slirp_config="s.conf")
        self.assertIn("plugin_ctrl: e1000=1\n", config)
        self.assertIn("e1000: enabled=1, mac=%s, ethmod=slirp, script=s.conf\n"
                      % runner.NET_MAC, config)

    @unittest.skipUnless(runner.KERNEL_ELF.exists(), "needs the built kernel (make kernel)")
    def test_memory_map_beyond_the_pci_hole(self):
        """Lab 1's memory-map test passes on a machine with RAM above 4 GiB,
        and fails when that RAM is missing from the map."""
        with tempfile.TemporaryDirectory() as tmp:
            ctx = gradelib.Context("qemu", Path(tmp), random.Random(1), False,
                                   gradelib.Machine(megs=3584))
            ctx.current = gradelib.Test("boot", "boot", 1, None)
            lab1.test_boot.fn(ctx)
            ctx.boot = lambda *a, **k: fake_boot("ok", RUN + (
                "memory: 0x0000000000100000-0x00000000bffe0000 usable\n"
                "usable: 3145087 KiB\n== end: ok\n"))
            with self.assertRaises(gradelib.TestFailure) as e:
                lab1.test_boot.fn(ctx)
            self.assertIn("no usable region 0x100000000-0x120000000", str(e.exception))


class PlantedMistakes(unittest.TestCase):
    """tools/mutants: every mutant of grader/mutants.txt applies to the
    tree (its lines are in its exercise's region, once)."""

    def test_every_mutant_applies(self):
        import importlib.machinery
        import importlib.util
        loader = importlib.machinery.SourceFileLoader("mutants", str(runner.TOP / "tools/mutants"))
        mutants = importlib.util.module_from_spec(
            importlib.util.spec_from_loader("mutants", loader))
        loader.exec_module(mutants)
        planted = mutants.parse(mutants.DATA.read_text())
        self.assertGreaterEqual(len(planted), 5 * 13)
        for m in planted:
            with self.subTest(mutant=m.name):
                source = (runner.TOP / m.path).read_text()
                self.assertNotEqual(mutants.apply(m, source), source)
        m = mutants.Mutant(1, "ksym_lookup", "not there", 0, "kernel/debug/ksyms.c",
                           ["return no_such_line;"], [])
        with self.assertRaises(ValueError):
            mutants.apply(m, (runner.TOP / m.path).read_text())


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
        self.assertIn("timeout: no end marker within 3 s (a hang?); cpu 0 in ", message)
        self.assertIn("kernel monitor: type 'help' for the commands", message)

    def test_hang_names_the_function_it_spins_in(self):
        """QEMU's monitor says where each CPU was: the first spins in
        lab1_hang_spin, called by the self-test's runner; the second was
        never started (the BIOS halted it)."""
        boot, message = self.boot_expecting_ok("lab1.hang", timeout=3, smp=2)
        self.assertEqual(boot.result.status, "timeout")
        self.assertRegex(message, r"^timeout: no end marker within 3 s \(a hang\?\); "
                                  r"cpu 0 in lab1_hang_spin\+0x[0-9a-f]+ < ktest_run\+0x[0-9a-f]+ "
                                  r"< .*, cpu 1 at 0x[0-9a-f]+ \(halted\)\n")

    @unittest.skipUnless(shutil.which("bochs"), "needs Bochs")
    def test_hang_under_bochs_names_the_function(self):
        """Bochs's debugger, stopped by SIGINT, says where the CPU was and
        reads its frame chain."""
        self.ctx = gradelib.Context("bochs", Path(self.tmp.name), random.Random(1), echo=False)
        boot, message = self.boot_expecting_ok("lab1.hang", timeout=10)
        self.assertEqual(boot.result.status, "timeout")
        self.assertRegex(message, r"^timeout: no end marker within 10 s \(a hang\?\); "
                                  r"cpu 0 in lab1_hang_spin\+0x[0-9a-f]+ < ktest_run\+0x[0-9a-f]+ "
                                  r"< .*higher_half_entry\+0x[0-9a-f]+\n")
        self.assertNotIn("Next at t=", boot.lines[-1])

    def test_endless_printing_is_stopped_early_as_a_loop(self):
        """A kernel that prints the same lines forever is stopped once they
        have come a thousand times, long before the time limit, with a
        short log."""
        boot, message = self.boot_expecting_ok("lab1.loop", timeout=30, lines=2)
        self.assertEqual(boot.result.status, "loop")
        self.assertLess(boot.result.seconds, 10)
        self.assertRegex(message, r"^loop: the kernel printed the 2 lines "
                                  r"'lab1\.loop: line 1 of 2, again and again', "
                                  r"'lab1\.loop: line 2 of 2, again and again' "
                                  r"1000 times in a row \(a loop\?\); cpu 0 in \w+\+0x")
        self.assertRegex(message.splitlines()[0], r" < lab1_loop_print\+0x[0-9a-f]+ < lab1_loop\+")
        self.assertEqual(len(boot.test_lines()), 2 * runner.LoopWatch.REPEATS)
        # The verdict shows the lines before the loop, and the loop once.
        self.assertIn("\nlast lines of output, with the loop's lines once:\n    kernel: ", message)
        self.assertRegex(message, r"\n    == run: lab1\.loop \(token \w+\)\n"
                                  r"    lab1\.loop: line 1 of 2, again and again\n"
                                  r"    lab1\.loop: line 2 of 2, again and again$")

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
