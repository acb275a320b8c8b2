// Host-side test of kernel/trap/mmio.c: the instructions a driver's
// register accesses compile to (the bytes are what gcc -O2 emits for
// volatile uint8_t/16/32/64 loads and stores, and what the assembler
// makes of the other addressing forms), decoded field by field; loads
// and stores through the register file; and the instructions the
// decoder must refuse. Built with the host compiler (make host-tests).

#include <stdio.h>

#include "lib/errno.h"
#include "trap/mmio.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

struct decode_case {
	const char *text;       // the instruction, as objdump prints it
	uint8_t bytes[MMIO_INSN_MAX];
	struct mmio_insn want;
};

#define LOAD(len_, width_, reg_, dest_) { .len = len_, .width = width_, .reg = reg_, .dest_width = dest_ }
#define STORE(len_, width_, reg_) { .len = len_, .width = width_, .write = true, .reg = reg_ }
#define STORE_IMM(len_, width_, imm_) \
	{ .len = len_, .width = width_, .write = true, .has_imm = true, .imm = imm_ }

static const struct decode_case decode_cases[] = {
	{ "mov 0x8(%rdi),%eax", { 0x8b, 0x47, 0x08 }, LOAD(3, 4, RAX, 8) },
	{ "mov 0x1000(%rdi),%rax", { 0x48, 0x8b, 0x87, 0x00, 0x10, 0x00, 0x00 }, LOAD(7, 8, RAX, 8) },
	{ "movzbl 0x1(%rdi),%eax", { 0x0f, 0xb6, 0x47, 0x01 }, LOAD(4, 1, RAX, 8) },
	{ "movzwl 0x6(%rdi),%eax", { 0x0f, 0xb7, 0x47, 0x06 }, LOAD(4, 2, RAX, 8) },
	{ "mov %esi,0x40(%rdi)", { 0x89, 0x77, 0x40 }, STORE(3, 4, RSI) },
	{ "mov %rsi,(%rdi)", { 0x48, 0x89, 0x37 }, STORE(3, 8, RSI) },
	{ "mov %sil,0x5(%rdi)", { 0x40, 0x88, 0x77, 0x05 }, STORE(4, 1, RSI) },
	{ "mov %si,0x200(%rdi)", { 0x66, 0x89, 0xb7, 0x00, 0x02, 0x00, 0x00 }, STORE(7, 2, RSI) },
	{ "movl $0xdeadbeef,0x2200(%rdi)",
	  { 0xc7, 0x87, 0x00, 0x22, 0x00, 0x00, 0xef, 0xbe, 0xad, 0xde },
	  STORE_IMM(10, 4, 0xdeadbeef) },
	{ "movb $0x7f,(%rdi)", { 0xc6, 0x07, 0x7f }, STORE_IMM(3, 1, 0x7f) },
	{ "movw $0x1234,(%rdi)", { 0x66, 0xc7, 0x07, 0x34, 0x12 }, STORE_IMM(5, 2, 0x1234) },
	{ "movq $0xfffffffffffffffe,(%rdi)", { 0x48, 0xc7, 0x07, 0xfe, 0xff, 0xff, 0xff },
	  STORE_IMM(7, 8, 0xfffffffffffffffe) },
	{ "mov (%rdi,%rsi,4),%eax", { 0x8b, 0x04, 0xb7 }, LOAD(3, 4, RAX, 8) },
	{ "mov %edx,0x10(%rdi,%rsi,4)", { 0x89, 0x54, 0xb7, 0x10 }, STORE(4, 4, RDX) },
	{ "mov 0x0(%rip),%eax", { 0x8b, 0x05, 0x00, 0x00, 0x00, 0x00 }, LOAD(6, 4, RAX, 8) },
	{ "mov 0x4(%r12),%eax", { 0x41, 0x8b, 0x44, 0x24, 0x04 }, LOAD(5, 4, RAX, 8) },
	{ "mov 0x0(%r13),%r9", { 0x4d, 0x8b, 0x4d, 0x00 }, LOAD(4, 8, R9, 8) },
	{ "mov %r15d,0x1234(%rbx,%r14,8)", { 0x46, 0x89, 0xbc, 0xf3, 0x34, 0x12, 0x00, 0x00 },
	  STORE(8, 4, R15) },
	{ "mov 0x10(%rsp),%r11d", { 0x44, 0x8b, 0x5c, 0x24, 0x10 }, LOAD(5, 4, R11, 8) },
	{ "mov %r8w,0x2(%rax)", { 0x66, 0x44, 0x89, 0x40, 0x02 }, STORE(5, 2, R8) },
	{ "mov 0x2(%rax),%r10w", { 0x66, 0x44, 0x8b, 0x50, 0x02 }, LOAD(5, 2, R10, 2) },
	{ "mov %cl,(%rdx)", { 0x88, 0x0a }, STORE(2, 1, RCX) },
	{ "mov (%rdx),%bl", { 0x8a, 0x1a }, LOAD(2, 1, RBX, 1) },
	{ "mov (%rdx),%r8b", { 0x44, 0x8a, 0x02 }, LOAD(3, 1, R8, 1) },
	{ "movzbq (%rdx),%rcx", { 0x48, 0x0f, 0xb6, 0x0a }, LOAD(4, 1, RCX, 8) },
	{ "movzwq 0x8(%rbp),%r14", { 0x4c, 0x0f, 0xb7, 0x75, 0x08 }, LOAD(5, 2, R14, 8) },
	{ "movzbw (%rdx),%ax", { 0x66, 0x0f, 0xb6, 0x02 }, LOAD(4, 1, RAX, 2) },
	{ "mov 0x100(,%rcx,8),%eax", { 0x8b, 0x04, 0xcd, 0x00, 0x01, 0x00, 0x00 }, LOAD(7, 4, RAX, 8) },
	{ "movl $0x1,0x12345678(%r8,%r9,2)",
	  { 0x43, 0xc7, 0x84, 0x48, 0x78, 0x56, 0x34, 0x12, 0x01, 0x00, 0x00, 0x00 },
	  STORE_IMM(12, 4, 1) },
	{ "mov %rdi,0x7f(%rip)", { 0x48, 0x89, 0x3d, 0x7f, 0x00, 0x00, 0x00 }, STORE(7, 8, RDI) },
};

struct reject_case {
	const char *text;
	uint8_t bytes[MMIO_INSN_MAX + 1];
	size_t len;
};

static const struct reject_case reject_cases[] = {
	{ "add %eax,(%rdi)", { 0x01, 0x07 }, 2 },
	{ "mov %eax,%ebx (no memory operand)", { 0x89, 0xc3 }, 2 },
	{ "lock incl (%rdi)", { 0xf0, 0xff, 0x07 }, 3 },
	{ "mov %ah,(%rdx)", { 0x88, 0x22 }, 2 },
	{ "mov (%rdx),%bh", { 0x8a, 0x3a }, 2 },
	{ "c7 /1 (no such MOV)", { 0xc7, 0x0f, 0x01, 0x00, 0x00, 0x00 }, 6 },
	{ "addr32 mov (%edi),%eax", { 0x67, 0x8b, 0x07 }, 3 },
	{ "movsbl (%rdi),%eax (sign-extends)", { 0x0f, 0xbe, 0x07 }, 3 },
	{ "REX then 66", { 0x48, 0x66, 0x8b, 0x07 }, 4 },
	{ "sixteen bytes: 66 x 13, mov 0x8(%rdi),%ax",
	  { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x8b, 0x47, 0x08 }, 16 },
	{ "nothing", { 0 }, 0 },
};

static int failures;

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			printf(__VA_ARGS__);                                    \
			printf("\n");                                           \
			failures++;                                             \
		}                                                               \
	} while (0)

static void check_decode(const struct decode_case *c)
{
	struct mmio_insn got;
	int err = mmio_decode(c->bytes, sizeof(c->bytes), &got);
	const struct mmio_insn *w = &c->want;

	CHECK(err == 0, "%s: not decoded (%d)", c->text, err);
	if (err != 0)
		return;
	CHECK(got.len == w->len && got.width == w->width && got.write == w->write &&
	      got.has_imm == w->has_imm && got.reg == w->reg && got.dest_width == w->dest_width &&
	      got.imm == w->imm,
	      "%s: got len %u width %u write %d imm? %d reg %u dest %u imm 0x%lx, "
	      "want len %u width %u write %d imm? %d reg %u dest %u imm 0x%lx", c->text,
	      got.len, got.width, got.write, got.has_imm, got.reg, got.dest_width, got.imm,
	      w->len, w->width, w->write, w->has_imm, w->reg, w->dest_width, w->imm);
	// Exactly its bytes suffice (the fault fetched no more, at the end
	// of a page), and any fewer do not.
	CHECK(mmio_decode(c->bytes, w->len, &got) == 0, "%s: not decoded from its %u bytes",
	      c->text, w->len);
	for (size_t n = 0; n < w->len; n++)
		CHECK(mmio_decode(c->bytes, n, &got) == -EINVAL, "%s: decoded from %zu of %u bytes",
		      c->text, n, w->len);
}

static void check_reject(const struct reject_case *c)
{
	struct mmio_insn got;

	CHECK(mmio_decode(c->bytes, c->len, &got) == -EINVAL, "%s: decoded, should be refused",
	      c->text);
}

static struct mmio_insn decoded(const uint8_t *bytes, size_t len)
{
	struct mmio_insn insn;

	if (mmio_decode(bytes, len, &insn) != 0) {
		printf("decoded: the fixed instruction was refused\n");
		failures++;
	}
	return insn;
}

// Loads and stores through the register file keep or clear the bits of
// the destination as the CPU does.
static void check_values(void)
{
	uint64_t regs[16];

	for (int i = 0; i < 16; i++)
		regs[i] = 0x1111111111111111ul * (uint64_t)(i + 1);

	struct mmio_insn ld32 = decoded((const uint8_t[]){ 0x44, 0x8b, 0x5c, 0x24, 0x10 }, 5);
	mmio_load_value(&ld32, regs, 0xAABBCCDDEEFF0011ul);
	CHECK(regs[R11] == 0xEEFF0011ul, "32-bit load: r11 0x%lx, want 0xeeff0011", regs[R11]);

	struct mmio_insn ld16 = decoded((const uint8_t[]){ 0x66, 0x44, 0x8b, 0x50, 0x02 }, 5);
	mmio_load_value(&ld16, regs, 0xFFFF1234ul);
	CHECK(regs[R10] == 0xBBBBBBBBBBBB1234ul, "16-bit load: r10 0x%lx", regs[R10]);

	struct mmio_insn ld8 = decoded((const uint8_t[]){ 0x8a, 0x1a }, 2);
	mmio_load_value(&ld8, regs, 0x1FE);
	CHECK(regs[RBX] == 0x44444444444444FEul, "8-bit load: rbx 0x%lx", regs[RBX]);

	struct mmio_insn zx = decoded((const uint8_t[]){ 0x48, 0x0f, 0xb6, 0x0a }, 4);
	mmio_load_value(&zx, regs, 0x3C5);
	CHECK(regs[RCX] == 0xC5, "movzbq: rcx 0x%lx", regs[RCX]);

	struct mmio_insn zx16 = decoded((const uint8_t[]){ 0x66, 0x0f, 0xb6, 0x02 }, 4);
	mmio_load_value(&zx16, regs, 0x80);
	CHECK(regs[RAX] == 0x1111111111110080ul, "movzbw: rax 0x%lx", regs[RAX]);

	struct mmio_insn ld64 = decoded((const uint8_t[]){ 0x4d, 0x8b, 0x4d, 0x00 }, 4);
	mmio_load_value(&ld64, regs, 0x0123456789ABCDEFul);
	CHECK(regs[R9] == 0x0123456789ABCDEFul, "64-bit load: r9 0x%lx", regs[R9]);

	struct mmio_insn st8 = decoded((const uint8_t[]){ 0x40, 0x88, 0x77, 0x05 }, 4);
	CHECK(mmio_store_value(&st8, regs) == 0x77, "8-bit store of rsi: 0x%lx",
	      mmio_store_value(&st8, regs));
	struct mmio_insn st16 = decoded((const uint8_t[]){ 0x66, 0x44, 0x89, 0x40, 0x02 }, 5);
	CHECK(mmio_store_value(&st16, regs) == 0x9999, "16-bit store of r8: 0x%lx",
	      mmio_store_value(&st16, regs));
	struct mmio_insn st32 = decoded((const uint8_t[]){ 0x89, 0x54, 0xb7, 0x10 }, 4);
	CHECK(mmio_store_value(&st32, regs) == 0x33333333, "32-bit store of rdx: 0x%lx",
	      mmio_store_value(&st32, regs));
	struct mmio_insn sti = decoded((const uint8_t[]){ 0x48, 0xc7, 0x07, 0xfe, 0xff, 0xff, 0xff }, 7);
	CHECK(mmio_store_value(&sti, regs) == 0xFFFFFFFFFFFFFFFEul, "movq $-2: 0x%lx",
	      mmio_store_value(&sti, regs));
}

// The numbering of mmio.h against the trapframe's fields, both ways.
static void check_trapframe(void)
{
	struct trapframe tf = {
		.rax = 0, .rcx = 1, .rdx = 2, .rbx = 3, .rsp = 4, .rbp = 5, .rsi = 6, .rdi = 7,
		.r8 = 8, .r9 = 9, .r10 = 10, .r11 = 11, .r12 = 12, .r13 = 13, .r14 = 14, .r15 = 15,
		.rip = 0x400000,
	};
	struct trapframe back = { .rip = 0x400000 };
	uint64_t regs[16];

	mmio_regs_from_trapframe(&tf, regs);
	for (int i = 0; i < 16; i++)
		CHECK(regs[i] == (uint64_t)i, "trapframe: register %d holds %lu", i, regs[i]);
	mmio_regs_to_trapframe(regs, &back);
	// Every field is a uint64_t: compare them as an array.
	const uint64_t *a = (const uint64_t *)&tf, *b = (const uint64_t *)&back;
	for (size_t i = 0; i < sizeof(tf) / sizeof(uint64_t); i++)
		CHECK(a[i] == b[i], "trapframe: the round trip changed word %zu", i);
}

int main(void)
{
	size_t ndecode = sizeof(decode_cases) / sizeof(decode_cases[0]);
	size_t nreject = sizeof(reject_cases) / sizeof(reject_cases[0]);

	for (size_t i = 0; i < ndecode; i++)
		check_decode(&decode_cases[i]);
	for (size_t i = 0; i < nreject; i++)
		check_reject(&reject_cases[i]);
	check_values();
	check_trapframe();
	if (failures > 0) {
		printf("mmio_test: %d checks failed\n", failures);
		return 1;
	}
	printf("mmio_test: %zu instructions decoded, %zu refused, loads and stores ok\n",
	       ndecode, nreject);
	return 0;
}
