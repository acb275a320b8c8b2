#include <stdbool.h>

#include "acpi/acpi.h"
#include "arch/ports.h"
#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "cpu/ioapic.h"
#include "cpu/lapic.h"
#include "debug/panic.h"
#include "lib/string.h"
#include "mm/vm.h"
#include "smp/smp.h"

#define AP_START_TIMEOUT_US 1000000

extern char trampoline_start[], trampoline_end[];
extern uint64_t trampoline_cr3, trampoline_stack, trampoline_entry;

static volatile int ap_started;
static void (*ap_entry)(void);
// Work for each CPU from smp_call_all, and how many have finished it.
static void (*volatile calls[MAX_CPUS])(int cpu);
static volatile int calls_done;

void smp_run_calls(void)
{
	struct cpu *c = this_cpu();
	void (*fn)(int) = calls[c->id];

	if (fn != NULL) {
		calls[c->id] = NULL;
		fn(c->id);
		__atomic_fetch_add(&calls_done, 1, __ATOMIC_SEQ_CST);
	}
}

// The first C code of another CPU, on its own stack, still on the
// trampoline's page tables: makes the CPU cpus[ncpus] with the kernel's
// page tables and its own local APIC, tells the boot CPU, then runs the
// caller's entry. Interrupts stay off until the entry turns them on, so
// whatever arrives before it has loaded the IDT waits.
static __attribute__((noreturn)) void ap_start(void)
{
	int id = ncpus;
	struct cpu *c = &cpus[id];

	vm_switch(kernel_pml4);
	write_cr4(read_cr4() | CR4_PGE);
	cpu_init(c, id);
	lapic_init();
	c->apic_id = lapic_id();
	__atomic_store_n(&ap_started, 1, __ATOMIC_SEQ_CST);
	ap_entry();
	panic("smp: the entry of cpu %d returned", id);
}

// Page tables for the trampoline's switch to long mode: the kernel half,
// and the first 2 MiB mapped 1:1 so that the trampoline's own page stays
// where it is when paging comes on.
static pte_t *trampoline_page_tables(void)
{
	pte_t *pml4 = vm_create();

	if (pml4 == NULL || vm_map_phys(pml4, 0, 0, LARGE_PAGE_SIZE, PTE_W) < 0)
		panic("smp: no memory for the trampoline's page tables");
	if (V2P(pml4) >= (1ull << 32))
		panic("smp: the trampoline's PML4 at 0x%lx is above 4 GiB, where 32-bit "
		      "code cannot load it", V2P(pml4));
	return pml4;
}

// Starts the CPU with apic_id as cpus[ncpus]; returns true if it came up.
static bool start_cpu(uint32_t apic_id)
{
	struct page *stack = page_alloc(KSTACK_ORDER, false);

	if (stack == NULL)
		panic("smp: no memory for a stack for the CPU with APIC id %u", apic_id);
	trampoline_stack = (uint64_t)page_to_va(stack) + (PAGE_SIZE << KSTACK_ORDER);
	trampoline_entry = (uint64_t)ap_start;
	memcpy(P2V(TRAMPOLINE_PHYS), trampoline_start, trampoline_end - trampoline_start);

	ap_started = 0;
	lapic_start_cpu(apic_id, TRAMPOLINE_PHYS);
	uint64_t deadline = rdtsc() + tsc_per_ms * (AP_START_TIMEOUT_US / 1000);
	while (!__atomic_load_n(&ap_started, __ATOMIC_SEQ_CST)) {
		if (rdtsc() > deadline) {
			// Its stack and the trampoline's tables stay: it may
			// still start late and run on them.
			printk("smp: the CPU with APIC id %u did not start\n", apic_id);
			return false;
		}
		pause();
	}
	ncpus++;
	return true;
}

void smp_start(void (*entry)(void))
{
	struct cpu *boot = &cpus[0];

	ap_entry = entry;
	acpi_init();
	lapic_calibrate(acpi.lapic_base);
	lapic_init();
	boot->apic_id = lapic_id();

	pte_t *pml4 = trampoline_page_tables();
	trampoline_cr3 = V2P(pml4);
	bool all_started = true;
	for (int i = 0; i < acpi.ncpus; i++)
		if (acpi.apic_ids[i] != boot->apic_id)
			all_started &= start_cpu(acpi.apic_ids[i]);
	if (all_started)
		vm_destroy(pml4);
	console_enable_locking();
	ioapic_init(acpi.ioapic_base, acpi.ioapic_gsi_base);
	// Serial input by interrupt, to the boot CPU, where the machine has
	// an I/O APIC (else the console keeps polling).
	if (ioapic_route(COM1_IRQ, T_SERIAL, boot->apic_id) == 0)
		console_input_by_interrupts();
	sti();
}

void smp_call_all(void (*fn)(int cpu))
{
	calls_done = 0;
	for (int i = 1; i < ncpus; i++)
		calls[i] = fn;
	fn(0);
	while (__atomic_load_n(&calls_done, __ATOMIC_SEQ_CST) < ncpus - 1)
		pause();
}
