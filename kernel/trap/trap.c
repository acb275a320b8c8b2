#include <stdbool.h>
#include <stddef.h>

#include "arch/regs.h"
#include "arch/x86.h"
#include "clock/clock.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "cpu/ipi.h"
#include "cpu/lapic.h"
#include "debug/backtrace.h"
#include "debug/panic.h"
#include "fs/tty.h"
#include "lib/errno.h"
#include "mm/aspace.h"
#include "mm/devmem.h"
#include "proc/proc.h"
#include "proc/signal.h"
#include "sync/spinlock.h"
#include "trap/mmio.h"
#include "trap/pic.h"
#include "trap/trap.h"

// An IDT entry in 64-bit mode is a 16-byte gate descriptor (SDM Vol. 3A
// 6.14.1, Figure 6-8): the handler's address split in three pieces, the
// code segment it runs in, an IST index, and the type and attribute byte
// (P, DPL, type).
// BEGIN LAB 1 SOLUTION: idt_gate
struct __attribute__((packed)) idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};
// STUB:
// struct idt_gate {
// 	uint64_t words[2];
// };
// END LAB 1

#define GATE_PRESENT 0x80               // P: the gate may be used
#define GATE_DPL_SHIFT 5                // DPL: the lowest privilege that may "int" it
#define GATE_TYPE_INTERRUPT 0xE         // a 64-bit interrupt gate: IF is cleared on entry

extern const uint64_t trap_vectors[T_NUM_VECTORS];
static struct idt_gate idt[T_NUM_VECTORS];

// Points vector at its entry stub (trap/vectors.S), through a present
// interrupt gate in the kernel's code segment that code at privilege dpl
// or more may raise with "int", on the stack of IST entry ist (0: none).
static void set_gate(int vector, unsigned dpl, uint8_t ist)
{
	// BEGIN LAB 1 SOLUTION: idt_gate
	uint64_t handler = trap_vectors[vector];

	idt[vector] = (struct idt_gate){
		.offset_low = (uint16_t)handler,
		.selector = GDT_KERNEL_CODE,
		.ist = ist,
		.type_attr = GATE_PRESENT | dpl << GATE_DPL_SHIFT | GATE_TYPE_INTERRUPT,
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_high = (uint32_t)(handler >> 32),
	};
	// STUB:
	// (void)vector, (void)dpl, (void)ist;
	// END LAB 1
}

void idt_load(void)
{
	// BEGIN LAB 1 SOLUTION: idt_gate
	struct __attribute__((packed)) {
		uint16_t limit;         // the offset of the table's last byte
		uint64_t base;
	} ptr = { sizeof(idt) - 1, (uint64_t)idt };

	asm volatile("lidt %0" : : "m"(ptr));
	// STUB:
	// (void)idt;
	// END LAB 1
}

void trap_init(void)
{
	for (int v = 0; v < T_NUM_VECTORS; v++)
		set_gate(v, 0, 0);
	// int3 is for user code too (a debugger's breakpoint).
	set_gate(T_BREAKPOINT, 3, 0);
	// These may come when the stack is not to be trusted (a double
	// fault after a stack overflow) or anywhere at all (NMI, #MC).
	set_gate(T_DOUBLE_FAULT, 0, IST_DOUBLE_FAULT);
	set_gate(T_NMI, 0, IST_NMI);
	set_gate(T_MACHINE_CHECK, 0, IST_MACHINE_CHECK);
	pic_disable();
	idt_load();
}

// An exception in kernel code is a kernel bug: report it and stop. The
// report names the exception, and for a page fault the address (CR2) and
// what the access was; then the frame and the backtrace of the code that
// faulted, from the trap frame's rip and rbp.
static void trap_kernel_panic(const struct trapframe *tf)
{
	panic_begin(__FILE__, __LINE__);
	// BEGIN LAB 1 SOLUTION: fault_report
	printk("%s (vector %lu) in kernel code", trap_name(tf->vector), tf->vector);
	if (tf->vector == T_PAGE_FAULT) {
		printk(" at address 0x%016lx: ", read_cr2());
		print_page_fault_cause(tf->error_code);
	}
	printk("\n");
	trap_print_frame(tf);
	printk("backtrace:\n");
	// rip is the faulting instruction, not a return address.
	backtrace_print_frame(0, tf->rip, tf->rbp, false);
	backtrace_walk(tf->rbp, 1);
	// STUB:
	// printk("LAB 1: fault_report not written: vector %lu\n", tf->vector);
	// END LAB 1
	panic_end();
}

struct device_handler {
	void (*fn)(void *arg);
	void *arg;
};
static struct device_handler device_handlers[T_DEVICE_LAST - T_DEVICE_FIRST + 1];
static struct spinlock device_handlers_lock = SPINLOCK_INIT("device vectors");

int trap_device_vector(void (*handler)(void *arg), void *arg)
{
	int vector = -ENOSPC;

	spin_lock(&device_handlers_lock);
	for (int i = 0; i <= T_DEVICE_LAST - T_DEVICE_FIRST; i++) {
		if (device_handlers[i].fn == NULL) {
			device_handlers[i].arg = arg;
			__atomic_store_n(&device_handlers[i].fn, handler, __ATOMIC_RELEASE);
			vector = T_DEVICE_FIRST + i;
			break;
		}
	}
	spin_unlock(&device_handlers_lock);
	return vector;
}

// An interrupt, from user or kernel mode.
static void interrupt(const struct trapframe *tf)
{
	struct cpu *c = this_cpu();

	switch (tf->vector) {
	case T_TIMER:
		c->ticks++;
		lapic_eoi();
		if (c->id == 0)
			clock_tick();
		break;
	case T_SERIAL:
		tty_interrupt();
		lapic_eoi();
		break;
	case T_IPI_CALL:
		ipi_answer();
		lapic_eoi();
		break;
	case T_SPURIOUS:
		break;                  // no EOI for a spurious interrupt (SDM Vol. 3A 11.9)
	case T_DEVICE_FIRST ... T_DEVICE_LAST: {
		struct device_handler *h = &device_handlers[tf->vector - T_DEVICE_FIRST];
		void (*fn)(void *) = __atomic_load_n(&h->fn, __ATOMIC_ACQUIRE);
		if (fn != NULL)
			fn(h->arg);
		else
			printk("cpu %d: interrupt on vector %lu, which no device has\n",
			       c->id, tf->vector);
		lapic_eoi();
		break;
	}
	default:
		// The 8259s are masked, but may still raise a spurious IRQ 7
		// or 15: ignore their vectors; anything else is reported.
		if (tf->vector < T_IRQ0 + 16)
			break;
		printk("cpu %d: unexpected interrupt, vector %lu\n", c->id, tf->vector);
		lapic_eoi();
		break;
	}
}

// A not-present fault at addr in an MMIO region (mm/devmem.h): decodes
// the instruction (trap/mmio.h), has the device do the access, and steps
// the process past it. Returns false if addr is in no region, or, with a
// message naming the address and the bytes, if the instruction is not
// one the decoder knows: then it is the process's fault.
static bool emulate_mmio(struct trapframe *tf, uint64_t addr)
{
	struct mmio_region r;
	uint64_t regs[16];

	if ((tf->error_code & (PF_PRESENT | PF_FETCH)) ||
	    !aspace_find_mmio(proc_current()->as, addr, &r))
		return false;
	mmio_regs_from_trapframe(tf, regs);
	int len = mmio_emulate(&r, addr, tf->error_code & PF_WRITE, tf->rip, regs);
	if (len < 0)
		return false;
	mmio_regs_to_trapframe(regs, tf);
	tf->rip += len;
	return true;
}

// An exception in user mode, which is the process's business: a page
// fault the address space can resolve (aspace_fault: a page not yet
// there, a copy-on-write page) or that touches an emulated device
// (emulate_mmio) is resolved and the process goes on; else the process's
// own handler gets it, if it has one (signal_deliver); else a breakpoint
// is reported and the process continues after the int3, unless that
// would return to a non-canonical address (trap_check_return_address);
// any other exception ends the process (trap_kill_for_fault).
static void trap_user(struct trapframe *tf)
{
	// BEGIN LAB 3 SOLUTION: trap_user
	uint64_t addr = read_cr2();
	if (tf->vector == T_PAGE_FAULT &&
	    (aspace_fault(proc_current()->as, addr, tf->error_code) || emulate_mmio(tf, addr)))
		return;
	if (signal_deliver(tf, addr))
		return;
	if (tf->vector == T_BREAKPOINT) {
		trap_report_breakpoint(tf);
		trap_check_return_address(tf, "breakpoint");
		return;
	}
	trap_kill_for_fault(tf);
	// STUB:
	// printk("LAB 3: trap_user not written: %s (vector %lu) at rip 0x%lx\n",
	//        trap_name(tf->vector), tf->vector, tf->rip);
	// (void)emulate_mmio;
	// proc_exit(-ENOSYS);
	// END LAB 3
}

void trap_dispatch(struct trapframe *tf)
{
	bool from_user = (tf->cs & 3) != 0;

	// Every gate is an interrupt gate, which turns interrupts off on the
	// way in (SDM Vol. 3A 6.12.1.3); the handlers count on it.
	if (read_rflags() & RFLAGS_IF)
		panic("trap: vector %lu came in with interrupts on: its gate is not an interrupt gate",
		      tf->vector);

	if (tf->vector >= T_IRQ0) {
		interrupt(tf);
		// Preemption: a process in user mode gives the CPU up at each
		// tick (the kernel itself is not preempted).
		if (tf->vector == T_TIMER && from_user)
			yield();
		if (from_user)
			proc_exit_if_killed();
		return;
	}
	// An NMI, double fault or machine check is never the process's fault.
	if (!from_user || tf->vector == T_NMI || tf->vector == T_DOUBLE_FAULT ||
	    tf->vector == T_MACHINE_CHECK)
		trap_kernel_panic(tf);
	trap_user(tf);
}
