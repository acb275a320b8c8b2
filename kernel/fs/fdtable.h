// File descriptor tables: a process's descriptors 0..NFILES-1, each NULL
// or an open file. The threads of a process share one table (it counts
// them); fork gives the child a table of its own that refers to the same
// open files.

#ifndef KERNEL_FS_FDTABLE_H
#define KERNEL_FS_FDTABLE_H

#include "fs/file.h"
#include "sync/spinlock.h"

#define NFILES 16               // open files per process

struct fdtable {
	int refcount;                   // atomic
	struct spinlock lock;           // guards fd[]
	struct file *fd[NFILES];
};

// An empty table, or NULL when out of memory.
struct fdtable *fdtable_create(void);
// A table of its own with the same open files as t (fork), or NULL.
struct fdtable *fdtable_copy(struct fdtable *t);
// One more user of t (a new thread); returns t.
struct fdtable *fdtable_get(struct fdtable *t);
// One user fewer; the last closes every file.
void fdtable_put(struct fdtable *t);

// The file of descriptor fd with a reference the caller gives back with
// file_close (another thread may close fd meanwhile), or NULL.
struct file *fdtable_file(struct fdtable *t, uint64_t fd);
// Gives f the lowest free descriptor; returns it, or -EMFILE.
int fdtable_install(struct fdtable *t, struct file *f);
// Takes the file out of descriptor fd and returns it (the caller closes
// it), or NULL if fd is not open.
struct file *fdtable_remove(struct fdtable *t, uint64_t fd);

#endif
