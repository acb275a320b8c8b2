// kmain: the first C code, called by boot/entry.S on the boot stack.
// It brings up the console and traps, reads what the loader passed, and
// runs what the command line asks for (see boot/cmdline.h).

#include <stdint.h>

#include "boot/bootinfo.h"
#include "init.h"
#include "boot/cmdline.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "cpu/smp.h"
#include "debug/panic.h"
#include "lib/string.h"
#include "mm/bootmap.h"
#include "mm/page.h"
#include "mm/vm.h"
#include "pci/pci.h"
#include "monitor/monitor.h"
#include "platform/platform.h"
#include "syscall/syscall.h"
#include "test/ktest.h"
#include "trap/trap.h"
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

static enum stage current_stage = STAGE_CONSOLE;

void bring_up(enum stage stage)
{
	for (; current_stage < stage; current_stage++) {
		switch (current_stage + 1) {
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
			smp_start();
			// pci=list: find and list the PCI functions now.
			if (cmdline_get("pci") != NULL)
				pci_init();
			break;
		case STAGE_VMX:
			if (vmx_init() < 0 || vmx_enable_all() < 0)
				panic("this machine cannot run guests (see above): under QEMU "
				      "use KVM with nested VMX; under Bochs a CPU model with VMX "
				      "and EPT: corei7_haswell_4770 (the default), "
				      "corei7_sandy_bridge_2600k, broadwell_ult, "
				      "corei7_skylake_x or corei7_icelake_u (make grade CPU=...)");
			platform_at_power_off(vmx_disable_all);
			break;
		}
	}
}

void kmain(uint32_t magic, uint64_t info_pa)
{
	platform_detect();
	console_init();
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

	const struct ktest *t = ktest_find(run);
	if (t == NULL) {
		printk("kernel: no self-test named '%s'; these exist:\n", run);
		ktest_list();
		panic("run=%s: unknown self-test", run);
	}
	ktest_run(t);
}
