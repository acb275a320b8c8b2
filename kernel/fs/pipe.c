// Pipes: a ring buffer between a writer and a reader, with free-running
// counters (nread, nwrite) taken modulo the size. Readers sleep while it
// is empty and a writer remains; writers sleep while it is full and a
// reader remains.

#include "console/console.h"
#include "fs/file.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"
#include "sync/sched.h"
#include "sync/spinlock.h"

#define PIPE_SIZE 512
#define CHUNK 128

struct pipe {
	struct spinlock lock;
	char data[PIPE_SIZE];
	uint64_t nread;         // bytes read so far
	uint64_t nwrite;        // bytes written so far; nwrite - nread <= PIPE_SIZE
	bool read_open;
	bool write_open;
};

int pipe_open(struct file **read_end, struct file **write_end)
{
	struct pipe *p = kzalloc(sizeof(*p));
	struct file *r = kzalloc(sizeof(*r)), *w = kzalloc(sizeof(*w));

	if (p == NULL || r == NULL || w == NULL) {
		kfree(p);
		kfree(r);
		kfree(w);
		return -ENOMEM;
	}
	spin_init(&p->lock, "pipe");
	p->read_open = p->write_open = true;
	*r = (struct file){ .type = FILE_PIPE, .refcount = 1, .readable = true, .pipe = p };
	*w = (struct file){ .type = FILE_PIPE, .refcount = 1, .writable = true, .pipe = p };
	*read_end = r;
	*write_end = w;
	return 0;
}

void pipe_close(struct pipe *p, bool write_end)
{
	spin_lock(&p->lock);
	if (write_end) {
		p->write_open = false;
		wakeup(&p->nread);
	} else {
		p->read_open = false;
		wakeup(&p->nwrite);
	}
	bool unused = !p->read_open && !p->write_open;
	spin_unlock(&p->lock);
	if (unused)
		kfree(p);
}

// Writes the n bytes of the user buffer buf, a chunk at a time: waits
// while the pipe is full and a reader remains, waking the readers first.
// Returns n; -EPIPE if no reader remains before a byte went in (the count
// so far after); -EFAULT for a buffer it cannot read (the count so far
// if some went in); -EINTR if killed while waiting.
int64_t pipe_write(struct pipe *p, uint64_t buf, uint64_t n)
{
	char chunk[CHUNK];
	uint64_t done = 0;

	while (done < n) {
		uint64_t k = n - done < CHUNK ? n - done : CHUNK;
		if (copy_from_user(chunk, buf + done, k) < 0)
			return done ? (int64_t)done : -EFAULT;
		spin_lock(&p->lock);
		// BEGIN LAB 4 SOLUTION: pipe_write
		for (uint64_t i = 0; i < k;) {
			if (!p->read_open) {
				spin_unlock(&p->lock);
				return done + i ? (int64_t)(done + i) : -EPIPE;
			}
			if (p->nwrite - p->nread == PIPE_SIZE) {
				if (proc_killed()) {
					spin_unlock(&p->lock);
					return -EINTR;
				}
				wakeup(&p->nread);
				sleep(&p->nwrite, &p->lock);
				continue;
			}
			p->data[p->nwrite++ % PIPE_SIZE] = chunk[i++];
		}
		wakeup(&p->nread);
		// STUB:
		// printk("LAB 4: pipe_write not written: %lu bytes refused\n", n);
		// spin_unlock(&p->lock);
		// return -EPIPE;
		// END LAB 4
		spin_unlock(&p->lock);
		done += k;
	}
	return (int64_t)done;
}

// Reads up to n bytes (at most one chunk) into the user buffer buf:
// waits while the pipe is empty and a writer remains; returns the count,
// 0 at the end (empty, no writer left), -EFAULT (a buffer it cannot
// write, found before it takes a byte), or -EINTR if killed.
int64_t pipe_read(struct pipe *p, uint64_t buf, uint64_t n)
{
	char chunk[CHUNK];
	uint64_t k = 0;

	if (user_writable(buf, n < CHUNK ? n : CHUNK) < 0)
		return -EFAULT;
	spin_lock(&p->lock);
	// BEGIN LAB 4 SOLUTION: pipe_read
	while (p->nread == p->nwrite && p->write_open) {
		if (proc_killed()) {
			spin_unlock(&p->lock);
			return -EINTR;
		}
		sleep(&p->nread, &p->lock);
	}
	while (k < n && k < CHUNK && p->nread != p->nwrite)
		chunk[k++] = p->data[p->nread++ % PIPE_SIZE];
	wakeup(&p->nwrite);
	// STUB:
	// (void)n;
	// END LAB 4
	spin_unlock(&p->lock);
	return copy_to_user(buf, chunk, k) < 0 ? -EFAULT : (int64_t)k;
}
