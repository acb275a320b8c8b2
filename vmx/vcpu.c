#include <stddef.h>

#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "arch/gdt.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

#define DR7_RESERVED 0x400

// Guest segment access rights (SDM Vol. 3C 25.4.1, Table 25-2): type,
// S, DPL, P, then AVL, L, D/B, G in bits 12-15; bit 16 = unusable.
#define AR_CODE64 0xA09B        // execute/read, accessed, present, L=1, G=1
#define AR_DATA   0xC093        // read/write, accessed, present, D/B=1, G=1
#define AR_TSS64_BUSY 0x008B
#define AR_UNUSABLE (1u << 16)

static const char *const pin_names[32] = {
	[0] = "external-interrupt exiting", [3] = "NMI exiting",
	[6] = "activate VMX-preemption timer",
};
static const char *const proc_names[32] = {
	[7] = "HLT exiting", [24] = "unconditional I/O exiting",
	[31] = "activate secondary controls",
};
static const char *const proc2_names[32] = {
	[1] = "enable EPT", [5] = "enable VPID",
};
static const char *const exit_names[32] = {
	[9] = "host address-space size", [20] = "save IA32_EFER", [21] = "load IA32_EFER",
};
static const char *const entry_names[32] = {
	[9] = "IA-32e mode guest", [15] = "load IA32_EFER",
};

static int next_vcpu_id;
// The vCPU whose VMCS is current on each CPU (by CPU index), if any.
static struct vcpu *current_vcpu[MAX_CPUS];

static uint16_t vcpu_vpid(const struct vcpu *v)
{
	return (uint16_t)(v->id % 0xFFFF + 1);  // 0 is the host's
}

// Forgets the translations cached under vpid (SDM Vol. 3C 29.4.3).
static void invvpid_single(uint16_t vpid)
{
	struct { uint64_t vpid, linear; } descriptor = { vpid, 0 };
	uint64_t type = vmx_caps.ept_vpid & VPID_CAP_INVVPID_SINGLE ? 1 : 2;
	bool failed;

	if (!(vmx_caps.ept_vpid & VPID_CAP_INVVPID))
		return;
	asm volatile("invvpid %1, %2" : "=@ccbe"(failed) : "m"(descriptor), "r"(type) : "memory");
	if (failed)
		panic("invvpid: type %lu for VPID %u failed", type, vpid);
}

static const uint32_t guest_msr_indexes[VCPU_GUEST_MSRS] = {
	MSR_STAR, MSR_LSTAR, MSR_FMASK, MSR_KERNEL_GS_BASE,
};

static struct vcpu_msr *guest_msrs(struct vcpu *v)
{
	return page_to_va(v->msr_areas);
}

static struct vcpu_msr *host_msrs(struct vcpu *v)
{
	return guest_msrs(v) + VCPU_GUEST_MSRS;
}

// The guest's MSRs (if it has its own) are loaded at entry and stored at
// exit from one area; the host's are loaded at exit from another
// (setup_host_state fills it).
static void setup_msr_areas(struct vcpu *v)
{
	uint32_t n = v->msr_areas != NULL ? VCPU_GUEST_MSRS : 0;

	vmcs_write32(EXIT_MSR_STORE_COUNT, n);
	vmcs_write32(EXIT_MSR_LOAD_COUNT, n);
	vmcs_write32(ENTRY_MSR_LOAD_COUNT, n);
	if (n > 0) {
		uint64_t pa = page_to_pa(v->msr_areas);
		vmcs_write64(EXIT_MSR_STORE_ADDR, pa);
		vmcs_write64(ENTRY_MSR_LOAD_ADDR, pa);
		vmcs_write64(EXIT_MSR_LOAD_ADDR, pa + VCPU_GUEST_MSRS * sizeof(struct vcpu_msr));
	}
}

uint64_t *vcpu_guest_msr(struct vcpu *v, uint32_t msr)
{
	for (int i = 0; v->msr_areas != NULL && i < VCPU_GUEST_MSRS; i++)
		if (guest_msrs(v)[i].index == msr)
			return &guest_msrs(v)[i].value;
	return NULL;
}

// Every control the hypervisor relies on; a CPU without one of them
// cannot run its guests (the message names what is missing).
static int setup_controls(struct vcpu *v, const struct vcpu_config *config)
{
	int missing = 0;
	uint32_t pin = PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING;

	if (config->quantum != 0 && vmx_caps.preemption_timer) {
		// Counted down from this value at every entry (SDM Vol. 3C
		// 26.5.1): each entry has the whole quantum.
		uint64_t ticks = config->quantum >> vmx_caps.preemption_timer_shift;
		pin |= PIN_PREEMPTION_TIMER;
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, ticks > 0xFFFFFFFF ? 0xFFFFFFFF :
			     ticks == 0 ? 1 : (uint32_t)ticks);
	}
	vmcs_write32(PIN_BASED_CONTROLS, vmx_adjust_controls("pin-based",
		MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED, pin, pin_names, &missing));
	vmcs_write32(PROC_BASED_CONTROLS, vmx_adjust_controls("processor-based",
		MSR_VMX_PROCBASED, MSR_VMX_TRUE_PROCBASED,
		PROC_HLT_EXITING | PROC_UNCONDITIONAL_IO_EXITING | PROC_SECONDARY_CONTROLS,
		proc_names, &missing));
	uint32_t proc2 = PROC2_ENABLE_EPT | (vmx_caps.vpid ? PROC2_ENABLE_VPID : 0);
	vmcs_write32(PROC_BASED_CONTROLS2, vmx_adjust_controls("secondary processor-based",
		MSR_VMX_PROCBASED2, 0, proc2, proc2_names, &missing));
	vmcs_write32(EXIT_CONTROLS, vmx_adjust_controls("VM-exit",
		MSR_VMX_EXIT, MSR_VMX_TRUE_EXIT,
		EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER,
		exit_names, &missing));
	vmcs_write32(ENTRY_CONTROLS, vmx_adjust_controls("VM-entry",
		MSR_VMX_ENTRY, MSR_VMX_TRUE_ENTRY,
		ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER, entry_names, &missing));

	vmcs_write32(EXCEPTION_BITMAP, 0);      // the guest's exceptions stay in the guest
	vmcs_write32(CR3_TARGET_COUNT, 0);
	setup_msr_areas(v);
	vmcs_write32(ENTRY_INTERRUPTION_INFO, 0);
	vmcs_write64(EPT_POINTER, v->vm->ept.eptp);
	if (vmx_caps.vpid)
		vmcs_write16(VPID, vcpu_vpid(v));
	// The guest's CR4.VMXE must be 1 (CR4_FIXED0); it reads it as 0.
	vmcs_writenat(CR4_GUEST_HOST_MASK, CR4_VMXE);
	vmcs_writenat(CR4_READ_SHADOW, 0);
	vmcs_writenat(CR0_GUEST_HOST_MASK, 0);
	return missing ? -ENOSYS : 0;
}

// The state the CPU returns to at a VM exit: this CPU's, as it is now
// (SDM Vol. 3C 25.5): CR0 and CR4; the selectors of CS, SS, DS, ES, FS,
// GS and TR (RPL and TI 0; CS and TR never null); the bases of FS, GS,
// TR (this CPU's TSS), GDTR and IDTR, which no selector gives at an exit;
// the SYSENTER MSRs; IA32_EFER (the exit controls load it); HOST_RIP,
// where exits land (vmx_exit, entry.S). VM entry checks them (27.2.2,
// 27.2.3) and fails with VM-instruction error 8 if one is wrong.
// HOST_CR3 is written at each run (vmx/run.c), HOST_RSP by entry.S at
// each entry; then the host's values of the MSRs the guest has its own
// of, as they are on this CPU now.
static void setup_host_state(struct vcpu *v)
{
	extern char vmx_exit[];
	struct cpu *c = this_cpu();
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;

	// BEGIN LAB 5 SOLUTION: host_state
	asm volatile("sidt %0" : "=m"(idtr));
	vmcs_writenat(HOST_CR0, read_cr0());
	vmcs_writenat(HOST_CR4, read_cr4());
	vmcs_write16(HOST_CS_SELECTOR, GDT_KERNEL_CODE);
	vmcs_write16(HOST_SS_SELECTOR, GDT_KERNEL_DATA);
	vmcs_write16(HOST_DS_SELECTOR, GDT_KERNEL_DATA);
	vmcs_write16(HOST_ES_SELECTOR, GDT_KERNEL_DATA);
	vmcs_write16(HOST_FS_SELECTOR, 0);
	vmcs_write16(HOST_GS_SELECTOR, 0);
	vmcs_write16(HOST_TR_SELECTOR, GDT_TSS);
	vmcs_writenat(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_writenat(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmcs_writenat(HOST_TR_BASE, (uint64_t)&c->tss);
	vmcs_writenat(HOST_GDTR_BASE, (uint64_t)c->gdt);
	vmcs_writenat(HOST_IDTR_BASE, idtr.base);
	vmcs_write32(HOST_SYSENTER_CS, 0);
	vmcs_writenat(HOST_SYSENTER_ESP, 0);
	vmcs_writenat(HOST_SYSENTER_EIP, 0);
	vmcs_write64(HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_writenat(HOST_RIP, (uint64_t)vmx_exit);
	// STUB:
	// (void)vmx_exit, (void)c, (void)idtr;
	// printk("LAB 5: host_state not written: VM entry will fail\n");
	// END LAB 5
	for (int i = 0; v->msr_areas != NULL && i < VCPU_GUEST_MSRS; i++)
		host_msrs(v)[i].value = rdmsr(host_msrs(v)[i].index);
}

static void set_guest_segment(enum vmcs_field selector, uint16_t value, uint32_t access)
{
	// The selector, base, limit and access-rights fields of one segment
	// are laid out in the same order (ES, CS, SS, DS, FS, GS, LDTR, TR).
	int i = (selector - GUEST_ES_SELECTOR) / 2;

	vmcs_write16(selector, value);
	vmcs_writenat((enum vmcs_field)(GUEST_ES_BASE + 2 * i), 0);
	vmcs_write32((enum vmcs_field)(GUEST_ES_LIMIT + 2 * i), 0xFFFFFFFF);
	vmcs_write32((enum vmcs_field)(GUEST_ES_ACCESS_RIGHTS + 2 * i), access);
}

// A 64-bit guest in ring 0 with paging on its own page tables (config
// cr3), flat segments, no descriptor tables, interrupts off (SDM Vol. 3C
// 25.4, checked as 27.3.1 says): CR0 with PE, PG and NE and CR4 with PAE
// and VMXE, each within the fixed bits (vmx_caps); EFER with LME and LMA
// and the config's SCE and NXE; CS a 64-bit code segment, the data
// segments flat, LDTR unusable, TR a busy 64-bit TSS (limit 0x67); empty
// GDTR and IDTR; DR7 and RFLAGS with their reserved bits (10, 1) set;
// RSP and RIP from the config; nothing pending, blocked or waiting; no
// shadow VMCS (link pointer all ones). A wrong field fails the entry
// with exit reason 33 (VM-entry failure: invalid guest state).
static void setup_guest_state(const struct vcpu_config *cfg)
{
	// BEGIN LAB 5 SOLUTION: guest_state
	vmcs_writenat(GUEST_CR0, (CR0_PE | CR0_PG | CR0_NE | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1);
	vmcs_writenat(GUEST_CR3, cfg->cr3);
	vmcs_writenat(GUEST_CR4, (CR4_PAE | CR4_VMXE | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1);
	vmcs_write64(GUEST_IA32_EFER, EFER_LME | EFER_LMA | (cfg->efer & (EFER_SCE | EFER_NXE)));
	set_guest_segment(GUEST_CS_SELECTOR, 0x08, AR_CODE64);
	set_guest_segment(GUEST_SS_SELECTOR, 0x10, AR_DATA);
	set_guest_segment(GUEST_DS_SELECTOR, 0x10, AR_DATA);
	set_guest_segment(GUEST_ES_SELECTOR, 0x10, AR_DATA);
	set_guest_segment(GUEST_FS_SELECTOR, 0x10, AR_DATA);
	set_guest_segment(GUEST_GS_SELECTOR, 0x10, AR_DATA);
	set_guest_segment(GUEST_LDTR_SELECTOR, 0, AR_UNUSABLE);
	set_guest_segment(GUEST_TR_SELECTOR, 0x18, AR_TSS64_BUSY);
	vmcs_write32(GUEST_TR_LIMIT, 0x67);
	vmcs_writenat(GUEST_GDTR_BASE, 0);
	vmcs_write32(GUEST_GDTR_LIMIT, 0);
	vmcs_writenat(GUEST_IDTR_BASE, 0);
	vmcs_write32(GUEST_IDTR_LIMIT, 0);
	vmcs_writenat(GUEST_DR7, DR7_RESERVED);
	vmcs_writenat(GUEST_RSP, cfg->rsp);
	vmcs_writenat(GUEST_RIP, cfg->rip);
	vmcs_writenat(GUEST_RFLAGS, RFLAGS_RESERVED);
	vmcs_writenat(GUEST_PENDING_DEBUG, 0);
	vmcs_write32(GUEST_INTERRUPTIBILITY, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, 0);
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_writenat(GUEST_SYSENTER_ESP, 0);
	vmcs_writenat(GUEST_SYSENTER_EIP, 0);
	vmcs_write64(VMCS_LINK_POINTER, ~0ull);         // no shadow VMCS
	// STUB:
	// (void)cfg, (void)set_guest_segment;
	// printk("LAB 5: guest_state not written: VM entry will fail\n");
	// END LAB 5
}

struct vcpu *vcpu_create(struct vm *vm, const struct vcpu_config *config)
{
	struct vcpu *v = kzalloc(sizeof(*v));

	if (v == NULL || (v->vmcs = page_alloc(0, true)) == NULL ||
	    (config->guest_msrs && (v->msr_areas = page_alloc(0, true)) == NULL)) {
		printk("vcpu: no memory for a vCPU and its VMCS\n");
		if (v != NULL && v->vmcs != NULL)
			page_free(v->vmcs);
		kfree(v);
		return NULL;
	}
	v->id = next_vcpu_id++;
	v->vm = vm;
	v->trace = config->trace;
	v->cpu = VCPU_NOT_LOADED;
	v->regs.rdi = config->rdi;
	v->regs.rsi = config->rsi;
	v->regs.rax = config->rax;
	for (int i = 0; v->msr_areas != NULL && i < VCPU_GUEST_MSRS; i++) {
		guest_msrs(v)[i] = (struct vcpu_msr){ .index = guest_msr_indexes[i] };
		host_msrs(v)[i] = (struct vcpu_msr){ .index = guest_msr_indexes[i] };
	}
	*(uint32_t *)page_to_va(v->vmcs) = vmx_caps.revision;
	vmcs_clear(page_to_pa(v->vmcs));
	vcpu_load(v);
	if (setup_controls(v, config) < 0) {
		vcpu_destroy(v);
		return NULL;
	}
	setup_guest_state(config);
	return v;
}

void vcpu_destroy(struct vcpu *v)
{
	vcpu_put(v);
	page_free(v->vmcs);
	if (v->msr_areas != NULL)
		page_free(v->msr_areas);
	kfree(v);
}

void vcpu_copy_state(struct vcpu *dst, struct vcpu *src)
{
	static uint64_t values[MAX_CPUS][VMCS_MAX_FIELDS];
	uint64_t *mine = values[this_cpu()->id];
	bool interrupts_were_on = read_rflags() & RFLAGS_IF;

	cli();          // one CPU for the loads and the buffer
	vcpu_load(src);
	vmcs_save_guest_state(mine);
	vcpu_load(dst);
	vmcs_restore_guest_state(mine);
	dst->regs = src->regs;
	for (int i = 0; i < VCPU_GUEST_MSRS && dst->msr_areas != NULL; i++) {
		uint64_t *value = vcpu_guest_msr(src, guest_msr_indexes[i]);
		guest_msrs(dst)[i].value = value != NULL ? *value : 0;
	}
	if (interrupts_were_on)
		sti();
}

void vcpu_load(struct vcpu *v)
{
	int here = this_cpu()->id;

	if (v->cpu != VCPU_NOT_LOADED && v->cpu != here)
		panic("vcpu_load: vcpu %d is active on cpu %d, not on this cpu %d: "
		      "vcpu_put it there first", v->id, v->cpu, here);
	if (current_vcpu[here] == v)
		return;
	vmcs_load(page_to_pa(v->vmcs));
	current_vcpu[here] = v;
	if (v->cpu == here)
		return;         // still active here since it last ran: state kept
	v->cpu = here;
	setup_host_state(v);
	// This CPU may hold translations from the vCPU's last run here,
	// stale since (SDM Vol. 3C 29.4.3: they are tagged by VPID and EPT).
	if (vmx_caps.vpid)
		invvpid_single(vcpu_vpid(v));
	v->ept_flushes_seen = __atomic_load_n(&v->vm->ept_flushes, __ATOMIC_SEQ_CST);
	ept_invalidate(&v->vm->ept);
}

void vcpu_put(struct vcpu *v)
{
	int here = this_cpu()->id;

	if (v->cpu == VCPU_NOT_LOADED)
		return;
	if (v->cpu != here)
		panic("vcpu_put: vcpu %d is active on cpu %d, not on this cpu %d", v->id, v->cpu, here);
	vmcs_clear(page_to_pa(v->vmcs));
	if (current_vcpu[here] == v)
		current_vcpu[here] = NULL;
	v->cpu = VCPU_NOT_LOADED;
	v->launched = false;    // a cleared VMCS is entered with VMLAUNCH
}

void vcpu_stop(struct vcpu *v, const char *reason)
{
	v->stopped = true;
	v->stop_reason = reason;
}

void vcpu_skip_instruction(struct vcpu *v)
{
	vmcs_writenat(GUEST_RIP, vmcs_readnat(GUEST_RIP) + vmcs_read32(EXIT_INSTRUCTION_LENGTH));
}

void vcpu_io_result(struct vcpu *v, const struct vcpu_io *io, uint32_t value)
{
	// IN to AL or AX keeps the rest of RAX; IN to EAX zero-extends into
	// RAX, as any 32-bit register write in 64-bit mode (SDM Vol. 1 3.4.1.1).
	uint64_t mask = io->size == 4 ? ~0ul : (1ul << (8 * io->size)) - 1;

	v->regs.rax = (v->regs.rax & ~mask) | (value & mask);
}

void vcpu_inject_exception(struct vcpu *v, int vector, uint32_t error_code)
{
	(void)v;
	vmcs_write32(ENTRY_INTERRUPTION_INFO, (uint32_t)vector | INTR_INFO_HARDWARE_EXCEPTION |
		     INTR_INFO_DELIVER_ERROR_CODE | INTR_INFO_VALID);
	vmcs_write32(ENTRY_EXCEPTION_ERROR_CODE, error_code);
}
