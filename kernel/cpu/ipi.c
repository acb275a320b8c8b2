#include <stdbool.h>

#include "arch/x86.h"
#include "cpu/cpu.h"
#include "cpu/ipi.h"
#include "cpu/lapic.h"
#include "debug/panic.h"

struct call {
	void (*fn)(void *arg);
	void *arg;
	bool pending;           // set by the caller, cleared by the target when done
};

// mailbox[target][caller]
static struct call mailbox[MAX_CPUS][MAX_CPUS];

void ipi_answer(void)
{
	int me = this_cpu()->id;

	for (int from = 0; from < ncpus; from++) {
		struct call *c = &mailbox[me][from];
		if (__atomic_load_n(&c->pending, __ATOMIC_ACQUIRE)) {
			c->fn(c->arg);
			__atomic_store_n(&c->pending, false, __ATOMIC_RELEASE);
		}
	}
}

void ipi_call(uint64_t cpus_mask, void (*fn)(void *arg), void *arg)
{
	push_cli();
	struct cpu *self = this_cpu();
	int me = self->id;

	if (self->ncli > 2)
		panic("ipi_call: cpu %d holds %d spinlocks: a CPU spinning for one of them "
		      "with interrupts off could never answer", me, self->ncli - 1);
	for (int t = 0; t < ncpus; t++) {
		if (t == me || !(cpus_mask & (1ul << t)))
			continue;
		struct call *c = &mailbox[t][me];
		c->fn = fn;
		c->arg = arg;
		__atomic_store_n(&c->pending, true, __ATOMIC_RELEASE);
		lapic_send_ipi(cpus[t].apic_id, T_IPI_CALL);
	}
	if (cpus_mask & (1ul << me))
		fn(arg);
	for (int t = 0; t < ncpus; t++) {
		while (__atomic_load_n(&mailbox[t][me].pending, __ATOMIC_ACQUIRE)) {
			ipi_answer();
			pause();
		}
	}
	pop_cli();
}
