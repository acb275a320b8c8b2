#include <stdint.h>

#include "arch/x86.h"
#include "console/console.h"
#include "lib/string.h"
#include "platform/platform.h"

// QEMU's isa-debug-exit device (tools/run adds it at this port): writing v
// ends QEMU with exit status (v << 1) | 1.
#define QEMU_DEBUG_EXIT_PORT 0xF4
// Bochs: the "Shutdown" string on this port ends the simulation at once.
#define BOCHS_SHUTDOWN_PORT 0x8900
// Bochs's port 0xE9 hack reads back as 0xE9; unused ports read as 0xFF.
#define BOCHS_E9_PORT 0xE9

#define CPUID_HYPERVISOR_BIT (1u << 31)         // CPUID.1:ECX[31]

static enum platform platform = PLATFORM_HARDWARE;

void platform_detect(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	if (inb(BOCHS_E9_PORT) == BOCHS_E9_PORT)
		platform = PLATFORM_BOCHS;
	else if (c & CPUID_HYPERVISOR_BIT)
		platform = PLATFORM_QEMU;
}

enum platform platform_get(void)
{
	return platform;
}

bool platform_is_bochs(void)
{
	return platform == PLATFORM_BOCHS;
}

const char *platform_name(void)
{
	static const char *const names[] = {
		[PLATFORM_HARDWARE] = "hardware",
		[PLATFORM_QEMU] = "qemu",
		[PLATFORM_BOCHS] = "bochs",
	};
	return names[platform];
}

void power_off(enum power_status status)
{
	cli();
	printk("== end: %s\n", status == POWER_OK ? "ok" : "panic");
	if (platform == PLATFORM_QEMU) {
		outl(QEMU_DEBUG_EXIT_PORT, status);
	} else if (platform == PLATFORM_BOCHS) {
		for (const char *s = "Shutdown"; *s; s++)
			outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
	}
	printk("halted.\n");
	for (;;)
		hlt();
}
