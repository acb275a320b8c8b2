// The tty: the line discipline (fs/tty.h) between the console's input and
// the processes that read it. Characters are edited at the interrupt, as
// they arrive (so Ctrl-C reaches a process that never reads), into a ring
// of free-running counters in the manner of xv6's console:
//
//   buf[r..w)  completed lines that readers have not taken yet
//   buf[w..e)  the line being edited
//
// Without an I/O APIC there is no console interrupt: a reader polls the
// UART at each timer tick instead.

#include <stdbool.h>

#include "clock/clock.h"
#include "console/console.h"
#include "fs/tty.h"
#include "lib/errno.h"
#include "mm/aspace.h"
#include "mm/uaccess.h"
#include "sync/sched.h"
#include "sync/spinlock.h"

#define TTY_BUF 256
#define CHUNK 256
#define CTRL(c) ((c) - '@')

static struct spinlock tty_lock = SPINLOCK_INIT("tty");
static char buf[TTY_BUF];
static uint64_t r, w, e;
static bool at_line_start = true;       // what readers took last ended a line
// A Ctrl-C that no reader has answered yet: the next read that finds no
// line returns -EINTR, even if it began after the Ctrl-C (the shell types
// its prompt, then reads). A new foreground group forgets it.
static bool interrupted;
static int foreground;                  // the process group Ctrl-C kills

static void erase_one(void)
{
	e--;
	console_putc('\b');
	console_putc(' ');
	console_putc('\b');
}

// One character of input (tty_lock held).
static void tty_input(int c)
{
	if (c == '\r')
		c = '\n';
	switch (c) {
	case CTRL('C'):
		e = w;
		interrupted = true;
		console_putc('^');
		console_putc('C');
		console_putc('\n');
		if (foreground != 0)
			proc_kill_group(foreground);
		wakeup(&r);
		break;
	case CTRL('U'):
		while (e != w)
			erase_one();
		break;
	case '\b':
	case 0x7F:
		if (e != w)
			erase_one();
		break;
	case CTRL('D'):
		if (e - r < TTY_BUF) {
			buf[e++ % TTY_BUF] = (char)c;
			w = e;
			wakeup(&r);
		}
		break;
	default:
		// A newline always fits: the last slot is kept for it.
		if (c == '\n' ? e - r < TTY_BUF : c >= ' ' && c < 0x7F && e - r < TTY_BUF - 1) {
			buf[e++ % TTY_BUF] = (char)c;
			console_putc(c);
			if (c == '\n') {
				w = e;
				wakeup(&r);
			}
		}
		break;
	}
}

void tty_interrupt(void)
{
	int c;

	spin_lock(&tty_lock);
	while ((c = console_getc()) >= 0)
		tty_input(c);
	spin_unlock(&tty_lock);
}

// Waits for input (tty_lock held, and held again on return): sleeps
// until the interrupt delivers some; without interrupts, takes what the
// UART holds, else looks again a tick later.
static void wait_for_input(void)
{
	if (console_input_interrupts_on()) {
		sleep(&r, &tty_lock);
		return;
	}
	spin_unlock(&tty_lock);
	tty_interrupt();
	spin_lock(&tty_lock);
	if (r != w)
		return;
	spin_unlock(&tty_lock);
	clock_wait(1);
	spin_lock(&tty_lock);
}

int64_t tty_read(uint64_t ubuf, uint64_t n)
{
	char chunk[CHUNK];
	uint64_t k = 0;

	if (n > CHUNK)
		n = CHUNK;      // at most a line's worth: the rest waits for the next read
	spin_lock(&tty_lock);
	while (k < n) {
		if (r == w) {
			if (k > 0)
				break;
			if (proc_killed()) {
				spin_unlock(&tty_lock);
				return -EINTR;
			}
			if (interrupted) {
				interrupted = false;
				spin_unlock(&tty_lock);
				return -EINTR;
			}
			wait_for_input();
			continue;
		}
		char c = buf[r++ % TTY_BUF];
		if (c == CTRL('D')) {
			// At the start of a line: the end of input. After part of
			// a line: that line's end.
			bool end_of_input = at_line_start;
			at_line_start = true;
			if (end_of_input || k > 0)
				break;
			continue;
		}
		chunk[k++] = c;
		at_line_start = c == '\n';
		if (c == '\n')
			break;
	}
	spin_unlock(&tty_lock);
	return copy_to_user(ubuf, chunk, k) < 0 ? -EFAULT : (int64_t)k;
}

int64_t tty_write(uint64_t ubuf, uint64_t len)
{
	char chunk[CHUNK];

	// Check all of it first: a bad buffer writes nothing.
	if (!user_range_ok(aspace_current()->pml4, ubuf, len, false))
		return -EFAULT;
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < CHUNK ? len - done : CHUNK;
		if (copy_from_user(chunk, ubuf + done, n) < 0)
			return -EFAULT;
		console_write(chunk, n);
		done += n;
	}
	return (int64_t)len;
}

int tty_set_foreground(int pgid)
{
	if (pgid < 0)
		return -EINVAL;
	spin_lock(&tty_lock);
	foreground = pgid;
	interrupted = false;
	spin_unlock(&tty_lock);
	return 0;
}
