#include "debug/ksyms.h"

bool ksym_lookup(uint64_t addr, const char **name, uint64_t *start)
{
	// BEGIN LAB 1 SOLUTION: ksym_lookup
	// Binary search for the last function that starts at or below addr;
	// the end-of-text entry at index ksym_count bounds the last function.
	if (ksym_count == 0 || addr < ksym_addrs[0] || addr >= ksym_addrs[ksym_count])
		return false;

	uint64_t lo = 0, hi = ksym_count;       // ksym_addrs[lo] <= addr < ksym_addrs[hi]
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (ksym_addrs[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	*name = ksym_names + ksym_name_offsets[lo];
	*start = ksym_addrs[lo];
	return true;
	// STUB:
	// (void)addr, (void)name, (void)start;
	// return false;
	// END LAB 1
}
