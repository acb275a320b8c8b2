// The latency histogram (histogram.h).

#include "ix/apps/histogram.h"

static unsigned bucket_of(uint64_t v)
{
	if (v < HISTOGRAM_SUB)
		return (unsigned)v;
	unsigned e = 63 - (unsigned)__builtin_clzll(v);
	unsigned below = (unsigned)(v >> (e - HISTOGRAM_SUB_BITS)) & (HISTOGRAM_SUB - 1);
	return HISTOGRAM_SUB + (e - HISTOGRAM_SUB_BITS) * HISTOGRAM_SUB + below;
}

// The largest value of bucket b.
static uint64_t bucket_top(unsigned b)
{
	if (b < HISTOGRAM_SUB)
		return b;
	unsigned e = (b - HISTOGRAM_SUB) / HISTOGRAM_SUB + HISTOGRAM_SUB_BITS;
	unsigned below = (b - HISTOGRAM_SUB) % HISTOGRAM_SUB;
	return ((uint64_t)(HISTOGRAM_SUB + below + 1) << (e - HISTOGRAM_SUB_BITS)) - 1;
}

void histogram_add(struct histogram *h, uint64_t value)
{
	h->buckets[bucket_of(value)]++;
	h->n++;
	if (value > h->max)
		h->max = value;
}

uint64_t histogram_percentile(const struct histogram *h, unsigned per_mille)
{
	uint64_t rank = (h->n * per_mille + 999) / 1000, seen = 0;

	if (h->n == 0)
		return 0;
	for (unsigned b = 0; b < HISTOGRAM_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen >= rank && seen > 0)
			return bucket_top(b) < h->max ? bucket_top(b) : h->max;
	}
	return h->max;
}

void histogram_merge(struct histogram *into, const struct histogram *from)
{
	for (unsigned b = 0; b < HISTOGRAM_BUCKETS; b++)
		into->buckets[b] += from->buckets[b];
	into->n += from->n;
	if (from->max > into->max)
		into->max = from->max;
}
