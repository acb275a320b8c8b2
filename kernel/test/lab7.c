// Lab 7 self-tests: Dune process mode (vmx/dune/). A user program,
// dunetest, enters Dune mode and runs in ring 0 of a vCPU on
// libdune (libdune/dune.h); the kernel reports how each process
// ended and whether memory came back, so grader/lab7.py can check every
// line.

#include "boot/cmdline.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/printfmt.h"
#include "lib/string.h"
#include "mm/page.h"
#include "proc/exec.h"
#include "proc/proc.h"
#include "test/ktest.h"
#include "vmx/dune/dune.h"

// A page of each dunetest's user half without PTE_U (the kernel's), in
// the first GiB that the ring-0 runtime maps: Dune mode must not reach
// it (lab7.isolation probes it), nor take it as a page table (bad).
#define LAB7_SUPERVISOR_VA 0x3E000000ul

// Makes a process of c's command, not started yet.
static struct proc *make(const struct ktest_command *c)
{
	int err;
	struct proc *p = proc_spawn(c->argv[0], c->argv, c->argc, &err);

	if (p == NULL)
		panic("cannot start %s: %d (%s)", c->argv[0], err, strerror(err));
	return p;
}

// Maps at LAB7_SUPERVISOR_VA of p (made, not started) a zeroed page that
// only the kernel may touch (no PTE_U), holding value at offset 0x100;
// then starts p.
static void start_with_supervisor_page(struct proc *p, uint64_t value)
{
	struct page *supervisor = page_alloc(0, true);

	if (supervisor == NULL ||
	    vm_map(p->as->pml4, LAB7_SUPERVISOR_VA, supervisor, PTE_W | PTE_NX) < 0)
		panic("lab7: no memory for the supervisor page of %s[%d]", p->name, p->pid);
	*(uint64_t *)((char *)page_to_va(supervisor) + 0x100) = value;
	page_put(supervisor);
	proc_start(p);
}

KTEST(lab7_run, "lab7.run", STAGE_VMX,
      "run dunetest with args=MODE:ARG:...[,MODE:ARG...] (Dune mode), one run after another");
static void lab7_run(void)
{
	const char *args = cmdline_get("args");
	size_t before = page_free_count();
	struct ktest_command c;

	while (ktest_next_command(&args, "dunetest", &c)) {
		struct proc *p = make(&c);
		start_with_supervisor_page(p, 0);
		proc_wait_report(p);
	}
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

KTEST(lab7_isolation, "lab7.isolation", STAGE_VMX,
      "a Dune process reads where another process's secret (secret=) and a kernel page lie, "
      "address=, and a supervisor page of its own");
static void lab7_isolation(void)
{
	uint64_t secret = cmdline_get_u64("secret", 0x5ec7e7);
	const char *address = cmdline_get("address");
	size_t before = page_free_count();
	struct ktest_command c;

	// Another process, which never runs, with the secret in its stack.
	const char *other_args = "hello:0";
	ktest_next_command(&other_args, "dunetest", &c);
	struct proc *other = make(&c);
	uint64_t va = USER_STACK_TOP - PAGE_SIZE + 0x800;
	struct page *pg = vm_lookup(other->as->pml4, va, NULL);
	if (pg == NULL)
		panic("lab7.isolation: the other process has no page at 0x%lx", va);
	*(uint64_t *)((char *)page_to_va(pg) + 0x800) = secret;
	uint64_t other_pa = page_to_pa(pg) + 0x800;
	// And in a page of the kernel's.
	struct page *kpage = page_alloc(0, true);
	if (kpage == NULL)
		panic("lab7.isolation: no page");
	*(uint64_t *)((char *)page_to_va(kpage) + 0x100) = secret;
	uint64_t kernel_pa = page_to_pa(kpage) + 0x100;
	printk("isolation: the secret lies at host-physical 0x%lx (process %d's 0x%lx) "
	       "and 0x%lx (the kernel's)\n", other_pa, other->pid, va, kernel_pa);

	char probes[KTEST_ARG_MAX * 4];
	snprintf(probes, sizeof(probes), "probe:0x%lx:0x%lx:0x%lx%s%s:0x%lx", other_pa,
		 dune_va_to_pa(va), kernel_pa, address ? ":" : "", address ? address : "",
		 LAB7_SUPERVISOR_VA + 0x100);
	// And in a page of the prober's own user half that only the kernel
	// may touch (no PTE_U): Dune mode must not reach it either.
	const char *probe_args = probes;
	ktest_next_command(&probe_args, "dunetest", &c);
	struct proc *prober = make(&c);
	start_with_supervisor_page(prober, secret);
	proc_wait_report(prober);
	proc_free(other);
	page_free(kpage);
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

// Runs processes on this CPU too until each of ps[0..n) is in Dune mode
// (or has ended: it could not enter).
static void run_until_dune(struct proc **ps, int n)
{
	spin_lock(&proc_lock);
	for (int i = 0; i < n;) {
		if (__atomic_load_n(&ps[i]->dune, __ATOMIC_SEQ_CST) != NULL ||
		    ps[i]->state == PROC_ZOMBIE) {
			i++;
		} else if (!schedule_once()) {
			spin_unlock(&proc_lock);
			asm volatile("sti; hlt; cli" ::: "memory");
			spin_lock(&proc_lock);
		}
	}
	spin_unlock(&proc_lock);
}

KTEST(lab7_preempt, "lab7.preempt", STAGE_VMX,
      "processes spinning in Dune mode on every CPU cannot keep echo (word=) from running; then killed");
static void lab7_preempt(void)
{
	char *spin_argv[] = { "dunetest", "spin", NULL };
	char *echo_argv[] = { "echo", (char *)cmdline_get("word"), NULL };
	size_t before = page_free_count();
	struct proc *spinners[MAX_CPUS];

	if (echo_argv[1] == NULL)
		echo_argv[1] = "preempted";
	for (int i = 0; i < ncpus; i++)
		spinners[i] = proc_spawn_started(spin_argv, 2);
	run_until_dune(spinners, ncpus);
	proc_wait_report(proc_spawn_started(echo_argv, 2));
	for (int i = 0; i < ncpus; i++) {
		proc_kill(spinners[i]);
		proc_wait_report(spinners[i]);
	}
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}
