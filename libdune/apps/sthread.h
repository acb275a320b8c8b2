// sthreads (Wedge: Bittau et al., NSDI 2008) on libdune: compartments
// that run in ring 3 on page tables of their own, made from a tagged
// memory policy (libdune/apps/sthread.c; the demo is sthreads.c, the
// benchmark's row libdune/bench/dunebench.c).
//
// A tag is a page of the pool mapped at STHREAD_REGION + i pages, the
// same address for ring 0 (in pgroot) and in every compartment. A policy
// gives each tag to the compartments shared read-write, read-only, copy
// on write, or not at all; everything else of the process is out of
// ring 3's reach but the program's code and constants.

#ifndef LIBDUNE_APPS_STHREAD_H
#define LIBDUNE_APPS_STHREAD_H

#include "libdune/dune.h"

#define STHREAD_REGION   0x3F000000ul   // the tags' 2 MiB
#define STHREAD_MAX_TAGS 64
#define STHREAD_STACK_VA (STHREAD_REGION + BIG_PGSIZE - 2 * PGSIZE)     // 2 pages

enum sthread_tag_mode { TAG_NONE, TAG_RW, TAG_RO, TAG_COW };

// The page tables of a compartment that differ from pgroot: a PML4, a
// PDPT, a PD and the page tables of the program's 2 MiB and of the tags'
// (the other tables are pgroot's, shared); and a stack.
struct sthread {
	ptent_t *pml4, *pdpt, *pd, *pt_code, *pt_region;
	struct page *stack[2];
};

// Registers the handlers sthreads need (page faults: copy on write; and
// system calls: write and exit). Call once, in Dune mode.
void sthread_init(void);
// A new tag (a zeroed pool page at STHREAD_REGION + index pages): its
// address, or 0.
uintptr_t sthread_tag_new(int index);
// Drops the tags [0, n).
void sthread_tags_free(int n);
// The template of a policy: modes[i] for tag i. Returns 0 or -ENOMEM.
int sthread_policy(struct sthread *tpl, const enum sthread_tag_mode *modes, int ntags);
// A new sthread from a template: its private tables copied, its
// copy-on-write tags shared until written, a stack. 0 or -ENOMEM.
int sthread_create(struct sthread *s, const struct sthread *tpl);
// Runs fn(arg) in ring 3 on s's page tables until it exits (its status)
// or faults (-14).
int sthread_run(struct sthread *s, void (*fn)(uint64_t), uint64_t arg);
// Ends s (or a template): its tables, stack and references.
void sthread_free(struct sthread *s);
// Copy-on-write faults served since the start.
extern uint64_t sthread_cow_faults;

#endif
