// libdune's insides, shared by its C files and entry.S.

#ifndef LIBDUNE_INTERNAL_H
#define LIBDUNE_INTERNAL_H

// struct dune_percpu (below): what entry.S reaches through GS.
#define PERCPU_TMP      0       // the user's RSP at a system call
#define PERCPU_KSTACK   8       // the top of the exception stack (the TSS's rsp0)
#define PERCPU_JMP_RSP  16      // dune_jump_to_user's stack, for dune_ret_from_user
#define PERCPU_SELF     24

// The offsets in struct dune_tf (dune.h) that entry.S uses.
#define TF_VECTOR 120
#define TF_CS     144
#define TF_SIZE   176

#define DUNE_USER_DS_VALUE 0x1B     // dune.h's DUNE_USER_DS, for entry.S
#define DUNE_USER_CS_VALUE 0x23

#define KSTACK_PAGES 4
#define IST_PAGES    2

#ifndef __ASSEMBLER__
#include <stdint.h>

#include "dune.h"

struct __attribute__((packed)) dune_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

// One per thread in Dune mode, in a page of the pool; GS base points at
// it in ring 0 (KERNEL_GS_BASE while ring 3 runs).
struct dune_percpu {
	uint64_t tmp;
	uint64_t kstack;
	uint64_t jmp_rsp;
	struct dune_percpu *self;
	uint64_t gdt[7] __attribute__((aligned(16)));
	struct dune_tss tss;
	void *kstack_base;      // KSTACK_PAGES pages
	void *ist_base;         // IST_PAGES pages
	void *thread_data;      // dune_set_thread_data's
};

_Static_assert(__builtin_offsetof(struct dune_percpu, kstack) == PERCPU_KSTACK, "percpu");
_Static_assert(__builtin_offsetof(struct dune_percpu, jmp_rsp) == PERCPU_JMP_RSP, "percpu");
_Static_assert(__builtin_offsetof(struct dune_percpu, self) == PERCPU_SELF, "percpu");
_Static_assert(__builtin_offsetof(struct dune_tf, vector) == TF_VECTOR, "tf");
_Static_assert(__builtin_offsetof(struct dune_tf, cs) == TF_CS, "tf");
_Static_assert(sizeof(struct dune_tf) == TF_SIZE, "tf");

// Pages of the pool, zeroed: n contiguous ones (n > 1 only before any
// is freed, from the bump pointer). NULL without memory.
void *dune_pool_zalloc(size_t n);

// Builds pgroot (vm.c).
int dune_vm_init(bool map_full);

// entry.S
extern const uint64_t dune_vectors[256];
extern char dune_syscall_entry[];
int __dune_enter(struct dune_config *config, struct dune_percpu *percpu);
int __dune_jump_to_user(struct dune_tf *tf);

// The first C code of a thread in Dune mode (core.c).
void dune_boot_percpu(struct dune_percpu *p);
#endif

#endif
