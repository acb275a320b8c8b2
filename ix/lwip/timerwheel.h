// A hierarchical timer wheel (Varghese and Lauck, 1987; IX runs its
// timers on one): timers due at a millisecond, set and cancelled in
// O(1), fired in order of their times by wheel_run with work that grows
// with the timers it fires, not with the time that passed. lwIP's
// timers run on one (ix/lwip/sys_timeouts.c). Plain C, no lwIP: the host
// test (ix/lwip/tests/timerwheel_test.c) builds it too.
//
// The wheel has WHEEL_LEVELS levels of WHEEL_SLOTS slots; a slot of
// level l spans 64^l ms, so level 0 holds timers to the millisecond and
// each level above reaches 64 times as far. A timer sits at the lowest
// level whose current rotation holds its time: the one where its time
// and the wheel's agree on every bit above the level's own six (level 0:
// due within the current 64 ms; level 1: within the current 4096 ms...),
// in the slot those six bits name. So every timer of a level lies in a
// slot after the current one (level 0: at or after), and the next thing
// to happen is in the lowest level that holds a timer, at its first
// occupied slot (a bitmap per level finds it): at level 0, timers due;
// above, a slot whose span the wheel has reached, whose timers move
// ("cascade") to the lower levels they now belong to. Timers beyond the
// top level's rotation (2^24 ms, about 4.7 hours) wait in a list looked
// at once per rotation. Timers due in the same millisecond fire in no
// particular order.

#ifndef IX_LWIP_TIMERWHEEL_H
#define IX_LWIP_TIMERWHEEL_H

#include <stdint.h>

#define WHEEL_LEVELS 4
#define WHEEL_SLOT_BITS 6
#define WHEEL_SLOTS (1 << WHEEL_SLOT_BITS)

// A link of a circular list whose head is a link of its own.
struct wheel_link {
	struct wheel_link *next, *prev;
};

// Where a timer is: a level, or one of these.
enum {
	WHEEL_IDLE = -1,                // not pending
	WHEEL_FAR = WHEEL_LEVELS,       // beyond the top level's rotation
	WHEEL_DUE,                      // due, waiting to fire (past a run's budget)
};

struct wheel_timer {
	struct wheel_link link;         // in its slot's or list's list while pending
	int level;                      // WHEEL_IDLE, a level, WHEEL_FAR or WHEEL_DUE
	unsigned int slot;              // its slot, at a level
	uint64_t expires;               // when it is, or was last, due (ms)
	void (*fn)(void *arg);          // called when it fires (it is idle by then)
	void *arg;
};

struct wheel_stats {
	uint64_t fired;                 // timers fired
	uint64_t cascaded;              // timers moved down a level (or out of the far list)
};

struct timer_wheel {
	// Every timer due before next has been moved to due (or fired):
	// the wheel's own time, never behind the last run's now.
	uint64_t next;
	uint64_t occupied[WHEEL_LEVELS];        // bit s: slots[l][s] holds a timer
	struct wheel_link slots[WHEEL_LEVELS][WHEEL_SLOTS];
	struct wheel_link far;
	struct wheel_link due;                  // in the order they fall due
	struct wheel_stats stats;
};

// An empty wheel whose time is now (ms).
void wheel_init(struct timer_wheel *w, uint64_t now);

// An idle timer that calls fn(arg) when it fires.
void wheel_timer_init(struct wheel_timer *t, void (*fn)(void *arg), void *arg);

// Sets t to fire at expires (ms), or moves it there if it is pending. A
// time the wheel has already run (before w->next, which a run takes past
// its now) counts as w->next: a timer a callback sets never fires in the
// run that called it, so one that sets itself again for now does not
// loop.
void wheel_add(struct timer_wheel *w, struct wheel_timer *t, uint64_t expires);

// Cancels t if it is pending (an idle timer is left as it is).
void wheel_cancel(struct timer_wheel *w, struct wheel_timer *t);

// Fires, in order of their times, the timers due up to now (ms), at
// most budget of them: the rest fire first at the next run. A callback
// may set or cancel any timer, its own included. Returns how many fired.
unsigned int wheel_run(struct timer_wheel *w, uint64_t now, unsigned int budget);

#endif
