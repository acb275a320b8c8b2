// System calls on file descriptors: read, write, close, pipe, dup; and
// tcsetpgrp, the console's foreground process group (fs/tty.h). The
// descriptors live in the process's table (fs/fdtable.h), which its
// threads share: a call holds its own reference to the file it works on.

#include "fs/fdtable.h"
#include "fs/tty.h"
#include "lib/errno.h"
#include "mm/uaccess.h"
#include "proc/proc.h"
#include "syscall/syscall.h"

static struct fdtable *files(void)
{
	return proc_current()->files;
}

int64_t sys_read(uint64_t fd, uint64_t buf, uint64_t len)
{
	struct file *f = fdtable_file(files(), fd);

	if (f == NULL)
		return -EBADF;
	int64_t n = file_read(f, buf, len);
	file_close(f);
	return n;
}

int64_t sys_write(uint64_t fd, uint64_t buf, uint64_t len)
{
	struct file *f = fdtable_file(files(), fd);

	if (f == NULL)
		return -EBADF;
	int64_t n = file_write(f, buf, len);
	file_close(f);
	return n;
}

int64_t sys_close(uint64_t fd)
{
	struct file *f = fdtable_remove(files(), fd);

	if (f == NULL)
		return -EBADF;
	file_close(f);
	return 0;
}

int64_t sys_dup(uint64_t fd)
{
	struct file *f = fdtable_file(files(), fd);

	if (f == NULL)
		return -EBADF;
	int new = fdtable_install(files(), f);
	if (new < 0)
		file_close(f);
	return new;
}

int64_t sys_pipe(uint64_t fds_ptr)
{
	struct file *r, *w;
	int fds[2];

	// Checked first: once installed, another thread may use or close
	// the descriptors, and they can no longer be taken back.
	if (user_writable(fds_ptr, sizeof(fds)) < 0)
		return -EFAULT;
	int err = pipe_open(&r, &w);
	if (err < 0)
		return err;
	fds[0] = fdtable_install(files(), r);
	fds[1] = fds[0] < 0 ? -EMFILE : fdtable_install(files(), w);
	if (fds[1] < 0) {
		if (fds[0] >= 0)
			fdtable_remove(files(), fds[0]);
		file_close(r);
		file_close(w);
		return -EMFILE;
	}
	if (copy_to_user(fds_ptr, fds, sizeof(fds)) < 0)
		return -EFAULT;         // another thread unmapped the array meanwhile
	return 0;
}

int64_t sys_tcsetpgrp(uint64_t pgid)
{
	return tty_set_foreground(pgid > INT32_MAX ? -1 : (int)pgid);
}
