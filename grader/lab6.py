"""Lab 6 tests: the EPT. Its functions called directly, each on its edges
(the EPT pointer, the walk, 2 MiB and 4 KiB leaves, translation, unmap,
narrowing, the tables freed, a failed INVEPT); pages mapped on demand
inside a guest's limit, refused outside it; isolation from host memory;
write protection and unmapping while a guest runs; dirty bits; a
misconfiguration reported by name; large leaves. Page counts, addresses
and masks are chosen here."""

import re

from gradelib import TestFailure, expect_equal_lists, expect_first_line, image_symbol, test

KERNBASE = 0xFFFFFFFF80000000
PAGE = 4096
MiB = 1 << 20
GiB = 1 << 30
LARGE = 2 * MiB
NONE = (1 << 64) - 1            # ept_translate's and ept_unmap's -1
EPT_R, EPT_W, EPT_X, WB, EPT_LARGE = 1, 2, 4, 0x30, 0x80
EPT_ACCESSED, EPT_DIRTY = 0x100, 0x200
ENOENT, ENOMEM, ENODEV = 2, 12, 19


def stopped(boot, name, why):
    boot.expect_lines(r"vcpu \d+: guest %s stopped" % name,
                      ["vcpu 0: guest %s stopped: %s" % (name, why)], "how the guest ended")


def ept_choices(rng):
    """The addresses of lab6.ept: walk's indexes differ at every level and
    from 0; other shares its PML4 entry only; far shares nothing; map and
    map + 18 MiB lie in one GiB; hpa below 1 TiB; page and other_page
    are pages of a 2 MiB leaf, neither the first nor the last."""
    i3, i2, i1, i0 = rng.sample(range(1, 512), 4)
    j2 = rng.choice([j for j in range(1, 512) if j != i2])
    k3 = rng.choice([k for k in range(1, 512) if k != i3])
    return {"walk": i3 << 39 | i2 << 30 | i1 << 21 | i0 << 12,
            "other": i3 << 39 | j2 << 30 | rng.randrange(512) << 21,
            "far": k3 << 39 | rng.randrange(1 << 39) & ~(PAGE - 1),
            "map": rng.randrange(1, 512) * GiB + rng.randrange(0, 480) * LARGE,
            "hpa": rng.randrange(1, 1 << 19) * LARGE,
            "page": rng.randrange(1, 511), "other_page": rng.randrange(1, 511)}


def judge(boot, prefix, want, what, hints=()):
    """The lines starting with prefix must be want; hints: (index, text)
    to say what the first wrong line at that index means."""
    got = boot.matching(re.escape(prefix))
    for i, hint in hints:
        if i < len(want) and (got[i] if i < len(got) else None) != want[i]:
            raise TestFailure("%s\n      expected: %s\n      got:      %s"
                              % (hint, want[i], got[i] if i < len(got) else "(nothing)"))
    expect_equal_lists(want, got, what)


def expect_invept_failure(boot):
    """The run ended as lab6.c's expect_invept has it: INVEPT of an EPTP
    the CPU refuses (memory type 2) failed, and ept_invalidate panicked."""
    if boot.matching(r"invalidate: the failure went unnoticed"):
        raise TestFailure("INVEPT of an EPTP with a reserved memory type failed (CF or ZF set), "
                          "and ept_invalidate returned: it must check the flags and panic "
                          "(single-context when the CPU has it: SDM Vol. 3C 29.4.3.1)")
    failed = [m for m in (re.search(r"invept: type 1 for EPTP 0x([0-9a-f]+) failed", line)
                          for line in boot.result.lines()) if m]
    if boot.result.status != "panic" or not failed or int(failed[0].group(1), 16) & 7 != 2:
        raise TestFailure("expected the kernel to panic with 'invept: type 1 for EPTP ... failed' "
                          "after 'invalidate: ... with an EPTP the CPU refuses'")


def expect_invept(boot, what):
    """`what` ran an INVEPT for its EPT, which failed as it must."""
    if boot.matching(r"invalidate: this CPU has no single-context INVEPT"):
        return
    if boot.matching(r"invalidate: %s returned" % what):
        raise TestFailure("%s ran no INVEPT: it changed a leaf of an EPT whose EPTP the CPU "
                          "refuses, and the INVEPT it owes the CPU would have failed (SDM Vol. 3C "
                          "29.4.3.1: a changed entry's old translation may still be cached)" % what)
    expect_invept_failure(boot)


@test(5, "ept_create: the EPT pointer's memory type, walk length and accessed/dirty flags",
      exercises=["ept_create"])
def test_ept(ctx):
    choices = ept_choices(ctx.rng)
    boot = ctx.boot("lab6.ept", **{k: "0x%x" % v for k, v in choices.items()})
    boot.choices = choices
    line = boot.matching(r"create: ")
    m = re.search(r"the CPU has A/D: (\d)$", line[0]) if line else None
    if not m:
        raise TestFailure("no 'create:' line from lab6.ept")
    ad = int(m.group(1))
    judge(boot, "create", [
        "create: memory type 6, walk length 4, A/D %d, reserved 0x0, the root table, "
        "accessed_dirty %d; the CPU has A/D: %d" % (ad, ad, ad),
        "create without A/D in the capabilities: A/D 0, accessed_dirty 0"], "the EPT pointers", [
        (0, "the EPTP holds the root table's physical address, memory type 6 (write-back) in "
            "bits 2:0, the walk length minus one (3) in bits 5:3, and bit 6 (A/D) when "
            "IA32_VMX_EPT_VPID_CAP bit 21 says the CPU has the flags (SDM Vol. 3C 25.6.11)"),
        (1, "a CPU without accessed and dirty flags (capability bit 21 clear) must get an "
            "EPTP without bit 6, and accessed_dirty false")])


@test(10, "ept_walk: four levels, tables made only when asked and counted, a large leaf "
      "(even execute-only) ends the walk", parent=test_ept, exercises=["ept_create", "ept_walk"])
def test_ept_walk(ctx, boot):
    c = boot.choices
    walk, other, far = c["walk"], c["other"], c["far"]
    up3, up2 = "tables above: 0x7 0x7 0x7", "tables above: 0x7 0x7"
    judge(boot, "walk ", [
        "walk 0x%x level 0: NULL, 1 table pages, tables above:" % walk,
        "walk 0x%x level 0 create: its entry, 4 table pages, %s" % (walk, up3),
        "walk 0x%x level 0: its entry, 4 table pages, %s" % (walk, up3),
        "walk 0x%x level 1 create: its entry, 5 table pages, %s" % (other, up2),
        "walk 0x%x level 0: NULL, 5 table pages, tables above:" % far,
        "walk 0x%x level 0 create: the 2 MiB leaf above, 5 table pages, %s" % (other + 0x3000, up2),
        "walk 0x%x level 0: the 2 MiB leaf above, 5 table pages, %s" % (other + 0x1FF000, up2)],
        "the walks", [
        (0, "a walk without create in an empty EPT finds no table: NULL, and no table made"),
        (1, "a walk with create makes the PDPT, PD and PT (each counted in table_pages) and "
            "returns the PT entry of gpa: index bits 47:39, 38:30, 29:21, 20:12; each new "
            "table's entry allows R, W and X (0x7: the leaf decides)"),
        (3, "a walk to level 1 (a PD entry) through an existing PML4 entry makes only the PD"),
        (4, "a table that is missing, without create: NULL"),
        (5, "a 2 MiB leaf that only allows execution is present all the same (any of bits 2:0, "
            "SDM Vol. 3C 29.3.2): the walk stops there and returns it, and makes nothing")])


@test(10, "ept_map: 2 MiB leaves where gpa, hpa and the size left allow one, 4 KiB leaves "
      "elsewhere, with the permissions and the write-back memory type",
      parent=test_ept, exercises=["ept_create", "ept_walk", "ept_map"])
def test_ept_map(ctx, boot):
    base, hpa = boot.choices["map"], boot.choices["hpa"]
    cases = [  # gpa offset, hpa offset, size, perm, large, small, new tables
        (0, 0, LARGE + PAGE, EPT_R | EPT_W, 1, 1, 3),
        (4 * MiB, 4 * MiB + PAGE, LARGE, EPT_R | EPT_X, 0, 512, 1),
        (8 * MiB - PAGE, 8 * MiB - PAGE, LARGE + 2 * PAGE, EPT_R | EPT_W | EPT_X, 1, 2, 2),
        (12 * MiB, 12 * MiB, MiB, EPT_R, 0, 256, 1),
        (16 * MiB, 16 * MiB, PAGE, EPT_X, 0, 1, 1)]
    want = ["map 0x%x -> 0x%x size 0x%x perm %d: 0, %d large, %d small, 0 wrong, bits 0x%x and "
            "0x%x, %d new tables" % (base + g, hpa + h, size, perm, large, small,
                                     (perm | WB | EPT_LARGE) if large else 0,
                                     (perm | WB) if small else 0, tables)
            for g, h, size, perm, large, small, tables in cases]
    judge(boot, "map ", want, "the leaves made", [
        (0, "gpa and hpa 2 MiB-aligned, 2 MiB + 4 KiB to map: one 2 MiB leaf (bit 7) and one "
            "4 KiB leaf, each with perm and memory type 6 (write-back) in bits 5:3 "
            "(SDM Vol. 3C 29.3.2, 29.3.7)"),
        (1, "hpa not 2 MiB-aligned: only 4 KiB leaves, whatever gpa's alignment"),
        (2, "gpa and hpa 4 KiB short of a 2 MiB boundary: a 4 KiB leaf, then a 2 MiB leaf at "
            "the boundary, then a 4 KiB leaf"),
        (3, "1 MiB left to map, aligned: 4 KiB leaves (a 2 MiB leaf would map memory beyond "
            "the range)")])


@test(5, "ept_translate: inside 2 MiB and 4 KiB leaves, execute-only pages; -1 where nothing "
      "or no access is mapped; no table made",
      parent=test_ept, exercises=["ept_create", "ept_walk", "ept_map", "ept_translate"])
def test_ept_translate(ctx, boot):
    base, hpa = boot.choices["map"], boot.choices["hpa"]
    cases = [("in a 2 MiB leaf", 0x123456, hpa + 0x123456),
             ("in a 4 KiB leaf", LARGE + 0x567, hpa + LARGE + 0x567),
             ("execute-only", 16 * MiB + 0x10, hpa + 16 * MiB + 0x10),
             ("beside a leaf", LARGE + PAGE, NONE), ("without tables", GiB, NONE),
             ("with no access", 12 * MiB + 8, NONE)]
    want = ["translate %s 0x%x: 0x%x, 0 new tables" % (what, base + off, result)
            for what, off, result in cases]
    judge(boot, "translate ", want, "the translations", [
        (0, "inside a 2 MiB leaf the offset is gpa's bits 20:0, the leaf's address its bits "
            "51:21"),
        (2, "a leaf is present if any of R, W, X is set: an execute-only page is mapped")])


@test(5, "ept_unmap: a 4 KiB leaf's host-physical address returned and the entry cleared; "
      "missing pages refused", parent=test_ept,
      exercises=["ept_create", "ept_walk", "ept_map", "ept_protect", "ept_unmap"])
def test_ept_unmap(ctx, boot):
    base, hpa = boot.choices["map"], boot.choices["hpa"]
    judge(boot, "unmap", [
        "unmap a 4 KiB leaf 0x%x: 0x%x, entry left 0x0 bits 0x0" % (base + LARGE, hpa + LARGE),
        "unmap nothing 0x%x: 0x%x, entry left 0x0 bits 0x0" % (base + LARGE + PAGE, NONE),
        "unmap without tables 0x%x: 0x%x, entry left 0x0 bits 0x0" % (base + GiB, NONE),
        "unmap execute-only 0x%x: 0x%x, entry left 0x0 bits 0x0"
        % (base + 16 * MiB, hpa + 16 * MiB),
        "unmap: 9 table pages"], "the unmaps", [
        (3, "an execute-only page is mapped (present: any of R, W, X)")])


@test(5, "ept_narrow_range: leaves narrowed, a partly covered 2 MiB leaf removed whole, "
      "missing tables skipped", parent=test_ept,
      exercises=["ept_create", "ept_walk", "ept_map", "ept_narrow_range"])
def test_ept_narrow(ctx, boot):
    big, small = "%x" % (EPT_R | EPT_W | EPT_X | WB | EPT_LARGE), "%x" % (EPT_R | EPT_W | EPT_X | WB)
    big_r, small_r = "%x" % (EPT_R | WB | EPT_LARGE), "%x" % (EPT_R | WB)
    before = [big] * 2 + [small] * 8
    after_r = ["-", big_r] + [small_r] * 3 + [small] * 5
    after_0 = after_r[:8] + ["-", "-"]
    judge(boot, "narrow", ["narrow: leaves %s, 4 table pages" % " ".join(l)
                           for l in (before, after_r, after_0, after_0, after_0)], "the leaves", [
        (1, "narrowing [1 MiB, 4 MiB + 12 KiB) to R: the first 2 MiB leaf, partly inside, is "
            "removed whole; the second, wholly inside, keeps R and its other bits; three 4 KiB "
            "leaves keep R"),
        (2, "keep 0 removes the leaves (entries 0): the range [24 KiB, 28 KiB + 1) touches two "
            "pages"),
        (3, "narrowing an R page to R and W leaves it R: keep only takes permissions away"),
        (4, "a range over missing tables changes nothing and makes no table; an empty range "
            "changes nothing")])


@test(10, "ept_split: a 2 MiB leaf becomes 512 4 KiB leaves of the same memory and bits, "
      "for ept_protect and ept_unmap of one page; no memory, no change", parent=test_ept,
      exercises=["ept_create", "ept_walk", "ept_map", "ept_protect", "ept_unmap", "ept_split"])
def test_ept_split(ctx, boot):
    c = boot.choices
    base, hpa, k, j = c["map"], c["hpa"], c["page"] * PAGE, c["other_page"] * PAGE
    first, page_r = (bits | EPT_ACCESSED | EPT_DIRTY for bits in (EPT_R | EPT_X | WB, EPT_R | WB))
    rwx = EPT_R | EPT_W | EPT_X | WB
    line = ("split: %s 0x%x: %s, %d new tables, entry 0x%x bits 0x%x; the others: %d leaves, "
            "0 wrong, bits 0x%x")
    judge(boot, "split: ", [
        line % ("protect r", base + k, "0x0", 1, hpa + k, page_r, 511, first),
        line % ("again", base + k, "0x0", 0, hpa + k, page_r, 511, first),
        line % ("unmap", base + LARGE + j, "0x%x" % (hpa + LARGE + j), 1, 0, 0, 511, rwx),
        line % ("no memory", base + 2 * LARGE + j, -ENOMEM, 0, hpa + 2 * LARGE, rwx | EPT_LARGE,
                0, 0),
        line % ("nothing", base + 3 * LARGE, -ENOENT, 0, 0, 0, 0, 0)], "the splits", [
        (0, "ept_protect of one page of a 2 MiB leaf (R, X, accessed and dirty) splits it: a new "
            "table (counted) of 512 4 KiB leaves, leaf i mapping the leaf's host address + i * "
            "4 KiB with all its bits but bit 7 (SDM Vol. 3C 29.3.2); then only that page becomes "
            "R"),
        (1, "a 2 MiB range already mapped by a table: ept_split returns 0 and changes nothing"),
        (2, "ept_unmap of one page of a 2 MiB leaf splits it, then clears that page's entry and "
            "returns its host-physical address; the other 511 stay"),
        (3, "no memory for the table: -ENOMEM (-12), the 2 MiB leaf left as it was"),
        (4, "nothing mapped: -ENOENT (-2)")])


@test(5, "ept_destroy: every table freed", parent=test_ept,
      exercises=["ept_create", "ept_walk", "ept_map", "ept_destroy"])
def test_ept_destroy(ctx, boot):
    counts = boot.matching(r"destroy: free pages start \d+ end \d+$")
    if not counts:
        raise TestFailure("no 'destroy: free pages start S end E' line")
    start, end = re.findall(r"\d+", counts[0])
    if start != end:
        raise TestFailure("%s pages free before the EPTs of the test, %s after they were "
                          "destroyed: every table below the root must be freed too" % (start, end))


@test(5, "a guest's first 2 MiB is one large EPT leaf", parent=test_ept,
      exercises=["ept_create", "ept_walk", "ept_map"])
def test_large(ctx, boot):
    lines = boot.matching(r"ept: guest-physical 0x0: ")
    if not lines or "a 2 MiB leaf" not in lines[0] or int(lines[0].rsplit("0x", 1)[1], 16) % (2 << 20):
        raise TestFailure("expected a 2 MiB-aligned large leaf, got %s" % lines)
    boot.expect_lines(r"vcpu \d+: guest", ["vcpu 0: guest hello stopped: halted"],
                      "how the guest ended")


@test(5, "ept_invalidate: single-context INVEPT, its failure caught", parent=test_ept,
      exercises=["ept_create", "ept_invalidate"])
def test_ept_invalidate(ctx, boot):
    if not boot.matching(r"invalidate: this CPU has no single-context INVEPT"):
        expect_invept_failure(boot)


@test(5, "ept_unmap runs INVEPT for the EPT", parent=test_ept,
      exercises=["ept_create", "ept_walk", "ept_map", "ept_protect", "ept_unmap",
                 "ept_invalidate"])
def test_ept_unmap_invept(ctx, boot):
    expect_invept(boot, "ept_unmap")


@test(20, "EPT violations inside the guest's memory are mapped on demand, and freed",
      exercises=["ept_fault", "ept_destroy"])
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


@test(15, "isolation: host memory is out of a guest's reach",
      exercises=["ept_fault", "ept_violation"])
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
    boot.expect_lines(r"vcpu 0: EPT violation", [
        "vcpu 0: EPT violation at guest-physical 0x%x: read; the entry allowed nothing, "
        "guest-linear 0x%x" % (outside, outside)], "the violation's report")
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
    boot.expect_lines(r"guest: wprotect: (\d|the first)", ["guest: wprotect: %d pages written, sum %d"
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


@test(5, "ept_protect runs INVEPT for the EPT", parent=test_wprotect,
      exercises=["ept_protect", "ept_invalidate"])
def test_protect_invept(ctx, boot):
    expect_invept(boot, "ept_protect")


@test(5, "unmapped while the guest runs, a page faults again and comes back zeroed",
      parent=test_wprotect, exercises=["ept_protect", "ept_unmap", "ept_fault"])
def test_unmap_running(ctx, boot):
    boot.expect_lines(r"unmapped: ", ["unmapped: guest-physical 0x100000 was at offset "
                                      "0x100000 of its memory"], "ept_unmap's answer")
    got = boot.matching(r"guest: wprotect: after the unmap")
    if got == ["guest: wprotect: after the unmap, the first page holds 2"]:
        raise TestFailure("the guest read its old page after ept_unmap: the CPU still held "
                          "the translation (no INVEPT after the unmap?)")
    boot.expect_lines(r"guest: wprotect: after the unmap",
                      ["guest: wprotect: after the unmap, the first page holds 0"],
                      "the guest's read of the unmapped page")


@test(15, "the fault policy and ept_protect called directly: the limit's edges, zeroed "
      "pages, no memory, a full demand table, permissions taken and given back",
      exercises=["ept_fault", "ept_protect"])
def test_policy(ctx):
    limit = ctx.rng.randrange(8 << 20, 64 << 20, 4096)
    boot = ctx.boot("lab6.policy", limit="0x%x" % limit)
    got = [l for l in boot.test_lines() if l.startswith(("fault ", "ept: ", "demand ", "protect "))
           and "(in a 2 MiB leaf)" not in l]
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
            "protect 0x%x r (not mapped): -2, entry bits 0x0" % (limit + 0x400000)]
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


@test(5, "ept_split under a guest: one page of its 2 MiB leaf protected, the pages beside it "
      "unchanged; INVEPT after the split", parent=test_policy,
      exercises=["ept_protect", "ept_split", "ept_invalidate"])
def test_policy_split(ctx, boot):
    rwx = EPT_R | EPT_W | EPT_X | WB
    judge(boot, "protect 0x1000 r (in a 2 MiB leaf)", [
        "protect 0x1000 r (in a 2 MiB leaf): 0, entry bits 0x%x" % (EPT_R | WB)],
        "the protection", [
        (0, "the guest's first 2 MiB is one leaf: ept_protect of its page 0x1000 must split it "
            "(ept_split) and make only that page R")])
    judge(boot, "beside it: ", [
        "beside it: 0x%x at offset 0x%x of the guest's memory, entry bits 0x%x" % (a, a, rwx)
        for a in (0, 0x2000, LARGE - PAGE)], "the pages beside it", [
        (0, "after the split, the other pages keep their host page and bits (RWX, write-back)")])
    expect_invept(boot, "ept_split")


@test(10, "EPT dirty bits show exactly the pages the guest wrote",
      exercises=["ept_create", "ept_walk", "ept_map"])
def test_dirty(ctx):
    mask, again = ctx.rng.getrandbits(64) | 1 | 1 << 63, ctx.rng.getrandbits(64)
    boot = ctx.boot("lab6.dirty", mask="0x%x" % mask, again="0x%x" % again)
    boot.choices = mask, again
    got = boot.matching(r"vcpu \d+: guest dirty stopped")
    if got[:1] != ["vcpu 0: guest dirty stopped: halted"]:
        raise TestFailure("expected 'vcpu 0: guest dirty stopped: halted', got %s" % got[:1])
    lines = boot.matching(r"dirty: (0x|this CPU)")
    if lines == ["dirty: this CPU keeps no EPT dirty bits (IA32_VMX_EPT_VPID_CAP bit 21)"]:
        return
    boot.expect_lines(r"dirty: (0x|this CPU)", ["dirty: 0x%x" % mask], "dirty pages")


def page_ranges(bits):
    """The set bits of bits as print_dirty_log prints them: ' 0 2-5 9', or ' none'."""
    out, i = "", 0
    while bits >> i:
        if bits >> i & 1:
            last = i
            while bits >> (last + 1) & 1:
                last += 1
            out += " %d-%d" % (i, last) if last > i else " %d" % i
            i = last
        i += 1
    return out or " none"


@test(15, "ept_dirty_log: the pages written since the last harvest, a 2 MiB leaf's all, the "
      "flags cleared and INVEPT run; -ENODEV without accessed and dirty flags",
      parent=test_dirty, exercises=["ept_create", "ept_walk", "ept_map", "ept_dirty_log",
                                    "ept_invalidate"])
def test_dirty_log(ctx, boot):
    if boot.matching(r"dirty: this CPU keeps no EPT dirty bits"):
        return
    mask, again = boot.choices
    window, rest, leaf = ("dirty log [0x%x, 0x%x): 0," % r for r in
                          ((MiB, MiB + 63 * PAGE), (5 * MiB, 8 * MiB), (4 * MiB, 6 * MiB)))
    judge(boot, "dirty log ", [
        window + page_ranges(mask & ~(1 << 63)), rest + " 0-255", leaf + " 0-511",
        window + page_ranges(again & ~(1 << 63)), rest + " none", leaf + " none",
        "dirty log [0x100000, 0x101000): -%d, none" % ENODEV], "the dirty logs", [
        (0, "the guest wrote the pages of mask=0x%x; the range ends before page 63 (written "
            "too), and bit i is page i from gpa, every other bit of the bitmap cleared" % mask),
        (1, "the guest wrote one word of the 2 MiB leaf at 0x400000: a leaf with the dirty flag "
            "(bit 9, SDM Vol. 3C 29.3.5) reports all its pages in the range (pages 0-255 of a "
            "range from 0x500000, the leaf's middle, with nothing mapped past the leaf), and "
            "keeps its flag, as the range covers it only in part"),
        (2, "a range that covers the 2 MiB leaf whole reports its 512 pages and clears its flag"),
        (3, "the second harvest reports only the pages written since the first (again=0x%x): "
            "the first must clear each dirty flag it reported (bit 9, not bit 8) and run INVEPT"
            % again),
        (5, "the 2 MiB leaf was only read since the harvest that covered it whole"),
        (6, "an EPT without accessed and dirty flags (EPTP bit 6 clear) has no dirty log: "
            "-ENODEV (-19)")])
    expect_invept(boot, "ept_dirty_log")


@test(10, "an EPT misconfiguration is reported by name")
def test_misconfig(ctx):
    boot = ctx.boot("lab6.misconfig")
    if "vcpu 0: EPT misconfiguration at guest-physical 0x180000" not in boot.test_lines():
        raise TestFailure("missing 'vcpu 0: EPT misconfiguration at guest-physical 0x180000'")
    boot.expect_lines(r"vcpu 0: guest", ["vcpu 0: guest probe stopped: EPT misconfiguration"],
                      "how the guest ended")


@test(10, "EPT violations the policy declines are reported: the access, what the entry "
      "allowed, the guest-linear address", parent=test_misconfig, exercises=["ept_violation"])
def test_violations(ctx, boot):
    want = ["vcpu 1: EPT violation at guest-physical 0x180000: read; the entry allowed x, "
            "guest-linear 0x180000",
            "vcpu 1: guest probe stopped: EPT violation",
            "vcpu 2: EPT violation at guest-physical 0x10000: instruction fetch; the entry "
            "allowed rw, guest-linear 0x10000",
            "vcpu 2: guest hello stopped: EPT violation"]
    got = boot.matching(r"vcpu [12]: ")
    expect_first_line(want, got, "a read (qualification bit 0) of a page whose entry allows X "
                      "only: bits 5:3 of the qualification say what the entry allowed, bit 7 "
                      "that the guest-linear address field is valid (SDM Vol. 3C 28.2.1, "
                      "Table 28-7)")
    expect_equal_lists(want, got, "the reports")
    # The guest's first write is the CPU's own: the accessed flag of the
    # guest's PML4 entry (guest-physical 0x1000), set on the walk for the
    # first fetch (guest-linear 0x10000).
    want = ("vcpu 3: EPT violation at guest-physical 0x1000: write; the entry allowed rx, "
            "guest-linear 0x10000")
    got = boot.matching(r"vcpu 3: EPT violation")
    if got != [want]:
        raise TestFailure("a write into a 2 MiB leaf that allows R and X (the CPU's write of the "
                          "accessed flag in the guest's PML4 entry; the guest-linear address is "
                          "the one being translated): expected '%s', got %s" % (want, got))
    boot.expect_status("ok")


@test(5, "benchmarks: VMCALL and EPT violation beside the native costs (printed, never judged)",
      exercises=["ept_fault"])
def test_bench(ctx):
    boot = ctx.boot("bench.vmx", timeout=200)
    boot.expect_status("ok")
    for what in (r"bench: null system call\s+\d+ cycles", r"guest: bench: VMCALL round trip\s+\d+ cycles",
                 r"guest: bench: EPT violation \(new page\)\s+\d+ cycles"):
        if not boot.matching(what):
            raise TestFailure("no line matching '%s'" % what)
