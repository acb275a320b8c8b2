// The key-value servers' counter lines: see kvprint.h.

#include "ix/apps/kvprint.h"
#include "ulib.h"

void kv_print_counters(const char *name, const struct kv_server *srv)
{
	const struct kv_stats *k = &srv->stats;
	const struct kv_store_stats *s = &srv->store.stats;

	printf("%s: gets %lu, hits %lu, misses %lu, sets %lu, deletes %lu, incr %lu, decr %lu, "
	       "touches %lu, flushes %lu\n", name, k->cmd_get, k->get_hits, k->get_misses,
	       k->cmd_set, k->delete_hits + k->delete_misses, k->incr_hits + k->incr_misses,
	       k->decr_hits + k->decr_misses, k->cmd_touch, k->cmd_flush);
	printf("%s: store items %lu, bytes %lu, total items %lu, evictions %lu, reclaimed %lu, "
	       "no room %lu, pages %lu\n", name, s->items, s->bytes, s->total_items, s->evictions,
	       s->reclaimed, s->no_memory, s->pages);
}
