"""Lab 7 tests: Dune process mode (VT-x under Bochs, or KVM with nested
VMX). A user program, dunetest, enters VMX non-root ring 0 with page
tables, a GDT and an IDT of its own (libdune) and checks what
it sees there; the kernel reports how each process ended and whether
its pages came back. Tokens, words, counts and addresses are chosen
here."""

import re
import subprocess

from gradelib import (TestFailure, expect_equal_lists, expect_no_leak, image_symbol, runner,
                     run_view, test)

KERNBASE = 0xFFFFFFFF80000000
ENOSYS, EFAULT, EINVAL, EBUSY = 38, 14, 22, 16
DUNE_KILLED_STATUS = 128 + 13
KILLED_STATUS = 128 + 9
SUPERVISOR_VA = 0x3E000000      # kernel/test/lab7.c: LAB7_SUPERVISOR_VA
HIGH = 0x800000000000 - (1 << 30) + 0x100000   # dunetest.c: a page in the stack window
# The exercises of every test that runs a thread in Dune mode: entering
# and the run loop, the EPT's fill, and rescheduling (a thread that cannot
# be preempted stops at its first quantum).
RUN = ["dune_enter", "dune_ept_fill", "dune_migrate"]


def run(ctx, *args, **kw):
    boot = ctx.boot("lab7.run", args=":".join(str(a) for a in args), **kw)
    boot.expect_status("ok")
    return boot


def dunetest_lines(boot):
    return boot.matching(r"dunetest: ")


def expect_dunetest(boot, want, what):
    expect_equal_lists(want, dunetest_lines(boot), what)


def ended(boot, status, name="dunetest"):
    lines = boot.matching(r"process %s\[\d+\] ended with status" % name)
    if [re.sub(r"\[\d+\]", "", l) for l in lines] != ["process %s ended with status %d" % (name, status)]:
        raise TestFailure("expected 'process %s[N] ended with status %d', got %s"
                          % (name, status, lines))


def program_symbol(name):
    """(start, end) of a symbol of dunetest (end = start for a symbol without size)."""
    elf = runner.BUILD / "user" / "dunetest.elf"
    out = subprocess.run(["nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == name:
            return int(parts[0], 16), int(parts[0], 16) + int(parts[1], 16)
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16), int(parts[0], 16)
    raise TestFailure("dunetest has no symbol %s" % name)


# One boot runs these one after another; a child test checks each run.
BASICS = ("bad", "hello", "user", "step", "calls", "coherence", "fork", "bench")


@test(5, "eight programs enter Dune mode one after another; every page comes back")
def test_basics(ctx):
    c = {"hello": ctx.rng.getrandbits(40) | 1, "user": ctx.rng.getrandbits(40),
         "coherence": ctx.rng.getrandbits(40) | 0x100, "word": "w%x" % ctx.rng.getrandbits(32)}
    boot = ctx.boot("lab7.run", args=",".join((
        "bad", "hello:0x%x" % c["hello"], "user:0x%x" % c["user"], "step", "calls",
        "coherence:0x%x" % c["coherence"], "fork:%s" % c["word"], "bench:500")))
    boot.choices = c
    boot.expect_status("ok")
    view(boot, "bad")     # every run ended, in order
    expect_no_leak(boot, "the eight programs")


def view(boot, mode):
    return run_view(boot, BASICS, mode)


@test(10, "bad start states are refused with their errors", parent=test_basics,
      exercises=["dune_enter"])
def test_bad_states(ctx, boot):
    v = view(boot, "bad")
    expect_dunetest(v, [
        "dunetest: config NULL: -%d" % EFAULT,
        "dunetest: config in the kernel: -%d" % EFAULT,
        "dunetest: flags 1: -%d" % EINVAL,
        "dunetest: rip non-canonical: -%d" % EINVAL,
        "dunetest: rsp non-canonical: -%d" % EINVAL,
        "dunetest: rsp unaligned: -%d" % EINVAL,
        "dunetest: cr3 unaligned: -%d" % EFAULT,
        "dunetest: cr3 page 0: -%d" % EFAULT,
        "dunetest: cr3 unmapped: -%d" % EFAULT,
        "dunetest: cr3 beyond guest-physical memory: -%d" % EFAULT,
        "dunetest: cr3 kernel address: -%d" % EFAULT,
        "dunetest: cr3 a supervisor page: -%d" % EFAULT,
        "dunetest: cr3 the stack's host-virtual address: -%d" % EFAULT], "the errors of dune_enter")
    ended(v, 0)


def pid_of(v):
    return int(re.search(r"\[(\d+)\]", (v.matching(r"process dunetest\[") or ["[0]"])[0]).group(1))


@test(10, "in ring 0: the same pid and memory, output and exit by VMCALL", parent=test_basics,
      exercises=RUN + ["dune_vmcall"])
def test_hello(ctx, boot):
    v, token = view(boot, "hello"), boot.choices["hello"]
    pid = pid_of(v)
    expect_dunetest(v, [
        "dunetest: ring 0, token %x, shared %x" % (token, token ^ 0x5555),
        "dunetest: getpid %d, native %d" % (pid, pid)], "what ring 0 saw")
    ended(v, token & 0x7F)


@test(15, "ring 3 under the process's own ring 0: syscall reaches its handler, a supervisor page faults",
      parent=test_basics, exercises=RUN + ["dune_fault_reflect", "dune_vmcall"])
def test_user(ctx, boot):
    v, token = view(boot, "user"), boot.choices["user"]
    expect_dunetest(v, [
        "dunetest: ring 3: printf, token %x" % token,
        "dunetest: ring 3 getpid %d" % pid_of(v),
        "dunetest: ring-0 handler: exception 14 from ring 3, error 0x5, cr2 0x3fe00008",
        "dunetest: system calls through the ring-0 handler: 3"], "ring 3 and its handler")
    ended(v, 0)


@test(10, "an exception whose delivery the kernel interrupts (an EPT fill) still arrives, once",
      parent=test_basics, exercises=RUN + ["dune_vmcall"])
def test_step(ctx, boot):
    v = view(boot, "step")
    expect_dunetest(v, ["dunetest: step: exception 1 from ring 3 at the second nop"],
                    "the debug trap after the first instruction past POPF")
    ended(v, 0)


@test(10, "VMCALL: unknown numbers, dune_enter again, bad pointers; the vCPU's own MSRs, kept",
      parent=test_basics, exercises=RUN + ["dune_vmcall"])
def test_calls(ctx, boot):
    v = view(boot, "calls")
    expect_dunetest(v, [
        "dunetest: vmcall 1000: -%d" % ENOSYS,
        "dunetest: vmcall -1: -%d" % ENOSYS,
        "dunetest: dune_enter again: -%d" % EBUSY,
        "dunetest: write of a kernel address: -%d" % EFAULT,
        "dunetest: lstar is the ring-0 handler: 1",
        "dunetest: after swapgs and a sleep: gs base 1, kernel gs base 1, fs base 1",
        "dunetest: exception 13 at the rdmsr, error 0x0"], "the answers")
    ended(v, 0)


@test(15, "the EPT follows munmap, map, sbrk, the stack window, copy on write after fork, mprotect",
      parent=test_basics, exercises=RUN + ["dune_fault_reflect", "dune_mirror", "dune_vmcall"])
def test_coherence(ctx, boot):
    v, token = view(boot, "coherence"), boot.choices["coherence"]
    lines = dunetest_lines(v)
    # Where the heap's page lies depends on the program's size: any address.
    shrink = [l for l in lines if l.startswith("dunetest: heap after shrink: ")]
    if not shrink or not re.match(r"dunetest: heap after shrink: page fault at 0x\w+, error 0x0$",
                                  shrink[0]):
        raise TestFailure("after sbrk shrank the heap, its page did not fault: %s" % shrink)
    expect_equal_lists([
        "dunetest: scratch: read 0x%x" % token,
        "dunetest: munmap: 0",
        "dunetest: scratch after munmap: page fault at 0x30000000, error 0x0",
        "dunetest: map: 0",
        "dunetest: scratch mapped again: read 0x0",
        "dunetest: heap: read 0x%x" % (token + 1),
        shrink[0],
        "dunetest: high map: 0",
        "dunetest: high: read 0x%x" % (token + 3),
        "dunetest: high munmap: 0",
        "dunetest: high after munmap: page fault at 0x%x, error 0x0" % HIGH,
        "dunetest: a page the kernel wrote through copy on write: read 0x%x" % (token + 5),
        "dunetest: child in ring 0 wrote 0x%x" % (token + 2),
        "dunetest: wait: child found, status 7; the parent's copy 0x%x" % token,
        "dunetest: mprotect: 0",
        "dunetest: scratch read-only: read 0x0",
        "dunetest: write fault at 0x30000000, error 0x3"], lines, "what Dune mode saw")
    ended(v, 0)


@test(10, "fork in Dune mode gives a child in Dune mode; exec leaves it (a failed exec does not)",
      parent=test_basics, exercises=RUN + ["dune_vmcall"])
def test_fork_exec(ctx, boot):
    v, word = view(boot, "fork"), boot.choices["word"]
    expect_dunetest(v, [
        "dunetest: child: ring 0, fork returned 0",
        "dunetest: parent: ring 0, child waited for, status 0",
        "dunetest: parent: exec of nosuch: -2"], "parent and child")
    expect_equal_lists([word, word + " again"], v.matching(r"%s" % word),
                       "the output of echo, run by exec from Dune mode in the child, then the parent")
    ended(v, 0)


@test(5, "benchmark: a system call by VMCALL (printed, never judged)", parent=test_basics,
      exercises=RUN + ["dune_vmcall"])
def test_bench(ctx, boot):
    v = view(boot, "bench")
    if not v.matching(r"dunetest: bench: getpid by VMCALL \d+ cycles$"):
        raise TestFailure("no line 'dunetest: bench: getpid by VMCALL N cycles'")
    ended(v, 0)


@test(15, "isolation: another process's memory and the kernel's are out of reach",
      exercises=RUN + ["dune_fault_reflect", "dune_vmcall"])
def test_isolation(ctx):
    secret = ctx.rng.getrandbits(48) | (1 << 47)
    text = image_symbol("_text") - KERNBASE
    address = text + ctx.rng.randrange(0, 0x1000, 8)
    boot = ctx.boot("lab7.isolation", secret="0x%x" % secret, address="0x%x" % address)
    boot.expect_status("ok")
    if any(("%x" % secret) in line for line in boot.test_lines()):
        raise TestFailure("the secret 0x%x shows in the output" % secret)
    where = boot.matching(r"isolation: the secret lies at host-physical")
    m = where and re.match(r"isolation: the secret lies at host-physical 0x(\w+) \(process \d+'s "
                           r"0x(\w+)\) and 0x(\w+)", where[0])
    if not m:
        raise TestFailure("the test did not say where the secret lies")
    other_pa, other_va, kernel_pa = (int(x, 16) for x in m.groups())
    probes = dunetest_lines(boot)
    if len(probes) != 5:
        raise TestFailure("expected 5 probe lines, got %s" % probes)
    # A page of the process's own user half without user access (the
    # kernel's): no EPT entry, whatever the page tables say.
    want = "dunetest: probe 0x%x: page fault, error 0x0" % (SUPERVISOR_VA + 0x100)
    if probes[4] != want:
        raise TestFailure("a supervisor page of the process: expected '%s', got '%s'"
                          % (want, probes[4]))
    # Kernel memory, by its physical address: the process has nothing at
    # that guest-physical address (its own host-virtual one).
    want = "dunetest: probe 0x%x: page fault, error 0x0" % address
    if probes[3] != want:
        raise TestFailure("kernel text at 0x%x: expected '%s', got '%s'" % (address, want, probes[3]))
    for line, pa in ((probes[0], other_pa), (probes[2], kernel_pa)):
        if not line.startswith("dunetest: probe 0x%x: " % pa):
            raise TestFailure("expected a probe of 0x%x, got '%s'" % (pa, line))
    gpa = other_va - (0x800000000000 - (1 << 30)) + (1 << 36) - (1 << 30)
    if not probes[1].startswith("dunetest: probe 0x%x: read 0x" % gpa):
        raise TestFailure("the process's own page at 0x%x (guest-physical 0x%x): expected a read, "
                          "got '%s'" % (other_va, gpa, probes[1]))
    ended(boot, 0)
    expect_no_leak(boot)


def killed_lines(boot):
    return [re.sub(r"\[\d+\]", "[N]", l) for l in boot.matching(r"process dunetest\[\d+\] killed: ")]


@test(15, "unexpected exits end only that process, naming the exit reason, qualification, RIP and CR3",
      exercises=RUN + ["dune_fault_reflect"])
def test_crash(ctx):
    boot = run(ctx, "crash,crash:1,crash:3")
    tables = [int(l.split()[-1], 16) for l in boot.matching(r"dunetest: page tables at 0x\w+$")]
    if len(tables) != 3:
        raise TestFailure("expected 3 lines 'dunetest: page tables at 0x...', got %d" % len(tables))
    start, end = program_symbol("crash")
    read_start, read_end = program_symbol("ring0_read64")[0], program_symbol("ring0_read64_done")[0]
    kinds = [
        (r"triple fault: exit reason 2 \(triple fault\), qualification 0x0", (start, end),
         "a triple fault"),
        (r"unhandled exit: exit reason 28 \(control-register access\), qualification 0x4",
         (start, end), "a CR4 write the kernel keeps to itself (an exit with no handler)"),
        (r"EPT violation: exit reason 48 \(EPT violation\), qualification 0x\w+",
         (read_start, read_end), "a page table outside the process's memory"),
    ]
    lines = killed_lines(boot)
    if len(lines) != len(kinds):
        raise TestFailure("expected %d processes killed, got %s" % (len(kinds), lines))
    for line, (what, (lo, hi), title), pml4 in zip(lines, kinds, tables):
        m = re.match(r"process dunetest\[N\] killed: Dune mode: %s, guest rip 0x(\w+), cr3 0x(\w+)$"
                     % what, line)
        if not m:
            raise TestFailure("%s: expected 'process dunetest[N] killed: Dune mode: %s, guest rip "
                              "0x..., cr3 0x...', got '%s'" % (title, what.replace("\\", ""), line))
        if not lo <= int(m.group(1), 16) < hi:
            raise TestFailure("%s: the guest rip 0x%s is not in [0x%x, 0x%x)"
                              % (title, m.group(1), lo, hi))
        if int(m.group(2), 16) != pml4:
            raise TestFailure("%s: cr3 0x%s is not the process's page table 0x%x"
                              % (title, m.group(2), pml4))
    ended_all = [re.sub(r"\[\d+\]", "", l) for l in boot.matching(r"process dunetest\[\d+\] ended")]
    expect_equal_lists(["process dunetest ended with status %d" % DUNE_KILLED_STATUS] * 3,
                       ended_all, "how the processes ended")
    expect_no_leak(boot)


@test(10, "threads enter Dune mode on two CPUs, one vCPU each, one memory; munmap reaches them",
      exercises=RUN + ["dune_fault_reflect", "dune_mirror", "dune_vmcall"])
def test_threads(ctx):
    # More threads than CPUs, so that each moves between them as it yields.
    n, increments = ctx.rng.randint(3, 4), ctx.rng.randrange(1000, 5000)
    boot = run(ctx, "threads", n, increments, smp=2)
    expect_dunetest(boot, ["dunetest: thread %d: join 0, value %d" % (i, 100 + i) for i in range(n)]
                    + ["dunetest: counter %d" % (n * increments),
                       "dunetest: a thread ran on two CPUs: yes",
                       "dunetest: munmap 0 under a reader: it faulted, no read after munmap returned"],
                    "the threads' sums, and a shootdown that reached another vCPU")
    ended(boot, 0)
    expect_no_leak(boot)


@test(10, "the timer preempts a process spinning in ring 0; kill ends it",
      exercises=RUN)
def test_preempt(ctx):
    word = "p%x" % ctx.rng.getrandbits(32)
    boot = ctx.boot("lab7.preempt", word=word)
    boot.expect_status("ok")
    if word not in boot.test_lines():
        raise TestFailure("echo %s never ran beside the spinning process" % word)
    ncpus = ctx.machine.smp or 1        # one spinner per CPU
    lines = [re.sub(r"\[\d+\]", "", l) for l in boot.matching(r"process \S+\[\d+\] ended")]
    expect_equal_lists(["process echo ended with status 0"] +
                       ["process dunetest ended with status %d" % KILLED_STATUS] * ncpus, lines,
                       "how the processes ended")
    expect_no_leak(boot)
