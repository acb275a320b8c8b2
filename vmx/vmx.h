// VMX operation (SDM Vol. 3C chapters 24-33): what this CPU can do, and
// entering and leaving VMX root operation.

#ifndef VMX_VMX_H
#define VMX_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/regs.h"

// Pin-based controls (SDM Vol. 3C 25.6.1)
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define PIN_NMI_EXITING                (1u << 3)
#define PIN_PREEMPTION_TIMER           (1u << 6)
// Primary processor-based controls (25.6.2)
#define PROC_HLT_EXITING               (1u << 7)
#define PROC_CR3_LOAD_EXITING          (1u << 15)
#define PROC_CR3_STORE_EXITING         (1u << 16)
#define PROC_UNCONDITIONAL_IO_EXITING  (1u << 24)
#define PROC_USE_MSR_BITMAPS           (1u << 28)
#define PROC_SECONDARY_CONTROLS        (1u << 31)
// Secondary processor-based controls (25.6.2)
#define PROC2_ENABLE_EPT               (1u << 1)
#define PROC2_ENABLE_VPID              (1u << 5)
#define PROC2_UNRESTRICTED_GUEST       (1u << 7)
// VM-exit controls (25.7.1)
#define EXIT_HOST_ADDRESS_SPACE_SIZE   (1u << 9)
#define EXIT_SAVE_IA32_EFER            (1u << 20)
#define EXIT_LOAD_IA32_EFER            (1u << 21)
// VM-entry controls (25.8.1)
#define ENTRY_IA32E_MODE_GUEST         (1u << 9)
#define ENTRY_LOAD_IA32_EFER           (1u << 15)

// IA32_VMX_EPT_VPID_CAP bits (SDM Vol. 3D A.10)
#define EPT_CAP_WALK_LENGTH_4   (1ull << 6)
#define EPT_CAP_WB              (1ull << 14)
#define EPT_CAP_2MB_PAGES       (1ull << 16)
#define EPT_CAP_INVEPT          (1ull << 20)
#define EPT_CAP_ACCESSED_DIRTY  (1ull << 21)
#define EPT_CAP_INVEPT_SINGLE   (1ull << 25)
#define VPID_CAP_INVVPID        (1ull << 32)
#define VPID_CAP_INVVPID_SINGLE (1ull << 41)

struct vmx_caps {
	uint32_t revision;              // VMCS revision identifier
	bool true_controls;             // IA32_VMX_TRUE_*_CTLS exist
	uint64_t ept_vpid;              // IA32_VMX_EPT_VPID_CAP (0 without EPT)
	bool ept, vpid, unrestricted_guest;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	bool preemption_timer;          // the VMX-preemption timer exists
	int preemption_timer_shift;     // it counts down every 2^shift TSC cycles
};

extern struct vmx_caps vmx_caps;

// Reads the capabilities (on the boot CPU). Returns 0, or -ENOSYS after
// saying why this CPU cannot run guests (no VMX, VMX locked off by the
// firmware, no EPT).
int vmx_init(void);

// Enters VMX root operation on this CPU: IA32_FEATURE_CONTROL, the CR0
// and CR4 fixed bits, VMXON. Returns 0 or -ENOSYS with a message.
int vmx_enable_cpu(void);
// VMXOFF on this CPU.
void vmx_disable_cpu(void);
// VMX root operation on every running CPU, so that a vCPU may run on any
// of them; returns 0, or -ENOSYS if a CPU could not (each said why).
int vmx_enable_all(void);
// VMXOFF on every running CPU.
void vmx_disable_all(void);
// True between a vmx_enable_all that succeeded and vmx_disable_all: a
// vCPU may run on any CPU.
extern bool vmx_running;

// The value of a VMX control field: `wanted` adjusted by the capability
// MSR (the TRUE_ one where it exists): bits the CPU requires are added;
// a wanted bit the CPU cannot set is reported by its name in `names`
// (indexed by bit) and counted in *missing.
uint32_t vmx_adjust_controls(const char *what, uint32_t msr, uint32_t true_msr,
			     uint32_t wanted, const char *const names[32], int *missing);
// The same from the capability MSR's value caps (bits 31:0 the allowed
// 0-settings, 63:32 the allowed 1-settings), whatever CPU it came from.
uint32_t vmx_control_value(const char *what, uint64_t caps, uint32_t wanted,
			   const char *const names[32], int *missing);

#endif
