#include <stddef.h>

#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "debug/panic.h"
#include "lib/string.h"


_Static_assert(offsetof(struct cpu, kernel_rsp) == CPU_KERNEL_RSP, "CPU_KERNEL_RSP");
_Static_assert(offsetof(struct cpu, user_rsp) == CPU_USER_RSP, "CPU_USER_RSP");

struct cpu cpus[MAX_CPUS];
int ncpus = 1;

// A 64-bit TSS descriptor takes two GDT slots (SDM Vol. 3A 8.2.3,
// Figure 8-4): type 9 (available TSS), present, base and limit split up.
static void set_tss_descriptor(uint64_t *slot, const struct tss *tss)
{
	uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;

	slot[0] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
		  ((limit >> 16 & 0xF) << 48) | ((base >> 24 & 0xFF) << 56);
	slot[1] = base >> 32;
}

static void load_gdt(struct cpu *c)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} ptr = { sizeof(c->gdt) - 1, (uint64_t)c->gdt };

	asm volatile("lgdt %0" : : "m"(ptr));
	// Reload CS with a far return, then the data segments.
	asm volatile("pushq %0\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "movw %w1, %%ds\n\t"
		     "movw %w1, %%es\n\t"
		     "movw %w1, %%ss"
		     : : "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA) : "rax", "memory");
	asm volatile("ltr %w0" : : "r"(GDT_TSS));
}

void cpu_init(struct cpu *c, int id)
{
	// Caches on: a CPU leaves INIT with CD and NW set (SDM Vol. 3A
	// 10.1.1, Table 10-1), and not every firmware clears them.
	write_cr0(read_cr0() & ~(uint64_t)(CR0_CD | CR0_NW));
	c->self = c;
	c->id = id;
	c->gdt[0] = 0;
	c->gdt[GDT_KERNEL_CODE / 8] = GDT_DESC_KERNEL_CODE64;
	c->gdt[GDT_KERNEL_DATA / 8] = GDT_DESC_KERNEL_DATA;
	c->gdt[GDT_USER_DATA / 8] = GDT_DESC_USER_DATA;
	c->gdt[GDT_USER_CODE / 8] = GDT_DESC_USER_CODE64;
	set_tss_descriptor(&c->gdt[GDT_TSS / 8], &c->tss);
	memset(&c->tss, 0, sizeof(c->tss));
	for (int i = 0; i < IST_STACKS; i++)
		c->tss.ist[i] = (uint64_t)c->ist_stacks[i] + IST_STACK_SIZE;
	c->tss.iomap_base = sizeof(c->tss);     // no I/O permission bitmap
	load_gdt(c);

	// GS: the kernel's (this CPU) now, the user's (0) swapped in on the
	// way to user mode.
	asm volatile("movw %w0, %%gs" : : "r"(0));
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

void cpu_set_kernel_stack(struct cpu *c, uint64_t rsp)
{
	c->tss.rsp[0] = rsp;
	c->kernel_rsp = rsp;
}

// Turns interrupts off (cli) and counts one more level in c->ncli; the
// outermost call (ncli was 0) records in c->interrupts_were_on whether
// they were on before it (RFLAGS.IF, SDM Vol. 1 3.4.3.3), an inner one
// leaves that alone: it would only ever see them off.
void push_cli(void)
{
	bool on = read_rflags() & RFLAGS_IF;

	cli();
	struct cpu *c = this_cpu();
	// BEGIN LAB 4 SOLUTION: push_cli
	if (c->ncli++ == 0)
		c->interrupts_were_on = on;
	// STUB:
	// static bool said;       // printk takes a lock: it nests a push_cli too
	// if (c->ncli++ > 0 && !said) {
	// 	said = true;
	// 	printk("LAB 4: push_cli not written: a nested push_cli forgets the outer state\n");
	// }
	// c->interrupts_were_on = on;
	// END LAB 4
}

// Undoes one push_cli: counts one level down; interrupts come back on
// (sti) only when the count reaches 0 and they were on before the
// outermost push_cli.
void pop_cli(void)
{
	struct cpu *c = this_cpu();

	if (read_rflags() & RFLAGS_IF)
		panic("pop_cli: interrupts are on inside a push_cli section");
	if (c->ncli <= 0)
		panic("pop_cli: cpu %d has no push_cli to undo", c->id);
	// BEGIN LAB 4 SOLUTION: push_cli
	if (--c->ncli == 0 && c->interrupts_were_on)
		sti();
	// STUB:
	// c->ncli--;
	// if (c->interrupts_were_on)
	// 	sti();
	// END LAB 4
}
