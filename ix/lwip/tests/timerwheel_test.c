// Host-side test of the hierarchical timer wheel (ix/lwip/timerwheel.c),
// built with the host compiler (make host-tests). Each case records the
// timers that fire (which, and at which run's now) and compares them
// with the exact list it expects: order and times; cascades across
// every level and the far list; cancel; a callback that sets its own
// timer again; a jump of hours in one run, whose work must follow the
// timers, not the time; the budget of a run; and random sequences
// against a plain model of the wheel. The last line is
// "N passed, N failed".

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ix/lwip/timerwheel.h"

#define MAX_TIMERS 64
#define MAX_FIRED 4096

static int failed, passed;

// One test timer: its id and what to do when it fires.
struct test_timer {
	struct wheel_timer t;
	int id;
	uint64_t period;                // > 0: set itself again period ms after it was due
	int again_now;                  // set itself again for the run's now
	struct wheel_timer *cancel;     // cancel this one when firing
};

static struct timer_wheel wheel;
static struct test_timer timers[MAX_TIMERS];
static uint64_t run_now;            // the now of the run that is firing
static struct fired {
	int id;
	uint64_t at;
} fired[MAX_FIRED];
static int nfired;

static void on_fire(void *arg)
{
	struct test_timer *tt = arg;

	if (nfired < MAX_FIRED)
		fired[nfired++] = (struct fired){ tt->id, run_now };
	if (tt->cancel != NULL)
		wheel_cancel(&wheel, tt->cancel);
	if (tt->period > 0)
		wheel_add(&wheel, &tt->t, tt->t.expires + tt->period);
	if (tt->again_now)
		wheel_add(&wheel, &tt->t, run_now);
}

static void start(uint64_t now)
{
	wheel_init(&wheel, now);
	memset(timers, 0, sizeof(timers));
	for (int i = 0; i < MAX_TIMERS; i++) {
		timers[i].id = i;
		wheel_timer_init(&timers[i].t, on_fire, &timers[i]);
	}
	nfired = 0;
}

static void add(int id, uint64_t expires)
{
	wheel_add(&wheel, &timers[id].t, expires);
}

static unsigned int run(uint64_t now, unsigned int budget)
{
	run_now = now;
	return wheel_run(&wheel, now, budget);
}

// Runs the wheel at every millisecond of [from, to].
static void run_each(uint64_t from, uint64_t to)
{
	for (uint64_t now = from; now <= to; now++)
		run(now, ~0u);
}

// Compares what fired with want (n pairs of id and time).
static void check_fired(const char *name, const struct fired *want, int n)
{
	int same = nfired == n;

	for (int i = 0; same && i < n; i++)
		same = fired[i].id == want[i].id && fired[i].at == want[i].at;
	if (same) {
		passed++;
		return;
	}
	failed++;
	printf("%s: fired", name);
	for (int i = 0; i < nfired; i++)
		printf(" %d@%lu", fired[i].id, (unsigned long)fired[i].at);
	printf("; want");
	for (int i = 0; i < n; i++)
		printf(" %d@%lu", want[i].id, (unsigned long)want[i].at);
	printf("\n");
}

static void check_value(const char *name, const char *what, uint64_t got, uint64_t want)
{
	if (got == want) {
		passed++;
		return;
	}
	failed++;
	printf("%s: %s %lu, want %lu\n", name, what, (unsigned long)got, (unsigned long)want);
}

// Timers at the edges of every level's slots and rotations, run every
// millisecond: each fires at its own millisecond, in order.
static void test_order(uint64_t base)
{
	static const uint64_t at[] = {
		0, 1, 5, 63, 64, 65, 127, 128, 4095, 4096, 4097, 262143, 262144, 262145, 300000,
	};
	enum { N = sizeof(at) / sizeof(at[0]) };
	struct fired want[N];

	start(base);
	for (int i = N - 1; i >= 0; i--)
		add(i, base + at[i]);
	run_each(base, base + 300001);
	for (int i = 0; i < N; i++)
		want[i] = (struct fired){ i, base + at[i] };
	check_fired(base ? "order, from a time not on a rotation" : "order", want, N);
}

// One timer 5000 ms away from 0 sits at level 2 and moves twice: to
// level 1 at 4096, to level 0 at 4992 (when the wheel's time, a run's
// now + 1, reaches them); one past the top rotation (2^24)
// waits in the far list and moves through every level: 4 moves.
static void test_cascade(void)
{
	start(0);
	add(0, 5000);
	check_value("cascade", "level of a timer 5000 ms away", (uint64_t)timers[0].t.level, 2);
	run(4094, ~0u);
	check_value("cascade", "moves before the wheel's time reaches 4096", wheel.stats.cascaded,
		    0);
	run(4096, ~0u);
	check_value("cascade", "level at 4096", (uint64_t)timers[0].t.level, 1);
	run(4999, ~0u);
	check_value("cascade", "level at 4999", (uint64_t)timers[0].t.level, 0);
	check_value("cascade", "moves by 4999", wheel.stats.cascaded, 2);
	run(5000, ~0u);
	check_fired("cascade: fires at 5000", (struct fired[]){ { 0, 5000 } }, 1);

	const uint64_t far = (1ull << 24) + (1ull << 18) + (1ull << 12) + (1ull << 6) + 5;
	start(0);
	add(1, far);
	check_value("cascade", "a timer past the top rotation is far",
		    (uint64_t)timers[1].t.level, WHEEL_FAR);
	run(far - 1, ~0u);
	check_value("cascade", "far timer's moves by its time - 1", wheel.stats.cascaded, 4);
	run(far, ~0u);
	check_fired("cascade: the far timer", (struct fired[]){ { 1, far } }, 1);
}

static void test_cancel(void)
{
	start(0);
	add(0, 10);
	add(1, 10);
	add(2, 5000);
	add(3, 70);
	wheel_cancel(&wheel, &timers[0].t);
	wheel_cancel(&wheel, &timers[0].t);            // idle: nothing
	timers[1].cancel = &timers[3].t;                // 1 cancels 3 as it fires
	run(4500, ~0u);
	check_value("cancel", "level of the 5000 ms timer at 4500", (uint64_t)timers[2].t.level, 1);
	wheel_cancel(&wheel, &timers[2].t);
	check_value("cancel", "occupied slots left", wheel.occupied[0] | wheel.occupied[1] |
		    wheel.occupied[2] | wheel.occupied[3], 0);
	run_each(4501, 6000);
	check_fired("cancel", (struct fired[]){ { 1, 4500 } }, 1);

	// One of two due timers waits past a run's budget: cancelled there.
	add(5, 7000);
	add(6, 7000);
	check_value("cancel", "fired with a budget of 1", run(7000, 1), 1);
	wheel_cancel(&wheel, &timers[5].t);
	wheel_cancel(&wheel, &timers[6].t);
	check_value("cancel", "fired after cancelling the due one", run(7001, ~0u), 0);

	// Moving a pending timer: add again.
	start(0);
	add(4, 100);
	add(4, 30);
	add(5, 20);
	add(5, 4000);
	run_each(0, 5000);
	check_fired("cancel: set again", (struct fired[]){ { 4, 30 }, { 5, 4000 } }, 2);
}

// A periodic timer sets itself again from its callback, from when it
// was due; runs come every 7 ms, so it fires late but keeps its period.
// One that sets itself for now again fires once per run, not in a loop.
static void test_rearm(void)
{
	start(0);
	timers[0].period = 250;
	add(0, 250);
	for (uint64_t now = 0; now <= 1010; now += 7)
		run(now, ~0u);
	check_fired("re-arm: period 250, runs every 7 ms",
		    (struct fired[]){ { 0, 252 }, { 0, 504 }, { 0, 756 }, { 0, 1001 } }, 4);

	start(100);
	timers[1].again_now = 1;
	add(1, 100);
	check_value("re-arm", "fired in the run that set it again for now", run(100, ~0u), 1);
	check_value("re-arm", "fired in a run at the same now", run(100, ~0u), 0);
	check_value("re-arm", "fired in the next millisecond's run", run(101, ~0u), 1);
	check_value("re-arm", "fired in a run 10 ms later", run(111, ~0u), 1);
}

// Hours pass between two runs: everything due fires in that one run, in
// order, with a number of moves that follows the timers, not the time.
static void test_jump(void)
{
	static const uint64_t at[] = { 10, 5000, 100000, 5000000, 36000000, 36000001 };
	enum { N = sizeof(at) / sizeof(at[0]) };
	struct fired want[N];

	start(1000);
	for (int i = 0; i < N; i++)
		add(i, 1000 + at[i]);
	const uint64_t later = 1000 + 72000000;         // 20 hours
	check_value("jump", "fired", run(later, ~0u), N);
	for (int i = 0; i < N; i++)
		want[i] = (struct fired){ i, later };
	check_fired("jump: all in order", want, N);
	if (wheel.stats.cascaded <= (uint64_t)N * (WHEEL_LEVELS + 1))
		passed++;
	else {
		failed++;
		printf("jump: %lu moves for %d timers\n", (unsigned long)wheel.stats.cascaded, N);
	}
	nfired = 0;
	add(0, later + 1);
	add(1, later + 100000);
	run_each(later + 1, later + 100001);
	check_fired("jump: timers after it",
		    (struct fired[]){ { 0, later + 1 }, { 1, later + 100000 } }, 2);
}

// A run fires at most its budget; the rest fire first at the next run,
// in order, before a timer due later.
static void test_budget(void)
{
	struct fired want[11];

	start(0);
	for (int i = 0; i < 10; i++)
		add(i, 5 + (uint64_t)i);
	add(10, 30);
	check_value("budget", "first run", run(20, 3), 3);
	check_value("budget", "second run", run(20, 3), 3);
	check_value("budget", "third run", run(40, 100), 5);
	for (int i = 0; i < 11; i++)
		want[i] = (struct fired){ i, i < 6 ? 20 : 40 };
	check_fired("budget: order", want, 11);
}

// Random adds, cancels and runs against a model: a timer set at
// expires while the wheel's time is next fires at the first run whose
// now reaches max(expires, next); earlier times fire first.
static void test_random(unsigned int seed)
{
	uint64_t due[MAX_TIMERS];           // the model: when each pending timer fires
	int pending[MAX_TIMERS] = { 0 };
	uint64_t next = 77, now = 77;
	int wrong = 0;

	srand(seed);
	start(now);
	for (int op = 0; op < 200000 && !wrong; op++) {
		int r = rand() % 100, id = rand() % MAX_TIMERS;
		if (r < 45) {
			uint64_t span = (uint64_t)1 << (rand() % 27);
			uint64_t when = now + (uint64_t)rand() % span - (rand() % 4 == 0 ? 3 : 0);
			add(id, when);
			due[id] = when > next ? when : next;
			pending[id] = 1;
		} else if (r < 55) {
			wheel_cancel(&wheel, &timers[id].t);
			pending[id] = 0;
		} else {
			now += rand() % 3 == 0 ? (uint64_t)rand() % 100000 : (uint64_t)rand() % 50;
			nfired = 0;
			run(now, ~0u);
			int want = 0;
			for (int i = 0; i < MAX_TIMERS; i++)
				want += pending[i] && due[i] <= now;
			wrong = nfired != want;
			for (int k = 0; k < nfired && !wrong; k++) {
				int i = fired[k].id;
				wrong = !pending[i] || due[i] > now ||
					(k > 0 && due[fired[k - 1].id] > due[i]);
				pending[i] = 0;
			}
			if (now >= next)
				next = now + 1;
		}
	}
	if (!wrong) {
		passed++;
		return;
	}
	failed++;
	printf("random (seed %u): a run at %lu fired %d timers, not as the model says\n", seed,
	       (unsigned long)now, nfired);
}

int main(void)
{
	test_order(0);
	test_order(0xFFFFFFF0ull);
	test_cascade();
	test_cancel();
	test_rearm();
	test_jump();
	test_budget();
	for (unsigned int seed = 1; seed <= 5; seed++)
		test_random(seed);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
