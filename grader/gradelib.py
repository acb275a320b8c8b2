"""The autograder's library, in the spirit of MIT 6.828's gradelib.

A lab's test file (grader/labN.py) declares tests with @test. A test
boots the kernel once through boot(), which runs a self-test by name with
arguments the test chose (and a random token), and checks lines of its
output; checks fail by raising TestFailure with a message that says what
was expected and what came. Child tests (parent=...) check more lines of
their parent's boot instead of booting again; if the parent failed, they
fail with that reason.

Each test names the exercises it grades (exercises=...): the handout check
(grade.py --handout-check) requires that every test grading an exercise
that the handout removed fails on the handout.
"""

import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import runner  # noqa: E402

LOG_TAIL_LINES = 25


class TestFailure(Exception):
    pass


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
        raise TestFailure(describe_unexpected_end(self.result, status))

    def expect_lines(self, regex, expected, what):
        """The lines matching regex must equal expected, in order."""
        actual = self.matching(regex)
        if actual != expected:
            raise TestFailure("%s: output differs from what was expected\n%s"
                              % (what, line_diff(expected, actual)))


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
    return "%s: %s\nlast lines of output:\n%s" % (
        result.status, result.reason, indent(result.lines()[-LOG_TAIL_LINES:]))


def indent(lines):
    return "\n".join("    " + line for line in lines) if lines else "    (no output)"


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


class Context:
    """What a test function gets: boot() and the emulator in use."""

    def __init__(self, emulator, logdir, rng, echo):
        self.emulator = emulator
        self.logdir = logdir
        self.rng = rng
        self.echo = echo
        self.current = None     # the Test being run

    def token(self):
        return "%08x" % self.rng.getrandbits(32)

    def boot(self, selftest, timeout=None, smp=1, megs=128, stdin=None, stdin_after="K> ",
             **args):
        """Boot the kernel with run=selftest and key=value args; check the
        run header of a self-test (it carries the token). stdin is typed
        into the serial console. Returns a Boot."""
        token = self.token()
        words = ["run=%s" % selftest, "token=%s" % token]
        words += ["%s=%s" % (k, v) for k, v in args.items()]
        cmdline = " ".join(words)
        log = self.logdir / ("%s.log" % self.current.name)
        echo = (lambda s: sys.stdout.write(s)) if self.echo else None
        result = runner.run_captured(self.emulator, cmdline, log, timeout=timeout,
                                     smp=smp, megs=megs, stdin_data=stdin,
                                     stdin_after=stdin_after, echo=echo)
        boot = Boot(result, token, selftest)
        self.current.boot = boot
        if result.status == "error":
            raise TestFailure("the emulator did not run: %s" % result.reason)
        header = "== run: %s (token %s)" % (selftest, token)
        if selftest != "monitor" and header not in boot.lines and result.status in ("ok", "panic"):
            raise TestFailure("the run header '%s' is missing" % header)
        return boot


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


def run_tests(lab, emulator, filters, logdir, seed, echo=False, verbose=False):
    """Run the lab's tests (those matching a filter, if any); print one
    line per test and the score; return the list of tests run."""
    rng = random.Random(seed)
    ctx = Context(emulator, logdir, rng, echo)
    selected = [t for t in TESTS if emulator in t.emulators and
                (not filters or any(re.search(f, t.name) for f in filters))]
    for t in selected:
        ctx.current = t
        start = time.monotonic()
        try:
            if t.parent is not None:
                if t.parent.passed is None:
                    raise TestFailure("parent test %s was not run" % t.parent.name)
                if not t.parent.passed:
                    raise TestFailure("parent test %s failed" % t.parent.name)
                t.boot = t.parent.boot
                t.fn(ctx, t.boot)
            else:
                t.fn(ctx)
            t.passed = True
        except TestFailure as e:
            t.passed = False
            t.message = str(e)
            # Under Bochs, its own log says why a VM entry failed.
            if t.boot is not None and t.parent is None:
                t.message += runner.emulator_explanation(t.boot.result.emulator_log, "")
        except Exception:       # a bug in the test itself: say so, go on
            import traceback
            t.passed = False
            t.message = "the grader failed in this test:\n" + traceback.format_exc()
        t.seconds = time.monotonic() - start
        report(t, verbose)
    return selected


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
                   "passed": t.passed, "seconds": round(t.seconds, 2),
                   "exercises": list(t.exercises), "message": t.message,
                   "log": str(t.boot.result.log_path) if t.boot else None}
                  for t in tests],
    }
    Path(path).write_text(json.dumps(data, indent=2) + "\n")
