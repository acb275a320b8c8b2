// Cross-CPU calls by interprocessor interrupt: ipi_call runs a function
// on a set of CPUs now (not when their scheduler next looks, as
// smp_call_all does) and waits until every one has run it. TLB
// shootdowns are made of it (mm/aspace.c).
//
// Each CPU has a mailbox slot per calling CPU; a caller has one call in
// flight at a time, so slots never collide. A caller waits with
// interrupts off and answers the calls other CPUs make to it meanwhile,
// so two CPUs calling each other do not deadlock. A CPU that spins for a
// spinlock with interrupts off cannot answer, so the caller must hold no
// spinlock, except one whose waiters poll with ipi_answer
// (spin_lock_polling).

#ifndef KERNEL_CPU_IPI_H
#define KERNEL_CPU_IPI_H

#include <stdint.h>

// Runs fn(arg) on every running CPU whose bit is set in cpus (bit i:
// cpus[i]), the caller's own included, and returns when all have.
void ipi_call(uint64_t cpus, void (*fn)(void *arg), void *arg);

// Runs the calls waiting for this CPU (the T_IPI_CALL interrupt, and
// CPUs that wait for something with interrupts off).
void ipi_answer(void);

#endif
