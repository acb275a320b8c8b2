// Lab 5 self-tests: small guests on a vCPU. The kernel prints each exit
// (but timer interrupts) and what the guest printed, so grader/lab5.py
// can check the exact sequence.

#include "boot/cmdline.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "smp/smp.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "test/ktest.h"
#include "vmx/guest.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

KTEST(lab5_guest, "lab5.guest", STAGE_VMX,
      "run guest name= with arguments a= b= and cpuid= (the hypervisor leaf's value)");
static void lab5_guest(void)
{
	const char *name = cmdline_get("name");
	struct vcpu_config config = {
		.rdi = cmdline_get_u64("a", 0),
		.rsi = cmdline_get_u64("b", 0),
		.trace = true,
	};
	struct guest g = { .cpuid_value = (uint32_t)cmdline_get_u64("cpuid", 0) };

	if (name == NULL)
		panic("lab5.guest: say which guest with name=");
	int err = guest_create(&g, name, &config);
	if (err < 0)
		panic("lab5.guest: cannot make guest %s: %d (%s)", name, err, strerror(err));
	struct vcpu *v = vcpu_create(&g.vm, &config);
	if (v == NULL)
		panic("lab5.guest: cannot make a vCPU for %s", name);
	printk("vcpu %d: running guest %s\n", v->id, name);
	const char *why = vcpu_run(v);
	printk("vcpu %d: guest %s stopped: %s, status %ld\n", v->id, name, why, g.exit_status);
	vcpu_destroy(v);
	guest_destroy(&g);
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
