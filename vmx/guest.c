#include <stddef.h>

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

int guest_create(struct guest *g, const char *name, struct vcpu_config *config)
{
	const struct guest_program *prog = find_program(name);

	if (prog == NULL)
		return -ENOENT;
	if ((g->memory = page_alloc(PAGE_ORDER_2M, true)) == NULL)
		return -ENOMEM;
	if (ept_create(&g->ept) < 0 ||
	    ept_map(&g->ept, 0, page_to_pa(g->memory), GUEST_MEMORY_SIZE, EPT_RWX) < 0) {
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
	return 0;
}

void guest_destroy(struct guest *g)
{
	if (g->ept.pml4 != NULL)
		ept_destroy(&g->ept);
	if (g->memory != NULL)
		page_free(g->memory);
}
