// sigtest: user-level fault handlers (lib/signum.h). A SIGSEGV
// handler opens a read-only page with mprotect, or maps a missing one, and
// the faulting instruction is retried; SIGFPE, SIGILL and SIGTRAP handlers
// step over the instruction by changing the saved rip; every register,
// the flags and the red zone survive a handler; a fault of another signal
// inside a handler is delivered, a fault of its own kills; sigaction and
// sigreturn refuse bad requests and forged contexts; fork keeps the
// handlers, exec drops them. The cases that end a process run in
// children, one each.
#include <stdbool.h>

#include "arch/memlayout.h"
#include "arch/regs.h"
#include "ulib.h"

#define PAGE_VA 0x70000000ul    // the page the SIGSEGV cases fault on
#define PATTERN(i) (0x0101010101010101ul * (uint64_t)(i))
#define RED_ZONE_WORD 0x5ed20eul
#define NREGS 15                // rax..r15 but rsp

static volatile int handled;    // handler runs since the last case
static struct siginfo last;     // what the last handler was told

static void result(const char *what, int64_t value)
{
	printf("sigtest: %s = %ld\n", what, value);
}

// Runs how in a child process and prints how the child ended.
static void in_child(const char *what, void (*how)(void))
{
	int status;

	if (fork() == 0) {
		how();
		exit(0);
	}
	wait(&status);
	printf("sigtest: %s: the process ended with status %d\n", what, status);
}

static void note(struct siginfo *info)
{
	handled++;
	last = *info;
}

static void print_last(const char *what)
{
	printf("sigtest: %s: %d handler run(s), signal %d, vector %d, error 0x%lx, address 0x%lx\n",
	       what, handled, last.signo, last.trapno, last.error_code, last.addr);
	handled = 0;
}

// -- SIGSEGV: fix the fault and retry -----------------------------------------

static void open_page(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	(void)sig, (void)ctx;
	note(info);
	mprotect((void *)(info->addr & ~(PAGE_SIZE - 1)), PAGE_SIZE, PROT_READ | PROT_WRITE);
}

static void map_page(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	(void)sig, (void)ctx;
	note(info);
	map((void *)(info->addr & ~(PAGE_SIZE - 1)), PAGE_SIZE, PROT_READ | PROT_WRITE);
}

static void fix_and_retry(void)
{
	volatile uint64_t *page = (uint64_t *)PAGE_VA;

	sigaction(SIGSEGV, open_page);
	map((void *)page, PAGE_SIZE, PROT_READ | PROT_WRITE);
	page[0] = 41;
	mprotect((void *)page, PAGE_SIZE, PROT_READ);
	page[1] = page[0] + 1;
	print_last("write to a read-only page");
	printf("sigtest: the write was retried: the page holds %lu\n", page[1]);

	sigaction(SIGSEGV, map_page);
	munmap((void *)page, PAGE_SIZE);
	uint64_t v = page[2];
	print_last("read of an unmapped page");
	printf("sigtest: the read was retried: %lu\n", v);
	munmap((void *)page, PAGE_SIZE);
}

// -- Every register survives -----------------------------------------------------

// fault_with_registers(out, target): sets every general register but rsp
// to PATTERN(n) (rsi keeps target), a word of the red zone and the carry
// flag, writes to *target (which faults), and stores the registers in
// out[0..14] (rax, rbx, rcx, rdx, rsi, rdi, rbp, r8..r15), the red-zone
// word in out[15] and the carry in out[16].
void fault_with_registers(uint64_t *out, volatile uint64_t *target);
asm(".text\n"
    "fault_with_registers:\n"
    "	pushq %rbx\n	pushq %rbp\n	pushq %r12\n	pushq %r13\n	pushq %r14\n	pushq %r15\n"
    "	pushq %rdi\n"
    "	movq $0x5ed20e, -64(%rsp)\n"
    "	movabsq $0x0101010101010101, %rax\n"
    "	movabsq $0x0202020202020202, %rbx\n"
    "	movabsq $0x0303030303030303, %rcx\n"
    "	movabsq $0x0404040404040404, %rdx\n"
    "	movabsq $0x0606060606060606, %rdi\n"
    "	movabsq $0x0707070707070707, %rbp\n"
    "	movabsq $0x0808080808080808, %r8\n"
    "	movabsq $0x0909090909090909, %r9\n"
    "	movabsq $0x0a0a0a0a0a0a0a0a, %r10\n"
    "	movabsq $0x0b0b0b0b0b0b0b0b, %r11\n"
    "	movabsq $0x0c0c0c0c0c0c0c0c, %r12\n"
    "	movabsq $0x0d0d0d0d0d0d0d0d, %r13\n"
    "	movabsq $0x0e0e0e0e0e0e0e0e, %r14\n"
    "	movabsq $0x0f0f0f0f0f0f0f0f, %r15\n"
    "	stc\n"
    "	movq %rax, (%rsi)\n"            // the fault
    "	xchgq (%rsp), %rax\n"           // rax = out; the slot keeps rax
    "	movq %rbx, 8(%rax)\n	movq %rcx, 16(%rax)\n	movq %rdx, 24(%rax)\n"
    "	movq %rsi, 32(%rax)\n	movq %rdi, 40(%rax)\n	movq %rbp, 48(%rax)\n"
    "	movq %r8, 56(%rax)\n	movq %r9, 64(%rax)\n	movq %r10, 72(%rax)\n"
    "	movq %r11, 80(%rax)\n	movq %r12, 88(%rax)\n	movq %r13, 96(%rax)\n"
    "	movq %r14, 104(%rax)\n	movq %r15, 112(%rax)\n"
    "	setc %bl\n"
    "	movzbq %bl, %rbx\n	movq %rbx, 128(%rax)\n"
    "	movq -64(%rsp), %rbx\n	movq %rbx, 120(%rax)\n"
    "	movq (%rsp), %rbx\n	movq %rbx, (%rax)\n"
    "	popq %rdi\n"
    "	popq %r15\n	popq %r14\n	popq %r13\n	popq %r12\n	popq %rbp\n	popq %rbx\n"
    "	ret\n");

// Clobbers what a handler may: every caller-saved register (the library
// calls do) and the flags.
static void open_page_noisily(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	open_page(sig, info, ctx);
	printf("sigtest: (in the handler)\n");
	asm volatile("clc" ::: "cc");
}

static void registers_survive(void)
{
	uint64_t out[17] = { 0 };
	volatile uint64_t *page = (uint64_t *)PAGE_VA;
	int kept = 0;

	sigaction(SIGSEGV, open_page_noisily);
	map((void *)page, PAGE_SIZE, PROT_READ);
	fault_with_registers(out, page);
	for (int i = 0; i < NREGS; i++)
		kept += out[i] == (i == 4 ? PAGE_VA : PATTERN(i + 1));
	printf("sigtest: registers after the handler: %d of %d kept, red zone %s, carry %lu\n",
	       kept, NREGS, out[15] == RED_ZONE_WORD ? "kept" : "lost", out[16]);
	print_last("the registers' fault");
	munmap((void *)page, PAGE_SIZE);
}

// -- SIGFPE, SIGILL, SIGTRAP: step over ----------------------------------------------

#define DIV_LENGTH 3    // divq %reg: REX.W F7 /6
#define UD2_LENGTH 2

static void skip_division(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	(void)sig;
	note(info);
	printf("sigtest: SIGFPE at the division: %s\n", info->addr == ctx->rip ? "yes" : "no");
	ctx->rip += DIV_LENGTH;
	ctx->rax = 77;          // the quotient, as far as the program knows
}

static void skip_ud2(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	(void)sig;
	note(info);
	ctx->rip += UD2_LENGTH;
}

static void count_trap(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	(void)sig;
	note(info);
	// A trap: rip is already past int3.
	printf("sigtest: SIGTRAP after the int3: %s\n",
	       *(uint8_t *)(ctx->rip - 1) == 0xCC ? "yes" : "no");
}

static uint64_t divide(uint64_t x, uint64_t y)
{
	uint64_t q, r;

	asm volatile("divq %2" : "=a"(q), "=d"(r) : "r"(y), "a"(x), "d"(0ul));
	return q;
}

static void step_over(void)
{
	sigaction(SIGFPE, skip_division);
	result("100 / 0", (int64_t)divide(100, 0));
	print_last("divide error");
	result("100 / 7", (int64_t)divide(100, 7));

	sigaction(SIGILL, skip_ud2);
	asm volatile("ud2");
	print_last("invalid opcode");

	sigaction(SIGTRAP, count_trap);
	asm volatile("int3");
	asm volatile("int3");
	print_last("two breakpoints");
	sigaction(SIGTRAP, SIG_DFL);
}

// -- Nested: another signal in a handler ---------------------------------------------

static void divide_in_handler(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	open_page(sig, info, ctx);
	result("in the SIGSEGV handler, 5 / 0", (int64_t)divide(5, 0));
}

static void nested(void)
{
	volatile uint64_t *page = (uint64_t *)PAGE_VA;

	sigaction(SIGSEGV, divide_in_handler);
	sigaction(SIGFPE, skip_division);
	map((void *)page, PAGE_SIZE, PROT_READ);
	page[0] = 5;
	printf("sigtest: nested: %d handler runs, the page holds %lu\n", handled, page[0]);
	handled = 0;
	munmap((void *)page, PAGE_SIZE);
}

// -- Errors ---------------------------------------------------------------------------

static void never_called(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	(void)sig, (void)info, (void)ctx;
	printf("sigtest: a handler that must not run ran\n");
}

static char landing_stack[4 * PAGE_SIZE] __attribute__((aligned(16)));

static void land(uint64_t value)
{
	printf("sigtest: landed with %lu\n", value);
	exit((int)value);
}

// A context sigreturn accepts: rip at land, on a stack of its own.
static struct sigcontext made_context(void)
{
	return (struct sigcontext){
		.rip = (uint64_t)land, .rsp = (uint64_t)&landing_stack[sizeof(landing_stack) - 8],
		.rflags = RFLAGS_IF | RFLAGS_RESERVED, .rdi = 5,
	};
}

static void forge(const char *what, void (*change)(struct sigcontext *))
{
	struct sigcontext c = made_context();

	change(&c);
	result(what, sigreturn(&c));
}

static void kernel_rip(struct sigcontext *c) { c->rip = 0xFFFFFFFF80100000ul; }
static void non_canonical_rip(struct sigcontext *c) { c->rip = 0x0000800000000000ul; }
static void non_canonical_rsp(struct sigcontext *c) { c->rsp = 0x8000000000000000ul; }
static void iopl_3(struct sigcontext *c) { c->rflags |= RFLAGS_IOPL; }
static void interrupts_off(struct sigcontext *c) { c->rflags &= ~(uint64_t)RFLAGS_IF; }
static void single_step(struct sigcontext *c) { c->rflags |= RFLAGS_TF; }
static void bad_blocked(struct sigcontext *c) { c->blocked = 1ul << 9; }

static void errors(void)
{
	result("sigaction(SIGKILL)", sigaction(9, never_called));
	result("sigaction(0)", sigaction(0, never_called));
	result("sigaction(64)", sigaction(64, never_called));
	result("sigaction(-1)", sigaction(-1, never_called));
	result("sigaction(kernel handler)",
	       sigaction(SIGSEGV, (sighandler_t)0xFFFFFFFF80100000ul));
	result("sigreturn(NULL)", sigreturn(NULL));
	result("sigreturn(kernel address)", sigreturn((struct sigcontext *)0xFFFFFFFF80100000ul));
	forge("sigreturn(kernel rip)", kernel_rip);
	forge("sigreturn(non-canonical rip)", non_canonical_rip);
	forge("sigreturn(non-canonical rsp)", non_canonical_rsp);
	forge("sigreturn(IOPL 3)", iopl_3);
	forge("sigreturn(interrupts off)", interrupts_off);
	forge("sigreturn(single step)", single_step);
	forge("sigreturn(a blocked SIGKILL)", bad_blocked);
}

// -- Cases that end a process ---------------------------------------------------------

static void sigreturn_to_a_made_context(void)
{
	struct sigcontext c = made_context();

	sigreturn(&c);
}

static void fault_in_handler(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	(void)sig, (void)ctx;
	note(info);
	*(volatile int *)(PAGE_VA + 8) = 1;        // not mapped
}

static void fault_in_its_handler(void)
{
	sigaction(SIGSEGV, fault_in_handler);
	*(volatile int *)0 = 1;
}

static void default_again(void)
{
	sigaction(SIGSEGV, never_called);
	sigaction(SIGSEGV, SIG_DFL);
	*(volatile int *)0 = 1;
}

static void no_room_for_the_frame(void)
{
	sigaction(SIGILL, skip_ud2);
	asm volatile("movq $0x1000, %rsp\n\tud2");
}

static void exit_50(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	(void)sig, (void)info, (void)ctx;
	exit(50);
}

static void handler_after_fork(void)
{
	*(volatile int *)0 = 1;
}

static void exec_drops_handlers(void)
{
	char *argv[] = { "divzero", NULL };

	sigaction(SIGFPE, skip_division);
	exec("divzero", argv);
}

// -- Threads ----------------------------------------------------------------------------

static char thread_stack[4 * PAGE_SIZE] __attribute__((aligned(16)));

static int write_read_only(void *arg)
{
	volatile uint64_t *page = arg;

	page[0] = 9;
	return handled * 10 + (int)page[0];
}

static void in_a_thread(void)
{
	volatile uint64_t *page = (uint64_t *)PAGE_VA;
	int value = 0;

	sigaction(SIGSEGV, open_page);
	map((void *)page, PAGE_SIZE, PROT_READ);
	int err = join(thread_create(write_read_only, (void *)page, thread_stack,
				     sizeof(thread_stack)), &value);
	printf("sigtest: a fault in a thread: join = %d, value %d\n", err, value);
	handled = 0;
	munmap((void *)page, PAGE_SIZE);
}

int main(void)
{
	fix_and_retry();
	registers_survive();
	step_over();
	nested();
	in_a_thread();
	errors();
	in_child("sigreturn to a made context", sigreturn_to_a_made_context);
	in_child("a fault in its own handler", fault_in_its_handler);
	in_child("SIG_DFL again", default_again);
	in_child("no room for the frame", no_room_for_the_frame);
	sigaction(SIGSEGV, exit_50);
	in_child("the handler after fork", handler_after_fork);
	sigaction(SIGSEGV, SIG_DFL);
	in_child("exec drops the handlers", exec_drops_handlers);
	return 0;
}
