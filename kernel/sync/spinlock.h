// Spinlocks, for data that several CPUs (or a CPU and its own interrupt
// handlers) use.
//
// Rules: a CPU holds a spinlock with interrupts off (spin_lock disables
// them, through push_cli (cpu/cpu.h), and they come back on with the last pop_cli),
// so an interrupt handler that takes the same lock cannot deadlock the
// CPU; a CPU never takes a lock it already holds (spin_lock panics,
// naming the lock and where it was taken); only the holder releases it.

#ifndef KERNEL_SYNC_SPINLOCK_H
#define KERNEL_SYNC_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"             // push_cli, pop_cli: spin_lock nests them

struct cpu;

struct spinlock {
	volatile uint32_t locked;
	const char *name;
	struct cpu *holder;     // for the checks and the panic messages
	uint64_t taken_at;      // return address of the spin_lock call
};

#define SPINLOCK_INIT(name_) { .locked = 0, .name = (name_) }

void spin_init(struct spinlock *l, const char *name);
void spin_lock(struct spinlock *l);
// spin_lock that calls poll() while it waits (interrupts are off then):
// for a lock whose holder may wait for this CPU to answer a cross-CPU
// call (mm/aspace.h), poll answers it.
void spin_lock_polling(struct spinlock *l, void (*poll)(void));
void spin_unlock(struct spinlock *l);
bool spin_holding(const struct spinlock *l);

#endif
