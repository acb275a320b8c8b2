// Emulated device registers (MMIO): the decoder of the instruction that
// touched one. A register page of an emulated device is never mapped,
// so an access to it faults: a not-present page fault for a native
// process (trap/trap.c), an EPT violation for a Dune process
// (vmx/dune). Either path fetches the instruction bytes at the faulting
// RIP, decodes them here, and has the device read or write the value;
// the register file differs (a trapframe, a vCPU's registers), the
// decoding does not. This is what KVM does for MMIO (arch/x86/kvm/emulate.c),
// for the few instructions a driver uses on registers: MOV to and from a
// general register (8B, 89, 8A, 88, and 66/REX.W forms), MOV of an
// immediate (C7, C6), MOVZX (0F B6, 0F B7). Any other instruction is not
// decoded, and the access is a fault of the program.

#ifndef KERNEL_TRAP_MMIO_H
#define KERNEL_TRAP_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/trapframe.h"

#define MMIO_INSN_MAX 15        // the longest x86 instruction (SDM Vol. 2A 2.3.11)

// A decoded access. Registers are numbered as in ModRM/REX (SDM Vol. 2A
// 2.1.5): 0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15.
struct mmio_insn {
	uint8_t len;            // bytes of the instruction, to step RIP past it
	uint8_t width;          // bytes accessed: 1, 2, 4 or 8
	bool write;             // a store to the device
	bool has_imm;           // a store of imm (MOV imm), not of a register
	uint8_t reg;            // the register stored, or loaded into
	uint8_t dest_width;     // a load: bytes of reg written (8 for a 32-bit load, which zero-extends)
	uint64_t imm;
};

// Decodes the instruction in code[0..avail). Returns 0, or -EINVAL if it
// is not one of the forms above (or avail is too short for it).
int mmio_decode(const uint8_t *code, size_t avail, struct mmio_insn *insn);

// The value a store writes, given the register file regs[16] (numbered
// as above), cut to insn->width bytes.
uint64_t mmio_store_value(const struct mmio_insn *insn, const uint64_t regs[16]);
// Puts value, read from the device, into regs as a load does: an 8- or
// 16-bit MOV keeps the register's other bits, a 32-bit MOV or MOVZX
// clears the upper ones.
void mmio_load_value(const struct mmio_insn *insn, uint64_t regs[16], uint64_t value);

struct mmio_region;

// The whole emulation of one access, for either path: the access of the
// current process at addr, inside region r (mm/devmem.h), a write or a
// read as the fault said, by the instruction at user address rip, with
// the registers regs[16] (numbered as above). Fetches and decodes the
// instruction, checks that it is an access of that kind that stays in
// the region, has the device do it, updates regs and counts the access
// (struct proc's mmio_accesses, SYS_mmio_count) and the ticks the device
// took (device_ticks). Returns the
// instruction's length (the caller steps RIP past it), or -EINVAL after
// a line that names the process, the address and the instruction's
// bytes: then the access is the process's fault. (trap/mmio_emulate.c)
int mmio_emulate(const struct mmio_region *r, uint64_t addr, bool write, uint64_t rip,
		 uint64_t regs[16]);

// The trapframe's registers in that numbering, and back.
void mmio_regs_from_trapframe(const struct trapframe *tf, uint64_t regs[16]);
void mmio_regs_to_trapframe(const uint64_t regs[16], struct trapframe *tf);

#endif
