// lwIP's port to the course's user space (lwIP's src/include/lwip/arch.h
// says what a port's cc.h may define): x86-64 is little-endian and gcc
// gives the fixed-width types; the C library is the user library's
// (ulib.h), without inttypes.h, limits.h or ctype.h: the formats of
// lwIP's types are said here, lwIP's ssize_t is an int and lwIP uses its
// own character functions.
// Messages go to the console with printf; a failed assertion prints
// where and ends the process.

#ifndef IX_LWIP_ARCH_CC_H
#define IX_LWIP_ARCH_CC_H

#include <stdint.h>

#include "ulib.h"

#define BYTE_ORDER LITTLE_ENDIAN

#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_LIMITS_H 1
#define LWIP_NO_CTYPE_H 1
#define X8_F  "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "lu"

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { \
		printf("lwip: assertion \"%s\" failed at %s:%d\n", (x), __FILE__, __LINE__); \
		exit(99); \
	} while (0)

#endif
