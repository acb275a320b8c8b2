// Signals of faults: a user-level fault handler. Delivery saves the
// faulting thread's registers on its own stack and makes its trapframe
// call the handler; sigreturn loads them back, after checking that they
// are registers a process could have had: the trapframe goes back to
// ring 3 with IRET, which would fault in the kernel on a non-canonical
// rip and would grant IOPL if the flags asked for it.

#include <stddef.h>

#include "arch/memlayout.h"
#include "arch/regs.h"
#include "console/console.h"
#include "lib/errno.h"
#include "lib/signum.h"
#include "lib/string.h"
#include "mm/uaccess.h"
#include "proc/proc.h"
#include "proc/signal.h"

_Static_assert(sizeof(struct siginfo) == SIGINFO_SIZE, "signum.h: SIGINFO_SIZE");

#define RED_ZONE 128    // below %rsp, the System V ABI lets leaf functions keep data
#define SIG_BIT(sig) (1ul << (sig))
#define FAULT_SIGNALS (SIG_BIT(SIGILL) | SIG_BIT(SIGTRAP) | SIG_BIT(SIGFPE) | SIG_BIT(SIGSEGV))

static const char *const signal_names[NSIG] = {
	[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGFPE] = "SIGFPE", [SIGSEGV] = "SIGSEGV",
};

// The signal of an exception vector, 0 for one that has none (the kernel's).
static int signal_of(uint64_t vector)
{
	switch (vector) {
	case T_DIVIDE: case T_X87_FP: case T_SIMD_FP:
		return SIGFPE;
	case T_INVALID_OP:
		return SIGILL;
	case T_BREAKPOINT:
		return SIGTRAP;
	case T_OVERFLOW: case T_BOUND: case T_SEGMENT_NP: case T_STACK: case T_GP:
	case T_PAGE_FAULT: case T_ALIGNMENT:
		return SIGSEGV;
	default:
		return 0;
	}
}

int signal_action(int sig, uint64_t handler, uint64_t restorer)
{
	struct proc *leader = proc_current()->leader;

	if (sig < 0 || sig >= NSIG || !(FAULT_SIGNALS & SIG_BIT(sig)))
		return -EINVAL;
	if (handler != SIG_DFL && (handler >= USER_TOP || restorer >= USER_TOP))
		return -EINVAL;
	spin_lock(&proc_lock);
	leader->sig[sig] = (struct sighandler){ handler, restorer };
	spin_unlock(&proc_lock);
	return 0;
}

static void save_context(struct sigcontext *c, const struct trapframe *tf, uint64_t blocked)
{
	*c = (struct sigcontext){
		.rax = tf->rax, .rbx = tf->rbx, .rcx = tf->rcx, .rdx = tf->rdx,
		.rsi = tf->rsi, .rdi = tf->rdi, .rbp = tf->rbp, .rsp = tf->rsp,
		.r8 = tf->r8, .r9 = tf->r9, .r10 = tf->r10, .r11 = tf->r11,
		.r12 = tf->r12, .r13 = tf->r13, .r14 = tf->r14, .r15 = tf->r15,
		.rip = tf->rip, .rflags = tf->rflags, .blocked = blocked,
	};
}

static void load_context(struct trapframe *tf, const struct sigcontext *c)
{
	tf->rax = c->rax, tf->rbx = c->rbx, tf->rcx = c->rcx, tf->rdx = c->rdx;
	tf->rsi = c->rsi, tf->rdi = c->rdi, tf->rbp = c->rbp, tf->rsp = c->rsp;
	tf->r8 = c->r8, tf->r9 = c->r9, tf->r10 = c->r10, tf->r11 = c->r11;
	tf->r12 = c->r12, tf->r13 = c->r13, tf->r14 = c->r14, tf->r15 = c->r15;
	tf->rip = c->rip, tf->rflags = c->rflags;
}

bool signal_deliver(struct trapframe *tf, uint64_t addr)
{
	struct proc *p = proc_current();
	int sig = signal_of(tf->vector);

	if (sig == 0)
		return false;
	spin_lock(&proc_lock);
	struct sighandler h = p->leader->sig[sig];
	spin_unlock(&proc_lock);
	if (h.fn == SIG_DFL)
		return false;
	if (p->sig_blocked & SIG_BIT(sig)) {
		printk("process %s[%d]: %s in its %s handler: not delivered again\n",
		       p->name, p->pid, signal_names[sig], signal_names[sig]);
		return false;
	}
	struct sigframe f = {
		.restorer = h.restorer,
		.info = { .signo = sig, .trapno = (int32_t)tf->vector, .error_code = tf->error_code,
			  .addr = tf->vector == T_PAGE_FAULT ? addr : tf->rip },
	};
	save_context(&f.ctx, tf, p->sig_blocked);
	// The handler is entered as if called: %rsp + 8 a multiple of 16.
	uint64_t sp = ((tf->rsp - RED_ZONE - sizeof(f)) & ~15ul) - 8;
	if (tf->rsp > USER_TOP || sp >= tf->rsp || copy_to_user(sp, &f, sizeof(f)) < 0) {
		printk("process %s[%d]: no room for the %s frame below rsp 0x%lx\n",
		       p->name, p->pid, signal_names[sig], tf->rsp);
		return false;
	}
	p->sig_blocked |= SIG_BIT(sig);
	tf->rip = h.fn;
	tf->rsp = sp;
	tf->rdi = (uint64_t)sig;
	tf->rsi = sp + offsetof(struct sigframe, info);
	tf->rdx = sp + offsetof(struct sigframe, ctx);
	tf->rflags &= ~RFLAGS_DF;       // the ABI's state at a call
	return true;
}

// A context a process could have had (see the top of the file).
static bool context_ok(const struct sigcontext *c)
{
	return c->rip < USER_TOP && c->rsp <= USER_TOP &&
	       (c->rflags & ~(RFLAGS_USER | RFLAGS_RESERVED | RFLAGS_IF)) == 0 &&
	       (c->rflags & (RFLAGS_RESERVED | RFLAGS_IF)) == (RFLAGS_RESERVED | RFLAGS_IF) &&
	       (c->blocked & ~FAULT_SIGNALS) == 0;
}

int64_t signal_return(uint64_t ctx)
{
	struct proc *p = proc_current();
	struct sigcontext c;

	if (copy_from_user(&c, ctx, sizeof(c)) < 0)
		return -EFAULT;
	if (!context_ok(&c))
		return -EINVAL;
	load_context(p->tf, &c);
	p->sig_blocked = c.blocked;
	return (int64_t)c.rax;
}

void signal_fork(struct proc *child, const struct proc *parent)
{
	spin_lock(&proc_lock);
	memcpy(child->sig, parent->leader->sig, sizeof(child->sig));
	spin_unlock(&proc_lock);
	child->sig_blocked = parent->sig_blocked;
}

void signal_exec(struct proc *p)
{
	spin_lock(&proc_lock);
	memset(p->sig, 0, sizeof(p->sig));
	spin_unlock(&proc_lock);
	p->sig_blocked = 0;
}
