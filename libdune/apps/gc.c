// gc TOKEN: what a garbage collector asks of the memory system (Appel and
// Li, ASPLOS 1991), natively and with libdune, as in the Dune paper:
// which pages of its heap did the mutator write since the last
// collection? Three ways, each reporting the same pages:
//   native      mprotect the heap read-only; SIGSEGV on each first write,
//               the handler records the page and unprotects it
//   dune-prot   the same with the process's own page tables
//               (dune_vm_mprotect) and its own page-fault handler
//   dune-dirty  no faults at all: clear the dirty bits of the heap's
//               page-table entries, and read them back after (a page walk);
//               twice, as a collector does collection after collection
// The mutator writes page i of HEAP_PAGES when bit i % 37 of TOKEN is
// set. Then the Appel-Li primitives, timed both ways: prot1, trap,
// unprot, protN, appel1, appel2.
#include "arch/x86.h"
#include "lib/printfmt.h"
#include "libdune/apps/vmprim.h"
#include "libdune/dune.h"
#include "ulib.h"

#define HEAP_VA     0x60000000ul
#define HEAP_PAGES  64
#define ROUNDS      200

static uint64_t token;
static volatile char *const heap = (volatile char *)HEAP_VA;
static bool dirty[HEAP_PAGES];

static void protect(uintptr_t va, size_t len, bool writable)
{
	vmprim_protect((void *)va, len, writable);
}

// -- the write barrier by protection --

// The first write to a protected page of the heap: the page is dirty,
// and writable from now on (the write is retried).
static void record(uintptr_t addr)
{
	// BEGIN LAB 8 SOLUTION: appel_li
	uintptr_t page = PGADDR(addr);

	dirty[(page - HEAP_VA) / PGSIZE] = true;
	protect(page, PGSIZE, true);
	// STUB:
	// printf("gc: LAB 8: the write at 0x%lx not recorded\n", addr);
	// exit(1);
	// END LAB 8
}

static void native_record(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	record(info->addr);
}

static void dune_record(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	record(addr);
}

static void mutate(void)
{
	for (int i = 0; i < HEAP_PAGES; i++)
		if ((token >> (i % 37)) & 1)
			heap[i * PGSIZE + 8] = (char)i;
	for (int i = 0; i < HEAP_PAGES; i++)      // reads never count
		(void)heap[i * PGSIZE];
}

static void report(const char *how, uint64_t cycles)
{
	char line[400];
	int n = 0, count = 0;

	for (int i = 0; i < HEAP_PAGES; i++)
		count += dirty[i];
	n += snprintf(line + n, sizeof(line) - n, "gc: %s: %d pages written:", how, count);
	for (int i = 0; i < HEAP_PAGES && n < (int)sizeof(line) - 4; i++)
		if (dirty[i])
			n += snprintf(line + n, sizeof(line) - n, " %d", i);
	if (vmprim_in_dune())
		dune_printf("%s\n", line);
	else
		printf("%s\n", line);
	if (vmprim_in_dune())
		dune_printf("gc: %s: %lu cycles for the collection's write barrier\n", how, cycles);
	else
		printf("gc: %s: %lu cycles for the collection's write barrier\n", how, cycles);
}

static void by_protection(const char *how)
{
	memset(dirty, 0, sizeof(dirty));
	uint64_t start = rdtsc();
	protect(HEAP_VA, HEAP_PAGES * PGSIZE, false);
	if (vmprim_in_dune())
		dune_register_pgflt_handler(dune_record);
	else
		sigaction(SIGSEGV, native_record);
	mutate();
	uint64_t end = rdtsc();
	report(how, end - start);
}

// -- the write barrier by dirty bits --

// Page walk callbacks (dune_vm_page_walk) over the heap's 4 KiB entries:
// the CPU sets an entry's dirty bit (PTE_D) at a write through it, and
// a translation cached in the TLB keeps the bit it was loaded with.
static int clear_dirty(const void *arg, ptent_t *pte, void *va)
{
	// BEGIN LAB 8 SOLUTION: appel_li
	*pte &= ~PTE_D;
	dune_flush_tlb_one((uintptr_t)va);
	return 0;
	// STUB:
	// (void)pte, (void)va;
	// return -ENOSYS;
	// END LAB 8
}

static int collect_dirty(const void *arg, ptent_t *pte, void *va)
{
	// BEGIN LAB 8 SOLUTION: appel_li
	if (*pte & PTE_D)
		dirty[((uintptr_t)va - HEAP_VA) / PGSIZE] = true;
	return 0;
	// STUB:
	// (void)pte, (void)va;
	// return -ENOSYS;
	// END LAB 8
}

static void by_dirty_bits(void)
{
	void *end_va = (void *)(HEAP_VA + HEAP_PAGES * PGSIZE - 1);

	dune_register_pgflt_handler(NULL);
	protect(HEAP_VA, HEAP_PAGES * PGSIZE, true);    // 4 KiB entries, each with its bit
	// Two collections: the second starts with the translations the
	// first's mutator left in the TLB, dirty.
	uint64_t start = 0;
	for (int round = 0; round < 2; round++) {
		memset(dirty, 0, sizeof(dirty));
		start = rdtsc();
		dune_vm_page_walk(pgroot, (void *)HEAP_VA, end_va, clear_dirty, NULL);
		mutate();
		dune_vm_page_walk(pgroot, (void *)HEAP_VA, end_va, collect_dirty, NULL);
	}
	uint64_t end = rdtsc();
	report("dune-dirty", end - start);
}

// -- the Appel-Li primitives --

enum { PROT1, TRAP, UNPROT, PROTN, APPEL1, APPEL2, PRIMS };
static const char *const prim_names[PRIMS] = { "prot1", "trap", "unprot", "protN", "appel1",
					       "appel2" };
static uint64_t prims[2][PRIMS];

static void primitives(int mode)
{
	uint64_t *p = prims[mode], t;

	protect(HEAP_VA, HEAP_PAGES * PGSIZE, true);
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t a = rdtsc();
		protect(HEAP_VA, PGSIZE, false);
		uint64_t b = rdtsc();
		protect(HEAP_VA, PGSIZE, true);
		p[PROT1] += b - a, p[UNPROT] += rdtsc() - b;
	}
	p[PROT1] /= ROUNDS, p[UNPROT] /= ROUNDS;
	for (int i = 0; i < ROUNDS / 10; i++) {
		uint64_t a = rdtsc();
		protect(HEAP_VA, HEAP_PAGES * PGSIZE, false);
		p[PROTN] += rdtsc() - a;
		protect(HEAP_VA, HEAP_PAGES * PGSIZE, true);
	}
	p[PROTN] /= ROUNDS / 10;
	protect(HEAP_VA, PGSIZE, false);
	vmprim_on_fault(VMPRIM_SKIP);
	t = rdtsc();
	for (int i = 0; i < ROUNDS; i++)
		write_and_skip(heap);
	p[TRAP] = (rdtsc() - t) / ROUNDS;
	protect(HEAP_VA, PGSIZE, true);

	protect(HEAP_VA, PGSIZE, false);
	vmprim_region(heap, HEAP_PAGES, 1);
	vmprim_on_fault(VMPRIM_UNPROTECT_NEXT);
	t = rdtsc();
	for (int i = 0; i < ROUNDS; i++)
		heap[(i % HEAP_PAGES) * PGSIZE] = 1;
	p[APPEL1] = (rdtsc() - t) / ROUNDS;

	protect(HEAP_VA, HEAP_PAGES * PGSIZE, true);
	vmprim_on_fault(VMPRIM_UNPROTECT);
	t = rdtsc();
	for (int round = 0; round < ROUNDS / HEAP_PAGES + 1; round++) {
		protect(HEAP_VA, HEAP_PAGES * PGSIZE, false);
		for (int i = 0; i < HEAP_PAGES; i++)
			heap[i * PGSIZE] = 1;
	}
	p[APPEL2] = (rdtsc() - t) / ((ROUNDS / HEAP_PAGES + 1) * HEAP_PAGES);
	protect(HEAP_VA, HEAP_PAGES * PGSIZE, true);
}

int main(int argc, char **argv)
{
	token = argc > 1 ? strtoul(argv[1], NULL, 0) : 0x123456789ul;
	if (map((void *)HEAP_VA, HEAP_PAGES * PGSIZE, PROT_READ | PROT_WRITE) < 0) {
		printf("gc: no memory for the heap\n");
		return 1;
	}
	by_protection("native");
	primitives(0);
	sigaction(SIGSEGV, SIG_DFL);

	int err;
	if ((err = dune_init(false)) < 0 || (err = dune_enter()) < 0) {
		printf("gc: dune_init or dune_enter failed: %d\n", err);
		return 1;
	}
	by_protection("dune-prot");
	by_dirty_bits();
	primitives(1);
	for (int i = 0; i < PRIMS; i++)
		dune_printf("gc: %-7s native %7lu cycles, dune %7lu cycles\n", prim_names[i],
			    prims[0][i], prims[1][i]);
	return 0;
}
