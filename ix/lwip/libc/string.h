// The C library's <string.h> for lwIP's files: the user library's
// string functions (lib/string.h). lwIP is compiled without the
// machine's C headers (-nostdinc, ix/lwip/Makefrag), so each header it
// includes is one of this folder's or the compiler's own.

#ifndef IX_LWIP_LIBC_STRING_H
#define IX_LWIP_LIBC_STRING_H

#include "lib/string.h"

#endif
