"""Lab 2 tests: the buddy allocator, page tables, the kernel's mappings,
kmalloc, and the errors they must catch. The grader recomputes what the
kernel must print: the exact number of free pages from the memory map,
the blocks' alignment and overlaps, the permission bits of each kernel
section, the kmalloc call sequence from the seed."""

import re

from gradelib import MiB, TestFailure, expect_no_leak, image_symbol, ram_layout, test
from prng import Prng

PAGE = 4096
KERNBASE = 0xFFFFFFFF80000000
DIRECTMAP_BASE = 0xFFFF800000000000
LOW_MEMORY_END = MiB

PTE_P, PTE_W, PTE_U, PTE_PS, PTE_G, PTE_NX = 0x1, 0x2, 0x4, 0x80, 0x100, 1 << 63


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
# the rest, after vm_init (lab2.alloc runs before).
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


@test(0, "page allocator: the self-test runs")
def test_alloc(ctx):
    seed = ctx.rng.getrandbits(62) | 1
    boot = ctx.boot("lab2.alloc", seed=seed, megs=ctx.megs(64, 128, 192))
    boot.expect_status("ok")


@test(10, "page allocator: blocks aligned, in free memory, never overlapping",
      parent=test_alloc, exercises=["buddy_merge"])
def test_alloc_blocks(ctx, boot):
    allowed = allocatable_pages(boot)
    live = {}
    for line in boot.matching(r"alloc order |free 0x"):
        m = re.match(r"alloc order (\d+): (0x\w+|none)$", line)
        if m:
            order = int(m.group(1))
            if m.group(2) == "none":
                raise TestFailure("page_alloc(%d) failed with most memory free" % order)
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
        else:
            pa = int(line.split()[1], 16)
            if live.pop(pa, None) is None:
                raise TestFailure("freed 0x%x, which is not a live block" % pa)


@test(15, "page allocator: page_init finds every free page; freeing merges buddies",
      parent=test_alloc, exercises=["buddy_merge"])
def test_alloc_merge(ctx, boot):
    allowed = allocatable_pages(boot)
    _, _, free, before = stats(boot, "before")
    if free != len(allowed):
        raise TestFailure("%d pages free after page_init; the memory map has %d free pages"
                          % (free, len(allowed)))
    for when in ("before", "after"):
        boot.expect_lines(r"pages marked free %s: " % when, ["pages marked free %s: %d"
                                                             % (when, sum(stats(boot, when)[3]))],
                          "pages marked PAGE_FREE (the first page of each free block)")
    _, _, free_after, after = stats(boot, "after")
    # Fully merged, the free pages form the fewest, largest aligned blocks.
    want = canonical_blocks(allowed)
    if before != want:
        raise TestFailure("free blocks by order after page_init: %s; fully merged: %s"
                          % (before, want))
    if after != before or free_after != free:
        raise TestFailure("after freeing every block: %s (%d pages); before: %s (%d pages)"
                          % (after, free_after, before, free))


def canonical_blocks(pfns, max_order=10):
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


@test(5, "page allocator: out of memory is NULL; every page comes back", parent=test_alloc)
def test_alloc_exhaust(ctx, boot):
    got, before, after = hex_field(
        boot, r"exhaust: (\d+) pages until page_alloc returned NULL; free before (\d+) after (\d+)$",
        "exhaustion")
    if got != before or after != before:
        raise TestFailure("allocated %d pages of %d free; %d free afterwards" % (got, before, after))


@test(5, "page allocator: a double free panics, naming the page")
def test_double_free(ctx):
    boot = ctx.boot("lab2.double_free")
    boot.expect_status("panic")
    pa = hex_field(boot, r"allocated page (0x\w+)$", "the page")[0]
    want = "page_free: double free of page 0x%x" % pa
    if not any(line.endswith(want) for line in boot.lines):
        raise TestFailure("missing the panic '%s'" % want)


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


@test(10, "kernel page tables: sections' permissions, direct map, no page 0",
      exercises=["pt_walk"])
def test_kernel_map(ctx):
    megs = ctx.megs(128)
    pa = ctx.rng.randrange(0, ram_layout(megs)[0] * MiB) & ~7
    boot = ctx.boot("lab2.kernel_map", pa="0x%x" % pa, megs=megs)
    boot.expect_status("ok")
    text = image_symbol("vm_init")
    m = mapping(boot, "text", text)
    if m is None:
        raise TestFailure("the kernel text at 0x%x is not mapped" % text)
    expect_flags("text", m[0], PTE_P, PTE_W | PTE_U | PTE_NX)
    if m[1] != (text - KERNBASE) & ~(PAGE - 1):
        raise TestFailure("text 0x%x maps 0x%x, not 0x%x" % (text, m[1], (text - KERNBASE) & ~(PAGE - 1)))
    for what, set_bits, clear_bits in (("rodata", PTE_P | PTE_NX, PTE_W | PTE_U),
                                       ("data", PTE_P | PTE_W | PTE_NX, PTE_U)):
        line = next((l for l in boot.test_lines() if l.startswith(what + " ")), "")
        m = re.match(r"\w+ 0x(\w+): flags (0x\w+) address", line)
        if not m:
            raise TestFailure("the kernel's %s is not mapped: '%s'" % (what, line))
        expect_flags(what, int(m.group(2), 16), set_bits, clear_bits)
    m = mapping(boot, "direct", DIRECTMAP_BASE + pa)
    if m is None:
        raise TestFailure("physical 0x%x is not in the direct map" % pa)
    expect_flags("direct map", m[0], PTE_P | PTE_W | PTE_NX | PTE_PS, PTE_U)
    if m[1] != pa & ~(2 * MiB - 1):
        raise TestFailure("the direct map of 0x%x points at 0x%x" % (pa, m[1]))
    if mapping(boot, "null", 0) is not None:
        raise TestFailure("virtual address 0 is mapped")


@test(0, "address spaces: the self-test runs", exercises=["pt_walk", "vm_map"])
def test_vm(ctx):
    # A user address whose page is not the last of its page table.
    va = (ctx.rng.randrange(1, 1 << 46) & ~(2 * MiB - 1)) + ctx.rng.randrange(0, 511) * PAGE
    value = ctx.rng.getrandbits(63)
    boot = ctx.boot("lab2.vm", va="0x%x" % va, value="0x%x" % value)
    boot.va, boot.value = va, value
    boot.expect_status("ok")


@test(10, "vm_map: makes the tables it needs, counts references",
      parent=test_vm, exercises=["pt_walk", "vm_map"])
def test_vm_tables(ctx, boot):
    va = boot.va
    boot.expect_lines(r"map 0x[0-9a-f]+: ", [
        "map 0x%x: 0 (ok), 3 new tables, refcount 2" % va,
        "map 0x%x: 0, 0 new tables, refcount 3" % (va + PAGE)], "vm_map")


@test(10, "vm_map: maps the page with the permissions asked",
      parent=test_vm, exercises=["pt_walk", "vm_map"])
def test_vm_mappings(ctx, boot):
    va, page = boot.va, hex_field(boot, r"page: (0x\w+)$", "the page")[0]
    first = [l for l in boot.test_lines() if l.startswith("user 0x%x:" % va)]
    want_first = "user 0x%x: flags 0x7 address 0x%x" % (va, page)
    if not first or first[0] != want_first:
        raise TestFailure("expected '%s', got '%s'" % (want_first, first[0] if first else "nothing"))
    boot.expect_lines(r"user 0x%x:" % (va + PAGE),
                      ["user 0x%x: flags 0x5 address 0x%x" % (va + PAGE, page)], "second mapping")
    boot.expect_lines(r"read back", ["read back 0x%x" % boot.value], "a write through the mapping")
    # User mappings need U (and W) at every level, not only in the leaf.
    boot.expect_lines(r"walk 0x", ["walk 0x%x: 0x7 0x7 0x7 0x7" % va],
                      "the flags on the way to a user page")
    boot.expect_lines(r"remap: ", ["remap: 0, old page refcount 2, new page refcount 2"],
                      "references when vm_map replaces a mapping")


@test(10, "vm_protect, vm_unmap, 2 MiB pages, vm_destroy frees everything",
      parent=test_vm, exercises=["pt_walk", "vm_map"])
def test_vm_lifecycle(ctx, boot):
    va, page = boot.va, hex_field(boot, r"page: (0x\w+)$", "the page")[0]
    boot.expect_lines(r"user 0x%x:" % va, [
        "user 0x%x: flags 0x7 address 0x%x" % (va, page),
        "user 0x%x: flags 0x5 address 0x%x" % (va, page),
        "user 0x%x: not mapped" % va], "the mapping at va through protect and unmap")
    boot.expect_lines(r"protect", ["protect: 0", "protect unmapped: -2"], "vm_protect")
    boot.expect_lines(r"refcount after", ["refcount after unmap 2"], "references after unmap")
    big_va = (va + (1 << 30)) & ~(2 * MiB - 1)
    boot.expect_lines(r"map 2M", ["map 2M 0x%x: 0" % big_va], "vm_map_phys of 2 MiB")
    m = mapping(boot, "large", big_va + 0x1234)
    if m is None:
        raise TestFailure("the 2 MiB page at 0x%x is not mapped" % big_va)
    expect_flags("2 MiB page", m[0], PTE_P | PTE_W | PTE_U | PTE_PS, PTE_NX)
    boot.expect_lines(r"map in place", ["map in place: 0, refcount 1"],
                      "vm_map of a page where it is already mapped, its only reference")
    boot.expect_lines(r"replaced while in use", ["replaced while in use: read 0x%x, then 0x0"
                                                 % boot.value],
                      "reads through a mapping that vm_map replaced (a stale TLB entry?)")
    boot.expect_lines(r"map inside 2M", ["map inside 2M: -17"],
                      "vm_map of a 4 KiB page inside a 2 MiB one (-EEXIST)")
    boot.expect_lines(r"map with no memory", ["map with no memory: -12"],
                      "vm_map needing a table with every page allocated (-ENOMEM)")
    expect_no_leak(boot, "the address space")


@test(5, "freeing a mapped page panics, naming it", exercises=["pt_walk", "vm_map"])
def test_free_mapped(ctx):
    boot = ctx.boot("lab2.free_mapped")
    boot.expect_status("panic")
    pa = hex_field(boot, r"allocated page (0x\w+)$", "the page")[0]
    want = "page_free: page 0x%x is still in use (refcount 2)" % pa
    if not any(want in line for line in boot.lines):
        raise TestFailure("missing the panic '%s...'" % want)


@test(5, "a write to the kernel's text faults", exercises=["pt_walk"])
def test_write_text(ctx):
    boot = ctx.boot("lab2.write_text")
    boot.expect_status("panic")
    want = ("page fault (vector 14) in kernel code at address 0x%016x: write to a protected page"
            % image_symbol("vm_init"))
    if not any(line.endswith(want) for line in boot.lines):
        raise TestFailure("missing the fault '...%s'" % want)


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


@test(10, "kmalloc: objects intact, counts right, no page leaked", exercises=["buddy_merge"])
def test_kmalloc(ctx):
    seed = ctx.rng.getrandbits(62) | 1
    boot = ctx.boot("lab2.kmalloc", seed=seed)
    boot.expect_status("ok")
    allocs, frees = kmalloc_counts(seed)
    boot.expect_lines(r"kmalloc: ", ["kmalloc: %d allocations, %d frees" % (allocs, frees)],
                      "kmalloc calls")
    expect_no_leak(boot, "the kmalloc calls")


@test(5, "kfree twice panics, naming the object")
def test_kfree_twice(ctx):
    boot = ctx.boot("lab2.kfree_twice")
    boot.expect_status("panic")
    obj = hex_field(boot, r"object (0x\w+)$", "the object")[0]
    if not any(("kfree: double free of 0x%016x" % obj) in line for line in boot.lines):
        raise TestFailure("missing the panic 'kfree: double free of 0x%016x'" % obj)
