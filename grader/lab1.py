"""Lab 1 tests: boot information, printk, backtraces, symbol lookup, the
IDT and the trap entry, panics and kernel faults, the monitor. Every expectation is computed from values
chosen here at random and from the built kernel's own symbols."""

import re

from gradelib import (MiB, TestFailure, expect_equal_lists, function_at, header_constant,
                      image_symbol, kernel_functions, ram_layout, test)
from prng import Prng

EXERCISES = ("print_number", "backtrace_walk", "ksym_lookup", "memory_map", "idt_gate",
             "trap_entry", "fault_report")
# What an exception in kernel code needs: a gate, the entry, the report.
TRAP_EXERCISES = ["idt_gate", "trap_entry", "fault_report"]
QUICK = ("qemu", "kvm")         # the further faults: QEMU only (Bochs is slower)

FRAME = re.compile(r"^  #(\d+)\s+rip 0x([0-9a-f]{16})  rbp 0x([0-9a-f]{16})  (\S+)$")


# -- boot ---------------------------------------------------------------------

@test(10, "memory map from the boot loader", exercises=["print_number", "memory_map"])
def test_boot(ctx):
    megs = ctx.megs(64, 96, 128, 192, 256)
    seed = ctx.rng.getrandbits(63) | 1
    boot = ctx.boot("lab1.boot", megs=megs, seed=seed)
    boot.seed = seed
    boot.expect_status("ok")
    regions = []
    for line in boot.matching(r"memory: "):
        m = re.match(r"memory: 0x([0-9a-f]{16})-0x([0-9a-f]{16}) (.+)$", line)
        if not m:
            raise TestFailure("malformed memory line: '%s'" % line)
        regions.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
    usable = [(lo, hi) for lo, hi, kind in regions if kind == "usable"]
    total_kib = sum(hi - lo for lo, hi in usable) // 1024
    if ctx.machine.firmware == "uefi":
        # UEFI firmware keeps pieces all over RAM for itself.
        if not (megs - 32) * 1024 < total_kib < megs * 1024:
            raise TestFailure("%d KiB usable, but the machine has %d MiB" % (total_kib, megs))
    else:
        expect_bios_layout(usable, regions, megs)
    boot.expect_lines(r"usable: ", ["usable: %d KiB" % total_kib], "usable memory total")
    console = [l for l in boot.lines if l.startswith("kernel: console on")]
    expect_equal_lists([expected_console(ctx)], console, "the console (in the boot banner)")


def expect_bios_layout(usable, regions, megs):
    """The RAM a BIOS reports: all of it from 1 MiB up to the PCI hole, and
    the rest from 4 GiB up."""
    high = [hi for lo, hi in usable if lo <= 0x100000 < hi]
    if not high:
        raise TestFailure("no usable region contains 1 MiB; regions:\n    %s" % regions)
    # The BIOS keeps a little at the top of RAM for itself (ACPI tables);
    # RAM beyond the PCI hole starts again at 4 GiB.
    low, above_4g = ram_layout(megs)
    if not (low - 1) * MiB <= high[0] <= low * MiB:
        raise TestFailure("the region above 1 MiB ends at 0x%x, but the machine has %d MiB, "
                          "%d MiB of them below 4 GiB" % (high[0], megs, low))
    if above_4g:
        want = (1 << 32, (1 << 32) + above_4g * MiB)
        if want not in usable:
            raise TestFailure("no usable region 0x%x-0x%x (the %d MiB above 4 GiB); usable: %s"
                              % (want + (above_4g, ", ".join("0x%x-0x%x" % r for r in usable))))


MADE_UP_REGIONS = 5
REGION_TYPES = {1: "usable", 2: "reserved", 3: "ACPI reclaimable", 4: "ACPI NVS", 5: "bad"}


@test(10, "memory maps in both loaders' formats, entries of every size", parent=test_boot,
      exercises=["print_number", "memory_map"])
def test_made_up_maps(ctx, boot):
    # The regions lab1.boot makes from seed=: Multiboot's map gets the
    # first five (entries of 20 to 32 bytes), Multiboot2's the next five
    # (entries of 32 or 40 bytes, after a tag that needs padding).
    # Their types are 1 to 8 in turn (6 to 8: reserved), from a random one.
    prng = Prng(boot.seed)
    first_type = prng.next()
    lines = []
    for i in range(2 * MADE_UP_REGIONS):
        base, length = prng.next() & 0xFFFFFFFFF000, (prng.next() & 0xFFFFFFF) + 1
        kind = REGION_TYPES.get(1 + (first_type + i) % 8, "reserved")
        lines.append("0x%016x-0x%016x %s" % (base, base + length, kind))
    for i, loader in enumerate(("mb1", "mb2")):
        boot.expect_lines(r"%s memory: " % loader,
                          ["%s memory: %s" % (loader, line)
                           for line in lines[i * MADE_UP_REGIONS:(i + 1) * MADE_UP_REGIONS]],
                          "the memory map of made-up %s information"
                          % ("Multiboot" if loader == "mb1" else "Multiboot2"))


def expected_console(ctx):
    """Where the kernel must print: the VGA text screen that GRUB reports
    (Bochs) or that the BIOS set up (QEMU's own loader reports none), and
    under UEFI, which has no text screen, COM1 only."""
    if ctx.machine.firmware == "uefi":
        return "kernel: console on COM1 only: no text screen (from neither the loader nor a BIOS)"
    return ("kernel: console on COM1 and a text screen of 80x25 at 0xb8000 (from %s)"
            % ("the loader" if ctx.emulator == "bochs" else "the BIOS"))


# -- printf -------------------------------------------------------------------

# The cases of kernel/test/lab1.c, in order: (C format, kind of value).
PRINTF_CASES = [
    ("%d", "int"), ("%i", "int"), ("%u", "uint"), ("%x", "uint"),
    ("%o", "uint"), ("%ld", "long"), ("%lu", "ulong"), ("%lx", "ulong"),
    ("%llx", "ulong"), ("%zu", "ulong"), ("%d", "small"), ("%6d", "small"),
    ("%-6d|", "negative"), ("%06d", "negative"), ("%08x", "uint"),
    ("%016lx", "ulong"), ("%-12lu|", "ulong"), ("%3u", "uint"), ("%p", "pointer"),
    ("%c", "char"), ("%s", "string"), ("%8s|", "string"), ("%-8s|", "string"),
    ("%.2s", "string"), ("100%%", "none"),
]
PRINTF_WORDS = ["dune", "ix", "vmcs", "ept", "lwip", ""]


def signed(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def printf_expected(fmt, kind, v):
    """What the kernel must print for one case, by Python's % operator."""
    if kind == "pointer":
        return "0x%016x" % v
    value = {
        "int": signed(v, 32), "uint": v & 0xFFFFFFFF, "long": signed(v, 64),
        "ulong": v, "small": v % 20001 - 10000, "negative": -1 - v % 9999,
        "char": chr(33 + v % 94),
        "string": PRINTF_WORDS[v % 6],
    }.get(kind)
    pyfmt = fmt.replace("l", "").replace("z", "")
    return pyfmt % value if kind != "none" else pyfmt % ()


def case_label(i):
    return chr(ord("a") + i // 26) + chr(ord("a") + i % 26)


@test(0, "printf: the self-test runs")
def test_printf(ctx):
    seed = ctx.rng.getrandbits(63) | 1
    boot = ctx.boot("lab1.printf", seed=seed)
    boot.seed = seed
    boot.expect_status("ok")


def check_printf_cases(boot, indices, what):
    prng = Prng(boot.seed)
    values = [prng.next() for _ in PRINTF_CASES]
    for i in indices:
        fmt, kind = PRINTF_CASES[i]
        label = case_label(i)
        boot.expect_lines(r"printf case %s: " % label,
                          ["printf case %s: [%s]" % (label, printf_expected(fmt, kind, values[i]))],
                          "%s, printk(\"%s\")" % (what, fmt))


@test(5, "printf: signed decimal", parent=test_printf, exercises=["print_number"])
def test_printf_signed(ctx, boot):
    check_printf_cases(boot, [0, 1, 5, 10], "signed decimal")


@test(5, "printf: unsigned, hex and octal", parent=test_printf, exercises=["print_number"])
def test_printf_bases(ctx, boot):
    check_printf_cases(boot, [2, 3, 4, 6, 7, 8, 9], "unsigned")


@test(5, "printf: field width and padding", parent=test_printf, exercises=["print_number"])
def test_printf_width(ctx, boot):
    check_printf_cases(boot, [11, 12, 13, 14, 15, 16, 17], "width and padding")


@test(5, "printf: pointers, characters and strings", parent=test_printf,
      exercises=["print_number"])
def test_printf_other(ctx, boot):
    check_printf_cases(boot, [18, 19, 20, 21, 22, 23, 24], "%p, %c, %s")


# -- backtraces and symbols ---------------------------------------------------

def parse_frames(lines):
    frames = []
    for line in lines:
        m = FRAME.match(line)
        if m:
            frames.append((int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16),
                           m.group(4)))
    return frames


def expected_symbol(functions, etext, rip, is_return_address=True):
    """name+0xoffset as the kernel must print it for this rip."""
    found = function_at(functions, etext, rip - 1 if is_return_address else rip)
    return "%s+0x%x" % (found[0], rip - found[1]) if found else "??"


@test(0, "backtrace: the self-test runs")
def test_backtrace(ctx):
    depth = ctx.rng.randint(2, 9)
    boot = ctx.boot("lab1.backtrace", depth=depth)
    boot.depth = depth
    boot.expect_status("ok")


@test(15, "backtrace: walks every frame", parent=test_backtrace, exercises=["backtrace_walk"])
def test_backtrace_walk(ctx, boot):
    functions, etext = kernel_functions()
    frames = parse_frames(boot.test_lines())
    # backtrace_recurse(depth) ... backtrace_recurse(0), then the callers
    # lab1_backtrace, ktest_run, kmain, and the entry code.
    callers = ["backtrace_recurse"] * (boot.depth + 1) + ["lab1_backtrace", "ktest_run", "kmain"]
    want = len(callers) + 1
    if len(frames) != want:
        raise TestFailure("expected %d frames (depth %d), got %d:\n    %s"
                          % (want, boot.depth, len(frames), "\n    ".join(boot.test_lines())))
    stray = boot.matching(r"  #\d+\s+bad frame pointer")
    if stray:
        raise TestFailure("the walk went past the last frame: '%s'" % stray[0])
    for i, (n, rip, rbp, _) in enumerate(frames):
        if n != i:
            raise TestFailure("frame %d is numbered #%d" % (i, n))
        if i > 0 and rbp <= frames[i - 1][2]:
            raise TestFailure("frame #%d: rbp 0x%x is not above the previous frame's 0x%x"
                              % (i, rbp, frames[i - 1][2]))
        found = function_at(functions, etext, rip - 1)
        if i < len(callers) and (found is None or found[0] != callers[i]):
            raise TestFailure("frame #%d: rip 0x%x is in %s, not in %s"
                              % (i, rip, found[0] if found else "no function", callers[i]))


@test(5, "backtrace: stops after BACKTRACE_MAX_FRAMES frames", exercises=["backtrace_walk"])
def test_backtrace_limit(ctx):
    limit = header_constant("kernel/debug/backtrace.h", "BACKTRACE_MAX_FRAMES")
    depth = ctx.rng.randint(limit, limit + 8)
    boot = ctx.boot("lab1.backtrace", depth=depth)
    boot.expect_status("ok")
    functions, etext = kernel_functions()
    frames = parse_frames(boot.test_lines())
    expect_equal_lists(["#%d in backtrace_recurse" % i for i in range(limit)],
                       ["#%d in %s" % (n, (function_at(functions, etext, rip - 1) or ("?",))[0])
                        for n, rip, _, _ in frames],
                       "a backtrace of %d nested calls (BACKTRACE_MAX_FRAMES is %d)"
                       % (depth, limit))


@test(10, "backtrace: names each frame", parent=test_backtrace, exercises=["ksym_lookup"])
def test_backtrace_names(ctx, boot):
    functions, etext = kernel_functions()
    frames = parse_frames(boot.test_lines())
    if not frames:
        raise TestFailure("no frames printed")
    for n, rip, _, printed in frames:
        want = expected_symbol(functions, etext, rip)
        if printed != want:
            raise TestFailure("frame #%d: rip 0x%x printed as %s, expected %s"
                              % (n, rip, printed, want))


@test(15, "ksym_lookup: random addresses", exercises=["ksym_lookup"])
def test_ksyms(ctx):
    functions, etext = kernel_functions()
    picks = ctx.rng.sample(range(len(functions)), 6)
    addrs = []
    for i in picks:
        start = functions[i][0]
        end = functions[i + 1][0] if i + 1 < len(functions) else etext
        addrs.append(ctx.rng.randrange(start, end))
    # The edges: a function's first byte, the last byte of the text, and
    # addresses just outside it.
    first = functions[ctx.rng.randrange(1, len(functions))][0]
    addrs += [first, etext - 1, functions[0][0] - 1, etext, 0x1000]
    ctx.rng.shuffle(addrs)
    boot = ctx.boot("lab1.ksyms", addrs=",".join("%x" % a for a in addrs))
    boot.expect_status("ok")
    want = []
    for a in addrs:
        sym = expected_symbol(functions, etext, a, is_return_address=False)
        want.append("ksym: 0x%016x is %s" % (a, sym) if sym != "??"
                    else "ksym: 0x%016x is outside the kernel text" % a)
    boot.expect_lines(r"ksym: ", want, "ksym_lookup")


@test(5, "backtrace: stops at a corrupt frame pointer", exercises=["backtrace_walk"])
def test_bad_frame(ctx):
    bad = ctx.rng.choice([0x1000 + ctx.rng.getrandbits(20) * 8, (1 << 63) | 4, 0x7FFF12345670])
    boot = ctx.boot("lab1.bad_frame", bad="0x%x" % bad)
    boot.expect_status("ok")
    # backtrace's own frame, then the one whose saved rbp was replaced.
    frames = parse_frames(boot.test_lines())
    want = "  #2  bad frame pointer 0x%016x: stop" % bad
    if len(frames) != 2 or want not in boot.test_lines():
        raise TestFailure("expected two frames, then '%s'; got:\n    %s"
                          % (want, "\n    ".join(boot.test_lines())))
    if "lab1.bad_frame: survived" not in boot.test_lines():
        raise TestFailure("the test did not go on after the backtrace")


# -- stopping for bugs --------------------------------------------------------

def source_line(path, text):
    """The line number of the first line of path that contains text."""
    from gradelib import runner
    for n, line in enumerate((runner.TOP / path).read_text().splitlines(), 1):
        if text in line:
            return n
    raise TestFailure("cannot find '%s' in %s" % (text, path))


def check_frame_names(boot, name):
    frames = parse_frames(boot.lines)
    if not any(printed.startswith(name + "+") for _, _, _, printed in frames):
        raise TestFailure("the backtrace does not show %s:\n    %s"
                          % (name, "\n    ".join(boot.lines[-12:])))


@test(10, "panic: message, registers, backtrace",
      exercises=["print_number", "backtrace_walk", "ksym_lookup"])
def test_panic(ctx):
    boot = ctx.boot("lab1.panic")
    boot.expect_status("panic")
    line = source_line("kernel/test/lab1.c", 'panic("lab1 panic test')
    want = "kernel panic at kernel/test/lab1.c:%d: lab1 panic test (token %s)" % (line, boot.token)
    if want not in boot.lines:
        raise TestFailure("missing the panic line\n      expected: %s" % want)
    if not boot.matching(r"  rsp 0x[0-9a-f]{16}  rflags 0x[0-9a-f]+$"):
        raise TestFailure("missing the register line '  rsp 0x...  rflags 0x...'")
    check_frame_names(boot, "lab1_panic")


@test(10, "kernel page fault: reported with the address and a backtrace",
      exercises=["print_number", "ksym_lookup"] + TRAP_EXERCISES)
def test_null(ctx):
    address = ctx.rng.randrange(0, 1 << 30) & ~7
    boot = ctx.boot("lab1.null", address="0x%x" % address)
    boot.expect_status("panic")
    expect_fault_line(boot, "page fault (vector 14) in kernel code at address 0x%016x: "
                      "write to a not-present page" % address)
    expect_frame_fields(boot, {"vector": 14, "error": 2, "cs": kernel_code_selector(),
                               "cr2": address})
    expect_first_frame(boot, "lab1_null_write")


# -- the IDT and the trap entry -----------------------------------------------

# The general registers in the order of struct trapframe, as
# kernel/test/lab1_trap.S loads them from the values of seed= (all but
# rbp, which keeps the frame).
TRAPFRAME_REGISTERS = ["r15", "r14", "r13", "r12", "r11", "r10", "r9", "r8",
                       "rdi", "rsi", "rbp", "rdx", "rcx", "rbx", "rax"]
FRAME_FIELD = re.compile(r"(?:^|  )(r\w+|cs|ss|vector|error|cr2|cr3)\s+(0x[0-9a-f]+|\d+)")
GATE_PRESENT, GATE_TYPE_INTERRUPT = 0x80, 0xE


def kernel_code_selector():
    return header_constant("kernel/arch/gdt.h", "GDT_KERNEL_CODE")


def expect_fault_line(boot, want):
    if not any(line.endswith(want) for line in boot.lines):
        raise TestFailure("missing the fault line\n      expected: ...%s" % want)


def frame_fields(boot):
    """The fields of the trap frame the report printed (trap_print_frame):
    name -> value."""
    fields = {}
    start = next((i for i, line in enumerate(boot.lines) if line.startswith("  rax 0x")), None)
    if start is None:
        raise TestFailure("no trap frame in the report (a line '  rax 0x...')")
    for line in boot.lines[start:start + 7]:
        for name, value in FRAME_FIELD.findall(line):
            fields[name] = int(value, 0)
    return fields


def expect_frame_fields(boot, want):
    fields = frame_fields(boot)
    wrong = ["%s is 0x%x, expected 0x%x" % (name, fields.get(name, -1), value)
             for name, value in want.items() if fields.get(name) != value]
    if wrong:
        raise TestFailure("the trap frame is not the CPU's:\n      %s" % "\n      ".join(wrong))


def expect_first_frame(boot, function, offset=None):
    """Frame #0 of the report is the trap frame's rip, in function (at
    offset, if given), looked up as it is, not as a return address; frame
    #1 is the walk's first."""
    frames = parse_frames(boot.lines)
    rip = frame_fields(boot).get("rip")
    if not frames or frames[0][0] != 0 or frames[0][1] != rip:
        raise TestFailure("the backtrace does not start with frame #0 at the trap frame's rip "
                          "0x%x:\n    %s" % (rip or 0, "\n    ".join(boot.lines[-8:])))
    functions, etext = kernel_functions()
    want = expected_symbol(functions, etext, rip, is_return_address=False)
    if not want.startswith(function + "+") or (offset is not None and
                                               want != "%s+0x%x" % (function, offset)):
        raise TestFailure("the trap frame's rip 0x%x is %s, not in %s" % (rip, want, function))
    if frames[0][3] != want:
        raise TestFailure("frame #0: rip 0x%x printed as %s, expected %s"
                          % (rip, frames[0][3], want))
    if len(frames) < 2 or frames[1][0] != 1:
        raise TestFailure("the backtrace stops after frame #0 (the walk from the trap frame's "
                          "rbp is missing):\n    %s" % "\n    ".join(boot.lines[-8:]))


def gate_words(handler, selector, ist, dpl):
    """The two 64-bit words of an interrupt gate (SDM Vol. 3A 6.14.1,
    Figure 6-8), high then low."""
    attributes = GATE_PRESENT | dpl << 5 | GATE_TYPE_INTERRUPT
    low = ((handler & 0xFFFF) | selector << 16 | ist << 32 | attributes << 40
           | (handler >> 16 & 0xFFFF) << 48)
    return handler >> 32, low


def describe_gate(high, low):
    handler = (low & 0xFFFF) | (low >> 48 & 0xFFFF) << 16 | (high & 0xFFFFFFFF) << 32
    attributes = low >> 40 & 0xFF
    return ("handler 0x%016x, selector 0x%x, IST %d, P %d, DPL %d, type 0x%x%s"
            % (handler, low >> 16 & 0xFFFF, low >> 32 & 7, attributes >> 7, attributes >> 5 & 3,
               attributes & 0xF, ", reserved bits set" if high >> 32 or low >> 35 & 0x1F else ""))


@test(0, "traps: the self-test runs", exercises=TRAP_EXERCISES)
def test_trap(ctx):
    # The gates whose fields differ (int3's DPL, the IST stacks), the page
    # fault's, the last, and a few more.
    gates = [2, 3, 8, 14, 18, 255] + ctx.rng.sample(range(19, 255), 3)
    ctx.rng.shuffle(gates)
    seed = ctx.rng.getrandbits(63) | 1
    boot = ctx.boot("lab1.trap", seed=seed, gates=",".join("%x" % v for v in gates))
    boot.seed, boot.gates = seed, gates
    boot.expect_status("panic")


@test(10, "IDT: the gates and the IDT register", parent=test_trap, exercises=["idt_gate"])
def test_idt(ctx, boot):
    functions = {name: addr for addr, name in kernel_functions()[0]}
    selector = kernel_code_selector()
    ists = {header_constant("kernel/arch/trapframe.h", "T_" + name):
            header_constant("kernel/cpu/cpu.h", "IST_" + name)
            for name in ("NMI", "DOUBLE_FAULT", "MACHINE_CHECK")}
    want_idtr = "idt: base 0x%016x limit 0xfff" % image_symbol("idt")
    boot.expect_lines(r"idt: base ", [want_idtr], "the IDT register (256 gates of 16 bytes)")
    got = {}
    for line in boot.matching(r"idt: gate "):
        m = re.match(r"idt: gate 0x([0-9a-f]+): 0x([0-9a-f]{16}) 0x([0-9a-f]{16})$", line)
        if not m:
            raise TestFailure("malformed gate line: '%s'" % line)
        got[int(m.group(1), 16)] = (int(m.group(2), 16), int(m.group(3), 16))
    for v in boot.gates:
        want = gate_words(functions["trap_vector_%d" % v], selector, ists.get(v, 0),
                          3 if v == 3 else 0)
        if got.get(v) != want:
            raise TestFailure("gate %d (0x%x):\n      expected: %s\n      got:      %s"
                              % (v, v, describe_gate(*want),
                                 describe_gate(*got[v]) if v in got else "no gate line"))


def fault_cause(code):
    """What print_page_fault_cause says of an error code (SDM Vol. 3A 4.7)."""
    access = ("instruction fetch from" if code & 0x10 else
              "write to" if code & 0x2 else "read from")
    return "%s %s page%s" % (access, "a protected" if code & 0x1 else "a not-present",
                             " (reserved bit set in a page-table entry)" if code & 0x8 else "")


@test(5, "page-fault error codes: every combination of the bits", parent=test_trap,
      exercises=["fault_report"])
def test_fault_causes(ctx, boot):
    boot.expect_lines(r"fault cause ", ["fault cause 0x%02x: %s" % (code, fault_cause(code))
                                        for code in range(32)],
                      "print_page_fault_cause")


def sent_registers(seed):
    prng = Prng(seed)
    return {name: prng.next() for name in TRAPFRAME_REGISTERS}


@test(10, "trap entry: an interrupt returns with every register kept", parent=test_trap,
      exercises=["idt_gate", "trap_entry"])
def test_trap_return(ctx, boot):
    vector = header_constant("kernel/cpu/lapic.h", "T_DEVICE_FIRST")
    boot.expect_lines(r"trap: (vector|r\w+ was)",
                      ["trap: vector %d returned with every register kept" % vector],
                      "the registers after int $%d, whose handler changes rax, rcx, rdx, "
                      "rsi, rdi and r8-r11" % vector)


def expect_registers(boot, seed):
    fields = frame_fields(boot)
    wrong = ["%s is 0x%016x, expected 0x%016x" % (name, fields.get(name, 0), value)
             for name, value in sent_registers(seed).items()
             if name != "rbp" and fields.get(name) != value]
    if wrong:
        raise TestFailure("the registers in the trap frame are not those of the trap "
                          "(struct trapframe's order?):\n      %s" % "\n      ".join(wrong))


@test(10, "trap entry: a breakpoint's frame (no error code)", parent=test_trap,
      exercises=TRAP_EXERCISES)
def test_breakpoint(ctx, boot):
    expect_fault_line(boot, "breakpoint (vector 3) in kernel code")
    expect_registers(boot, boot.seed)
    expect_frame_fields(boot, {"vector": 3, "error": 0, "cs": kernel_code_selector()})
    expect_first_frame(boot, "lab1_trap_breakpoint")
    check_frame_names(boot, "lab1_trap")


@test(10, "trap entry: a general-protection fault's frame (an error code)",
      exercises=TRAP_EXERCISES, emulators=QUICK)
def test_gp(ctx):
    seed = ctx.rng.getrandbits(63) | 1
    # A GDT selector (TI clear) far beyond the GDT's end, with any RPL; the
    # error code is the selector without its RPL (SDM Vol. 3A 6.13). (QEMU
    # reads an LDT selector's descriptor at 0 when there is no LDT.)
    selector = ctx.rng.randrange(0x20, 0x2000) << 3 | ctx.rng.randrange(4)
    boot = ctx.boot("lab1.trap", seed=seed, fault="gp", selector="0x%x" % selector)
    boot.expect_status("panic")
    expect_fault_line(boot, "general protection (vector 13) in kernel code")
    expect_registers(boot, seed)
    expect_frame_fields(boot, {"vector": 13, "error": selector & ~3,
                               "cs": kernel_code_selector()})
    expect_first_frame(boot, "lab1_gp_fault", offset=0)
    check_frame_names(boot, "lab1_trap")


@test(10, "double fault: a page fault through a not-present gate",
      exercises=TRAP_EXERCISES, emulators=QUICK)
def test_double_fault(ctx):
    address = ctx.rng.randrange(0, 1 << 30) & ~7
    boot = ctx.boot("lab1.double", address="0x%x" % address)
    boot.expect_status("panic")
    expect_fault_line(boot, "double fault (vector 8) in kernel code")
    expect_frame_fields(boot, {"vector": 8, "error": 0, "cs": kernel_code_selector(),
                               "cr2": address})
    expect_first_frame(boot, "lab1_double_fault")


@test(10, "monitor: help, kerninfo, backtrace, errors, exit",
      exercises=["print_number", "backtrace_walk", "ksym_lookup"])
def test_monitor(ctx):
    word = "bogus" + ctx.token()
    boot = ctx.boot("monitor", stdin="help\nkerninfo\n%s\nbacktrace\nexit\n" % word)
    boot.expect_status("ok")
    text = "\n".join(boot.lines)
    for want in ("  kerninfo   where the kernel image lies in memory",
                 "  _start  0x%016x (physical entry)" % image_symbol("_start"),
                 "unknown command '%s' (try 'help')" % word):
        if want not in text:
            raise TestFailure("missing in the monitor's output: '%s'" % want)
    check_frame_names(boot, "monitor_run")
