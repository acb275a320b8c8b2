#include "cpu/ioapic.h"
#include "lib/errno.h"
#include "arch/memlayout.h"

// Registers, reached through an index register and a data window.
#define IOREGSEL 0x00
#define IOWIN    0x10
#define IOAPICVER 0x01
#define IOREDTBL(n) (0x10 + 2 * (n))    // low word; high word at +1
#define IOREDTBL_ACTIVE_LOW 0x2000      // interrupt input pin polarity
#define IOREDTBL_LEVEL      0x8000      // trigger mode

static uint32_t read_reg(volatile uint32_t *base, uint32_t reg)
{
	base[IOREGSEL / 4] = reg;
	return base[IOWIN / 4];
}

static void write_reg(volatile uint32_t *base, uint32_t reg, uint32_t v)
{
	base[IOREGSEL / 4] = reg;
	base[IOWIN / 4] = v;
}

static uint64_t ioapic_phys;    // 0: no I/O APIC
static uint32_t ioapic_gsi_base;

void ioapic_init(uint64_t phys, uint32_t gsi_base)
{
	ioapic_phys = phys;
	ioapic_gsi_base = gsi_base;
}

int ioapic_route(uint32_t gsi, uint8_t vector, uint32_t apic_id)
{
	return ioapic_route_line(gsi, vector, apic_id, false, false);
}

int ioapic_route_line(uint32_t gsi, uint8_t vector, uint32_t apic_id, bool level,
		      bool active_low)
{
	if (ioapic_phys == 0 || gsi < ioapic_gsi_base)
		return -ENOENT;
	volatile uint32_t *base = P2V(ioapic_phys);
	uint32_t line = gsi - ioapic_gsi_base;
	uint32_t lines = ((read_reg(base, IOAPICVER) >> 16) & 0xFF) + 1;
	if (line >= lines)
		return -ENOENT;
	// Fixed delivery, physical destination, unmasked.
	write_reg(base, IOREDTBL(line) + 1, apic_id << 24);
	write_reg(base, IOREDTBL(line), vector | (level ? IOREDTBL_LEVEL : 0) |
		  (active_low ? IOREDTBL_ACTIVE_LOW : 0));
	return 0;
}
