// The hierarchical timer wheel (timerwheel.h).

#include <stddef.h>

#include "ix/lwip/timerwheel.h"

#define NO_EVENT (-1)

static void list_init(struct wheel_link *head)
{
	head->next = head->prev = head;
}

static int list_empty(const struct wheel_link *head)
{
	return head->next == head;
}

static void list_append(struct wheel_link *head, struct wheel_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static void list_unlink(struct wheel_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
}

// Moves every link of from to the end of to; from is left empty.
static void list_splice(struct wheel_link *to, struct wheel_link *from)
{
	if (list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	list_init(from);
}

static struct wheel_timer *timer_of(struct wheel_link *l)
{
	return (struct wheel_timer *)((char *)l - offsetof(struct wheel_timer, link));
}

// The bits of time above level's own: the level's rotation.
static uint64_t rotation(uint64_t time, int level)
{
	return time >> (WHEEL_SLOT_BITS * (level + 1));
}

void wheel_init(struct timer_wheel *w, uint64_t now)
{
	w->next = now;
	for (int l = 0; l < WHEEL_LEVELS; l++) {
		w->occupied[l] = 0;
		for (int s = 0; s < WHEEL_SLOTS; s++)
			list_init(&w->slots[l][s]);
	}
	list_init(&w->far);
	list_init(&w->due);
	w->stats = (struct wheel_stats){ 0, 0 };
}

void wheel_timer_init(struct wheel_timer *t, void (*fn)(void *arg), void *arg)
{
	t->level = WHEEL_IDLE;
	t->slot = 0;
	t->expires = 0;
	t->fn = fn;
	t->arg = arg;
}

// Puts the idle t where its time belongs from the wheel's time (see
// timerwheel.h): O(WHEEL_LEVELS).
static void place(struct timer_wheel *w, struct wheel_timer *t)
{
	uint64_t at = t->expires > w->next ? t->expires : w->next;

	for (int l = 0; l < WHEEL_LEVELS; l++) {
		if (rotation(at, l) != rotation(w->next, l))
			continue;
		t->level = l;
		t->slot = (unsigned int)(at >> (WHEEL_SLOT_BITS * l)) % WHEEL_SLOTS;
		list_append(&w->slots[l][t->slot], &t->link);
		w->occupied[l] |= 1ull << t->slot;
		return;
	}
	t->level = WHEEL_FAR;
	list_append(&w->far, &t->link);
}

void wheel_cancel(struct timer_wheel *w, struct wheel_timer *t)
{
	if (t->level == WHEEL_IDLE)
		return;
	list_unlink(&t->link);
	if (t->level < WHEEL_LEVELS && list_empty(&w->slots[t->level][t->slot]))
		w->occupied[t->level] &= ~(1ull << t->slot);
	t->level = WHEEL_IDLE;
}

void wheel_add(struct timer_wheel *w, struct wheel_timer *t, uint64_t expires)
{
	wheel_cancel(w, t);
	t->expires = expires;
	place(w, t);
}

// The wheel's next event: the lowest level that holds a timer, its
// first occupied slot (in *slot) and the time that slot's span starts
// (in *at); WHEEL_FAR at the top level's next rotation if only far
// timers are left; NO_EVENT if there is no timer.
static int next_event(const struct timer_wheel *w, unsigned int *slot, uint64_t *at)
{
	for (int l = 0; l < WHEEL_LEVELS; l++) {
		if (w->occupied[l] == 0)
			continue;
		*slot = (unsigned int)__builtin_ctzll(w->occupied[l]);
		*at = rotation(w->next, l) << (WHEEL_SLOT_BITS * (l + 1)) |
		      (uint64_t)*slot << (WHEEL_SLOT_BITS * l);
		return l;
	}
	if (list_empty(&w->far))
		return NO_EVENT;
	*at = (rotation(w->next, WHEEL_LEVELS - 1) + 1) << (WHEEL_SLOT_BITS * WHEEL_LEVELS);
	return WHEEL_FAR;
}

// Places again each timer of list (the wheel's time has reached it).
static void cascade(struct timer_wheel *w, struct wheel_link *list)
{
	struct wheel_link moving;

	list_init(&moving);
	list_splice(&moving, list);
	while (!list_empty(&moving)) {
		struct wheel_timer *t = timer_of(moving.next);
		list_unlink(&t->link);
		place(w, t);
		w->stats.cascaded++;
	}
}

// Handles the wheel's next event if it comes before limit (a level-0
// slot's timers go to due) or by limit (a higher slot, or the far list at
// a new top rotation, cascades: the wheel's time has reached it), and
// takes the wheel's time there. Returns whether there was one.
static int step(struct timer_wheel *w, uint64_t limit)
{
	unsigned int slot = 0;
	uint64_t at = 0;
	int level = next_event(w, &slot, &at);

	if (level == NO_EVENT || at > limit || (level == 0 && at == limit))
		return 0;
	w->next = at;
	if (level == WHEEL_FAR) {
		cascade(w, &w->far);
		return 1;
	}
	w->occupied[level] &= ~(1ull << slot);
	if (level > 0) {
		cascade(w, &w->slots[level][slot]);
		return 1;
	}
	for (struct wheel_link *l = w->slots[0][slot].next; l != &w->slots[0][slot]; l = l->next)
		timer_of(l)->level = WHEEL_DUE;
	list_splice(&w->due, &w->slots[0][slot]);
	return 1;
}

unsigned int wheel_run(struct timer_wheel *w, uint64_t now, unsigned int budget)
{
	unsigned int fired = 0;

	// The wheel's time goes past now first, and everything due by now
	// to due: what the callbacks set for now or before waits for the
	// next run.
	uint64_t limit = now + 1 > w->next ? now + 1 : w->next;
	while (step(w, limit))
		;
	w->next = limit;
	while (!list_empty(&w->due) && fired < budget) {
		struct wheel_timer *t = timer_of(w->due.next);
		list_unlink(&t->link);
		t->level = WHEEL_IDLE;
		fired++;
		w->stats.fired++;
		t->fn(t->arg);
	}
	return fired;
}
