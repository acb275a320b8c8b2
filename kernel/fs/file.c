#include "fs/file.h"
#include "fs/tty.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"
#include "mm/uaccess.h"
#include "sync/spinlock.h"

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

int64_t file_read(struct file *f, uint64_t buf, uint64_t n)
{
	if (!f->readable)
		return -EBADF;
	return f->type == FILE_CONSOLE ? tty_read(buf, n) : pipe_read(f->pipe, buf, n);
}

int64_t file_write(struct file *f, uint64_t buf, uint64_t n)
{
	if (!f->writable)
		return -EBADF;
	return f->type == FILE_CONSOLE ? tty_write(buf, n) : pipe_write(f->pipe, buf, n);
}
