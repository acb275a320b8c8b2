// mmtest BASE PAGES U0 U1 P0 P1 HEAP W: maps PAGES pages at BASE (page i
// holds i + 1), unmaps pages [U0, U0 + U1) and makes [P0, P0 + P1)
// read-only, grows and shrinks the heap by HEAP pages. Children show
// that the changes hold: one writes the read-only page P0, one reads the
// unmapped page U0, one reads page W after it was made inaccessible; each
// dies of it. Then pages P0 and W are made writable again and written,
// page 0 is written (a copy-on-write break left over from the forks),
// and bad arguments get their errors; the last one reads from a pipe into
// the last page (a copy-on-write break in the kernel's copy_to_user). The kernel's test (lab4.aspace) prints what the
// address space's notifiers were told.
#include "arch/memlayout.h"
#include "ulib.h"


static uint64_t arg(char **argv, int i)
{
	return strtoul(argv[i], NULL, 0);
}

static void result(const char *what, int64_t value)
{
	printf("mmtest: %s = %ld\n", what, value);
}

// A child that touches addr (writes it if write) and should die of it.
static void child(const char *what, volatile uint64_t *addr, int write)
{
	int status;

	if (fork() == 0) {
		if (write)
			*addr = 0;
		else
			printf("mmtest: child read %lu\n", *addr);
		exit(0);
	}
	wait(&status);
	printf("mmtest: child that %s ended with status %d\n", what, status);
}

int main(int argc, char **argv)
{
	if (argc != 9) {
		printf("mmtest: usage: mmtest BASE PAGES U0 U1 P0 P1 HEAP W\n");
		return 1;
	}
	uint64_t base = arg(argv, 1), pages = arg(argv, 2), heap = arg(argv, 7);
	volatile uint64_t *u0 = (uint64_t *)(base + arg(argv, 3) * PAGE_SIZE);
	volatile uint64_t *p0 = (uint64_t *)(base + arg(argv, 5) * PAGE_SIZE);
	volatile uint64_t *w = (uint64_t *)(base + arg(argv, 8) * PAGE_SIZE);

	result("map", map((void *)base, pages * PAGE_SIZE, PROT_READ | PROT_WRITE));
	for (uint64_t i = 0; i < pages; i++)
		*(volatile uint64_t *)(base + i * PAGE_SIZE) = i + 1;
	result("munmap", munmap((void *)u0, arg(argv, 4) * PAGE_SIZE));
	result("mprotect", mprotect((void *)p0, arg(argv, 6) * PAGE_SIZE, PROT_READ));
	printf("mmtest: read-only page holds %lu\n", *p0);

	char *h = sbrk((intptr_t)(heap * PAGE_SIZE));
	h[0] = 1;
	sbrk(-(intptr_t)(heap * PAGE_SIZE));
	printf("mmtest: heap 0x%lx\n", (uint64_t)h);

	child("wrote a read-only page", p0, 1);
	child("read an unmapped page", u0, 0);
	result("mprotect(W, none)", mprotect((void *)w, PAGE_SIZE, PROT_NONE));
	child("read an inaccessible page", w, 0);

	result("mprotect(P0, read-write)", mprotect((void *)p0, PAGE_SIZE, PROT_READ | PROT_WRITE));
	*p0 += 100;
	printf("mmtest: page P0 holds %lu\n", *p0);
	result("mprotect(W, read-write)", mprotect((void *)w, PAGE_SIZE, PROT_READ | PROT_WRITE));
	*w += 1000;
	printf("mmtest: page W holds %lu\n", *w);
	*(volatile uint64_t *)base += 10000;
	printf("mmtest: page 0 holds %lu\n", *(volatile uint64_t *)base);

	result("munmap(unaligned)", munmap((void *)(base + 1), PAGE_SIZE));
	result("munmap(kernel)", munmap((void *)0xFFFF800000000000ul, PAGE_SIZE));
	result("munmap(non-canonical)", munmap((void *)0x0001000000000000ul, PAGE_SIZE));
	result("munmap(past the user half)", munmap((void *)0x00007FFFFFFFF000ul, 2 * PAGE_SIZE));
	result("munmap(wrapping length)", munmap((void *)base, -PAGE_SIZE));
	result("munmap(zero length)", munmap((void *)base, 0));
	result("munmap(the last user page)", munmap((void *)0x00007FFFFFFFF000ul, PAGE_SIZE));
	result("mprotect(unmapped)", mprotect((void *)u0, PAGE_SIZE, PROT_READ));
	result("mprotect(bad prot)", mprotect((void *)base, PAGE_SIZE, 8));
	result("mprotect(kernel)", mprotect((void *)0xFFFFFFFF80000000ul, PAGE_SIZE, PROT_READ));
	result("map(16 TiB)", map((void *)0x100000000ul, 0x100000000000ul, PROT_READ));
	result("map(over a mapped page)", map((void *)(base - PAGE_SIZE), 2 * PAGE_SIZE, PROT_READ));
	result("sbrk(64 TiB)", (int64_t)sbrk(0x400000000000l));
	int fds[2];
	pipe(fds);
	write(fds[1], "x", 1);
	close(fds[1]);
	result("read(into unmapped)", read(fds[0], (void *)u0, 1));
	void *last = (void *)(base + (pages - 1) * PAGE_SIZE);
	result("read(huge length)", read(fds[0], last, 0x7FFFFFFFFFFFul));
	return 0;
}
