// One emulated MMIO access, shared by the two paths that trap one: the
// not-present page fault of a native process (trap/trap.c) and the EPT
// violation of a Dune process (vmx/dune/memory.c). The decoder itself is
// in trap/mmio.c, which a host test builds alone.

#include "arch/x86.h"
#include "console/console.h"
#include "lib/errno.h"
#include "lib/printfmt.h"
#include "mm/devmem.h"
#include "mm/uaccess.h"
#include "proc/proc.h"
#include "trap/mmio.h"

// Copies up to MMIO_INSN_MAX bytes of user code at rip into code, as
// far as they are readable (a fetch that faults is no instruction).
// Returns how many.
static size_t fetch_code(uint64_t rip, uint8_t code[MMIO_INSN_MAX])
{
	size_t first = PAGE_SIZE - rip % PAGE_SIZE;

	if (first >= MMIO_INSN_MAX)
		return copy_from_user(code, rip, MMIO_INSN_MAX) == 0 ? MMIO_INSN_MAX : 0;
	if (copy_from_user(code, rip, first) < 0)
		return 0;
	if (copy_from_user(code + first, rip + first, MMIO_INSN_MAX - first) < 0)
		return first;
	return MMIO_INSN_MAX;
}

int mmio_emulate(const struct mmio_region *r, uint64_t addr, bool write, uint64_t rip,
		 uint64_t regs[16])
{
	struct mmio_insn insn;
	uint8_t code[MMIO_INSN_MAX];
	size_t n = fetch_code(rip, code);

	// The last check: an access must not run past the region's end.
	if (n == 0 || mmio_decode(code, n, &insn) < 0 || insn.write != write ||
	    addr - r->va > r->len - insn.width) {
		struct proc *p = proc_current();
		char bytes[3 * MMIO_INSN_MAX + 1] = "";
		for (size_t i = 0; i < n; i++)
			snprintf(bytes + 3 * i, sizeof(bytes) - 3 * i, " %02x", code[i]);
		printk("process %s[%d]: %s of device registers at 0x%lx by rip 0x%lx: "
		       "instruction not emulated:%s\n", p->name, p->pid, write ? "write" : "read",
		       addr, rip, n ? bytes : " (not readable)");
		return -EINVAL;
	}
	struct proc *p = proc_current();
	uint64_t start = rdtsc();
	if (insn.write)
		r->ops->write(r->dev, addr - r->va, insn.width, mmio_store_value(&insn, regs));
	else
		mmio_load_value(&insn, regs, r->ops->read(r->dev, addr - r->va, insn.width));
	p->device_ticks += rdtsc() - start;
	p->mmio_accesses++;
	return insn.len;
}
