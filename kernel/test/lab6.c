// Lab 6 self-tests: the EPT. Guests touch memory they were not given
// (mapped on demand within their limit, refused beyond it), write to
// write-protected pages, leave dirty bits; a misconfigured entry is
// reported; and the costs of a VMCALL and of an EPT violation are
// printed next to the native ones of Lab 4.

#include "boot/cmdline.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/printfmt.h"
#include "lib/string.h"
#include "mm/page.h"
#include "mm/vm.h"
#include "proc/exec.h"
#include "proc/proc.h"
#include "test/ktest.h"
#include "vmx/guest.h"
#include "vmx/exits.h"
#include "vmx/vcpu.h"
#include "vmx/vmx.h"

static void make_guest(struct guest *g, const char *name, struct vcpu_config *config)
{
	int err = guest_create(g, name, config);

	if (err < 0)
		panic("cannot make guest %s: %d (%s)", name, err, strerror(err));
}

// Runs the guest to its end and frees its vCPU.
static void run_guest(struct guest *g, const char *name, struct vcpu_config *config)
{
	struct vcpu *v = vcpu_create(&g->vm, config);

	if (v == NULL)
		panic("cannot make a vCPU for %s", name);
	printk("vcpu %d: guest %s stopped: %s\n", v->id, name, vcpu_run(v));
	vcpu_destroy(v);
}

// Every free page, taken one by one into a chain (the first word of each
// page links to the next); *n: how many.
static void *take_every_page(size_t *n)
{
	void *chain = NULL;
	struct page *p;

	*n = 0;
	while ((p = page_alloc(0, false)) != NULL) {
		uint64_t *words = page_to_va(p);
		words[0] = (uint64_t)chain;
		words[PAGE_SIZE / 8 - 1] = 0xA5A5A5A5A5A5A5A5ul;    // not a zeroed page
		chain = words;
		(*n)++;
	}
	return chain;
}

// Frees the first page of the chain; returns the rest.
static void *give_back_one(void *chain)
{
	uint64_t *words = chain;

	chain = (void *)words[0];
	words[0] = 0xA5A5A5A5A5A5A5A5ul;
	page_free(pa_to_page(V2P(words)));
	return chain;
}

static void give_back(void *chain)
{
	while (chain != NULL)
		chain = give_back_one(chain);
}

// Shows that op(e) runs INVEPT: with an EPTP whose memory type (2) is
// reserved (SDM Vol. 3C 25.6.11), single-context INVEPT fails, and
// ept_invalidate panics. If op returns, ept_invalidate is called itself.
static void expect_invept(struct ept *e, const char *what, void (*op)(struct ept *e))
{
	if (!(vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)) {
		printk("invalidate: this CPU has no single-context INVEPT\n");
		return;
	}
	e->eptp = (e->eptp & ~7ul) | 2;
	printk("invalidate: %s with an EPTP the CPU refuses\n", what);
	op(e);
	printk("invalidate: %s returned: it ran no INVEPT\n", what);
	ept_invalidate(e);
	printk("invalidate: the failure went unnoticed\n");
}

KTEST(lab6_demand, "lab6.demand", STAGE_VMX, "a guest touches pages= pages past its memory: mapped on demand");
static void lab6_demand(void)
{
	struct guest g = { .limit = 64ul << 20 };
	struct vcpu_config config = { .rdi = cmdline_get_u64("pages", 8) };
	size_t before = page_free_count();

	make_guest(&g, "demand", &config);
	run_guest(&g, "demand", &config);
	printk("ept: %lu pages mapped on demand\n", g.ndemand);
	guest_destroy(&g);
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

KTEST(lab6_probe, "lab6.probe", STAGE_VMX, "a guest with 2 MiB reads guest-physical address=");
static void lab6_probe(void)
{
	struct guest g = { 0 };
	struct vcpu_config config = { .rdi = cmdline_get_u64("address", 0) };

	make_guest(&g, "probe", &config);
	run_guest(&g, "probe", &config);
	guest_destroy(&g);
}

KTEST(lab6_two_guests, "lab6.two_guests", STAGE_VMX,
      "a guest reads where another guest's memory lies physically");
static void lab6_two_guests(void)
{
	struct guest a = { 0 }, b = { .limit = 1ul << 30 };
	struct vcpu_config config_a = { 0 }, config_b = { 0 };
	uint64_t token = cmdline_get_u64("token_value", 0x5ec7e7);

	make_guest(&a, "hello", &config_a);
	// A secret in guest A's memory, at guest-physical 0x180000 ...
	*(uint64_t *)((uint8_t *)page_to_va(a.memory) + 0x180000) = token;
	uint64_t where = page_to_pa(a.memory) + 0x180000;
	// ... which guest B reads at the same number as a guest-physical
	// address: within B's limit (all it can address), that is B's own
	// page, mapped on demand and zeroed.
	config_b.rdi = where;
	make_guest(&b, "probe", &config_b);
	printk("two guests: A's secret lies at host-physical 0x%lx\n", where);
	run_guest(&b, "probe", &config_b);
	guest_destroy(&b);
	guest_destroy(&a);
}

static void protect_second_page(struct ept *e)
{
	ept_protect(e, 0x101000, EPT_R);
}

KTEST(lab6_wprotect, "lab6.wprotect", STAGE_VMX,
      "write to pages= write-protected pages, to the first again, then read it unmapped; "
      "then ept_protect must run an INVEPT that fails");
static void lab6_wprotect(void)
{
	struct guest g = { .small_pages = true };
	uint64_t pages = cmdline_get_u64("pages", 4);
	struct vcpu_config config = { .rdi = pages };

	make_guest(&g, "wprotect", &config);
	for (uint64_t i = 0; i < pages; i++)
		if (ept_protect(&g.vm.ept, 0x100000 + i * PAGE_SIZE, EPT_R | EPT_X) < 0)
			panic("lab6.wprotect: cannot protect page %lu", i);
	struct vcpu *v = vcpu_create(&g.vm, &config);
	if (v == NULL)
		panic("lab6.wprotect: no vCPU");
	printk("vcpu %d: guest wprotect stopped: %s\n", v->id, vcpu_run(v));
	printk("ept: %lu write faults let through\n", g.write_faults);
	// The guest wrote to its first page just now: the translation it
	// used may still be cached, and must not outlive the permission.
	if (ept_protect(&g.vm.ept, 0x100000, EPT_R | EPT_X) < 0)
		panic("lab6.wprotect: cannot protect the first page again");
	printk("vcpu %d: guest wprotect stopped: %s\n", v->id, vcpu_run(v));
	printk("ept: %lu write faults let through\n", g.write_faults);
	// The guest read its first page just now: unmapped, the page must
	// fault and come back new, not be read through a kept translation.
	printk("unmapped: guest-physical 0x100000 was at offset 0x%lx of its memory\n",
	       ept_unmap(&g.vm.ept, 0x100000) - page_to_pa(g.memory));
	printk("vcpu %d: guest wprotect stopped: %s\n", v->id, vcpu_run(v));
	vcpu_destroy(v);
	expect_invept(&g.vm.ept, "ept_protect", protect_second_page);
	guest_destroy(&g);
}

// The dirty log of [gpa, gpa + len) (at most 1024 pages), as ranges of
// page numbers from gpa.
static void print_dirty_log(struct ept *e, uint64_t gpa, uint64_t len)
{
	uint64_t bitmap[16], n = (len / PAGE_SIZE + 63) / 64 * 64;
	char line[256] = "";

	memset(bitmap, 0xA5, sizeof(bitmap));    // the log must clear what it does not set
	int err = ept_dirty_log(e, gpa, len, bitmap);
	for (uint64_t i = 0; err == 0 && i < n; i++) {
		if (!(bitmap[i / 64] >> (i % 64) & 1))
			continue;
		uint64_t last = i;
		while (last + 1 < n && (bitmap[(last + 1) / 64] >> ((last + 1) % 64) & 1))
			last++;
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 last > i ? " %lu-%lu" : " %lu", i, last);
		i = last;
	}
	printk("dirty log [0x%lx, 0x%lx): %d,%s\n", gpa, gpa + len, err, line[0] ? line : " none");
}

// The pages the test harvests: 63 of the guest's 64 (it writes the last
// one too, just past the range), then 3 MiB from the middle of the 2 MiB
// leaf at 0x400000 (nothing is mapped past the leaf), then that whole
// leaf.
static void print_dirty_logs(struct ept *e)
{
	print_dirty_log(e, 0x100000, 63 * PAGE_SIZE);
	print_dirty_log(e, 0x500000, 3ul << 20);
	print_dirty_log(e, 0x400000, LARGE_PAGE_SIZE);
}

static void log_first_page(struct ept *e)
{
	uint64_t bitmap[1];

	ept_dirty_log(e, 0x100000, PAGE_SIZE, bitmap);
}

KTEST(lab6_dirty, "lab6.dirty", STAGE_VMX,
      "which of 64 pages the guest wrote (mask=), from EPT dirty bits; then the dirty log, "
      "with a 2 MiB leaf at 0x400000, after that and after the guest writes the pages of again=; "
      "then ept_dirty_log must run an INVEPT that fails");
static void lab6_dirty(void)
{
	struct guest g = { .small_pages = true };
	struct vcpu_config config = { .rdi = cmdline_get_u64("mask", 1),
				      .rsi = cmdline_get_u64("again", 0) };
	struct page *leaf = page_alloc(PAGE_ORDER_2M, true);

	make_guest(&g, "dirty", &config);
	if (leaf == NULL || ept_map(&g.vm.ept, 0x400000, page_to_pa(leaf), LARGE_PAGE_SIZE, EPT_RWX) < 0)
		panic("lab6.dirty: no memory for the 2 MiB leaf");
	struct vcpu *v = vcpu_create(&g.vm, &config);
	if (v == NULL)
		panic("lab6.dirty: no vCPU");
	printk("vcpu %d: guest dirty stopped: %s\n", v->id, vcpu_run(v));
	// The CPU's capability, not the EPT's flag: an EPT that leaves the
	// flags off on a CPU that has them shows no dirty page.
	if (!(vmx_caps.ept_vpid & EPT_CAP_ACCESSED_DIRTY)) {
		printk("dirty: this CPU keeps no EPT dirty bits (IA32_VMX_EPT_VPID_CAP bit 21)\n");
		vcpu_destroy(v);
		guest_destroy(&g);
		page_free(leaf);
		return;
	}
	uint64_t mask = 0;
	for (int i = 0; i < 64; i++) {
		uint64_t *e = ept_walk(&g.vm.ept, 0x100000 + (uint64_t)i * PAGE_SIZE, 0, false);
		if (e != NULL && (*e & EPT_DIRTY))
			mask |= 1ul << i;
	}
	printk("dirty: 0x%lx\n", mask);
	print_dirty_logs(&g.vm.ept);
	printk("vcpu %d: guest dirty stopped: %s\n", v->id, vcpu_run(v));
	print_dirty_logs(&g.vm.ept);
	vcpu_destroy(v);

	// An EPT as ept_create makes it on a CPU without the flags (no CPU
	// runs it: only the flag that says so matters).
	struct ept plain;
	if (ept_create(&plain) < 0)
		panic("lab6.dirty: no memory for an EPT");
	plain.accessed_dirty = false;
	print_dirty_log(&plain, 0x100000, PAGE_SIZE);
	ept_destroy(&plain);

	*ept_walk(&g.vm.ept, 0x100000, 0, false) |= EPT_DIRTY;
	expect_invept(&g.vm.ept, "ept_dirty_log", log_first_page);
	guest_destroy(&g);
	page_free(leaf);
}

// Runs guest name with arg, after giving the leaf that maps gpa (4 KiB
// with small, else the first 2 MiB) the permissions perm.
static void run_with_leaf(const char *name, bool small, uint64_t arg, uint64_t gpa, uint64_t perm)
{
	struct guest g = { .small_pages = small };
	struct vcpu_config config = { .rdi = arg };

	make_guest(&g, name, &config);
	uint64_t *e = ept_walk(&g.vm.ept, gpa, 0, false);
	*e = (*e & ~EPT_RWX) | perm;
	run_guest(&g, name, &config);
	guest_destroy(&g);
}

KTEST(lab6_misconfig, "lab6.misconfig", STAGE_VMX,
      "an EPT entry that is writable but not readable; then violations the policy declines: "
      "a read of an execute-only page, a fetch from a page without X, a write into a 2 MiB leaf "
      "without W");
static void lab6_misconfig(void)
{
	// Write without read is a misconfiguration (SDM Vol. 3C 29.3.3.1).
	run_with_leaf("probe", true, 0x180000, 0x180000, EPT_W);
	run_with_leaf("probe", true, 0x180000, 0x180000, EPT_X);
	run_with_leaf("hello", true, 0x1234, GUEST_LOAD_ADDRESS, EPT_R | EPT_W);
	run_with_leaf("hello", false, 0x1234, 0, EPT_R | EPT_X);
}

// The EPT functions called directly, each on its edges: what they must
// leave in the tables is read back here as the CPU reads them, apart
// from ept_walk. The host-physical addresses are made up (no guest runs
// on these EPTs); the grader chooses them and the guest-physical ones.

// The entry at level on the way to gpa as the CPU finds it (present: any
// of R, W, X; SDM Vol. 3C 29.3.2), or NULL if a table or a large leaf
// comes first.
static uint64_t *entry_at(const struct ept *e, uint64_t gpa, int level)
{
	uint64_t *table = e->pml4;

	for (int l = 3; l > level; l--) {
		uint64_t entry = table[PT_INDEX(gpa, l)];
		if (!(entry & EPT_RWX) || (entry & EPT_LARGE))
			return NULL;
		table = P2V(entry & EPT_ADDR_MASK);
	}
	return &table[PT_INDEX(gpa, level)];
}

static const char *flags(uint64_t entry, char *buf)
{
	snprintf(buf, 24, "0x%lx", entry & ~EPT_ADDR_MASK);
	return buf;
}

static void make_ept(struct ept *e)
{
	if (ept_create(e) < 0)
		panic("lab6.ept: no memory for an EPT");
}

static void check_create(void)
{
	struct ept e, plain;
	uint64_t caps = vmx_caps.ept_vpid;

	make_ept(&e);
	printk("create: memory type %lu, walk length %lu, A/D %lu, reserved 0x%lx, %s, "
	       "accessed_dirty %d; the CPU has A/D: %d\n", e.eptp & 7, (e.eptp >> 3 & 7) + 1,
	       e.eptp >> 6 & 1, e.eptp & 0xF80,
	       (e.eptp & EPT_ADDR_MASK) == V2P(e.pml4) ? "the root table" : "not the root table",
	       e.accessed_dirty, (caps & EPT_CAP_ACCESSED_DIRTY) != 0);
	// A CPU without accessed and dirty flags refuses an EPTP that asks
	// for them (SDM Vol. 3C 27.2.1.1).
	vmx_caps.ept_vpid = caps & ~EPT_CAP_ACCESSED_DIRTY;
	make_ept(&plain);
	vmx_caps.ept_vpid = caps;
	printk("create without A/D in the capabilities: A/D %lu, accessed_dirty %d\n",
	       plain.eptp >> 6 & 1, plain.accessed_dirty);
	ept_destroy(&plain);
	ept_destroy(&e);
}

static void print_walk(struct ept *e, uint64_t gpa, int level, bool create)
{
	uint64_t *got = ept_walk(e, gpa, level, create);
	uint64_t *want = entry_at(e, gpa, level), *above = entry_at(e, gpa, 1);
	char upper[64] = "", buf[24];

	for (int l = 3; l > level; l--) {
		uint64_t *u = entry_at(e, gpa, l);
		if (u == NULL || !(*u & EPT_RWX) || (*u & EPT_LARGE))
			break;
		snprintf(upper + strlen(upper), sizeof(upper) - strlen(upper), " %s", flags(*u, buf));
	}
	printk("walk 0x%lx level %d%s: %s, %lu table pages, tables above:%s\n", gpa, level,
	       create ? " create" : "", got == NULL ? "NULL" : got == want ? "its entry" :
	       level == 0 && got == above ? "the 2 MiB leaf above" : "a wrong entry",
	       e->table_pages, upper);
}

// gpa's indexes differ at every level; other shares its PML4 entry only;
// far shares nothing.
static void check_walk(uint64_t gpa, uint64_t other, uint64_t far, uint64_t hpa)
{
	struct ept e;

	make_ept(&e);
	print_walk(&e, gpa, 0, false);
	print_walk(&e, gpa, 0, true);
	print_walk(&e, gpa, 0, false);
	print_walk(&e, other, 1, true);
	print_walk(&e, far, 0, false);
	// An execute-only 2 MiB leaf (present without R) ends the walk.
	*entry_at(&e, other, 1) = hpa | EPT_X | EPT_MEMTYPE_WB | EPT_LARGE;
	print_walk(&e, other + 0x3000, 0, true);
	print_walk(&e, other + 0x1FF000, 0, false);
	ept_destroy(&e);
}

// The leaves of [gpa, gpa + size) as the CPU finds them, against hpa.
static void print_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perm)
{
	uint64_t tables = e->table_pages, large = 0, small = 0, wrong = 0;
	uint64_t large_bits = 0, small_bits = 0;
	int err = ept_map(e, gpa, hpa, size, perm);
	char b1[24], b2[24];

	for (uint64_t off = 0; off < size;) {
		uint64_t *l1 = entry_at(e, gpa + off, 1), *l0 = entry_at(e, gpa + off, 0);
		if (l1 != NULL && (*l1 & EPT_LARGE)) {
			large++, large_bits |= *l1 & ~EPT_ADDR_MASK;
			wrong += (*l1 & EPT_ADDR_MASK) != hpa + off;
			off += LARGE_PAGE_SIZE;
		} else {
			small += l0 != NULL;
			small_bits |= l0 != NULL ? *l0 & ~EPT_ADDR_MASK : 0;
			wrong += l0 == NULL || (*l0 & EPT_ADDR_MASK) != hpa + off;
			off += PAGE_SIZE;
		}
	}
	printk("map 0x%lx -> 0x%lx size 0x%lx perm %lu: %d, %lu large, %lu small, %lu wrong, "
	       "bits %s and %s, %lu new tables\n", gpa, hpa, size, perm, err, large, small, wrong,
	       flags(large_bits, b1), flags(small_bits, b2), e->table_pages - tables);
}

static void print_translate(const struct ept *e, const char *what, uint64_t gpa)
{
	uint64_t tables = e->table_pages, hpa = ept_translate(e, gpa);

	printk("translate %s 0x%lx: 0x%lx, %lu new tables\n", what, gpa, hpa,
	       e->table_pages - tables);
}

static void print_unmap(struct ept *e, const char *what, uint64_t gpa)
{
	uint64_t hpa = ept_unmap(e, gpa);
	uint64_t *l1 = entry_at(e, gpa, 1), *l0 = entry_at(e, gpa, 0);
	uint64_t left = l1 != NULL && (*l1 & EPT_LARGE) ? *l1 : l0 != NULL ? *l0 : 0;
	char buf[24];

	printk("unmap %s 0x%lx: 0x%lx, entry left 0x%lx bits %s\n", what, gpa, hpa,
	       left & EPT_ADDR_MASK, flags(left, buf));
}

// base: 2 MiB-aligned guest-physical, hpa: 2 MiB-aligned host-physical.
static void check_map(uint64_t base, uint64_t hpa)
{
	struct ept e;

	make_ept(&e);
	print_map(&e, base, hpa, LARGE_PAGE_SIZE + PAGE_SIZE, EPT_R | EPT_W);
	print_map(&e, base + (4 << 20), hpa + (4 << 20) + PAGE_SIZE, LARGE_PAGE_SIZE, EPT_R | EPT_X);
	print_map(&e, base + (8 << 20) - PAGE_SIZE, hpa + (8 << 20) - PAGE_SIZE,
		  LARGE_PAGE_SIZE + 2 * PAGE_SIZE, EPT_RWX);
	print_map(&e, base + (12 << 20), hpa + (12 << 20), 1 << 20, EPT_R);
	print_map(&e, base + (16 << 20), hpa + (16 << 20), PAGE_SIZE, EPT_X);

	print_translate(&e, "in a 2 MiB leaf", base + 0x123456);
	print_translate(&e, "in a 4 KiB leaf", base + LARGE_PAGE_SIZE + 0x567);
	print_translate(&e, "execute-only", base + (16 << 20) + 0x10);
	print_translate(&e, "beside a leaf", base + LARGE_PAGE_SIZE + PAGE_SIZE);
	print_translate(&e, "without tables", base + (1ul << 30));
	*entry_at(&e, base + (12 << 20), 0) &= ~EPT_RWX;     // no access, page kept
	print_translate(&e, "with no access", base + (12 << 20) + 8);

	print_unmap(&e, "a 4 KiB leaf", base + LARGE_PAGE_SIZE);
	print_unmap(&e, "nothing", base + LARGE_PAGE_SIZE + PAGE_SIZE);
	print_unmap(&e, "without tables", base + (1ul << 30));
	print_unmap(&e, "execute-only", base + (16 << 20));
	printk("unmap: %lu table pages\n", e.table_pages);
	ept_destroy(&e);
}

// The leaves of [base, base + 4 MiB + 8 pages), one word each: the bits
// of the entry, or - if it is 0.
static void print_leaves(struct ept *e, uint64_t base)
{
	char line[256] = "";
	uint64_t end = base + (4 << 20) + 8 * PAGE_SIZE;

	for (uint64_t gpa = base; gpa < end;) {
		uint64_t *l1 = entry_at(e, gpa, 1), *l0 = entry_at(e, gpa, 0);
		bool large = l1 != NULL && (*l1 & EPT_LARGE);
		uint64_t entry = large ? *l1 : l0 != NULL ? *l0 : 0;
		if (entry == 0)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " -");
		else
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %lx",
				 entry & ~EPT_ADDR_MASK);
		gpa += large || (l1 != NULL && !(*l1 & EPT_RWX)) ? LARGE_PAGE_SIZE : PAGE_SIZE;
	}
	printk("narrow: leaves%s, %lu table pages\n", line, e->table_pages);
}

// Two 2 MiB leaves at base, then eight 4 KiB ones.
static void check_narrow(uint64_t base, uint64_t hpa)
{
	struct ept e;

	make_ept(&e);
	if (ept_map(&e, base, hpa, 4 << 20, EPT_RWX) < 0 ||
	    ept_map(&e, base + (4 << 20), hpa + (4 << 20) + PAGE_SIZE, 8 * PAGE_SIZE, EPT_RWX) < 0)
		panic("lab6.ept: ept_map failed");
	print_leaves(&e, base);
	ept_narrow_range(&e, base + (1 << 20), (3 << 20) + 3 * PAGE_SIZE, EPT_R);
	print_leaves(&e, base);
	ept_narrow_range(&e, base + (4 << 20) + 6 * PAGE_SIZE, PAGE_SIZE + 1, 0);
	print_leaves(&e, base);
	ept_narrow_range(&e, base + (4 << 20), PAGE_SIZE, EPT_R | EPT_W);     // never widens
	print_leaves(&e, base);
	ept_narrow_range(&e, base + (1ul << 30), 1ul << 40, 0);
	ept_narrow_range(&e, base, 0, 0);
	print_leaves(&e, base);
	ept_destroy(&e);
}

// What the walk finds for gpa, a 4 KiB leaf or the 2 MiB leaf above it
// (err: what the call that split it returned, tables: e's table pages
// before it); and the other 511 entries of its 2 MiB (mapped from hpa):
// how many are 4 KiB leaves, how many map the wrong page, their bits.
static void print_split(struct ept *e, const char *what, uint64_t gpa, uint64_t hpa,
			long err, uint64_t tables)
{
	uint64_t *l1 = entry_at(e, gpa, 1), *l0 = entry_at(e, gpa, 0);
	uint64_t entry = l1 != NULL && (*l1 & EPT_LARGE) ? *l1 : l0 != NULL ? *l0 : 0;
	uint64_t base = gpa & ~(LARGE_PAGE_SIZE - 1), leaves = 0, wrong = 0, bits = 0;
	char b1[24], b2[24], result[24];

	snprintf(result, sizeof(result), err < 0 ? "%ld" : "0x%lx", err);
	for (uint64_t off = 0; off < LARGE_PAGE_SIZE; off += PAGE_SIZE) {
		uint64_t *other = entry_at(e, base + off, 0);
		if (base + off == gpa || other == NULL || !(*other & EPT_RWX))
			continue;
		leaves++;
		wrong += (*other & EPT_ADDR_MASK) != hpa + off;
		bits |= *other & ~EPT_ADDR_MASK;
	}
	printk("split: %s 0x%lx: %s, %lu new tables, entry 0x%lx bits %s; the others: %lu leaves, "
	       "%lu wrong, bits %s\n", what, gpa, result, e->table_pages - tables,
	       entry & EPT_ADDR_MASK, flags(entry, b1), leaves, wrong, flags(bits, b2));
}

// Three 2 MiB leaves at base (R and X, accessed and dirty; RWX; RWX):
// page k of the first protected, page j of the second unmapped, the
// third split without memory for its table.
static void check_split(uint64_t base, uint64_t hpa, uint64_t k, uint64_t j)
{
	struct ept e;
	uint64_t tables, gpa;
	size_t n;

	make_ept(&e);
	if (ept_map(&e, base, hpa, LARGE_PAGE_SIZE, EPT_R | EPT_X) < 0 ||
	    ept_map(&e, base + LARGE_PAGE_SIZE, hpa + LARGE_PAGE_SIZE, 2 * LARGE_PAGE_SIZE, EPT_RWX) < 0)
		panic("lab6.ept: ept_map failed");
	*entry_at(&e, base, 1) |= EPT_ACCESSED | EPT_DIRTY;

	tables = e.table_pages, gpa = base + k * PAGE_SIZE;
	print_split(&e, "protect r", gpa, hpa, ept_protect(&e, gpa, EPT_R), tables);
	tables = e.table_pages;
	print_split(&e, "again", gpa, hpa, ept_split(&e, gpa), tables);
	tables = e.table_pages, gpa = base + LARGE_PAGE_SIZE + j * PAGE_SIZE;
	print_split(&e, "unmap", gpa, hpa + LARGE_PAGE_SIZE, (long)ept_unmap(&e, gpa), tables);

	void *every_page = take_every_page(&n);
	tables = e.table_pages, gpa = base + 2 * LARGE_PAGE_SIZE + j * PAGE_SIZE;
	print_split(&e, "no memory", gpa, hpa + 2 * LARGE_PAGE_SIZE, ept_split(&e, gpa), tables);
	give_back(every_page);
	tables = e.table_pages, gpa = base + 3 * LARGE_PAGE_SIZE;
	print_split(&e, "nothing", gpa, hpa, ept_split(&e, gpa), tables);
	ept_destroy(&e);
}

static void unmap_first_page(struct ept *e)
{
	ept_unmap(e, 0);
}

KTEST(lab6_ept, "lab6.ept", STAGE_VMX,
      "the EPT functions called directly, at guest-physical walk=, map= and host-physical hpa=, "
      "2 MiB leaves split for their pages page= and other_page=; "
      "then a guest whose first 2 MiB is one large leaf; then ept_unmap must run an INVEPT that fails");
static void lab6_ept(void)
{
	uint64_t walk = cmdline_get_u64("walk", 0x40201003000ul), hpa = cmdline_get_u64("hpa", 0x40000000);
	uint64_t map = cmdline_get_u64("map", 0x80000000), other = cmdline_get_u64("other", 0x80400000);
	uint64_t far = cmdline_get_u64("far", 0x10000000000ul);
	size_t before = page_free_count(), n;

	// Free pages that are not zeroed: a new table must be cleared.
	give_back(take_every_page(&n));
	check_create();
	check_walk(walk, other, far, hpa);
	check_map(map, hpa);
	check_narrow(map, hpa);
	check_split(map, hpa, cmdline_get_u64("page", 5) % PT_ENTRIES,
		    cmdline_get_u64("other_page", 7) % PT_ENTRIES);
	printk("destroy: free pages start %lu end %lu\n", before, page_free_count());

	struct guest g = { 0 };
	struct vcpu_config config = { .rdi = 0x1234 };
	make_guest(&g, "hello", &config);
	uint64_t *e = ept_walk(&g.vm.ept, 0, 1, false);
	printk("ept: guest-physical 0x0: %s, host-physical 0x%lx\n",
	       e && (*e & EPT_LARGE) ? "a 2 MiB leaf" : "not a 2 MiB leaf",
	       e ? *e & EPT_ADDR_MASK : 0);
	run_guest(&g, "hello", &config);
	guest_destroy(&g);

	struct ept x;
	make_ept(&x);
	if (ept_map(&x, 0, hpa, PAGE_SIZE, EPT_RWX) < 0)
		panic("lab6.ept: ept_map failed");
	expect_invept(&x, "ept_unmap", unmap_first_page);
}

KTEST(bench_vmx, "bench.vmx", STAGE_VMX, "native costs (Lab 4's bench) and a guest's VMCALL and EPT-violation costs");
static void bench_vmx(void)
{
	char *argv[] = { "bench", "cycles", NULL };
	int err;
	struct proc *p = proc_spawn("bench", argv, 2, &err);

	if (p == NULL)
		panic("bench.vmx: cannot start bench: %d", err);
	proc_start(p);
	proc_wait_kernel(p);
	struct guest g = { .limit = 64ul << 20 };
	struct vcpu_config config = { 0 };
	make_guest(&g, "vmbench", &config);
	run_guest(&g, "vmbench", &config);
	guest_destroy(&g);
}

static uint64_t nonzero_bytes(uint64_t hpa)
{
	const uint8_t *b = P2V(hpa & ~(uint64_t)(PAGE_SIZE - 1));
	uint64_t n = 0;

	for (int i = 0; i < PAGE_SIZE; i++)
		n += b[i] != 0;
	return n;
}

static void print_protect(struct guest *g, const char *what, uint64_t gpa, uint64_t perm)
{
	int err = ept_protect(&g->vm.ept, gpa, perm);
	uint64_t *e = ept_walk(&g->vm.ept, gpa, 0, false);

	printk("protect 0x%lx %s: %d, entry bits 0x%lx\n", gpa, what, err,
	       e != NULL ? *e & ~EPT_ADDR_MASK : 0);
}

static void split_first_leaf(struct ept *e)
{
	ept_split(e, 0);
}

KTEST(lab6_policy, "lab6.policy", STAGE_VMX,
      "the EPT fault policy and ept_protect called directly: a guest of limit= bytes (>= 8 MiB); "
      "then ept_split must run an INVEPT that fails");
static void lab6_policy(void)
{
	struct guest g = { .limit = cmdline_get_u64("limit", 8ul << 20) };
	struct vcpu_config config = { 0 };
	size_t before = page_free_count(), n;

	if (g.limit < (8ul << 20) || g.limit % PAGE_SIZE)
		panic("lab6.policy: limit=0x%lx is not a multiple of 4 KiB from 8 MiB", g.limit);
	make_guest(&g, "probe", &config);
	struct vcpu v = { .id = 0, .vm = &g.vm };     // the policy's view of the guest's vCPU
	uint64_t last = g.limit - 1, past = g.limit;

	// Free pages that are not zeroed: a demand page must be cleared.
	give_back(take_every_page(&n));
	bool ok = guest_ept_fault(&v, last, EPT_Q_READ);
	uint64_t hpa = ept_translate(&g.vm.ept, last);
	printk("fault at the last byte 0x%lx: %s, %lu nonzero bytes\n", last,
	       ok ? "mapped" : "refused", hpa == (uint64_t)-1 ? 0 : nonzero_bytes(hpa));
	ok = guest_ept_fault(&v, past, EPT_Q_READ);
	printk("fault at the limit 0x%lx: %s\n", past, ok ? "mapped" : "refused");

	// No memory for the table a new page needs: refused, nothing kept.
	void *every_page = give_back_one(take_every_page(&n));     // one page left
	size_t one = page_free_count();
	ok = guest_ept_fault(&v, 0x200000, EPT_Q_WRITE);
	printk("fault with one free page and a table to make: %s, free pages %lu then %lu\n",
	       ok ? "mapped" : "refused", one, page_free_count());
	give_back(every_page);

	// The demand table: full at GUEST_MAX_DEMAND_PAGES.
	uint64_t mapped = 0;
	for (uint64_t gpa = 0x200000; gpa < 0x200000 + 300 * PAGE_SIZE; gpa += PAGE_SIZE) {
		if (!guest_ept_fault(&v, gpa, EPT_Q_WRITE))
			break;
		mapped++;
	}
	printk("demand pages: %lu more mapped, then refused; %lu in the table\n", mapped, g.ndemand);

	// Permissions of a demand page, taken away and given back.
	uint64_t page = past - PAGE_SIZE;
	print_protect(&g, "r", page, EPT_R);
	print_protect(&g, "none", page, 0);
	print_protect(&g, "rwx", page, EPT_RWX);
	print_protect(&g, "r (not mapped)", past + 0x400000, EPT_R);
	print_protect(&g, "r (in a 2 MiB leaf)", 0x1000, EPT_R);
	static const uint64_t beside[] = { 0, 0x2000, LARGE_PAGE_SIZE - PAGE_SIZE };
	for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
		uint64_t *e = ept_walk(&g.vm.ept, beside[i], 0, false);
		printk("beside it: 0x%lx at offset 0x%lx of the guest's memory, entry bits 0x%lx\n",
		       beside[i], ept_translate(&g.vm.ept, beside[i]) - page_to_pa(g.memory),
		       e != NULL ? *e & ~EPT_ADDR_MASK : 0);
	}
	guest_destroy(&g);
	printk("free pages: start %lu end %lu\n", before, page_free_count());

	struct ept x;
	if (ept_create(&x) < 0 || ept_map(&x, 0, 0, LARGE_PAGE_SIZE, EPT_RWX) < 0)
		panic("lab6.policy: no memory for an EPT");
	expect_invept(&x, "ept_split", split_first_leaf);
}
