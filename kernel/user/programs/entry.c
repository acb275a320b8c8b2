// How a process starts: in ring 3 (after system calls too, which return
// with SYSRET and the selectors of IA32_STAR), with interrupts on and no
// other RFLAGS bit the kernel should not leave set, on a zeroed stack of
// USER_STACK_PAGES writable pages that is not executable: the last thing
// it does is call code it put on the stack, which must fault. (Run it
// after a program that leaves its pages dirty: bss.)
#include "arch/memlayout.h"
#include "ulib.h"

// RFLAGS bits a process should find clear or set at its start: IF (set),
// TF, DF, IOPL, NT, AC.
#define WATCHED_FLAGS 0x47700ul

int main(void)
{
	uint64_t cs, ss, rflags;

	asm volatile("pushfq; popq %0" : "=r"(rflags));
	printf("entry: rflags & 0x%lx = 0x%lx\n", WATCHED_FLAGS, rflags & WATCHED_FLAGS);
	// After a system call: the selectors SYSRET loaded.
	asm volatile("movq %%cs, %0; movq %%ss, %1" : "=r"(cs), "=r"(ss));
	printf("entry: cs 0x%lx ss 0x%lx\n", cs, ss);
	printf("entry: stack pointer 16-byte aligned at main's call: %s\n",
	       ((uint64_t)__builtin_frame_address(0) + 16) % 16 == 0 ? "yes" : "no");

	// The stack's pages below the top one (which holds this frame):
	// zeroed, and writable.
	volatile uint8_t *low = (volatile uint8_t *)(USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE);
	int nonzero = 0;
	for (int i = 0; i < (USER_STACK_PAGES - 1) * PAGE_SIZE; i++)
		nonzero += low[i] != 0;
	low[0] = 1;
	printf("entry: lower %d stack pages: %d nonzero bytes, writable\n", USER_STACK_PAGES - 1,
	       nonzero);

	uint8_t code[16] = { 0xC3 };    // ret
	printf("entry: calling code on the stack\n");
	((void (*)(void))code)();
	printf("entry: code on the stack ran\n");
	return 0;
}
