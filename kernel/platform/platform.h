// What machine the kernel runs on (QEMU, Bochs or real hardware), and how
// to end the run: the emulators are told to exit with a status the test
// runner reads (tools/run), real hardware just halts.

#ifndef KERNEL_PLATFORM_PLATFORM_H
#define KERNEL_PLATFORM_PLATFORM_H

#include <stdbool.h>

enum platform {
	PLATFORM_HARDWARE,
	PLATFORM_QEMU,
	PLATFORM_BOCHS,
};

enum power_status {
	POWER_OK,               // the run did what it was asked
	POWER_PANIC,            // the kernel panicked
};

void platform_detect(void);
enum platform platform_get(void);
const char *platform_name(void);
bool platform_is_bochs(void);

// A function power_off calls first (VMX leaves VMX operation with it).
void platform_at_power_off(void (*fn)(void));

// Prints the end-of-run marker "== end: ok" or "== end: panic" and ends
// the emulator (or halts the machine). Does not return.
__attribute__((noreturn)) void power_off(enum power_status status);

#endif
