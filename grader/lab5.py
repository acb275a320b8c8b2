"""Lab 5 tests: guests on a vCPU (VT-x under Bochs, or KVM with nested
VMX). The exact sequence of exits and the guests' output are checked,
with the values the guests print chosen here."""

import re
import subprocess

from gradelib import TestFailure, expect_equal_lists, expect_first_line, runner, test


# What a guest needs to run and print: VMX operation, the VMCS host and
# guest state, the controls, VM entry, the exit dispatch and port I/O.
RUNS = ["vmxon", "host_state", "guest_state", "adjust_controls", "vm_entry", "exit_dispatch",
        "io_exit"]


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


@test(10, "VMXON: on, refused when on already or with a wrong revision, each failure "
      "named by its flag, on again after VMXOFF with the same region", exercises=["vmxon"])
def test_vmxon(ctx):
    boot = ctx.boot("lab5.vmxon")
    boot.expect_status("ok")
    want = ["vmxon: first 0, cr4.vmxe 1",
            "vmx: cpu 0: VMXON failed (VMfailInvalid)",
            "vmxon: again -38",
            "vmx: cpu 0: VMXON failed (VMfailValid: already in VMX operation?)",
            "vmxon: again with a current VMCS -38",
            "vmx: cpu 0 left VMX operation",
            "vmx: cpu 0: VMXON failed (VMfailInvalid)",
            "vmxon: wrong revision -38",
            "vmxon: after vmxoff 0, pages taken 0",
            "vmx: cpu 0 left VMX operation"]
    got = boot.matching(r"(vmxon: |vmx: cpu 0)")
    expect_first_line(want, got, "the first VMXON: is the region's first word the revision "
                      "identifier of IA32_VMX_BASIC, and CR4.VMXE set?")
    if "vmxon: again 0" in got or "vmxon: again with a current VMCS 0" in got:
        raise TestFailure("a second VMXON on a CPU in VMX operation fails (CF set without a "
                          "current VMCS, ZF with one: SDM Vol. 3C 31.2), but vmx_enable_cpu "
                          "returned 0")
    m = [re.match(r"vmxon: after vmxoff 0, pages taken (-?\d+)$", l) for l in got]
    m = [x for x in m if x]
    if m and m[0].group(1) != "0":
        raise TestFailure("VMXON after VMXOFF took %s more pages: the CPU's VMXON region "
                          "is kept and used again" % m[0].group(1))
    boot.expect_lines(r"(vmxon: |vmx: cpu 0)", want, "VMXON's outcomes")


@test(10, "the VMCS host state: each field with one right value is this CPU's",
      exercises=["vmxon", "host_state"])
def test_host_state(ctx):
    boot = run_guest(ctx, "state", host=1)
    got = boot.matching(r"vcpu 0: host state: ")
    if got != ["vcpu 0: host state: 11 fields checked, 0 wrong"]:
        raise TestFailure("the host state read back from the VMCS after vcpu_create differs "
                          "from this CPU's (a field a VM exit loads, SDM Vol. 3C 28.5):\n    %s"
                          % "\n    ".join(got))


@test(10, "the VMCS guest state: the guest sees the registers and selectors it was given",
      parent=test_host_state, exercises=RUNS)
def test_guest_state(ctx, boot):
    want = ["guest: state: cr0 (PE, NE, PG) cr3 0x1000 cr4 (PAE) rflags 0x2",
            "guest: state: cs 0x8 ss 0x10 ds 0x10 es 0x10 fs 0x10 gs 0x10 tr 0x18",
            "guest: state: stack page 0x1ff"]
    got = [l for l in trace(boot) if l.startswith("guest: ")]
    if len(got) != 3:
        raise TestFailure("expected the state guest's three lines, got %s\n%s"
                          % (got, "\n".join(boot.matching(r"vcpu 0: "))))
    m = re.match(r"guest: state: cr0 0x(\w+) cr3 0x1000 cr4 0x(\w+) rflags 0x2$", got[0])
    if not m:
        raise TestFailure("expected '%s' (CR3 the guest's page tables at 0x1000, RFLAGS "
                          "only its reserved bit 1: interrupts off), got '%s'" % (want[0], got[0]))
    cr0, cr4 = int(m.group(1), 16), int(m.group(2), 16)
    pe_ne_pg, cd_nw = 1 | 1 << 5 | 1 << 31, 3 << 29
    if cr0 & pe_ne_pg != pe_ne_pg or cr0 & cd_nw:
        raise TestFailure("the guest's CR0 0x%x: PE, NE and PG must be set, CD and NW clear"
                          % cr0)
    if cr4 & (1 << 5) == 0 or cr4 & (1 << 13):
        raise TestFailure("the guest's CR4 0x%x: PAE must be set, and VMXE read as 0 "
                          "(the read shadow)" % cr4)
    if got[1:] != want[1:]:
        raise TestFailure("selectors and stack differ:\n      expected: %s\n      got:      %s"
                          % (want[1:], got[1:]))
    stopped(boot, "state", "halted")


@test(15, "a guest prints through the virtual serial port and halts", exercises=RUNS)
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


@test(15, "CPUID returns what the host chose, for the leaf and subleaf asked",
      exercises=RUNS + ["cpuid_exit"])
def test_cpuid(ctx):
    value = ctx.rng.getrandbits(31) | 1
    boot = run_guest(ctx, "cpuid", cpuid="0x%x" % value)
    lines = [l for l in trace(boot) if l.startswith("guest: ")]
    want = ["guest: cpuid 0x40000000: TeachOS VMM  value %x" % value,
            "guest: cpuid 1: vmx 0 hypervisor 1",
            "guest: cpuid 4: subleaves 0 and 1 differ: 1"]
    if lines[1:] != want or not lines[0].startswith("guest: cpuid 0: vendor "):
        raise TestFailure("expected %s after the vendor line, got %s" % (want, lines))
    if lines[4:] == ["guest: cpuid 4: subleaves 0 and 1 differ: 0"]:
        raise TestFailure("CPUID leaf 4 gave the guest the same EAX for subleaves 0 and 1: "
                          "is the subleaf (ECX) passed on?")
    cpuid_exits = [l for l in trace(boot) if l.startswith("vmexit: CPUID")]
    if cpuid_exits != ["vmexit: CPUID"] * 3 + ["vmexit: CPUID x2"]:
        raise TestFailure("expected five CPUID exits, one after another for leaf 4: %s"
                          % cpuid_exits)
    stopped(boot, "cpuid", "halted")


@test(20, "hypercalls: arguments, results, guest memory, exit status",
      exercises=RUNS + ["hypercall"])
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


@test(10, "port I/O: IN of each size and with the port in the instruction from a port "
      "without a device; a string OUT stops the guest", exercises=RUNS)
def test_ports(ctx):
    pattern = ctx.rng.getrandbits(64) | 1 << 63
    boot = run_guest(ctx, "ports", a="0x%x" % pattern)
    want = ["guest: ports: inb 0x%x" % (pattern & ~0xFF | 0xFF),
            "guest: ports: inw 0x%x" % (pattern & ~0xFFFF | 0xFFFF),
            "guest: ports: inl 0xffffffff",
            "guest: ports: inw from port 0x80 0x%x" % (pattern & ~0xFFFF | 0xFFFF),
            "guest: ports: line status 0x%x" % (pattern & ~0xFF | 0x60)]
    got = [l for l in trace(boot) if l.startswith("guest: ")]
    if "guest: ports: the string OUT went on" in got or "guest: !" in got:
        raise TestFailure("the guest's OUTSB (bit 4 of the exit qualification: a string "
                          "instruction) was served as an OUT of AL; string I/O is not emulated: "
                          "it stops the guest")
    if got != want:
        raise TestFailure("RAX was 0x%x before each IN; a byte IN sets AL only, a word IN AX, "
                          "a doubleword IN all of EAX, zero-extended (is the access size "
                          "decoded from bits 2:0 of the exit qualification as size - 1? is "
                          "RIP moved by the instruction's length, 2 for IN imm8?)"
                          "\n      expected: %s\n      got:      %s" % (pattern, want, got))
    boot.expect_lines(r"vcpu 0: unsupported I/O",
                      ["vcpu 0: unsupported I/O: outs of 1 bytes at port 0x3f8"],
                      "the string OUT refused")
    stopped(boot, "ports", "unsupported I/O")


def guest_function_range(guest, name):
    elf = runner.BUILD / "guests" / ("%s.elf" % guest)
    out = subprocess.run(["nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == name:
            return int(parts[0], 16), int(parts[0], 16) + int(parts[1], 16)
    raise TestFailure("%s has no %s" % (elf, name))


@test(10, "a guest that crashes is stopped with a triple fault, naming where",
      exercises=RUNS)
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


@test(10, "RDMSR: the TSC is allowed, another MSR gets a #GP", exercises=RUNS)
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


@test(10, "a failed VM entry is reported with its reason and the VMCS: a bad guest state "
      "(an exit), a bad host state (VMfailValid); an exit without a handler stops the guest",
      exercises=["vmxon", "host_state", "guest_state", "adjust_controls", "vm_entry",
                 "exit_dispatch"])
def test_bad_guest(ctx):
    boot = ctx.boot("lab5.bad_guest")
    boot.expect_status("ok")
    start, end = guest_function_range("invd", "main")
    want = ["vcpu 0: VM entry failed: VM-entry failure: invalid guest state "
            "(exit reason 0x80000021), qualification 0x0",
            "vcpu 0: guest stopped: VM entry failed",
            "vcpu 1: VMLAUNCH failed: VM entry with invalid host-state field(s)",
            "vcpu 1: guest stopped: VM entry failed",
            "vcpu 2: no handler for exit 13 (INVD), qualification 0x0, guest rip (in main)",
            "vcpu 2: guest stopped: unhandled exit"]
    got = boot.matching(r"vcpu \d: (VM|guest stopped|no handler)")
    m = re.match(r"(vcpu 2: no handler .*, guest rip )0x(\w+)$", got[4]) if len(got) > 4 else None
    if m and start <= int(m.group(2), 16) < end:
        got[4] = m.group(1) + "(in main)"
    expect_equal_lists(want, got, "the failed entries and the exit without a handler")
    if not boot.matching(r"  GUEST_CS_ACCESS_RIGHTS +0x[0-9a-f]*e09b$"):
        raise TestFailure("the VMCS dump does not show the guest's CS access rights")
    if not boot.matching(r"  HOST_TR_SELECTOR +0x0$"):
        raise TestFailure("the VMCS dump of the second vCPU does not show its null host TR")
    if len(boot.matching(r"  GUEST_RIP +0x")) != 3:
        raise TestFailure("expected a VMCS dump after each of the three failures")


@test(5, "a VMCS field written with the wrong width panics, naming it", exercises=["vmxon"])
def test_vmcs_width(ctx):
    boot = ctx.boot("lab5.vmcs_width")
    boot.expect_status("panic")
    want = "vmcs_write32: GUEST_CS_SELECTOR (0x802) is a 16-bit field"
    if not any(l.endswith(want) for l in boot.lines):
        raise TestFailure("missing the panic '...%s'" % want)


@test(5, "one vCPU runs on one CPU, then another, then the first again", exercises=RUNS)
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
