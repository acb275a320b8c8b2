// Lab 5 self-tests: small guests on a vCPU. The kernel prints each exit
// (but timer interrupts) and what the guest printed, so grader/lab5.py
// can check the exact sequence.

#include "arch/gdt.h"
#include "arch/regs.h"
#include "arch/x86.h"
#include "boot/cmdline.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "smp/smp.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/printfmt.h"
#include "mm/page.h"
#include "test/ktest.h"
#include "vmx/guest.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

// A field of any width, by the width its encoding says (vmx/vmcs.h).
static uint64_t read_field(enum vmcs_field field)
{
	switch ((enum vmcs_width)((field >> 13) & 3)) {
	case VMCS_16BIT: return vmcs_read16(field);
	case VMCS_32BIT: return vmcs_read32(field);
	case VMCS_64BIT: return vmcs_read64(field);
	default: return vmcs_readnat(field);
	}
}

// Compares the host-state fields of the current VMCS that have one right
// value with this CPU's state now; prints each that differs.
static void check_host_state(struct vcpu *v)
{
	extern char vmx_exit[];
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr, idtr;

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	const struct { enum vmcs_field field; uint64_t value; } want[] = {
		{ HOST_CR0, read_cr0() }, { HOST_CR4, read_cr4() },
		{ HOST_CS_SELECTOR, GDT_KERNEL_CODE }, { HOST_TR_SELECTOR, GDT_TSS },
		{ HOST_FS_BASE, rdmsr(MSR_FS_BASE) }, { HOST_GS_BASE, rdmsr(MSR_GS_BASE) },
		{ HOST_TR_BASE, (uint64_t)&this_cpu()->tss }, { HOST_GDTR_BASE, gdtr.base },
		{ HOST_IDTR_BASE, idtr.base }, { HOST_IA32_EFER, rdmsr(MSR_EFER) },
		{ HOST_RIP, (uint64_t)vmx_exit },
	};
	int n = sizeof(want) / sizeof(want[0]), wrong = 0;

	for (int i = 0; i < n; i++) {
		uint64_t value = read_field(want[i].field);
		if (value != want[i].value) {
			printk("vcpu %d: host state: %s is 0x%lx, this CPU's is 0x%lx\n", v->id,
			       vmcs_field_name(want[i].field), value, want[i].value);
			wrong++;
		}
	}
	printk("vcpu %d: host state: %d fields checked, %d wrong\n", v->id, n, wrong);
}

KTEST(lab5_guest, "lab5.guest", STAGE_VMX,
      "run guest name= with arguments a= b=, cpuid= (the hypervisor leaf's value), remap= (a page moved), "
      "host=1 (check the VMCS host state first)");
static void lab5_guest(void)
{
	const char *name = cmdline_get("name");
	struct vcpu_config config = {
		.rdi = cmdline_get_u64("a", 0),
		.rsi = cmdline_get_u64("b", 0),
		.trace = true,
	};
	struct guest g = { .cpuid_value = (uint32_t)cmdline_get_u64("cpuid", 0) };
	uint64_t remap = cmdline_get_u64("remap", 0);
	struct page *elsewhere = NULL;

	if (name == NULL)
		panic("lab5.guest: say which guest with name=");
	g.small_pages = remap != 0;
	int err = guest_create(&g, name, &config);
	if (err < 0)
		panic("lab5.guest: cannot make guest %s: %d (%s)", name, err, strerror(err));
	// The guest's page at remap= backed by a page apart from the rest of
	// its memory: host-physical addresses are contiguous up to it, not
	// across it. The new leaf replaces the old one (the guest has not
	// run yet: nothing to invalidate).
	if (remap != 0 && ((elsewhere = page_alloc(0, true)) == NULL ||
			   ept_map(&g.vm.ept, remap, page_to_pa(elsewhere), PAGE_SIZE, EPT_RWX) < 0))
		panic("lab5.guest: cannot move guest-physical 0x%lx elsewhere", remap);
	struct vcpu *v = vcpu_create(&g.vm, &config);
	if (v == NULL)
		panic("lab5.guest: cannot make a vCPU for %s", name);
	if (cmdline_get_u64("host", 0))
		check_host_state(v);
	printk("vcpu %d: running guest %s\n", v->id, name);
	const char *why = vcpu_run(v);
	printk("vcpu %d: guest %s stopped: %s, status %ld\n", v->id, name, why, g.exit_status);
	vcpu_destroy(v);
	guest_destroy(&g);
	if (elsewhere != NULL)
		page_free(elsewhere);
}

KTEST(lab5_vmcs_width, "lab5.vmcs_width", STAGE_VMX, "write a 16-bit VMCS field as 32 bits: a panic names it");
static void lab5_vmcs_width(void)
{
	struct vcpu_config config = { 0 };
	struct guest g = { 0 };

	if (guest_create(&g, "hello", &config) < 0 || vcpu_create(&g.vm, &config) == NULL)
		panic("lab5.vmcs_width: no vCPU");
	vmcs_write32(GUEST_CS_SELECTOR, 0x08);
	printk("lab5.vmcs_width: the wrong width passed unnoticed\n");
}

KTEST(lab5_bad_guest, "lab5.bad_guest", STAGE_VMX,
      "enter a guest whose CS is both 64-bit and 32-bit, then one whose host TR selector is null: "
      "both VM entries fail; then a guest makes an exit without a handler");
static void lab5_bad_guest(void)
{
	struct vcpu_config config = { .trace = true };
	struct guest g = { 0 };

	if (guest_create(&g, "hello", &config) < 0)
		panic("lab5.bad_guest: no guest memory");
	for (int part = 0; part < 3; part++) {
		if (part == 2) {
			guest_destroy(&g);
			g = (struct guest){ 0 };
			if (guest_create(&g, "invd", &config) < 0)
				panic("lab5.bad_guest: no guest memory for invd");
		}
		struct vcpu *v = vcpu_create(&g.vm, &config);
		if (v == NULL)
			panic("lab5.bad_guest: no vCPU");
		// L and D/B both set: reserved for 64-bit code (SDM Vol. 3C
		// 27.3.1.2); a null TR: refused by the host-state checks (27.2.3).
		if (part == 0)
			vmcs_write32(GUEST_CS_ACCESS_RIGHTS, vmcs_read32(GUEST_CS_ACCESS_RIGHTS) | (1u << 14));
		else if (part == 1)
			vmcs_write16(HOST_TR_SELECTOR, 0);
		printk("vcpu %d: guest stopped: %s\n", v->id, vcpu_run(v));
		vcpu_destroy(v);
	}
	guest_destroy(&g);
}

// The vCPU that lab5.migrate moves, and the CPU that runs its next part.
static struct vcpu *migrating;
static int migrate_to;

static void run_part(struct vcpu *v)
{
	const char *why = vcpu_run(v);

	printk("vcpu %d: part ran on cpu %d: %s\n", v->id, this_cpu()->id, why);
	vcpu_put(v);
}

static void run_part_on(int cpu)
{
	if (cpu == migrate_to)
		run_part(migrating);
}

KTEST(lab5_migrate, "lab5.migrate", STAGE_VMX,
      "one vCPU runs its guest's three parts on cpus 0, 1, 0 (needs 2 CPUs; token a=)");
static void lab5_migrate(void)
{
	struct vcpu_config config = { .rdi = cmdline_get_u64("a", 0), .trace = true };
	struct guest g = { 0 };

	if (ncpus < 2)
		panic("lab5.migrate: needs 2 CPUs, this machine has %d", ncpus);
	if (guest_create(&g, "migrate", &config) < 0 || (migrating = vcpu_create(&g.vm, &config)) == NULL)
		panic("lab5.migrate: no guest or vCPU");
	run_part(migrating);
	migrate_to = 1;
	smp_call_all(run_part_on);
	run_part(migrating);
	vcpu_destroy(migrating);
	guest_destroy(&g);
}

// Made-up controls ctl0 ... ctl31 (bit 29 has no name).
static const char *const made_up_names[32] = {
	"ctl0", "ctl1", "ctl2", "ctl3", "ctl4", "ctl5", "ctl6", "ctl7", "ctl8", "ctl9",
	"ctl10", "ctl11", "ctl12", "ctl13", "ctl14", "ctl15", "ctl16", "ctl17", "ctl18",
	"ctl19", "ctl20", "ctl21", "ctl22", "ctl23", "ctl24", "ctl25", "ctl26", "ctl27",
	"ctl28", NULL, "ctl30", "ctl31",
};

KTEST(lab5_controls, "lab5.controls", STAGE_CONSOLE,
      "vmx_control_value on made-up capability MSRs capsN= with wanted controls wantedN= (N = 0, 1, 2)");
static void lab5_controls(void)
{
	for (int i = 0; i < 3; i++) {
		char key[16], what[16];
		snprintf(key, sizeof(key), "caps%d", i);
		uint64_t caps = cmdline_get_u64(key, 0);
		snprintf(key, sizeof(key), "wanted%d", i);
		uint32_t wanted = (uint32_t)cmdline_get_u64(key, 0);
		snprintf(what, sizeof(what), "test%d", i);
		int missing = 0;
		uint32_t value = vmx_control_value(what, caps, wanted, made_up_names, &missing);
		printk("controls %d: value 0x%x, missing %d\n", i, value, missing);
	}
}

// VMXON's outcomes on this CPU, with the VMX stage not started: the
// first VMXON; a second one in VMX operation, which fails with
// VMfailInvalid without a current VMCS and with VMfailValid with one
// (SDM Vol. 3C 31.2, 31.3 VMXON); one after VMXOFF with a wrong revision
// identifier; then a right one, which must reuse the region of the first.
KTEST(lab5_vmxon, "lab5.vmxon", STAGE_SMP,
      "VMXON, VMXON again without and with a current VMCS, VMXOFF, VMXON with a wrong "
      "revision, VMXON, VMXOFF");
static void lab5_vmxon(void)
{
	if (vmx_init() < 0)
		panic("lab5.vmxon: this CPU cannot run guests");
	int err = vmx_enable_cpu();
	printk("vmxon: first %d, cr4.vmxe %lu\n", err, (read_cr4() & CR4_VMXE) / CR4_VMXE);
	if (err < 0)
		return;
	size_t free_pages = page_free_count();
	printk("vmxon: again %d\n", vmx_enable_cpu());
	struct page *vmcs = page_alloc(0, true);
	if (vmcs == NULL)
		panic("lab5.vmxon: no page for a VMCS");
	*(uint32_t *)page_to_va(vmcs) = vmx_caps.revision;
	vmcs_clear(page_to_pa(vmcs));
	vmcs_load(page_to_pa(vmcs));
	printk("vmxon: again with a current VMCS %d\n", vmx_enable_cpu());
	vmcs_clear(page_to_pa(vmcs));
	page_free(vmcs);
	vmx_disable_cpu();
	vmx_caps.revision ^= 1;
	printk("vmxon: wrong revision %d\n", vmx_enable_cpu());
	vmx_caps.revision ^= 1;
	printk("vmxon: after vmxoff %d, pages taken %ld\n", vmx_enable_cpu(),
	       (long)(free_pages - page_free_count()));
	vmx_disable_cpu();
}
