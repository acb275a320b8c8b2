#include <stddef.h>

#include "arch/ports.h"
#include "arch/regs.h"
#include "console/console.h"
#include "lib/errno.h"
#include "lib/image.h"
#include "lib/string.h"
#include "arch/memlayout.h"
#include "mm/vm.h"
#include "vmx/exits.h"
#include "vmx/guest.h"
#include "vmx/hypercall.h"

#define LSR_TRANSMITTER_EMPTY 0x60

// The test guests' flat binaries (vmx/Makefrag, lib/image.h).
extern const struct image guest_programs[];
extern const uint64_t guest_programs_count;

// Page tables in guest memory mapping the first GiB of guest-physical
// memory 1:1 with 2 MiB pages (only the first 2 MiB exist: touching the
// rest is an EPT violation).
static void build_page_tables(uint8_t *memory)
{
	uint64_t *pml4 = (uint64_t *)(memory + GUEST_PAGE_TABLES);
	uint64_t *pdpt = pml4 + PT_ENTRIES, *pd = pdpt + PT_ENTRIES;

	pml4[0] = (GUEST_PAGE_TABLES + PAGE_SIZE) | PTE_P | PTE_W;
	pdpt[0] = (GUEST_PAGE_TABLES + 2 * PAGE_SIZE) | PTE_P | PTE_W;
	for (int i = 0; i < PT_ENTRIES; i++)
		pd[i] = (uint64_t)i * LARGE_PAGE_SIZE | PTE_P | PTE_W | PTE_PS;
}

// The first 2 MiB: one large leaf, or 512 small ones.
static int map_memory(struct guest *g)
{
	uint64_t step = g->small_pages ? PAGE_SIZE : GUEST_MEMORY_SIZE;

	for (uint64_t off = 0; off < GUEST_MEMORY_SIZE; off += step)
		if (ept_map(&g->vm.ept, off, page_to_pa(g->memory) + off, step, EPT_RWX) < 0)
			return -ENOMEM;
	return 0;
}

static void guest_io(struct vcpu *v, const struct vcpu_io *io);
static void guest_hypercall(struct vcpu *v);
static void guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

static const struct vcpu_ops guest_ops = {
	.io = guest_io,
	.hypercall = guest_hypercall,
	.ept_fault = guest_ept_fault,
	.cpuid = guest_cpuid,
};

int guest_create(struct guest *g, const char *name, struct vcpu_config *config)
{
	const struct image *prog = image_find(guest_programs, guest_programs_count, name);

	if (prog == NULL)
		return -ENOENT;
	if (g->limit == 0)
		g->limit = GUEST_MEMORY_SIZE;
	if ((g->memory = page_alloc(PAGE_ORDER_2M, true)) == NULL)
		return -ENOMEM;
	if (vmx_vm_init(&g->vm, &guest_ops, g) < 0 || map_memory(g) < 0) {
		guest_destroy(g);
		return -ENOMEM;
	}
	uint8_t *memory = page_to_va(g->memory);
	build_page_tables(memory);
	memcpy(memory + GUEST_LOAD_ADDRESS, prog->start, prog->end - prog->start);
	config->rip = GUEST_LOAD_ADDRESS;
	config->rsp = GUEST_MEMORY_SIZE;
	config->cr3 = GUEST_PAGE_TABLES;
	return 0;
}

// The hypervisor leaf's EAX: the value the test chose.
static void guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
	struct guest *g = v->vm->owner;

	if (leaf == CPUID_HYPERVISOR_LEAF)
		regs[0] = g->cpuid_value;
}

// The virtual serial port: bytes written to COM1's data register form
// lines printed as "guest: ...".
static void serial_out(struct vcpu *v, char c)
{
	struct guest *g = v->vm->owner;

	// A full line is printed as it is, and c starts the next one.
	if (c == '\n' || g->output_len == GUEST_OUTPUT_MAX - 1) {
		g->output[g->output_len] = '\0';
		vcpu_trace_flush(v);
		printk("guest: %s\n", g->output);
		g->output_len = 0;
	}
	if (c != '\n')
		g->output[g->output_len++] = c;
}

// COM1 as the guest sees it: its data register takes bytes, its line
// status always says "ready"; no other port has a device.
static void guest_io(struct vcpu *v, const struct vcpu_io *io)
{
	if (!io->in && io->port == COM1_PORT)
		serial_out(v, (char)v->regs.rax);
	else if (io->in && io->port == COM1_LSR)
		vcpu_io_result(v, io, LSR_TRANSMITTER_EMPTY);
}

// The test guests' hypercalls (vmx/hypercall.h).
static void guest_hypercall(struct vcpu *v)
{
	struct guest *g = v->vm->owner;

	// BEGIN LAB 5 SOLUTION: hypercall
	uint64_t nr = v->regs.rax, a = v->regs.rdi, b = v->regs.rsi;

	switch (nr) {
	case HC_ADD:
		v->regs.rax = a + b;
		break;
	case HC_PRINT:
		for (uint64_t i = 0; i < b; i++) {
			uint64_t hpa = ept_translate(&g->vm.ept, a + i);
			if (hpa == (uint64_t)-1) {
				v->regs.rax = (uint64_t)-EFAULT;
				return;
			}
			serial_out(v, *(const char *)P2V(hpa));
		}
		v->regs.rax = b;
		break;
	case HC_EXIT:
		g->exit_status = (int64_t)a;
		vcpu_stop(v, "exited by hypercall");
		break;
	default:
		v->regs.rax = (uint64_t)-ENOSYS;
		break;
	}
	// STUB:
	// (void)g, (void)serial_out;
	// v->regs.rax = (uint64_t)-ENOSYS;
	// END LAB 5
}

bool guest_ept_fault(struct vcpu *v, uint64_t gpa, uint64_t qualification)
{
	struct guest *g = v->vm->owner;
	uint64_t page = gpa & ~(uint64_t)(PAGE_SIZE - 1);

	// BEGIN LAB 6 SOLUTION: ept_fault
	if (gpa >= g->limit) {
		printk("ept: guest %s at guest-physical 0x%lx, outside its 0x%lx bytes: stopped\n",
		       qualification & EPT_Q_WRITE ? "write" :
		       qualification & EPT_Q_FETCH ? "instruction fetch" : "read", gpa, g->limit);
		return false;
	}
	uint64_t *entry = ept_walk(&g->vm.ept, page, 0, false);
	if (entry != NULL && (*entry & EPT_ADDR_MASK)) {
		// The page is there: a write the entry does not allow is one
		// to a write-protected page; let it through from now on.
		if (!(qualification & EPT_Q_WRITE) || (*entry & (EPT_W | EPT_LARGE)))
			return false;
		g->write_faults++;
		return ept_protect(&g->vm.ept, page, EPT_RWX) == 0;
	}
	// Not there yet: a zeroed page, on demand.
	if (g->ndemand == GUEST_MAX_DEMAND_PAGES)
		return false;
	struct page *p = page_alloc(0, true);
	if (p == NULL)
		return false;
	if (ept_map(&g->vm.ept, page, page_to_pa(p), PAGE_SIZE, EPT_RWX) < 0) {
		page_free(p);
		return false;
	}
	g->demand[g->ndemand++] = p;
	return true;
	// STUB:
	// (void)g, (void)page, (void)qualification;
	// return false;
	// END LAB 6
}

void guest_destroy(struct guest *g)
{
	for (uint64_t i = 0; i < g->ndemand; i++)
		page_free(g->demand[i]);
	g->ndemand = 0;
	vmx_vm_free(&g->vm);
	if (g->memory != NULL)
		page_free(g->memory);
}
