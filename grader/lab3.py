"""Lab 3 tests: user processes. The grader picks each program's argument,
so the expected output is known only to it; it checks fault addresses
against the programs' own symbols, and that no page leaks."""

import re
import subprocess

import gradelib
from gradelib import TestFailure, header_constant, image_symbol, runner, test

KERNBASE = 0xFFFFFFFF80000000

# What a process needs to start, print and exit: its segments loaded, its
# stack and first frame, SYSCALL on, the dispatcher, and the check of the
# buffer it writes.
RUNS = ["load_segment", "user_entry", "syscall_init", "syscall_dispatch", "user_range_ok"]
# ... and to be stopped at a fault.
FAULTS = RUNS + ["trap_user"]


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


HEADER_DAMAGES = ["magic", "class", "byte order", "type", "machine", "program header size",
                  "program headers cut", "phnum", "program headers cross the end",
                  "phoff at the end", "phoff wraps",
                  "entry at USER_TOP"]
SEGMENT_DAMAGES = ["segment offset", "segment past the end", "segment offset wraps",
                   "filesz > memsz", "segment in page 0", "segment in the kernel",
                   "segment past USER_TOP", "segment wraps"]


@test(10, "ELF headers: each damaged header is refused with -ENOEXEC",
      exercises=["elf_check_header"])
def test_bad_header(ctx):
    boot = ctx.boot("lab3.bad_elf", part="header")
    boot.expect_status("ok")
    boot.expect_lines(r"bad elf ", ["bad elf %s: -8" % w for w in HEADER_DAMAGES],
                      "damaged headers")
    expect_no_leak(boot)


@test(0, "ELF segments: the self-test runs")
def test_bad_segment(ctx):
    boot = ctx.boot("lab3.bad_elf", part="segment")
    boot.expect_status("ok")


@test(10, "ELF segments: each damaged segment is refused with -ENOEXEC, nothing leaks",
      parent=test_bad_segment, exercises=["elf_check_segment"])
def test_bad_segment_refused(ctx, boot):
    boot.expect_lines(r"bad elf [^(]*$",
                      ["bad elf %s: -8" % w for w in SEGMENT_DAMAGES], "damaged segments")
    expect_no_leak(boot)


@test(5, "ELF segments: a segment that ends at USER_TOP is loaded",
      parent=test_bad_segment, exercises=["elf_check_segment", "load_segment"])
def test_bad_segment_edge(ctx, boot):
    boot.expect_lines(r"bad elf segment ends", ["bad elf segment ends at USER_TOP: 0 (accepted)"],
                      "a segment that ends at USER_TOP")


@test(10, "hello: a process runs, prints, exits with a status", exercises=RUNS)
def test_hello(ctx):
    arg = ctx.rng.getrandbits(32)
    boot = run_programs(ctx, "hello", arg)
    boot.expect_lines(r"(process|hello)", [
        "process hello[1] started",
        "hello from pid 1, arg 0x%x" % arg,
        ended(1, "hello", arg % 100)], "hello")
    expect_no_leak(boot)


@test(5, "segments that share a page and start inside it", exercises=RUNS)
def test_packed(ctx):
    # packed's text, read-only data and data all touch one page: it must
    # be executable, writable, and hold each segment's bytes where they go.
    boot = run_programs(ctx, "packed", ctx.rng.getrandbits(16))
    boot.expect_lines(r"(process packed|packed: )", [
        "process packed[1] started", "packed: read-only data intact, data 42",
        ended(1, "packed", 0)], "packed")
    expect_no_leak(boot)


@test(10, "a .bss that starts inside a page and crosses three is mapped and zeroed",
      exercises=RUNS)
def test_bss(ctx):
    # Twice: the second run's pages may be those the first one left dirty.
    boot = run_programs(ctx, "bss,bss", ctx.rng.getrandbits(16))
    boot.expect_lines(r"(process bss|bss: )", [
        "process bss[1] started", "bss: 13288 bytes, 0 nonzero; data intact", ended(1, "bss", 0),
        "process bss[2] started", "bss: 13288 bytes, 0 nonzero; data intact", ended(2, "bss", 0)],
        "bss")
    expect_no_leak(boot)


@test(5, "malloc and free on sbrk", exercises=RUNS + ["sbrk"])
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


@test(0, "entry, sbrktest, exectest: the self-tests run")
def test_entry(ctx):
    # After bss, whose pages come back dirty: entry's stack may get them.
    run_programs(ctx, "bss,entry,sbrktest,exectest", ctx.rng.getrandbits(16))


@test(5, "entry: ring 3, interrupts on, no stray RFLAGS bit, an aligned and zeroed stack",
      parent=test_entry, exercises=RUNS)
def test_entry_state(ctx, boot):
    boot.expect_lines(r"entry: (rflags|stack|lower)", [
        "entry: rflags & 0x47700 = 0x200",
        "entry: stack pointer 16-byte aligned at main's call: yes",
        "entry: lower 15 stack pages: 0 nonzero bytes, writable"], "the state a process starts in")


@test(5, "entry: after SYSRET, the user selectors 0x23 and 0x1b", parent=test_entry,
      exercises=RUNS)
def test_entry_selectors(ctx, boot):
    boot.expect_lines(r"entry: cs", ["entry: cs 0x23 ss 0x1b"], "CS and SS after a system call")


@test(5, "entry: the user stack is not executable", parent=test_entry, exercises=FAULTS)
def test_entry_nx(ctx, boot):
    what = killed_line(boot, 2, "entry")
    m = re.match(r"page fault \(vector 14\) at rip 0x(\w+), address 0x(\w+): "
                 r"instruction fetch from a protected page$", what)
    user_stack_top = header_constant("kernel/arch/memlayout.h", "USER_STACK_TOP")
    if not m or m.group(1) != m.group(2) or not (
            user_stack_top - 4096 <= int(m.group(1), 16) < user_stack_top):
        raise TestFailure("expected 'page fault (vector 14) at rip 0xA, address 0xA: instruction "
                          "fetch from a protected page' with A in the stack's top page, got '%s'"
                          % what)
    boot.expect_lines(r"(entry: code|process entry\[2\] ended)", [ended(2, "entry", 142)],
                      "entry's end")
    expect_no_leak(boot)


def sbrk_sizes(boot):
    """sbrktest's odd increment and its number of pages, from the run's arg."""
    return 1 + boot.arg % 4095, 1 + (boot.arg >> 12) % 4


@test(10, "sbrk: the old break returned, new pages zeroed and writable, shrinking unmaps them",
      parent=test_entry, exercises=RUNS + ["sbrk"])
def test_sbrk(ctx, boot):
    odd, n = sbrk_sizes(boot)
    grown = odd + n * 4096
    boot.expect_lines(r"sbrk(: (B|grown|shrunk)|\((odd|-?n pages)|\(0\) = B \+ [1-9])", [
        "sbrk: B on a page boundary: yes",
        "sbrk(odd) = B + 0",
        "sbrk(n pages) = B + %d" % odd,
        "sbrk(0) = B + %d" % grown,
        "sbrk: grown: 0 nonzero bytes, pages mapped: %d" % (n + 1),
        "sbrk(-n pages) = B + %d" % grown,
        "sbrk: shrunk: pages mapped: 1, the first page intact",
        "sbrk(n pages again) = B + %d" % odd,
        "sbrk: grown again: 0 nonzero bytes in the new pages",
        "sbrk(-n pages again) = B + %d" % grown], "sbrk growing and shrinking")


@test(10, "sbrk: the limits refused with their error, a growth that fails half-way undone",
      parent=test_entry, exercises=RUNS + ["sbrk"])
def test_sbrk_limits(ctx, boot):
    odd, _ = sbrk_sizes(boot)
    boot.expect_lines(r"sbrk(: (at the start|refused)|\((below|wraps|back|past|INT64|1 TiB|over)"
                      r"|\(0\) = B \+ 0$)", [
        "sbrk(below the heap's start) = -22",
        "sbrk(wraps below 0) = -22",
        "sbrk(back to the heap's start) = B + %d" % odd,
        "sbrk: at the start: pages mapped: 0",
        "sbrk(past USER_HEAP_MAX) = -12",
        "sbrk(INT64_MAX) = -12",
        "sbrk(1 TiB) = -12",
        "sbrk(over a mapped page) = -17",
        "sbrk(0) = B + 0",
        "sbrk: refused: pages mapped: 1, the mapped page intact"], "sbrk's limits")
    boot.expect_lines(r"process sbrktest", ["process sbrktest[3] started",
                                             ended(3, "sbrktest", 0)], "sbrktest")


EXEC = RUNS + ["copy_string_from_user", "exec_args"]


@test(10, "exec: too many or too long arguments, argv or an argument out of reach: refused, "
      "the process goes on", parent=test_entry, exercises=EXEC)
def test_exec_refused(ctx, boot):
    boot.expect_lines(r"(exec\((17|an|argv)|exectest: after)", [
        "exec(17 arguments) = -7",
        "exec(an argument of 128 bytes) = -7",
        "exec(argv in the kernel) = -14",
        "exec(an argument in the kernel) = -14",
        "exectest: after the refused execs: data intact, stack intact"], "exec's refusals")


@test(10, "exec: argc and argv on the new stack, NULL-terminated, the stack pointer 16-byte "
      "aligned", parent=test_entry, exercises=EXEC)
def test_exec_args(ctx, boot):
    given = [l.split(" = ", 1)[1] for l in boot.matching(r"exectest: argv\[")]
    # The test's own shape: an empty and a longest argument, and strings
    # that fill a multiple of 16 bytes (so that a stack pointer not
    # rounded down, or an array without its NULL, shows).
    if (len(given) != 16 or given[1] != "''" or len(given[2]) != 127 + 2 or
            sum(len(g) - 1 for g in given) % 16 != 0):
        raise TestFailure("exectest did not list the 16 arguments it passes:\n%s"
                          % gradelib.indent(given))
    boot.expect_lines(r"(args: |exec\(args\)|process exectest\[\d+\] ended)", [
        "args: argc 16"] + ["args: argv[%d] = %s" % (i, g) for i, g in enumerate(given)] + [
        "args: argv[16] is NULL",
        "args: stack pointer 16-byte aligned at entry: yes",
        "args: argv and its strings above it, in the stack: yes",
        ended(4, "exectest", 16)], "what args was given")
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
      parent=test_faults, exercises=FAULTS)
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
    expect_frame(boot, "divzero", 0, 0)


def expect_frame(boot, program, vector, error_code):
    """The frame printed after program's fault or breakpoint: the vector,
    and the error code the CPU pushed or the stub's 0 (SDM Vol. 3A 6.13)."""
    want = "  cs 0x23  ss 0x1b  vector %d  error 0x%x  cr2 " % (vector, error_code)
    if not any(l.startswith(want) for l in boot.test_lines()):
        raise TestFailure("no frame line '%s...' after %s's trap" % (want, program))


@test(5, "faults: a breakpoint is reported and the process continues",
      parent=test_faults, exercises=FAULTS)
def test_faults_breakpoint(ctx, boot):
    lines = boot.matching(r"process breakpoint\[2\]: breakpoint at rip ")
    if not lines:
        raise TestFailure("no 'process breakpoint[2]: breakpoint at rip 0x...' line")
    expect_in_main("breakpoint", int(lines[0].rsplit("0x", 1)[1], 16))
    boot.expect_lines(r"(after the breakpoint|process breakpoint\[2\] ended)", [
        "after the breakpoint, arg 0x%x" % boot.arg, ended(2, "breakpoint", 0)], "breakpoint")
    expect_frame(boot, "breakpoint", 3, 0)


@test(10, "faults: reading kernel memory kills the process, naming the address",
      parent=test_faults, exercises=FAULTS)
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
    # The CPU's error code (SDM Vol. 3A 6.15, Interrupt 14: present, read,
    # user mode) where the stub put it.
    expect_frame(boot, "readkernel", 14, 5)
    boot.expect_lines(r"process readkernel\[3\] ended", [ended(3, "readkernel", 142)],
                      "readkernel's status")


@test(5, "faults: the kernel goes on, and every page comes back",
      parent=test_faults, exercises=FAULTS)
def test_faults_after(ctx, boot):
    boot.expect_lines(r"(hello from|process hello)", [
        "process hello[4] started", "hello from pid 4, arg 0x%x" % boot.arg,
        ended(4, "hello", boot.arg % 100)], "a process after three faults")
    expect_no_leak(boot)


@test(10, "system calls with RFLAGS.DF and NT set: IA32_FMASK clears them in the kernel",
      exercises=RUNS)
def test_flags(ctx):
    arg = ctx.rng.getrandbits(24)
    boot = run_programs(ctx, "flags,hello", arg)
    boot.expect_lines(r"(flags: |process flags)", [
        "process flags[1] started",
        "flags: a system call with DF and NT set, arg 0x%06x" % arg,
        ended(1, "flags", 0)], "flags")
    boot.expect_lines(r"(hello from|process hello)", [
        "process hello[2] started", "hello from pid 2, arg 0x%x" % arg,
        ended(2, "hello", arg % 100)], "a process after flags")


@test(10, "unknown system call numbers return -ENOSYS, the last one runs", exercises=RUNS)
def test_badsyscall(ctx):
    arg = ctx.rng.getrandbits(32)
    boot = run_programs(ctx, "badsyscall", arg)
    nsyscalls = header_constant("kernel/lib/sysnum.h", "NSYSCALLS")
    # (1 << 32) | 2: 2 is getpid, which a number cut to 32 bits would call.
    numbers = [nsyscalls, nsyscalls + arg % 1000, (1 << 64) - 1, 1 << 63, (1 << 32) | 2]
    boot.expect_lines(r"syscall ", ["syscall %d = -38" % n for n in numbers] +
                      ["syscall %d = 0" % (nsyscalls - 1)], "badsyscall")


@test(10, "a system call or breakpoint that would return to a non-canonical address ends "
      "the process", exercises=FAULTS)
def test_sysret(ctx):
    boot = run_programs(ctx, "sysret,lastint3,hello", ctx.rng.getrandbits(20))
    boot.expect_lines(r"process sysret", [
        "process sysret[1] started",
        "process sysret[1] killed: its system call would return to the non-canonical "
        "address 0x800000000000",
        ended(1, "sysret", 141)], "sysret")
    boot.expect_lines(r"process lastint3", [
        "process lastint3[2] started",
        "process lastint3[2]: breakpoint at rip 0x800000000000",
        "process lastint3[2] killed: its breakpoint would return to the non-canonical "
        "address 0x800000000000",
        ended(2, "lastint3", 141)], "lastint3")
    if not boot.matching(r"process hello\[3\] ended with status"):
        raise TestFailure("the next process did not run")
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


@test(15, "bad pointers and lengths: -EFAULT and friends, never a crash",
      exercises=RUNS + ["sbrk"])
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


@test(15, "strings from user memory: the end of user space, pages not readable, too long",
      exercises=RUNS + ["copy_string_from_user"])
def test_badstr(ctx):
    boot = run_programs(ctx, "badstr", ctx.rng.getrandbits(24))
    boot.expect_lines(r"exec\(", [
        "exec(no NUL before the end of user space) = -14",
        "exec(NUL in the last byte of user space) = -2",
        "exec(into a supervisor page) = -14", "exec(into an unmapped page) = -14",
        "exec(kernel) = -14", "exec(null) = -14", "exec(longest) = -2",
        "exec(one too long) = -7", "exec(empty) = -2"], "exec's results")
    boot.expect_lines(r"process badstr", ["process badstr[1] started", ended(1, "badstr", 0)],
                      "badstr")
    expect_no_leak(boot)
