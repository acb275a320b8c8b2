// The kernel command line: words of the form key=value separated by
// spaces (QEMU's -kernel puts the kernel's path first; words without
// '=' are ignored). Values hold no spaces; lists are comma-separated.
//
//   run=NAME     what to run: a self-test (test/ktest.h) or "monitor"
//   token=T      echoed in the run header, chosen by the grader
//   others       read by the test that runs

#ifndef KERNEL_BOOT_CMDLINE_H
#define KERNEL_BOOT_CMDLINE_H

#include <stdint.h>

void cmdline_init(const char *cmdline);
// Returns the value of key, or NULL if the command line has none.
const char *cmdline_get(const char *key);
// Returns the value of key as a number (decimal or 0x hex), or def.
uint64_t cmdline_get_u64(const char *key, uint64_t def);

#endif
