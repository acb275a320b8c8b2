
#include "arch/x86.h"
#include "console/console.h"
#include "debug/backtrace.h"
#include "debug/ksyms.h"
#include "arch/memlayout.h"

void backtrace_print_frame(int depth, uint64_t rip, uint64_t rbp, bool is_return_address)
{
	const char *name;
	uint64_t start;
	uint64_t lookup = is_return_address ? rip - 1 : rip;

	printk("  #%-2d rip 0x%016lx  rbp 0x%016lx  ", depth, rip, rbp);
	if (ksym_lookup(lookup, &name, &start))
		printk("%s+0x%lx\n", name, rip - start);
	else
		printk("??\n");
}

// Kernel stacks live in the kernel image or in the direct map; a frame
// pointer anywhere else means the chain is corrupt.
static bool frame_pointer_is_sane(uint64_t rbp)
{
	return rbp >= DIRECTMAP_BASE && rbp % 8 == 0 && rbp + 16 > rbp;
}

int backtrace_walk(uint64_t rbp, int first_depth)
{
	int depth = first_depth;

	// BEGIN LAB 1 SOLUTION: backtrace_walk
	while (rbp != 0 && depth < BACKTRACE_MAX_FRAMES) {
		if (!frame_pointer_is_sane(rbp)) {
			printk("  #%-2d bad frame pointer 0x%016lx: stop\n", depth, rbp);
			break;
		}
		uint64_t *frame = (uint64_t *)rbp;
		backtrace_print_frame(depth, frame[1], rbp, true);
		rbp = frame[0];
		depth++;
	}
	// STUB:
	// (void)rbp, (void)frame_pointer_is_sane;
	// END LAB 1
	return depth - first_depth;
}

__attribute__((noinline)) void backtrace(void)
{
	backtrace_walk(read_rbp(), 0);
}
