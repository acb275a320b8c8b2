// The local APIC of each CPU (SDM Vol. 3A chapter 11): its timer, the
// end-of-interrupt register, and interprocessor interrupts. Registers are
// reached through the direct map (xAPIC mode); firmware's MTRRs make that
// range uncached.

#ifndef KERNEL_CPU_LAPIC_H
#define KERNEL_CPU_LAPIC_H

#include <stdint.h>

#include "lib/sysnum.h"         // TIMER_HZ

#define T_TIMER 48              // the timer's vector, above the 8259s' 32-47
#define T_SERIAL 52             // COM1 (ISA IRQ 4), through the I/O APIC
#define T_DEVICE_FIRST 64       // device interrupts (trap_device_vector):
#define T_DEVICE_LAST 95        // MSIs and PCI lines through the I/O APIC
#define T_IPI_CALL 0xF0         // a cross-CPU call (cpu/ipi.h)
#define T_APIC_ERROR 0xFE
#define T_SPURIOUS 0xFF

// Measured by lapic_calibrate on the boot CPU.
extern uint64_t tsc_per_ms;
extern uint32_t lapic_timer_per_ms;

// Measures the TSC and the APIC timer against the PIT (10 ms).
void lapic_calibrate(uint64_t lapic_base);
// Enables this CPU's local APIC and starts its periodic timer.
void lapic_init(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
// Starts the CPU with this APIC id at the 4 KiB-aligned real-mode
// address entry (INIT, then two STARTUP IPIs: SDM Vol. 3A 9.4.4.1).
void lapic_start_cpu(uint32_t apic_id, uint64_t entry);
// Sends the fixed interrupt vector to the CPU with this APIC id and
// waits until the APIC has sent it (SDM Vol. 3A 11.6.1). Interrupts off.
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
// Busy-waits (needs lapic_calibrate).
void udelay(uint64_t us);

#endif
