#include <stddef.h>

#include "arch/x86.h"
#include "cpu/lapic.h"
#include "debug/panic.h"
#include "arch/memlayout.h"

// Register offsets (SDM Vol. 3A Table 11-1).
#define LAPIC_ID        0x020
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0B0
#define LAPIC_SVR       0x0F0
#define LAPIC_ESR       0x280
#define LAPIC_ICR_LOW   0x300
#define LAPIC_ICR_HIGH  0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0

#define SVR_ENABLE      0x100
#define LVT_MASKED      0x10000
#define TIMER_PERIODIC  0x20000
#define TIMER_DIVIDE_16 0x3
#define ICR_INIT        0x500
#define ICR_STARTUP     0x600
#define ICR_ASSERT      0x4000
#define ICR_PENDING     0x1000

// PIT channel 2, gated through port 0x61 (8254 datasheet; the PC's
// speaker port wiring).
#define PIT_HZ 1193182
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE 0x61
#define PIT_GATE_ON 0x01
#define PIT_SPEAKER 0x02
#define PIT_OUT2 0x20
#define PIT_CH2_ONESHOT 0xB0    // channel 2, low then high byte, mode 0
#define CALIBRATION_MS 10

uint64_t tsc_per_ms;
uint32_t lapic_timer_per_ms;
static volatile uint32_t *lapic;

static uint32_t read_reg(uint32_t reg)
{
	return lapic[reg / 4];
}

static void write_reg(uint32_t reg, uint32_t v)
{
	lapic[reg / 4] = v;
	(void)lapic[LAPIC_ID / 4];      // wait for the write to land
}

void lapic_calibrate(uint64_t lapic_base)
{
	lapic = P2V(lapic_base);
	write_reg(LAPIC_TIMER_DIV, TIMER_DIVIDE_16);
	write_reg(LAPIC_LVT_TIMER, LVT_MASKED);

	uint32_t count = PIT_HZ * CALIBRATION_MS / 1000;
	outb(PIT_GATE, (inb(PIT_GATE) & ~PIT_SPEAKER) & ~PIT_GATE_ON);
	outb(PIT_CMD, PIT_CH2_ONESHOT);
	outb(PIT_CH2, count & 0xFF);
	outb(PIT_CH2, count >> 8);

	write_reg(LAPIC_TIMER_INIT, 0xFFFFFFFF);
	uint64_t tsc0 = rdtsc();
	outb(PIT_GATE, inb(PIT_GATE) | PIT_GATE_ON);    // the countdown starts
	for (uint64_t spins = 0; !(inb(PIT_GATE) & PIT_OUT2); spins++)
		if (spins > 100000000)
			panic("lapic_calibrate: the PIT never counted down");
	uint64_t tsc1 = rdtsc();
	uint32_t elapsed = 0xFFFFFFFF - read_reg(LAPIC_TIMER_CUR);
	write_reg(LAPIC_TIMER_INIT, 0);

	tsc_per_ms = (tsc1 - tsc0) / CALIBRATION_MS;
	lapic_timer_per_ms = elapsed / CALIBRATION_MS;
	if (tsc_per_ms == 0 || lapic_timer_per_ms == 0)
		panic("lapic_calibrate: nothing counted in %d ms (TSC %lu, APIC timer %u)",
		      CALIBRATION_MS, tsc1 - tsc0, elapsed);
}

void lapic_init(void)
{
	write_reg(LAPIC_SVR, SVR_ENABLE | T_SPURIOUS);
	write_reg(LAPIC_LVT_LINT0, LVT_MASKED);
	write_reg(LAPIC_LVT_LINT1, LVT_MASKED);
	write_reg(LAPIC_LVT_ERROR, T_APIC_ERROR);
	write_reg(LAPIC_ESR, 0);
	write_reg(LAPIC_TIMER_DIV, TIMER_DIVIDE_16);
	write_reg(LAPIC_LVT_TIMER, TIMER_PERIODIC | T_TIMER);
	write_reg(LAPIC_TIMER_INIT, lapic_timer_per_ms * (1000 / TIMER_HZ));
	write_reg(LAPIC_TPR, 0);
	write_reg(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
	return read_reg(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	if (lapic != NULL)
		write_reg(LAPIC_EOI, 0);
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + tsc_per_ms * us / 1000;

	while (rdtsc() < end)
		pause();
}

static void send_ipi(uint32_t apic_id, uint32_t command)
{
	write_reg(LAPIC_ICR_HIGH, apic_id << 24);
	write_reg(LAPIC_ICR_LOW, command);
	for (int spins = 0; read_reg(LAPIC_ICR_LOW) & ICR_PENDING; spins++)
		if (spins > 1000000)
			panic("send_ipi: IPI 0x%x to APIC %u is never delivered", command, apic_id);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	send_ipi(apic_id, ICR_ASSERT | vector);       // delivery mode 000: fixed
}

void lapic_start_cpu(uint32_t apic_id, uint64_t entry)
{
	if (entry % PAGE_SIZE != 0 || entry >= 0x100000)
		panic("lapic_start_cpu: entry 0x%lx is not a page below 1 MiB", entry);
	// BEGIN LAB 4 SOLUTION: start_cpu
	send_ipi(apic_id, ICR_INIT | ICR_ASSERT);
	udelay(10000);
	for (int i = 0; i < 2; i++) {
		send_ipi(apic_id, ICR_STARTUP | (uint32_t)(entry >> 12));
		udelay(200);
	}
	// STUB:
	// (void)send_ipi;
	// END LAB 4
}
