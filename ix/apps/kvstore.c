// The key-value server's store: see kvstore.h.

#include "ix/apps/kvstore.h"

#include "lib/string.h"

#define BUCKET_BYTES 512        // arena bytes per hash bucket: about one bucket per item

// FNV-1a, 32 bits.
static uint32_t hash(const char *key, size_t nkey)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < nkey; i++)
		h = (h ^ (uint8_t)key[i]) * 16777619u;
	return h;
}

static struct kv_item **bucket(struct kv_store *s, const char *key, size_t nkey)
{
	return &s->buckets[hash(key, nkey) & (s->nbuckets - 1)];
}

static size_t item_size(size_t nkey, size_t nbytes)
{
	return sizeof(struct kv_item) + nkey + nbytes;
}

// The smallest class whose chunks hold size bytes, or -1.
static int class_of(size_t size)
{
	for (int c = 0; c < KV_CLASSES; c++)
		if (size <= (size_t)KV_CHUNK_MIN << c)
			return c;
	return -1;
}

bool kv_item_fits(size_t nkey, size_t nbytes)
{
	return nkey <= KV_KEY_MAX && nbytes <= KV_PAGE_SIZE &&
	       class_of(item_size(nkey, nbytes)) >= 0;
}

bool kv_store_init(struct kv_store *s, void *arena, size_t size)
{
	uint32_t n = 1;

	memset(s, 0, sizeof(*s));
	while ((size_t)n * 2 * BUCKET_BYTES <= size)
		n *= 2;
	size_t table = n * sizeof(struct kv_item *);

	table = (table + KV_PAGE_SIZE - 1) & ~(size_t)(KV_PAGE_SIZE - 1);
	if (size < table + KV_CLASSES * KV_PAGE_SIZE)
		return false;
	s->buckets = arena;
	s->nbuckets = n;
	memset(s->buckets, 0, n * sizeof(struct kv_item *));
	s->next_page = (uint8_t *)arena + table;
	s->end = s->next_page + (size - table) / KV_PAGE_SIZE * KV_PAGE_SIZE;
	for (int c = 0; c < KV_CLASSES; c++)
		s->classes[c].size = KV_CHUNK_MIN << c;
	s->next_cas = 1;
	return true;
}

// Cuts the next free page of the arena into chunks of class c.
static bool take_page(struct kv_store *s, int c)
{
	struct kv_class *k = &s->classes[c];

	if (s->next_page == s->end)
		return false;
	for (uint32_t off = 0; off + k->size <= KV_PAGE_SIZE; off += k->size) {
		struct kv_item *it = (struct kv_item *)(s->next_page + off);
		it->cls = (uint8_t)c;
		it->linked = false;
		it->next = k->free;
		k->free = it;
	}
	s->next_page += KV_PAGE_SIZE;
	s->stats.pages++;
	return true;
}

static void lru_remove(struct kv_class *k, struct kv_item *it)
{
	if (it->prev != NULL)
		it->prev->next = it->next;
	else
		k->head = it->next;
	if (it->next != NULL)
		it->next->prev = it->prev;
	else
		k->tail = it->prev;
}

static void lru_push(struct kv_class *k, struct kv_item *it)
{
	it->prev = NULL;
	it->next = k->head;
	if (k->head != NULL)
		k->head->prev = it;
	else
		k->tail = it;
	k->head = it;
}

// Whether a linked item is gone: expired, or stored before a flush
// whose time has come.
static bool is_dead(const struct kv_store *s, const struct kv_item *it, kv_time_t now)
{
	return (it->exptime != 0 && it->exptime <= now) ||
	       (s->flush_at != 0 && s->flush_at <= now && it->time < s->flush_at);
}

struct kv_item *kv_item_alloc(struct kv_store *s, const char *key, size_t nkey, uint32_t flags,
			      kv_time_t exptime, uint32_t nbytes, kv_time_t now)
{
	if (!kv_item_fits(nkey, nbytes))
		return NULL;
	int c = class_of(item_size(nkey, nbytes));
	struct kv_class *k = &s->classes[c];

	if (k->free == NULL && !take_page(s, c)) {
		struct kv_item *victim = k->tail;
		if (victim == NULL) {
			s->stats.no_memory++;
			return NULL;
		}
		if (is_dead(s, victim, now))
			s->stats.reclaimed++;
		else
			s->stats.evictions++;
		kv_unlink(s, victim);
	}
	struct kv_item *it = k->free;
	k->free = it->next;
	it->hnext = it->prev = it->next = NULL;
	it->cas = 0;
	it->exptime = exptime;
	it->time = now;
	it->flags = flags;
	it->nbytes = nbytes;
	it->nkey = (uint8_t)nkey;
	it->linked = false;
	memcpy(it->data, key, nkey);
	return it;
}

void kv_item_free(struct kv_store *s, struct kv_item *it)
{
	struct kv_class *k = &s->classes[it->cls];

	it->linked = false;
	it->next = k->free;
	k->free = it;
}

struct kv_item *kv_find(struct kv_store *s, const char *key, size_t nkey, kv_time_t now,
			bool bump)
{
	for (struct kv_item *it = *bucket(s, key, nkey); it != NULL; it = it->hnext) {
		if (it->nkey != nkey || memcmp(it->data, key, nkey) != 0)
			continue;
		if (is_dead(s, it, now)) {
			s->stats.reclaimed++;
			kv_unlink(s, it);
			return NULL;
		}
		if (bump) {
			lru_remove(&s->classes[it->cls], it);
			lru_push(&s->classes[it->cls], it);
		}
		return it;
	}
	return NULL;
}

void kv_link(struct kv_store *s, struct kv_item *it, kv_time_t now)
{
	struct kv_item *old = kv_find(s, it->data, it->nkey, now, false);

	if (old != NULL)
		kv_unlink(s, old);
	struct kv_item **b = bucket(s, it->data, it->nkey);
	it->hnext = *b;
	*b = it;
	lru_push(&s->classes[it->cls], it);
	it->linked = true;
	it->time = now;
	kv_new_cas(s, it);
	s->stats.items++;
	s->stats.total_items++;
	s->stats.bytes += it->nkey + it->nbytes;
}

void kv_unlink(struct kv_store *s, struct kv_item *it)
{
	struct kv_item **p = bucket(s, it->data, it->nkey);

	while (*p != it)
		p = &(*p)->hnext;
	*p = it->hnext;
	lru_remove(&s->classes[it->cls], it);
	s->stats.items--;
	s->stats.bytes -= it->nkey + it->nbytes;
	kv_item_free(s, it);
}

void kv_new_cas(struct kv_store *s, struct kv_item *it)
{
	it->cas = s->next_cas++;
}

void kv_flush(struct kv_store *s, kv_time_t at, kv_time_t now)
{
	if (at != 0 && at > now) {
		s->flush_at = at;
		return;
	}
	for (int c = 0; c < KV_CLASSES; c++)
		while (s->classes[c].head != NULL)
			kv_unlink(s, s->classes[c].head);
	s->flush_at = 0;
}
