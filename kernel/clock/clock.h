// The clock: timer ticks (TIMER_HZ a second, lib/sysnum.h), counted at the
// boot CPU's timer interrupt (trap/trap.c), and waiting for them.

#ifndef KERNEL_CLOCK_CLOCK_H
#define KERNEL_CLOCK_CLOCK_H

#include <stdint.h>

#include "sync/spinlock.h"

// Ticks since the timer started; they change under tick_lock, and a
// process sleeping on &ticks with tick_lock wakes at the next tick.
extern volatile uint64_t ticks;
extern struct spinlock tick_lock;

// One tick more, and the sleepers woken (the timer interrupt calls it).
void clock_tick(void);

// Sleeps until n more ticks have passed (a process only).
void clock_wait(uint64_t n);

#endif
