// Lab 6 self-tests: the EPT. Guests touch memory they were not given
// (mapped on demand within their limit, refused beyond it), write to
// write-protected pages, leave dirty bits; a misconfigured entry is
// reported; and the costs of a VMCALL and of an EPT violation are
// printed next to the native ones of Lab 4.

#include "boot/cmdline.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "mm/page.h"
#include "mm/vm.h"
#include "proc/exec.h"
#include "proc/proc.h"
#include "test/ktest.h"
#include "vmx/guest.h"
#include "vmx/exits.h"
#include "vmx/vcpu.h"

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

KTEST(lab6_wprotect, "lab6.wprotect", STAGE_VMX, "write to pages= write-protected pages");
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
	vcpu_destroy(v);
	guest_destroy(&g);
}

KTEST(lab6_dirty, "lab6.dirty", STAGE_VMX, "which of 64 pages the guest wrote (mask=), from EPT dirty bits");
static void lab6_dirty(void)
{
	struct guest g = { .small_pages = true };
	struct vcpu_config config = { .rdi = cmdline_get_u64("mask", 1) };

	make_guest(&g, "dirty", &config);
	run_guest(&g, "dirty", &config);
	if (!g.vm.ept.accessed_dirty) {
		printk("dirty: this CPU keeps no EPT dirty bits (IA32_VMX_EPT_VPID_CAP bit 21)\n");
	} else {
		uint64_t mask = 0;
		for (int i = 0; i < 64; i++) {
			uint64_t *e = ept_walk(&g.vm.ept, 0x100000 + (uint64_t)i * PAGE_SIZE, 0, false);
			if (e != NULL && (*e & EPT_DIRTY))
				mask |= 1ul << i;
		}
		printk("dirty: 0x%lx\n", mask);
	}
	guest_destroy(&g);
}

KTEST(lab6_misconfig, "lab6.misconfig", STAGE_VMX, "an EPT entry that is writable but not readable");
static void lab6_misconfig(void)
{
	struct guest g = { .small_pages = true };
	struct vcpu_config config = { .rdi = 0x180000 };

	make_guest(&g, "probe", &config);
	// Write without read is a misconfiguration (SDM Vol. 3C 29.3.3.1).
	uint64_t *e = ept_walk(&g.vm.ept, 0x180000, 0, false);
	*e = (*e & ~EPT_RWX) | EPT_W;
	ept_invalidate(&g.vm.ept);
	run_guest(&g, "probe", &config);
	guest_destroy(&g);
}

KTEST(lab6_large, "lab6.large", STAGE_VMX, "a guest's first 2 MiB: one large EPT leaf");
static void lab6_large(void)
{
	struct guest g = { 0 };
	struct vcpu_config config = { .rdi = 0x1234 };

	make_guest(&g, "hello", &config);
	uint64_t *e = ept_walk(&g.vm.ept, 0, 1, false);
	printk("ept: guest-physical 0x0: %s, host-physical 0x%lx\n",
	       e && (*e & EPT_LARGE) ? "a 2 MiB leaf" : "not a 2 MiB leaf",
	       e ? *e & EPT_ADDR_MASK : 0);
	run_guest(&g, "hello", &config);
	guest_destroy(&g);
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

KTEST(lab6_policy, "lab6.policy", STAGE_VMX,
      "the EPT fault policy and ept_protect called directly: a guest of limit= bytes (>= 8 MiB)");
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
	guest_destroy(&g);
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}
