// write() to the console.

#include "console/console.h"
#include "lib/errno.h"
#include "proc/proc.h"
#include "proc/uaccess.h"
#include "syscall/syscall.h"

#define STDOUT 1
#define STDERR 2
#define CHUNK 256

int64_t sys_write(uint64_t fd, uint64_t buf, uint64_t len)
{
	char chunk[CHUNK];

	if (fd != STDOUT && fd != STDERR)
		return -EBADF;
	// Check all of it first: a bad buffer writes nothing.
	if (!user_range_ok(proc_current()->pml4, buf, len, false))
		return -EFAULT;
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < CHUNK ? len - done : CHUNK;
		int err = copy_from_user(chunk, buf + done, n);
		if (err < 0)
			return err;
		for (uint64_t i = 0; i < n; i++)
			console_putc(chunk[i]);
		done += n;
	}
	return (int64_t)len;
}
