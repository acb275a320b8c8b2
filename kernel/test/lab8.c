// Lab 8 self-tests: libdune, the ring-0 library of Dune processes
// (libdune/dune.h). Its test program (libdunetest), its apps (sandbox,
// sthreads, gc) run one after another; the kernel reports how each
// process ended and whether memory came back, so grader/lab8.py can
// check every line.

#include "boot/cmdline.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/printfmt.h"
#include "lib/string.h"
#include "mm/page.h"
#include "proc/exec.h"
#include "proc/proc.h"
#include "test/ktest.h"

KTEST(lab8_run, "lab8.run", STAGE_VMX,
      "run programs with args=PROG:ARG:...[,PROG:ARG...] (libdune's tests and apps), "
      "one after another");
static void lab8_run(void)
{
	const char *args = cmdline_get("args");
	size_t before = page_free_count();
	struct ktest_command c;

	while (ktest_next_command(&args, NULL, &c))
		proc_wait_report(proc_spawn_started(c.argv, c.argc));
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}
