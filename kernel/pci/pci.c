// PCI configuration space, enumeration, BARs and interrupts (pci/pci.h).

#include <stddef.h>

#include "acpi/acpi.h"
#include "arch/x86.h"
#include "boot/cmdline.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "cpu/ioapic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/vm.h"
#include "pci/pci.h"
#include "sync/spinlock.h"
#include "trap/trap.h"

struct pci_func pci_funcs[PCI_MAX_FOUND];
int pci_nfuncs;
static bool pci_found;
static int pci_lost;                    // functions beyond PCI_MAX_FOUND

// Configuration mechanism #1 (PCI 3.0 3.2.2.3.2): write the address of a
// dword to CONFIG_ADDRESS, then read or write it at CONFIG_DATA (a byte
// or word of it at CONFIG_DATA + its offset in the dword).
#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA    0xCFC
#define PCI_CONFIG_ENABLE  0x80000000u
static struct spinlock config_lock = SPINLOCK_INIT("pci config");

// ECAM (PCI Express Base 2.0 7.2.2): 4 KiB of configuration space per
// function at base + (bus << 20 | device << 15 | function << 12), for the
// buses that the MCFG entry of segment 0 lists.
static volatile uint8_t *ecam;
static uint8_t ecam_first_bus, ecam_last_bus;

// The MCFG table (PCI Firmware Specification 3.0 4.1.2): the ACPI
// header, 8 reserved bytes, then 16-byte entries.
struct __attribute__((packed)) mcfg_entry {
	uint64_t base;
	uint16_t segment;
	uint8_t first_bus, last_bus;
	uint32_t reserved;
};
#define MCFG_ENTRIES_OFFSET 44
#define MCFG_LENGTH_OFFSET 4

static volatile uint8_t *ecam_address(const struct pci_func *f, uint16_t off)
{
	if (ecam == NULL || f->bus < ecam_first_bus || f->bus > ecam_last_bus)
		return NULL;
	return ecam + ((uint64_t)(f->bus - ecam_first_bus) << 20) + ((uint64_t)f->dev << 15) +
	       ((uint64_t)f->fn << 12) + off;
}

static void select_dword(const struct pci_func *f, uint16_t off)
{
	outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | (uint32_t)f->bus << 16 |
	     (uint32_t)f->dev << 11 | (uint32_t)f->fn << 8 | (off & 0xFC));
}

// A read of width bytes (1, 2 or 4, naturally aligned) at off: through
// ECAM where it covers the function's bus, else through the ports,
// whose data port takes the bytes of the selected dword at off & 3.
static uint32_t config_read(const struct pci_func *f, uint16_t off, int width)
{
	volatile uint8_t *p = ecam_address(f, off);
	uint32_t v;

	if (p != NULL)
		return width == 4 ? *(volatile uint32_t *)p :
		       width == 2 ? *(volatile uint16_t *)p : *p;
	spin_lock(&config_lock);
	select_dword(f, off);
	v = width == 4 ? inl(PCI_CONFIG_DATA) :
	    width == 2 ? inw(PCI_CONFIG_DATA + (off & 2)) : inb(PCI_CONFIG_DATA + (off & 3));
	spin_unlock(&config_lock);
	return v;
}

// The write of width bytes (2 or 4) at off, the same two ways.
static void config_write(const struct pci_func *f, uint16_t off, int width, uint32_t v)
{
	volatile uint8_t *p = ecam_address(f, off);

	if (p != NULL) {
		if (width == 4)
			*(volatile uint32_t *)p = v;
		else
			*(volatile uint16_t *)p = (uint16_t)v;
		return;
	}
	spin_lock(&config_lock);
	select_dword(f, off);
	if (width == 4)
		outl(PCI_CONFIG_DATA, v);
	else
		outw(PCI_CONFIG_DATA + (off & 2), (uint16_t)v);
	spin_unlock(&config_lock);
}

uint32_t pci_read32(const struct pci_func *f, uint16_t off)
{
	return config_read(f, off, 4);
}

uint16_t pci_read16(const struct pci_func *f, uint16_t off)
{
	return (uint16_t)config_read(f, off, 2);
}

uint8_t pci_read8(const struct pci_func *f, uint16_t off)
{
	return (uint8_t)config_read(f, off, 1);
}

void pci_write32(const struct pci_func *f, uint16_t off, uint32_t v)
{
	config_write(f, off, 4, v);
}

void pci_write16(const struct pci_func *f, uint16_t off, uint16_t v)
{
	config_write(f, off, 2, v);
}

// Maps the ECAM window of segment 0 if the ACPI tables have an MCFG.
static void find_ecam(void)
{
	const uint8_t *mcfg = acpi_find_table("MCFG");
	if (mcfg == NULL)
		return;
	uint32_t len = *(const uint32_t *)(mcfg + MCFG_LENGTH_OFFSET);
	for (uint32_t off = MCFG_ENTRIES_OFFSET; off + sizeof(struct mcfg_entry) <= len;
	     off += sizeof(struct mcfg_entry)) {
		const struct mcfg_entry *e = (const void *)(mcfg + off);
		if (e->segment != 0 || e->last_bus < e->first_bus)
			continue;
		uint64_t size = (uint64_t)(e->last_bus - e->first_bus + 1) << 20;
		// The base is that of bus 0 even where the first bus is not 0.
		ecam = vm_map_mmio(e->base + ((uint64_t)e->first_bus << 20), size);
		if (ecam == NULL) {
			printk("pci: cannot map ECAM at 0x%lx (%lu MiB); using ports 0xCF8/0xCFC\n",
			       e->base, size >> 20);
			return;
		}
		ecam_first_bus = e->first_bus;
		ecam_last_bus = e->last_bus;
		return;
	}
}

bool pci_uses_ecam(void)
{
	return ecam != NULL;
}

// Sizes BAR i (PCI 3.0 6.2.5.1): with decoding off, write all ones, read
// back which address bits stick, restore. Returns how many BAR slots it
// took (2 for a 64-bit memory BAR).
static int size_bar(struct pci_func *f, int i)
{
	uint16_t off = PCI_BAR0 + 4 * i;
	uint32_t orig = pci_read32(f, off);
	struct pci_bar *b = &f->bars[i];

	pci_write32(f, off, 0xFFFFFFFF);
	uint32_t mask = pci_read32(f, off);
	pci_write32(f, off, orig);
	if (mask == 0 || mask == 0xFFFFFFFF)
		return 1;
	b->io = orig & PCI_BAR_IO;
	if (b->io) {
		b->base = orig & PCI_BAR_IO_MASK;
		b->size = (uint16_t)~(mask & PCI_BAR_IO_MASK) + 1;
		return 1;
	}
	b->prefetchable = orig & PCI_BAR_PREFETCH;
	b->is64 = (orig & PCI_BAR_MEM_TYPE) == PCI_BAR_MEM_64 && i + 1 < PCI_NUM_BARS;
	uint64_t base = orig & PCI_BAR_MEM_MASK, size_mask = mask & PCI_BAR_MEM_MASK;
	if (b->is64) {
		uint32_t orig_hi = pci_read32(f, off + 4);
		pci_write32(f, off + 4, 0xFFFFFFFF);
		uint32_t mask_hi = pci_read32(f, off + 4);
		pci_write32(f, off + 4, orig_hi);
		base |= (uint64_t)orig_hi << 32;
		size_mask |= (uint64_t)mask_hi << 32;
	} else {
		size_mask |= 0xFFFFFFFF00000000ul;
	}
	b->base = base;
	b->size = ~size_mask + 1;
	return b->is64 ? 2 : 1;
}

static void size_bars(struct pci_func *f)
{
	int nbars = f->header_type == 0 ? 6 : f->header_type == PCI_HEADER_BRIDGE ? 2 : 0;
	uint16_t command = pci_read16(f, PCI_COMMAND);

	// No decoding while a BAR holds all ones: it could claim any address.
	pci_write16(f, PCI_COMMAND, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (int i = 0; i < nbars;)
		i += size_bar(f, i);
	pci_write16(f, PCI_COMMAND, command);
}

static void scan_bus(uint8_t bus, int depth);

static void add_function(uint8_t bus, uint8_t dev, uint8_t fn, int depth)
{
	struct pci_func probe = { .bus = bus, .dev = dev, .fn = fn };
	if (pci_nfuncs == PCI_MAX_FOUND) {
		pci_lost++;
		return;
	}
	struct pci_func *f = &pci_funcs[pci_nfuncs++];
	*f = probe;
	f->vendor = pci_read16(f, PCI_VENDOR_ID);
	f->device = pci_read16(f, PCI_DEVICE_ID);
	uint32_t class = pci_read32(f, PCI_REVISION);
	f->revision = class, f->prog_if = class >> 8;
	f->subclass = class >> 16, f->class = class >> 24;
	f->header_type = pci_read8(f, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
	f->irq_line = pci_read8(f, PCI_INTERRUPT_LINE);
	f->irq_pin = pci_read8(f, PCI_INTERRUPT_PIN);
	size_bars(f);
	// A PCI-to-PCI bridge leads to its secondary bus (bridges nest at
	// most a bus number's worth deep; the depth bounds a bad loop).
	if (f->header_type == PCI_HEADER_BRIDGE && depth < PCI_MAX_BUSES) {
		uint8_t secondary = pci_read8(f, PCI_SECONDARY_BUS);
		if (secondary > bus)
			scan_bus(secondary, depth + 1);
	}
}

// Every device of the bus; the functions of a device past 0 only if its
// header says it has several (PCI 3.0 6.2.1: a single-function device
// need not decode the function number).
static void scan_bus(uint8_t bus, int depth)
{
	for (uint8_t dev = 0; dev < PCI_MAX_DEVICES; dev++) {
		struct pci_func f0 = { .bus = bus, .dev = dev, .fn = 0 };
		if (pci_read16(&f0, PCI_VENDOR_ID) == 0xFFFF)
			continue;
		bool multi = pci_read8(&f0, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION;
		for (uint8_t fn = 0; fn < (multi ? PCI_MAX_FUNCTIONS : 1); fn++) {
			struct pci_func fx = { .bus = bus, .dev = dev, .fn = fn };
			if (pci_read16(&fx, PCI_VENDOR_ID) != 0xFFFF)
				add_function(bus, dev, fn, depth);
		}
	}
}

int pci_init(void)
{
	if (pci_found)
		return pci_nfuncs;
	pci_found = true;
	find_ecam();
	// Where function 0 of 00:00 is a multi-function device, each of its
	// functions is a host bridge, the root of the bus of its number.
	struct pci_func host = { 0 };
	if (pci_read8(&host, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION) {
		for (uint8_t fn = 0; fn < PCI_MAX_FUNCTIONS; fn++) {
			struct pci_func h = { .fn = fn };
			if (pci_read16(&h, PCI_VENDOR_ID) != 0xFFFF)
				scan_bus(fn, 0);
		}
	} else {
		scan_bus(0, 0);
	}
	if (pci_lost)
		printk("pci: %d functions beyond this kernel's %d are left out\n", pci_lost,
		       PCI_MAX_FOUND);
	const char *want = cmdline_get("pci");
	if (want != NULL && strcmp(want, "list") == 0) {
		printk("pci: %d functions, configuration by %s\n", pci_nfuncs,
		       ecam ? "ECAM" : "ports 0xCF8/0xCFC");
		for (int i = 0; i < pci_nfuncs; i++)
			pci_print(&pci_funcs[i]);
	}
	return pci_nfuncs;
}

// A name for the common classes (PCI 3.0 Appendix D).
static const char *class_name(const struct pci_func *f)
{
	static const struct { uint8_t class, subclass; const char *name; } names[] = {
		{ 0x01, 0x01, "IDE controller" }, { 0x01, 0x06, "SATA controller" },
		{ 0x02, 0x00, "Ethernet controller" }, { 0x03, 0x00, "VGA controller" },
		{ 0x06, 0x00, "host bridge" }, { 0x06, 0x01, "ISA bridge" },
		{ 0x06, 0x04, "PCI bridge" }, { 0x06, 0x80, "bridge" },
		{ 0x0C, 0x03, "USB controller" }, { 0x0C, 0x05, "SMBus controller" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].class == f->class && names[i].subclass == f->subclass)
			return names[i].name;
	return "other";
}

void pci_print(const struct pci_func *f)
{
	printk("pci: %02x:%02x.%x %04x:%04x class %02x.%02x.%02x %s\n", f->bus, f->dev, f->fn,
	       f->vendor, f->device, f->class, f->subclass, f->prog_if, class_name(f));
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &f->bars[i];
		if (b->size == 0)
			continue;
		printk("pci: %02x:%02x.%x   bar %d: %s 0x%lx, %lu bytes%s%s\n", f->bus, f->dev,
		       f->fn, i, b->io ? "ports" : "memory", b->base, b->size,
		       b->is64 ? ", 64-bit" : "", b->prefetchable ? ", prefetchable" : "");
	}
}

struct pci_func *pci_find(uint16_t vendor, uint16_t device)
{
	for (int i = 0; i < pci_nfuncs; i++)
		if (pci_funcs[i].vendor == vendor && pci_funcs[i].device == device)
			return &pci_funcs[i];
	return NULL;
}

void pci_enable(const struct pci_func *f, bool master)
{
	uint16_t command = pci_read16(f, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
	pci_write16(f, PCI_COMMAND, command | (master ? PCI_COMMAND_MASTER : 0));
}

volatile void *pci_map_bar(const struct pci_func *f, int i)
{
	if (i < 0 || i >= PCI_NUM_BARS || f->bars[i].size == 0 || f->bars[i].io ||
	    f->bars[i].base == 0)
		return NULL;
	return vm_map_mmio(f->bars[i].base, f->bars[i].size);
}

// The capabilities list (PCI 3.0 6.7): a chain of (id, next) byte pairs
// from the pointer at 0x34, dword aligned; the bound stops a loop.
uint8_t pci_find_capability(const struct pci_func *f, uint8_t id)
{
	if (!(pci_read16(f, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	uint8_t off = pci_read8(f, PCI_CAPABILITIES) & 0xFC;
	for (int hops = 0; off >= 0x40 && hops < 48; hops++) {
		if (pci_read8(f, off) == id)
			return off;
		off = pci_read8(f, off + 1) & 0xFC;
	}
	return 0;
}

const char *pci_irq_kind_name(enum pci_irq_kind kind)
{
	static const char *const names[] = {
		[PCI_IRQ_NONE] = "none", [PCI_IRQ_INTX] = "INTx",
		[PCI_IRQ_MSI] = "MSI", [PCI_IRQ_MSIX] = "MSI-X",
	};
	return names[kind];
}

// The INTx line, at the ISA IRQ the firmware wrote in the interrupt line
// register (PCI 3.0 6.2.4), through the I/O APIC: the MADT may move the
// IRQ to another GSI and say its trigger and polarity; else a PCI line is
// level triggered, active low (PCI 3.0 2.2.6).
static int route_intx(const struct pci_func *f, uint8_t vector)
{
	if (f->irq_pin == 0 || f->irq_line >= 16)
		return -ENOENT;
	uint16_t flags = acpi.isa_flags[f->irq_line];
	bool level = (flags & ACPI_INTI_TRIGGER_MASK) != ACPI_INTI_EDGE;
	bool low = (flags & ACPI_INTI_POLARITY_MASK) != ACPI_INTI_ACTIVE_HIGH;
	int r = ioapic_route_line(acpi.isa_gsi[f->irq_line], vector, cpus[0].apic_id, level, low);
	if (r == 0)
		pci_write16(f, PCI_COMMAND, pci_read16(f, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	return r;
}

enum pci_irq_kind pci_setup_interrupt(const struct pci_func *f, void (*handler)(void *),
				      void *arg, bool prefer_intx, int *vector)
{
	int v = trap_device_vector(handler, arg);
	if (v < 0) {
		printk("pci: %02x:%02x.%x: no free interrupt vector\n", f->bus, f->dev, f->fn);
		return PCI_IRQ_NONE;
	}
	*vector = v;
	if (!prefer_intx && pci_enable_msix(f, v, cpus[0].apic_id) == 0)
		return PCI_IRQ_MSIX;
	if (!prefer_intx && pci_enable_msi(f, v, cpus[0].apic_id) == 0)
		return PCI_IRQ_MSI;
	int r = route_intx(f, v);
	if (r == 0)
		return PCI_IRQ_INTX;
	printk("pci: %02x:%02x.%x: no MSI, and its INTx (pin %u, line %u) cannot be routed: %s\n",
	       f->bus, f->dev, f->fn, f->irq_pin, f->irq_line, strerror(r));
	return PCI_IRQ_NONE;
}
