// PCI: configuration space, the functions found on the machine, their
// base address registers (BARs) and interrupts.
//
// Sources: PCI Local Bus Specification 3.0 (cited "PCI 3.0"): 3.2.2.3.2
// configuration mechanism #1, 6.1 the configuration header, 6.2.5 base
// addresses, 6.7 capabilities, 6.8 MSI and MSI-X; PCI Express Base 2.0
// 7.2.2 for the enhanced configuration access mechanism (ECAM) and the
// PCI Firmware Specification 3.0 4.1.2 for the ACPI MCFG table that
// places it.
//
// pci_init() finds every function once (behind bridges too) and keeps
// what it read in pci_funcs[]; drivers look their device up there, then
// map a BAR, turn bus mastering on, and take an interrupt (MSI-X, MSI, or
// the INTx line through the I/O APIC, in that order of preference).

#ifndef KERNEL_PCI_PCI_H
#define KERNEL_PCI_PCI_H

#include <stdbool.h>
#include <stdint.h>

// Configuration header offsets (PCI 3.0 6.1, Figure 6-1; type 1: PCI-to-PCI
// Bridge Architecture Spec 1.2 3.2).
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION       0x08         // then prog-if, subclass, class
#define PCI_HEADER_TYPE    0x0E
#define PCI_BAR0           0x10
#define PCI_SECONDARY_BUS  0x19         // of a type 1 header (a bridge)
#define PCI_CAPABILITIES   0x34
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN  0x3D

// Command register bits (PCI 3.0 6.2.2).
#define PCI_COMMAND_IO           0x0001
#define PCI_COMMAND_MEMORY       0x0002
#define PCI_COMMAND_MASTER       0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
// Status register bit: the function has a capabilities list (PCI 3.0 6.2.3).
#define PCI_STATUS_CAP_LIST      0x0010

#define PCI_HEADER_TYPE_MASK     0x7F
#define PCI_HEADER_MULTIFUNCTION 0x80
#define PCI_HEADER_BRIDGE        0x01

// BAR bits (PCI 3.0 6.2.5.1).
#define PCI_BAR_IO          0x1
#define PCI_BAR_MEM_TYPE    0x6
#define PCI_BAR_MEM_64      0x4
#define PCI_BAR_PREFETCH    0x8
#define PCI_BAR_MEM_MASK    (~0xFul)
#define PCI_BAR_IO_MASK     (~0x3ul)

// Capability IDs (PCI 3.0 Appendix H).
#define PCI_CAP_MSI   0x05
#define PCI_CAP_MSIX  0x11

#define PCI_MAX_BUSES 256
#define PCI_MAX_DEVICES 32
#define PCI_MAX_FUNCTIONS 8
#define PCI_MAX_FOUND 64
#define PCI_NUM_BARS 6

struct pci_bar {
	uint64_t base;          // physical address or I/O port (0: none)
	uint64_t size;          // bytes (0: the BAR is not implemented)
	bool io;                // an I/O-space BAR
	bool is64;              // takes this BAR and the next
	bool prefetchable;
};

struct pci_func {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t class, subclass, prog_if, revision;
	uint8_t header_type;    // without the multifunction bit
	uint8_t irq_line;       // the firmware's interrupt line (ISA IRQ), 0xFF: none
	uint8_t irq_pin;        // 1-4: INTA#-INTD#, 0: none
	struct pci_bar bars[PCI_NUM_BARS];
};

extern struct pci_func pci_funcs[PCI_MAX_FOUND];
extern int pci_nfuncs;

// Finds every function (once; later calls return at once) and prints a
// line for each if the command line says pci=list. Needs STAGE_SMP (the
// ACPI tables, the I/O APIC, the page tables for ECAM). Returns the number
// of functions found.
int pci_init(void);
// Whether configuration space is reached by ECAM (else mechanism #1).
bool pci_uses_ecam(void);

// One line per function: "pci: BB:DD.F VVVV:DDDD class CC.SS.PP name".
void pci_print(const struct pci_func *f);

// The first function with this vendor and device id, or NULL.
struct pci_func *pci_find(uint16_t vendor, uint16_t device);

// Configuration space of f, any size, naturally aligned offsets.
uint32_t pci_read32(const struct pci_func *f, uint16_t off);
uint16_t pci_read16(const struct pci_func *f, uint16_t off);
uint8_t pci_read8(const struct pci_func *f, uint16_t off);
void pci_write32(const struct pci_func *f, uint16_t off, uint32_t v);
void pci_write16(const struct pci_func *f, uint16_t off, uint16_t v);

// Turns on decoding of f's memory and I/O BARs and, if master, its bus
// mastering (so that it may DMA).
void pci_enable(const struct pci_func *f, bool master);

// Maps memory BAR i of f uncached (mm/vm.h vm_map_mmio); returns its
// virtual address, or NULL if the BAR is not a memory BAR or mapping fails.
volatile void *pci_map_bar(const struct pci_func *f, int i);

// Offset of f's first capability with this id, or 0 if it has none.
uint8_t pci_find_capability(const struct pci_func *f, uint8_t id);

// How a function's interrupt was set up (pci_setup_interrupt).
enum pci_irq_kind { PCI_IRQ_NONE, PCI_IRQ_INTX, PCI_IRQ_MSI, PCI_IRQ_MSIX };
const char *pci_irq_kind_name(enum pci_irq_kind kind);

// Gives f an interrupt: a vector that calls handler(arg) (trap/trap.h),
// delivered to the boot CPU by MSI-X if f has it, else by MSI, else by its
// INTx line through the I/O APIC (level triggered, shared: a handler must
// check that its device interrupted). prefer_intx skips MSI-X and MSI.
// Returns the kind (with *vector set), or PCI_IRQ_NONE with a message.
enum pci_irq_kind pci_setup_interrupt(const struct pci_func *f, void (*handler)(void *),
				      void *arg, bool prefer_intx, int *vector);

// pci/msi.c: point f's MSI (or every entry of its MSI-X table) at vector
// on the CPU with this APIC id, and turn it on (bus mastering on: a
// message is a memory write; INTx off). Returns 0, or -ENOENT if f has
// no such capability (-ENOMEM if the MSI-X table cannot be mapped).
int pci_enable_msi(const struct pci_func *f, uint8_t vector, uint32_t apic_id);
int pci_enable_msix(const struct pci_func *f, uint8_t vector, uint32_t apic_id);
// Entries of f's MSI-X table; 0 if it has no MSI-X.
int pci_msix_table_size(const struct pci_func *f);

#endif
