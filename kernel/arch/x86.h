// Inline wrappers for x86-64 instructions the kernel uses.

#ifndef KERNEL_ARCH_X86_H
#define KERNEL_ARCH_X86_H

#include <stdint.h>

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t xchg32(volatile uint32_t *p, uint32_t v)
{
	asm volatile("xchgl %0, %1" : "+m"(*p), "+r"(v) : : "memory");
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *a,
			 uint32_t *b, uint32_t *c, uint32_t *d)
{
	asm volatile("cpuid"
		     : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
		     : "a"(leaf), "c"(subleaf));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

// Reads performance counter `counter` (ring 3 too, where CR4.PCE is set).
static inline uint64_t rdpmc(uint32_t counter)
{
	uint32_t lo, hi;
	asm volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(counter));
	return ((uint64_t)hi << 32) | lo;
}

#define DEFINE_READ_CR(n)						\
	static inline uint64_t read_cr##n(void)				\
	{								\
		uint64_t v;						\
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));		\
		return v;						\
	}
DEFINE_READ_CR(0)
DEFINE_READ_CR(2)
DEFINE_READ_CR(3)
DEFINE_READ_CR(4)
#undef DEFINE_READ_CR

#define DEFINE_WRITE_CR(n)						\
	static inline void write_cr##n(uint64_t v)			\
	{								\
		asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");	\
	}
DEFINE_WRITE_CR(0)
DEFINE_WRITE_CR(3)
DEFINE_WRITE_CR(4)
#undef DEFINE_WRITE_CR

static inline uint64_t read_rflags(void)
{
	uint64_t v;
	asm volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline uint64_t read_rbp(void)
{
	uint64_t v;
	asm volatile("mov %%rbp, %0" : "=r"(v));
	return v;
}

// Canonical: bits 63-47 all equal (SDM Vol. 1 3.3.7.1). Returning to a
// non-canonical address faults in ring 0 (SYSRET, IRET).
static inline int is_canonical(uint64_t va)
{
	return (uint64_t)((int64_t)va >> 47) + 1 <= 1;
}

static inline void cli(void)  { asm volatile("cli" ::: "memory"); }
static inline void sti(void)  { asm volatile("sti" ::: "memory"); }
static inline void hlt(void)  { asm volatile("hlt" ::: "memory"); }
static inline void pause(void) { asm volatile("pause"); }

#endif
