#include <stdint.h>

#include "arch/ports.h"
#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include <stddef.h>

#include "lib/string.h"
#include "platform/platform.h"

// QEMU's isa-debug-exit device (tools/run adds it at this port): writing v
// ends QEMU with exit status (v << 1) | 1.
#define QEMU_DEBUG_EXIT_PORT 0xF4
// Bochs: the "Shutdown" string on this port ends the simulation at once.
#define BOCHS_SHUTDOWN_PORT 0x8900


static enum platform platform = PLATFORM_HARDWARE;
static void (*at_power_off)(void);

void platform_at_power_off(void (*fn)(void))
{
	at_power_off = fn;
}

// QEMU's software CPU and KVM name themselves in CPUID leaf 0x40000000
// (EBX, ECX, EDX); other hypervisors count as hardware here: the kernel
// halts at the end instead of writing to QEMU's exit port.
static bool is_qemu(void)
{
	uint32_t a, b, c, d;
	char vendor[13];

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID_1_ECX_HYPERVISOR))
		return false;
	cpuid(CPUID_HYPERVISOR_LEAF, 0, &a, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &c, 4);
	memcpy(vendor + 8, &d, 4);
	vendor[12] = '\0';
	return strcmp(vendor, "TCGTCGTCGTCG") == 0 || memcmp(vendor, "KVMKVMKVM", 9) == 0;
}

void platform_detect(void)
{
	if (inb(BOCHS_E9_PORT) == BOCHS_E9_PORT)
		platform = PLATFORM_BOCHS;
	else if (is_qemu())
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
	if (at_power_off != NULL && status == POWER_OK)
		at_power_off();
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
