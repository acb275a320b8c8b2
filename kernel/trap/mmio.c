// The MMIO instruction decoder (trap/mmio.h). It finds what an access to
// a device register moves and how long the instruction is; the address
// comes from the fault (CR2, or the EPT violation's guest address), so
// the ModRM, SIB and displacement bytes are only counted, never used.
// Encodings: SDM Vol. 2A 2.1 (prefixes, ModRM, SIB), 2.2.1 (REX), and
// the MOV and MOVZX pages of Vol. 2B.

#include "lib/errno.h"
#include "trap/mmio.h"

#define PREFIX_OPSIZE 0x66
#define REX_W 0x8
#define REX_R 0x4

// The fetched bytes and how far decoding got.
struct cursor {
	const uint8_t *code;
	size_t avail, pos;
};

// The next byte into *b; false past the end of what was fetched or
// beyond the longest instruction.
static bool next_byte(struct cursor *c, uint8_t *b)
{
	if (c->pos >= c->avail || c->pos >= MMIO_INSN_MAX)
		return false;
	*b = c->code[c->pos++];
	return true;
}

static bool skip(struct cursor *c, size_t n)
{
	if (c->pos + n > c->avail || c->pos + n > MMIO_INSN_MAX)
		return false;
	c->pos += n;
	return true;
}

// Reads ModRM and steps over the SIB and displacement it calls for.
// *reg gets ModRM.reg extended by REX.R. Fails for a register operand
// (mod 3), which touches no memory.
static bool memory_operand(struct cursor *c, uint8_t rex, uint8_t *reg)
{
	// BEGIN LAB 9 SOLUTION: mmio_operand
	uint8_t modrm, sib;

	if (!next_byte(c, &modrm))
		return false;
	uint8_t mod = modrm >> 6, rm = modrm & 7;
	*reg = ((modrm >> 3) & 7) | (rex & REX_R ? 8 : 0);
	if (mod == 3)
		return false;
	size_t disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (rm == 4) {
		if (!next_byte(c, &sib))
			return false;
		// No base register: a 32-bit displacement instead.
		if (mod == 0 && (sib & 7) == 5)
			disp = 4;
	} else if (mod == 0 && rm == 5) {
		disp = 4;       // RIP-relative
	}
	return skip(c, disp);
	// STUB:
	// (void)c, (void)rex, (void)reg;
	// return false;
	// END LAB 9
}

// Reads an immediate of n bytes (little-endian); a 4-byte one with
// REX.W is sign-extended to 64 bits, as C7 does.
static bool immediate(struct cursor *c, size_t n, bool sign_extend, uint64_t *imm)
{
	if (!skip(c, n))
		return false;
	*imm = 0;
	for (size_t i = 0; i < n; i++)
		*imm |= (uint64_t)c->code[c->pos - n + i] << (8 * i);
	if (sign_extend && (*imm & 0x80000000u))
		*imm |= 0xFFFFFFFF00000000ul;
	return true;
}

int mmio_decode(const uint8_t *code, size_t avail, struct mmio_insn *insn)
{
	struct cursor c = { code, avail, 0 };
	bool opsize16 = false;
	uint8_t rex = 0, op;

	*insn = (struct mmio_insn){ 0 };
	for (;;) {
		if (!next_byte(&c, &op))
			return -EINVAL;
		if (op != PREFIX_OPSIZE)
			break;
		opsize16 = true;
	}
	// REX counts only right before the opcode (SDM Vol. 2A 2.2.1).
	if ((op & 0xF0) == 0x40) {
		rex = op;
		if (!next_byte(&c, &op))
			return -EINVAL;
	}
	int opwidth = rex & REX_W ? 8 : opsize16 ? 2 : 4;
	int width, dest_width;

	switch (op) {
	case 0x88: case 0x8A: case 0xC6:        // 8-bit MOV
		width = dest_width = 1;
		break;
	case 0x89: case 0x8B: case 0xC7:
		width = opwidth;
		dest_width = opwidth == 2 ? 2 : 8;      // a 32-bit load clears bits 63:32
		break;
	case 0x0F:                              // MOVZX
		if (!next_byte(&c, &op) || (op != 0xB6 && op != 0xB7))
			return -EINVAL;
		width = op == 0xB6 ? 1 : 2;
		dest_width = opwidth == 2 ? 2 : 8;
		break;
	default:
		return -EINVAL;
	}
	if (!memory_operand(&c, rex, &insn->reg))
		return -EINVAL;
	// Without REX, byte registers 4-7 are AH, CH, DH, BH, which the
	// 0-15 numbering cannot name.
	if ((op == 0x88 || op == 0x8A) && rex == 0 && insn->reg >= 4)
		return -EINVAL;
	if (op == 0xC6 || op == 0xC7) {
		if ((insn->reg & 7) != 0)       // C6 /0 and C7 /0 only
			return -EINVAL;
		insn->reg = 0;
		insn->has_imm = true;
		if (!immediate(&c, width == 8 ? 4 : width, width == 8, &insn->imm))
			return -EINVAL;
	}
	insn->len = (uint8_t)c.pos;
	insn->width = (uint8_t)width;
	insn->write = op == 0x88 || op == 0x89 || op == 0xC6 || op == 0xC7;
	insn->dest_width = insn->write ? 0 : (uint8_t)dest_width;
	return 0;
}

// The low `width` bytes of v.
static uint64_t low_bytes(uint64_t v, int width)
{
	return width == 8 ? v : v & ((1ul << (8 * width)) - 1);
}

uint64_t mmio_store_value(const struct mmio_insn *insn, const uint64_t regs[16])
{
	return low_bytes(insn->has_imm ? insn->imm : regs[insn->reg], insn->width);
}

void mmio_load_value(const struct mmio_insn *insn, uint64_t regs[16], uint64_t value)
{
	// BEGIN LAB 9 SOLUTION: mmio_operand
	uint64_t v = low_bytes(value, insn->width);

	if (insn->dest_width == 8)
		regs[insn->reg] = v;
	else
		regs[insn->reg] = (regs[insn->reg] & ~low_bytes(~0ul, insn->dest_width)) | v;
	// STUB:
	// (void)insn, (void)regs, (void)value;
	// END LAB 9
}

void mmio_regs_from_trapframe(const struct trapframe *tf, uint64_t regs[16])
{
	const uint64_t r[16] = {
		tf->rax, tf->rcx, tf->rdx, tf->rbx, tf->rsp, tf->rbp, tf->rsi, tf->rdi,
		tf->r8, tf->r9, tf->r10, tf->r11, tf->r12, tf->r13, tf->r14, tf->r15,
	};

	for (int i = 0; i < 16; i++)
		regs[i] = r[i];
}

void mmio_regs_to_trapframe(const uint64_t regs[16], struct trapframe *tf)
{
	uint64_t *const r[16] = {
		&tf->rax, &tf->rcx, &tf->rdx, &tf->rbx, &tf->rsp, &tf->rbp, &tf->rsi, &tf->rdi,
		&tf->r8, &tf->r9, &tf->r10, &tf->r11, &tf->r12, &tf->r13, &tf->r14, &tf->r15,
	};

	for (int i = 0; i < 16; i++)
		*r[i] = regs[i];
}
