// sthreads [TOKEN [N]]: Wedge's sthreads (Bittau et al., NSDI 2008) on libdune,
// as in the Dune paper: compartments that run in ring 3 on page tables of
// their own, made from a tagged memory policy. Memory is tagged (a tag:
// a page of the pool, at the same address in every compartment); a
// policy gives each tag to a compartment shared read-write, read-only or
// copy on write, and everything else of the process stays out of reach
// (ring 0 only), but the program's code and constants.
//
// A policy becomes a template: a PML4, a PDPT, a PD and two page tables
// that differ from pgroot (the program's 2 MiB, the tags' 2 MiB at
// REGION), sharing pgroot's other tables. An sthread is a copy of those
// five pages (its COW tags gain a reference) and a stack; a write to a
// COW tag faults, and the handler gives it a copy. Creating, running and
// ending one is timed against fork + exit + wait.
#include "arch/x86.h"
#include "lib/printfmt.h"
#include "libdune/dune.h"
#include "ulib.h"

#define REGION      0x3F000000ul                // the tags' 2 MiB (PD entry 504)
#define STACK_VA    (REGION + BIG_PGSIZE - 2 * PGSIZE)
#define CODE_REGION 0x400000ul                  // the program's 2 MiB (PD entry 2)
#define MAX_TAGS    8
#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U)
#define PD_INDEX(va) (((va) >> 21) & 511)

enum tag_mode { TAG_NONE, TAG_RW, TAG_RO, TAG_COW };

struct compartment {
	ptent_t *pml4, *pdpt, *pd, *pt_code, *pt_region;
	struct page *stack[2];
};

static uint64_t data_marker = 1;        // the first page of .data: code and constants end there
uint64_t secret;                        // untagged: no sthread may read it
static struct compartment *current;
static uint64_t fault_count;

static ptent_t *zpage(void)
{
	struct page *pg = dune_page_alloc();

	if (pg == NULL)
		return NULL;
	memset((void *)dune_page2pa(pg), 0, PGSIZE);
	return (ptent_t *)dune_page2pa(pg);
}

// A new pool page with the 512 entries of from.
static ptent_t *copy_page(const ptent_t *from)
{
	struct page *pg = dune_page_alloc();

	if (pg == NULL)
		return NULL;
	ptent_t *t = (ptent_t *)dune_page2pa(pg);
	uint64_t n = PGSIZE / 8;
	asm volatile("rep movsq" : "+D"(t), "+S"(from), "+c"(n) : : "memory");
	return (ptent_t *)dune_page2pa(pg);
}

static ptent_t *table_of(ptent_t e)
{
	return (ptent_t *)(e & PTE_ADDR);
}

// Links the five private tables of c.
static void link(struct compartment *c)
{
	c->pml4[0] = (uintptr_t)c->pdpt | TABLE_FLAGS;
	c->pdpt[0] = (uintptr_t)c->pd | TABLE_FLAGS;
	c->pd[PD_INDEX(CODE_REGION)] = (uintptr_t)c->pt_code | TABLE_FLAGS;
	c->pd[PD_INDEX(REGION)] = (uintptr_t)c->pt_region | TABLE_FLAGS;
}

// The template of a policy: modes[i] for tag i at REGION + i pages.
static int make_template(struct compartment *t, struct page **tags, const enum tag_mode *modes,
			 int ntags)
{
	t->pml4 = copy_page(pgroot);
	t->pdpt = t->pml4 ? copy_page(table_of(pgroot[0])) : NULL;
	t->pd = t->pdpt ? copy_page(table_of(t->pdpt[0])) : NULL;
	t->pt_code = zpage();
	t->pt_region = zpage();
	if (t->pt_region == NULL || t->pt_code == NULL || t->pd == NULL)
		return -ENOMEM;
	// The program's 2 MiB for ring 0; its code and constants for ring 3 too.
	uintptr_t code_end = PGADDR(&data_marker);
	for (int i = 0; i < 512; i++) {
		uintptr_t va = CODE_REGION + i * PGSIZE;
		t->pt_code[i] = va | PTE_P | (va < code_end ? PTE_U : PTE_W | PTE_NX);
	}
	for (int i = 0; i < ntags; i++) {
		ptent_t e = dune_page2pa(tags[i]) | PTE_P | PTE_U | PTE_POOL | PTE_NX;
		if (modes[i] == TAG_NONE)
			continue;
		e |= modes[i] == TAG_RW ? PTE_W : modes[i] == TAG_COW ? PTE_COW : 0;
		dune_page_get(tags[i]);
		t->pt_region[i] = e;
	}
	link(t);
	return 0;
}

static void put_pool_leaves(ptent_t *pt)
{
	for (int i = 0; i < 512; i++)
		if (pt[i] & PTE_POOL)
			dune_page_put(dune_pa2page(pt[i] & PTE_ADDR));
}

static void compartment_free(struct compartment *c)
{
	put_pool_leaves(c->pt_region);
	ptent_t *tables[] = { c->pml4, c->pdpt, c->pd, c->pt_code, c->pt_region };
	for (int i = 0; i < 5; i++)
		if (tables[i] != NULL)
			dune_page_put(dune_pa2page((uintptr_t)tables[i]));
}

// sthread_create: the template's private tables copied, copy-on-write
// tags shared until written, a stack of its own.
static int sthread_create(struct compartment *c, const struct compartment *t)
{
	*c = (struct compartment){ 0 };
	c->pml4 = copy_page(t->pml4);
	c->pdpt = copy_page(t->pdpt);
	c->pd = copy_page(t->pd);
	c->pt_code = copy_page(t->pt_code);
	c->pt_region = copy_page(t->pt_region);
	c->stack[0] = dune_page_alloc();
	c->stack[1] = dune_page_alloc();
	if (!c->pml4 || !c->pdpt || !c->pd || !c->pt_code || !c->pt_region || !c->stack[0] ||
	    !c->stack[1])
		return -ENOMEM;
	for (int i = 0; i < 512; i++)
		if (c->pt_region[i] & PTE_POOL)
			dune_page_get(dune_pa2page(c->pt_region[i] & PTE_ADDR));
	for (int i = 0; i < 2; i++)
		c->pt_region[(STACK_VA - REGION) / PGSIZE + i] =
			dune_page2pa(c->stack[i]) | PTE_P | PTE_W | PTE_U | PTE_POOL | PTE_NX;
	link(c);
	return 0;
}

// Runs fn(arg) in ring 3 on c's page tables; returns what ended it.
static int sthread_run(struct compartment *c, void (*fn)(uint64_t), uint64_t arg)
{
	struct dune_tf tf = { .rip = (uint64_t)fn, .rdi = arg, .rsp = STACK_VA + 2 * PGSIZE - 8 };

	current = c;
	dune_load_root(c->pml4);
	int ret = dune_jump_to_user(&tf);
	dune_load_root(pgroot);
	current = NULL;
	return ret;
}

// Whether ring 3 may read [addr, addr + len) in the current compartment.
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

// A write to a copy-on-write tag: the sthread's own copy. Anything else
// ends the sthread.
static void sthread_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	ptent_t *pte;

	if (current == NULL || dune_tf_ring(tf) != 3) {
		dune_printf("sthreads: page fault in ring 0 at 0x%lx, rip 0x%lx\n", addr, tf->rip);
		dune_die();
	}
	if ((fec & 2) && dune_vm_lookup(current->pml4, (void *)addr, CREATE_NONE, &pte) == 0 &&
	    (*pte & PTE_COW)) {
		struct page *pg = dune_page_alloc();
		if (pg == NULL)
			dune_ret_from_user(-ENOMEM);
		memcpy((void *)dune_page2pa(pg), (void *)(*pte & PTE_ADDR), PGSIZE);
		dune_page_put(dune_pa2page(*pte & PTE_ADDR));
		*pte = dune_page2pa(pg) | PTE_P | PTE_W | PTE_U | PTE_POOL | PTE_NX;
		dune_flush_tlb_one(addr);
		fault_count++;
		return;
	}
	dune_printf("sthreads: sthread: page fault at 0x%lx, error 0x%lx: stopped\n", addr, fec);
	dune_ret_from_user(-14);
}

// -- what the sthreads do (ring 3) --

static void say(const char *s)
{
	write(1, s, strlen(s));
}

static void writer(uint64_t value)
{
	char line[128];

	*(volatile uint64_t *)(REGION + 0 * PGSIZE) = value;            // tag 0: shared
	*(volatile uint64_t *)(REGION + 1 * PGSIZE) = value << 4;       // tag 1: copy on write
	snprintf(line, sizeof(line), "sthreads: sthread: tag 0 now 0x%lx, tag 1 (its copy) 0x%lx, "
		 "tag 2 reads 0x%lx\n", *(volatile uint64_t *)REGION,
		 *(volatile uint64_t *)(REGION + PGSIZE), *(volatile uint64_t *)(REGION + 2 * PGSIZE));
	say(line);
	exit(0);
}

static void snooper(uint64_t arg)
{
	say("sthreads: sthread: reading the untagged secret\n");
	uint64_t v = *(volatile uint64_t *)&secret;
	exit((int)v);
}

static void scribbler(uint64_t arg)
{
	say("sthreads: sthread: writing the read-only tag\n");
	*(volatile uint64_t *)(REGION + 2 * PGSIZE) = arg;
	exit(3);
}

static void nothing(uint64_t arg)
{
	exit(0);
}

static uint64_t number(const char *s)
{
	uint64_t n = 0;
	int base = 10;

	if (s[0] == '0' && s[1] == 'x')
		s += 2, base = 16;
	for (; *s; s++)
		n = n * base + (uint64_t)(*s >= 'a' ? *s - 'a' + 10 : *s - '0');
	return n;
}

int main(int argc, char **argv)
{
	uint64_t token = argc > 1 ? number(argv[1]) : 0x1234;
	int n = argc > 2 ? (int)number(argv[2]) : 20;
	int status;

	// fork + exit + wait, natively, first.
	uint64_t start = rdtsc();
	for (int i = 0; i < n; i++) {
		if (fork() == 0)
			exit(0);
		wait(&status);
	}
	uint64_t fork_cycles = (rdtsc() - start) / (uint64_t)n;

	secret = token ^ 0x5ec7e7;
	int err = dune_init(false);
	if (!err)
		err = dune_enter();
	if (err) {
		printf("sthreads: dune_init or dune_enter failed: %d\n", err);
		return 1;
	}
	size_t pool_before = dune_page_count();
	dune_register_syscall_handler(sthread_syscall);
	dune_register_pgflt_handler(sthread_fault);

	// Three tags, seen by ring 0 at REGION too.
	struct page *tags[3];
	static const enum tag_mode modes[3] = { TAG_RW, TAG_COW, TAG_RO };
	for (int i = 0; i < 3; i++) {
		tags[i] = dune_page_alloc();
		memset((void *)dune_page2pa(tags[i]), 0, PGSIZE);
		dune_vm_map_phys(pgroot, (void *)(REGION + i * PGSIZE), PGSIZE,
				 (void *)dune_page2pa(tags[i]), PERM_R | PERM_W);
	}
	*(volatile uint64_t *)(REGION + 1 * PGSIZE) = token ^ 1;
	*(volatile uint64_t *)(REGION + 2 * PGSIZE) = token ^ 2;
	struct compartment tpl, c;
	if (make_template(&tpl, tags, modes, 3)) {
		dune_printf("sthreads: no memory for the template\n");
		return 1;
	}
	dune_printf("sthreads: policy: tag 0 shared read-write, tag 1 copy on write, tag 2 "
		    "read-only; the rest hidden\n");

	sthread_create(&c, &tpl);
	int ret = sthread_run(&c, writer, token);
	compartment_free(&c);
	dune_printf("sthreads: writer ended %d after %lu copy-on-write fault; the parent sees tag 0 "
		    "0x%lx, tag 1 0x%lx\n", ret, fault_count, *(volatile uint64_t *)REGION,
		    *(volatile uint64_t *)(REGION + PGSIZE));
	sthread_create(&c, &tpl);
	ret = sthread_run(&c, snooper, 0);
	compartment_free(&c);
	dune_printf("sthreads: snooper ended %d; the secret is still 0x%lx\n", ret, secret);
	sthread_create(&c, &tpl);
	ret = sthread_run(&c, scribbler, token);
	compartment_free(&c);
	dune_printf("sthreads: scribbler ended %d; tag 2 still 0x%lx\n", ret,
		    *(volatile uint64_t *)(REGION + 2 * PGSIZE));

	start = rdtsc();
	for (int i = 0; i < n; i++) {
		sthread_create(&c, &tpl);
		sthread_run(&c, nothing, 0);
		compartment_free(&c);
	}
	uint64_t sthread_cycles = (rdtsc() - start) / (uint64_t)n;
	dune_printf("sthreads: %d sthreads created, run and ended: %lu cycles each; fork + exit + "
		    "wait: %lu cycles each: sthreads %s\n", n, sthread_cycles, fork_cycles,
		    sthread_cycles < fork_cycles ? "faster" : "slower");
	compartment_free(&tpl);
	for (int i = 0; i < 3; i++) {
		dune_vm_unmap(pgroot, (void *)(REGION + i * PGSIZE), PGSIZE);
		dune_page_put(tags[i]);
	}
	dune_printf("sthreads: pool pages in use: %ld more than before (the page table at REGION)\n",
		    (long)(dune_page_count() - pool_before));
	return 0;
}
