// What the layers below proc/ may ask of the scheduler: wait for an event
// and wake its waiters, see whether the current process was killed, kill
// a process group. The clock (clock/) and the files, pipes and tty (fs/)
// wait for events, but processes are above them: these functions are
// declared here, at the layer of the locks sleep releases, and defined by
// the scheduler (proc/sched.c, proc/proc.c).

#ifndef KERNEL_SYNC_SCHED_H
#define KERNEL_SYNC_SCHED_H

#include <stdbool.h>

#include "sync/spinlock.h"

// Sleeps on chan, releasing lk while asleep (lk is held again on return).
// Only a process sleeps: the caller runs on behalf of one.
void sleep(void *chan, struct spinlock *lk);
// Wakes every process sleeping on chan.
void wakeup(void *chan);

// True if the current process was killed: a loop that sleeps checks it
// and gives up with -EINTR (the process then exits on its way out).
bool proc_killed(void);
// Kills every process of process group pgid (the tty's Ctrl-C).
void proc_kill_group(int pgid);

#endif
