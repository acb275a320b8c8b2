// malloc and free on sbrk: blocks carry a header with their size; free
// blocks are kept in a list by address and merged with free neighbours.

#include "ulib.h"

struct block {
	size_t size;            // bytes after the header
	struct block *next;     // next free block (free blocks only)
};

#define ALIGN 16
#define HEADER ((sizeof(struct block) + ALIGN - 1) & ~(size_t)(ALIGN - 1))
#define GROW_MIN 4096

static struct block *free_list;

static void insert_free(struct block *b)
{
	struct block **link = &free_list;

	while (*link != NULL && *link < b)
		link = &(*link)->next;
	b->next = *link;
	*link = b;
	// Merge with the following block, then with the previous one.
	if (b->next && (char *)b + HEADER + b->size == (char *)b->next) {
		b->size += HEADER + b->next->size;
		b->next = b->next->next;
	}
	if (link != &free_list) {
		struct block *prev = (struct block *)((char *)link - offsetof(struct block, next));
		if ((char *)prev + HEADER + prev->size == (char *)b) {
			prev->size += HEADER + b->size;
			prev->next = b->next;
		}
	}
}

void *malloc(size_t size)
{
	size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	for (int attempt = 0; attempt < 2; attempt++) {
		for (struct block **link = &free_list; *link != NULL; link = &(*link)->next) {
			struct block *b = *link;
			if (b->size < size)
				continue;
			if (b->size >= size + HEADER + ALIGN) {
				struct block *rest = (struct block *)((char *)b + HEADER + size);
				rest->size = b->size - size - HEADER;
				rest->next = b->next;
				b->size = size;
				*link = rest;
			} else {
				*link = b->next;
			}
			return (char *)b + HEADER;
		}
		size_t grow = size + HEADER > GROW_MIN ? size + HEADER : GROW_MIN;
		struct block *b = sbrk((intptr_t)grow);
		if ((int64_t)b < 0)
			return NULL;
		b->size = grow - HEADER;
		insert_free(b);
	}
	return NULL;
}

void free(void *ptr)
{
	if (ptr != NULL)
		insert_free((struct block *)((char *)ptr - HEADER));
}
