#include "arch/trapframe.h"
#include "arch/x86.h"
#include "cpu/cpu.h"
#include "cpu/ipi.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "mm/aspace.h"
#include "mm/cow.h"
#include "mm/devmem.h"
#include "mm/kmalloc.h"

// Pages unmapped between two shootdowns; beyond FLUSH_ALL_PAGES a CPU
// reloads CR3 rather than invalidating page by page.
#define UNMAP_BATCH 32
#define FLUSH_ALL_PAGES 32

struct aspace *aspace_create(void)
{
	struct aspace *as = kzalloc(sizeof(*as));

	if (as == NULL)
		return NULL;
	if ((as->pml4 = vm_create()) == NULL) {
		kfree(as);
		return NULL;
	}
	as->refcount = 1;
	spin_init(&as->lock, "aspace");
	spin_init(&as->dma_lock, "aspace dma");
	as->mmio_next = USER_MMIO_BASE;
	as->dma_next = USER_DMA_BASE;
	return as;
}

struct aspace *aspace_get(struct aspace *as)
{
	__atomic_fetch_add(&as->refcount, 1, __ATOMIC_SEQ_CST);
	return as;
}

void aspace_put(struct aspace *as)
{
	if (__atomic_sub_fetch(&as->refcount, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	if (as->cpus != 0)
		panic("aspace_put: address space %p freed while loaded on CPUs 0x%lx",
		      as, as->cpus);
	for (struct aspace_notifier *n = as->notifiers, *next; n != NULL; n = next) {
		next = n->next;
		n->ops->release(n);
	}
	vm_destroy(as->pml4);
	devmem_release(as);
	kfree(as);
}

void aspace_activate(struct aspace *as)
{
	// The bit before CR3: a CPU that changes the tables and then reads
	// cpus either sees this one, or this one walks the changed tables.
	__atomic_fetch_or(&as->cpus, 1ul << this_cpu()->id, __ATOMIC_SEQ_CST);
	vm_switch(as->pml4);
	this_cpu()->as = as;
}

void aspace_deactivate(struct aspace *as)
{
	__atomic_fetch_and(&as->cpus, ~(1ul << this_cpu()->id), __ATOMIC_SEQ_CST);
	if (this_cpu()->as == as)
		this_cpu()->as = NULL;
}

struct aspace *aspace_current(void)
{
	return this_cpu()->as;
}

void aspace_lock(struct aspace *as)
{
	if (this_cpu()->ncli != 0)
		panic("aspace_lock: cpu %d holds another spinlock: the holder of the "
		      "address space's lock may wait for this CPU", this_cpu()->id);
	spin_lock_polling(&as->lock, ipi_answer);
}

void aspace_unlock(struct aspace *as)
{
	spin_unlock(&as->lock);
}

struct flush {
	struct aspace *as;
	uint64_t va, len;
};

// On each CPU of a shootdown: forget the translations of the range.
static void flush_here(void *arg)
{
	const struct flush *f = arg;

	if (read_cr3() != V2P(f->as->pml4))
		return;         // its CR3 reload since dropped them
	if (f->len / PAGE_SIZE > FLUSH_ALL_PAGES) {
		write_cr3(read_cr3());
		return;
	}
	for (uint64_t va = f->va; va < f->va + f->len; va += PAGE_SIZE)
		asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

// Makes every CPU that has as loaded forget [va, va + len) (as->lock
// held, the tables already changed).
static void shootdown(struct aspace *as, uint64_t va, uint64_t len)
{
	struct flush f = { as, va, len };

	// The tables' stores before the read of cpus (aspace_activate).
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ipi_call(__atomic_load_n(&as->cpus, __ATOMIC_SEQ_CST) | (1ul << this_cpu()->id),
		 flush_here, &f);
}

#define NOTIFY(as, op, ...)                                                     \
	do {                                                                    \
		for (struct aspace_notifier *n_ = (as)->notifiers; n_; n_ = n_->next) \
			if (n_->ops->op != NULL)                                \
				n_->ops->op(n_, __VA_ARGS__);                   \
	} while (0)

// The pages cleared since the last shootdown, freed after it.
struct unmap_batch {
	uint64_t start;         // the first address not yet shot down
	int n;
	struct page *pages[UNMAP_BATCH];
};

static void flush_batch(struct aspace *as, struct unmap_batch *b, uint64_t end)
{
	if (end > b->start)
		shootdown(as, b->start, end - b->start);
	for (int i = 0; i < b->n; i++)
		page_put(b->pages[i]);
	b->n = 0;
	b->start = end;
}

// The first address at or after va that a page table covers: the tables
// missing above it map nothing, so a walk of a range that is mostly
// empty (a munmap of terabytes) skips them whole.
static uint64_t next_table(pte_t *pml4, uint64_t va)
{
	for (int level = PT_LEVELS - 1; level > 0; level--) {
		pte_t *e = pt_walk_level(pml4, va, level, false);
		if (*e & PTE_PS)
			break;
		if (!(*e & PTE_P)) {
			uint64_t span = (uint64_t)PAGE_SIZE << (9 * level);
			return (va & ~(span - 1)) + span;
		}
	}
	return va;
}

void aspace_unmap(struct aspace *as, uint64_t va, uint64_t len)
{
	struct unmap_batch b = { .start = va };

	aspace_lock(as);
	// First: pages of the range are freed as the batches fill, and the
	// lock keeps a mirror from refilling what it drops.
	if (len > 0)
		NOTIFY(as, unmap, va, len);
	devmem_unmap_locked(as, va, len);
	for (uint64_t a = next_table(as->pml4, va); a < va + len;
	     a = next_table(as->pml4, a + PAGE_SIZE)) {
		pte_t *pte = pt_walk(as->pml4, a, false);
		if (pte == NULL || !(*pte & PTE_P))
			continue;
		if (*pte & PTE_PS)
			panic("aspace_unmap: 0x%lx lies in a 2 MiB page (entry 0x%lx)", a, *pte);
		pte_t old = *pte;
		*pte = 0;
		if (!(old & PTE_NOREF))
			b.pages[b.n++] = pa_to_page(PTE_ADDR(old));
		if (b.n == UNMAP_BATCH)
			flush_batch(as, &b, a + PAGE_SIZE);
	}
	flush_batch(as, &b, va + len);
	aspace_unlock(as);
}

#define USER_PERM (PTE_U | PTE_W | PTE_NX)

// The entry e with the permissions perm; a shared page (copy on write,
// or mapped by another address space too) is not made writable but
// copy-on-write (mm/cow.h).
static pte_t with_perm(pte_t e, uint64_t perm)
{
	e &= ~(USER_PERM | PTE_COW);
	if (perm & PTE_W) {
		bool shared = !(e & PTE_NOREF) && pa_to_page(PTE_ADDR(e))->refcount > 1;
		perm = shared ? (perm & ~PTE_W) | PTE_COW : perm;
	}
	return e | (perm & (USER_PERM | PTE_COW));
}

int aspace_protect(struct aspace *as, uint64_t va, uint64_t len, uint64_t perm)
{
	aspace_lock(as);
	for (uint64_t a = va; a < va + len; a += PAGE_SIZE) {
		pte_t *pte = pt_walk(as->pml4, a, false);
		if (pte == NULL || !(*pte & PTE_P) || (*pte & PTE_PS)) {
			aspace_unlock(as);
			return -ENOMEM;
		}
	}
	for (uint64_t a = va; a < va + len; a += PAGE_SIZE) {
		pte_t *pte = pt_walk(as->pml4, a, false);
		*pte = with_perm(*pte, perm);
	}
	NOTIFY(as, protect, va, len, perm);
	shootdown(as, va, len);
	aspace_unlock(as);
	return 0;
}

// True if entry e lets a user access of this kind through.
static bool allows(pte_t e, uint64_t error_code)
{
	if (!(e & PTE_P) || !(e & PTE_U) || (error_code & PF_RSVD))
		return false;
	if ((error_code & PF_WRITE) && !(e & PTE_W))
		return false;
	return !((error_code & PF_FETCH) && (e & PTE_NX));
}

bool aspace_fault(struct aspace *as, uint64_t va, uint64_t error_code)
{
	va &= ~(uint64_t)(PAGE_SIZE - 1);
	if (va >= USER_TOP)
		return false;
	aspace_lock(as);
	pte_t *pte = pt_walk(as->pml4, va, false);
	pte_t before = pte != NULL ? *pte : 0;
	bool ok = allows(before, error_code);

	if (ok) {
		// Another CPU widened the entry; this one cached the old one.
		asm volatile("invlpg (%0)" : : "r"(va) : "memory");
	} else if (before & PTE_COW) {
		// Other CPUs may still read the old page through their TLBs:
		// keep it alive until they forgot it.
		struct page *old = (before & PTE_NOREF) ? NULL : pa_to_page(PTE_ADDR(before));
		if (old != NULL)
			page_get(old);
		ok = cow_fault(as->pml4, va, error_code);
		if (ok) {
			NOTIFY(as, cow_break, va);
			shootdown(as, va, PAGE_SIZE);
		}
		if (old != NULL)
			page_put(old);
	}
	aspace_unlock(as);
	return ok;
}

struct aspace *aspace_fork(struct aspace *src)
{
	struct aspace *as = aspace_create();

	if (as == NULL)
		return NULL;
	aspace_lock(src);
	int err = vm_copy_cow(as->pml4, src->pml4);
	as->heap_start = src->heap_start;
	as->brk = src->brk;
	// Its writable pages are copy-on-write now, on every CPU.
	NOTIFY(src, protect, 0, USER_TOP, PTE_U);
	shootdown(src, 0, USER_TOP);
	aspace_unlock(src);
	if (err < 0) {
		aspace_put(as);
		return NULL;
	}
	return as;
}

void aspace_notifier_register(struct aspace *as, struct aspace_notifier *n)
{
	aspace_lock(as);
	n->next = as->notifiers;
	as->notifiers = n;
	aspace_unlock(as);
}

void aspace_notifier_unregister(struct aspace *as, struct aspace_notifier *n)
{
	aspace_lock(as);
	for (struct aspace_notifier **pp = &as->notifiers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	aspace_unlock(as);
}

struct aspace_notifier *aspace_notifier_register_once(struct aspace *as,
						      struct aspace_notifier *n)
{
	struct aspace_notifier *found;

	aspace_lock(as);
	for (found = as->notifiers; found != NULL && found->ops != n->ops; found = found->next)
		;
	if (found == NULL) {
		n->next = as->notifiers;
		as->notifiers = found = n;
	}
	aspace_unlock(as);
	return found;
}
