// libdune: the ring-0 library of a Dune process (docs/libdune.md).
//
// The names and meanings are those of Dune's libdune (Belay et al., OSDI
// 2012), written anew for this kernel's Dune mode (vmx/dune/dune.h). A
// program calls dune_init once, then dune_enter in each thread that is to
// run in Dune mode; dune_enter returns 0 in VMX non-root ring 0 with the
// thread's registers, stack and memory as they were. From there the
// program owns its page tables (pgroot, dune_vm_*), its exceptions
// (dune_register_*_handler) and ring 3 (dune_jump_to_user).
//
// Memory: guest-virtual = host-virtual over both windows of dune.h (the
// first 63 GiB and the top GiB of the user half), each page at its
// guest-physical address (dune_va_to_pa), in 2 MiB pages, which the
// dune_vm_* calls split into 4 KiB pages where a call needs it. Page-table pages and dune_page_alloc's pages come from a pool
// the library maps at DUNE_POOL_BASE.
//
// System calls: in ring 0, `syscall` reaches the library's stub, which
// asks the kernel with VMCALL, so unmodified code (the user library)
// works in ring 0. From ring 3 it reaches the registered system-call
// handler (dune_register_syscall_handler), else it is passed through.
//
// The differences from Dune's API are listed in docs/libdune.md.

#ifndef LIBDUNE_DUNE_H
#define LIBDUNE_DUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "vmx/dune/dune.h"

// -- entering Dune mode ---------------------------------------------------

// Sets up the library: the page pool, the page tables (pgroot) and the
// IDT. map_full: the windows are user-accessible (PERM_U) as well as
// ring 0's; otherwise ring 0 only, and ring 3 reaches only what the
// program maps with PERM_U. Returns 0, or a negative error (-ENOMEM).
int dune_init(bool map_full);

// Puts the calling thread in Dune mode (VMX non-root ring 0): its own
// GDT, TSS (a stack for exceptions from ring 3, another (IST 1) for
// double faults), the IDT, the SYSCALL MSRs, CR0.WP and pgroot. Returns
// 0 there, with the thread's stack and callee-saved registers as they
// were; or, still in native mode, a negative error (dune.h's, or
// -EINVAL before dune_init).
int dune_enter(void);

static inline int dune_init_and_enter(void)
{
	int err = dune_init(true);

	return err ? err : dune_enter();
}

// -- trap frames and handlers ---------------------------------------------

// The registers of ring 3 (or ring 0) at an exception or a system call.
struct dune_tf {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector;        // the exception's vector, or DUNE_VECTOR_SYSCALL
	uint64_t err;           // its error code (0 if it has none)
	uint64_t rip, cs, rflags, rsp, ss;      // as the CPU pushes them
};

#define DUNE_VECTOR_SYSCALL 256         // tf->vector of a system call
#define DUNE_KERNEL_CS 0x08
#define DUNE_KERNEL_DS 0x10
#define DUNE_USER_DS   0x1B
#define DUNE_USER_CS   0x23
#define DUNE_TSS       0x28

// The ring a frame came from.
static inline int dune_tf_ring(const struct dune_tf *tf)
{
	return (int)(tf->cs & 3);
}

// Handlers run in ring 0 on the thread's exception stack (from ring 3)
// or on the stack that was in use (from ring 0). When one returns, the
// frame (which it may change) is resumed.
typedef void (*dune_pgflt_cb)(uintptr_t addr, uint64_t fec, struct dune_tf *tf);
typedef void (*dune_intr_cb)(struct dune_tf *tf);
typedef void (*dune_syscall_cb)(struct dune_tf *tf);

// Page faults (vector 14) of either ring: addr is CR2, fec the error code.
void dune_register_pgflt_handler(dune_pgflt_cb cb);
// Exceptions of vector vec (0-255; 14 goes to the page-fault handler if
// one is registered). Returns 0, or -EINVAL for a vector out of range.
int dune_register_intr_handler(int vec, dune_intr_cb cb);
// System calls from ring 3 (the number in tf->rax, the result goes
// there). Without one, they are passed through to the kernel.
void dune_register_syscall_handler(dune_syscall_cb cb);

// Continues in ring 3 with the registers of tf (its cs, ss and the IF and
// IOPL bits of rflags are the library's: ring 3, interrupts on, IOPL 0).
// A pointer of the calling thread's own, in Dune mode (ring 0, or a
// handler): what the program keeps per thread, a core's state say.
// NULL until set.
void dune_set_thread_data(void *data);
void *dune_thread_data(void);

// Writes the calling thread's FS base (what ring 3's %fs-relative
// accesses, thread-local variables, reach).
void dune_set_fs_base(uint64_t base);

// Returns the value a handler passes to dune_ret_from_user.
int dune_jump_to_user(struct dune_tf *tf);
// From a handler of an event of ring 3: abandons ring 3 and returns ret
// from the dune_jump_to_user that entered it.
__attribute__((noreturn)) void dune_ret_from_user(int ret);

// Asks the kernel for tf's system call (number tf->rax, arguments rdi,
// rsi, rdx, r10, r8, r9) and puts the result in tf->rax.
void dune_passthrough_syscall(struct dune_tf *tf);
// The kernel's system call nr by VMCALL (in Dune mode) or syscall (not yet).
int64_t dune_vmcall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2);

// Prints a frame (registers, vector, error code, CR2).
void dune_dump_trap_frame(const struct dune_tf *tf);

// -- page tables ----------------------------------------------------------

typedef uint64_t ptent_t;

#define PERM_NONE   0x0000      // no access
#define PERM_R      0x0001      // read (every present page is readable)
#define PERM_W      0x0002      // write
#define PERM_X      0x0004      // execute (else the page is no-execute)
#define PERM_U      0x0008      // ring 3 may use it
#define PERM_UC     0x0010      // uncached
#define PERM_COW    0x0020      // copy on write (a software bit; the page is read-only)
#define PERM_BIG    0x0100      // 2 MiB pages (va, pa and len 2 MiB-aligned)

#define PERM_SCODE  (PERM_R | PERM_X)
#define PERM_STEXT  (PERM_R | PERM_W)
#define PERM_SSTACK PERM_STEXT
#define PERM_UCODE  (PERM_R | PERM_U | PERM_X)
#define PERM_UTEXT  (PERM_R | PERM_U | PERM_W)
#define PERM_USTACK PERM_UTEXT

// The CPU's page-table entry bits, PTE_ADDR(e), PT_ENTRIES and the page
// sizes are arch/mmu.h's and arch/memlayout.h's (SDM Vol. 3A 4.5); these
// software bits, ignored by the CPU, are the library's own.
#define PTE_COW  0x200ul        // software: copy on write
#define PTE_POOL 0x400ul        // software: a pool page, counted (dune_page_get)

// Dune's names for the page sizes.
#define PGSIZE     ((uintptr_t)PAGE_SIZE)
#define BIG_PGSIZE ((uintptr_t)LARGE_PAGE_SIZE)
#define PGADDR(va) ((uintptr_t)(va) & ~(PGSIZE - 1))

// The page tables every thread starts on (guest-physical = its address).
extern ptent_t *pgroot;

// dune_vm_lookup's create: none (-ENOENT where a table is missing), and
// (any nonzero value) tables made and 2 MiB pages split as needed.
#define CREATE_NONE   0
#define CREATE_NORMAL 1

// The entry of va's 4 KiB page in *pte_out; without create it may be
// the 2 MiB entry that covers va (PTE_PS). Returns 0, -ENOENT, -ENOMEM.
int dune_vm_lookup(ptent_t *root, void *va, int create, ptent_t **pte_out);
// Maps [va, va + len) to guest-physical [pa, pa + len) with perm.
// Returns 0, -EINVAL (unaligned), -ENOMEM.
int dune_vm_map_phys(ptent_t *root, void *va, size_t len, void *pa, int perm);
// Maps the process's own memory [va, va + len) at its guest-physical
// address (dune_va_to_pa). Returns 0, -EINVAL (outside the windows), -ENOMEM.
int dune_vm_map_pages(ptent_t *root, void *va, size_t len, int perm);
// Sets perm on every mapped page of [va, va + len). Returns 0, or
// -ENOMEM if a page of it is not mapped (the pages before it are set).
int dune_vm_mprotect(ptent_t *root, void *va, size_t len, int perm);
// Unmaps [va, va + len) (pool pages mapped there lose a reference).
void dune_vm_unmap(ptent_t *root, void *va, size_t len);
// Calls cb(arg, pte, va) for each present leaf of [start_va, end_va]
// (end inclusive) in order; stops at the first nonzero result, which it
// returns (else 0).
typedef int (*page_walk_cb)(const void *arg, ptent_t *ptep, void *va);
int dune_vm_page_walk(ptent_t *root, void *start_va, void *end_va, page_walk_cb cb,
		      const void *arg);
// A copy of the page tables of root: new tables, the same leaf entries
// (pool pages gain a reference). NULL without memory.
ptent_t *dune_vm_clone(ptent_t *root);
// Frees the tables of root (made by dune_vm_clone) and drops the pool
// pages they map.
void dune_vm_free(ptent_t *root);
// Invalidates the TLB entry of va, or all, on this CPU.
void dune_flush_tlb_one(uintptr_t va);
void dune_flush_tlb(void);
// Loads root in CR3 (the thread continues on those page tables).
void dune_load_root(ptent_t *root);

// -- pages ----------------------------------------------------------------

struct page {
	struct page *next;      // on the free list
	uint32_t ref;
};

#define DUNE_POOL_BASE  0x0000000800000000ul    // 32 GiB
#define DUNE_POOL_PAGES 16384                   // 64 MiB at most

// A page of the pool (contents undefined; ref 1), or NULL.
struct page *dune_page_alloc(void);
// Back on the free list.
void dune_page_free(struct page *pg);
void dune_page_get(struct page *pg);
void dune_page_put(struct page *pg);
uintptr_t dune_page2pa(struct page *pg);
struct page *dune_pa2page(uintptr_t pa);
bool dune_page_isfrompool(uintptr_t pa);
// Pages of the pool in use now.
size_t dune_page_count(void);

// -- output and the end ---------------------------------------------------

int dune_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Ends the process (status 1).
__attribute__((noreturn)) void dune_die(void);
// The current privilege level (0 in Dune mode's ring 0, 3 natively).
int dune_cpl(void);

#endif
