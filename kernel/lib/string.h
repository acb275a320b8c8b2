// Freestanding string and memory functions (the compiler may also emit
// calls to memcpy, memset, memmove and memcmp on its own).

#ifndef KERNEL_LIB_STRING_H
#define KERNEL_LIB_STRING_H

#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
// Copies at most size-1 bytes and always terminates (if size > 0).
// Returns strlen(src), so truncation shows as a result >= size.
size_t strlcpy(char *dst, const char *src, size_t size);
// Parses an unsigned number: decimal, or hex with a 0x prefix. *end (if not
// NULL) is set to the first character not used.
unsigned long strtoul(const char *s, const char **end, int base);

#endif
