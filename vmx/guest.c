#include <stddef.h>

#include "console/console.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/vm.h"
#include "vmx/guest.h"

struct guest_program {
	const char *name;
	const uint8_t *start, *end;
};
extern const struct guest_program guest_programs[];
extern const uint64_t guest_program_count;

static const struct guest_program *find_program(const char *name)
{
	for (uint64_t i = 0; i < guest_program_count; i++)
		if (strcmp(guest_programs[i].name, name) == 0)
			return &guest_programs[i];
	return NULL;
}

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
		if (ept_map(&g->ept, off, page_to_pa(g->memory) + off, step, EPT_RWX) < 0)
			return -ENOMEM;
	return 0;
}

int guest_create(struct guest *g, const char *name, struct vcpu_config *config)
{
	const struct guest_program *prog = find_program(name);

	if (prog == NULL)
		return -ENOENT;
	if (g->limit == 0)
		g->limit = GUEST_MEMORY_SIZE;
	if ((g->memory = page_alloc(PAGE_ORDER_2M, true)) == NULL)
		return -ENOMEM;
	if (ept_create(&g->ept) < 0 || map_memory(g) < 0) {
		guest_destroy(g);
		return -ENOMEM;
	}
	uint8_t *memory = page_to_va(g->memory);
	build_page_tables(memory);
	memcpy(memory + GUEST_LOAD_ADDRESS, prog->start, prog->end - prog->start);
	config->ept = &g->ept;
	config->rip = GUEST_LOAD_ADDRESS;
	config->rsp = GUEST_MEMORY_SIZE;
	config->cr3 = GUEST_PAGE_TABLES;
	config->ept_fault = guest_ept_fault;
	config->owner = g;
	return 0;
}

// EPT violation qualification bits (SDM Vol. 3C 28.2.1, Table 28-7).
#define EPT_Q_READ  0x1
#define EPT_Q_WRITE 0x2
#define EPT_Q_FETCH 0x4

bool guest_ept_fault(void *guest, uint64_t gpa, uint64_t qualification)
{
	struct guest *g = guest;
	uint64_t page = gpa & ~(uint64_t)(PAGE_SIZE - 1);

	// BEGIN LAB 6 SOLUTION: ept_fault
	if (gpa >= g->limit) {
		printk("ept: guest %s at guest-physical 0x%lx, outside its 0x%lx bytes: stopped\n",
		       qualification & EPT_Q_WRITE ? "write" :
		       qualification & EPT_Q_FETCH ? "instruction fetch" : "read", gpa, g->limit);
		return false;
	}
	uint64_t *entry = ept_walk(&g->ept, page, 0, false);
	if (entry != NULL && (*entry & EPT_ADDR_MASK)) {
		// The page is there: a write the entry does not allow is one
		// to a write-protected page; let it through from now on.
		if (!(qualification & EPT_Q_WRITE) || (*entry & (EPT_W | EPT_LARGE)))
			return false;
		g->write_faults++;
		return ept_protect(&g->ept, page, EPT_RWX) == 0;
	}
	// Not there yet: a zeroed page, on demand.
	if (g->ndemand == GUEST_MAX_DEMAND_PAGES)
		return false;
	struct page *p = page_alloc(0, true);
	if (p == NULL)
		return false;
	if (ept_map(&g->ept, page, page_to_pa(p), PAGE_SIZE, EPT_RWX) < 0) {
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
	if (g->ept.pml4 != NULL)
		ept_destroy(&g->ept);
	if (g->memory != NULL)
		page_free(g->memory);
}
