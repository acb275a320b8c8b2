#include "console/console.h"
#include "fs/file.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"
#include "proc/proc.h"
#include "proc/uaccess.h"
#include "sync/spinlock.h"

#define CHUNK 256
#define LINE_MAX 256

static struct spinlock files_lock = SPINLOCK_INIT("files");

struct file *file_console(void)
{
	struct file *f = kzalloc(sizeof(*f));

	if (f != NULL)
		*f = (struct file){ .type = FILE_CONSOLE, .refcount = 1,
				    .readable = true, .writable = true };
	return f;
}

struct file *file_dup(struct file *f)
{
	spin_lock(&files_lock);
	f->refcount++;
	spin_unlock(&files_lock);
	return f;
}

void file_close(struct file *f)
{
	spin_lock(&files_lock);
	int left = --f->refcount;
	spin_unlock(&files_lock);
	if (left > 0)
		return;
	if (f->type == FILE_PIPE)
		pipe_close(f->pipe, f->writable);
	kfree(f);
}

// The console's input, a line at a time: characters are echoed as they
// come, backspace edits, and read returns once a line is complete. One
// reader at a time owns the line (reader_busy, under line_lock): the line
// belongs to whoever reads first.
static struct spinlock line_lock = SPINLOCK_INIT("console line");
static bool reader_busy;
static char line[LINE_MAX];
static int line_len, line_ready, line_taken;

// Fills line until a newline; false if the process was killed meanwhile.
static bool read_a_line(void)
{
	while (!line_ready) {
		int c = console_read_char();
		if (c < 0)
			return false;
		if (c == '\r')
			c = '\n';
		if ((c == '\b' || c == 0x7F)) {
			if (line_len > 0) {
				line_len--;
				printk("\b \b");
			}
		} else if (c == '\n' || (c >= ' ' && c < 0x7F && line_len < LINE_MAX - 1)) {
			line[line_len++] = (char)c;
			console_putc(c);
			if (c == '\n')
				line_ready = 1;
		}
	}
	return true;
}

static int64_t console_read(uint64_t buf, uint64_t n)
{
	char chunk[LINE_MAX];
	uint64_t k = 0;

	spin_lock(&line_lock);
	while (reader_busy) {
		if (proc_killed()) {
			spin_unlock(&line_lock);
			return -EINTR;
		}
		sleep(&reader_busy, &line_lock);
	}
	reader_busy = true;
	spin_unlock(&line_lock);

	bool complete = read_a_line();
	if (complete) {
		k = (uint64_t)(line_len - line_taken) < n ? (uint64_t)(line_len - line_taken) : n;
		for (uint64_t i = 0; i < k; i++)
			chunk[i] = line[line_taken + i];
		line_taken += k;
		if (line_taken == line_len)
			line_len = line_taken = line_ready = 0;
	}

	spin_lock(&line_lock);
	reader_busy = false;
	wakeup(&reader_busy);
	spin_unlock(&line_lock);
	if (!complete)
		return -EINTR;
	return copy_to_user(buf, chunk, k) < 0 ? -EFAULT : (int64_t)k;
}

static int64_t console_write(uint64_t buf, uint64_t len)
{
	char chunk[CHUNK];

	// Check all of it first: a bad buffer writes nothing.
	if (!user_range_ok(proc_current()->as->pml4, buf, len, false))
		return -EFAULT;
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < CHUNK ? len - done : CHUNK;
		if (copy_from_user(chunk, buf + done, n) < 0)
			return -EFAULT;
		for (uint64_t i = 0; i < n; i++)
			console_putc(chunk[i]);
		done += n;
	}
	return (int64_t)len;
}

int64_t file_read(struct file *f, uint64_t buf, uint64_t n)
{
	if (!f->readable)
		return -EBADF;
	return f->type == FILE_CONSOLE ? console_read(buf, n) : pipe_read(f->pipe, buf, n);
}

int64_t file_write(struct file *f, uint64_t buf, uint64_t n)
{
	if (!f->writable)
		return -EBADF;
	return f->type == FILE_CONSOLE ? console_write(buf, n) : pipe_write(f->pipe, buf, n);
}
