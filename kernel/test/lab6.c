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
#include "proc/exec.h"
#include "proc/proc.h"
#include "test/ktest.h"
#include "vmx/guest.h"
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
	run_guest(&g, "wprotect", &config);
	printk("ept: %lu write faults let through\n", g.write_faults);
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
