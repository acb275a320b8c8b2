// The Toeplitz hash of receive-side scaling (82599 datasheet 7.1.2.8).

#include "rss.h"

// For every bit of the input, most significant bit of input[0] first:
// if the bit is 1, XOR into the result the 32 bits of the key that start
// at the same bit position. `window` holds those 32 key bits; after each
// input bit it slides one bit along the key (left by one, taking in the
// key's next bit at the bottom).
uint32_t rss_toeplitz(const uint8_t *key, const uint8_t *input, size_t len)
{
	// BEGIN LAB 9 SOLUTION: rss_toeplitz
	uint32_t hash = 0;
	uint32_t window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 |
			  (uint32_t)key[2] << 8 | key[3];

	for (size_t i = 0; i < len; i++) {
		for (int bit = 7; bit >= 0; bit--) {
			if ((input[i] >> bit) & 1)
				hash ^= window;
			window = window << 1 | ((key[i + 4] >> bit) & 1);
		}
	}
	return hash;
	// STUB:
	// (void)key, (void)input, (void)len;
	// return 0;
	// END LAB 9
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

size_t rss_ipv4_input(uint8_t *out, uint32_t src_addr, uint32_t dst_addr,
		      uint16_t src_port, uint16_t dst_port)
{
	put_be32(out, src_addr);
	put_be32(out + 4, dst_addr);
	out[8] = src_port >> 8;
	out[9] = src_port;
	out[10] = dst_port >> 8;
	out[11] = dst_port;
	return RSS_IPV4_INPUT_SIZE;
}
