"""Lab 6 tests: the EPT. Pages mapped on demand inside a guest's limit,
refused outside it; isolation from host memory; write protection; dirty
bits; a misconfiguration reported by name; large leaves. Page counts,
addresses and masks are chosen here."""

import re

from gradelib import TestFailure, expect_equal_lists, image_symbol, test

KERNBASE = 0xFFFFFFFF80000000


def stopped(boot, name, why):
    boot.expect_lines(r"vcpu \d+: guest %s stopped" % name,
                      ["vcpu 0: guest %s stopped: %s" % (name, why)], "how the guest ended")


@test(20, "EPT violations inside the guest's memory are mapped on demand, and freed",
      exercises=["ept_fault"])
def test_demand(ctx):
    pages = ctx.rng.randint(1, 200)
    boot = ctx.boot("lab6.demand", pages=pages)
    boot.expect_status("ok")
    boot.expect_lines(r"guest: demand", ["guest: demand: %d pages touched, 0 read back wrong"
                                         % pages], "the guest's check")
    boot.expect_lines(r"ept: ", ["ept: %d pages mapped on demand" % pages], "demand mappings")
    stopped(boot, "demand", "halted")
    start, end = re.match(r"free pages: start (\d+) end (\d+)",
                          boot.matching(r"free pages")[0]).groups()
    if start != end:
        raise TestFailure("%s pages free before the guest, %s after" % (start, end))


@test(15, "isolation: host memory is out of a guest's reach", exercises=["ept_fault"])
def test_isolation(ctx):
    # Where the host's kernel text lies physically: the guest sees its own
    # (zeroed) memory there, never the host's.
    text = image_symbol("_text") - KERNBASE
    inside = text + ctx.rng.randrange(0, 0x1000, 8)
    boot = ctx.boot("lab6.probe", address="0x%x" % inside)
    boot.expect_status("ok")
    boot.expect_lines(r"guest: probe: read ", ["guest: probe: read 0x0"],
                      "guest-physical 0x%x (host text physically)" % inside)
    # Beyond its memory: stopped, with the address named.
    outside = ctx.rng.randrange(4 << 20, 1 << 30) & ~7
    boot = ctx.boot("lab6.probe", address="0x%x" % outside)
    boot.expect_status("ok")
    want = "ept: guest read at guest-physical 0x%x, outside its 0x200000 bytes: stopped" % outside
    if want not in boot.test_lines():
        raise TestFailure("missing '%s'" % want)
    stopped(boot, "probe", "EPT violation")


@test(10, "one guest cannot read another guest's memory", exercises=["ept_fault"])
def test_two_guests(ctx):
    token = ctx.rng.getrandbits(48) | 1
    boot = ctx.boot("lab6.two_guests", token_value="0x%x" % token)
    boot.expect_status("ok")
    where = boot.matching(r"two guests: A's secret lies at host-physical 0x")
    if not where:
        raise TestFailure("the test did not say where the secret lies")
    if any(("%x" % token) in line for line in boot.test_lines()):
        raise TestFailure("guest A's secret 0x%x shows in the output" % token)
    # Either B reads its own zeroed page there, or (if A's memory lies
    # beyond what B may address) B is stopped, the address named.
    address = int(where[0].rsplit("0x", 1)[1], 16)
    refused = ("ept: guest read at guest-physical 0x%x, outside its 0x40000000 bytes: stopped"
               % address)
    if boot.matching(r"guest: probe: read 0x") != ["guest: probe: read 0x0"] and \
            refused not in boot.test_lines():
        raise TestFailure("guest B neither read its own zeroed page nor was stopped")


@test(15, "write protection: each first write faults once, then goes through; "
      "protected again, a page faults again",
      exercises=["ept_protect", "ept_fault"])
def test_wprotect(ctx):
    pages = ctx.rng.randint(1, 60)
    boot = ctx.boot("lab6.wprotect", pages=pages)
    boot.expect_status("ok")
    boot.expect_lines(r"guest: wprotect", ["guest: wprotect: %d pages written, sum %d"
                                           % (pages, pages * (pages + 1) // 2),
                                           "guest: wprotect: the first page holds 2"],
                      "the writes")
    want = ["ept: %d write faults let through" % n for n in (pages, pages + 1)]
    got = boot.matching(r"ept: ")
    if got[:1] == want[:1] and got[1:] == [want[0]]:
        raise TestFailure("the first page, write-protected again after the guest wrote to it, "
                          "took the guest's next write without a fault: the CPU still held "
                          "the old translation (no INVEPT after a permission changed?)")
    boot.expect_lines(r"ept: ", want, "write faults")


@test(15, "the fault policy and ept_protect called directly: the limit's edges, zeroed "
      "pages, no memory, a full demand table, permissions taken and given back",
      exercises=["ept_fault", "ept_protect"])
def test_policy(ctx):
    limit = ctx.rng.randrange(8 << 20, 64 << 20, 4096)
    boot = ctx.boot("lab6.policy", limit="0x%x" % limit)
    boot.expect_status("ok")
    got = [l for l in boot.test_lines() if l.startswith(("fault ", "ept: ", "demand ", "protect "))]
    page = limit - 4096
    want = ["fault at the last byte 0x%x: mapped, 0 nonzero bytes" % (limit - 1),
            "ept: guest read at guest-physical 0x%x, outside its 0x%x bytes: stopped"
            % (limit, limit),
            "fault at the limit 0x%x: refused" % limit,
            "fault with one free page and a table to make: refused, free pages 1 then 1",
            "demand pages: 255 more mapped, then refused; 256 in the table",
            "protect 0x%x r: 0, entry bits 0x31" % page,
            "protect 0x%x none: 0, entry bits 0x30" % page,
            "protect 0x%x rwx: 0, entry bits 0x37" % page,
            "protect 0x%x r (not mapped): -2, entry bits 0x0" % (limit + 0x400000),
            "protect 0x1000 r (in a 2 MiB leaf): -16, entry bits 0xb7"]
    hints = [
        "guest-physical 0x%x is the last byte of a guest of 0x%x bytes: inside, mapped on "
        "demand, and the new page must be zeroed (page_alloc(0, true))" % (limit - 1, limit),
        None,
        "guest-physical 0x%x is the first byte past the guest's 0x%x bytes: it must be refused "
        "(gpa >= limit)" % (limit, limit),
        "with one free page, the page is allocated but the EPT table it needs is not: the "
        "fault must be refused and the page freed again",
        "the demand table holds GUEST_MAX_DEMAND_PAGES (256) pages: one already there, 255 "
        "more, then a fault must be refused",
        "ept_protect changes only the permission bits (2:0): the memory type (bits 5:3) and "
        "the others must stay",
        None,
        "a page kept with no access (perm 0) must be able to get access back",
    ]
    for i, w in enumerate(want):
        g = got[i] if i < len(got) else "(nothing)"
        if g != w and i < len(hints) and hints[i]:
            raise TestFailure("%s\n      expected: %s\n      got:      %s" % (hints[i], w, g))
    expect_equal_lists(want, got, "the policy's answers")
    start, end = re.match(r"free pages: start (\d+) end (\d+)",
                          boot.matching(r"free pages")[0]).groups()
    if start != end:
        raise TestFailure("%s pages free before the test, %s after" % (start, end))


@test(10, "EPT dirty bits show exactly the pages the guest wrote")
def test_dirty(ctx):
    mask = ctx.rng.getrandbits(64) | 1
    boot = ctx.boot("lab6.dirty", mask="0x%x" % mask)
    boot.expect_status("ok")
    lines = boot.matching(r"dirty: (0x|this CPU)")
    if lines == ["dirty: this CPU keeps no EPT dirty bits (IA32_VMX_EPT_VPID_CAP bit 21)"]:
        return
    boot.expect_lines(r"dirty: (0x|this CPU)", ["dirty: 0x%x" % mask], "dirty pages")


@test(10, "an EPT misconfiguration is reported by name")
def test_misconfig(ctx):
    boot = ctx.boot("lab6.misconfig")
    boot.expect_status("ok")
    if "vcpu 0: EPT misconfiguration at guest-physical 0x180000" not in boot.test_lines():
        raise TestFailure("missing 'vcpu 0: EPT misconfiguration at guest-physical 0x180000'")
    stopped(boot, "probe", "EPT misconfiguration")


@test(5, "a guest's first 2 MiB is one large EPT leaf")
def test_large(ctx):
    boot = ctx.boot("lab6.large")
    boot.expect_status("ok")
    lines = boot.matching(r"ept: guest-physical 0x0: ")
    if not lines or "a 2 MiB leaf" not in lines[0] or int(lines[0].rsplit("0x", 1)[1], 16) % (2 << 20):
        raise TestFailure("expected a 2 MiB-aligned large leaf, got %s" % lines)
    stopped(boot, "hello", "halted")


@test(5, "benchmarks: VMCALL and EPT violation beside the native costs (printed, never judged)",
      exercises=["ept_fault"])
def test_bench(ctx):
    boot = ctx.boot("bench.vmx", timeout=200)
    boot.expect_status("ok")
    for what in (r"bench: null system call\s+\d+ cycles", r"guest: bench: VMCALL round trip\s+\d+ cycles",
                 r"guest: bench: EPT violation \(new page\)\s+\d+ cycles"):
        if not boot.matching(what):
            raise TestFailure("no line matching '%s'" % what)
