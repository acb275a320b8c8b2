#include <stddef.h>

#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "smp/smp.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "mm/page.h"
#include "vmx/vmx.h"

#define FEATURE_CONTROL_LOCKED  (1ull << 0)
#define FEATURE_CONTROL_VMXON   (1ull << 2)     // VMXON outside SMX
#define VMX_BASIC_TRUE_CONTROLS (1ull << 55)

struct vmx_caps vmx_caps;
// Each CPU's VMXON region (SDM Vol. 3C 25.11.5), by CPU index.
static struct page *vmxon_regions[MAX_CPUS];

uint32_t vmx_adjust_controls(const char *what, uint32_t msr, uint32_t true_msr,
			     uint32_t wanted, const char *const names[32], int *missing)
{
	uint64_t caps = rdmsr(vmx_caps.true_controls && true_msr ? true_msr : msr);

	return vmx_control_value(what, caps, wanted, names, missing);
}

uint32_t vmx_control_value(const char *what, uint64_t caps, uint32_t wanted,
			   const char *const names[32], int *missing)
{
	// Bits 31:0 of caps are the allowed 0-settings (a 1 there: the bit
	// must be 1); bits 63:32 the allowed 1-settings (a 0 there: must be
	// 0). SDM Vol. 3D A.3.

	// BEGIN LAB 5 SOLUTION: adjust_controls
	uint32_t must_be_one = (uint32_t)caps, may_be_one = (uint32_t)(caps >> 32);
	uint32_t cannot = wanted & ~may_be_one;

	for (int bit = 0; bit < 32; bit++) {
		if (cannot & (1u << bit)) {
			printk("vmx: this CPU cannot set the %s control %s (bit %d)\n", what,
			       names && names[bit] ? names[bit] : "?", bit);
			(*missing)++;
		}
	}
	return (wanted | must_be_one) & may_be_one;
	// STUB:
	// (void)what, (void)caps, (void)names, (void)missing;
	// return wanted;
	// END LAB 5
}

int vmx_init(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID_1_ECX_VMX)) {
		printk("vmx: this CPU has no VMX (CPUID.1:ECX.VMX is 0)\n");
		return -ENOSYS;
	}
	uint64_t basic = rdmsr(MSR_VMX_BASIC);
	vmx_caps.revision = (uint32_t)basic & 0x7FFFFFFF;
	vmx_caps.true_controls = basic & VMX_BASIC_TRUE_CONTROLS;
	vmx_caps.cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	vmx_caps.cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	vmx_caps.cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	vmx_caps.cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	// The pin-based control's allowed 1-setting (SDM Vol. 3D A.3.1); the
	// rate in IA32_VMX_MISC bits 4:0 (A.6).
	vmx_caps.preemption_timer = (rdmsr(vmx_caps.true_controls ? MSR_VMX_TRUE_PINBASED :
					   MSR_VMX_PINBASED) >> 32) & PIN_PREEMPTION_TIMER;
	vmx_caps.preemption_timer_shift = (int)(rdmsr(MSR_VMX_MISC) & 0x1F);

	uint32_t proc_may = (uint32_t)(rdmsr(MSR_VMX_PROCBASED) >> 32);
	if (proc_may & PROC_SECONDARY_CONTROLS) {
		uint32_t proc2_may = (uint32_t)(rdmsr(MSR_VMX_PROCBASED2) >> 32);
		vmx_caps.ept = proc2_may & PROC2_ENABLE_EPT;
		vmx_caps.vpid = proc2_may & PROC2_ENABLE_VPID;
		vmx_caps.unrestricted_guest = proc2_may & PROC2_UNRESTRICTED_GUEST;
		if (vmx_caps.ept || vmx_caps.vpid)
			vmx_caps.ept_vpid = rdmsr(MSR_VMX_EPT_VPID_CAP);
	}
	if (!vmx_caps.ept || !(vmx_caps.ept_vpid & EPT_CAP_WALK_LENGTH_4) ||
	    !(vmx_caps.ept_vpid & EPT_CAP_WB)) {
		printk("vmx: this CPU has no EPT with 4-level walks and write-back memory "
		       "(IA32_VMX_EPT_VPID_CAP 0x%lx)\n", vmx_caps.ept_vpid);
		return -ENOSYS;
	}
	return 0;
}

// CR0 and CR4 must have the bits FIXED0 sets and only bits FIXED1 allows
// in VMX operation (SDM Vol. 3D A.7, A.8).
static bool apply_fixed_bits(void)
{
	uint64_t cr0 = (read_cr0() | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1;
	uint64_t cr4 = (read_cr4() | CR4_VMXE | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;

	if (!(cr4 & CR4_VMXE))
		return false;
	write_cr0(cr0);
	write_cr4(cr4);
	return true;
}

// Enters VMX operation on this CPU (SDM Vol. 3C 24.7, 24.8, 25.11.5):
// CR0 and CR4 as VMX operation requires them (apply_fixed_bits), then
// VMXON on this CPU's own VMXON region, a zeroed page (kept for the next
// time) that starts with the VMCS revision identifier (IA32_VMX_BASIC
// bits 30:0). VMXON fails with CF set (VMfailInvalid: a bad region) or
// ZF set (VMfailValid: this CPU is in VMX operation already). Returns 0,
// or a negative errno after a line that says why.
int vmx_enable_cpu(void)
{
	struct cpu *c = this_cpu();
	uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);

	// The firmware may lock the MSR; if it locked VMX off, nothing the
	// kernel does can turn it on (SDM Vol. 3C 24.7).
	if (fc & FEATURE_CONTROL_LOCKED) {
		if (!(fc & FEATURE_CONTROL_VMXON)) {
			printk("vmx: cpu %d: the firmware locked VMX off (IA32_FEATURE_CONTROL "
			       "0x%lx): enable virtualization in its setup\n", c->id, fc);
			return -ENOSYS;
		}
	} else {
		wrmsr(MSR_FEATURE_CONTROL, fc | FEATURE_CONTROL_VMXON | FEATURE_CONTROL_LOCKED);
	}
	// BEGIN LAB 5 SOLUTION: vmxon
	if (!apply_fixed_bits()) {
		printk("vmx: cpu %d: CR4.VMXE is not allowed (IA32_VMX_CR4_FIXED1 0x%lx)\n",
		       c->id, vmx_caps.cr4_fixed1);
		return -ENOSYS;
	}

	struct page *region = vmxon_regions[c->id];
	if (region == NULL && (region = page_alloc(0, true)) == NULL)
		return -ENOMEM;
	vmxon_regions[c->id] = region;
	*(uint32_t *)page_to_va(region) = vmx_caps.revision;
	uint64_t pa = page_to_pa(region);
	bool fail_invalid, fail_valid;
	asm volatile("vmxon %2" : "=@ccc"(fail_invalid), "=@ccz"(fail_valid) : "m"(pa) : "memory");
	if (fail_invalid || fail_valid) {
		printk("vmx: cpu %d: VMXON failed (%s)\n", c->id,
		       fail_invalid ? "VMfailInvalid" : "VMfailValid: already in VMX operation?");
		return -ENOSYS;
	}
	return 0;
	// STUB:
	// (void)apply_fixed_bits, (void)vmxon_regions;
	// printk("LAB 5: vmxon not written: cpu %d stays outside VMX operation\n", c->id);
	// return -ENOSYS;
	// END LAB 5
}

void vmx_disable_cpu(void)
{
	asm volatile("vmxoff" ::: "cc", "memory");
	write_cr4(read_cr4() & ~CR4_VMXE);
	printk("vmx: cpu %d left VMX operation\n", this_cpu()->id);
}

static int enable_failures;

static void enable_on(int cpu)
{
	(void)cpu;
	if (vmx_enable_cpu() < 0)
		__atomic_fetch_add(&enable_failures, 1, __ATOMIC_SEQ_CST);
}

bool vmx_running;

int vmx_enable_all(void)
{
	enable_failures = 0;
	smp_call_all(enable_on);
	vmx_running = enable_failures == 0;
	return enable_failures ? -ENOSYS : 0;
}

static void disable_on(int cpu)
{
	(void)cpu;
	vmx_disable_cpu();
}

void vmx_disable_all(void)
{
	vmx_running = false;
	smp_call_all(disable_on);
}
