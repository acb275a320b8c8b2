// Open files: what a process's file descriptors refer to. Two kinds: the
// console, and either end of a pipe. A struct file is shared by the
// descriptors fork and dup made from one open, and counts them.

#ifndef KERNEL_FS_FILE_H
#define KERNEL_FS_FILE_H

#include <stdbool.h>
#include <stdint.h>

enum file_type { FILE_CONSOLE, FILE_PIPE };

struct pipe;

struct file {
	enum file_type type;
	int refcount;           // guarded by a lock in file.c
	bool readable;
	bool writable;
	struct pipe *pipe;
};

// A new open file on the console (NULL when out of memory).
struct file *file_console(void);
struct file *file_dup(struct file *f);
void file_close(struct file *f);

// read and write between f and user memory of the current process.
// Return the number of bytes moved, or a negative error.
int64_t file_read(struct file *f, uint64_t buf, uint64_t n);
int64_t file_write(struct file *f, uint64_t buf, uint64_t n);

// A new pipe: *read_end and *write_end. Returns 0 or -ENOMEM.
int pipe_open(struct file **read_end, struct file **write_end);
// Pipe ends (fs/pipe.c), for file.c.
int64_t pipe_read(struct pipe *p, uint64_t buf, uint64_t n);
int64_t pipe_write(struct pipe *p, uint64_t buf, uint64_t n);
void pipe_close(struct pipe *p, bool write_end);

#endif
