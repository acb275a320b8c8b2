"""Lab 8 tests: libdune, the ring-0 library of Dune processes (VT-x
under Bochs, or KVM with nested VMX). Its test program, libdunetest,
checks the page tables, the handlers and ring 3; its apps (sandbox,
sthreads, gc) and the benchmarks (run=bench.dune) run beside it. The
kernel reports how each process ended and whether its pages came back.
Tokens are chosen here."""

import itertools
import re

from gradelib import ENDED, TestFailure, expect_equal_lists, expect_no_leak, run_view, test

ENOMEM, ENOENT, EFAULT, EBADF, EINVAL = 12, 2, 14, 9, 22
VA_TEST = 0x100000000000       # libdunetest.c: outside both windows
VA_PROT = VA_TEST + 0x1F3000   # libdunetest.c: mprotect's page


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
# The sandbox's loader sets each segment's permissions with dune_vm_mprotect;
# gc and the benchmark protect pages with it (through vmprim).
SANDBOX = ["sandbox_policy", "dune_vm_mprotect"]
GC = ["appel_li", "dune_vm_mprotect", "dune_vm_page_walk"]


@test(5, "libdune's test program runs its modes one after another; every page comes back")
def test_libdune(ctx):
    c = {"vm": ctx.rng.getrandbits(40) | 0x10, "user": ctx.rng.getrandbits(31) | 0x100}
    boot = ctx.boot("lab8.run", args=",".join((
        "libdunetest:vm:0x%x" % c["vm"], "libdunetest:user:0x%x" % c["user"])))
    boot.choices = c
    boot.expect_status("ok")
    view(boot, RUNS[0])     # every run ended, in order
    expect_no_leak(boot, "libdune's tests")


def view(boot, name):
    return run_view(boot, RUNS, name)


def vm_lines(boot, prefixes):
    """The lines of libdunetest vm that start with one of prefixes."""
    return [l for l in view(boot, "vm").matching(r"libdunetest: ")
            if l.startswith(tuple("libdunetest: " + p for p in prefixes))]


@test(5, "page tables: map, lookup, dirty bits, unmap, a missing table (given code)",
      parent=test_libdune)
def test_vm_map(ctx, boot):
    t, va = boot.choices["vm"], VA_TEST
    expect_equal_lists([
        "libdunetest: pool: 3 pages more in use",
        "libdunetest: map_phys 0x%x: 0, reads 0x%x" % (va, t),
        "libdunetest: lookup: 0, the page 1, present 1 writable 1 user 0 no-execute 1 accessed 1",
        "libdunetest: dirty bit: after a read 0 (accessed 1), after a write 1",
        "libdunetest: unmap: read 0xdead, 1 fault at 0x%x, error 0x0; lookup 0, entry 0x0"
        % (va + 0x1000),
        "libdunetest: lookup without a table: -%d" % ENOENT],
        vm_lines(boot, ("pool: 3", "map_phys", "lookup", "dirty", "unmap")),
        "what the page tables did")
    ended(view(boot, "vm"), 0, "libdunetest")


@test(5, "dune_vm_page_walk: the leaves of a range in order, 4 KiB and 2 MiB", parent=test_libdune,
      exercises=["dune_vm_page_walk"])
def test_vm_walk(ctx, boot):
    expect_equal_lists([
        "libdunetest: page walk: 0, 3 pages at 0x0 0x1000 0x3000; of one page 1; stopped by the "
        "callback 7 after 2; backwards -%d" % EINVAL,
        "libdunetest: 2 MiB page: 0, 1 leaf (1 of 2 MiB), reads the program 1; across tables 2 "
        "leaves; after unmapping 4 KiB of it: 511 leaves (0 of 2 MiB)"],
        vm_lines(boot, ("page walk", "2 MiB")), "the page walks")


@test(5, "dune_vm_mprotect: a write to a page made read-only faults, the handler makes it "
      "writable; an unmapped page is refused", parent=test_libdune,
      exercises=["dune_vm_mprotect"])
def test_vm_mprotect(ctx, boot):
    t = boot.choices["vm"]
    expect_equal_lists([
        "libdunetest: mprotect: 0; write: 1 fault at 0x%x, error 0x3, served by the handler; "
        "the page holds 0x%x; dirty after another mprotect 1" % (VA_PROT, t + 1),
        "libdunetest: mprotect of an unmapped page: -%d" % ENOMEM],
        vm_lines(boot, ("mprotect",)), "mprotect")


@test(5, "dune_vm_clone and dune_vm_free: a copy of the tables maps the same pages, is its own, "
      "and gives every table back", parent=test_libdune, exercises=["dune_vm_clone"])
def test_vm_clone(ctx, boot):
    t = boot.choices["vm"]
    expect_equal_lists([
        "libdunetest: clone: made, reads 0x%x there; unmapped there, reads 0x%x here; the pool "
        "page's references: 3 with the copy, 2 after its free" % (t + 2, t ^ 3),
        "libdunetest: after unmap: 0 pages; pool: 5 pages more in use than at the start "
        "(the tables made)"], vm_lines(boot, ("clone", "after unmap")), "the clone")


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


@test(15, "bench.dune: native and Dune costs in one run; a system call dearer in Dune, a trap cheaper",
      exercises=["appel_li", "dune_vm_mprotect", "sthreads"])
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


# -- the apps: one boot runs them one after another --

APPS = ("echo", "forktest", "peek", "badptr", "sthreads", "gc")
SANDBOX_BASE = 0x10000000


@test(5, "the apps run from the kernel's programs, one after another; every page comes back")
def test_apps(ctx):
    c = {"words": ["w%x" % ctx.rng.getrandbits(24), "v%x" % ctx.rng.getrandbits(24)],
         "peek": SANDBOX_BASE + ctx.rng.randrange(0, 0x1000, 8),
         "sthreads": ctx.rng.getrandbits(24) | 0x100, "gc": ctx.rng.getrandbits(40)}
    boot = ctx.boot("lab8.run", args=",".join((
        "sandbox:echo:%s:%s" % tuple(c["words"]), "sandbox:forktest:2",
        "sandbox:peek:0x%x" % c["peek"], "sandbox:badptr", "sthreads:0x%x:10" % c["sthreads"],
        "gc:0x%x" % c["gc"])))
    boot.choices = c
    boot.expect_status("ok")
    app_view(boot, APPS[0])     # every app ended, in order
    expect_no_leak(boot, "the apps")


def app_view(boot, name):
    return run_view(boot, APPS, name)


@test(10, "sandbox: an unmodified program runs in ring 3; its allowed calls pass", parent=test_apps,
      exercises=SANDBOX)
def test_sandbox_allows(ctx, boot):
    v, words = app_view(boot, "echo"), boot.choices["words"]
    expect_equal_lists(["sandbox: running echo in ring 3", " ".join(words),
                        "sandbox: echo ended with status 0; system calls: 1 allowed, 0 denied, "
                        "0 rewritten"], [l for l in v.lines if not ENDED.match(l)],
                       "echo in the sandbox")
    ended(v, 0, "sandbox")


@test(10, "sandbox: a call the policy denies is refused with an error and logged", parent=test_apps,
      exercises=SANDBOX)
def test_sandbox_denies(ctx, boot):
    v = app_view(boot, "forktest")
    expect_equal_lists([
        "sandbox: running forktest in ring 3",
        "sandbox: denied fork(0x0, 0x0, 0x0) from forktest: not in the policy, -1",
        "forktest: fork 0 failed: -1",
        "sandbox: forktest ended with status 1; system calls: 1 allowed, 1 denied, 0 rewritten"],
        [l for l in v.lines if not ENDED.match(l)], "forktest in the sandbox")
    ended(v, 1, "sandbox")


@test(10, "sandbox: the sandboxed program cannot read the sandbox's memory", parent=test_apps,
      exercises=SANDBOX)
def test_sandbox_memory(ctx, boot):
    v, addr = app_view(boot, "peek"), boot.choices["peek"]
    lines = [l for l in v.lines if not ENDED.match(l)]
    if len(lines) != 4 or not re.match(r"sandbox: peek: page fault at 0x%x, error 0x5, rip 0x\w+: "
                                       r"stopped$" % addr, lines[2]):
        raise TestFailure("expected a page fault of peek at 0x%x (error 0x5: a user read of a "
                          "supervisor page), got %s" % (addr, lines))
    expect_equal_lists([
        "sandbox: running peek in ring 3", "peek: reading 0x%x" % addr, lines[2],
        "sandbox: peek ended with status 142; system calls: 1 allowed, 0 denied, 0 rewritten"],
        lines, "peek in the sandbox")
    ended(v, 142, "sandbox")


def expect_matching_lists(patterns, actual, what):
    """Each line of actual must match (re.fullmatch) the pattern at its place."""
    shown = [a if a is not None and re.fullmatch(p, a) else p
             for p, a in itertools.zip_longest(patterns, actual[:len(patterns)])]
    expect_equal_lists(shown, actual, what)


def denied(call, why, err):
    return r"sandbox: denied %s from badptr: %s, -%d" % (call, re.escape(why), err)


ADDR = r"0x[0-9a-f]+"
NOT_MEMORY = "the buffer is not the program's memory"
NOT_MAP_AREA = "outside the sandbox's map area"


@test(10, "sandbox: pointer arguments outside the program's memory (the sandbox's own among "
      "them) are refused; a buffer up to the end of the heap is not", parent=test_apps,
      exercises=SANDBOX)
def test_sandbox_pointers(ctx, boot):
    v = app_view(boot, "badptr")
    e = re.escape
    expect_matching_lists([
        e("sandbox: running badptr in ring 3"),
        denied(e("write(0x1, 0xffffffff80102000, 0x10)"), NOT_MEMORY, EFAULT),
        e("write(kernel) = -14"),
        denied(e("write(0x1, 0xffff800000100000, 0x10)"), NOT_MEMORY, EFAULT),
        e("write(direct map) = -14"),
        denied(e("write(0x1, 0x50000000, 0x8)"), NOT_MEMORY, EFAULT),
        e("write(supervisor page) = -14"),
        denied(e("write(0x1, 0x0, 0x5)"), NOT_MEMORY, EFAULT), e("write(null) = -14"),
        denied(e("write(0x1, 0x%x, 0x8)" % SANDBOX_BASE), NOT_MEMORY, EFAULT),
        e("write(unmapped) = -14"),
        denied(r"write\(0x1, %s, 0xffffffffffffffff\)" % ADDR, NOT_MEMORY, EFAULT),
        e("write(wraps) = -14"),
        denied(r"write\(0x1, %s, 0x10\)" % ADDR, NOT_MEMORY, EFAULT), e("write(past heap) = -14"),
        "end", e("write(heap end) = 4"),
        denied(r"write\(0x7, %s, 0x3\)" % ADDR, "only the console", EBADF),
        e("write(bad fd) = -9"),
        "ok", e("write(ok) = 3"),
        denied(r"pipe\(%s, 0x0, 0x0\)" % ADDR, "not in the policy", 1), e("pipe(read-only) = -1"),
        e("sbrk(huge) = -12"),
        denied(e("map(0xffff800000000000, 0x1000, 0x1)"), NOT_MAP_AREA, EINVAL),
        e("map(kernel) = -22"),
        denied(e("map(0x12345, 0x1000, 0x1)"), NOT_MAP_AREA, EINVAL), e("map(unaligned) = -22"),
        e("sandbox: badptr ended with status 0; system calls: 16 allowed, 11 denied, "
          "2 rewritten")], [l for l in v.lines if not ENDED.match(l)], "badptr in the sandbox")
    ended(v, 0, "sandbox")


@test(15, "sthreads: a tagged policy (shared, copy on write, read-only, hidden) and creation "
      "faster than fork", parent=test_apps, exercises=["sthreads"])
def test_sthreads(ctx, boot):
    v, t = app_view(boot, "sthreads"), boot.choices["sthreads"]
    lines = v.matching(r"sthreads: ")
    timing = [l for l in lines if re.match(r"sthreads: 10 sthreads created", l)]
    secret = [l for l in lines if l.startswith("sthreads: sthread: page fault at 0x4")]
    m = timing and re.match(r"sthreads: 10 sthreads created, run and ended: (\d+) cycles each; "
                            r"fork \+ exit \+ wait: (\d+) cycles each: sthreads faster$", timing[0])
    if not m:
        raise TestFailure("expected 'sthreads: 10 sthreads created, run and ended: N cycles each; "
                          "fork + exit + wait: N cycles each: sthreads faster', got %s" % timing)
    if not secret or not re.match(r"sthreads: sthread: page fault at 0x\w+, error 0x5: stopped$",
                                  secret[0]):
        raise TestFailure("the snooper's read of the secret did not fault: %s" % secret)
    expect_equal_lists([
        "sthreads: policy: tag 0 shared read-write, tag 1 copy on write, tag 2 read-only; "
        "the rest hidden",
        "sthreads: sthread: tag 0 now 0x%x, tag 1 (its copy) 0x%x, tag 2 reads 0x%x"
        % (t, t << 4, t ^ 2),
        "sthreads: writer ended 0 after 1 copy-on-write fault; the parent sees tag 0 0x%x, "
        "tag 1 0x%x" % (t, t ^ 1),
        "sthreads: sthread: reading the untagged secret", secret[0],
        "sthreads: snooper ended -14; the secret is still 0x%x" % (t ^ 0x5ec7e7),
        "sthreads: sthread: writing the read-only tag",
        "sthreads: sthread: page fault at 0x3f002000, error 0x7: stopped",
        "sthreads: scribbler ended -14; tag 2 still 0x%x" % (t ^ 2),
        timing[0],
        "sthreads: the tags' references after the sthreads ended: 2 2 2",
        "sthreads: pool pages in use: 1 more than before (the page table at REGION)"],
        lines, "the sthreads")
    ended(v, 0, "sthreads")


@test(15, "gc: written pages found by mprotect natively, by page-table protections and by dirty "
      "bits in Dune mode; the Appel-Li primitives timed both ways", parent=test_apps, exercises=GC)
def test_gc(ctx, boot):
    v, t = app_view(boot, "gc"), boot.choices["gc"]
    pages = [i for i in range(64) if (t >> (i % 37)) & 1]
    found = "%d pages written:%s" % (len(pages), "".join(" %d" % i for i in pages))
    expect_equal_lists(["gc: %s: %s" % (how, found) for how in ("native", "dune-prot",
                                                                  "dune-dirty")],
                       v.matching(r"gc: [\w-]+: \d+ pages written"), "the pages each way found")
    for prim in ("prot1", "trap", "unprot", "protN", "appel1", "appel2"):
        if not v.matching(r"gc: %s +native +\d+ cycles, dune +\d+ cycles$" % prim):
            raise TestFailure("no line 'gc: %s native N cycles, dune N cycles'" % prim)
    ended(v, 0, "gc")


@test(10, "the apps run from the shell (run=shell.dune): sandbox, sthreads, gc",
      exercises=sorted(set(SANDBOX + GC + ["sthreads"])))
def test_shell(ctx):
    word = "s%x" % ctx.rng.getrandbits(24)
    typed = ["sandbox echo %s" % word, "sandbox ps", "sthreads 0x120 3", "gc 0x3", "exit"]
    boot = ctx.boot("shell.dune", stdin=[("$ ", t + "\n") for t in typed])
    boot.expect_status("ok")
    text = boot.lines
    for want in (word, "sandbox: echo ended with status 0; system calls: 1 allowed, 0 denied, "
                 "0 rewritten",
                 "sandbox: denied ps(0x0, 0x0, 0x0) from ps: not in the policy, -1",
                 "sthreads: writer ended 0 after 1 copy-on-write fault; the parent sees tag 0 "
                 "0x120, tag 1 0x121",
                 "gc: dune-dirty: 4 pages written: 0 1 37 38"):
        if want not in text:
            raise TestFailure("missing in the shell's output: '%s'" % want)
    expect_no_leak(boot)
