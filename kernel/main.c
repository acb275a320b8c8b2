// kmain: the first C code, called by boot/entry.S on the boot stack.
// It brings up the console and traps, reads what the loader passed, and
// runs what the command line asks for (see boot/cmdline.h).

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/bootinfo.h"
#include "boot/cmdline.h"
#include "boot/init.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "cpu/lapic.h"
#include "cpu/pmu.h"
#include "debug/panic.h"
#include "lib/printfmt.h"
#include "lib/string.h"
#include "mm/bootmap.h"
#include "mm/page.h"
#include "mm/vm.h"
#include "pci/pci.h"
#include "monitor/monitor.h"
#include "platform/platform.h"
#include "proc/exec.h"
#include "proc/proc.h"
#include "smp/smp.h"
#include "syscall/syscall.h"
#include "test/ktest.h"
#include "trap/trap.h"
#include "vmx/dev/nic.h"
#include "vmx/vmx.h"

static void print_boot_banner(void)
{
	printk("kernel: booted by %s on %s\n",
	       bootinfo.loader[0] ? bootinfo.loader : "an unnamed loader", platform_name());
	printk("kernel: command line '%s'\n", bootinfo.cmdline);
	printk("kernel: %lu KiB usable memory in %d regions, %d modules\n",
	       bootinfo_usable_bytes() / 1024, bootinfo.nregions, bootinfo.nmodules);
	const struct text_screen *s = &bootinfo.screen;
	if (s->cols > 0)
		printk("kernel: console on COM1 and a text screen of %dx%d at 0x%lx (from %s)\n",
		       s->cols, s->rows, s->phys, s->source);
	else
		printk("kernel: console on COM1 only: no text screen (from %s)\n", s->source);
}

// The rest of another CPU's start (smp_start did the CPU's own state and
// its local APIC): the IDT all CPUs share, the CPU's SYSCALL MSRs, then
// the scheduler, which runs the work of smp_call_all between processes.
static __attribute__((noreturn)) void ap_main(void)
{
	idt_load();
	syscall_init();
	scheduler(smp_run_calls);
}

static enum stage current_stage = STAGE_CONSOLE;

// Starts stage, the one after current_stage. Returns false if it cannot,
// which only STAGE_VMX may do: on a machine that runs no guests (vmx_init
// or vmx_enable_all said why).
static bool start_stage(enum stage stage)
{
	switch (stage) {
	case STAGE_CONSOLE:      // kmain's own, before any other
		break;
	case STAGE_PAGES:
		page_init();
		break;
	case STAGE_MEMORY:
		vm_init();
		break;
	case STAGE_PROCESSES:
		syscall_init();
		break;
	case STAGE_SMP:
		smp_start(ap_main);
		// pci=list: find and list the PCI functions now.
		if (cmdline_get("pci") != NULL)
			pci_init();
		nic_init();
		break;
	case STAGE_VMX:
		if (vmx_init() < 0 || vmx_enable_all() < 0)
			return false;
		platform_at_power_off(vmx_disable_all);
		break;
	}
	return true;
}

// bring_up, or false where a stage cannot start (see start_stage).
static bool try_bring_up(enum stage stage)
{
	for (; current_stage < stage; current_stage++)
		if (!start_stage(current_stage + 1))
			return false;
	return true;
}

void bring_up(enum stage stage)
{
	if (!try_bring_up(stage))
		panic("this machine cannot run guests (see above): under QEMU "
		      "use KVM with nested VMX; under Bochs a CPU model with VMX "
		      "and EPT: corei7_haswell_4770 (the default), "
		      "corei7_sandy_bridge_2600k, broadwell_ult, "
		      "corei7_skylake_x or corei7_icelake_u (make grade CPU=...)");
}

// -- what run=NAME starts: the kernel's own programs, then the self-tests --

// The shell on the console: what `make run` shows. The run ends when the
// shell exits (Ctrl-D, or exit), with the free pages before and after.
static void run_shell(void)
{
	char *argv[] = { "sh", NULL };
	size_t before = page_free_count();

	proc_wait_report(proc_spawn_started(argv, 1));
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

static int counters_missing;

// rdpmc is allowed per CPU (CR4.PCE): every CPU a process may run on.
static void enable_counters(int cpu)
{
	(void)cpu;
	if (!pmu_init())
		__atomic_fetch_add(&counters_missing, 1, __ATOMIC_SEQ_CST);
}

// The costs of the kernel's primitives, measured by the bench program in
// cycles of the performance counters where every CPU has them, else of
// the TSC.
static void run_bench(void)
{
	smp_call_all(enable_counters);
	bool counters = counters_missing == 0;
	char *argv[] = { "bench", counters ? "counters" : "cycles", NULL };

	printk("bench: on %s, one CPU's view, TSC %lu kHz%s\n", platform_name(), tsc_per_ms,
	       platform_is_bochs() ? " (Bochs: emulated cycles)" : "");
	proc_wait_report(proc_spawn_started(argv, 2));
}

// The header line of a benchmark that counts TSC cycles, which under
// Bochs are instructions executed.
static void print_tsc_header(const char *bench)
{
	printk("%s: on %s, one CPU's view, TSC %lu kHz%s\n", bench, platform_name(), tsc_per_ms,
	       platform_is_bochs() ? " (Bochs: the TSC counts instructions, not cycles)" : "");
}

// The same costs native and in Dune mode, on libdune (dunebench,
// libdune/bench): the Dune paper's comparison.
static void run_bench_dune(void)
{
	smp_call_all(enable_counters);
	bool counters = counters_missing == 0;
	char *argv[] = { "dunebench", counters ? "counters" : "cycles", NULL };

	print_tsc_header("bench.dune");
	proc_wait_report(proc_spawn_started(argv, 2));
}

// The ixgbe driver's packet rate over the emulated 82599's wire
// (nicbench, ix/bench), natively, then in Dune mode where the machine
// runs guests (Bochs, KVM; QEMU's own CPU has no VT-x).
static void run_bench_nic(void)
{
	bool vmx = try_bring_up(STAGE_VMX);
	char *argv[] = { "nicbench", vmx ? "dune" : "native", NULL };

	print_tsc_header("bench.nic");
	printk("bench.nic: Dune mode %s\n", vmx ? "too" : "not measured: no VT-x here (see above)");
	proc_wait_report(proc_spawn_started(argv, 2));
}

// The IX benchmark (ixbench, ix/bench): the echo over the dataplane at
// batch limits 1 to 64, the key-value server, and the native echo,
// each under ixload's requests= (3000) on the model's other port; with
// two CPUs or more, the IX servers again on two cores (ixdp --cores=2).
static void run_bench_ix(void)
{
	char requests[24];
	int cores = ncpus >= 2 ? 2 : 1;
	char *argv[] = { "ixbench", platform_is_bochs() ? "instructions" : "cycles", requests,
			 cores == 2 ? "2" : "1", NULL };

	snprintf(requests, sizeof(requests), "%lu", cmdline_get_u64("requests", 3000));
	print_tsc_header("bench.ix");
	printk("bench.ix: %d CPU%s; the dataplane runs on 1 core%s\n", ncpus, ncpus == 1 ? "" : "s",
	       cores == 2 ? ", then on 2 (a dataplane thread a core)" : "");
	proc_wait_report(proc_spawn_started(argv, 4));
}

// The programs run=NAME starts: the product, not tests. Each is run the
// way a self-test is (the same "== run:" header and end marker, so the
// grader reads both alike), once the kernel is up to its stage.
static const struct program_run {
	const char *name;
	const char *help;
	enum stage stage;
	void (*run)(void);
} programs_to_run[] = {
	{ "shell", "the shell, on the console (what make run shows)", STAGE_SMP, run_shell },
	{ "shell.dune", "the shell with VT-x on: Dune programs (sandbox, sthreads, gc, dunetest) "
	  "run from it", STAGE_VMX, run_shell },
	{ "bench", "native costs: system call, page fault, fork, context switch", STAGE_SMP,
	  run_bench },
	{ "bench.dune", "native and Dune costs: getpid, page fault and walk, trap, Appel-Li, "
	  "sthreads (libdune)", STAGE_VMX, run_bench_dune },
	{ "bench.nic", "the ixgbe driver over the emulated 82599's wire: packets per second and "
	  "trapped register accesses per packet at bursts of 1-64, native and Dune", STAGE_SMP,
	  run_bench_nic },
	{ "bench.ix", "the IX dataplane under ixload: echo and key-value requests/s, latency, "
	  "server TSC ticks and crossings per request at batch limits 1-64; native echo beside",
	  STAGE_VMX, run_bench_ix },
};

static const struct program_run *program_run_find(const char *name)
{
	for (size_t i = 0; i < sizeof(programs_to_run) / sizeof(programs_to_run[0]); i++)
		if (strcmp(programs_to_run[i].name, name) == 0)
			return &programs_to_run[i];
	return NULL;
}

static __attribute__((noreturn)) void program_run(const struct program_run *r)
{
	const char *token = cmdline_get("token");

	printk("== run: %s (token %s)\n", r->name, token ? token : "none");
	bring_up(r->stage);
	r->run();
	power_off(POWER_OK);
}

// run=NAME names nothing: say what there is, and stop.
static __attribute__((noreturn)) void unknown_run(const char *run)
{
	printk("kernel: nothing to run named '%s'; these programs exist:\n", run);
	for (size_t i = 0; i < sizeof(programs_to_run) / sizeof(programs_to_run[0]); i++)
		printk("  %-20s %s\n", programs_to_run[i].name, programs_to_run[i].help);
	printk("and these self-tests:\n");
	ktest_list();
	panic("run=%s: no such program or self-test", run);
}

void kmain(uint32_t magic, uint64_t info_pa)
{
	platform_detect();
	console_init(platform_is_bochs());
	cpu_init(&cpus[0], 0);
	trap_init();
	bootmap_drop_identity();
	bootinfo_parse(magic, info_pa);
	if (bootinfo.screen.cols > 0)
		console_attach_screen(bootinfo.screen.phys, bootinfo.screen.cols,
				      bootinfo.screen.rows);
	cmdline_init(bootinfo.cmdline);
	print_boot_banner();

	const char *run = cmdline_get("run");
	if (run == NULL || strcmp(run, "monitor") == 0)
		monitor_run();

	const struct program_run *r = program_run_find(run);
	if (r != NULL)
		program_run(r);
	const struct ktest *t = ktest_find(run);
	if (t == NULL)
		unknown_run(run);
	ktest_run(t);
}
