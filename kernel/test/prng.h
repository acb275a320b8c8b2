// xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
// generators, scrambled", 2016): the generator self-tests use to make
// values from a seed the grader chose. grader/prng.py is the same
// generator, so the grader knows every value the kernel will print.

#ifndef KERNEL_TEST_PRNG_H
#define KERNEL_TEST_PRNG_H

#include <stdint.h>

struct prng {
	uint64_t state;         // never 0
};

static inline void prng_seed(struct prng *r, uint64_t seed)
{
	r->state = seed ? seed : 0x9E3779B97F4A7C15;
}

static inline uint64_t prng_next(struct prng *r)
{
	uint64_t x = r->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->state = x;
	return x * 0x2545F4914F6CDD1D;
}

#endif
