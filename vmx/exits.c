#include <stddef.h>

#include "arch/x86.h"
#include "console/console.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/memlayout.h"
#include "vmx/exits.h"
#include "vmx/vmcs.h"

#define NR_EXIT_REASONS 70
#define SERIAL_DATA 0x3F8
#define SERIAL_LINE_STATUS 0x3FD
#define LSR_TRANSMITTER_EMPTY 0x60
#define HYPERVISOR_CPUID_LEAF 0x40000000
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define MSR_TSC 0x10

// Event injection (SDM Vol. 3C 25.8.3): vector, type 3 (hardware
// exception), deliver error code, valid.
#define INJECT_HARDWARE_EXCEPTION (3u << 8)
#define INJECT_ERROR_CODE (1u << 11)
#define INJECT_VALID (1u << 31)
#define VECTOR_GP 13

static const char *const reason_names[NR_EXIT_REASONS] = {
	[0] = "exception or NMI", [1] = "external interrupt", [2] = "triple fault",
	[3] = "INIT signal", [4] = "SIPI", [5] = "I/O SMI", [6] = "other SMI",
	[7] = "interrupt window", [8] = "NMI window", [9] = "task switch", [10] = "CPUID",
	[11] = "GETSEC", [12] = "HLT", [13] = "INVD", [14] = "INVLPG", [15] = "RDPMC",
	[16] = "RDTSC", [17] = "RSM", [18] = "VMCALL", [19] = "VMCLEAR", [20] = "VMLAUNCH",
	[21] = "VMPTRLD", [22] = "VMPTRST", [23] = "VMREAD", [24] = "VMRESUME",
	[25] = "VMWRITE", [26] = "VMXOFF", [27] = "VMXON", [28] = "control-register access",
	[29] = "MOV DR", [30] = "I/O instruction", [31] = "RDMSR", [32] = "WRMSR",
	[33] = "VM-entry failure: invalid guest state",
	[34] = "VM-entry failure: MSR loading", [36] = "MWAIT", [37] = "monitor trap flag",
	[39] = "MONITOR", [40] = "PAUSE", [41] = "VM-entry failure: machine-check event",
	[43] = "TPR below threshold", [44] = "APIC access", [45] = "virtualized EOI",
	[46] = "GDTR or IDTR access", [47] = "LDTR or TR access", [48] = "EPT violation",
	[49] = "EPT misconfiguration", [50] = "INVEPT", [51] = "RDTSCP",
	[52] = "VMX-preemption timer expired", [53] = "INVVPID", [54] = "WBINVD",
	[55] = "XSETBV", [56] = "APIC write", [57] = "RDRAND", [58] = "INVPCID",
	[59] = "VMFUNC", [60] = "ENCLS", [61] = "RDSEED", [62] = "page-modification log full",
	[63] = "XSAVES", [64] = "XRSTORS", [66] = "SPP-related event", [67] = "UMWAIT",
	[68] = "TPAUSE", [69] = "LOADIWKEY",
};

const char *exit_reason_name(uint32_t reason)
{
	reason &= 0xFFFF;
	if (reason < NR_EXIT_REASONS && reason_names[reason] != NULL)
		return reason_names[reason];
	return "unknown exit reason";
}

// The host takes its own interrupts: with interrupts on for an instant,
// the one that caused the exit (still pending at the local APIC) is
// delivered through the host's IDT.
static void handle_external_interrupt(struct vcpu *v)
{
	(void)v;
	asm volatile("sti; nop; cli" ::: "memory");
}

static void handle_triple_fault(struct vcpu *v)
{
	printk("vcpu %d: the guest triple-faulted at rip 0x%lx\n", v->id, vmcs_readnat(GUEST_RIP));
	vcpu_stop(v, "triple fault");
}

// CPUID returns what the host chooses: the host's values, with VMX
// hidden and the hypervisor bit set in leaf 1, and the hypervisor leaf
// 0x40000000: EAX = config.cpuid_value, EBX:ECX:EDX = "TeachOS VMM ".
static void handle_cpuid(struct vcpu *v)
{
	uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
	uint32_t a, b, c, d;

	if (leaf == HYPERVISOR_CPUID_LEAF) {
		static const char signature[12] = "TeachOS VMM ";
		a = v->config.cpuid_value;
		memcpy(&b, signature, 4);
		memcpy(&c, signature + 4, 4);
		memcpy(&d, signature + 8, 4);
	} else {
		cpuid(leaf, sub, &a, &b, &c, &d);
		if (leaf == 1)
			c = (c & ~CPUID_1_ECX_VMX) | CPUID_1_ECX_HYPERVISOR;
	}
	v->regs.rax = a, v->regs.rbx = b, v->regs.rcx = c, v->regs.rdx = d;
	vcpu_skip_instruction(v);
}

static void handle_hlt(struct vcpu *v)
{
	vcpu_skip_instruction(v);
	vcpu_stop(v, "halted");
}

// The virtual serial port: bytes written to COM1's data register form
// lines printed as "guest: ..."; its line status always says "ready".
static void serial_out(struct vcpu *v, char c)
{
	// A full line is printed as it is, and c starts the next one.
	if (c == '\n' || v->output_len == VCPU_OUTPUT_MAX - 1) {
		v->output[v->output_len] = '\0';
		vcpu_trace_flush(v);
		printk("guest: %s\n", v->output);
		v->output_len = 0;
	}
	if (c != '\n')
		v->output[v->output_len++] = c;
}

// Exit qualification of I/O instructions (SDM Vol. 3C 28.2.1, Table
// 28-5): size - 1 in bits 2:0, IN in bit 3, string in bit 4, port in
// bits 31:16.
static void handle_io(struct vcpu *v)
{
	// BEGIN LAB 5 SOLUTION: io_exit
	uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);
	unsigned size = (q & 7) + 1, port = (q >> 16) & 0xFFFF;
	bool in = q & 8, string = q & 16;

	if (string || size != 1) {
		printk("vcpu %d: unsupported I/O: %s%s of %u bytes at port 0x%x\n", v->id,
		       in ? "in" : "out", string ? "s" : "", size, port);
		vcpu_stop(v, "unsupported I/O");
		return;
	}
	if (!in && port == SERIAL_DATA)
		serial_out(v, (char)v->regs.rax);
	else if (in && port == SERIAL_LINE_STATUS)
		v->regs.rax = (v->regs.rax & ~0xFFul) | LSR_TRANSMITTER_EMPTY;
	else if (in)
		v->regs.rax |= 0xFF;            // no device: reads as all ones
	vcpu_skip_instruction(v);
	// STUB:
	// (void)serial_out;
	// vcpu_stop(v, "I/O exits are not handled yet");
	// END LAB 5
}

static void handle_vmcall(struct vcpu *v)
{
	// BEGIN LAB 5 SOLUTION: hypercall
	uint64_t nr = v->regs.rax, a = v->regs.rdi, b = v->regs.rsi;

	vcpu_skip_instruction(v);
	switch (nr) {
	case HC_ADD:
		v->regs.rax = a + b;
		break;
	case HC_PRINT:
		for (uint64_t i = 0; i < b; i++) {
			uint64_t hpa = ept_translate(v->config.ept, a + i);
			if (hpa == (uint64_t)-1) {
				v->regs.rax = (uint64_t)-EFAULT;
				return;
			}
			serial_out(v, *(const char *)P2V(hpa));
		}
		v->regs.rax = b;
		break;
	case HC_EXIT:
		v->exit_status = (int64_t)a;
		vcpu_stop(v, "exited by hypercall");
		break;
	default:
		v->regs.rax = (uint64_t)-ENOSYS;
		break;
	}
	// STUB:
	// vcpu_skip_instruction(v);
	// v->regs.rax = (uint64_t)-ENOSYS;
	// END LAB 5
}

static void inject_gp(struct vcpu *v)
{
	(void)v;
	vmcs_write32(ENTRY_INTERRUPTION_INFO,
		     VECTOR_GP | INJECT_HARDWARE_EXCEPTION | INJECT_ERROR_CODE | INJECT_VALID);
	vmcs_write32(ENTRY_EXCEPTION_ERROR_CODE, 0);
}

// MSRs: the guest may read the TSC; any other MSR access gets a #GP, as
// on a CPU without that MSR.
static void handle_rdmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->regs.rcx;

	if (msr != MSR_TSC) {
		printk("vcpu %d: rdmsr 0x%x: no such MSR for guests, #GP\n", v->id, msr);
		inject_gp(v);
		return;
	}
	uint64_t value = rdtsc();
	v->regs.rax = (uint32_t)value;
	v->regs.rdx = value >> 32;
	vcpu_skip_instruction(v);
}

static void handle_wrmsr(struct vcpu *v)
{
	printk("vcpu %d: wrmsr 0x%x: guests may not write MSRs, #GP\n", v->id, (uint32_t)v->regs.rcx);
	inject_gp(v);
}

// EPT violation qualification (SDM Vol. 3C 28.2.1, Table 28-7): the
// access in bits 2:0 (read, write, fetch), what the entry allowed in bits
// 5:3, a valid guest-linear address in bit 7.
static void handle_ept_violation(struct vcpu *v)
{
	uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);
	uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);

	if (v->config.ept_fault != NULL && v->config.ept_fault(v->config.owner, gpa, q))
		return;
	printk("vcpu %d: EPT violation at guest-physical 0x%lx: %s; the entry allowed %s%s%s%s",
	       v->id, gpa, q & 2 ? "write" : q & 4 ? "instruction fetch" : "read",
	       q & 8 ? "r" : "", q & 16 ? "w" : "", q & 32 ? "x" : "", q & 56 ? "" : "nothing");
	if (q & 128)
		printk(", guest-linear 0x%lx", vmcs_readnat(GUEST_LINEAR_ADDRESS));
	printk("\n");
	vcpu_stop(v, "EPT violation");
}

static void handle_ept_misconfig(struct vcpu *v)
{
	printk("vcpu %d: EPT misconfiguration at guest-physical 0x%lx\n", v->id,
	       vmcs_read64(GUEST_PHYSICAL_ADDRESS));
	vcpu_stop(v, "EPT misconfiguration");
}

// The trace prints a run of identical exits as one line:
// "vmexit: I/O instruction x12".
void vcpu_trace_flush(struct vcpu *v)
{
	if (v->traced_count == 1)
		printk("vmexit: %s\n", exit_reason_name(v->traced_reason));
	else if (v->traced_count > 1)
		printk("vmexit: %s x%lu\n", exit_reason_name(v->traced_reason), v->traced_count);
	v->traced_count = 0;
}

static void trace_exit(struct vcpu *v, uint32_t reason)
{
	if (v->traced_count > 0 && v->traced_reason != reason)
		vcpu_trace_flush(v);
	v->traced_reason = reason;
	v->traced_count++;
}

typedef void (*exit_handler)(struct vcpu *v);

static const exit_handler handlers[NR_EXIT_REASONS] = {
	[1] = handle_external_interrupt,
	[2] = handle_triple_fault,
	[10] = handle_cpuid,
	[12] = handle_hlt,
	[18] = handle_vmcall,
	[30] = handle_io,
	[31] = handle_rdmsr,
	[32] = handle_wrmsr,
	[48] = handle_ept_violation,
	[49] = handle_ept_misconfig,
};

void vmx_handle_exit(struct vcpu *v)
{
	uint32_t reason = vmcs_read32(EXIT_REASON);
	uint32_t basic = reason & 0xFFFF;

	if (reason & EXIT_REASON_ENTRY_FAILED) {
		vcpu_trace_flush(v);
		printk("vcpu %d: VM entry failed: %s (exit reason 0x%x), qualification 0x%lx\n",
		       v->id, exit_reason_name(basic), reason, vmcs_readnat(EXIT_QUALIFICATION));
		vmcs_dump();
		vcpu_stop(v, "VM entry failed");
		return;
	}
	if (v->config.trace && basic != 1)
		trace_exit(v, basic);
	if (basic < NR_EXIT_REASONS && handlers[basic] != NULL) {
		handlers[basic](v);
		if (v->stopped)
			vcpu_trace_flush(v);
		return;
	}
	vcpu_trace_flush(v);
	printk("vcpu %d: no handler for exit %u (%s), qualification 0x%lx, guest rip 0x%lx\n",
	       v->id, basic, exit_reason_name(basic), vmcs_readnat(EXIT_QUALIFICATION),
	       vmcs_readnat(GUEST_RIP));
	vmcs_dump();
	vcpu_stop(v, "unhandled exit");
}
