"""Lab 9 tests: the NIC. PCI enumeration; the 82599's registers trapped
and decoded for a native process (mmiotest); the ixgbe driver's rings,
RSS and interrupts on the emulated 82599's two ports, joined by a wire
(nictest). Values, seeds and queue counts are chosen here; every number
nictest prints is computed again here (tools/nictestlib.py) from its
seed, queue count and ring size.

Everything runs natively (the registers trap as page faults), under
QEMU as under Bochs; under Bochs (or KVM), nictest runs once more in
Dune mode (nictest-dune: the registers trap as EPT violations)."""

import re

from gradelib import RunStoppedEarly, TestFailure, expect_equal_lists, expect_no_leak, test
import nictestlib

MMIO = "mmio_operand"
WRITEBACK = "i82599_rx_writeback"
HASH = "rss_toeplitz"
RSS = [HASH, "ixgbe_rss_setup"]
# What every frame through the driver needs: its registers decoded, the
# model's receive descriptors written back, the driver's four ring paths.
RUN = [MMIO, WRITEBACK, "ixgbe_rx_refill", "ixgbe_rx_burst", "ixgbe_tx_burst",
       "ixgbe_tx_reclaim"]
QUICK = ("qemu", "kvm")         # the extra shapes of nictest: QEMU only (Bochs is slower)


@test(5, "PCI: every function on bus 0 with its class and BARs")
def test_pci(ctx):
    boot = ctx.boot("lab9.pci")
    boot.expect_status("ok")
    lines = boot.matching(r"pci: ")
    m = lines and re.match(r"pci: (\d+) functions, configuration by (ECAM|ports 0xCF8/0xCFC)$",
                           lines[0])
    if not m:
        raise TestFailure("expected 'pci: N functions, configuration by ...', got %s" % lines[:1])
    funcs = [l for l in lines[1:] if re.match(r"pci: \w\w:\w\w\.\w \w{4}:\w{4} class ", l)]
    if len(funcs) != int(m.group(1)):
        raise TestFailure("%s functions announced, %d listed" % (m.group(1), len(funcs)))
    if not funcs[0].startswith("pci: 00:00.0 ") or "class 06.00.00 host bridge" not in funcs[0]:
        raise TestFailure("the first function is not the host bridge at 00:00.0: '%s'" % funcs[0])
    for line in lines[1:]:
        if line not in funcs and not re.match(r"pci: \w\w:\w\w\.\w   bar \d: (memory|ports) "
                                              r"0x\w+, \d+ bytes", line):
            raise TestFailure("a line that is neither a function nor a BAR: '%s'" % line)


# ---------------------------------------------------------------------
# mmiotest: each check prints "mmiotest: ok: WHAT" or "mmiotest: FAIL:
# WHAT: got X, want Y". The first part makes only system calls; the
# second touches the registers, each access decoded by the kernel.

SYSCALL_CHECKS = [
    "a child adding to STATUS dies", "two processes own port 0 and port 1 at once",
    "a third process's nic_open(0)", "a third process's nic_open(1)",
    "both owners end with status 0", "nic_ctl(0, ...) with no owner",
    "nic_open(0) once the child is gone", "nic_open(1)",
    "nic_open(0) again", "nic_open(2)", "nic_open(1, info = NULL)", "map(over the registers)",
    "a child of the owner gets -EBUSY from nic_open",
    "dma_alloc(3 pages) gives a page-aligned address", "its bus address is a block of 4 pages",
    "DMA memory is zeroed", "DMA memory is writable",
    "dma_alloc(4 MiB): one block aligned to 4 MiB", "a second allocation lies elsewhere",
    "dma_alloc(4 MiB) past a process's 64 MiB", "blocks of 4 MiB that fit below the limit",
    "dma_alloc(0)", "dma_alloc(4 MiB + 1)", "dma_alloc(bus = NULL)",
    "dma_alloc(bus in the kernel)", "dma_alloc(bus read-only)", "munmap(DMA memory)",
    "map(in the DMA window)", "a child reading its parent's DMA memory dies",
    "nic_wait(0, 2 ticks) times out", "nic_wait(2, ...)", "nic_ctl(2, ...)",
    "nic_ctl(0, move 5 to 1) is posted", "the owner's control page holds the request",
    "a second nic_ctl while one is posted", "nic_ctl once the owner has answered",
    "the next request replaces the last"]
DECODE_CHECKS = [
    "EEC by movl 0x10010(%rdx), a 32-bit displacement",
    "EEC by movl 0x10010(,%r12,1), SIB with no base",
    "RDBAL(0) by movq %r14 to (%r11)", "RDBAL(0) by movl into %r9d",
    "RDBAH(0) by movl (%r11,%r12,4) into %ebx",
    "RAL(0) after movl $imm, movb %sil, movw %r10w, movb $0", "RAL(0) byte 1 by movzbl",
    "RAL(0) bytes 2-3 by movzwq from (%r13)", "RAL(0) byte 1 into %r8b keeps r8's other bits",
    "a thread in nic_wait(1) is woken by EICS with cause 1",
    "munmap(port 1's first page)",
    "after munmap, a read of port 1's registers is a page fault there"]
WIRE_CHECKS = [
    "dma_alloc for the rings and buffers", "the sent descriptor is written back (DD)",
    "the received descriptor: DD and EOP", "the received length",
    "the received bytes are the sent ones", "nic_wait(1) returns the receive cause",
    "a ring outside the DMA memory stops its queue"]
# STATUS: link up, PCIe master enabled, the port's number in LAN_ID; EEC:
# EEPROM present, auto-read done (vmx/dev/82599.c).
STATUS = ["mmiotest: port 0: STATUS 0x00080080 EEC 0x00000300",
          "mmiotest: port 1: STATUS 0x00080084 EEC 0x00000300"]
CHECK = re.compile(r"mmiotest: (ok|FAIL): (.*?)(?:: got 0x\w+, want 0x\w+)?$")


def mmio_checks(boot, names):
    """The program's verdicts on the checks named, in the order it made
    them, as "ok: WHAT" or "FAIL: WHAT" (a check it never reached is
    missing)."""
    out = []
    for line in boot.matching(r"mmiotest: (ok|FAIL): "):
        m = CHECK.match(line)
        if m.group(2) in names:
            out.append("%s: %s" % (m.group(1), m.group(2)))
    return out


def expect_checks(boot, names, what):
    expect_equal_lists(["ok: " + n for n in names], mmio_checks(boot, set(names)), what)


@test(5, "mmiotest runs; the kernel takes back every page")
def test_mmio(ctx):
    # The top bit of RAL's byte 1 and half-word 1 and of RDBAH set: a load
    # that sign-extends, or a 32-bit one that keeps bits 63:32, shows.
    value = ctx.rng.getrandbits(64) | 0x8000000080008000
    boot = ctx.boot("lab9.mmio", value="0x%x" % value)
    boot.value = value
    boot.expect_status("ok")
    if not boot.matching(r"process mmiotest\[\d+\] ended with status \d+$"):
        raise TestFailure("mmiotest did not end")
    expect_no_leak(boot, "mmiotest")


@test(5, "nic_open, dma_alloc and nic_wait: the system calls and their errors", parent=test_mmio)
def test_mmio_syscalls(ctx, boot):
    ports = boot.matching(r"mmiotest: port \d: registers at ")
    for n, line in enumerate(ports):
        if not re.match(r"mmiotest: port %d: registers at 0x7fff\w+, 131072 bytes, 8086:10fb, "
                        r"emulated$" % n, line):
            raise TestFailure("port %d: expected 'registers at 0x7fff..., 131072 bytes, "
                              "8086:10fb, emulated', got '%s'" % (n, line))
    if len(ports) != 2:
        raise TestFailure("expected a line for each of the two ports, got %s" % ports)
    expect_checks(boot, SYSCALL_CHECKS, "the system calls' checks")


@test(20, "the MMIO decoder: every MOV and MOVZX form, its operands and its loads",
      parent=test_mmio, exercises=[MMIO])
def test_mmio_decode(ctx, boot):
    expect_equal_lists(STATUS, boot.matching(r"mmiotest: port \d: STATUS "),
                       "STATUS and EEC read by the driver's 32-bit MOV")
    expect_checks(boot, DECODE_CHECKS, "the registers written and read with the value 0x%x"
                  % boot.value)
    # The children that must die (mmiotest's child_dies): the first one,
    # and the sixth, after the two port owners and the owner's child.
    killed = [l for l in boot.killed_processes() if not l.startswith("process mmiotest[2]")
              and not l.startswith("process mmiotest[6]")]
    if killed:
        raise TestFailure("a process was killed that should not have been: %s" % killed)


@test(10, "a frame over the internal wire: written back DD and EOP with its length; every "
      "check passed", parent=test_mmio, exercises=[MMIO, WRITEBACK])
def test_mmio_wire(ctx, boot):
    expect_checks(boot, WIRE_CHECKS, "port 0 to port 1 through DMA memory")
    expect_equal_lists(["82599 model: 82599 port 0: TX queue 1: stopped: DMA refused the "
                        "descriptor at bus 0x1000"], boot.matching(r"82599 model: "),
                       "what the model said")
    expect_equal_lists(["mmiotest: value 0x%x: 0 failed" % boot.value],
                       boot.matching(r"mmiotest: value "), "mmiotest's last line")
    if not boot.matching(r"process mmiotest\[1\] ended with status 0$"):
        raise TestFailure("mmiotest did not end with status 0 (its number of failures): %s"
                          % boot.matching(r"process mmiotest\[1\] ended"))


# ---------------------------------------------------------------------
# nictest: one line per subtest, "nictest: NAME: ...: ok", with exact
# numbers; nictestlib.Nictest(...).expected() gives every line.

def nictest(ctx, queues, ring, selftest="lab9.ixgbe"):
    seed = ctx.rng.randrange(1, 1 << 32)
    boot = ctx.boot(selftest, seed=seed, queues=queues, ring=ring)
    boot.want, boot.bad_q = nictestlib.Nictest(seed, queues, ring).expected()
    boot.seed, boot.queues, boot.ring = seed, queues, ring
    return boot


def nictest_lines(boot):
    """nictest's lines without "nictest: ", but for the ports' and the
    complaints a failing subtest adds."""
    return [l[len("nictest: "):] for l in boot.matching(r"nictest: ")
            if not re.match(r"nictest: (port \d|unexpected frame|send: )", l)]


def subtest(line):
    """The name of a subtest line: what comes before its first colon."""
    return line.split(":", 1)[0]


def expect_subtests(boot, names, what):
    """The lines of the subtests named (in nictest's order) must be what
    the seed gives."""
    want = [l for l in boot.want if subtest(l) in names]
    got = [l for l in nictest_lines(boot) if subtest(l) in names]
    if not want:
        raise TestFailure("the grader knows no subtest %s" % names)
    expect_equal_lists(want, got, what)


def expect_ended(boot):
    """The run ended as nictest's result says: ok if every subtest passed,
    else lab9.ixgbe's panic that counts the failures. A run that stopped
    another way stopped early."""
    if boot.result.status == "ok":
        return
    if boot.result.status == "panic" and any(
            re.search(r"lab9\.ixgbe(\.dune)?: nictest(-dune)? ended with status", l)
            for l in boot.lines):
        return
    boot.expect_status("ok")


@test(5, "nictest: both ports come up (the registers decoded), the run ends", exercises=[MMIO])
def test_ixgbe(ctx):
    boot = nictest(ctx, 4, 128)
    expect_ended(boot)
    # nictest stopped before its end: its subtests are still judged on
    # the lines it printed (the Toeplitz hash comes before the ports).
    try:
        expect_equal_lists(["nictest: port %d (emulated): mac 02:00:00:82:59:9%d, link up "
                            "10000 Mb/s, 4 queues of 128 descriptors" % (p, p) for p in (0, 1)],
                           boot.matching(r"nictest: port \d"), "the ports as ixgbe_init left them")
    except TestFailure as e:
        raise RunStoppedEarly(str(e))
    if not boot.matching(r"nictest: \d+ of \d+ subtests passed$"):
        raise RunStoppedEarly("nictest did not reach its end")


@test(10, "the Toeplitz hash: Microsoft's verification suite, and a flow of the seed",
      parent=test_ixgbe, exercises=[HASH])
def test_toeplitz(ctx, boot):
    expect_subtests(boot, ["toeplitz"], "rss_toeplitz's hashes")


@test(20, "frames both ways in bursts of 1, 8, 32 and 64: every byte, in order",
      parent=test_ixgbe, exercises=RUN)
def test_both_ways(ctx, boot):
    expect_subtests(boot, ["both ways, batch %d" % b for b in nictestlib.BATCHES],
                    "three rings' worth each way, per burst size")


@test(10, "ten laps of both rings, one flow on one queue, in order",
      parent=test_ixgbe, exercises=RUN + RSS)
def test_wrap(ctx, boot):
    expect_subtests(boot, ["wrap"], "the rings wrapped ten times")


@test(15, "RSS: 64 flows, each on the queue and with the hash the Toeplitz hash and RETA give",
      parent=test_ixgbe, exercises=RUN + RSS)
def test_rss(ctx, boot):
    expect_subtests(boot, ["rss"], "the flows spread over the queues")


@test(10, "a full receive ring: ring_size - 1 frames taken, the rest dropped in QPRDC",
      parent=test_ixgbe, exercises=RUN + RSS)
def test_full_ring(ctx, boot):
    expect_subtests(boot, ["full ring"], "the ring that filled")


@test(5, "an interrupt: the queue's cause wakes nic_wait", parent=test_ixgbe,
      exercises=RUN + RSS)
def test_interrupt(ctx, boot):
    expect_subtests(boot, ["interrupt"], "the cause that woke the driver")


@test(10, "a reset with frames in the ring, then traffic again", parent=test_ixgbe,
      exercises=RUN)
def test_reset(ctx, boot):
    expect_subtests(boot, ["reset"], "the port reset and initialized again")


@test(10, "a paused transmit queue: buffers kept until DD, one slot kept back, all sent after",
      parent=test_ixgbe, exercises=RUN)
def test_paused(ctx, boot):
    expect_subtests(boot, ["paused"], "the queue disabled while frames were offered")


@test(5, "a bad bus address stops one transmit queue; the others go on", parent=test_ixgbe,
      exercises=RUN)
def test_bad_dma(ctx, boot):
    expect_subtests(boot, ["bad dma"], "the queue that faulted")
    expect_equal_lists(["82599 model: 82599 port 0: TX queue %d: stopped: DMA refused the buffer "
                        "at bus 0x200000000000" % boot.bad_q], boot.matching(r"82599 model: "),
                       "what the model said (one fault, no register it does not implement)")


@test(10, "the counters: frames and bytes each way, drops, per queue", parent=test_ixgbe,
      exercises=RUN)
def test_stats(ctx, boot):
    expect_subtests(boot, ["stats of port 0", "stats of port 1", "stats"],
                    "the NIC's counters against what was sent")


TAILS = re.compile(r"lab9\.ixgbe(?:\.dune)?: port (\d): \d+ register reads, \d+ writes; "
                   r"tail writes: RDT (\d+), TDT (\d+)$")
STATS = re.compile(r"stats of port (\d): sent (\d+) frames, \d+ bytes; received (\d+) frames")


@test(10, "batching: one RDT and one TDT write per burst, not per frame", parent=test_ixgbe,
      exercises=RUN)
def test_batching(ctx, boot):
    expect_subtests(boot, ["stats of port 0", "stats of port 1"], "the frames each port moved")
    tails = {}
    for line in boot.matching(r"lab9\.ixgbe(\.dune)?: port "):
        m = TAILS.match(line)
        if m:
            tails[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
    if sorted(tails) != [0, 1]:
        raise TestFailure("expected a line 'lab9.ixgbe: port N: ... tail writes: RDT R, TDT T' "
                          "for each port, got %s" % boot.matching(r"lab9\.ixgbe(\.dune)?: port "))
    # nictest's bursts are of 1 to 64 frames; the bursts of one frame
    # alone make a third of them. Each init refills every queue once.
    inits = 2 * boot.queues
    for line in boot.want:
        m = STATS.match(line)
        if not m:
            continue
        port, sent, received = (int(x) for x in m.groups())
        rdt, tdt = tails[port]
        for name, writes, frames in (("RDT", rdt, received), ("TDT", tdt, sent)):
            if writes == 0 or 2 * writes > frames + 2 * inits:
                raise TestFailure("port %d: %s written %d times for %d frames; a driver that "
                                  "moves it once per burst (ixgbe_rx_refill, ixgbe_tx_burst) "
                                  "writes it at most %d times here" %
                                  (port, name, writes, frames, (frames + 2 * inits) // 2))


def expect_all(boot, program="nictest"):
    lines = ["seed %d" % boot.seed] + boot.want
    expect_equal_lists(lines, nictest_lines(boot), "%s with %d queues of %d descriptors"
                       % (program, boot.queues, boot.ring))
    if not boot.matching(r"process %s\[\d+\] ended with status 0$" % program):
        raise TestFailure("%s did not end with status 0" % program)
    boot.expect_status("ok")


@test(10, "nictest with one queue of 256 descriptors: every line", exercises=RUN + RSS,
      emulators=QUICK)
def test_one_queue(ctx):
    expect_all(nictest(ctx, 1, 256))


@test(10, "nictest with sixteen queues of 128 descriptors: every line", exercises=RUN + RSS,
      emulators=QUICK)
def test_sixteen_queues(ctx):
    expect_all(nictest(ctx, 16, 128))


@test(10, "nictest in Dune mode (register accesses as EPT violations): every line",
      exercises=RUN + RSS, emulators=("bochs", "kvm"))
def test_dune(ctx):
    expect_all(nictest(ctx, 4, 128, "lab9.ixgbe.dune"), "nictest-dune")
