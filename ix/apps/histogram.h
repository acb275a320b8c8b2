// A histogram of fixed size for latencies (ixload, run=bench.ix): any
// 64-bit value, recorded in O(1), with percentiles within 1/16 of the
// true value. Log-linear buckets, as HdrHistogram's: a value below 16
// has a bucket of its own; a larger value whose top bit is bit e falls
// in one of the 16 buckets of width 2^(e-4) that split [2^e, 2^(e+1)).

#ifndef IX_APPS_HISTOGRAM_H
#define IX_APPS_HISTOGRAM_H

#include <stdint.h>

#define HISTOGRAM_SUB_BITS 4
#define HISTOGRAM_SUB (1 << HISTOGRAM_SUB_BITS)
#define HISTOGRAM_BUCKETS (HISTOGRAM_SUB + (64 - HISTOGRAM_SUB_BITS) * HISTOGRAM_SUB)

struct histogram {
	uint64_t buckets[HISTOGRAM_BUCKETS];
	uint64_t n;                     // values recorded
	uint64_t max;                   // the largest
};

void histogram_add(struct histogram *h, uint64_t value);

// The value below which (or at which) per_mille thousandths of the
// values lie: the top of its bucket, at most the largest value; 0 if
// none was recorded. p50 is 500, p99 990, p99.9 999.
uint64_t histogram_percentile(const struct histogram *h, unsigned per_mille);

// Adds the values of from to into.
void histogram_merge(struct histogram *into, const struct histogram *from);

#endif
