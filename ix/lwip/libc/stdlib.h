// The C library's <stdlib.h> for lwIP's files (see string.h here):
// lwIP's netif_find parses an interface's number with atoi.

#ifndef IX_LWIP_LIBC_STDLIB_H
#define IX_LWIP_LIBC_STDLIB_H

#include "lib/string.h"

#define atoi(s) ((int)strtoul((s), NULL, 10))

#endif
