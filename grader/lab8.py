"""Lab 8 tests: libdune, the ring-0 library of Dune processes (VT-x
under Bochs, or KVM with nested VMX). Its test program, libdunetest,
checks the page tables, the handlers and ring 3; its apps (sandbox,
sthreads, gc) and the benchmarks (run=bench.dune) run beside it. The
kernel reports how each process ended and whether its pages came back.
Tokens are chosen here."""

import re

from gradelib import TestFailure, expect_equal_lists, expect_no_leak, test

ENOMEM, ENOENT = 12, 2
ENDED = re.compile(r"process \S+\[\d+\] ended with status")


class RunView:
    """The lines of one program's run in a boot that ran several (lab8.run
    args=A,B,...): up to and with the line that says how it ended."""

    def __init__(self, lines):
        self.lines = lines

    def test_lines(self):
        return self.lines

    def matching(self, regex):
        pattern = re.compile(regex)
        return [line for line in self.lines if pattern.match(line)]


def split_runs(boot, names):
    views, current = [], []
    for line in boot.test_lines():
        current.append(line)
        if ENDED.match(line):
            views.append(RunView(current))
            current = []
    if len(views) != len(names):
        raise TestFailure("expected %d programs run one after another; %d ended"
                          % (len(names), len(views)))
    return dict(zip(names, views))


def ended(view, status, name):
    lines = [re.sub(r"\[\d+\]", "", l) for l in view.matching(r"process %s\[\d+\] ended" % name)]
    if lines != ["process %s ended with status %d" % (name, status)]:
        raise TestFailure("expected 'process %s[N] ended with status %d', got %s"
                          % (name, status, lines))


def pid_of(view, name):
    lines = view.matching(r"process %s\[\d+\]" % name)
    return int(re.search(r"\[(\d+)\]", lines[0]).group(1)) if lines else -1


# One boot runs these one after another; a child test checks each run.
RUNS = ("vm", "user")


@test(5, "libdune's test program runs its modes one after another; every page comes back")
def test_libdune(ctx):
    c = {"vm": ctx.rng.getrandbits(40) | 0x10, "user": ctx.rng.getrandbits(31) | 0x100}
    boot = ctx.boot("lab8.run", args=",".join((
        "libdunetest:vm:0x%x" % c["vm"], "libdunetest:user:0x%x" % c["user"])))
    boot.choices = c
    boot.expect_status("ok")
    boot.views = split_runs(boot, RUNS)
    expect_no_leak(boot, "libdune's tests")


def view(boot, name):
    if getattr(boot, "views", None) is None:
        boot.views = split_runs(boot, RUNS)
    return boot.views[name]


@test(20, "page tables: map, lookup, walk, mprotect with a fault the handler serves, dirty bits, "
      "clone, unmap", parent=test_libdune)
def test_vm(ctx, boot):
    v, t = view(boot, "vm"), boot.choices["vm"]
    va = 0x100000000000
    expect_equal_lists([
        "libdunetest: pool: 3 pages more in use",
        "libdunetest: map_phys 0x%x: 0, reads 0x%x" % (va, t),
        "libdunetest: lookup: 0, the page 1, present 1 writable 1 user 0 no-execute 1 accessed 1",
        "libdunetest: page walk: 0, 3 pages at 0x0 0x1000 0x3000",
        "libdunetest: mprotect: 0; write: 1 fault at 0x%x, error 0x3, served by the handler; "
        "the page holds 0x%x" % (va, t + 1),
        "libdunetest: mprotect of an unmapped page: -%d" % ENOMEM,
        "libdunetest: dirty bit: after a read 0 (accessed 1), after a write 1",
        "libdunetest: clone: made, reads 0x%x there" % (t + 2),
        "libdunetest: unmap: read 0xdead, 1 fault at 0x%x, error 0x0; lookup 0, entry 0x0"
        % (va + 0x1000),
        "libdunetest: lookup without a table: -%d" % ENOENT,
        "libdunetest: after unmap: 0 pages; pool: 3 pages more in use than at the start "
        "(the tables made)"], v.matching(r"libdunetest: "), "what the page tables did")
    ended(v, 0, "libdunetest")


@test(20, "ring 3: a system call the handler answers, one passed through, a fault and a "
      "privileged instruction back in the library; syscall in ring 0", parent=test_libdune)
def test_user(ctx, boot):
    v, t = view(boot, "user"), boot.choices["user"]
    pid = pid_of(v, "libdunetest")
    expect_equal_lists([
        "libdunetest: ring 0: getpid by syscall %d, by VMCALL %d" % (pid, pid),
        "libdunetest: ring 3: getpid answered %d" % (t & 0x7FFFFFFF),
        "libdunetest: page fault from ring 3 at 0x3fe00000, error 0x7",
        "libdunetest: dune_jump_to_user returned -14; system calls: 1 intercepted, "
        "1 passed through",
        "libdunetest: exception 13 from ring 3, error 0x0",
        "libdunetest: dune_jump_to_user returned -13",
        "libdunetest: dune_jump_to_user returned %d; system calls: 2 intercepted, "
        "1 passed through" % (1000 + (t & 0x7F))], v.matching(r"libdunetest: "),
        "ring 3 and the library's handlers")
    ended(v, 0, "libdunetest")


BENCH_ROWS = ("getpid", "page fault", "page walk", "trap", "appel1", "appel2",
              "sthread create vs fork")


@test(15, "bench.dune: native and Dune costs in one run; a system call dearer in Dune, a trap cheaper")
def test_bench(ctx):
    boot = ctx.boot("bench.dune")
    boot.expect_status("ok")
    header = boot.matching(r"bench\.dune: on \w+, one CPU's view, TSC \d+ kHz")
    if not header:
        raise TestFailure("no header line 'bench.dune: on EMULATOR, one CPU's view, TSC N kHz'")
    if ctx.emulator == "bochs" and "the TSC counts instructions" not in header[0]:
        raise TestFailure("under Bochs the header must say that the TSC counts instructions: %s"
                          % header[0])
    costs = {}
    for row in BENCH_ROWS:
        lines = boot.matching(r"bench\.dune: %s +native +(\d+) cycles.*, dune +(\d+) cycles"
                              % re.escape(row))
        if len(lines) != 1:
            raise TestFailure("expected one row 'bench.dune: %s native N cycles..., dune N "
                              "cycles...', got %s" % (row, lines))
        m = re.search(r"native +(\d+) cycles.*, dune +(\d+) cycles", lines[0])
        costs[row] = int(m.group(1)), int(m.group(2))
    native, dune = costs["getpid"]
    if not dune > native:
        raise TestFailure("getpid: %d cycles in Dune mode, %d natively: a VMCALL must cost more"
                          % (dune, native))
    native, dune = costs["trap"]
    if not dune < native:
        raise TestFailure("trap: %d cycles in Dune mode, %d natively: the process's own handler "
                          "must cost less than a signal" % (dune, native))
    ended = [re.sub(r"\[\d+\]", "", l) for l in boot.matching(r"process dunebench\[\d+\]")]
    if ended != ["process dunebench ended with status 0"]:
        raise TestFailure("dunebench did not end with status 0: %s" % ended)
