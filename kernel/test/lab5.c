// Lab 5 self-tests: small guests on a vCPU. The kernel prints each exit
// (but timer interrupts) and what the guest printed, so grader/lab5.py
// can check the exact sequence.

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

KTEST(lab5_guest, "lab5.guest", STAGE_VMX,
      "run guest name= with arguments a= b=, cpuid= (the hypervisor leaf's value), remap= (a page moved)");
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
	// across it.
	if (remap != 0 && ((elsewhere = page_alloc(0, true)) == NULL ||
			   ept_unmap(&g.vm.ept, remap) == (uint64_t)-1 ||
			   ept_map(&g.vm.ept, remap, page_to_pa(elsewhere), PAGE_SIZE, EPT_RWX) < 0))
		panic("lab5.guest: cannot move guest-physical 0x%lx elsewhere", remap);
	struct vcpu *v = vcpu_create(&g.vm, &config);
	if (v == NULL)
		panic("lab5.guest: cannot make a vCPU for %s", name);
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

KTEST(lab5_bad_guest, "lab5.bad_guest", STAGE_VMX, "enter a guest whose CS is both 64-bit and 32-bit: VM entry fails");
static void lab5_bad_guest(void)
{
	struct vcpu_config config = { .trace = true };
	struct guest g = { 0 };

	if (guest_create(&g, "hello", &config) < 0)
		panic("lab5.bad_guest: no guest memory");
	struct vcpu *v = vcpu_create(&g.vm, &config);
	if (v == NULL)
		panic("lab5.bad_guest: no vCPU");
	// L and D/B both set: reserved for 64-bit code (SDM Vol. 3C 27.3.1.2).
	vmcs_write32(GUEST_CS_ACCESS_RIGHTS, vmcs_read32(GUEST_CS_ACCESS_RIGHTS) | (1u << 14));
	printk("vcpu %d: guest stopped: %s\n", v->id, vcpu_run(v));
	vcpu_destroy(v);
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
