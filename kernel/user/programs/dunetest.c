// dunetest MODE ARGS: a process in Dune mode (vmx/dune/dune.h), on
// libdune (libdune/dune.h). Each mode prints lines
// "dunetest: ..." that grader/lab7.py checks exactly.
//
//   bad                   start states the kernel must refuse, with their errors
//   hello TOKEN           ring 0: same pid and memory, output by VMCALL, exit status
//   user TOKEN            ring 3 under its own ring 0: `syscall` reaches the
//                         ring-0 handler, which forwards it; a supervisor page faults
//   step                  a debug trap from ring 3 whose delivery the kernel
//                         interrupts (its stack is not in the EPT yet)
//   probe ADDR...         read each guest-physical ADDR: its own memory or a page fault
//   crash [1|2|3]         a triple fault (CR4.VMXE set, HLT, a page table outside
//                         its memory): the process is killed, the exit named
//   calls                 VMCALL with a bad number, dune_enter again, a bad MSR
//   coherence             munmap, mprotect, sbrk and copy-on-write seen from Dune mode
//   bench [N]             the cost of a system call by VMCALL (printed)
//   spin                  spin in ring 0 until killed
//   fork WORD             fork in Dune mode, the child execs echo WORD
//   threads N INCREMENTS  N threads enter Dune mode and add to one counter,
//                         yielding between rounds (moving between CPUs);
//                         then munmap while a thread on another vCPU reads
#include <stdbool.h>

#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "libdune/dune.h"
#include "ulib.h"

#define SCRATCH 0x30000000ul     // inside the first GiB, which libdune maps
#define HIGH (DUNE_STACK_VA + 0x100000ul)   // in the top GiB, far below the stack
#define SUPERVISOR_VA 0x3FE00000ul      // an alias of the program's first page, ring 0 only
#define PROBE_VA      0x3FC00000ul      // where probe maps the page it reads
#define MSR_GS_BASE 0xC0000101

static __attribute__((noreturn)) void quit(int status)
{
	dune_vmcall(SYS_exit, (uint64_t)status, 0, 0);
	for (;;)
		;
}

// ring0_read64(address): the 8 bytes at address; a handler that catches
// a fault of the read (its rip is ring0_read64) may continue at
// ring0_read64_done.
uint64_t ring0_read64(uint64_t address);
extern char ring0_read64_done[];
asm(".text\n"
    ".globl ring0_read64, ring0_read64_done\n"
    "ring0_read64: movq (%rdi), %rax\n"
    "ring0_read64_done: ret\n");

static uint64_t rdmsr64(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr64(uint32_t msr, uint64_t value)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
		     : "memory");
}

// Continues in ring 3 at fn(arg) on the stack [stack, stack + size).
static __attribute__((noreturn)) void to_user(void (*fn)(uint64_t), uint64_t arg, void *stack,
					      size_t size)
{
	struct dune_tf tf = {
		.rip = (uint64_t)fn, .rdi = arg,
		.rsp = (((uint64_t)stack + size) & ~15ul) - 8,     // as after a call
	};
	dune_jump_to_user(&tf);
	quit(98);
}

static uint64_t token;
static volatile uint64_t shared_value;
static uint8_t user_stack[4 * PAGE_SIZE] __attribute__((aligned(16)));

// -- bad --

static void try(const char *what, struct dune_config *c)
{
	printf("dunetest: %s: %d\n", what, dune_enter_config(c));
}

static void bad_states(void)
{
	static uint64_t pml4[PT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
	static uint8_t stack[PAGE_SIZE] __attribute__((aligned(16)));
	struct dune_config good = {
		.rip = 0x400000, .rsp = (uint64_t)stack + PAGE_SIZE, .cr3 = (uint64_t)pml4,
	};
	struct dune_config c;

	printf("dunetest: config NULL: %d\n", dune_enter_config(NULL));
	printf("dunetest: config in the kernel: %d\n",
	       dune_enter_config((struct dune_config *)0xFFFFFFFF80100000ul));
	c = good, c.flags = 1;
	try("flags 1", &c);
	c = good, c.rip = 0x0000800000000000ul;
	try("rip non-canonical", &c);
	c = good, c.rsp = 0xFFFF7FFFFFFFFFF0ul;
	try("rsp non-canonical", &c);
	c = good, c.rsp += 8;
	try("rsp unaligned", &c);
	c = good, c.cr3 += 8;
	try("cr3 unaligned", &c);
	c = good, c.cr3 = 0;
	try("cr3 page 0", &c);
	c = good, c.cr3 = 0x100000;
	try("cr3 unmapped", &c);
	c = good, c.cr3 = 0x2000000000ul;
	try("cr3 beyond guest-physical memory", &c);
	c = good, c.cr3 = 0xFFFFFFFF80000000ul;
	try("cr3 kernel address", &c);
	// The kernel's page in the user half (kernel/test/lab7.c): present,
	// but not the process's.
	c = good, c.cr3 = 0x3E000000ul;
	try("cr3 a supervisor page", &c);
	// A mapped page of the stack, named by its host-virtual address: as
	// a guest-physical one it lies beyond 64 GiB.
	c = good, c.cr3 = (uint64_t)&c & ~(PAGE_SIZE - 1);
	try("cr3 the stack's host-virtual address", &c);
}

// -- hello --

static int hello(uint64_t native_pid)
{
	dune_printf("dunetest: ring %d, token %lx, shared %lx\n", dune_cpl(), token,
		     shared_value);
	dune_printf("dunetest: getpid %ld, native %lu\n", dune_vmcall(SYS_getpid, 0, 0, 0),
		     native_pid);
	return (int)(token & 0x7F);
}

// -- user --

static volatile uint64_t user_faults;

static volatile uint64_t user_syscalls;

static void user_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	dune_printf("dunetest: ring-0 handler: exception %lu from ring %d, error 0x%lx, "
		    "cr2 0x%lx\n", tf->vector, dune_tf_ring(tf), fec, addr);
	dune_printf("dunetest: system calls through the ring-0 handler: %lu\n", user_syscalls);
	quit(0);
}

static void count_syscall(struct dune_tf *tf)
{
	user_syscalls++;
	dune_passthrough_syscall(tf);
}

static void user_main(uint64_t arg)
{
	uint64_t cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	printf("dunetest: ring %lu: printf, token %lx\n", cs & 3, arg);
	printf("dunetest: ring 3 getpid %d\n", getpid());
	// A page of the process mapped for ring 0 only: a page fault for
	// ring 3, handled in ring 0.
	uint64_t value = *(volatile uint64_t *)(SUPERVISOR_VA + 8);
	printf("dunetest: ring 3 read a supervisor page: 0x%lx\n", value);
	exit(1);
}

static int user(uint64_t arg)
{
	// The program's first page again, for ring 0 only.
	dune_vm_map_phys(pgroot, (void *)SUPERVISOR_VA, PAGE_SIZE, (void *)0x400000, PERM_R | PERM_W);
	dune_register_pgflt_handler(user_fault);
	dune_register_syscall_handler(count_syscall);
	to_user(user_main, arg, user_stack, sizeof(user_stack));
}

// -- step --

// Ring 3 sets TF: the debug trap comes after the instruction that
// follows POPF (SDM Vol. 3A 18.3.1.4), on the exception stack libdune
// gave the thread, which the process never touched, whose EPT entry the delivery itself makes the kernel fill: the
// trap must still arrive there, not one instruction later.
asm(".text\n"
    "step_user: pushfq; orq $0x100, (%rsp); popfq\n"
    "step_first: nop\n"
    "step_second: nop\n"
    "step_third: ud2\n");
extern char step_user[], step_second[], step_third[];

static void step_handler(struct dune_tf *tf)
{
	dune_printf("dunetest: step: exception %lu from ring %d at %s\n", tf->vector,
		    dune_tf_ring(tf), tf->rip == (uint64_t)step_second ? "the second nop" :
		    tf->rip == (uint64_t)step_third ? "the ud2" : "somewhere else");
	quit(0);
}

static int step(uint64_t arg)
{
	dune_register_intr_handler(1, step_handler);
	dune_register_intr_handler(6, step_handler);
	to_user((void (*)(uint64_t))step_user, 0, user_stack, sizeof(user_stack));
}

// -- probe --

static char **probe_args;
static int probe_count;

static volatile uint64_t probe_error;

static void probe_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	if (tf->rip != (uint64_t)ring0_read64) {
		dune_printf("dunetest: unexpected page fault at 0x%lx, rip 0x%lx\n", addr, tf->rip);
		quit(99);
	}
	probe_error = fec + 1;
	tf->rip = (uint64_t)ring0_read64_done;
}

// Maps PROBE_VA to the page of guest-physical gpa and reads the 8 bytes
// at gpa there. Returns 0 and sets *value, or the page-fault error code + 1.
static uint64_t probe_one(uint64_t gpa, uint64_t *value)
{
	dune_vm_map_phys(pgroot, (void *)PROBE_VA, PAGE_SIZE, (void *)(gpa & ~(PAGE_SIZE - 1)), PERM_R);
	probe_error = 0;
	*value = ring0_read64(PROBE_VA + (gpa & (PAGE_SIZE - 1)));
	dune_vm_unmap(pgroot, (void *)PROBE_VA, PAGE_SIZE);
	return probe_error;
}

static int probe(uint64_t arg)
{
	dune_register_pgflt_handler(probe_fault);
	for (int i = 0; i < probe_count; i++) {
		uint64_t gpa = strtoul(probe_args[i], NULL, 0), value = 0;
		uint64_t error = probe_one(gpa, &value);
		if (error)
			dune_printf("dunetest: probe 0x%lx: page fault, error 0x%lx\n", gpa, error - 1);
		else
			dune_printf("dunetest: probe 0x%lx: read 0x%lx\n", gpa, value);
	}
	return 0;
}

// -- crash --

// arg 0: a triple fault; 1: CR4.VMXE set, which the kernel keeps (an
// exit it does not serve); 2: HLT; 3: a page table outside its memory.
static int crash(uint64_t arg)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } none = { 0, 0 };

	dune_printf("dunetest: page tables at 0x%lx\n", dune_va_to_pa((uint64_t)pgroot));
	if (arg == 1) {
		dune_printf("dunetest: setting CR4.VMXE\n");
		asm volatile("mov %%cr4, %%rax; or $0x2000, %%rax; mov %%rax, %%cr4" ::: "rax");
	} else if (arg == 2) {
		dune_printf("dunetest: hlt\n");
		asm volatile("hlt");
	} else if (arg == 3) {
		// A page table the process does not have: the CPU's own walk
		// meets an EPT violation, which is no fault of a page.
		dune_printf("dunetest: a page table at guest-physical 0x100000\n");
		pgroot[1] = 0x100000 | 7;
		ring0_read64(0x8000000000ul);
	} else {
		dune_printf("dunetest: loading an empty IDT, then ud2\n");
		asm volatile("lidt %0; ud2" : : "m"(none));
	}
	return 0;
}

// -- calls --

static void gp_handler(struct dune_tf *tf)
{
	dune_printf("dunetest: exception %lu at the rdmsr, error 0x%lx\n", tf->vector, tf->err);
	tf->rip += 2;   // past rdmsr
}

#define MSR_LSTAR 0xC0000082
#define MSR_FS_BASE 0xC0000100
#define MSR_KERNEL_GS_BASE 0xC0000102
#define KGS_VALUE 0x0000123456789000ul
#define FS_VALUE  0x00007F0000001000ul

static int calls(uint64_t arg)
{
	struct dune_config c = { 0 };
	uint32_t lo, hi;

	dune_printf("dunetest: vmcall 1000: %ld\n", dune_vmcall(1000, 0, 0, 0));
	dune_printf("dunetest: vmcall -1: %ld\n", dune_vmcall(-1ul, 0, 0, 0));
	dune_printf("dunetest: dune_enter again: %ld\n",
		     dune_vmcall(SYS_dune_enter, (uint64_t)&c, 0, 0));
	dune_printf("dunetest: write of a kernel address: %ld\n",
		     dune_vmcall(SYS_write, 1, 0xFFFFFFFF80100000ul, 16));
	// LSTAR is the vCPU's own: it reads back what libdune wrote.
	extern char dune_syscall_entry[];
	dune_printf("dunetest: lstar is the ring-0 handler: %d\n",
		    rdmsr64(MSR_LSTAR) == (uint64_t)dune_syscall_entry);
	// SWAPGS changes KERNEL_GS_BASE in the CPU, without an exit; the
	// kernel keeps it (and FS base) while other processes run. (GS base
	// is libdune's: swapped back after.)
	uint64_t gs = rdmsr64(MSR_GS_BASE);
	wrmsr64(MSR_KERNEL_GS_BASE, KGS_VALUE);
	wrmsr64(MSR_FS_BASE, FS_VALUE);
	asm volatile("swapgs" ::: "memory");
	dune_vmcall(SYS_sleep, 2, 0, 0);
	dune_printf("dunetest: after swapgs and a sleep: gs base %d, kernel gs base %d, fs base %d\n",
		    rdmsr64(MSR_GS_BASE) == KGS_VALUE, rdmsr64(MSR_KERNEL_GS_BASE) == gs,
		    rdmsr64(MSR_FS_BASE) == FS_VALUE);
	asm volatile("swapgs" ::: "memory");
	dune_register_intr_handler(13, gp_handler);
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x1B) : "memory");  // IA32_APIC_BASE
	dune_register_intr_handler(13, NULL);
	return 0;
}

// -- coherence --

static volatile uint64_t fault_error, fault_address;

static void expect_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	if (tf->rip != (uint64_t)ring0_read64) {
		dune_printf("dunetest: unexpected exception %lu at 0x%lx\n", tf->vector, tf->rip);
		quit(99);
	}
	fault_error = fec + 1;
	fault_address = addr;
	tf->rip = (uint64_t)ring0_read64_done;
}

// Reads va from ring 0; prints what came.
static void read_at(const char *what, uint64_t va)
{
	fault_error = 0;
	uint64_t value = ring0_read64(va);
	if (fault_error)
		dune_printf("dunetest: %s: page fault at 0x%lx, error 0x%lx\n", what,
			     fault_address, fault_error - 1);
	else
		dune_printf("dunetest: %s: read 0x%lx\n", what, value);
}

static void write_at(const char *what, uint64_t va, uint64_t value)
{
	*(volatile uint64_t *)va = value;
	dune_printf("dunetest: %s: wrote 0x%lx\n", what, value);
}

static void wp_handler(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	dune_printf("dunetest: write fault at 0x%lx, error 0x%lx\n", addr, fec);
	quit(0);
}

static int coherence(uint64_t arg)
{
	dune_register_pgflt_handler(expect_fault);
	*(volatile uint64_t *)SCRATCH = token;
	read_at("scratch", SCRATCH);
	dune_printf("dunetest: munmap: %ld\n", dune_vmcall(SYS_munmap, SCRATCH, PAGE_SIZE, 0));
	read_at("scratch after munmap", SCRATCH);
	dune_printf("dunetest: map: %ld\n",
		    dune_vmcall(SYS_map, SCRATCH, PAGE_SIZE, PROT_READ | PROT_WRITE));
	read_at("scratch mapped again", SCRATCH);

	// sbrk: grow, write, shrink: the pages are gone.
	uint64_t old = (uint64_t)dune_vmcall(SYS_sbrk, 2 * PAGE_SIZE, 0, 0);
	uint64_t page = (old + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	*(volatile uint64_t *)page = token + 1;
	read_at("heap", page);
	dune_vmcall(SYS_sbrk, -(2 * PAGE_SIZE), 0, 0);
	read_at("heap after shrink", page);

	// The stack window: a page of the top GiB, whose guest-physical
	// address is not its host-virtual one.
	dune_printf("dunetest: high map: %ld\n",
		    dune_vmcall(SYS_map, HIGH, PAGE_SIZE, PROT_READ | PROT_WRITE));
	*(volatile uint64_t *)HIGH = token + 3;
	read_at("high", HIGH);
	dune_printf("dunetest: high munmap: %ld\n", dune_vmcall(SYS_munmap, HIGH, PAGE_SIZE, 0));
	read_at("high after munmap", HIGH);

	// copy on write: a child writes its copy; the parent keeps its own.
	// The child waits on a pipe meanwhile, so that the page below stays
	// shared until the kernel writes it for the parent (a read from a
	// pipe): the parent's EPT must then show the parent's new copy.
	static volatile uint64_t kernel_written;
	static int hold[2], pass[2];
	kernel_written = token + 4;
	dune_vmcall(SYS_pipe, (uint64_t)hold, 0, 0);
	dune_vmcall(SYS_pipe, (uint64_t)pass, 0, 0);
	shared_value = token;
	int64_t pid = dune_vmcall(SYS_fork, 0, 0, 0);
	if (pid == 0) {
		char c;
		dune_vmcall(SYS_read, (uint64_t)hold[0], (uint64_t)&c, 1);
		shared_value = token + 2;
		dune_printf("dunetest: child in ring %d wrote 0x%lx\n", dune_cpl(), shared_value);
		quit(7);
	}
	uint64_t value = token + 5;
	dune_vmcall(SYS_write, (uint64_t)pass[1], (uint64_t)&value, sizeof(value));
	dune_vmcall(SYS_read, (uint64_t)pass[0], (uint64_t)&kernel_written, sizeof(value));
	read_at("a page the kernel wrote through copy on write", (uint64_t)&kernel_written);
	dune_vmcall(SYS_write, (uint64_t)hold[1], (uint64_t)"x", 1);
	int status = -1;
	int64_t waited = dune_vmcall(SYS_wait, (uint64_t)&status, 0, 0);
	dune_printf("dunetest: wait: child %s, status %d; the parent's copy 0x%lx\n",
		     waited == pid ? "found" : "missing", status, shared_value);

	// mprotect: read-only now, then a write faults.
	dune_printf("dunetest: mprotect: %ld\n", dune_vmcall(SYS_mprotect, SCRATCH, PAGE_SIZE, PROT_READ));
	read_at("scratch read-only", SCRATCH);
	dune_register_pgflt_handler(wp_handler);
	write_at("scratch read-only", SCRATCH, token);
	return 1;
}

// -- bench --

static int bench(uint64_t n)
{
	uint64_t start, end;

	if (n == 0)
		n = 1000;
	dune_vmcall(SYS_getpid, 0, 0, 0);
	asm volatile("rdtsc; shl $32, %%rdx; or %%rdx, %%rax" : "=a"(start) : : "rdx");
	for (uint64_t i = 0; i < n; i++)
		dune_vmcall(SYS_getpid, 0, 0, 0);
	asm volatile("rdtsc; shl $32, %%rdx; or %%rdx, %%rax" : "=a"(end) : : "rdx");
	dune_printf("dunetest: bench: getpid by VMCALL %lu cycles\n", (end - start) / n);
	return 0;
}

// -- spin --

static int spin(uint64_t arg)
{
	dune_printf("dunetest: spinning in ring 0\n");
	for (;;)
		asm volatile("pause");
	return 0;
}

// -- fork --

static char *fork_word;

static int fork_exec(uint64_t arg)
{
	int64_t pid = dune_vmcall(SYS_fork, 0, 0, 0);

	if (pid == 0) {
		dune_printf("dunetest: child: ring %d, fork returned 0\n", dune_cpl());
		char *argv[] = { "echo", fork_word, NULL };
		int64_t err = dune_vmcall(SYS_exec, (uint64_t)"echo", (uint64_t)argv, 0);
		dune_printf("dunetest: child: exec failed: %ld\n", err);
		quit(1);
	}
	int status = -1;
	int64_t waited = dune_vmcall(SYS_wait, (uint64_t)&status, 0, 0);
	dune_printf("dunetest: parent: ring %d, child %s, status %d\n", dune_cpl(),
		     waited == pid && pid > 0 ? "waited for" : "missing", status);
	// exec of a program that does not exist fails and stays in Dune mode;
	// then the parent leaves Dune mode by exec too.
	char *argv[] = { "echo", fork_word, "again", NULL };
	dune_printf("dunetest: parent: exec of nosuch: %ld\n",
		     dune_vmcall(SYS_exec, (uint64_t)"nosuch", (uint64_t)argv, 0));
	int64_t err = dune_vmcall(SYS_exec, (uint64_t)"echo", (uint64_t)argv, 0);
	dune_printf("dunetest: parent: exec failed: %ld\n", err);
	return 1;
}

// -- threads --

#define MAX_THREADS 4
static uint8_t thread_stacks[MAX_THREADS][4 * PAGE_SIZE] __attribute__((aligned(16)));
static volatile uint64_t counter, increments;

static int (*thread_fn)(uint64_t i);

// Adds in rounds and yields after each: with more threads than CPUs,
// the scheduler's round robin (proc/sched.c) gives a thread that yielded
// to whichever CPU comes first, and its vCPU moves with it. The threads
// go on yielding (up to MAX_ROUNDS) until one of them has run on two
// CPUs (some may keep to one: the round robin can settle in a cycle).
#define ROUNDS 20
#define MAX_ROUNDS 2000
static volatile uint64_t cpus_seen[MAX_THREADS];
static volatile int moved;

// The APIC ID of the CPU this vCPU runs on: CPUID exits, and the kernel
// answers with the host CPU's leaf 1 (EBX bits 31:24).
static uint32_t apic_id(void)
{
	uint32_t a = 1, b, c = 0, d;

	asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return b >> 24;
}

static bool two_or_more(uint64_t mask)
{
	return (mask & (mask - 1)) != 0;
}

static int add(uint64_t i)
{
	for (uint64_t round = 0; round < MAX_ROUNDS; round++) {
		cpus_seen[i] |= 1ul << (apic_id() & 63);
		if (two_or_more(cpus_seen[i]))
			moved = 1;
		if (round >= ROUNDS && moved)
			break;
		uint64_t n = round >= ROUNDS ? 0 :
			     increments / ROUNDS + (round < increments % ROUNDS ? 1 : 0);
		while (n-- > 0)
			__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
		dune_vmcall(SYS_yield, 0, 0, 0);
	}
	dune_vmcall(SYS_thread_exit, 100 + i, 0, 0);
	return 0;
}

// A thread starts natively (clone from Dune mode starts a native thread)
// and enters Dune mode itself, with a vCPU of its own.
static void thread_main(uint64_t i)
{
	int err = dune_enter();
	if (err) {
		printf("dunetest: thread %lu: dune_enter failed: %d\n", i, err);
		thread_exit(1);
	}
	quit(thread_fn(i));
}

// A thread that reads the scratch page until it faults: once munmap has
// returned (unmapped), no read may succeed, whichever CPU it runs on.
static volatile int reader_running, unmapped;

static int reader(uint64_t i)
{
	dune_register_pgflt_handler(expect_fault);
	reader_running = 1;
	for (;;) {
		int after = unmapped;
		fault_error = 0;
		ring0_read64(SCRATCH);
		if (fault_error)
			dune_vmcall(SYS_thread_exit, 1, 0, 0);
		if (after)
			dune_vmcall(SYS_thread_exit, 2, 0, 0);   // a stale translation
	}
	return 0;
}

static int threads(uint64_t n)
{
	int64_t tids[MAX_THREADS];

	thread_fn = add;
	for (uint64_t i = 0; i < n; i++)
		tids[i] = dune_vmcall(SYS_clone, (uint64_t)thread_main,
				     (uint64_t)thread_stacks[i] + sizeof(thread_stacks[i]) - 8, i);
	for (uint64_t i = 0; i < n; i++) {
		int value = -1;
		int64_t err = dune_vmcall(SYS_join, (uint64_t)tids[i], (uint64_t)&value, 0);
		dune_printf("dunetest: thread %lu: join %ld, value %d\n", i, err, value);
	}
	dune_printf("dunetest: counter %lu\n", counter);
	dune_printf("dunetest: a thread ran on two CPUs: %s\n", moved ? "yes" : "no");

	thread_fn = reader;
	int64_t tid = dune_vmcall(SYS_clone, (uint64_t)thread_main,
				 (uint64_t)thread_stacks[0] + sizeof(thread_stacks[0]) - 8, 0);
	while (!reader_running)
		asm volatile("pause");
	for (int i = 0; i < 100000; i++)
		asm volatile("pause");
	int64_t err = dune_vmcall(SYS_munmap, SCRATCH, PAGE_SIZE, 0);
	unmapped = 1;
	int value = -1;
	dune_vmcall(SYS_join, (uint64_t)tid, (uint64_t)&value, 0);
	dune_printf("dunetest: munmap %ld under a reader: %s\n", err,
		     value == 1 ? "it faulted, no read after munmap returned" :
		     value == 2 ? "it read the page after munmap returned" : "it did not end");
	return 0;
}

static int usage(void)
{
	printf("usage: dunetest bad|hello|user|probe|crash|calls|coherence|spin|fork|threads ...\n");
	return 2;
}

int main(int argc, char **argv)
{
	int (*fn)(uint64_t) = NULL;
	uint64_t arg = 0;

	if (argc < 2)
		return usage();
	const char *mode = argv[1];
	token = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	if ((strcmp(mode, "coherence") == 0 || strcmp(mode, "threads") == 0) &&
	    map((void *)SCRATCH, PAGE_SIZE, PROT_READ | PROT_WRITE) < 0)
		return 3;
	if (strcmp(mode, "bad") == 0) {
		bad_states();
		return 0;
	} else if (strcmp(mode, "hello") == 0) {
		shared_value = token ^ 0x5555;
		fn = hello, arg = (uint64_t)getpid();
	} else if (strcmp(mode, "user") == 0) {
		fn = user, arg = token;
	} else if (strcmp(mode, "step") == 0) {
		fn = step;
	} else if (strcmp(mode, "probe") == 0) {
		probe_args = argv + 2, probe_count = argc - 2;
		fn = probe;
	} else if (strcmp(mode, "crash") == 0) {
		fn = crash, arg = token;
	} else if (strcmp(mode, "calls") == 0) {
		fn = calls;
	} else if (strcmp(mode, "coherence") == 0) {
		fn = coherence;
	} else if (strcmp(mode, "bench") == 0) {
		fn = bench, arg = token;
	} else if (strcmp(mode, "spin") == 0) {
		fn = spin;
	} else if (strcmp(mode, "fork") == 0) {
		fork_word = argc > 2 ? argv[2] : "forked";
		fn = fork_exec;
	} else if (strcmp(mode, "threads") == 0) {
		arg = token < MAX_THREADS ? token : MAX_THREADS;
		increments = argc > 3 ? strtoul(argv[3], NULL, 0) : 1000;
		fn = threads;
	} else {
		return usage();
	}
	int err = dune_init_and_enter();
	if (err) {
		printf("dunetest: dune_enter failed: %d\n", err);
		return 1;
	}
	quit(fn(arg));
}
