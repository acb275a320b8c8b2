"""Lab 4 tests: every CPU comes up and takes timer interrupts, spinlocks
keep a shared counter exact, interrupt nesting is right, lock misuse is
caught. The number of CPUs and of increments are chosen here."""

from gradelib import TestFailure, test


def smp_check(ctx, ncpus):
    increments = ctx.rng.randrange(2000, 20000)
    boot = ctx.boot("lab4.smp", smp=ncpus, increments=increments)
    boot.expect_status("ok")
    boot.expect_lines(r"cpus: ", ["cpus: %d found, %d running" % (ncpus, ncpus)], "CPUs")
    ups = sorted(boot.matching(r"cpu \d+: up"))
    if len(ups) != ncpus or any(not l.startswith("cpu %d: up" % i) for i, l in enumerate(ups)):
        raise TestFailure("expected 'cpu N: up' from each of %d CPUs, got %s" % (ncpus, ups))
    boot.expect_lines(r"counter: ", ["counter: %d" % (ncpus * increments)],
                      "a counter each CPU incremented %d times under a spinlock" % increments)
    boot.expect_lines(r"cpu \d+: (timer|no timer)",
                      ["cpu %d: timer ticks" % i for i in range(ncpus)], "timer interrupts")


@test(10, "one CPU: the APIC timer ticks, the counter is exact")
def test_smp1(ctx):
    smp_check(ctx, 1)


@test(15, "two CPUs come up and work", exercises=["madt", "start_cpu", "push_cli", "pop_cli"])
def test_smp2(ctx):
    smp_check(ctx, 2)


@test(15, "four CPUs come up and work", exercises=["madt", "start_cpu", "push_cli", "pop_cli"],
      emulators=["qemu", "kvm"])
def test_smp4(ctx):
    smp_check(ctx, 4)


@test(10, "push_cli/pop_cli nest; a held spinlock keeps interrupts off",
      exercises=["push_cli", "pop_cli"])
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
