// Address spaces as objects: what the threads of a process share.
//
// A struct aspace owns a PML4 (mm/vm.h) and the user half below it. It is
// reference counted (each thread of a process holds one) and has:
//   - a lock for every change of its user mappings and of its heap end;
//   - the set of CPUs that have it loaded in CR3 (cpus, bit i = cpus[i]):
//     a change that removes or narrows a mapping is shot down on those
//     CPUs (an interprocessor interrupt, cpu/ipi.h) before the lock is
//     released and before any page it unmapped is freed, so no CPU keeps
//     a stale translation (SDM Vol. 3A 4.10.4);
//   - change notifiers, for anything that mirrors the mappings (the EPT
//     of a Dune process: guest-physical = host-virtual, so its EPT entries
//     follow these page tables and must drop what they drop).
//
// Lock rules: as->lock is taken with no other spinlock held, and its
// waiters answer cross-CPU calls while they spin (spin_lock_polling), so
// its holder may wait for a shootdown. It comes before `pages` and
// `heap` (it allocates) and `console` (a notifier may print).
//
// A fresh address space that no CPU has loaded and no other thread
// shares (exec and process creation build it) may be changed with the
// plain vm_* calls, without the lock.

#ifndef KERNEL_MM_ASPACE_H
#define KERNEL_MM_ASPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/vm.h"
#include "sync/spinlock.h"

struct aspace_notifier;
struct mmio_region;
struct dma_range;

// What a notifier is told. Each call comes with as->lock held and
// interrupts off, before any page the change lets go of is freed (unmap
// comes first, the others once the page tables changed); a callback must not sleep, take as->lock or wait
// for other CPUs. It drops (or narrows) its own copies of the
// translations and may refill them later from the page tables, under
// as->lock. The shootdown IPI that follows reaches every CPU that has
// the address space loaded (a vCPU running on one is made to exit).
struct aspace_notifier_ops {
	// [va, va + len) is no longer mapped (munmap, sbrk shrinking).
	void (*unmap)(struct aspace_notifier *n, uint64_t va, uint64_t len);
	// The pages of [va, va + len) now allow at most perm (PTE_U: user
	// access at all, PTE_W, PTE_NX): mprotect (exact), and fork, which
	// makes every user page copy-on-write ([0, USER_TOP), PTE_U).
	void (*protect)(struct aspace_notifier *n, uint64_t va, uint64_t len, uint64_t perm);
	// The copy-on-write page at va is now private and writable; the
	// physical page behind va may have changed.
	void (*cow_break)(struct aspace_notifier *n, uint64_t va);
	// The address space is being freed (its last reference went): the
	// notifier is unregistered. Called without the lock.
	void (*release)(struct aspace_notifier *n);
};

// Embedded in the subscriber's own structure.
struct aspace_notifier {
	const struct aspace_notifier_ops *ops;
	struct aspace_notifier *next;   // as->lock
};

struct aspace {
	pte_t *pml4;
	int refcount;                   // atomic
	struct spinlock lock;
	uint64_t heap_start, brk;       // lock: the heap (sbrk)
	uint64_t cpus;                  // atomic: CPUs with pml4 in CR3
	struct aspace_notifier *notifiers;      // lock
	// Device memory (mm/devmem.h).
	struct mmio_region *mmio;       // lock: emulated registers
	uint64_t mmio_next;             // lock: the MMIO window's next free address
	struct dma_range *dma;          // lock and dma_lock: DMA memory
	uint64_t dma_next;              // lock: the DMA window's next free address
	uint64_t dma_bytes;             // lock: bytes of the DMA blocks held
	struct spinlock dma_lock;
};

// A new address space, empty user half, one reference. NULL if out of
// memory.
struct aspace *aspace_create(void);
struct aspace *aspace_get(struct aspace *as);
// Drops a reference; the last one tells the notifiers (release) and
// frees the mappings, tables and object. No CPU may have it loaded.
void aspace_put(struct aspace *as);

// Loads as on this CPU (CR3) and counts the CPU in as->cpus.
void aspace_activate(struct aspace *as);
// Takes this CPU out of as->cpus; CR3 must already point elsewhere.
void aspace_deactivate(struct aspace *as);
// The address space loaded on this CPU (the current process's while it
// runs, in a system call too), or NULL: the user memory that
// mm/uaccess.h reaches.
struct aspace *aspace_current(void);

void aspace_lock(struct aspace *as);
void aspace_unlock(struct aspace *as);

// Removes the mappings of [va, va + len) (page-aligned, in the user
// half; pages not mapped are skipped) and the MMIO regions it overlaps,
// tells the notifiers, shoots the translations down and frees the pages
// no one else maps.
void aspace_unmap(struct aspace *as, uint64_t va, uint64_t len);

// Sets the permissions perm (PTE_U, PTE_W, PTE_NX; 0: no user access) of
// every page of [va, va + len) (page-aligned, user half). Returns 0, or
// -ENOMEM, changing nothing, if a page of the range is not mapped. A
// copy-on-write page stays so: PTE_W makes it writable at its next
// write fault.
int aspace_protect(struct aspace *as, uint64_t va, uint64_t len, uint64_t perm);

// Handles a user page fault at va (error_code from the CPU): a stale
// translation of this CPU (the page tables allow the access: another CPU
// widened them) or a write to a copy-on-write page. Returns true if the
// access can be retried.
bool aspace_fault(struct aspace *as, uint64_t va, uint64_t error_code);

// fork: a new address space sharing every user page of src
// copy-on-write, with src's heap; without its device memory (DMA pages,
// device registers, MMIO regions: mm/devmem.h). NULL if out of memory.
struct aspace *aspace_fork(struct aspace *src);

// Subscribes n to the changes of as / ends the subscription.
void aspace_notifier_register(struct aspace *as, struct aspace_notifier *n);
void aspace_notifier_unregister(struct aspace *as, struct aspace_notifier *n);
// Subscribes n unless a notifier with the same ops is subscribed already;
// returns the one that is (n, or that other one). For a mirror that must
// exist once per address space whichever thread makes it first.
struct aspace_notifier *aspace_notifier_register_once(struct aspace *as,
						      struct aspace_notifier *n);

#endif
