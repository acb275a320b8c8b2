// Lab 4 self-tests: the other CPUs come up, take timer interrupts, and
// share data under spinlocks; interrupt nesting; lock misuse caught.

#include "acpi/acpi.h"
#include "arch/x86.h"
#include "boot/cmdline.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "cpu/lapic.h"
#include "cpu/smp.h"
#include "debug/panic.h"
#include "sync/spinlock.h"
#include "test/ktest.h"

#define RFLAGS_IF 0x200

static struct spinlock counter_lock = SPINLOCK_INIT("counter");
static uint64_t counter;
static uint64_t increments;

static void report_cpu(int id)
{
	printk("cpu %d: up, apic id %u\n", id, cpus[id].apic_id);
}

static void add_to_counter(int id)
{
	(void)id;
	for (uint64_t i = 0; i < increments; i++) {
		spin_lock(&counter_lock);
		counter++;
		spin_unlock(&counter_lock);
	}
}

KTEST(lab4_smp, "lab4.smp", STAGE_SMP, "all CPUs up, timer interrupts, a shared counter (increments=)");
static void lab4_smp(void)
{
	increments = cmdline_get_u64("increments", 10000);
	printk("cpus: %d found, %d running\n", acpi.ncpus, ncpus);
	printk("tsc: %lu kHz, apic timer: %u per ms\n", tsc_per_ms, lapic_timer_per_ms);
	smp_call_all(report_cpu);
	smp_call_all(add_to_counter);
	printk("counter: %lu\n", counter);

	// Every CPU must take timer interrupts: wait for 5 ticks on each.
	uint64_t deadline = rdtsc() + tsc_per_ms * 2000;
	for (int i = 0; i < ncpus; i++) {
		while (cpus[i].ticks < 5 && rdtsc() < deadline)
			pause();
		printk("cpu %d: %s\n", i, cpus[i].ticks >= 5 ? "timer ticks" : "no timer ticks");
	}
}

// Prints whether interrupts are on, after a step of the nesting test.
static void report_if(const char *step)
{
	printk("cli: %s: interrupts %s\n", step, read_rflags() & RFLAGS_IF ? "on" : "off");
}

KTEST(lab4_cli, "lab4.cli", STAGE_SMP, "push_cli/pop_cli nesting and spinlocks keep interrupts off");
static void lab4_cli(void)
{
	report_if("start");
	push_cli();
	push_cli();
	report_if("two push_cli");
	pop_cli();
	report_if("one pop_cli");
	pop_cli();
	report_if("both popped");
	spin_lock(&counter_lock);
	report_if("holding a lock");
	spin_unlock(&counter_lock);
	report_if("lock released");
	cli();
	push_cli();
	pop_cli();
	report_if("pop_cli after cli");
	sti();
}

KTEST(lab4_double_lock, "lab4.double_lock", STAGE_SMP, "take a lock twice: the kernel must panic");
static void lab4_double_lock(void)
{
	static struct spinlock twice = SPINLOCK_INIT("twice");

	spin_lock(&twice);
	spin_lock(&twice);
	printk("lab4.double_lock: the second spin_lock passed unnoticed\n");
}
