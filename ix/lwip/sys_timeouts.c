// lwIP's timers on our timer wheel (ix/lwip/timerwheel.h), in place of
// lwIP's sorted list (LWIP_TIMERS_CUSTOM in lwipopts.h): sys_timeout,
// sys_untimeout, sys_check_timeouts and sys_timeouts_init, on lwIP's
// clock (sys_now, milliseconds).
//
// lwIP's cyclic timers (lwip_cyclic_timers: tcp_tmr every 250 ms, which
// runs TCP's fast timer, the delayed ACK, and every other time its slow
// one, retransmission and the rest; etharp_tmr every second) run from
// the start and each sets itself again from when it was due, so late
// checks do not stretch its period (lwIP's own lwip_cyclic_timer does
// the same). With custom timers lwIP's tcp_timer_needed does nothing:
// tcp_tmr runs with or without connections.
//
// A timeout is one of TIMEOUTS entries, each a wheel timer, on a free
// list: setting one is O(1), sys_untimeout looks for its handler and
// argument among the entries. The wheel's clock is sys_now's 32-bit
// milliseconds counted on in 64 bits, so its wrap after 49 days is
// harmless.

#include <lwip/sys.h>
#include <lwip/timeouts.h>

#include "ix/lwip/sys_timeouts.h"
#include "ix/lwip/timerwheel.h"
#include "ulib.h"

#define TIMEOUTS 16             // timeouts pending at once: the cyclic ones and room to spare
#define CHECK_BUDGET 64         // timeouts a check runs at most (the rest run at the next)

struct timeout {
	struct wheel_timer timer;
	sys_timeout_handler handler;    // NULL: free
	void *arg;
	struct timeout *next_free;
};

static struct timer_wheel wheel;
static struct timeout timeouts[TIMEOUTS];
static struct timeout *free_timeouts;
static uint64_t clock_ms;       // sys_now counted in 64 bits
static u32_t clock_seen;        // sys_now when clock_ms was last brought up to date
static uint64_t due_ms;         // when the timeout whose handler runs now was due

static uint64_t now_ms(void)
{
	u32_t now = sys_now();

	clock_ms += (u32_t)(now - clock_seen);
	clock_seen = now;
	return clock_ms;
}

// The wheel's callback: frees the entry (its handler may take it again),
// then runs the handler.
static void fire(void *arg)
{
	struct timeout *t = arg;
	sys_timeout_handler handler = t->handler;
	void *handler_arg = t->arg;

	t->handler = NULL;
	t->next_free = free_timeouts;
	free_timeouts = t;
	due_ms = t->timer.expires;
	handler(handler_arg);
}

// Sets handler(arg) to run at when (the wheel's clock).
static void timeout_at(uint64_t when, sys_timeout_handler handler, void *arg)
{
	struct timeout *t = free_timeouts;

	if (t == NULL) {
		printf("lwip: sys_timeout: all %d timeouts are pending; handler %p not set\n",
		       TIMEOUTS, (void *)handler);
		return;
	}
	free_timeouts = t->next_free;
	t->handler = handler;
	t->arg = arg;
	wheel_add(&wheel, &t->timer, when);
}

// A cyclic timer's handler, then the same again an interval after it
// was due (or after now, if that is past already).
static void cyclic_timer(void *arg)
{
	const struct lwip_cyclic_timer *cyclic = arg;
	uint64_t next = due_ms + cyclic->interval_ms;

	cyclic->handler();
	uint64_t now = now_ms();
	timeout_at(next > now ? next : now + cyclic->interval_ms, cyclic_timer, arg);
}

void sys_timeouts_init(void)
{
	wheel_init(&wheel, now_ms());
	free_timeouts = NULL;
	for (int i = TIMEOUTS - 1; i >= 0; i--) {
		wheel_timer_init(&timeouts[i].timer, fire, &timeouts[i]);
		timeouts[i].handler = NULL;
		timeouts[i].next_free = free_timeouts;
		free_timeouts = &timeouts[i];
	}
	for (int i = 0; i < lwip_num_cyclic_timers; i++)
		timeout_at(clock_ms + lwip_cyclic_timers[i].interval_ms, cyclic_timer,
			   (void *)&lwip_cyclic_timers[i]);
}

void sys_timeout(u32_t msecs, sys_timeout_handler handler, void *arg)
{
	timeout_at(now_ms() + msecs, handler, arg);
}

// Cancels the first pending timeout of handler and arg, as lwIP's does.
void sys_untimeout(sys_timeout_handler handler, void *arg)
{
	for (struct timeout *t = timeouts; t < timeouts + TIMEOUTS; t++) {
		if (t->handler == NULL || t->handler != handler || t->arg != arg)
			continue;
		wheel_cancel(&wheel, &t->timer);
		t->handler = NULL;
		t->next_free = free_timeouts;
		free_timeouts = t;
		return;
	}
}

void sys_check_timeouts(void)
{
	wheel_run(&wheel, now_ms(), CHECK_BUDGET);
}

const struct wheel_stats *sys_timeouts_stats(void)
{
	return &wheel.stats;
}
