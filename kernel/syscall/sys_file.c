// System calls on file descriptors: read, write, close, pipe, dup.

#include "fs/file.h"
#include "lib/errno.h"
#include "proc/proc.h"
#include "proc/uaccess.h"
#include "syscall/syscall.h"

// The open file of descriptor fd of the current process, or NULL.
static struct file *fd_file(uint64_t fd)
{
	return fd < NFILES ? proc_current()->files[fd] : NULL;
}

// Gives f the lowest free descriptor; returns it, or -EMFILE.
static int fd_install(struct file *f)
{
	struct proc *p = proc_current();

	for (int fd = 0; fd < NFILES; fd++) {
		if (p->files[fd] == NULL) {
			p->files[fd] = f;
			return fd;
		}
	}
	return -EMFILE;
}

int64_t sys_read(uint64_t fd, uint64_t buf, uint64_t len)
{
	struct file *f = fd_file(fd);

	return f ? file_read(f, buf, len) : -EBADF;
}

int64_t sys_write(uint64_t fd, uint64_t buf, uint64_t len)
{
	struct file *f = fd_file(fd);

	return f ? file_write(f, buf, len) : -EBADF;
}

int64_t sys_close(uint64_t fd)
{
	struct file *f = fd_file(fd);

	if (f == NULL)
		return -EBADF;
	proc_current()->files[fd] = NULL;
	file_close(f);
	return 0;
}

int64_t sys_dup(uint64_t fd)
{
	struct file *f = fd_file(fd);

	if (f == NULL)
		return -EBADF;
	int new = fd_install(file_dup(f));
	if (new < 0)
		file_close(f);
	return new;
}

int64_t sys_pipe(uint64_t fds_ptr)
{
	struct file *r, *w;
	int fds[2];

	int err = pipe_open(&r, &w);
	if (err < 0)
		return err;
	fds[0] = fd_install(r);
	fds[1] = fds[0] < 0 ? -EMFILE : fd_install(w);
	if (fds[1] < 0 || copy_to_user(fds_ptr, fds, sizeof(fds)) < 0) {
		err = fds[1] < 0 ? -EMFILE : -EFAULT;
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				proc_current()->files[fds[i]] = NULL;
		file_close(r);
		file_close(w);
		return err;
	}
	return 0;
}
