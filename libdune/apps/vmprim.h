// The virtual-memory primitives a garbage collector asks of the memory
// system (Appel and Li, ASPLOS 1991), the same calls natively and in Dune
// mode: mprotect and SIGSEGV natively, the process's own page tables
// (dune_vm_mprotect) and page-fault handler in Dune mode. The gc app
// (libdune/apps/gc.c) and the benchmark (libdune/bench/dunebench.c) time
// them both ways.

#ifndef LIBDUNE_APPS_VMPRIM_H
#define LIBDUNE_APPS_VMPRIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// True in Dune mode (ring 0), false natively.
bool vmprim_in_dune(void);

// Makes [va, va + len) read-only or read-write.
void vmprim_protect(void *va, size_t len, bool writable);

// What a write to a read-only page does, from now on:
enum vmprim_fault {
	VMPRIM_DEFAULT,         // kills the process (no handler)
	VMPRIM_SKIP,            // steps over the write (write_and_skip's store): "trap"
	VMPRIM_UNPROTECT,       // makes the page writable, the write goes on: "appel2"
	VMPRIM_UNPROTECT_NEXT,  // the same, and protects the next page of the
	                        // region in turn: "appel1"
};
void vmprim_on_fault(enum vmprim_fault what);

// The pages VMPRIM_UNPROTECT_NEXT protects in turn, starting with the
// page at index next.
void vmprim_region(volatile char *base, int pages, int next);

// Writes RAX to *p with a 3-byte store that a VMPRIM_SKIP fault steps over.
void write_and_skip(volatile char *p);

// The faults the handler of vmprim_on_fault has served, natively and in
// Dune mode.
extern uint64_t vmprim_faults;

#endif
