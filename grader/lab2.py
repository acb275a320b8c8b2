"""Lab 2 tests, exercise by exercise: the buddy allocator's initial blocks,
split and merge, the page-table walk, the lookup and an address space's
teardown, the kernel's own page tables, vm_map, vm_unmap and vm_protect
with their TLB invalidations; kmalloc, and the errors they must catch.
The grader recomputes what the kernel must print: the exact number of
free pages from the memory map, the free blocks of each order after every
split, the blocks' alignment and overlaps, the tables a walk makes, the
permission bits of each kernel section and the tables they take, the
kmalloc call sequence from the seed."""

import re

from gradelib import MiB, TestFailure, expect_no_leak, image_symbol, ram_layout, test
from prng import Prng

PAGE = 4096
KERNBASE = 0xFFFFFFFF80000000
DIRECTMAP_BASE = 0xFFFF800000000000
LOW_MEMORY_END = MiB

GiB = 1 << 30
LARGE = 2 * MiB
MAX_ORDER = 10

PTE_P, PTE_W, PTE_U, PTE_PS, PTE_G, PTE_NX = 0x1, 0x2, 0x4, 0x80, 0x100, 1 << 63
PTE_NOREF = 0x200


def hex_field(boot, regex, what):
    """The numbers captured by regex in the first line that matches."""
    for line in boot.test_lines():
        m = re.match(regex, line)
        if m:
            return [int(g, 0) for g in m.groups()]
    raise TestFailure("no line of the form %s (%s)" % (regex, what))


def stats(boot, when):
    total, reserved, free = hex_field(
        boot, r"pages %s: total (\d+) reserved (\d+) free (\d+)$" % when, "page counts")
    return total, reserved, free, free_blocks(boot, when)


def free_blocks(boot, when):
    for line in boot.test_lines():
        if line.startswith("free blocks %s:" % when):
            return [int(x) for x in line.split(":")[1].split()]
    raise TestFailure("no 'free blocks %s:' line" % when)


# page_init gives out the memory the boot page tables map; page_init_high
# the rest, after vm_init (lab2.alloc and lab2.split run before).
BOOT_DIRECTMAP_LIMIT = 4 << 30


def allocatable_pages(boot):
    """The pages page_init hands to the allocator: usable pages below
    BOOT_DIRECTMAP_LIMIT minus low memory, the kernel image and the page
    array."""
    usable = [tuple(int(x, 16) for x in re.match(r"usable: 0x(\w+)-0x(\w+)$", l).groups())
              for l in boot.matching(r"usable: ")]
    kernel_end = image_symbol("_end") - KERNBASE
    array = hex_field(boot, r"page array: (0x\w+)-(0x\w+)$", "page array")
    reserved = [(0, LOW_MEMORY_END), (0x100000, kernel_end),
                (array[0] & ~(PAGE - 1), (array[1] + PAGE - 1) & ~(PAGE - 1))]
    pages = set()
    for lo, hi in usable:
        for pfn in range((lo + PAGE - 1) // PAGE, min(hi, BOOT_DIRECTMAP_LIMIT) // PAGE):
            pa = pfn * PAGE
            if not any(a <= pa < b for a, b in reserved):
                pages.add(pfn)
    return pages


def canonical_blocks(pfns, max_order=MAX_ORDER):
    """Per order, how many blocks a buddy allocator holds when the free
    pages pfns are fully merged."""
    counts = [0] * (max_order + 1)
    free = set(pfns)
    for order in range(max_order, -1, -1):
        size = 1 << order
        for start in sorted(p for p in free if p % size == 0):
            if all(start + i in free for i in range(size)):
                counts[order] += 1
                free.difference_update(range(start, start + size))
    return counts


def expect_fully_merged(boot, when):
    """page_init's free blocks ('free blocks WHEN:'): every free page, as
    the fewest, largest aligned blocks."""
    allowed = allocatable_pages(boot)
    blocks = free_blocks(boot, when)
    free = sum(n << k for k, n in enumerate(blocks))
    if free != len(allowed):
        raise TestFailure("%d pages free after page_init; the memory map has %d free pages"
                          % (free, len(allowed)))
    want = canonical_blocks(allowed)
    if blocks != want:
        raise TestFailure("free blocks by order after page_init: %s; fully merged: %s"
                          % (blocks, want))


def check_blocks(lines, allowed):
    """The blocks of lines ('... order K: 0xPA...', '... order K: none...'
    or 'free 0xPA') are aligned to their size, in free memory, and
    overlap no live block; a free names a live block."""
    live = {}
    for line in lines:
        m = re.search(r"order (\d+): (0x\w+|none)", line)
        if not m:
            pa = int(line.split()[1], 16)
            if live.pop(pa, None) is None:
                raise TestFailure("freed 0x%x, which is not a live block" % pa)
            continue
        if m.group(2) == "none":
            continue
        order = int(m.group(1))
        pa, size = int(m.group(2), 16), PAGE << order
        if pa % size:
            raise TestFailure("order %d block 0x%x is not aligned to its size 0x%x"
                              % (order, pa, size))
        if any(pfn not in allowed for pfn in range(pa // PAGE, (pa + size) // PAGE)):
            raise TestFailure("block 0x%x-0x%x includes reserved or missing memory"
                              % (pa, pa + size))
        for other, other_size in live.items():
            if pa < other + other_size and other < pa + size:
                raise TestFailure("block 0x%x overlaps the live block 0x%x" % (pa, other))
        live[pa] = size


# -- Exercise 1: buddy_init ---------------------------------------------------

def random_hole(ctx):
    """A hole for lab2.alloc's memory map: from a random byte between 16 and
    32 MiB to a random byte of the page before an odd-numbered page (the
    first whole page after it can only be a block of one page)."""
    start = ctx.rng.randrange(16 * MiB, 32 * MiB)
    end_pfn = (start // PAGE + ctx.rng.randrange(2, 2048)) | 1
    return start, end_pfn * PAGE - ctx.rng.randrange(0, PAGE)


@test(0, "page allocator: lab2.alloc runs")
def test_alloc(ctx):
    seed = ctx.rng.getrandbits(62) | 1
    hole, hole_end = random_hole(ctx)
    boot = ctx.boot("lab2.alloc", seed=seed, hole="0x%x" % hole, hole_end="0x%x" % hole_end,
                    megs=ctx.megs(64, 128, 192))
    boot.expect_status("ok")


@test(6, "buddy_init: every free page (a map with a hole), in the fewest, largest blocks",
      parent=test_alloc, exercises=["buddy_init"])
def test_init(ctx, boot):
    expect_fully_merged(boot, "before")
    total, reserved, free, _ = stats(boot, "before")
    if reserved != total - free:
        raise TestFailure("%d pages reserved after page_init, %d free of %d: every page of a "
                          "free block loses PAGE_RESERVED, every other page keeps it"
                          % (reserved, free, total))


# -- Exercise 2: buddy_split --------------------------------------------------

@test(0, "buddy_split: the self-test runs")
def test_split(ctx):
    seed = ctx.rng.getrandbits(62) | 1
    boot = ctx.boot("lab2.split", seed=seed, megs=ctx.megs(64, 128, 192))
    boot.expect_status("ok")


@test(8, "buddy_split: the smallest block that fits, its upper halves free",
      parent=test_split, exercises=["buddy_split"])
def test_split_counts(ctx, boot):
    expect_fully_merged(boot, "at start")
    counts = free_blocks(boot, "at start")
    lines = boot.matching(r"split order ")
    if len(lines) != 24:
        raise TestFailure("%d 'split order' lines; the test makes 24 allocations" % len(lines))
    split_off = None            # the upper half the last allocation split off
    for line in lines:
        m = re.match(r"split order (\d+): (0x\w+|none); free blocks: ([\d ]+)$", line)
        if not m:
            raise TestFailure("cannot read '%s'" % line)
        order = int(m.group(1))
        if split_off and split_off[0] == order and m.group(2) != "0x%x" % split_off[1]:
            raise TestFailure("'%s': the allocation before split a block, so the upper half "
                              "of its order, at 0x%x, is the one block of that order free"
                              % (line, split_off[1]))
        fits = [k for k in range(order, MAX_ORDER + 1) if counts[k] > 0]
        split_off = None
        if fits and fits[0] > order and m.group(2) != "none":
            # The lower half is kept (alloc_block's contract).
            split_off = (order, int(m.group(2), 16) + (PAGE << order))
        if fits and m.group(2) == "none":
            raise TestFailure("page_alloc(%d) returned NULL with a free block of order %d: '%s'"
                              % (order, fits[0], line))
        if fits:
            counts[fits[0]] -= 1
            for k in range(order, fits[0]):
                counts[k] += 1
        want = "split order %d: %s; free blocks: %s" % (
            order, m.group(2) if fits else "none", " ".join(map(str, counts)))
        if line != want:
            raise TestFailure("after page_alloc(%d): expected '%s', got '%s'"
                              % (order, want, line))
    largest, counts[MAX_ORDER] = counts[MAX_ORDER], 0
    boot.expect_lines(r"blocks of order ", ["blocks of order %d until none: %d; free blocks: %s"
                                            % (MAX_ORDER, largest, " ".join(map(str, counts)))],
                      "page_alloc(%d) until it returns NULL" % MAX_ORDER)


@test(4, "buddy_split: blocks aligned, in free memory, never overlapping",
      parent=test_split, exercises=["buddy_split"])
def test_split_blocks(ctx, boot):
    lines = boot.matching(r"split order ")
    if not lines or lines[0].split(";")[0].endswith("none"):
        raise TestFailure("the first allocation, with all memory free, failed: '%s'"
                          % (lines[0] if lines else "no 'split order' line"))
    check_blocks(lines, allocatable_pages(boot))


@test(2, "page allocator: a double free panics, naming the page", exercises=["buddy_split"])
def test_double_free(ctx):
    boot = ctx.boot("lab2.double_free")
    boot.expect_status("panic")
    pa = hex_field(boot, r"allocated page (0x\w+)$", "the page")[0]
    want = "page_free: double free of page 0x%x" % pa
    if not any(line.endswith(want) for line in boot.lines):
        raise TestFailure("missing the panic '%s'" % want)


# -- Exercise 3: buddy_merge --------------------------------------------------

@test(5, "buddy_merge: random blocks aligned, in free memory, never overlapping",
      parent=test_alloc, exercises=["buddy_merge"])
def test_alloc_blocks(ctx, boot):
    lines = boot.matching(r"alloc order |free 0x")
    none = [l for l in lines if l.endswith("none")]
    if none:
        raise TestFailure("'%s' with most memory free" % none[0])
    check_blocks(lines, allocatable_pages(boot))


@test(8, "buddy_merge: freeing everything merges back into the largest blocks",
      parent=test_alloc, exercises=["buddy_merge"])
def test_alloc_merge(ctx, boot):
    if not boot.matching(r"free 0x"):
        raise TestFailure("no block was allocated, so none was freed and merged")
    _, _, free, before = stats(boot, "before")
    for when in ("before", "after"):
        boot.expect_lines(r"pages marked free %s: " % when, ["pages marked free %s: %d"
                                                             % (when, sum(stats(boot, when)[3]))],
                          "pages marked PAGE_FREE (the first page of each free block)")
    _, _, free_after, after = stats(boot, "after")
    if after != before or free_after != free:
        raise TestFailure("after freeing every block: %s (%d pages); before: %s (%d pages)"
                          % (after, free_after, before, free))
    exhausted = free_blocks(boot, "after exhaust")
    if exhausted != before:
        raise TestFailure("after every page was allocated and freed one by one: %s; before: %s"
                          % (exhausted, before))


@test(3, "buddy_split: out of memory is NULL; every page comes back",
      parent=test_alloc, exercises=["buddy_split"])
def test_alloc_exhaust(ctx, boot):
    got, before, after = hex_field(
        boot, r"exhaust: (\d+) pages until page_alloc returned NULL; free before (\d+) after (\d+)$",
        "exhaustion")
    if got != before or after != before:
        raise TestFailure("allocated %d pages of %d free; %d free afterwards" % (got, before, after))


# -- Exercises 4 to 6: pt_walk, vm_lookup, vm_destroy ------------------------

def user_va(ctx):
    """A random user address that is not the last page of its page table."""
    return (ctx.rng.randrange(1, 1 << 46) & ~(LARGE - 1)) + ctx.rng.randrange(0, 511) * PAGE


def table_indexes(va):
    return [(va >> (12 + 9 * level)) & 511 for level in range(4)]


class TableModel:
    """The tables of an address space, known by the indexes that lead to
    them, and the 2 MiB pages in it: what a walk must find or make."""

    def __init__(self):
        self.tables = {()}
        self.large = set()

    def walk(self, va, level, create):
        """(new tables, what the walk returns) as the kernel prints it."""
        idx = table_indexes(va)
        path, made = (), 0
        for l in range(3, level, -1):
            if path + (idx[l],) in self.large:
                return made, "a large page's entry"
            path += (idx[l],)
            if path not in self.tables:
                if not create:
                    return made, "NULL"
                self.tables.add(path)
                made += 1
        return made, "the entry"


@test(0, "pt_walk: the self-test runs", exercises=["pt_walk"])
def test_walk(ctx):
    va = user_va(ctx)
    boot = ctx.boot("lab2.walk", va="0x%x" % va)
    boot.va = va
    boot.expect_status("ok")


@test(10, "pt_walk: finds, makes and counts the tables of each level",
      parent=test_walk, exercises=["pt_walk"])
def test_walk_tables(ctx, boot):
    va = boot.va
    model, want = TableModel(), []

    def walk(a, level, create):
        made, what = model.walk(a, level, create)
        want.append("walk 0x%x level %d create %d: %d new tables, %s"
                    % (a, level, create, made, what))
    walk(va, 0, False)
    walk(va, 0, True)
    walk(va, 0, True)
    walk(va, 0, False)
    walk(va + LARGE, 0, True)
    walk(va ^ GiB, 0, True)
    walk(va ^ (1 << 39), 0, True)
    walk(va + 511 * PAGE, 0, False)
    va2 = va ^ GiB ^ (4 * MiB)
    walk(va2, 1, True)
    walk(va ^ (2 << 39), 2, True)
    idx = table_indexes(va2)
    model.large.add((idx[3], idx[2], idx[1]))
    walk(va2 + 0x1234, 0, False)
    walk(va2 + 0x5000, 0, True)
    want.append("walk 0x%x level 0 create 1: 0 new tables, NULL" % (va ^ (3 << 39)))
    boot.expect_lines(r"walk 0x\w+ level", want, "pt_walk_level's results")
    # New tables allow everything: the leaf decides (SDM Vol. 3A 4.6.1).
    boot.expect_lines(r"walk 0x\w+:", ["walk 0x%x: 0x7 0x7 0x7 0x0" % va],
                      "the entries on the way to a new PT entry")


@test(6, "vm_lookup: the page and the entry of each kind of mapping, no table made",
      parent=test_walk, exercises=["vm_lookup"])
def test_lookup(ctx, boot):
    va = boot.va
    va2 = va ^ GiB ^ (4 * MiB)
    p, q, big = hex_field(boot, r"pages: (0x\w+) (0x\w+) (0x\w+)$", "the pages mapped")
    found = [(va, p, p | 0x7), ((1 << 47) - PAGE, p, p | PTE_NX | 0x5),
             (va + PAGE, None, q | PTE_NOREF | 0x5), (va + 2 * PAGE, None, 0),
             (va + 3 * PAGE, None, q | PTE_U),
             (va2 + 0x1234, None, 0x200000 | PTE_NOREF | PTE_PS | 0x3),
             ((va2 ^ LARGE) + 0x5000, big, big | PTE_PS | 0x7), (va ^ (5 << 39), None, 0)]
    boot.expect_lines(r"lookup", ["lookup 0x%x: %s, entry 0x%x"
                                  % (a, "no page" if pg is None else "page 0x%x" % pg, e)
                                  for a, pg, e in found] + ["lookups: 0 new tables"],
                      "vm_lookup of a page, a page without a reference, an empty entry, an "
                      "entry without P, 2 MiB pages, an address without tables")


@test(8, "vm_destroy: frees every user table, puts the pages mapped, not the kernel half",
      parent=test_walk, exercises=["vm_destroy"])
def test_destroy(ctx, boot):
    boot.expect_lines(r"(before destroy|destroyed): ", [
        "before destroy: refcount 3, no-reference page refcount 1, 2 MiB block refcount 2",
        "destroyed: refcount 1, no-reference page refcount 1, 2 MiB block refcount 1, "
        "0 tables left"],
        "references and tables after vm_destroy (a page mapped twice, one mapped without "
        "a reference, a 2 MiB block with one)")
    expect_no_leak(boot, "the walks and vm_destroy")


# -- Exercise 7: kernel_map ---------------------------------------------------

def mapping(boot, what, va):
    line = next((l for l in boot.test_lines() if l.startswith("%s 0x%x: " % (what, va))), None)
    if line is None:
        raise TestFailure("no line for the %s mapping of 0x%x" % (what, va))
    m = re.search(r"flags (0x\w+) address (0x\w+)$", line)
    return (int(m.group(1), 16), int(m.group(2), 16)) if m else None


def expect_flags(what, flags, set_bits, clear_bits):
    names = {PTE_P: "P", PTE_W: "W", PTE_U: "U", PTE_PS: "PS", PTE_G: "G", PTE_NX: "NX"}
    for bit, name in names.items():
        if bit & set_bits and not flags & bit:
            raise TestFailure("%s: flags 0x%x lack %s" % (what, flags, name))
        if bit & clear_bits and flags & bit:
            raise TestFailure("%s: flags 0x%x have %s" % (what, flags, name))


# Each kind of kernel mapping: the bits it must have and must not have.
KERNEL_MAPPINGS = {
    "text": (PTE_P | PTE_G, PTE_W | PTE_U | PTE_NX | PTE_PS),
    "rodata": (PTE_P | PTE_G | PTE_NX, PTE_W | PTE_U | PTE_PS),
    "data": (PTE_P | PTE_G | PTE_W | PTE_NX, PTE_U | PTE_PS),
    "direct": (PTE_P | PTE_G | PTE_W | PTE_NX | PTE_PS, PTE_U),
}


def kernel_page_tables(top):
    """The tables of vm_init: the PML4; a PDPT and a PD per GiB for the
    direct map up to top in 2 MiB pages; for the image, a PDPT, a PD and
    a PT per 2 MiB that no one section covers whole (vm_map_phys maps a
    2 MiB piece of a section with a large page, the rest in 4 KiB pages;
    sections that share a 2 MiB piece share its PT)."""
    bounds = [image_symbol(name) for name in ("_text", "_rodata", "_data", "_end")]
    image_pts = set()
    for start, end in zip(bounds, bounds[1:]):
        for piece in range(start // LARGE, (end - 1) // LARGE + 1):
            if not start <= piece * LARGE < (piece + 1) * LARGE <= end:
                image_pts.add(piece)
    return 1 + 1 + (top + GiB - 1) // GiB + 2 + len(image_pts)


@test(0, "kernel_map: the self-test runs", exercises=["kernel_map"])
def test_kernel_map(ctx):
    megs = ctx.megs(128, 192, 256)
    pa = ctx.rng.randrange(0, ram_layout(megs)[0] * MiB) & ~7
    va = ctx.rng.randrange(1, 1 << 37) & ~(LARGE - 1)
    boot = ctx.boot("lab2.kernel_map", pa="0x%x" % pa, va="0x%x" % va, megs=megs)
    boot.pa, boot.va = pa, va
    boot.expect_status("ok")


@test(6, "kernel_map: each section's and the direct map's permissions and frames",
      parent=test_kernel_map, exercises=["kernel_map"])
def test_kernel_map_sections(ctx, boot):
    lines = boot.matching(r"(text|rodata|data|direct) 0x")
    if len(lines) != 12:
        raise TestFailure("%d mapping lines of the kernel, expected 12" % len(lines))
    for line in lines:
        m = re.match(r"(\w+) 0x(\w+): flags (0x\w+) address (0x\w+)$", line)
        if not m:
            raise TestFailure("the kernel's mapping is missing: '%s'" % line)
        what, va, flags, frame = m.group(1), int(m.group(2), 16), int(m.group(3), 16), \
            int(m.group(4), 16)
        set_bits, clear_bits = KERNEL_MAPPINGS[what]
        expect_flags("%s 0x%x" % (what, va), flags, set_bits, clear_bits)
        if what == "direct":
            want = (va - DIRECTMAP_BASE) & ~(LARGE - 1)
        else:
            want = (va - KERNBASE) & ~(PAGE - 1)
        if frame != want:
            raise TestFailure("%s 0x%x maps 0x%x, not 0x%x" % (what, va, frame, want))
    if mapping(boot, "direct", DIRECTMAP_BASE + boot.pa) is None:
        raise TestFailure("physical 0x%x is not in the direct map" % boot.pa)
    if mapping(boot, "null", 0) is not None:
        raise TestFailure("virtual address 0 is mapped")


@test(4, "kernel_map: the direct map ends where memory does, in the fewest tables",
      parent=test_kernel_map, exercises=["kernel_map"])
def test_kernel_map_tables(ctx, boot):
    beyond = [l for l in boot.matching(r"beyond 0x")]
    m = re.match(r"beyond 0x(\w+): not mapped$", beyond[0]) if beyond else None
    if not m:
        raise TestFailure("the direct map goes on past the end of memory: '%s'"
                          % (beyond[0] if beyond else "no 'beyond' line"))
    top = int(m.group(1), 16) - DIRECTMAP_BASE
    boot.expect_lines(r"page tables: ", ["page tables: %d pages" % kernel_page_tables(top)],
                      "the page-table pages of vm_init (2 MiB pages for the direct map)")


@test(4, "kernel_map: vm_map_phys uses 2 MiB pages only where va, pa and length allow",
      parent=test_kernel_map, exercises=["kernel_map"])
def test_map_phys(ctx, boot):
    va = boot.va
    boot.expect_lines(r"map (2M|4K) ", ["map 2M 0x%x: 0" % va, "map 4K 0x%x: 0" % (va + LARGE)],
                      "vm_map_phys")
    big = mapping(boot, "large", va + 0x1234)
    if big is None:
        raise TestFailure("the 2 MiB page at 0x%x is not mapped" % va)
    if big[0] != PTE_P | PTE_W | PTE_U | PTE_PS | PTE_NOREF or big[1] % LARGE:
        raise TestFailure("the 2 MiB page: flags 0x%x address 0x%x; expected flags 0x%x and "
                          "a 2 MiB frame" % (big[0], big[1], PTE_P | PTE_W | PTE_U | PTE_PS
                                             | PTE_NOREF))
    small = va + LARGE
    want = ["small 0x%x: flags 0x205 address 0x%x" % (small, big[1] + PAGE),
            "small 0x%x: flags 0x205 address 0x%x" % (small + LARGE - PAGE, big[1] + LARGE),
            "small 0x%x: not mapped" % (small + LARGE)]
    boot.expect_lines(r"small 0x", want,
                      "2 MiB at an aligned va from an unaligned pa: 4 KiB pages, and no more")
    boot.expect_lines(r"map with no memory", ["map with no memory: -12"],
                      "vm_map_phys needing a table with every page allocated (-ENOMEM)")


def expect_fault(boot, address, cause):
    boot.expect_status("panic")
    want = "page fault (vector 14) in kernel code at address 0x%016x: %s" % (address, cause)
    if not any(line.endswith(want) for line in boot.lines):
        raise TestFailure("missing the fault '...%s'" % want)


@test(2, "kernel_map: a write to the kernel's text faults", exercises=["kernel_map"])
def test_write_text(ctx):
    boot = ctx.boot("lab2.write_text")
    expect_fault(boot, image_symbol("vm_init"), "write to a protected page")


@test(2, "kernel_map: a call into the kernel's data faults (NX)", exercises=["kernel_map"])
def test_exec_data(ctx):
    boot = ctx.boot("lab2.exec_data")
    expect_fault(boot, hex_field(boot, r"calling data at (0x\w+)$", "the address")[0],
                 "instruction fetch from a protected page")


# -- Exercise 8: vm_map -------------------------------------------------------

@test(0, "vm_map: the self-test runs", exercises=["vm_map"])
def test_vm(ctx):
    va, value = user_va(ctx), ctx.rng.getrandbits(63)
    boot = ctx.boot("lab2.vm", va="0x%x" % va, value="0x%x" % value)
    boot.va, boot.value = va, value
    boot.expect_status("ok")


@test(4, "vm_map: makes the tables it needs, counts references",
      parent=test_vm, exercises=["vm_map"])
def test_vm_tables(ctx, boot):
    va = boot.va
    boot.expect_lines(r"map 0x[0-9a-f]+: ", [
        "map 0x%x: 0 (ok), 3 new tables, refcount 2" % va,
        "map 0x%x: 0, 0 new tables, refcount 3" % (va + PAGE),
        "map 0x%x: 0" % (va + 2 * PAGE)], "vm_map")


@test(6, "vm_map: maps the page with the permissions asked",
      parent=test_vm, exercises=["vm_map"])
def test_vm_mappings(ctx, boot):
    va, page = boot.va, hex_field(boot, r"page: (0x\w+)$", "the page")[0]
    boot.expect_lines(r"(user|kernel) 0x", [
        "user 0x%x: flags 0x7 address 0x%x" % (va, page),
        "user 0x%x: flags 0x5 address 0x%x" % (va + PAGE, page),
        "kernel 0x%x: flags 0x%x address 0x%x" % (va + 2 * PAGE, PTE_NX | PTE_P, page)],
        "the entries vm_map wrote")
    boot.expect_lines(r"read back", ["read back 0x%x" % boot.value], "a write through the mapping")
    # User mappings need U (and W) at every level, not only in the leaf.
    boot.expect_lines(r"walk 0x", ["walk 0x%x: 0x7 0x7 0x7 0x7" % va],
                      "the flags on the way to a user page")


@test(3, "vm_map: errors take no reference (2 MiB page there, no memory)",
      parent=test_vm, exercises=["vm_map"])
def test_vm_errors(ctx, boot):
    boot.expect_lines(r"map (inside|with)", ["map inside 2M: -17, refcount 4",
                                             "map with no memory: -12, refcount 4"],
                      "vm_map of a page inside a 2 MiB one (-EEXIST), then needing a table "
                      "with every page allocated (-ENOMEM)")


@test(4, "vm_map: replacing a mapping, in place too, and the TLB",
      parent=test_vm, exercises=["vm_map"])
def test_vm_remap(ctx, boot):
    boot.expect_lines(r"remap: ", ["remap: 0, old page refcount 3, new page refcount 2"],
                      "references when vm_map replaces a mapping")
    line = next((l for l in boot.test_lines() if l.startswith("remapped 0x")), "")
    if not re.match(r"remapped 0x%x: flags 0x5 address" % (boot.va + PAGE), line) or \
            line.endswith(" 0x%x" % hex_field(boot, r"page: (0x\w+)$", "the page")[0]):
        raise TestFailure("after the remap: '%s', expected flags 0x5 and the new page" % line)
    boot.expect_lines(r"map in place", ["map in place: 0, refcount 1"],
                      "vm_map of a page where it is already mapped, its only reference")
    line = next((l for l in boot.test_lines() if l.startswith("in place 0x")), "")
    if not re.match(r"in place 0x%x: flags 0x5 address" % (boot.va + 3 * PAGE), line):
        raise TestFailure("the page mapped again in place: '%s', expected flags 0x5" % line)
    boot.expect_lines(r"replaced while in use", ["replaced while in use: read 0x%x, then 0x0"
                                                 % boot.value],
                      "reads through a mapping that vm_map replaced (a stale TLB entry?)")
    expect_no_leak(boot, "the address space")


@test(2, "vm_map: freeing a mapped page panics, naming it", exercises=["vm_map"])
def test_free_mapped(ctx):
    boot = ctx.boot("lab2.free_mapped")
    boot.expect_status("panic")
    pa = hex_field(boot, r"allocated page (0x\w+)$", "the page")[0]
    want = "page_free: page 0x%x is still in use (refcount 2)" % pa
    if not any(want in line for line in boot.lines):
        raise TestFailure("missing the panic '%s...'" % want)


# -- Exercises 9 and 10: vm_unmap, vm_protect ---------------------------------

RANGE_PAGES = 6


def range_va(ctx):
    """A user address 1 to 5 pages below a page-table boundary, so that
    the six pages from it cross into the next page table."""
    return (ctx.rng.randrange(1, 1 << 36) & ~(LARGE - 1)) - ctx.rng.randrange(1, 6) * PAGE


def range_lines(what, va, entries):
    """The expected lines of print_range: entries[i + 1] for page i, from
    -1 to RANGE_PAGES: (flags, address) or None."""
    return ["%s 0x%x: " % (what, va + i * PAGE) +
            ("not mapped" if e is None else "flags 0x%x address 0x%x" % e)
            for i, e in zip(range(-1, RANGE_PAGES + 1), entries)]


@test(6, "vm_unmap: a range across page tables, with holes and a no-reference page",
      exercises=["vm_unmap"])
def test_unmap(ctx):
    va = range_va(ctx)
    boot = ctx.boot("lab2.unmap", va="0x%x" % va)
    boot.expect_status("ok")
    page = int(re.search(r"address (0x\w+)$", boot.matching(r"after 0x")[0]).group(1), 16)
    boot.expect_lines(r"(mapped|unmap)", [
        "mapped: refcount 7, no-reference page refcount 1",
        "unmap range: refcount 3, no-reference page refcount 1, 0 tables freed",
        "unmap again and where nothing is: refcount 3, 0 new tables",
        "unmap bytes: refcount 1"], "references and tables through vm_unmap_range")
    mapped = (0x7, page)
    boot.expect_lines(r"after 0x", range_lines("after", va, [mapped] + [None] * 6 + [mapped]),
                      "the range unmapped, its neighbours kept")
    boot.expect_lines(r"bytes 0x", range_lines("bytes", va, [None] * 8),
                      "unmapping bytes: the pages they touch, only those")
    expect_no_leak(boot, "the address space")


@test(3, "vm_unmap: the TLB forgets an unmapped page", exercises=["vm_unmap"])
def test_stale_unmap(ctx):
    va = user_va(ctx)
    boot = ctx.boot("lab2.stale", op="unmap", va="0x%x" % va)
    expect_fault(boot, va, "read from a not-present page")


@test(6, "vm_protect: a range across page tables, all or nothing",
      exercises=["vm_protect"])
def test_protect(ctx):
    va = range_va(ctx)
    boot = ctx.boot("lab2.protect", va="0x%x" % va)
    boot.expect_status("ok")
    page = int(re.search(r"address (0x\w+)$", boot.matching(r"protected 0x")[0]).group(1), 16)
    other = int(re.search(r"address (0x\w+)$", boot.matching(r"protected 0x")[4]).group(1), 16)
    boot.expect_lines(r"protect (range|bytes|with|a |unmapped)", [
        "protect range: 0, refcount 8, 0 new tables", "protect bytes: 0",
        "protect with a hole: -2", "protect a 2 MiB page: -17",
        "protect unmapped: -2, 0 new tables"], "vm_protect_range's results")
    rw, ro = (0x7, page), (PTE_NX | 0x5, page)
    protected = [rw, ro, ro, ro, (PTE_NX | PTE_NOREF | 0x5, other), ro, ro, rw]
    boot.expect_lines(r"protected 0x", range_lines("protected", va, protected),
                      "the range made read-only and not executable, its neighbours kept")
    kw = (0x3, page)
    after_bytes = [rw, ro, kw, kw, (PTE_NOREF | 0x3, other), ro, ro, rw]
    boot.expect_lines(r"bytes 0x", range_lines("bytes", va, after_bytes),
                      "protecting bytes: the pages they touch, only those")
    unchanged = after_bytes[:6] + [None, rw]
    boot.expect_lines(r"unchanged 0x", range_lines("unchanged", va, unchanged),
                      "a failed vm_protect_range changes nothing")
    big = ((va + GiB) & ~(LARGE - 1)) - PAGE
    boot.expect_lines(r"before 2M", ["before 2M 0x%x: flags 0x5 address 0x%x" % (big, page)],
                      "the page before a 2 MiB page, when protecting both failed")
    expect_no_leak(boot, "the address space")


@test(3, "vm_protect: the TLB forgets a page's old rights", exercises=["vm_protect"])
def test_stale_protect(ctx):
    va = user_va(ctx)
    boot = ctx.boot("lab2.stale", op="protect", va="0x%x" % va)
    expect_fault(boot, va, "write to a protected page")


# -- The kernel heap (no exercise) --------------------------------------------

def kmalloc_counts(seed, steps=600, live_max=64):
    """The number of kmalloc and kfree calls lab2.kmalloc makes."""
    prng, live, allocs, frees = Prng(seed), 0, 0, 0
    for _ in range(steps):
        v = prng.next()
        if live > 0 and (live == live_max or v % 2 == 0):
            live, frees = live - 1, frees + 1
        else:
            live, allocs = live + 1, allocs + 1
    return allocs, frees + live


@test(4, "kmalloc: objects intact, counts right, no page leaked",
      exercises=["buddy_split", "buddy_merge"])
def test_kmalloc(ctx):
    seed = ctx.rng.getrandbits(62) | 1
    boot = ctx.boot("lab2.kmalloc", seed=seed)
    boot.expect_status("ok")
    allocs, frees = kmalloc_counts(seed)
    boot.expect_lines(r"kmalloc: ", ["kmalloc: %d allocations, %d frees" % (allocs, frees)],
                      "kmalloc calls")
    expect_no_leak(boot, "the kmalloc calls")


@test(1, "kfree twice panics, naming the object", exercises=["buddy_split"])
def test_kfree_twice(ctx):
    boot = ctx.boot("lab2.kfree_twice")
    boot.expect_status("panic")
    obj = hex_field(boot, r"object (0x\w+)$", "the object")[0]
    if not any(("kfree: double free of 0x%016x" % obj) in line for line in boot.lines):
        raise TestFailure("missing the panic 'kfree: double free of 0x%016x'" % obj)
