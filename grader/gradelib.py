"""The autograder's library, in the spirit of MIT 6.828's gradelib.

A lab's test file (grader/labN.py) declares tests with @test. A test
boots the kernel once through boot(), which runs a self-test by name with
arguments the test chose (and a random token), and checks lines of its
output; checks fail by raising TestFailure with a message that says what
was expected and what came. Child tests (parent=...) check more lines of
their parent's boot instead of booting again; if the parent failed, they
fail with that reason.

If the parent's run stopped early (a hang, a reset, an unexpected panic),
its children still check the lines it printed: they keep their points if
those lines are right, and their verdict says where the run stopped.

A boot may have a client on this machine (boot(..., client=fn)): the
kernel gets an e1000 whose port is forwarded from 127.0.0.1, and fn
talks to it while it runs (a NetRun); a test may also run a host
program of the tree instead of booting (run_host).

Each test draws its random choices from its own stream, made from the
seed and the test's name, so --seed replays a test's values whatever
--filter selects.

Each test names the exercises it grades (exercises=...): the handout check
(grade.py --handout-check) requires that every test grading an exercise
that the handout removed fails on the handout.
"""

import json
import queue
import random
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import runner  # noqa: E402

LOG_TAIL_LINES = 25
EMULATOR_CRASH_RETRIES = 1
# How long a test's client waits for the kernel's answer on a connection.
# The full tree answers in well under a second, even under Bochs; a
# handout check (grade.py --handout-check) waits less, since there the
# tests of stripped exercises wait for answers their stubs never give.
ANSWER_SECONDS = 30
HANDOUT_CHECK_ANSWER_SECONDS = 5


class TestFailure(Exception):
    pass


class RunStoppedEarly(TestFailure):
    """The run did not end as the test expected (a hang, a reset, an
    unexpected panic): what it printed before may still be checked."""


@dataclass
class Test:
    name: str
    title: str
    points: int
    fn: object
    parent: "Test" = None
    exercises: tuple = ()
    emulators: tuple = ("qemu", "kvm", "bochs")
    # Filled in by the run:
    passed: bool = None
    message: str = ""
    note: str = ""              # said of a pass: on which output it was judged
    stopped_early: bool = False     # failed because its run stopped early
    seconds: float = 0.0
    boot: object = None         # the Boot of this test (or of its parent)


TESTS = []


def test(points, title, parent=None, exercises=(), emulators=None):
    """Declare a test. The decorated function takes the grading context
    (a Context) and raises TestFailure when a check fails."""
    def register(fn):
        t = Test(name=fn.__name__.replace("test_", "", 1), title=title, points=points,
                 fn=fn, parent=parent, exercises=tuple(exercises))
        if emulators:
            t.emulators = tuple(emulators)
        TESTS.append(t)
        return t
    return register


class RunView:
    """The lines of one program's run in a boot that ran several, one
    after another (a self-test's args=A,B,...): up to and with the line
    that says how it ended."""

    def __init__(self, lines):
        self.lines = lines

    def test_lines(self):
        return self.lines

    def matching(self, regex):
        pattern = re.compile(regex)
        return [line for line in self.lines if pattern.match(line)]


ENDED = re.compile(r"process \S+\[\d+\] ended with status")


def split_runs(boot, names):
    """The runs of a boot that ran one program after another, a RunView
    for each of names, in order."""
    views, current = [], []
    for line in boot.test_lines():
        current.append(line)
        if ENDED.match(line):
            views.append(RunView(current))
            current = []
    if len(views) != len(names):
        raise TestFailure("expected %d programs run one after another (%s); %d ended"
                          % (len(names), ", ".join(names), len(views)))
    return dict(zip(names, views))


def run_view(boot, names, name):
    """The RunView of name in a boot that ran names one after another,
    split once and kept on the boot for its child tests."""
    if getattr(boot, "views", None) is None:
        boot.views = split_runs(boot, names)
    return boot.views[name]


class Boot:
    """One run of the kernel and what it printed."""

    def __init__(self, result, token, name):
        self.result = result
        self.token = token
        self.name = name

    @property
    def lines(self):
        return self.result.lines()

    def test_lines(self):
        """The lines after the run header, up to the end marker."""
        lines = self.lines
        start = next((i + 1 for i, line in enumerate(lines)
                      if line.startswith("== run: ")), len(lines))
        end = next((i for i in range(start, len(lines))
                    if lines[i].startswith("== end: ")), len(lines))
        return lines[start:end]

    def matching(self, regex):
        """Lines of the test's output that match regex (re.match)."""
        pattern = re.compile(regex)
        return [line for line in self.test_lines() if pattern.match(line)]

    def expect_status(self, status):
        if self.result.status == status:
            return
        failure = RunStoppedEarly if self.result.status != "ok" else TestFailure
        raise failure(describe_unexpected_end(self.result, status))

    def expect_lines(self, regex, expected, what):
        """The lines matching regex must equal expected, in order."""
        expect_equal_lists(expected, self.matching(regex), what)

    def killed_processes(self):
        """The kernel's reports of processes it killed for a fault."""
        return [line for line in self.test_lines() if PROCESS_KILLED.match(line)]

    def where_it_stopped(self):
        """How the run ended, and its last line, for the verdict of a test
        judged on the output of a run that stopped early."""
        lines = self.test_lines()
        return "the run stopped early (%s) after the line '%s'" % (
            self.result.status, lines[-1] if lines else "(none)")


PROCESS_KILLED = re.compile(r"^process \S+\[\d+\] killed: ")
# What the stub of an exercise prints when it runs (the handouts' stubs),
# alone or after its program's name ("ixdp: LAB 10: ...").
STUB_RAN = re.compile(r"\bLAB \d+: \w+ not written")


def describe_unexpected_end(result, wanted):
    """Explain a run that did not end as wanted: the panic message and its
    backtrace, or the hang, reset or emulator failure."""
    if result.status == "panic":
        lines = result.lines()
        start = next((i for i, line in enumerate(lines) if "kernel panic" in line), None)
        report = lines[start:] if start is not None else lines[-LOG_TAIL_LINES:]
        return "the kernel panicked:\n" + indent(report)
    if result.status == "ok":
        return "the run ended normally, but a %s was expected" % wanted
    lines, what = result.lines(), "last lines of output"
    if result.status == "loop" and result.loop_cycle:
        # The lines that led into the loop, and one copy of it.
        lines = lines[:len(lines) - len(result.loop_cycle) * (runner.LoopWatch.REPEATS - 1)]
        what = "last lines of output, with the loop's lines once"
    return "%s: %s\n%s:\n%s" % (result.status, result.reason, what,
                                  indent(lines[-LOG_TAIL_LINES:]))


def indent(lines):
    return "\n".join("    " + line for line in lines) if lines else "    (no output)"


def expect_equal_lists(expected, actual, what):
    """Two lists of lines (or other items) must be equal: the failure names
    the first items that differ, one per line."""
    if list(actual) != list(expected):
        raise TestFailure("%s: output differs from what was expected (%d items expected, %d "
                          "came)\n%s" % (what, len(expected), len(actual),
                                        line_diff([str(e) for e in expected],
                                                  [str(a) for a in actual])))


def expect_first_line(expected, actual, why):
    """The first line of actual must be expected's first: where the first
    already differs, why says what the hardware asks for there, which
    helps more than a diff of everything that followed."""
    if actual[:1] != expected[:1]:
        raise TestFailure("%s\n      expected: %s\n      got:      %s"
                          % (why, expected[0], actual[0] if actual else "(nothing)"))


def expect_no_leak(boot, what="the test"):
    """The last 'free pages: start S end E' line of the run must show as many
    free pages after as before."""
    lines = boot.matching(r"free pages: start \d+ end \d+$")
    if not lines:
        raise TestFailure("no 'free pages: start N end N' line")
    start, end = (int(x) for x in lines[-1].split()[3::2])
    if end < start:
        raise TestFailure("%d pages free before %s, %d after: %d leaked"
                          % (start, what, end, start - end))
    if end > start:
        raise TestFailure("%d pages free before %s, %d after: %d more pages free than "
                          "before (a page freed twice, or a count that is wrong)"
                          % (start, what, end, end - start))


def line_diff(expected, actual):
    """Show the first differing lines of two line lists."""
    out = []
    for i in range(max(len(expected), len(actual))):
        e = expected[i] if i < len(expected) else "(nothing)"
        a = actual[i] if i < len(actual) else "(nothing)"
        if e != a:
            out.append("    line %d:\n      expected: %s\n      got:      %s" % (i + 1, e, a))
        if len(out) == 5:
            out.append("    ...")
            break
    return "\n".join(out)


@dataclass
class Machine:
    """What the grader was asked to run on (make grade MEM= SMP= CPU=
    FIRMWARE=); None: each test's own choice."""
    megs: int = None
    smp: int = None
    cpu: str = None
    firmware: str = "bios"


MiB = 1 << 20
# QEMU's PC (i440fx) puts RAM below the PCI hole: all of it if it is
# smaller than 3.5 GiB, else the first 3 GiB, and the rest from 4 GiB up.
QEMU_PCI_HOLE_START = 3584
QEMU_LOW_RAM_WITH_HOLE = 3072


def ram_layout(megs):
    """(MiB of RAM below 4 GiB, MiB from 4 GiB up) of a machine of megs MiB."""
    low = megs if megs < QEMU_PCI_HOLE_START else QEMU_LOW_RAM_WITH_HOLE
    return low, megs - low


class Context:
    """What a test function gets: boot(), the emulator in use, and the
    machine asked for."""

    def __init__(self, emulator, logdir, rng, echo, machine=None):
        self.emulator = emulator
        self.logdir = logdir
        self.rng = rng          # the current test's own stream (test_rng)
        self.echo = echo
        self.machine = machine or Machine()
        self.current = None     # the Test being run

    def token(self):
        return "%08x" % self.rng.getrandbits(32)

    def megs(self, *choices):
        """The memory size of a boot: what was asked, else one of choices."""
        return self.machine.megs or self.rng.choice(choices)

    def cpus(self, *choices):
        """The CPU count of a boot whose test takes any: what was asked,
        else one of choices."""
        return self.machine.smp or self.rng.choice(choices)

    def run_host(self, argv, timeout=120):
        """Run argv (a host test of the tree) in the tree, its output
        logged like a boot's. Returns a HostRun; result.exit_code is
        the program's status."""
        import subprocess
        log = self.logdir / ("%s.log" % self.current.name)
        result = runner.RunResult(emulator="host", cmdline=" ".join(map(str, argv)),
                                  log_path=log)
        try:
            proc = subprocess.run(argv, cwd=runner.TOP, capture_output=True, text=True,
                                  timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise TestFailure("%s did not run: %s" % (argv[0], e))
        result.output, result.exit_code, result.status = proc.stdout + proc.stderr, \
            proc.returncode, "ok"
        log.write_text(result.output)
        run = HostRun(result, None, str(argv[0]))
        self.current.boot = run
        return run

    def boot(self, selftest, timeout=None, smp=None, megs=None, stdin=None, stdin_after="K> ",
             client=None, **args):
        """Boot the kernel with run=selftest and key=value args; check the
        run header of a self-test (it carries the token). stdin is typed
        into the serial console. smp and megs: what the test needs (None:
        the machine asked for, else 1 CPU and 128 MiB). client, if given,
        is a function of a NetRun, run here while the kernel runs: the
        boot gets an e1000 forwarded from 127.0.0.1:port and port=PORT;
        if the client fails, the run is stopped and the test fails with
        its reason. Returns a Boot."""
        smp = smp or self.machine.smp or 1
        megs = megs or self.machine.megs or 128
        token = self.token()
        words = ["run=%s" % selftest, "token=%s" % token]
        words += ["%s=%s" % (k, v) for k, v in args.items()]
        log = self.logdir / ("%s.log" % self.current.name)
        show = (lambda s: sys.stdout.write(s)) if self.echo else None
        # An emulator that crashed says nothing of the kernel: the boot
        # (and its client) runs once more, and the test's note says so.
        for attempt in range(EMULATOR_CRASH_RETRIES + 1):
            net = NetRun(free_port()) if client else None
            cmdline = " ".join(words + (["port=%d" % net.port] if net else []))
            echo = net.tee(show) if net else show

            def run():
                return runner.run_captured(self.emulator, cmdline, log, timeout=timeout,
                                           smp=smp, megs=megs, stdin_data=stdin,
                                           stdin_after=stdin_after, echo=echo,
                                           cpu=self.machine.cpu,
                                           firmware=self.machine.firmware,
                                           net_port=net and net.port, stop=net and net.stop)
            result, client_error = net.serve(run, client) if net else (run(), None)
            if result.status != "crashed":
                break
            self.current.note = "ran again: %s" % result.reason.splitlines()[0]
        boot = Boot(result, token, selftest)
        self.current.boot = boot
        if result.status == "error":
            raise TestFailure("the emulator did not run: %s" % result.reason)
        if client_error:
            raise TestFailure("the client on 127.0.0.1:%d: %s" % (net.port, client_error))
        header = "== run: %s (token %s)" % (selftest, token)
        if selftest != "monitor" and header not in boot.lines and result.status in ("ok", "panic"):
            raise TestFailure("the run header '%s' is missing" % header)
        return boot


class HostRun(Boot):
    """A program run on this machine in place of a boot (a host test):
    all its output is the test's lines."""

    def test_lines(self):
        return self.lines


def free_port():
    """A port of 127.0.0.1 free for TCP and UDP (the emulators forward
    both), chosen by the system."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
                    return port
            except OSError:
                continue


class NetRun:
    """What a boot's client gets: the port the emulator forwards from
    127.0.0.1 to the kernel, and the kernel's lines as they come."""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.lines = queue.Queue()
        self.partial = ""

    def tee(self, show):
        """The run's echo: lines to the queue, and to show (if any)."""
        def echo(chunk):
            if show:
                show(chunk)
            self.partial += chunk.replace("\r", "")
            *complete, self.partial = self.partial.split("\n")
            for line in complete:
                self.lines.put(line)
        return echo

    def serve(self, run, client):
        """Runs run() in a thread and client(self) here; a client that
        fails stops the run. Returns (the run's result, the client's
        failure or None)."""
        results = []

        def run_then_end():
            results.append(run())
            self.lines.put(None)        # wait_for: the run is over
        thread = threading.Thread(target=run_then_end, daemon=True)
        thread.start()
        error = None
        try:
            client(self)
        except (TestFailure, OSError) as e:
            error = str(e) or type(e).__name__
        except BaseException:
            # A bug of the client's own: stop the run, then report it.
            self.stop.set()
            thread.join()
            raise
        if error:
            self.stop.set()
        thread.join()
        return results[0], error

    def wait_for(self, pattern, timeout):
        """The first line from now on that matches pattern (re.search)."""
        line = runner.next_matching_line(self.lines, pattern, timeout)
        if line is None:
            raise TestFailure("no line /%s/ from the kernel in %d s" % (pattern, timeout))
        return line

    def connect(self, seconds=20):
        """A connection to the kernel, tried again while refused: the
        emulator's network refuses connections until the guest has sent
        its first frame, which may come a moment after its ready line."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                return socket.create_connection(("127.0.0.1", self.port),
                                                timeout=ANSWER_SECONDS)
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def image_symbol(name):
    """The address of a symbol of the kernel image (any section)."""
    import subprocess
    nm = subprocess.run(["nm", str(runner.KERNEL_ELF)], capture_output=True,
                        text=True, check=True).stdout
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise TestFailure("the kernel image has no symbol %s" % name)


def test_rng(seed, name):
    """The random stream of one test: the same for a seed and a test name,
    whichever other tests run."""
    return random.Random("%d:%s" % (seed, name))


class NoSuchTest(Exception):
    pass


def select_tests(filters, emulator):
    """The tests that run: those on this emulator whose name matches a
    filter (re.search; all of them without filters), with the parents of
    the children selected. A filter that matches no test is an error that
    lists the names."""
    here = [t for t in TESTS if emulator in t.emulators]
    for f in filters:
        if not any(re.search(f, t.name) for t in here):
            elsewhere = [t.name for t in TESTS if t not in here and re.search(f, t.name)]
            raise NoSuchTest("no test matches --filter '%s'%s; the tests are: %s" % (
                f, " on %s (%s runs elsewhere)" % (emulator, ", ".join(elsewhere))
                if elsewhere else "", " ".join(t.name for t in here)))
    wanted = {id(t) for t in here if not filters or any(re.search(f, t.name) for f in filters)}
    for t in here:
        if id(t) in wanted and t.parent is not None:
            wanted.add(id(t.parent))
    return [t for t in here if id(t) in wanted]


def run_tests(lab, emulator, filters, logdir, seed, echo=False, verbose=False, machine=None):
    """Run the lab's tests (those select_tests picks) on the machine asked
    for; print one line per test and the score; return the list of tests
    run."""
    ctx = Context(emulator, logdir, None, echo, machine)
    selected = select_tests(filters, emulator)
    for t in selected:
        ctx.current = t
        ctx.rng = test_rng(seed, t.name)
        start = time.monotonic()
        try:
            if t.parent is not None:
                run_child(ctx, t)
            else:
                t.fn(ctx)
            t.passed = True
        except TestFailure as e:
            t.passed = False
            t.stopped_early = isinstance(e, RunStoppedEarly)
            t.message = str(e) + failure_context(t)
        except Exception:       # a bug in the test itself: say so, go on
            import traceback
            t.passed = False
            t.message = "the grader failed in this test:\n" + traceback.format_exc()
        t.seconds = time.monotonic() - start
        report(t, verbose)
    return selected


def run_child(ctx, t):
    """Check a child test on its parent's run. A run that stopped early is
    still judged on what it printed, and the verdict says so."""
    parent = t.parent
    if parent.boot is None or (not parent.passed and not parent.stopped_early):
        raise TestFailure("parent test %s failed" % parent.name)
    t.boot = parent.boot
    if parent.passed:
        t.fn(ctx, t.boot)
        return
    try:
        t.fn(ctx, t.boot)
    except TestFailure as e:
        raise TestFailure("%s\n(%s)" % (e, t.boot.where_it_stopped()))
    t.note = "judged on the lines before %s" % t.boot.where_it_stopped().replace(
        "the run stopped early", "the run stopped")


# Bochs logs the kernel's power-off at the end of every run as a panic line.
BOCHS_NORMAL_SHUTDOWN = re.compile(r">>PANIC<< Shutdown port: shutdown requested")



def failure_context(t):
    """What to show next to a failed expectation: the stubs of a handout
    that said they ran ("LAB n: name not written"), the processes the
    kernel killed for a fault during the run, and under Bochs the lines of
    its own log that say why a run went wrong (a failed VM entry)."""
    if t.boot is None:
        return ""
    text = ""
    killed = [line for line in t.boot.killed_processes() if line not in t.message]
    if killed:
        text += "\nduring the run the kernel killed:\n" + indent(killed)
    stubs = sorted(set(line for line in t.boot.test_lines() if STUB_RAN.search(line)))
    if stubs:
        text += "\nexercises whose stubs ran:\n" + indent(stubs)
    if t.parent is None:
        log = "\n".join(line for line in t.boot.result.emulator_log.splitlines()
                        if not BOCHS_NORMAL_SHUTDOWN.search(line))
        text += runner.emulator_explanation(log, "")
    return text


def header_constant(path, name):
    """The value of `#define name value` in a header of the tree."""
    for line in (runner.TOP / path).read_text().splitlines():
        m = re.match(r"#define %s\s+(\w+)" % name, line)
        if m:
            return int(m.group(1).rstrip("uUlL"), 0)   # 0x...ul: no C suffix
    raise TestFailure("no #define %s in %s" % (name, path))


def kernel_functions():
    """[(address, name)] of the kernel's functions, sorted, and the end of
    its text, read from the built image the way the kernel's own table is
    made (tools/mksyms.py), so the grader can check every address the
    kernel names."""
    import subprocess
    import mksyms
    nm = subprocess.run(["nm", "-n", str(runner.KERNEL_ELF)], capture_output=True,
                        text=True, check=True).stdout
    return mksyms.function_symbols(nm.splitlines())


def function_at(functions, etext, addr):
    """(name, start) of the function containing addr, or None."""
    found = None
    for start, name in functions:
        if start > addr:
            break
        found = (name, start)
    return found if found is not None and addr < etext else None


def report(t, verbose):
    status = "OK" if t.passed else "FAIL"
    label = ("  " if t.parent else "") + t.title
    print("%-60s %-4s %2d/%-2d (%.1fs)" % (label, status, t.points if t.passed else 0,
                                           t.points, t.seconds))
    if t.passed and t.note:
        print(indent([t.note]))
    if not t.passed:
        print(indent(t.message.splitlines()))
        if t.boot is not None and t.parent is None:
            print("    log: %s" % t.boot.result.log_path)
    sys.stdout.flush()


def remove_passed_runs(tests):
    """Keep the emulator files (ISO, Bochs log) only of failed runs."""
    import shutil
    for t in tests:
        if t.passed and t.boot is not None and t.parent is None:
            shutil.rmtree(t.boot.result.log_path.with_suffix(".run"), ignore_errors=True)


def write_results(path, lab, emulator, tests, seed):
    data = {
        "lab": lab, "emulator": emulator, "seed": seed,
        "score": sum(t.points for t in tests if t.passed),
        "max_score": sum(t.points for t in tests),
        "tests": [{"name": t.name, "title": t.title, "points": t.points,
                   "passed": t.passed, "note": t.note, "seconds": round(t.seconds, 2),
                   "exercises": list(t.exercises), "message": t.message,
                   "log": str(t.boot.result.log_path) if t.boot else None}
                  for t in tests],
    }
    Path(path).write_text(json.dumps(data, indent=2) + "\n")
