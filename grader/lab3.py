"""Lab 3 tests: user processes. The grader picks each program's argument,
so the expected output is known only to it; it checks fault addresses
against the programs' own symbols, and that no page leaks."""

import re
import subprocess

import gradelib
from gradelib import TestFailure, header_constant, image_symbol, runner, test

KERNBASE = 0xFFFFFFFF80000000


def function_range(program, name):
    """[start, end) of a function of a user program, from its symbols."""
    elf = runner.BUILD / "user" / ("%s.elf" % program)
    out = subprocess.run(["nm", "-n", "-S", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == name:
            start = int(parts[0], 16)
            return start, start + int(parts[1], 16)
    raise TestFailure("%s has no function %s" % (elf, name))


def expect_in_main(program, rip):
    start, end = function_range(program, "main")
    if not start <= rip < end:
        raise TestFailure("%s: reported rip 0x%x is not in its main [0x%x, 0x%x)"
                          % (program, rip, start, end))


def expect_no_leak(boot):
    gradelib.expect_no_leak(boot, "the processes")


def run_programs(ctx, programs, arg):
    """Boot lab3.run with these programs (comma-separated) and arg; the run
    must end normally. The Boot keeps arg (for the children of a test)."""
    boot = ctx.boot("lab3.run", prog=programs, arg="0x%x" % arg)
    boot.arg = arg
    boot.expect_status("ok")
    return boot


def ended(pid, name, status):
    return "process %s[%d] ended with status %d" % (name, pid, status)


@test(15, "hello: a process runs, prints, exits with a status",
      exercises=["load_segment", "user_range_ok"])
def test_hello(ctx):
    arg = ctx.rng.getrandbits(32)
    boot = run_programs(ctx, "hello", arg)
    boot.expect_lines(r"(process|hello)", [
        "process hello[1] started",
        "hello from pid 1, arg 0x%x" % arg,
        ended(1, "hello", arg % 100)], "hello")
    expect_no_leak(boot)


@test(5, "segments that share a page and start inside it", exercises=["load_segment"])
def test_packed(ctx):
    # packed's text, read-only data and data all touch one page: it must
    # be executable, writable, and hold each segment's bytes where they go.
    boot = run_programs(ctx, "packed", ctx.rng.getrandbits(16))
    boot.expect_lines(r"(process packed|packed: )", [
        "process packed[1] started", "packed: read-only data intact, data 42",
        ended(1, "packed", 0)], "packed")
    expect_no_leak(boot)


@test(0, "faults: the self-test runs")
def test_faults(ctx):
    text, etext = image_symbol("_text"), image_symbol("_etext")
    # An address in the kernel's text: mapped, but not for user mode.
    offset = ctx.rng.randrange(text - KERNBASE - 0x100000, etext - KERNBASE - 0x100000) & 0xF000
    offset = max(offset, (text - KERNBASE - 0x100000 + 0xFFF) & 0xF000)
    arg = (ctx.rng.getrandbits(16) << 16) | offset
    run_programs(ctx, "divzero,breakpoint,readkernel,hello", arg)


def killed_line(boot, pid, name):
    pattern = re.compile(r"process %s\[%d\] killed: (.*)$" % (name, pid))
    for line in boot.test_lines():
        m = pattern.match(line)
        if m:
            return m.group(1)
    raise TestFailure("no line 'process %s[%d] killed: ...'" % (name, pid))


@test(10, "faults: a divide error kills the process, naming the instruction",
      parent=test_faults, exercises=["load_segment"])
def test_faults_divide(ctx, boot):
    what = killed_line(boot, 1, "divzero")
    m = re.match(r"divide error \(vector 0\) at rip 0x(\w+)$", what)
    if not m:
        raise TestFailure("expected 'divide error (vector 0) at rip 0x...', got '%s'" % what)
    expect_in_main("divzero", int(m.group(1), 16))
    boot.expect_lines(r"process divzero", ["process divzero[1] started",
                                            "process divzero[1] killed: " + what,
                                            ended(1, "divzero", 128)], "divzero")
    if any(l.startswith("divzero: still running") for l in boot.test_lines()):
        raise TestFailure("divzero went on after the fault")


@test(5, "faults: a breakpoint is reported and the process continues",
      parent=test_faults, exercises=["load_segment", "user_range_ok"])
def test_faults_breakpoint(ctx, boot):
    lines = boot.matching(r"process breakpoint\[2\]: breakpoint at rip ")
    if not lines:
        raise TestFailure("no 'process breakpoint[2]: breakpoint at rip 0x...' line")
    expect_in_main("breakpoint", int(lines[0].rsplit("0x", 1)[1], 16))
    boot.expect_lines(r"(after the breakpoint|process breakpoint\[2\] ended)", [
        "after the breakpoint, arg 0x%x" % boot.arg, ended(2, "breakpoint", 0)], "breakpoint")


@test(10, "faults: reading kernel memory kills the process, naming the address",
      parent=test_faults, exercises=["load_segment"])
def test_faults_readkernel(ctx, boot):
    address = 0xFFFFFFFF80100000 + (boot.arg & 0xF000)
    what = killed_line(boot, 3, "readkernel")
    m = re.match(r"page fault \(vector 14\) at rip 0x(\w+), address 0x(\w+): (.*)$", what)
    if not m:
        raise TestFailure("expected 'page fault (vector 14) at rip 0x..., address 0x...: ...', "
                          "got '%s'" % what)
    expect_in_main("readkernel", int(m.group(1), 16))
    if int(m.group(2), 16) != address or m.group(3) != "read from a protected page":
        raise TestFailure("expected 'address 0x%x: read from a protected page', got "
                          "'address 0x%s: %s'" % (address, m.group(2), m.group(3)))
    boot.expect_lines(r"process readkernel\[3\] ended", [ended(3, "readkernel", 142)],
                      "readkernel's status")


@test(5, "faults: the kernel goes on, and every page comes back",
      parent=test_faults, exercises=["load_segment", "user_range_ok"])
def test_faults_after(ctx, boot):
    boot.expect_lines(r"(hello from|process hello)", [
        "process hello[4] started", "hello from pid 4, arg 0x%x" % boot.arg,
        ended(4, "hello", boot.arg % 100)], "a process after three faults")
    expect_no_leak(boot)


@test(20, "bad pointers and lengths: -EFAULT and friends, never a crash",
      exercises=["user_range_ok"])
def test_badptr(ctx):
    arg = ctx.rng.getrandbits(24)
    boot = run_programs(ctx, "badptr", arg)
    boot.expect_lines(r"(write|sbrk|map|pipe)\(", [
        "write(kernel) = -14", "write(direct map) = -14", "write(supervisor page) = -14",
        "write(null) = -14",
        "write(unmapped) = -14", "write(wraps) = -14", "write(past heap) = -14",
        "write(heap end) = 4",
        "write(bad fd) = -9", "write(ok) = 3", "pipe(read-only) = -14",
        "sbrk(huge) = -12", "map(kernel) = -22", "map(unaligned) = -22"],
        "system call results")
    boot.expect_lines(r"process badptr", ["process badptr[1] started",
                                           ended(1, "badptr", 0)], "badptr")
    expect_no_leak(boot)


@test(5, "unknown system call numbers return -ENOSYS",
      exercises=["load_segment", "user_range_ok"])
def test_badsyscall(ctx):
    arg = ctx.rng.getrandbits(32)
    boot = run_programs(ctx, "badsyscall", arg)
    nsyscalls = header_constant("kernel/lib/sysnum.h", "NSYSCALLS")
    numbers = [nsyscalls, nsyscalls + arg % 1000, (1 << 64) - 1, 1 << 63]
    boot.expect_lines(r"syscall ", ["syscall %d = -38" % n for n in numbers], "badsyscall")


@test(10, "a system call that would SYSRET to a non-canonical address ends the process",
      exercises=["load_segment", "user_range_ok"])
def test_sysret(ctx):
    boot = run_programs(ctx, "sysret,hello", ctx.rng.getrandbits(20))
    boot.expect_lines(r"process sysret", [
        "process sysret[1] started",
        "process sysret[1] killed: its system call would return to the non-canonical "
        "address 0x800000000000",
        ended(1, "sysret", 141)], "sysret")
    if not boot.matching(r"process hello\[2\] ended with status"):
        raise TestFailure("the next process did not run")
    expect_no_leak(boot)


@test(10, "malloc and free on sbrk", exercises=["load_segment", "user_range_ok"])
def test_heap(ctx):
    arg = ctx.rng.getrandbits(32)
    # Twice: the second run's heap reuses pages the first one dirtied.
    boot = run_programs(ctx, "heap,heap", arg)
    boot.expect_lines(r"heap: fresh", ["heap: fresh memory has 0 nonzero bytes"] * 2,
                      "new heap memory")
    lines = boot.matching(r"heap: \d+ blocks")
    want = r"heap: %d blocks checked, heap grew by \d+ bytes$" % (16 + arg % 48)
    if len(lines) != 2 or not all(re.match(want, l) for l in lines):
        raise TestFailure("expected two lines matching '%s', got:\n%s"
                          % (want, gradelib.indent(lines)))
    boot.expect_lines(r"process heap\[\d\] ended",
                      [ended(1, "heap", 0), ended(2, "heap", 0)], "heap")
    expect_no_leak(boot)


@test(10, "broken ELF images are refused with -ENOEXEC")
def test_bad_elf(ctx):
    boot = ctx.boot("lab3.bad_elf")
    boot.expect_status("ok")
    boot.expect_lines(r"bad elf ", ["bad elf %s: -8" % w for w in
                                    ("magic", "class", "machine", "truncated", "phoff")],
                      "refused images")
    expect_no_leak(boot)


@test(10, "user_range_ok: ranges ending at USER_TOP, read-only pages written",
      exercises=["user_range_ok"])
def test_uaccess(ctx):
    n = ctx.rng.randint(1, 4096)
    boot = ctx.boot("lab3.uaccess", len=n)
    boot.expect_status("ok")
    user_top = header_constant("kernel/arch/memlayout.h", "USER_TOP")
    read_only, writable = 0x60000000, 0x60001000

    def line(what, va, length, write, ok):
        return "uaccess: %s [0x%x, +0x%x) %s: %s" % (what, va, length, "write" if write else "read",
                                                    "ok" if ok else "refused")
    want = [line("last bytes", user_top - n, n, False, True),
            line("last bytes", user_top - n, n, True, True),
            line("one past the end", user_top - n, n + 1, False, False),
            line("read-only page", writable - n, n, False, True),
            line("read-only page", writable - n, n, True, False),
            line("writable page", writable, n, True, True),
            line("both pages", writable - n, 2 * n, False, True),
            line("both pages", writable - n, 2 * n, True, False)]
    got = boot.matching(r"uaccess: ")
    for w, g in zip(want, got):
        if w != g and w.startswith("uaccess: last bytes"):
            raise TestFailure("a range that ends exactly at USER_TOP (0x%x) is all user "
                              "memory: expected '%s', got '%s'" % (user_top, w, g))
        if w != g and "write" in w and "refused" in w:
            raise TestFailure("a write to a page without PTE_W must be refused: expected "
                              "'%s', got '%s'" % (w, g))
    boot.expect_lines(r"uaccess: ", want, "user_range_ok's answers")
    expect_no_leak(boot)
