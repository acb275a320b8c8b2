// The user library's calls ixev.c makes (printf, memcpy, memset,
// strerror, the error numbers), from the host's C library, for
// ixev_test.c: its Makefrag puts this folder first in the include path.

#ifndef IX_LIBIX_TESTS_ULIB_H
#define IX_LIBIX_TESTS_ULIB_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#endif
