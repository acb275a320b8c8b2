// sthreads on libdune (sthread.h).

#include "lib/errno.h"
#include "lib/string.h"
#include "lib/sysnum.h"
#include "sthread.h"

#define CODE_REGION 0x400000ul          // the program's 2 MiB (user.ld)
#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U)

extern char __data_start[];             // user.ld: where code and constants end

static struct page *tags[STHREAD_MAX_TAGS];
static struct sthread *current;
uint64_t sthread_cow_faults;

// A new pool page holding the 512 entries of from (or zeroes).
static ptent_t *copy_page(const ptent_t *from)
{
	struct page *pg = dune_page_alloc();

	if (pg == NULL)
		return NULL;
	ptent_t *t = (ptent_t *)dune_page2pa(pg), *d = t;
	uint64_t n = PGSIZE / 8;
	if (from != NULL)
		asm volatile("rep movsq" : "+D"(d), "+S"(from), "+c"(n) : : "memory");
	else
		asm volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0ul) : "memory");
	return t;
}

static ptent_t *table_of(ptent_t e)
{
	return (ptent_t *)PTE_ADDR(e);
}

// Links the five private tables of s.
static void link_tables(struct sthread *s)
{
	s->pml4[0] = (uintptr_t)s->pdpt | TABLE_FLAGS;
	s->pdpt[0] = (uintptr_t)s->pd | TABLE_FLAGS;
	s->pd[PT_INDEX(CODE_REGION, 1)] = (uintptr_t)s->pt_code | TABLE_FLAGS;
	s->pd[PT_INDEX(STHREAD_REGION, 1)] = (uintptr_t)s->pt_region | TABLE_FLAGS;
}

uintptr_t sthread_tag_new(int index)
{
	if (index < 0 || index >= STHREAD_MAX_TAGS || tags[index] != NULL)
		return 0;
	ptent_t *page = copy_page(NULL);
	if (page == NULL)
		return 0;
	tags[index] = dune_pa2page((uintptr_t)page);
	uintptr_t va = STHREAD_REGION + index * PGSIZE;
	if (dune_vm_map_phys(pgroot, (void *)va, PGSIZE, page, PERM_R | PERM_W)) {
		dune_page_put(tags[index]);
		tags[index] = NULL;
		return 0;
	}
	return va;
}

void sthread_tags_free(int n)
{
	for (int i = 0; i < n && i < STHREAD_MAX_TAGS; i++) {
		if (tags[i] == NULL)
			continue;
		dune_vm_unmap(pgroot, (void *)(STHREAD_REGION + i * PGSIZE), PGSIZE);
		dune_page_put(tags[i]);
		tags[i] = NULL;
	}
}

// The template: a PML4, PDPT and PD copied from pgroot's (the PD of the
// first GiB), and two new page tables linked into them (link_tables): the
// program's 2 MiB (its code and constants for ring 3, the rest for ring 0
// only) and the tags' (each tag of ntags with a mode other than TAG_NONE,
// user, no-execute, writable for TAG_RW, PTE_COW for TAG_COW, marked
// PTE_POOL and holding a reference to its page).
int sthread_policy(struct sthread *t, const enum sthread_tag_mode *modes, int ntags)
{
	// BEGIN LAB 8 SOLUTION: sthreads
	*t = (struct sthread){ 0 };
	t->pml4 = copy_page(pgroot);
	t->pdpt = t->pml4 ? copy_page(table_of(pgroot[0])) : NULL;
	t->pd = t->pdpt ? copy_page(table_of(t->pdpt[0])) : NULL;
	t->pt_code = copy_page(NULL);
	t->pt_region = copy_page(NULL);
	if (t->pt_region == NULL || t->pt_code == NULL || t->pd == NULL) {
		sthread_free(t);
		return -ENOMEM;
	}
	// The program's 2 MiB for ring 0; its code and constants for ring 3 too.
	for (int i = 0; i < PT_ENTRIES; i++) {
		uintptr_t va = CODE_REGION + i * PGSIZE;
		t->pt_code[i] = va | PTE_P | (va < (uintptr_t)__data_start ? PTE_U : PTE_W | PTE_NX);
	}
	for (int i = 0; i < ntags && i < STHREAD_MAX_TAGS; i++) {
		if (modes[i] == TAG_NONE || tags[i] == NULL)
			continue;
		ptent_t e = dune_page2pa(tags[i]) | PTE_P | PTE_U | PTE_POOL | PTE_NX;
		e |= modes[i] == TAG_RW ? PTE_W : modes[i] == TAG_COW ? PTE_COW : 0;
		dune_page_get(tags[i]);
		t->pt_region[i] = e;
	}
	link_tables(t);
	return 0;
	// STUB:
	// (void)modes, (void)ntags, (void)table_of, (void)link_tables;
	// *t = (struct sthread){ 0 };
	// return -ENOSYS;
	// END LAB 8
}

void sthread_free(struct sthread *s)
{
	if (s->pt_region != NULL)
		for (int i = 0; i < PT_ENTRIES; i++)
			if (s->pt_region[i] & PTE_POOL)
				dune_page_put(dune_pa2page(PTE_ADDR(s->pt_region[i])));
	ptent_t *tables[] = { s->pml4, s->pdpt, s->pd, s->pt_code, s->pt_region };
	for (int i = 0; i < 5; i++)
		if (tables[i] != NULL)
			dune_page_put(dune_pa2page((uintptr_t)tables[i]));
	*s = (struct sthread){ 0 };
}

// The five tables of the template copied (the pool pages of the tags'
// table gain a reference: sthread_free drops them), two new pool pages
// for the stack at STHREAD_STACK_VA, and the copies linked.
int sthread_create(struct sthread *s, const struct sthread *t)
{
	// BEGIN LAB 8 SOLUTION: sthreads
	*s = (struct sthread){ 0 };
	s->pml4 = copy_page(t->pml4);
	s->pdpt = copy_page(t->pdpt);
	s->pd = copy_page(t->pd);
	s->pt_code = copy_page(t->pt_code);
	s->pt_region = copy_page(t->pt_region);
	if (!s->pml4 || !s->pdpt || !s->pd || !s->pt_code || !s->pt_region) {
		sthread_free(s);        // (pt_region's references are not taken yet)
		return -ENOMEM;
	}
	for (int i = 0; i < PT_ENTRIES; i++)
		if (s->pt_region[i] & PTE_POOL)
			dune_page_get(dune_pa2page(PTE_ADDR(s->pt_region[i])));
	for (int i = 0; i < 2; i++) {
		struct page *pg = dune_page_alloc();
		if (pg == NULL) {
			sthread_free(s);
			return -ENOMEM;
		}
		s->pt_region[(STHREAD_STACK_VA - STHREAD_REGION) / PGSIZE + i] =
			dune_page2pa(pg) | PTE_P | PTE_W | PTE_U | PTE_POOL | PTE_NX;
	}
	link_tables(s);
	return 0;
	// STUB:
	// (void)t;
	// *s = (struct sthread){ 0 };
	// return -ENOSYS;
	// END LAB 8
}

int sthread_run(struct sthread *s, void (*fn)(uint64_t), uint64_t arg)
{
	struct dune_tf tf = { .rip = (uint64_t)fn, .rdi = arg,
			      .rsp = STHREAD_STACK_VA + 2 * PGSIZE - 8 };

	current = s;
	dune_load_root(s->pml4);
	int ret = dune_jump_to_user(&tf);
	dune_load_root(pgroot);
	current = NULL;
	return ret;
}

// Whether ring 3 may read [addr, addr + len) in the current sthread.
static bool user_readable(uintptr_t addr, size_t len)
{
	ptent_t *pte;

	if (addr + len < addr)
		return false;
	for (uintptr_t va = PGADDR(addr); va < addr + len; va += PGSIZE)
		if (dune_vm_lookup(current->pml4, (void *)va, CREATE_NONE, &pte) ||
		    (*pte & (PTE_P | PTE_U)) != (PTE_P | PTE_U))
			return false;
	return true;
}

// An sthread may write (its buffer, an address of its compartment, is
// copied first: the kernel reads host-virtual addresses) and exit.
static void sthread_syscall(struct dune_tf *tf)
{
	char buf[160];
	size_t len = tf->rdx < sizeof(buf) ? tf->rdx : sizeof(buf);

	if (tf->rax == SYS_exit)
		dune_ret_from_user((int)tf->rdi);
	if (tf->rax != SYS_write)
		tf->rax = (uint64_t)-EPERM;
	else if (!user_readable(tf->rsi, len))
		tf->rax = (uint64_t)-EFAULT;
	else {
		memcpy(buf, (void *)tf->rsi, len);
		tf->rax = (uint64_t)dune_vmcall(SYS_write, tf->rdi, (uint64_t)buf, len);
	}
}

// A write (fec bit 1) to a copy-on-write tag (PTE_COW in the sthread's
// entry): the sthread's own copy, a new pool page mapped writable in its
// place, which drops its reference to the shared page; the old
// translation goes from the TLB. Anything else ends the sthread.
static void sthread_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	ptent_t *pte;

	if (current == NULL || dune_tf_ring(tf) != 3) {
		dune_printf("sthreads: page fault in ring 0 at 0x%lx, rip 0x%lx\n", addr, tf->rip);
		dune_die();
	}
	// BEGIN LAB 8 SOLUTION: sthreads
	if ((fec & 2) && dune_vm_lookup(current->pml4, (void *)addr, CREATE_NONE, &pte) == 0 &&
	    (*pte & PTE_COW)) {
		ptent_t *copy = copy_page((const ptent_t *)PTE_ADDR(*pte));
		if (copy == NULL)
			dune_ret_from_user(-ENOMEM);
		dune_page_put(dune_pa2page(PTE_ADDR(*pte)));
		*pte = (uintptr_t)copy | PTE_P | PTE_W | PTE_U | PTE_POOL | PTE_NX;
		dune_flush_tlb_one(addr);
		sthread_cow_faults++;
		return;
	}
	// STUB:
	// (void)pte;
	// END LAB 8
	dune_printf("sthreads: sthread: page fault at 0x%lx, error 0x%lx: stopped\n", addr, fec);
	dune_ret_from_user(-14);
}

void sthread_init(void)
{
	dune_register_syscall_handler(sthread_syscall);
	dune_register_pgflt_handler(sthread_fault);
}
