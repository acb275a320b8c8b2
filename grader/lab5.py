"""Lab 5 tests: guests on a vCPU (VT-x under Bochs, or KVM with nested
VMX). The exact sequence of exits and the guests' output are checked,
with the values the guests print chosen here."""

import re
import subprocess

from gradelib import TestFailure, runner, test


def run_guest(ctx, name, **args):
    boot = ctx.boot("lab5.guest", name=name, **args)
    boot.expect_status("ok")
    return boot


def trace(boot):
    """The exits and the guest's lines, in order."""
    return [l for l in boot.test_lines() if l.startswith(("vmexit: ", "guest: "))]


def stopped(boot, name, why, status=0):
    boot.expect_lines(r"vcpu \d+: guest %s stopped" % name,
                      ["vcpu 0: guest %s stopped: %s, status %d" % (name, why, status)],
                      "how the guest ended")


def io_exits(text):
    """One I/O exit per character the guest prints, newline included."""
    return "vmexit: I/O instruction x%d" % (len(text) + 1)


@test(15, "a guest prints through the virtual serial port and halts",
      exercises=["adjust_controls", "io_exit"])
def test_hello(ctx):
    token = ctx.rng.getrandbits(32)
    boot = run_guest(ctx, "hello", a="0x%x" % token)
    line = "hello from the guest, token %x" % token
    want = [io_exits(line), "guest: " + line, "vmexit: HLT"]
    if trace(boot) != want:
        raise TestFailure("exits and output differ:\n      expected: %s\n      got:      %s"
                          % (want, trace(boot)))
    stopped(boot, "hello", "halted")
    if "vmx: cpu 0 left VMX operation" not in boot.lines:
        raise TestFailure("the CPU did not leave VMX operation (VMXOFF) at the end of the run")


@test(15, "CPUID returns what the host chose", exercises=["adjust_controls", "io_exit"])
def test_cpuid(ctx):
    value = ctx.rng.getrandbits(31) | 1
    boot = run_guest(ctx, "cpuid", cpuid="0x%x" % value)
    lines = [l for l in trace(boot) if l.startswith("guest: ")]
    want = ["guest: cpuid 0x40000000: TeachOS VMM  value %x" % value,
            "guest: cpuid 1: vmx 0 hypervisor 1"]
    if lines[1:] != want or not lines[0].startswith("guest: cpuid 0: vendor "):
        raise TestFailure("expected %s after the vendor line, got %s" % (want, lines))
    if [l for l in trace(boot) if l == "vmexit: CPUID"] != ["vmexit: CPUID"] * 3:
        raise TestFailure("expected three CPUID exits")
    stopped(boot, "cpuid", "halted")


@test(20, "hypercalls: arguments, results, guest memory, exit status",
      exercises=["adjust_controls", "io_exit", "hypercall"])
def test_hypercall(ctx):
    a, b = ctx.rng.getrandbits(40), ctx.rng.getrandbits(40)
    # The page at SPLIT (vmx/guests/hypercall.c) lies apart from the rest
    # of the guest's memory.
    split = 0x81000
    boot = run_guest(ctx, "hypercall", a=a, b=b, remap="0x%x" % split)
    add = "add %d + %d = %d" % (a, b, a + b)
    across = "across 0x%x: %x, %x" % (split, a, b)
    want = ["vmexit: VMCALL", io_exits(add), "guest: " + add, "vmexit: VMCALL",
            "guest: printed by the host from guest memory",
            "vmexit: VMCALL", "guest: " + across,
            "vmexit: VMCALL", io_exits("print(unmapped) = -14"), "guest: print(unmapped) = -14",
            "vmexit: VMCALL", io_exits("unknown hypercall: -38"), "guest: unknown hypercall: -38",
            "vmexit: VMCALL"]
    got = trace(boot)
    printed = [l for l in got if l.startswith("guest: across ")]
    if printed and printed != ["guest: " + across]:
        raise TestFailure("HC_PRINT of a line that crosses from guest-physical 0x%x into 0x%x, "
                          "a page the EPT maps elsewhere: each byte's address must be "
                          "translated, not only the first one's\n      expected: %s\n"
                          "      got:      %s" % (split - 16, split, "guest: " + across,
                                                  printed[0]))
    if "guest: print(unmapped) = -14" not in got and any("print(unmapped)" in l for l in got):
        raise TestFailure("HC_PRINT of guest-physical 0x40000000, where the guest has no "
                          "memory, must return -EFAULT (-14): got %s"
                          % [l for l in got if "print(unmapped)" in l])
    if got != want:
        raise TestFailure("exits and output differ:\n      expected: %s\n      got:      %s"
                          % (want, got))
    stopped(boot, "hypercall", "exited by hypercall", a ^ b)


@test(10, "IN of each size from a port without a device: all ones, the rest of RAX kept",
      exercises=["adjust_controls", "io_exit"])
def test_ports(ctx):
    pattern = ctx.rng.getrandbits(64) | 1 << 63
    boot = run_guest(ctx, "ports", a="0x%x" % pattern)
    want = ["guest: ports: inb 0x%x" % (pattern & ~0xFF | 0xFF),
            "guest: ports: inw 0x%x" % (pattern & ~0xFFFF | 0xFFFF),
            "guest: ports: inl 0xffffffff",
            "guest: ports: line status 0x%x" % (pattern & ~0xFF | 0x60)]
    got = [l for l in trace(boot) if l.startswith("guest: ")]
    if got != want:
        raise TestFailure("RAX was 0x%x before each IN; a byte IN sets AL only, a word IN AX, "
                          "a doubleword IN all of EAX, zero-extended (is the access size "
                          "decoded from bits 2:0 of the exit qualification as size - 1?)"
                          "\n      expected: %s\n      got:      %s" % (pattern, want, got))
    stopped(boot, "ports", "halted")


def guest_function_range(guest, name):
    elf = runner.BUILD / "guests" / ("%s.elf" % guest)
    out = subprocess.run(["nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == name:
            return int(parts[0], 16), int(parts[0], 16) + int(parts[1], 16)
    raise TestFailure("%s has no %s" % (elf, name))


@test(10, "a guest that crashes is stopped with a triple fault, naming where",
      exercises=["adjust_controls", "io_exit"])
def test_crash(ctx):
    boot = run_guest(ctx, "crash")
    if trace(boot)[-1:] != ["vmexit: triple fault"]:
        raise TestFailure("the last exit is not a triple fault: %s" % trace(boot)[-3:])
    m = [re.match(r"vcpu 0: the guest triple-faulted at rip 0x(\w+)$", l) for l in boot.test_lines()]
    m = [x for x in m if x]
    start, end = guest_function_range("crash", "main")
    if not m or not start <= int(m[0].group(1), 16) < end:
        raise TestFailure("the triple fault's rip is not in the guest's main [0x%x, 0x%x)"
                          % (start, end))
    stopped(boot, "crash", "triple fault")


@test(10, "RDMSR: the TSC is allowed, another MSR gets a #GP",
      exercises=["adjust_controls", "io_exit"])
def test_msr(ctx):
    boot = run_guest(ctx, "msr")
    want = ["vmexit: RDMSR", io_exits("tsc via rdmsr is nonzero"),
            "guest: tsc via rdmsr is nonzero", "vmexit: RDMSR", "vmexit: triple fault"]
    if trace(boot) != want:
        raise TestFailure("exits and output differ:\n      expected: %s\n      got:      %s"
                          % (want, trace(boot)))
    if "vcpu 0: rdmsr 0xc0000080: no such MSR for guests, #GP" not in boot.test_lines():
        raise TestFailure("the refused RDMSR is not reported")


def control_value(caps, wanted):
    """What vmx_control_value returns for a capability MSR value, and the
    wanted bits the CPU cannot set."""
    must_be_one, may_be_one = caps & 0xFFFFFFFF, caps >> 32
    cannot = [bit for bit in range(32) if wanted & ~may_be_one & (1 << bit)]
    return (wanted | must_be_one) & may_be_one, cannot


@test(10, "controls adjusted to made-up capability MSRs: required bits added, missing ones "
      "named and counted", exercises=["adjust_controls"])
def test_controls(ctx):
    rng = ctx.rng
    cases = []
    for i in range(3):
        may_be_one = rng.getrandbits(32)
        if i == 0:
            may_be_one &= ~(1 << 31)    # the last bit cannot be set, and is wanted
        if i == 1:
            may_be_one &= ~(1 << 29)    # a control without a name
        must_be_one = rng.getrandbits(32) & may_be_one
        wanted = rng.getrandbits(32)
        wanted |= {0: 1 << 31, 1: 1 << 29}.get(i, 0)
        if i == 2:
            wanted &= may_be_one        # nothing missing
        cases.append((may_be_one << 32 | must_be_one, wanted))
    args = {}
    for i, (caps, wanted) in enumerate(cases):
        args["caps%d" % i], args["wanted%d" % i] = "0x%x" % caps, "0x%x" % wanted
    boot = ctx.boot("lab5.controls", **args)
    boot.expect_status("ok")
    want = []
    for i, (caps, wanted) in enumerate(cases):
        value, cannot = control_value(caps, wanted)
        lines = ["vmx: this CPU cannot set the test%d control %s (bit %d)"
                 % (i, "?" if bit == 29 else "ctl%d" % bit, bit) for bit in cannot]
        result = "controls %d: value 0x%x, missing %d" % (i, value, len(cannot))
        got = boot.matching(r"(vmx: this CPU cannot set the test%d |controls %d:)" % (i, i))
        what = "capability MSR 0x%016x, wanted 0x%08x" % (caps, wanted)
        if got[-1:] != [result] and got[-1:]:
            m = re.match(r"controls \d+: value 0x(\w+), missing (\d+)$", got[-1])
            if m and int(m.group(1), 16) & ~(caps >> 32):
                raise TestFailure("%s: the value 0x%s sets bits the CPU cannot set (a 0 in "
                                  "bits 63:32 of the MSR): expected '%s'"
                                  % (what, m.group(1), result))
            if m and int(m.group(2)) != len(cannot):
                raise TestFailure("%s: %s controls the CPU cannot set, but *missing counted %s "
                                  "(bits %s)" % (what, len(cannot), m.group(2), cannot))
        if got[:-1] != lines and 31 in cannot:
            raise TestFailure("%s: bit 31 is wanted and the CPU cannot set it: is every bit, "
                              "0 to 31, checked?\n    expected: %s\n    got:      %s"
                              % (what, lines, got[:-1]))
        want += lines + [result]
    boot.expect_lines(r"(vmx: this CPU cannot set the test|controls \d)", want,
                      "the adjusted controls")


@test(10, "a failed VM entry is reported with its reason and the VMCS",
      exercises=["adjust_controls"])
def test_bad_guest(ctx):
    boot = ctx.boot("lab5.bad_guest")
    boot.expect_status("ok")
    want = ("vcpu 0: VM entry failed: VM-entry failure: invalid guest state "
            "(exit reason 0x80000021), qualification 0x0")
    if want not in boot.test_lines():
        raise TestFailure("missing '%s'" % want)
    if not boot.matching(r"  GUEST_CS_ACCESS_RIGHTS +0x[0-9a-f]*e09b$"):
        raise TestFailure("the VMCS dump does not show the guest's CS access rights")


@test(5, "a VMCS field written with the wrong width panics, naming it")
def test_vmcs_width(ctx):
    boot = ctx.boot("lab5.vmcs_width")
    boot.expect_status("panic")
    want = "vmcs_write32: GUEST_CS_SELECTOR (0x802) is a 16-bit field"
    if not any(l.endswith(want) for l in boot.lines):
        raise TestFailure("missing the panic '...%s'" % want)


@test(5, "one vCPU runs on one CPU, then another, then the first again",
      exercises=["adjust_controls", "io_exit"])
def test_migrate(ctx):
    token = ctx.rng.getrandbits(32)
    boot = ctx.boot("lab5.migrate", smp=2, a="0x%x" % token)
    boot.expect_status("ok")
    want = []
    for part, cpu in ((1, 0), (2, 1), (3, 0)):
        line = "part %d, token %x" % (part, token)
        want += [io_exits(line), "guest: " + line, "vmexit: HLT",
                 "vcpu 0: part ran on cpu %d: halted" % cpu]
    got = [l for l in boot.test_lines()
           if l.startswith(("vmexit: ", "guest: ", "vcpu 0: part "))]
    if got != want:
        raise TestFailure("exits and output differ:\n      expected: %s\n      got:      %s"
                          % (want, got))
    for cpu in (0, 1):
        if "vmx: cpu %d left VMX operation" % cpu not in boot.lines:
            raise TestFailure("cpu %d did not leave VMX operation (VMXOFF) at the end" % cpu)
