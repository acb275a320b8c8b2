// Lab 4 self-tests: the other CPUs come up, take timer interrupts, and
// share data under spinlocks; interrupt nesting; lock misuse caught.

#include "acpi/acpi.h"
#include "arch/regs.h"
#include "arch/trapframe.h"
#include "arch/x86.h"
#include "boot/cmdline.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "cpu/lapic.h"
#include "smp/smp.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/printfmt.h"
#include "lib/string.h"
#include "mm/aspace.h"
#include "mm/cow.h"
#include "mm/page.h"
#include "proc/exec.h"
#include "proc/proc.h"
#include "sync/spinlock.h"
#include "test/ktest.h"


static struct spinlock counter_lock = SPINLOCK_INIT("counter");
static uint64_t counter;
static uint64_t increments;

static void report_cpu(int id)
{
	printk("cpu %d: up, apic id %u\n", id, cpus[id].apic_id);
}

static void add_to_counter(int id)
{
	(void)id;
	for (uint64_t i = 0; i < increments; i++) {
		spin_lock(&counter_lock);
		counter++;
		spin_unlock(&counter_lock);
	}
}

KTEST(lab4_smp, "lab4.smp", STAGE_SMP, "all CPUs up, timer interrupts, a shared counter (increments=)");
static void lab4_smp(void)
{
	increments = cmdline_get_u64("increments", 10000);
	printk("cpus: %d found, %d running\n", acpi.ncpus, ncpus);
	printk("tsc: %lu kHz, apic timer: %u per ms\n", tsc_per_ms, lapic_timer_per_ms);
	smp_call_all(report_cpu);
	smp_call_all(add_to_counter);
	printk("counter: %lu\n", counter);

	// Every CPU must take timer interrupts: wait for 5 ticks on each.
	uint64_t deadline = rdtsc() + tsc_per_ms * 2000;
	for (int i = 0; i < ncpus; i++) {
		while (cpus[i].ticks < 5 && rdtsc() < deadline)
			pause();
		printk("cpu %d: %s\n", i, cpus[i].ticks >= 5 ? "timer ticks" : "no timer ticks");
	}
}

// Prints whether interrupts are on, after a step of the nesting test.
static void report_if(const char *step)
{
	printk("cli: %s: interrupts %s\n", step, read_rflags() & RFLAGS_IF ? "on" : "off");
}

KTEST(lab4_cli, "lab4.cli", STAGE_SMP, "push_cli/pop_cli nesting and spinlocks keep interrupts off");
static void lab4_cli(void)
{
	report_if("start");
	push_cli();
	push_cli();
	report_if("two push_cli");
	pop_cli();
	report_if("one pop_cli");
	pop_cli();
	report_if("both popped");
	spin_lock(&counter_lock);
	report_if("holding a lock");
	spin_unlock(&counter_lock);
	report_if("lock released");
	cli();
	push_cli();
	pop_cli();
	report_if("pop_cli after cli");
	sti();
}

KTEST(lab4_double_lock, "lab4.double_lock", STAGE_SMP, "take a lock twice: the kernel must panic");
static void lab4_double_lock(void)
{
	static struct spinlock twice = SPINLOCK_INIT("twice");

	spin_lock(&twice);
	spin_lock(&twice);
	printk("lab4.double_lock: the second spin_lock passed unnoticed\n");
}

KTEST(lab4_run, "lab4.run", STAGE_SMP, "run cmds=name:arg:...,name:... one after another");
static void lab4_run(void)
{
	const char *cmds = cmdline_get("cmds");
	struct ktest_command c;

	if (cmds == NULL)
		panic("lab4.run: say what to run with cmds=name:arg,name:arg");
	size_t before = page_free_count();
	while (ktest_next_command(&cmds, NULL, &c))
		proc_wait_report(proc_spawn_started(c.argv, c.argc));
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

static bool every_cpu_ran_a_process(void)
{
	for (int i = 0; i < ncpus; i++)
		if (__atomic_load_n(&cpus[i].processes_run, __ATOMIC_RELAXED) == 0)
			return false;
	return true;
}

// Two spinners per CPU: every CPU is busy when echo arrives, and must
// take turns among more processes than it has CPUs. A round-robin
// scheduler runs echo within a few ticks of its start; one that keeps
// choosing some of the spinners never does.
#define SPINNERS_PER_CPU 2
// This many of the boot CPU's ticks end the wait for echo.
#define ECHO_TICKS 300

static uint64_t echo_deadline;

static bool echo_starved(void)
{
	return this_cpu()->ticks >= echo_deadline;
}

KTEST(lab4_preempt, "lab4.preempt", STAGE_SMP, "a spinning process cannot keep echo (word=) from running");
static void lab4_preempt(void)
{
	char *spin_argv[] = { "spin", NULL };
	char *echo_argv[] = { "echo", (char *)cmdline_get("word"), NULL };
	size_t before = page_free_count();

	if (echo_argv[1] == NULL)
		echo_argv[1] = "preempted";
	int nspinners = SPINNERS_PER_CPU * ncpus;
	struct proc *spinners[SPINNERS_PER_CPU * MAX_CPUS];
	for (int i = 0; i < nspinners; i++)
		spinners[i] = proc_spawn_started(spin_argv, 1);
	struct proc *echo = proc_spawn_started(echo_argv, 2);
	echo_deadline = this_cpu()->ticks + ECHO_TICKS;
	if (proc_run_kernel_until(echo, echo_starved)) {
		printk("preempt: echo did not run in %d ticks beside %d spinner(s)\n", ECHO_TICKS, nspinners);
		proc_kill(echo);
	}
	// A CPU whose host thread the emulator starved may not have run yet:
	// give each up to 3 s (300 ticks) before saying it ran no process.
	spin_lock(&proc_lock);
	for (int rounds = 0; !every_cpu_ran_a_process() && rounds < 300; rounds++) {
		if (!schedule_once()) {
			spin_unlock(&proc_lock);
			asm volatile("sti; hlt; cli" ::: "memory");
			spin_lock(&proc_lock);
		}
	}
	spin_unlock(&proc_lock);
	for (int i = 0; i < nspinners; i++)
		proc_kill(spinners[i]);
	proc_wait_report(echo);
	for (int i = 0; i < nspinners; i++)
		proc_wait_report(spinners[i]);
	for (int i = 0; i < ncpus; i++)
		printk("cpu %d: %s\n", i, cpus[i].processes_run ? "ran processes" : "ran no process");
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

KTEST(lab4_kill_sleeper, "lab4.kill_sleeper", STAGE_SMP, "kill prog= (cat, or waittest with mode=) while it sleeps");
static void lab4_kill_sleeper(void)
{
	char *argv[] = { (char *)cmdline_get("prog"), (char *)cmdline_get("mode"), NULL };
	if (argv[0] == NULL)
		argv[0] = "cat";
	struct proc *p = proc_spawn_started(argv, argv[1] != NULL ? 2 : 1);

	// Run the scheduler here until cat is asleep in read (nobody types),
	// or has ended without sleeping (a failed fork, say).
	spin_lock(&proc_lock);
	for (int rounds = 0; p->state != PROC_SLEEPING && p->state != PROC_ZOMBIE && rounds < 1000;
	     rounds++) {
		if (!schedule_once()) {
			spin_unlock(&proc_lock);
			asm volatile("sti; hlt; cli" ::: "memory");
			spin_lock(&proc_lock);
		}
	}
	bool asleep = p->state == PROC_SLEEPING;
	spin_unlock(&proc_lock);
	printk("%s: %s\n", argv[0], asleep ? "asleep" : "never went to sleep");
	proc_kill(p);
	proc_wait_report(p);
}

// A notifier that prints what it is told: every unmap and protect, the
// copy-on-write breaks inside [window_start, window_end) (the test's
// pages, not the stack's), and the release.
static uint64_t window_start, window_end;

static void notify_unmap(struct aspace_notifier *n, uint64_t va, uint64_t len)
{
	printk("notify: unmap 0x%lx len 0x%lx\n", va, len);
}

static void notify_protect(struct aspace_notifier *n, uint64_t va, uint64_t len, uint64_t perm)
{
	if (!(perm & PTE_U))
		printk("notify: protect 0x%lx len 0x%lx perm none\n", va, len);
	else
		printk("notify: protect 0x%lx len 0x%lx perm r%s%s\n", va, len,
		       perm & PTE_W ? "w" : "-", perm & PTE_NX ? "-" : "x");
}

static void notify_cow_break(struct aspace_notifier *n, uint64_t va)
{
	if (va >= window_start && va < window_end)
		printk("notify: cow_break 0x%lx\n", va);
}

static void notify_release(struct aspace_notifier *n)
{
	printk("notify: release\n");
}

static const struct aspace_notifier_ops printing_ops = {
	.unmap = notify_unmap, .protect = notify_protect,
	.cow_break = notify_cow_break, .release = notify_release,
};

KTEST(lab4_aspace, "lab4.aspace", STAGE_SMP,
      "mmtest with args=BASE:PAGES:U0:U1:P0:P1:HEAP:W, its address space's notifications printed");
static void lab4_aspace(void)
{
	const char *args = cmdline_get("args");
	struct ktest_command c;
	static struct aspace_notifier notifier = { .ops = &printing_ops };

	if (args == NULL)
		panic("lab4.aspace: say what mmtest does with args=BASE:PAGES:U0:U1:P0:P1:HEAP:W");
	size_t before = page_free_count();
	ktest_next_command(&args, "mmtest", &c);
	window_start = strtoul(c.words[1], NULL, 0);
	window_end = window_start + strtoul(c.words[2], NULL, 0) * PAGE_SIZE;

	int err;
	struct proc *p = proc_spawn(c.argv[0], c.argv, c.argc, &err);
	if (p == NULL)
		panic("lab4.aspace: cannot start mmtest: %d (%s)", err, strerror(err));
	aspace_notifier_register(p->as, &notifier);
	proc_start(p);
	proc_wait_report(p);
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

KTEST(lab4_fuzz, "lab4.fuzz", STAGE_SMP, "fuzz: calls= system calls with random arguments from seed=");
static void lab4_fuzz(void)
{
	char *argv[] = { "fuzz", (char *)cmdline_get("seed"), (char *)cmdline_get("calls"), NULL };

	if (argv[1] == NULL || argv[2] == NULL)
		panic("lab4.fuzz: say how with seed=N calls=N");
	size_t before = page_free_count();
	proc_wait_report(proc_spawn_started(argv, 3));
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

KTEST(lab4_threads, "lab4.threads", STAGE_SMP,
      "threadtest: threads= threads add increments= each to a shared counter, then how threads share and end");
static void lab4_threads(void)
{
	char *argv[] = { "threadtest", (char *)cmdline_get("threads"),
			 (char *)cmdline_get("increments"), NULL };

	if (argv[1] == NULL || argv[2] == NULL)
		panic("lab4.threads: say how many with threads=N increments=N");
	size_t before = page_free_count();
	proc_wait_report(proc_spawn_started(argv, 3));
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

KTEST(lab4_signals, "lab4.signals", STAGE_SMP,
      "sigtest: fault handlers fix, step over, nest; bad sigaction and sigreturn refused");
static void lab4_signals(void)
{
	char *argv[] = { "sigtest", NULL };
	size_t before = page_free_count();

	proc_wait_report(proc_spawn_started(argv, 1));
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

KTEST(lab4_clock, "lab4.clock", STAGE_SMP, "clocktest: the user clock increases, everywhere, at its rate");
static void lab4_clock(void)
{
	char *argv[] = { "clocktest", NULL };

	proc_wait_report(proc_spawn_started(argv, 1));
	proc_wait_all_kernel();
}

// The bits of a page table entry that copy on write changes, by name.
static const char *pte_bits(pte_t e, char *buf, size_t size)
{
	static const struct { pte_t bit; const char *name; } bits[] = {
		{ PTE_P, "P" }, { PTE_W, "W" }, { PTE_U, "U" }, { PTE_COW, "COW" }, { PTE_NX, "NX" },
	};
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (e & bits[i].bit)
			n += snprintf(buf + n, size - n, "%s%s", n ? " " : "", bits[i].name);
	return buf;
}

#define COW_PAGE 0x40000000ul

// The other pages of the parent a, each a case of share_page.
static const struct fork_page {
	const char *name;
	uint64_t va;
	uint64_t perm;          // with PTE_NOREF: mapped with vm_map_phys
} fork_pages[] = {
	{ "read-only", COW_PAGE + PAGE_SIZE, PTE_U | PTE_NX },
	// Elsewhere in every level of the tables: PML4 254, PDPT 5, PD 1, PT 3.
	{ "writable code", 0x7f0140203000ul, PTE_U | PTE_W },
	// PD entry 3 of COW_PAGE's PD, PT entry 2.
	{ "kernel-owned", COW_PAGE + 3 * LARGE_PAGE_SIZE + 2 * PAGE_SIZE,
	  PTE_U | PTE_W | PTE_NX | PTE_NOREF },
	{ "pinned", COW_PAGE + 3 * PAGE_SIZE, PTE_U | PTE_W | PTE_NX | PTE_NOREF | PTE_PINNED },
};
#define NFORK_PAGES (sizeof(fork_pages) / sizeof(fork_pages[0]))

// Maps fork_pages into pml4, each on a page of its own (returned in
// pages): the mapping holds the only reference, but for PTE_NOREF ones.
static void map_fork_pages(pte_t *pml4, struct page **pages)
{
	for (unsigned i = 0; i < NFORK_PAGES; i++) {
		const struct fork_page *f = &fork_pages[i];
		if ((pages[i] = page_alloc(0, true)) == NULL ||
		    (f->perm & PTE_NOREF ? vm_map_phys(pml4, f->va, page_to_pa(pages[i]), PAGE_SIZE,
						       f->perm & ~PTE_NOREF)
					 : vm_map(pml4, f->va, pages[i], f->perm)) < 0)
			panic("lab4.cow: no memory for the %s page", f->name);
		if (!(f->perm & PTE_NOREF))
			page_put(pages[i]);
	}
}

// Prints what vm_copy_cow made of each page in the parent and the child.
static void report_fork(const char *name, pte_t *parent, pte_t *child, struct page *page)
{
	char pbuf[32], cbuf[32];

	for (unsigned i = 0; i <= NFORK_PAGES; i++) {
		uint64_t va = i < NFORK_PAGES ? fork_pages[i].va : COW_PAGE;
		const char *what = i < NFORK_PAGES ? fork_pages[i].name : name;
		pte_t *pe = pt_walk(parent, va, false), *ce = pt_walk(child, va, false);
		bool in_child = ce != NULL && (*ce & PTE_P);
		printk("fork: %s page: parent %s, child %s, %s, %d reference(s)\n", what,
		       pte_bits(*pe, pbuf, sizeof(pbuf)),
		       in_child ? pte_bits(*ce, cbuf, sizeof(cbuf)) : "none",
		       !in_child ? "not shared" : PTE_ADDR(*ce) == PTE_ADDR(*pe) ? "the same page"
										: "another page",
		       i < NFORK_PAGES ? pa_to_page(PTE_ADDR(*pe))->refcount : page->refcount);
	}
}

KTEST(lab4_cow, "lab4.cow", STAGE_SMP,
      "fork's sharing and cow_fault on made-up page tables: a page three share (holding value=) "
      "written by each in turn");
static void lab4_cow(void)
{
	uint64_t value = cmdline_get_u64("value", 1);
	size_t before = page_free_count();
	pte_t *pml4[3] = { vm_create(), vm_create(), vm_create() };
	const char *names[3] = { "a", "b", "c" };
	struct page *original = page_alloc(0, true), *others[NFORK_PAGES];
	char buf[32];

	if (!pml4[0] || !pml4[1] || !pml4[2] || original == NULL ||
	    vm_map(pml4[0], COW_PAGE, original, PTE_U | PTE_W | PTE_NX) < 0)
		panic("lab4.cow: no memory");
	page_put(original);
	*(uint64_t *)page_to_va(original) = value;
	map_fork_pages(pml4[0], others);
	int err = vm_copy_cow(pml4[1], pml4[0]);
	printk("fork: a to b = %d\n", err);
	if (err == 0)
		report_fork("writable", pml4[0], pml4[1], original);
	if (err < 0 || vm_copy_cow(pml4[2], pml4[0]) < 0) {
		printk("lab4.cow: fork did not share the pages: no copy on write to try\n");
		return;
	}
	// c, then b, then a write to it: the first two get copies, the last
	// one (alone with the page by then) writes to it in place.
	for (int i = 2; i >= 0; i--) {
		int shared_by = original->refcount;
		bool done = cow_fault(pml4[i], COW_PAGE + 8, PF_PRESENT | PF_WRITE | PF_USER);
		pte_t *pte = pt_walk(pml4[i], COW_PAGE, false);
		uint64_t *word = P2V(PTE_ADDR(*pte));
		printk("cow: %s writes to the page %d share: %s, %s holding 0x%lx, entry %s\n",
		       names[i], shared_by, done ? "done" : "refused",
		       PTE_ADDR(*pte) == page_to_pa(original) ? "the page" : "a copy", *word,
		       pte_bits(*pte, buf, sizeof(buf)));
		*word = value + 3 - (uint64_t)i;       // the write, once allowed
	}
	for (int i = 0; i < 3; i++) {
		pte_t *pte = pt_walk(pml4[i], COW_PAGE, false);
		printk("cow: %s reads 0x%lx\n", names[i], *(uint64_t *)P2V(PTE_ADDR(*pte)));
		vm_destroy(pml4[i]);
	}
	for (unsigned i = 0; i < NFORK_PAGES; i++)
		if (fork_pages[i].perm & PTE_NOREF)
			page_put(others[i]);            // vm_map_phys took no reference
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}
