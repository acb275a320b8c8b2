// Stack backtraces through the frame-pointer chain.
//
// The kernel is compiled with -fno-omit-frame-pointer, so every function
// begins with "push %rbp; mov %rsp, %rbp": %rbp points at the saved %rbp of
// the caller, and the return address sits just above it:
//
//     rbp + 8 -> return address (into the caller)
//     rbp     -> caller's rbp  --> next frame ... --> 0 (boot/entry.S)

#ifndef KERNEL_DEBUG_BACKTRACE_H
#define KERNEL_DEBUG_BACKTRACE_H

#include <stdbool.h>
#include <stdint.h>

// Stop after this many frames: a corrupt chain can loop.
#define BACKTRACE_MAX_FRAMES 32

// Prints the chain of frames that starts at rbp, numbering the first one
// first_depth. Returns the number of frames printed.
int backtrace_walk(uint64_t rbp, int first_depth);

// Prints one frame: "  #N rip 0x... rbp 0x...  function+0xoffset".
// A return address is looked up one byte back, so a call that is the last
// instruction of a function is not taken for the next function.
void backtrace_print_frame(int depth, uint64_t rip, uint64_t rbp, bool is_return_address);

// Prints the backtrace of its caller.
void backtrace(void);

#endif
