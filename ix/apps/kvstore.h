// The key-value server's store (ix/apps/kvs.c): items of a key and a
// value, a hash table to find them, all in one fixed arena given at
// start; nothing is allocated elsewhere.
//
// The arena holds the hash table's buckets, then pages of KV_PAGE_SIZE
// bytes. As in memcached, each page belongs to one size class and is cut
// into chunks of that class's size: 64 bytes, 128, ... up to a whole
// page; an item takes one chunk of the smallest class that holds it.
// A class with no free chunk takes a new page while the arena has one;
// after that it evicts its least recently used item (each class keeps
// its items in an LRU list, most recent first). Pages never move
// between classes, so a class that got no page before the arena filled
// up cannot store anything (its stores fail, and are counted).
//
// Time is the server's, in seconds, starting at 1 (kv_time_t): an item
// whose exptime is not 0 is gone once the time reaches it. Expired and
// flushed items are freed when a lookup meets them or when eviction
// reaches them.
//
// One thread uses a store: nothing here locks.

#ifndef IX_APPS_KVSTORE_H
#define IX_APPS_KVSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KV_KEY_MAX 250                  // bytes of a key (memcached's limit)
#define KV_PAGE_SIZE (64 * 1024)        // arena bytes given to a class at a time; the largest chunk
#define KV_CHUNK_MIN 64                 // the smallest class's chunk
#define KV_CLASSES 11                   // 64 bytes, 128, ..., KV_PAGE_SIZE

typedef uint32_t kv_time_t;             // the server's seconds; 0 means "never" in exptime

struct kv_item {
	struct kv_item *hnext;          // next item of its hash bucket
	struct kv_item *prev, *next;    // its class's LRU list while linked; next: the free list
	uint64_t cas;                   // unique among the items stored so far
	kv_time_t exptime;              // gone once the time reaches it; 0: never
	kv_time_t time;                 // when it was stored (flush_all with a delay)
	uint32_t flags;                 // the client's, stored as given
	uint32_t nbytes;                // bytes of the value
	uint8_t nkey;                   // bytes of the key
	uint8_t cls;                    // its size class
	bool linked;                    // in the hash table and its LRU list
	char data[];                    // the key, then the value
};

struct kv_class {
	uint32_t size;                  // bytes of a chunk
	struct kv_item *free;           // free chunks, through next
	struct kv_item *head, *tail;    // linked items, most recently used first
};

struct kv_store_stats {
	uint64_t items;                 // linked now
	uint64_t bytes;                 // bytes of their keys and values
	uint64_t total_items;           // ever linked
	uint64_t evictions;             // live items freed to make room
	uint64_t reclaimed;             // expired or flushed items freed
	uint64_t no_memory;             // allocations that failed: no page, nothing to evict
	uint64_t pages;                 // pages given to classes
};

struct kv_store {
	struct kv_item **buckets;       // hash table: chains through hnext
	uint32_t nbuckets;              // a power of two
	uint8_t *next_page;             // the first page not yet given to a class
	uint8_t *end;                   // the arena's end
	struct kv_class classes[KV_CLASSES];
	uint64_t next_cas;
	kv_time_t flush_at;             // items stored before it are gone from then on; 0: none
	struct kv_store_stats stats;
};

// Sets s up in the arena [arena, arena + size): buckets, then pages.
// Returns false if the arena cannot hold the buckets and one page per class.
bool kv_store_init(struct kv_store *s, void *arena, size_t size);

// Whether an item of a key of nkey bytes and a value of nbytes fits in
// a chunk (memcached: "object too large for cache" otherwise).
bool kv_item_fits(size_t nkey, size_t nbytes);

// A new item, not linked (the caller fills its value, then links or
// frees it), with a chunk from its class: a free one, a new page, or
// the one of the class's least recently used item, which is freed.
// Returns NULL when none of these is there (counted in no_memory), or
// when the item does not fit (kv_item_fits).
struct kv_item *kv_item_alloc(struct kv_store *s, const char *key, size_t nkey, uint32_t flags,
			      kv_time_t exptime, uint32_t nbytes, kv_time_t now);

// Frees an item that is not linked.
void kv_item_free(struct kv_store *s, struct kv_item *it);

// The item's key and value.
static inline char *kv_item_key(struct kv_item *it)
{
	return it->data;
}

static inline char *kv_item_value(struct kv_item *it)
{
	return it->data + it->nkey;
}

// The live item of the key, or NULL; expired and flushed items it
// meets are freed. With bump, the item becomes its class's most
// recently used.
struct kv_item *kv_find(struct kv_store *s, const char *key, size_t nkey, kv_time_t now,
			bool bump);

// Links it (from kv_item_alloc) under its key with a new cas value, in
// place of the key's item if there is one, which is freed; it becomes
// its class's most recently used.
void kv_link(struct kv_store *s, struct kv_item *it, kv_time_t now);

// Unlinks a linked item and frees it.
void kv_unlink(struct kv_store *s, struct kv_item *it);

// Gives a linked item a new cas value (its value changed in place).
void kv_new_cas(struct kv_store *s, struct kv_item *it);

// flush_all: at <= now (or 0) frees every item now; a later at makes
// every item stored before at gone once the time reaches at.
void kv_flush(struct kv_store *s, kv_time_t at, kv_time_t now);

#endif
