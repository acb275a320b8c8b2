// What the benchmarks print of a ratio: n / d with two decimals.

#ifndef IX_BENCH_FIXED_H
#define IX_BENCH_FIXED_H

#include <stddef.h>
#include <stdint.h>

#include "lib/printfmt.h"

// n / d with two decimals ("0.00" when d is 0), into buf; returns buf.
static inline const char *fixed2(char *buf, size_t size, uint64_t n, uint64_t d)
{
	uint64_t hundredths = d ? n * 100 / d : 0;

	snprintf(buf, size, "%lu.%02lu", hundredths / 100, hundredths % 100);
	return buf;
}

#endif
