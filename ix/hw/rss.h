// Receive-side scaling (82599 datasheet 7.1.2.8): the Toeplitz hash of a
// packet's addresses and ports under a secret key, and the input the
// 82599 hashes for IPv4. The NIC picks a queue from the hash (RETA); the
// emulated 82599 (vmx/dev) computes it, and the dataplane (ix/) computes
// it again to know which core a flow of its own will land on.
//
// Freestanding: <stdint.h> and <stddef.h> only, so the kernel and user
// programs both build this file.

#ifndef IX_HW_RSS_H
#define IX_HW_RSS_H

#include <stddef.h>
#include <stdint.h>

#define RSS_KEY_SIZE 40                 // the 82599's key (RSSRK), in bytes
#define RSS_IPV4_INPUT_SIZE 12          // source and destination address, source and destination port
#define RSS_IPV4_ADDRS_SIZE 8           // the two addresses only (RSS type IPv4)

// The Toeplitz hash of input[0..len) under key, which must hold at
// least len + 4 bytes (a 40-byte key covers inputs up to 36 bytes).
uint32_t rss_toeplitz(const uint8_t *key, const uint8_t *input, size_t len);

// Writes the hash input of an IPv4 TCP or UDP packet into
// out[RSS_IPV4_INPUT_SIZE]: source address, destination address, source
// port, destination port, each in network byte order (most significant
// byte first). The arguments are numbers in host order (10.0.0.1 is
// 0x0A000001). The first RSS_IPV4_ADDRS_SIZE bytes are the input of the
// 2-tuple (addresses only) hash. Returns RSS_IPV4_INPUT_SIZE.
size_t rss_ipv4_input(uint8_t *out, uint32_t src_addr, uint32_t dst_addr,
		      uint16_t src_port, uint16_t dst_port);

#endif
