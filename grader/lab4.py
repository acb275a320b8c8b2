"""Lab 4 tests: every CPU comes up and takes timer interrupts, spinlocks
keep a shared counter exact, interrupt nesting is right, lock misuse is
caught. The number of CPUs and of increments are chosen here."""

import re

from gradelib import TestFailure, expect_equal_lists, expect_no_leak, test


def smp_check(ctx, ncpus, topology=""):
    increments = ctx.rng.randrange(2000, 20000)
    boot = ctx.boot("lab4.smp", smp="%d%s" % (ncpus, topology), increments=increments)
    boot.expect_status("ok")
    boot.expect_lines(r"cpus: ", ["cpus: %d found, %d running" % (ncpus, ncpus)], "CPUs")
    ups = sorted(boot.matching(r"cpu \d+: up"), key=lambda l: int(l.split()[1].rstrip(":")))
    expect_equal_lists(["cpu %d: up" % i for i in range(ncpus)],
                       [l.split(",")[0] for l in ups], "'cpu N: up' from each CPU")
    boot.expect_lines(r"counter: ", ["counter: %d" % (ncpus * increments)],
                      "a counter each CPU incremented %d times under a spinlock" % increments)
    boot.expect_lines(r"cpu \d+: (timer|no timer)",
                      ["cpu %d: timer ticks" % i for i in range(ncpus)], "timer interrupts")


@test(10, "one CPU: the APIC timer ticks, the counter is exact")
def test_smp1(ctx):
    smp_check(ctx, 1)


@test(15, "two CPUs come up and work", exercises=["madt", "start_cpu"])
def test_smp2(ctx):
    smp_check(ctx, 2)


@test(15, "four CPUs come up and work", exercises=["madt", "start_cpu"],
      emulators=["qemu", "kvm"])
def test_smp4(ctx):
    smp_check(ctx, 4)


@test(10, "four CPUs of six listed: APIC ids that are not the ACPI ids, disabled entries",
      exercises=["madt", "start_cpu"], emulators=["qemu", "kvm"])
def test_smp_topology(ctx):
    # Two sockets of three cores: APIC ids 0, 1, 2, 4 (the core number
    # takes two bits), ACPI ids 0-3; the MADT lists the two CPUs that could
    # be added later as disabled.
    smp_check(ctx, 4, ",sockets=2,cores=3,maxcpus=6")


@test(10, "push_cli/pop_cli nest; a held spinlock keeps interrupts off", exercises=["push_cli"])
def test_cli(ctx):
    boot = ctx.boot("lab4.cli", smp=1)
    boot.expect_status("ok")
    boot.expect_lines(r"cli: ", [
        "cli: start: interrupts on",
        "cli: two push_cli: interrupts off",
        "cli: one pop_cli: interrupts off",
        "cli: both popped: interrupts on",
        "cli: holding a lock: interrupts off",
        "cli: lock released: interrupts on",
        "cli: pop_cli after cli: interrupts off"], "interrupt state")


@test(5, "taking a spinlock twice panics, naming the lock")
def test_double_lock(ctx):
    boot = ctx.boot("lab4.double_lock", smp=1)
    boot.expect_status("panic")
    want = "spin_lock: cpu 0 already holds lock 'twice' (taken in lab4_double_lock)"
    if not any(line.endswith(want) for line in boot.lines):
        raise TestFailure("missing the panic '%s'" % want)


# -- processes ---------------------------------------------------------------

# A test of processes that never ends (a stub scheduler runs nothing) is
# stopped after this many seconds under QEMU.
PROCESS_TIMEOUT = {"qemu": 20, "kvm": 20, "bochs": 120}


def some_cpus(ctx):
    """How many CPUs a test of processes runs with."""
    return ctx.cpus(1, 2, 4) if ctx.emulator != "bochs" else ctx.cpus(2)


def ended(boot, name, status):
    pattern = r"process %s\[\d+\] ended with status " % name
    lines = boot.matching(pattern)
    if not lines:
        raise TestFailure("no line 'process %s[N] ended with status %d'" % (name, status))
    expect_equal_lists([re.sub(r"status \S+$", "status %d" % status, l) for l in lines], lines,
                       "how %s ended" % name)


def word(ctx):
    return "w%06x" % ctx.rng.getrandbits(24)


@test(0, "fork's sharing and copy on write on made-up page tables")
def test_cow(ctx):
    v = ctx.rng.getrandbits(40) << 8
    boot = ctx.boot("lab4.cow", value="0x%x" % v)
    boot.args = v
    boot.expect_status("ok")


@test(10, "fork shares every page: writable ones copy-on-write in both, read-only ones as they are, "
      "pinned ones not at all", parent=test_cow, exercises=["share_page"])
def test_cow_fork(ctx, boot):
    boot.expect_lines(r"^fork: ", [
        "fork: a to b = 0",
        "fork: read-only page: parent P U NX, child P U NX, the same page, 2 reference(s)",
        "fork: writable code page: parent P U COW, child P U COW, the same page, 2 reference(s)",
        "fork: kernel-owned page: parent P U COW NX, child P U COW NX, the same page, 1 reference(s)",
        "fork: pinned page: parent P W U NX, child none, not shared, 1 reference(s)",
        "fork: writable page: parent P U COW NX, child P U COW NX, the same page, 2 reference(s)"],
        "what vm_copy_cow made of each page of the parent")


@test(10, "copy on write on a page shared three ways: copies while shared, in place when alone",
      parent=test_cow, exercises=["share_page", "cow_fault"])
def test_cow_tables(ctx, boot):
    v = boot.args
    want = ["cow: c writes to the page 3 share: done, a copy holding 0x%x, entry P W U NX" % v,
            "cow: b writes to the page 2 share: done, a copy holding 0x%x, entry P W U NX" % v,
            "cow: a writes to the page 1 share: done, the page holding 0x%x, entry P W U NX" % v,
            "cow: a reads 0x%x" % (v + 3), "cow: b reads 0x%x" % (v + 2),
            "cow: c reads 0x%x" % (v + 1)]
    got = boot.matching(r"cow: ")
    if len(got) > 1 and got[1] != want[1] and "the page" in got[1]:
        raise TestFailure("a page two processes share was written in place: only the last "
                          "holder (refcount 1) may write to it; got '%s'" % got[1])
    if any(l.endswith("COW") or "COW NX" in l for l in got[:3]):
        raise TestFailure("the entry made writable still has PTE_COW: a later write fault on "
                          "it (after a protect, say) would be taken for copy on write\n"
                          "    got: %s" % "\n         ".join(got[:3]))
    boot.expect_lines(r"cow: ", want, "cow_fault on a page shared by three")
    expect_no_leak(boot, "the page tables")


@test(0, "processes: the self-test runs")
def test_run(ctx):
    boot_args = {
        "words": [word(ctx) for _ in range(ctx.rng.randint(1, 4))],
        "children": ctx.rng.randint(5, 40),
        "cow": ctx.rng.getrandbits(40),
        "bytes": ctx.rng.randint(1000, 20000),
    }
    cmds = ",".join(["echo:" + ":".join(boot_args["words"]),
                     "forktest:%d" % boot_args["children"],
                     "cowtest:%d" % boot_args["cow"],
                     "pipetest:%d" % boot_args["bytes"],
                     "waittest:family", "waittest:readers", "waittest:writers"])
    boot = ctx.boot("lab4.run", cmds=cmds, smp=some_cpus(ctx),
                    timeout=PROCESS_TIMEOUT[ctx.emulator])
    boot.args = boot_args
    boot.expect_status("ok")


@test(5, "exec passes the arguments", parent=test_run)
def test_run_echo(ctx, boot):
    boot.expect_lines(r"w[0-9a-f]{6}", [" ".join(boot.args["words"])], "echo's output")
    ended(boot, "echo", 0)


@test(10, "fork, exit and wait: every child's status comes back",
      parent=test_run, exercises=["proc_fork", "share_page", "proc_wait"])
def test_run_fork(ctx, boot):
    n = boot.args["children"]
    boot.expect_lines(r"forktest: ", ["forktest: %d children, status sum %d, wait then -10"
                                      % (n, sum(i % 100 for i in range(n)))], "forktest")
    ended(boot, "forktest", 0)


@test(10, "copy on write: parent and child see their own writes",
      parent=test_run, exercises=["proc_fork", "share_page", "cow_fault"])
def test_run_cow(ctx, boot):
    v = boot.args["cow"]
    boot.expect_lines(r"cowtest ", [
        "cowtest child: value %d heap %d" % (v + 1, v + 2),
        "cowtest parent: value 1 heap %d" % v,
        "cowtest parent after its write: value %d" % (v + 3)], "cowtest")


def pipe_checksum(n):
    total = 0
    for i in range(n):
        total = (total * 31 + ((i * 7 + 1) & 0xFF)) & ((1 << 64) - 1)
    return total


@test(10, "pipes carry every byte in order", parent=test_run,
      exercises=["proc_fork", "share_page", "pipe_write", "pipe_read"])
def test_run_pipe(ctx, boot):
    n = boot.args["bytes"]
    boot.expect_lines(r"pipetest: ", ["pipetest: read %d bytes, checksum %d, writer status 0"
                                      % (n, pipe_checksum(n))], "pipetest")


@test(5, "wait reaps only the caller's children", parent=test_run,
      exercises=["proc_fork", "share_page", "proc_wait"])
def test_run_family(ctx, boot):
    boot.expect_lines(r"waittest: child", ["waittest: child status 8, then -10"],
                      "a parent, a child, a grandchild")


@test(5, "two readers of a pipe woken by one byte: the second waits on",
      parent=test_run, exercises=["proc_fork", "share_page", "pipe_write", "pipe_read"])
def test_run_readers(ctx, boot):
    boot.expect_lines(r"waittest: two", ["waittest: two readers got 2 bytes; a read of 2 of 3 got 2"],
                      "pipe readers")


@test(10, "pipe writes: EPIPE with no reader, a full pipe, longer than the pipe, a reader that leaves",
      parent=test_run, exercises=["proc_fork", "share_page", "pipe_write"])
def test_run_writers(ctx, boot):
    boot.expect_lines(r"^waittest: (write|read them|the reader|a short)", [
        "waittest: write with no reader = -32",
        "waittest: write of 512 bytes to an empty pipe = 512",
        "waittest: read them back: 512 bytes, in order: yes",
        "waittest: write of no bytes = 0",
        "waittest: write of 3000 bytes = 3000; the reader got them in order: yes",
        "waittest: the reader took 600 bytes and left: the write got what went in, then -32",
        "waittest: a short write woke the reader, which answered 'k'"],
        "waittest writers")


@test(5, "no page leaks after all those processes", parent=test_run)
def test_run_leaks(ctx, boot):
    expect_no_leak(boot)


@test(10, "preemption: spinning processes on every CPU cannot starve another",
      exercises=["madt", "start_cpu", "pick_next"])
def test_preempt(ctx):
    # Several CPUs: each must run processes, and spin.
    w, ncpus = word(ctx), ctx.cpus(2, 4) if ctx.emulator != "bochs" else ctx.cpus(2)
    boot = ctx.boot("lab4.preempt", word=w, smp=ncpus, timeout=PROCESS_TIMEOUT[ctx.emulator])
    boot.expect_status("ok")
    boot.expect_lines(r"^preempt: ", [], "the round robin (echo must run among the spinners)")
    boot.expect_lines(r"w[0-9a-f]{6}$", [w], "echo's output")
    ended(boot, "echo", 0)
    if len(boot.matching(r"process spin\[\d+\] ended with status 137$")) != 2 * ncpus:
        raise TestFailure("expected %d spinners killed (status 137)" % (2 * ncpus))
    boot.expect_lines(r"cpu \d+: ran", ["cpu %d: ran processes" % i for i in range(ncpus)],
                      "every CPU schedules processes")
    expect_no_leak(boot)


@test(15, "the shell: pipelines, ls, ps, errors, exit",
      exercises=["proc_fork", "share_page", "cow_fault", "proc_wait", "pipe_write", "pipe_read"])
def test_shell(ctx):
    words = [word(ctx) for _ in range(ctx.rng.randint(1, 5))]
    typed = ["echo %s | wc" % " ".join(words), "ls", "ps", "echo %s | cat | cat | wc" % words[0],
             "nosuch", "exit"]
    # A command at each prompt: what is typed ahead is echoed at once, in
    # the middle of the output of the command before (as on any terminal).
    boot = ctx.boot("shell", smp=some_cpus(ctx), stdin=[("$ ", t + "\n") for t in typed],
                    timeout=PROCESS_TIMEOUT[ctx.emulator])
    boot.expect_status("ok")
    text = boot.lines
    line = " ".join(words)
    for want in ("1 %d %d" % (len(words), len(line) + 1), "1 1 %d" % (len(words[0]) + 1),
                 "sh: nosuch: not found"):
        if want not in text:
            raise TestFailure("missing in the shell's output: '%s'" % want)
    # The shell waits for ps, but on several CPUs ps may run before the
    # shell has gone to sleep: any live state will do.
    if not any(l.split()[:2] == ["1", "0"] and l.split()[3:] == ["sh"] and
               l.split()[2] in ("sleeping", "runnable", "running") for l in text if len(l.split()) == 4):
        raise TestFailure("ps does not show the shell (pid 1, parent 0)")
    if not any("forktest" in l.split() and "pipetest" in l.split() for l in text):
        raise TestFailure("ls does not list the programs")
    ended(boot, "sh", 0)
    expect_no_leak(boot)


@test(10, "the terminal: erase, Ctrl-U, Ctrl-D ends input, Ctrl-C kills the job and not the shell",
      exercises=["proc_fork", "share_page", "cow_fault", "proc_wait", "pipe_write", "pipe_read"])
def test_terminal(ctx):
    w1, w2, w3, w4 = word(ctx), word(ctx), word(ctx), word(ctx)
    steps = [("$ ", "cat | wc\n%s %s\n%s\x04" % (w1, w2, w3)),      # ^D ends a line...
             (w3, " %s\n\x04" % w1),                                # ...and, first on one, the input
             ("$ ", "echo %sx\x7f %s\n" % (w1, w2)),
             ("$ ", "echo gone\x15echo %s\n" % w3),
             ("$ ", "ech\x04o %s\n" % w4),                  # ^D inside a line the shell reads part by part
             ("$ ", "spin | spin\n"), ("spin: spinning", "\x03"),
             ("$ ", "echo never\x03"), ("$ ", "ps\n"), ("$ ", "\x04")]
    boot = ctx.boot("shell", smp=some_cpus(ctx), stdin=steps, timeout=PROCESS_TIMEOUT[ctx.emulator])
    boot.expect_status("ok")
    text = boot.lines
    for want, why in (("2 4 %d" % (len(w1 + w2 + w3 + w1) + 4), "cat | wc's count: Ctrl-D ends input"),
                      ("%s %s" % (w1, w2), "echo after a backspace"),
                      (w3, "echo after Ctrl-U"),
                      (w4, "echo typed around a Ctrl-D the shell read in the middle of a line")):
        if want not in text:
            raise TestFailure("missing line '%s' (%s)" % (want, why))
    # The spinners' own output may run through the first echo: count, not lines.
    if "\n".join(text).count("^C") != 2:
        raise TestFailure("Ctrl-C should echo '^C' twice (the spinners, 'echo never'), not %d times"
                          % "\n".join(text).count("^C"))
    if any("never" in l and "^C" not in l for l in text) or any("gone" in l for l in text[1:]
                                                                  if not l.startswith("$ ")):
        raise TestFailure("a line discarded by Ctrl-C or Ctrl-U ran")
    if any("not found" in l for l in text):
        raise TestFailure("a Ctrl-D after part of a line ended input there: the shell ran part of a word")
    table = [l.split() for l in text if len(l.split()) == 4 and l.split()[0].isdigit()]
    if sorted(row[3] for row in table) != ["ps", "sh"]:
        raise TestFailure("after Ctrl-C ps should list sh and ps only, not %s"
                          % sorted(row[3] for row in table))
    ended(boot, "sh", 0)
    expect_no_leak(boot)


@test(5, "benchmarks run and report every cost (printed, never judged)",
      exercises=["proc_fork", "share_page", "cow_fault", "proc_wait"])
def test_bench(ctx):
    boot = ctx.boot("bench", smp=1, timeout=PROCESS_TIMEOUT[ctx.emulator])
    boot.expect_status("ok")
    for what in ("null system call", "page fault (copy on write)", "fork + exit + wait",
                 "context switch (yield)", "trap (SIGSEGV and back)", "prot1 (mprotect one page)",
                 "unprot (one page)", "protN (100 pages at once)", "appel1 (prot1+trap+unprot)",
                 "appel2 (protN+trap+unprot)"):
        pattern = r"bench: %s\s+\d+ cycles" % re.escape(what)
        if not boot.matching(pattern):
            raise TestFailure("no figure for '%s'" % what)
    ended(boot, "bench", 0)


def kill_sleeper(ctx, prog, **mode):
    boot = ctx.boot("lab4.kill_sleeper", smp=1, timeout=PROCESS_TIMEOUT[ctx.emulator],
                    prog=prog, **mode)
    boot.expect_status("ok")
    boot.expect_lines(r"(%s: |process %s)" % (prog, prog), [
        "%s: asleep" % prog, "process %s[1] ended with status 137" % prog], "kill")


@test(5, "kill reaches a process asleep waiting for input")
def test_kill_sleeper(ctx):
    kill_sleeper(ctx, "cat")


@test(5, "kill reaches a process asleep in wait", exercises=["proc_fork", "share_page", "proc_wait"])
def test_kill_waiter(ctx):
    kill_sleeper(ctx, "waittest", mode="wait")


@test(5, "kill reaches a process asleep reading a pipe",
      exercises=["proc_fork", "share_page", "pipe_read"])
def test_kill_pipe_reader(ctx):
    kill_sleeper(ctx, "waittest", mode="pipe")


@test(5, "kill reaches a process asleep writing to a full pipe", exercises=["pipe_write"])
def test_kill_pipe_writer(ctx):
    kill_sleeper(ctx, "waittest", mode="full")


# -- address spaces: munmap, mprotect, notifiers --------------------------------

def mm_layout(ctx):
    """mmtest's arguments: PAGES pages at BASE; page 0 and the last page
    stay plain; an unmapped block U, a read-only block P and the page W
    lie between them in a random order."""
    rng = ctx.rng
    base = rng.randrange(0x10000, 0x600000000) * 4096
    u1, p1 = rng.randint(1, 3), rng.randint(1, 3)
    blocks = [("U", u1), ("P", p1), ("W", 1)]
    rng.shuffle(blocks)
    at, start = 1, {}
    for name, size in blocks:
        at += rng.randint(0, 2)
        start[name] = at
        at += size
    pages = at + rng.randint(0, 2) + 1
    return dict(base=base, pages=pages, u0=start["U"], u1=u1, p0=start["P"], p1=p1,
                heap=rng.randint(1, 8), w=start["W"])


@test(0, "address spaces: mmtest maps, unmaps, protects, forks")
def test_mm(ctx):
    m = mm_layout(ctx)
    args = ":".join("%d" % m[k] for k in ("base", "pages", "u0", "u1", "p0", "p1", "heap", "w"))
    boot = ctx.boot("lab4.aspace", args=args, smp=some_cpus(ctx),
                    timeout=PROCESS_TIMEOUT[ctx.emulator])
    boot.args = m
    boot.expect_status("ok")


def page(m, i):
    return m["base"] + i * 4096


KILLED_FOR_FAULT = r"process mmtest\[\d+\] killed: page fault \(vector 14\) at rip 0x[0-9a-f]+, address "


@test(10, "munmap and mprotect change what a process can touch, faults follow",
      parent=test_mm, exercises=["proc_fork", "share_page", "cow_fault", "proc_wait"])
def test_mm_effects(ctx, boot):
    m = boot.args
    boot.expect_lines(r"^mmtest: (map|munmap|mprotect|mprotect\((W|P0), [a-z-]+\)|read-only|child|page) ", [
        "mmtest: map = 0",
        "mmtest: munmap = 0",
        "mmtest: mprotect = 0",
        "mmtest: read-only page holds %d" % (m["p0"] + 1),
        "mmtest: child that wrote a read-only page ended with status 142",
        "mmtest: child that read an unmapped page ended with status 142",
        "mmtest: mprotect(W, none) = 0",
        "mmtest: child that read an inaccessible page ended with status 142",
        "mmtest: mprotect(P0, read-write) = 0",
        "mmtest: page P0 holds %d" % (m["p0"] + 1 + 100),
        "mmtest: mprotect(W, read-write) = 0",
        "mmtest: page W holds %d" % (m["w"] + 1 + 1000),
        "mmtest: page 0 holds 10001"], "mmtest's results")
    expect_equal_lists([
        "0x%x: write to a protected page" % page(m, m["p0"]),
        "0x%x: read from a not-present page" % page(m, m["u0"]),
        "0x%x: read from a protected page" % page(m, m["w"])],
        [re.sub(KILLED_FOR_FAULT, "", l) for l in boot.matching(KILLED_FOR_FAULT)],
        "the children's faults")


@test(10, "the address space's notifiers hear every unmap, protect and copy-on-write break",
      parent=test_mm, exercises=["proc_fork", "share_page", "cow_fault", "proc_wait"])
def test_mm_notifiers(ctx, boot):
    m = boot.args
    heap = [l for l in boot.lines if l.startswith("mmtest: heap 0x")]
    if not heap:
        raise TestFailure("no line 'mmtest: heap 0x...'")
    brk = int(heap[0].split()[-1], 16)
    heap_pages = (brk + 4095) & ~4095
    fork = "notify: protect 0x0 len 0x800000000000 perm r-x"
    boot.expect_lines(r"^notify: ", [
        "notify: unmap 0x%x len 0x%x" % (page(m, m["u0"]), m["u1"] * 4096),
        "notify: protect 0x%x len 0x%x perm r--" % (page(m, m["p0"]), m["p1"] * 4096),
        "notify: unmap 0x%x len 0x%x" % (heap_pages, m["heap"] * 4096),
        fork, fork,
        "notify: protect 0x%x len 0x1000 perm none" % page(m, m["w"]),
        fork,
        "notify: protect 0x%x len 0x1000 perm rw-" % page(m, m["p0"]),
        "notify: protect 0x%x len 0x1000 perm rw-" % page(m, m["w"]),
        "notify: cow_break 0x%x" % page(m, 0),
        "notify: unmap 0x7ffffffff000 len 0x1000",
        "notify: cow_break 0x%x" % page(m, m["pages"] - 1),
        "notify: release"], "what the notifier was told, in order")


@test(10, "bad ranges, permissions and huge requests get errors at once; nothing is lost",
      parent=test_mm, exercises=["proc_fork", "share_page", "cow_fault", "proc_wait"])
def test_mm_errors(ctx, boot):
    boot.expect_lines(r"^mmtest: \w+\((?!W,|P0,).*\) = ", [
        "mmtest: munmap(unaligned) = -22",
        "mmtest: munmap(kernel) = -22",
        "mmtest: munmap(non-canonical) = -22",
        "mmtest: munmap(past the user half) = -22",
        "mmtest: munmap(wrapping length) = -22",
        "mmtest: munmap(zero length) = -22",
        "mmtest: munmap(the last user page) = 0",
        "mmtest: mprotect(unmapped) = -12",
        "mmtest: mprotect(bad prot) = -22",
        "mmtest: mprotect(kernel) = -22",
        "mmtest: map(16 TiB) = -12",
        "mmtest: map(over a mapped page) = -17",
        "mmtest: sbrk(64 TiB) = -12",
        "mmtest: read(into unmapped) = -14",
        "mmtest: read(huge length) = 1"], "the errors")
    ended(boot, "mmtest", 0)


@test(5, "no page leaks after unmapping, protecting and forking", parent=test_mm)
def test_mm_leaks(ctx, boot):
    expect_no_leak(boot)


# -- system calls with random arguments ------------------------------------------

FUZZ_CALLS = 3000


def fuzz_check(ctx, seed, smp):
    """fuzz makes FUZZ_CALLS system calls with arguments drawn from seed;
    every call must come back (its caller ends with status 0), the kernel
    must not panic, hang or leak a page."""
    boot = ctx.boot("lab4.fuzz", seed=seed, calls=FUZZ_CALLS, smp=smp,
                    timeout=PROCESS_TIMEOUT[ctx.emulator])
    boot.expect_status("ok")
    boot.expect_lines(r"^fuzz: ", [
        "fuzz: seed %d, %d calls: the caller ended with status 0" % (seed, FUZZ_CALLS)],
        "the fuzzer's caller (fuzz SEED %d replays it)" % seed)
    boot.expect_lines(r"killed", [], "processes killed")
    expect_no_leak(boot, "the random calls")


@test(5, "random system calls, fixed seeds, one CPU: errors, never a crash, hang or leak",
      exercises=["proc_fork", "share_page", "cow_fault", "proc_wait", "pipe_read"],
      emulators=["qemu", "kvm"])
def test_fuzz_one_cpu(ctx):
    for seed in (1, 2):
        fuzz_check(ctx, seed, 1)


@test(5, "random system calls, a new seed each run, two CPUs",
      exercises=["proc_fork", "share_page", "cow_fault", "proc_wait", "pipe_read"],
      emulators=["qemu", "kvm"])
def test_fuzz_two_cpus(ctx):
    fuzz_check(ctx, 3, 2)
    fuzz_check(ctx, ctx.rng.getrandbits(31), 2)


# -- threads ---------------------------------------------------------------------

THREAD_KILLED = r"process threadtest\[\d+\] killed: page fault \(vector 14\) at rip 0x[0-9a-f]+, address "
THREAD_EXERCISES = ["proc_fork", "share_page", "cow_fault", "proc_wait", "pipe_write",
                    "pipe_read"]


def threads_boot(ctx, smp):
    nthreads, increments = ctx.rng.randint(2, 8), ctx.rng.randint(5000, 20000)
    boot = ctx.boot("lab4.threads", threads=nthreads, increments=increments, smp=smp,
                    timeout=PROCESS_TIMEOUT[ctx.emulator])
    boot.args = (nthreads, increments)
    boot.expect_status("ok")
    return boot


@test(0, "threads: threadtest shares memory and files, joins, and ends its threads")
def test_threads(ctx):
    threads_boot(ctx, some_cpus(ctx))


@test(10, "threads share memory: every increment counts, each join gets its thread's value",
      parent=test_threads)
def test_threads_memory(ctx, boot):
    nthreads, increments = boot.args
    boot.expect_lines(r"^threadtest: (thread \d+:|counter )",
                      ["threadtest: thread %d: join = 0, value %d" % (i, 100 + i)
                       for i in range(nthreads)] +
                      ["threadtest: counter %d" % (nthreads * increments)],
                      "the threads' joins and the shared counter")


@test(5, "threads share descriptors: a pipe opened or closed by one is so for all",
      parent=test_threads, exercises=THREAD_EXERCISES)
def test_threads_files(ctx, boot):
    boot.expect_lines(r"^threadtest: (pipe in|write |read|close in)", [
        "threadtest: pipe in a thread = 0",
        "threadtest: write in the first thread = 6",
        "threadtest: read = 6",
        'threadtest: read "shared"',
        "threadtest: close in a thread = 0",
        "threadtest: write to the closed end = -9",
        "threadtest: read at the end = 0"], "the shared descriptors")


@test(5, "join and clone refuse bad requests; exec is refused while another thread runs",
      parent=test_threads, exercises=THREAD_EXERCISES)
def test_threads_errors(ctx, boot):
    boot.expect_lines(r"^threadtest: (join|the value|clone|exec|the thread read)", [
        "threadtest: join(bad pointer) = -14",
        "threadtest: join after it = 0",
        "threadtest: the value = 7",
        "threadtest: join again = -3",
        "threadtest: join(itself) = -35",
        "threadtest: join(no such thread) = -3",
        "threadtest: join(a child process) = -3",
        "threadtest: clone(kernel address) = -22",
        "threadtest: clone(non-canonical stack) = -22",
        "threadtest: exec with a thread = -16",
        "threadtest: the thread read = 120"], "the errors")


@test(10, "exit or a fault in any thread ends the whole process; a thread's child is the process's",
      parent=test_threads, exercises=THREAD_EXERCISES)
def test_threads_end(ctx, boot):
    boot.expect_lines(r"^threadtest: fork in a thread", [
        "threadtest: fork in a thread: wait got that child: yes, status 5"],
        "a child forked by a thread, waited for by the first")
    boot.expect_lines(r"^threadtest: (exit|a fault) in a thread", [
        "threadtest: exit in a thread: the process ended with status 42",
        "threadtest: a fault in a thread: the process ended with status 142"],
        "how the processes ended")
    faults = [re.sub(THREAD_KILLED, "", l) for l in boot.matching(THREAD_KILLED)]
    if not faults or faults[0] != "0x0: write to a not-present page":
        raise TestFailure("the faulting thread's kill message: expected '0x0: write to a "
                          "not-present page' first, got %s" % (faults[:1] or "none"))
    ended(boot, "threadtest", 0)


@test(5, "no page leaks after threads", parent=test_threads)
def test_threads_leaks(ctx, boot):
    expect_no_leak(boot, "the threads")


@test(10, "mprotect and munmap reach a thread running on another CPU (TLB shootdown)",
      exercises=THREAD_EXERCISES)
def test_threads_shootdown(ctx):
    # Two CPUs at least: the writer must run on another CPU than munmap's.
    boot = threads_boot(ctx, ctx.cpus(2, 4) if ctx.emulator != "bochs" else 2)
    boot.expect_lines(r"^threadtest: (mprotect|munmap) under", [
        "threadtest: mprotect under a running thread: the process ended with status 142",
        "threadtest: munmap under a running thread: the process ended with status 142"],
        "how the writer's process ended (99: it wrote through a stale translation)")
    # After munmap the writer faults on its next access, a read or a write.
    faults = [re.sub(THREAD_KILLED, "", l) for l in boot.matching(THREAD_KILLED)]
    expect_equal_lists([
        "0x0: write to a not-present page",
        "0x60000000: write to a protected page",
        "0x60000000: access to a not-present page"],
        [re.sub(r"(read from|write to) a not-present", "access to a not-present", f)
         if f.startswith("0x60000000") else f for f in faults],
        "the threads' faults")


# -- signals of faults -------------------------------------------------------------

SIG_PAGE = 0x70000000   # sigtest's PAGE_VA


@test(0, "signals: sigtest's handlers fix faults, step over them, nest; bad requests refused")
def test_signals(ctx):
    boot = ctx.boot("lab4.signals", smp=some_cpus(ctx), timeout=PROCESS_TIMEOUT[ctx.emulator])
    boot.expect_status("ok")


@test(10, "a SIGSEGV handler opens or maps the page and the access is retried",
      parent=test_signals)
def test_signals_fix(ctx, boot):
    boot.expect_lines(r"^sigtest: (write to a read-only|the write|read of an unmapped|the read)", [
        "sigtest: write to a read-only page: 1 handler run(s), signal 11, vector 14, "
        "error 0x7, address 0x%x" % (SIG_PAGE + 8),
        "sigtest: the write was retried: the page holds 42",
        "sigtest: read of an unmapped page: 1 handler run(s), signal 11, vector 14, "
        "error 0x4, address 0x%x" % (SIG_PAGE + 16),
        "sigtest: the read was retried: 0"], "the faults and their retries")


@test(10, "every register, the carry flag and the red zone survive a handler",
      parent=test_signals)
def test_signals_registers(ctx, boot):
    boot.expect_lines(r"^sigtest: (registers|the registers|\(in the handler\))", [
        "sigtest: (in the handler)",
        "sigtest: registers after the handler: 15 of 15 kept, red zone kept, carry 1",
        "sigtest: the registers' fault: 1 handler run(s), signal 11, vector 14, "
        "error 0x7, address 0x%x" % SIG_PAGE], "the registers after sigreturn")


@test(10, "SIGFPE, SIGILL and SIGTRAP handlers step over the instruction; a nested signal is delivered",
      parent=test_signals)
def test_signals_step(ctx, boot):
    expect_equal_lists([
        "sigtest: SIGFPE at the division: yes",
        "sigtest: 100 / 0 = 77",
        "sigtest: divide error: 1 handler run(s), signal 8, vector 0, error 0x0",
        "sigtest: 100 / 7 = 14",
        "sigtest: invalid opcode: 1 handler run(s), signal 4, vector 6, error 0x0",
        "sigtest: SIGTRAP after the int3: yes",
        "sigtest: SIGTRAP after the int3: yes",
        "sigtest: two breakpoints: 2 handler run(s), signal 5, vector 3, error 0x0",
        "sigtest: SIGFPE at the division: yes",
        "sigtest: in the SIGSEGV handler, 5 / 0 = 77",
        "sigtest: nested: 2 handler runs, the page holds 5"],
        [re.sub(r", address 0x[0-9a-f]+$", "", l) for l in boot.matching(
            r"^sigtest: (SIGFPE|SIGTRAP|100 /|divide error|invalid opcode|two break"
            r"|in the SIGSEGV|nested)")],
        "the handlers' results (instruction addresses left out)")


@test(5, "a fault in a thread runs the handler in that thread", parent=test_signals)
def test_signals_thread(ctx, boot):
    boot.expect_lines(r"^sigtest: a fault in a thread", [
        "sigtest: a fault in a thread: join = 0, value 19"], "the thread's fault")


@test(10, "sigaction and sigreturn refuse bad signals, addresses and forged contexts",
      parent=test_signals)
def test_signals_errors(ctx, boot):
    boot.expect_lines(r"^sigtest: sig(action|return)\(", [
        "sigtest: sigaction(SIGKILL) = -22",
        "sigtest: sigaction(0) = -22",
        "sigtest: sigaction(64) = -22",
        "sigtest: sigaction(-1) = -22",
        "sigtest: sigaction(kernel handler) = -22",
        "sigtest: sigreturn(NULL) = -14",
        "sigtest: sigreturn(kernel address) = -14",
        "sigtest: sigreturn(kernel rip) = -22",
        "sigtest: sigreturn(non-canonical rip) = -22",
        "sigtest: sigreturn(non-canonical rsp) = -22",
        "sigtest: sigreturn(IOPL 3) = -22",
        "sigtest: sigreturn(interrupts off) = -22",
        "sigtest: sigreturn(single step) = -22",
        "sigtest: sigreturn(a blocked SIGKILL) = -22"], "the errors")


@test(10, "a context made by hand is run; a fault in its own handler, SIG_DFL or no stack kill; "
      "fork keeps handlers, exec drops them", parent=test_signals,
      exercises=["proc_fork", "share_page", "cow_fault", "proc_wait"])
def test_signals_ends(ctx, boot):
    boot.expect_lines(r"^sigtest: (landed|[^:]+: the process ended)", [
        "sigtest: landed with 5",
        "sigtest: sigreturn to a made context: the process ended with status 5",
        "sigtest: a fault in its own handler: the process ended with status 142",
        "sigtest: SIG_DFL again: the process ended with status 142",
        "sigtest: no room for the frame: the process ended with status 134",
        "sigtest: the handler after fork: the process ended with status 50",
        "sigtest: exec drops the handlers: the process ended with status 128"],
        "how the children ended")
    expect_equal_lists([
        "process sigtest[N]: SIGSEGV in its SIGSEGV handler: not delivered again",
        "process sigtest[N] killed: page fault (vector 14), address 0x%x: write to a not-present page"
        % (SIG_PAGE + 8),
        "process sigtest[N] killed: page fault (vector 14), address 0x0: write to a not-present page",
        "process sigtest[N]: no room for the SIGILL frame below rsp 0x1000",
        "process sigtest[N] killed: invalid opcode (vector 6)",
        "process divzero[N] killed: divide error (vector 0)"],
        [re.sub(r" at rip 0x[0-9a-f]+", "", re.sub(r"\[\d+\]", "[N]", l))
         for l in boot.matching(r"^process (sigtest|divzero)\[\d+\](:| killed)")],
        "the kernel's messages (pids and rips left out)")
    ended(boot, "sigtest", 0)


@test(5, "no page leaks after the handlers", parent=test_signals)
def test_signals_leaks(ctx, boot):
    expect_no_leak(boot, "the signals")


@test(5, "the user clock: readings increase on every CPU, ns follows the TSC, bad pointers refused")
def test_clock(ctx):
    boot = ctx.boot("lab4.clock", smp=some_cpus(ctx), timeout=PROCESS_TIMEOUT[ctx.emulator])
    boot.expect_status("ok")
    boot.expect_lines(r"^clocktest: ", [
        "clocktest: readings increase: yes",
        "clocktest: ns is the TSC at the measured rate: yes",
        "clocktest: the thread's own ticks increase, no faster than the TSC: yes",
        "clocktest: a thread's reading after it is not earlier: yes",
        "clocktest: a sleep of 5 ticks lasts 40 ms or more: yes",
        "clocktest: the thread's own ticks grow by less than half the sleep: yes",
        "clocktest: clock(NULL) = -14",
        "clocktest: clock(kernel address) = -14",
        "clocktest: clock(read-only page) = -14"], "the clock's readings")
    ended(boot, "clocktest", 0)
