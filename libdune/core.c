// libdune's core (dune.h): entering Dune mode, the descriptor tables of
// each thread, exception and system-call dispatch, output.

#include <stdarg.h>

#include "arch/regs.h"
#include "internal.h"
#include "lib/errno.h"
#include "lib/printfmt.h"
#include "lib/string.h"
#include "lib/sysnum.h"

struct __attribute__((packed)) gate {
	uint16_t offset_low, selector;
	uint8_t ist, type_attr;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
};

struct __attribute__((packed)) table_register {
	uint16_t limit;
	uint64_t base;
};

// Each thread's GDT starts as this one; entry 5-6 is its own TSS.
static const uint64_t gdt_template[7] = {
	0,
	0x00AF9A000000FFFFul,   // 0x08: kernel code, 64-bit
	0x00CF92000000FFFFul,   // 0x10: kernel data
	0x00CFF2000000FFFFul,   // 0x18: user data (DPL 3)
	0x00AFFA000000FFFFul,   // 0x20: user code, 64-bit (DPL 3)
	0, 0,                   // 0x28: the TSS (16 bytes)
};

static struct gate idt[256] __attribute__((aligned(16)));
static bool initialized;

static dune_pgflt_cb pgflt_cb;
static dune_intr_cb intr_cbs[256];
static dune_syscall_cb syscall_cb;

int dune_cpl(void)
{
	uint16_t cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

int64_t dune_vmcall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	int64_t ret;

	if (dune_cpl() == 0)
		asm volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1), "d"(a2) : "memory");
	else
		asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
			     : "rcx", "r11", "memory");
	return ret;
}

void dune_passthrough_syscall(struct dune_tf *tf)
{
	register uint64_t r10 asm("r10") = tf->r10;
	register uint64_t r8 asm("r8") = tf->r8;
	register uint64_t r9 asm("r9") = tf->r9;
	int64_t ret;

	asm volatile("vmcall" : "=a"(ret) : "a"(tf->rax), "D"(tf->rdi), "S"(tf->rsi), "d"(tf->rdx),
		     "r"(r10), "r"(r8), "r"(r9) : "memory");
	tf->rax = (uint64_t)ret;
}

// -- output --

struct out {
	char buf[256];
	size_t n;
};

static void flush(struct out *o)
{
	if (o->n > 0)
		dune_vmcall(SYS_write, 1, (uint64_t)o->buf, o->n);
	o->n = 0;
}

static void putch(int c, void *arg)
{
	struct out *o = arg;

	if (o->n == sizeof(o->buf))
		flush(o);
	o->buf[o->n++] = (char)c;
}

int dune_printf(const char *fmt, ...)
{
	struct out o = { .n = 0 };
	va_list ap;

	va_start(ap, fmt);
	int n = vprintfmt(putch, &o, fmt, ap);
	va_end(ap);
	flush(&o);
	return n;
}

static __attribute__((noreturn)) void die_with(int status)
{
	dune_vmcall(SYS_exit, (uint64_t)status, 0, 0);
	for (;;)
		;
}

void dune_die(void)
{
	die_with(1);
}

// -- handlers --

void dune_register_pgflt_handler(dune_pgflt_cb cb)
{
	pgflt_cb = cb;
}

int dune_register_intr_handler(int vec, dune_intr_cb cb)
{
	if (vec < 0 || vec > 255)
		return -EINVAL;
	intr_cbs[vec] = cb;
	return 0;
}

void dune_register_syscall_handler(dune_syscall_cb cb)
{
	syscall_cb = cb;
}

static uint64_t read_cr2(void)
{
	uint64_t cr2;

	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	return cr2;
}

static const char *const exception_names[32] = {
	[0] = "divide error", [1] = "debug", [2] = "NMI", [3] = "breakpoint", [4] = "overflow",
	[5] = "bound range", [6] = "invalid opcode", [7] = "device not available",
	[8] = "double fault", [10] = "invalid TSS", [11] = "segment not present",
	[12] = "stack fault", [13] = "general protection", [14] = "page fault",
	[16] = "x87 error", [17] = "alignment check", [18] = "machine check", [19] = "SIMD error",
};

static const char *exception_name(uint64_t vector)
{
	return vector < 32 && exception_names[vector] ? exception_names[vector] : "?";
}

void dune_dump_trap_frame(const struct dune_tf *tf)
{
	dune_printf("libdune: rax 0x%lx rbx 0x%lx rcx 0x%lx rdx 0x%lx\n", tf->rax, tf->rbx, tf->rcx,
		    tf->rdx);
	dune_printf("libdune: rsi 0x%lx rdi 0x%lx rbp 0x%lx rsp 0x%lx\n", tf->rsi, tf->rdi, tf->rbp,
		    tf->rsp);
	dune_printf("libdune: r8 0x%lx r9 0x%lx r10 0x%lx r11 0x%lx\n", tf->r8, tf->r9, tf->r10,
		    tf->r11);
	dune_printf("libdune: r12 0x%lx r13 0x%lx r14 0x%lx r15 0x%lx\n", tf->r12, tf->r13,
		    tf->r14, tf->r15);
	dune_printf("libdune: rip 0x%lx cs 0x%lx rflags 0x%lx ss 0x%lx\n", tf->rip, tf->cs,
		    tf->rflags, tf->ss);
}

// Every exception (entry.S): the registered handler, else a report and
// the end of the process (status 128 + vector).
void dune_trap(struct dune_tf *tf)
{
	if (tf->vector == 14 && pgflt_cb != NULL) {
		pgflt_cb(read_cr2(), tf->err, tf);
		return;
	}
	if (intr_cbs[tf->vector] != NULL) {
		intr_cbs[tf->vector](tf);
		return;
	}
	dune_printf("libdune: exception %lu (%s) in ring %d at rip 0x%lx, error 0x%lx, cr2 0x%lx\n",
		    tf->vector, exception_name(tf->vector), dune_tf_ring(tf), tf->rip, tf->err,
		    read_cr2());
	die_with(128 + (int)(tf->vector & 0x7F));
}

// Every system call from ring 3 (entry.S).
void dune_syscall(struct dune_tf *tf)
{
	if (syscall_cb != NULL)
		syscall_cb(tf);
	else
		dune_passthrough_syscall(tf);
}

int dune_jump_to_user(struct dune_tf *tf)
{
	tf->cs = DUNE_USER_CS;
	tf->ss = DUNE_USER_DS;
	tf->rflags = (tf->rflags & ~(uint64_t)(RFLAGS_IOPL | RFLAGS_NT)) | RFLAGS_IF |
		     RFLAGS_RESERVED;
	return __dune_jump_to_user(tf);
}

// -- entering --

static void build_idt(void)
{
	for (int v = 0; v < 256; v++) {
		uint64_t h = dune_vectors[v];
		idt[v] = (struct gate){
			.offset_low = (uint16_t)h, .selector = DUNE_KERNEL_CS,
			.ist = v == 8 ? 1 : 0,  // a double fault on a stack of its own
			// int3 and into may come from ring 3 (DPL 3)
			.type_attr = v == 3 || v == 4 ? 0xEE : 0x8E,
			.offset_mid = (uint16_t)(h >> 16), .offset_high = (uint32_t)(h >> 32),
		};
	}
}

int dune_init(bool map_full)
{
	if (initialized)
		return 0;
	int err = dune_vm_init(map_full);
	if (err)
		return err;
	build_idt();
	initialized = true;
	return 0;
}

static struct dune_percpu *percpu_create(void)
{
	struct dune_percpu *p = dune_pool_zalloc(1);

	if (p == NULL)
		return NULL;
	// Stacks from fresh pool memory: the first exception from ring 3
	// is the first access to them.
	p->kstack_base = dune_pool_zalloc(KSTACK_PAGES);
	p->ist_base = dune_pool_zalloc(IST_PAGES);
	if (p->kstack_base == NULL || p->ist_base == NULL)
		return NULL;
	p->self = p;
	p->kstack = (uint64_t)p->kstack_base + KSTACK_PAGES * PGSIZE;
	memcpy(p->gdt, gdt_template, sizeof(p->gdt));
	uint64_t base = (uint64_t)&p->tss, limit = sizeof(p->tss) - 1;
	p->gdt[5] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ul << 40 |
		    ((limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56;
	p->gdt[6] = base >> 32;
	p->tss.rsp[0] = p->kstack;
	p->tss.ist[0] = (uint64_t)p->ist_base + IST_PAGES * PGSIZE;
	p->tss.iomap_base = sizeof(p->tss);
	return p;
}

int dune_enter(void)
{
	if (!initialized)
		return -EINVAL;
	struct dune_percpu *p = percpu_create();
	if (p == NULL)
		return -ENOMEM;
	struct dune_config c = { .cr3 = dune_va_to_pa((uint64_t)pgroot) };
	return __dune_enter(&c, p);
}

static inline void wrmsr64(uint32_t msr, uint64_t value)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
		     : "memory");
}

// The first C code in Dune mode of each thread (entry.S's dune_resume):
// its GDT, TSS and IDT, its MSRs (the vCPU's own), CR0.WP.
void dune_boot_percpu(struct dune_percpu *p)
{
	struct table_register g = { sizeof(p->gdt) - 1, (uint64_t)p->gdt };
	struct table_register i = { sizeof(idt) - 1, (uint64_t)idt };
	uint64_t cr0;

	asm volatile("lgdt %0" : : "m"(g));
	asm volatile("pushq %0; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
		     : : "i"(DUNE_KERNEL_CS) : "rax", "memory");
	asm volatile("movw %w0, %%ds; movw %w0, %%es; movw %w0, %%ss" : : "r"(DUNE_KERNEL_DS));
	asm volatile("ltr %w0" : : "r"(DUNE_TSS));
	asm volatile("lidt %0" : : "m"(i));
	// SYSRET: CS = STAR[63:48] + 16, SS = STAR[63:48] + 8 (RPL 3).
	wrmsr64(MSR_STAR, (uint64_t)DUNE_KERNEL_DS << 48 | (uint64_t)DUNE_KERNEL_CS << 32);
	wrmsr64(MSR_LSTAR, (uint64_t)dune_syscall_entry);
	wrmsr64(MSR_FMASK, RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | RFLAGS_AC | RFLAGS_NT);
	wrmsr64(MSR_GS_BASE, (uint64_t)p);
	wrmsr64(MSR_KERNEL_GS_BASE, 0);
	// Ring 0 honours read-only pages (copy on write, the collector's
	// protections).
	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	asm volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_WP) : "memory");
}

// GS base is the thread's struct dune_percpu in ring 0 (dune_boot_percpu).
static struct dune_percpu *this_percpu(void)
{
	struct dune_percpu *p;

	asm volatile("movq %%gs:%c1, %0" : "=r"(p) : "i"(PERCPU_SELF));
	return p;
}

void dune_set_thread_data(void *data)
{
	this_percpu()->thread_data = data;
}

void *dune_thread_data(void)
{
	return this_percpu()->thread_data;
}

void dune_set_fs_base(uint64_t base)
{
	wrmsr64(MSR_FS_BASE, base);
}
