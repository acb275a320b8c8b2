// sandbox PROGRAM ARGS...: runs an unmodified user program of this kernel
// in ring 3 under libdune, after the Dune paper's sandbox. The program's
// segments, heap and stack are the only pages ring 3 may use (PERM_U);
// the sandbox itself is linked at SANDBOX_BASE (sandbox.ld), ring 0 only.
// Every system call of the program reaches sandbox_syscall, whose policy
// allows it (its pointer arguments checked against the sandboxed memory),
// denies it with an error (logged), or rewrites it (sbrk is served by the
// sandbox, map and munmap are checked and mirrored in the page tables).
// A fault of the program ends it, reported; the sandbox ends with the
// program's status.
//
// The programs it can run are carried in its own image (sandbox_images,
// made by tools/mkimages.py: libdune/Makefrag).
#include "lib/image.h"
#include "libdune/dune.h"
#include "ulib.h"

#define SANDBOX_BASE  0x10000000ul      // sandbox.ld

#define STACK_TOP     0x40000000ul      // the program's stack: [STACK_TOP - STACK_SIZE, STACK_TOP)
#define STACK_SIZE    (16 * PGSIZE)
#define HEAP_MAX      (4ul << 20)
#define MAP_BASE      0x20000000ul      // where the program may map()
#define MAP_END       0x30000000ul
#define MAX_REGIONS   32
#define MAX_ARGS      16

extern const struct image sandbox_images[];
extern const uint64_t sandbox_images_count;

struct elf64_header {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1
#define PF_X 1
#define PF_W 2

// The sandboxed memory: ranges of ring 3's pages.
static struct region {
	uintptr_t start, end;
} regions[MAX_REGIONS];
static int nregions;
static uintptr_t heap_start, heap_end;  // the program's break: [heap_start, heap_end)
static uintptr_t heap_mapped;           // pages mapped up to here
static const char *name;
static uint64_t allowed, denied, rewritten;

static uintptr_t round_up(uintptr_t x)
{
	return (x + PGSIZE - 1) & ~(PGSIZE - 1);
}

// Whether [addr, addr + len) lies in the sandboxed memory: inside one
// region (give() merges adjacent ones), and not wrapping around.
static bool inside(uintptr_t addr, uint64_t len)
{
	// BEGIN LAB 8 SOLUTION: sandbox_policy
	if (addr + len < addr)
		return false;
	for (int i = 0; i < nregions; i++)
		if (addr >= regions[i].start && addr + len <= regions[i].end)
			return true;
	return false;
	// STUB:
	// (void)addr, (void)len;
	// return false;
	// END LAB 8
}

// Memory for ring 3: mapped by the kernel (executable too: the EPT
// follows the kernel's page tables, and ring 3's permissions are those
// of the sandbox's), then in the page tables with PERM_U. Returns 0 or an
// error.
static int give(uintptr_t start, uintptr_t end, int perm)
{
	if (start >= end)
		return 0;
	int64_t err = dune_vmcall(SYS_map, start, end - start, PROT_READ | PROT_WRITE | PROT_EXEC);
	if (err < 0)
		return (int)err;
	err = dune_vm_map_pages(pgroot, (void *)start, end - start, perm | PERM_R | PERM_U);
	if (err)
		return (int)err;
	if (nregions < MAX_REGIONS) {
		// Grow the region it continues, or start one.
		for (int i = 0; i < nregions; i++)
			if (regions[i].end == start) {
				regions[i].end = end;
				return 0;
			}
		regions[nregions++] = (struct region){ start, end };
	}
	return 0;
}

static const struct image *find_image(const char *n)
{
	for (uint64_t i = 0; i < sandbox_images_count; i++)
		if (strcmp(sandbox_images[i].name, n) == 0)
			return &sandbox_images[i];
	return NULL;
}

// Loads the program's PT_LOAD segments; returns the entry or 0.
static uint64_t load(const struct image *img)
{
	const struct elf64_header *h = (const void *)img->start;
	size_t size = (size_t)(img->end - img->start);

	if (size < sizeof(*h) || memcmp(h->ident, "\x7F" "ELF", 4) != 0 ||
	    h->phoff + (uint64_t)h->phnum * sizeof(struct elf64_phdr) > size)
		return 0;
	const struct elf64_phdr *ph = (const void *)(img->start + h->phoff);
	uintptr_t end = 0;
	for (int i = 0; i < h->phnum; i++) {
		if (ph[i].type != PT_LOAD)
			continue;
		uintptr_t start = ph[i].vaddr & ~(PGSIZE - 1), stop = round_up(ph[i].vaddr + ph[i].memsz);
		if (ph[i].offset + ph[i].filesz > size || stop >= SANDBOX_BASE || start < PGSIZE ||
		    give(start, stop, PERM_W))
			return 0;
		memcpy((void *)ph[i].vaddr, img->start + ph[i].offset, ph[i].filesz);
		dune_vm_mprotect(pgroot, (void *)start, stop - start, PERM_R | PERM_U |
				 (ph[i].flags & PF_W ? PERM_W : 0) | (ph[i].flags & PF_X ? PERM_X : 0));
		if (stop > end)
			end = stop;
	}
	heap_start = heap_end = heap_mapped = end;
	return h->entry;
}

// argv on the program's stack, as the kernel's exec lays it out: the
// strings at the top, then the array. Returns the stack pointer.
static uint64_t push_args(int argc, char **argv, uint64_t *argv_va)
{
	uintptr_t top = STACK_TOP;
	char *copies[MAX_ARGS + 1];

	for (int i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]) + 1;
		top -= len;
		memcpy((void *)top, argv[i], len);
		copies[i] = (char *)top;
	}
	copies[argc] = NULL;
	top = (top - (argc + 1) * sizeof(char *)) & ~15ul;
	memcpy((void *)top, copies, (argc + 1) * sizeof(char *));
	*argv_va = top;
	return top & ~15ul;
}

static const char *const call_names[NSYSCALLS] = {
	"exit", "write", "getpid", "sbrk", "map", "read", "fork", "exec", "wait", "yield",
	"sleep", "pipe", "close", "dup", "ps", "shutdown", "programs", "munmap", "mprotect",
	"clone", "join", "thread_exit", "sigaction", "sigreturn", "clock", "setpgid",
	"tcsetpgrp", "dune_enter", "dma_alloc", "nic_open", "nic_wait", "nic_ctl", "mmio_count",
};

static const char *call_name(uint64_t nr)
{
	return nr < NSYSCALLS ? call_names[nr] : "unknown";
}

static void deny(struct dune_tf *tf, int err, const char *why)
{
	denied++;
	dune_printf("sandbox: denied %s(0x%lx, 0x%lx, 0x%lx) from %s: %s, -%d\n", call_name(tf->rax),
		    tf->rdi, tf->rsi, tf->rdx, name, why, err);
	tf->rax = (uint64_t)-err;
}

static void allow(struct dune_tf *tf)
{
	allowed++;
	dune_passthrough_syscall(tf);
}

// sbrk, served here: the break moves within HEAP_MAX; new pages are
// mapped for ring 3.
static void rewrite_sbrk(struct dune_tf *tf)
{
	int64_t inc = (int64_t)tf->rdi;
	uintptr_t old = heap_end, want = heap_end + inc;

	rewritten++;
	if ((inc > 0 && want > heap_start + HEAP_MAX) || (inc < 0 && want < heap_start)) {
		tf->rax = (uint64_t)-ENOMEM;
		return;
	}
	if (round_up(want) > heap_mapped) {
		if (give(heap_mapped, round_up(want), PERM_W)) {
			tf->rax = (uint64_t)-ENOMEM;
			return;
		}
		heap_mapped = round_up(want);
	}
	heap_end = want;
	tf->rax = old;
}

// map, munmap, mprotect: only within [MAP_BASE, MAP_END), mirrored in the
// page tables.
static void rewrite_memory(struct dune_tf *tf)
{
	uintptr_t addr = tf->rdi, len = tf->rsi;
	int prot = (int)tf->rdx;

	if (addr < MAP_BASE || addr + len > MAP_END || addr + len < addr || len == 0 ||
	    (addr | len) & (PGSIZE - 1)) {
		deny(tf, EINVAL, "outside the sandbox's map area");
		return;
	}
	rewritten++;
	if (tf->rax == SYS_map) {
		int err = give(addr, addr + len, prot & PROT_WRITE ? PERM_W : 0);
		tf->rax = (uint64_t)(int64_t)err;
	} else if (tf->rax == SYS_munmap) {
		dune_vm_unmap(pgroot, (void *)addr, len);
		dune_passthrough_syscall(tf);
	} else {
		int perm = PERM_U | (prot & PROT_READ ? PERM_R : 0) | (prot & PROT_WRITE ? PERM_W : 0);
		tf->rax = (uint64_t)(int64_t)dune_vm_mprotect(pgroot, (void *)addr, len, perm);
	}
}

// The policy, for each system call of the program (number in tf->rax,
// arguments in rdi, rsi, rdx): exit ends the program (dune_ret_from_user
// with its status); write to fd 1 or 2 and read from fd 0 of a buffer in
// the program's memory (inside), clock into its memory, getpid, yield
// and sleep are allowed (passed to the kernel); sbrk, map, munmap and
// mprotect are rewritten; everything else is denied with -EPERM. A
// wrong fd is -EBADF, a buffer outside -EFAULT.
static void sandbox_syscall(struct dune_tf *tf)
{
	// BEGIN LAB 8 SOLUTION: sandbox_policy
	switch (tf->rax) {
	case SYS_exit:
		dune_ret_from_user((int)tf->rdi);
	case SYS_write:
		if (tf->rdi != 1 && tf->rdi != 2)
			deny(tf, EBADF, "only the console");
		else if (!inside(tf->rsi, tf->rdx))
			deny(tf, EFAULT, "the buffer is not the program's memory");
		else
			allow(tf);
		break;
	case SYS_read:
		if (tf->rdi != 0)
			deny(tf, EBADF, "only the console");
		else if (!inside(tf->rsi, tf->rdx))
			deny(tf, EFAULT, "the buffer is not the program's memory");
		else
			allow(tf);
		break;
	case SYS_clock:
		if (!inside(tf->rdi, sizeof(struct clock_reading)))
			deny(tf, EFAULT, "the buffer is not the program's memory");
		else
			allow(tf);
		break;
	case SYS_getpid:
	case SYS_yield:
	case SYS_sleep:
		allow(tf);
		break;
	case SYS_sbrk:
		rewrite_sbrk(tf);
		break;
	case SYS_map:
	case SYS_munmap:
	case SYS_mprotect:
		rewrite_memory(tf);
		break;
	default:
		deny(tf, EPERM, "not in the policy");
		break;
	}
	// STUB:
	// (void)allow, (void)inside, (void)rewrite_sbrk, (void)rewrite_memory;
	// if (tf->rax == SYS_exit)
	// 	dune_ret_from_user((int)tf->rdi);
	// deny(tf, ENOSYS, "LAB 8: no policy yet");
	// END LAB 8
}

static void sandbox_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	if (dune_tf_ring(tf) != 3) {
		dune_printf("sandbox: page fault in the sandbox itself at 0x%lx, rip 0x%lx\n", addr,
			    tf->rip);
		dune_die();
	}
	dune_printf("sandbox: %s: page fault at 0x%lx, error 0x%lx, rip 0x%lx: stopped\n", name, addr,
		    fec, tf->rip);
	dune_ret_from_user(128 + 14);
}

static void sandbox_exception(struct dune_tf *tf)
{
	if (dune_tf_ring(tf) != 3) {
		dune_printf("sandbox: exception %lu in the sandbox itself, rip 0x%lx\n", tf->vector,
			    tf->rip);
		dune_die();
	}
	dune_printf("sandbox: %s: exception %lu, error 0x%lx, rip 0x%lx: stopped\n", name,
		    tf->vector, tf->err, tf->rip);
	dune_ret_from_user(128 + (int)tf->vector);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc - 1 > MAX_ARGS) {
		printf("usage: sandbox PROGRAM ARGS...; it can run:");
		for (uint64_t i = 0; i < sandbox_images_count; i++)
			printf(" %s", sandbox_images[i].name);
		printf("\n");
		return 2;
	}
	name = argv[1];
	const struct image *img = find_image(name);
	if (img == NULL) {
		printf("sandbox: no program %s here\n", name);
		return 2;
	}
	// Ring 0 only, but for what give() maps.
	int err;
	if ((err = dune_init(false)) < 0 || (err = dune_enter()) < 0) {
		printf("sandbox: dune_init or dune_enter failed: %d\n", err);
		return 1;
	}
	uint64_t entry = load(img), argv_va;
	if (entry == 0 || give(STACK_TOP - STACK_SIZE, STACK_TOP, PERM_W)) {
		dune_printf("sandbox: cannot load %s\n", name);
		return 1;
	}
	struct dune_tf tf = { .rip = entry, .rdi = (uint64_t)(argc - 1) };
	tf.rsp = push_args(argc - 1, argv + 1, &argv_va);
	tf.rsi = argv_va;
	dune_register_syscall_handler(sandbox_syscall);
	dune_register_pgflt_handler(sandbox_fault);
	for (int v = 0; v < 32; v++)
		if (v != 14)
			dune_register_intr_handler(v, sandbox_exception);
	dune_printf("sandbox: running %s in ring 3\n", name);
	int status = dune_jump_to_user(&tf);
	dune_printf("sandbox: %s ended with status %d; system calls: %lu allowed, %lu denied, "
		    "%lu rewritten\n", name, status, allowed, denied, rewritten);
	return status;
}
