#include "fs/fdtable.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"

struct fdtable *fdtable_create(void)
{
	struct fdtable *t = kzalloc(sizeof(*t));

	if (t != NULL) {
		t->refcount = 1;
		spin_init(&t->lock, "fdtable");
	}
	return t;
}

struct fdtable *fdtable_copy(struct fdtable *t)
{
	struct fdtable *copy = fdtable_create();

	if (copy == NULL)
		return NULL;
	spin_lock(&t->lock);
	for (int fd = 0; fd < NFILES; fd++)
		if (t->fd[fd] != NULL)
			copy->fd[fd] = file_dup(t->fd[fd]);
	spin_unlock(&t->lock);
	return copy;
}

struct fdtable *fdtable_get(struct fdtable *t)
{
	__atomic_fetch_add(&t->refcount, 1, __ATOMIC_RELAXED);
	return t;
}

void fdtable_put(struct fdtable *t)
{
	if (__atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (int fd = 0; fd < NFILES; fd++)
		if (t->fd[fd] != NULL)
			file_close(t->fd[fd]);
	kfree(t);
}

struct file *fdtable_file(struct fdtable *t, uint64_t fd)
{
	struct file *f = NULL;

	if (fd >= NFILES)
		return NULL;
	spin_lock(&t->lock);
	if (t->fd[fd] != NULL)
		f = file_dup(t->fd[fd]);
	spin_unlock(&t->lock);
	return f;
}

int fdtable_install(struct fdtable *t, struct file *f)
{
	int result = -EMFILE;

	spin_lock(&t->lock);
	for (int fd = 0; fd < NFILES && result < 0; fd++) {
		if (t->fd[fd] == NULL) {
			t->fd[fd] = f;
			result = fd;
		}
	}
	spin_unlock(&t->lock);
	return result;
}

struct file *fdtable_remove(struct fdtable *t, uint64_t fd)
{
	struct file *f = NULL;

	if (fd >= NFILES)
		return NULL;
	spin_lock(&t->lock);
	f = t->fd[fd];
	t->fd[fd] = NULL;
	spin_unlock(&t->lock);
	return f;
}
