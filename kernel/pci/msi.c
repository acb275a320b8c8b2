// Message signalled interrupts (PCI 3.0 6.8): the device writes a dword
// (the data) to an address, and the address and data are those of the
// local APIC's message format (arch/regs.h: SDM Vol. 3A 11.11).

#include <stddef.h>

#include "arch/regs.h"
#include "lib/errno.h"
#include "pci/pci.h"

// MSI capability (PCI 3.0 6.8.1): message control at +2, the address at
// +4, its upper half at +8 if 64-bit capable, then the data.
#define MSI_CONTROL 2
#define MSI_ADDRESS_LOW 4
#define MSI_ADDRESS_HIGH 8
#define MSI_DATA_32 8
#define MSI_DATA_64 12
#define MSI_CONTROL_ENABLE 0x0001
#define MSI_CONTROL_MME_MASK 0x0070     // multiple message enable: 0 = one
#define MSI_CONTROL_64BIT 0x0080

// MSI-X capability (PCI 3.0 6.8.2): message control at +2 (table size
// minus one in bits 10:0, function mask, enable), the table's BAR
// indicator (bits 2:0) and offset at +4; 16-byte table entries (address
// low, high, data, vector control whose bit 0 masks the entry).
#define MSIX_CONTROL 2
#define MSIX_TABLE 4
#define MSIX_CONTROL_ENABLE 0x8000
#define MSIX_CONTROL_FUNCTION_MASK 0x4000
#define MSIX_TABLE_BIR_MASK 0x7
#define MSIX_ENTRY_ADDRESS_LOW 0
#define MSIX_ENTRY_ADDRESS_HIGH 1
#define MSIX_ENTRY_DATA 2
#define MSIX_ENTRY_CONTROL 3
#define MSIX_ENTRY_WORDS 4      // 16 bytes an entry
#define MSIX_CONTROL_TABLE_SIZE 0x7FF   // the table size - 1 (PCI 3.0 6.8.2.3)
#define MSIX_ENTRY_MASKED 0x1

static uint32_t msi_address(uint32_t apic_id)
{
	return MSI_ADDRESS_BASE | (apic_id & 0xFF) << MSI_ADDRESS_DEST_SHIFT;
}

// A message is a memory write by the function: it needs bus mastering
// (PCI 3.0 6.2.2, 6.8); its INTx line goes quiet.
static void messages_on(const struct pci_func *f)
{
	pci_write16(f, PCI_COMMAND, pci_read16(f, PCI_COMMAND) | PCI_COMMAND_MASTER |
		    PCI_COMMAND_INTX_DISABLE);
}

int pci_enable_msi(const struct pci_func *f, uint8_t vector, uint32_t apic_id)
{
	uint8_t cap = pci_find_capability(f, PCI_CAP_MSI);
	if (cap == 0)
		return -ENOENT;
	uint16_t control = pci_read16(f, cap + MSI_CONTROL);
	bool is64 = control & MSI_CONTROL_64BIT;

	pci_write32(f, cap + MSI_ADDRESS_LOW, msi_address(apic_id));
	if (is64)
		pci_write32(f, cap + MSI_ADDRESS_HIGH, 0);
	pci_write16(f, cap + (is64 ? MSI_DATA_64 : MSI_DATA_32), vector & MSI_DATA_VECTOR_MASK);
	control &= ~MSI_CONTROL_MME_MASK;
	pci_write16(f, cap + MSI_CONTROL, control | MSI_CONTROL_ENABLE);
	messages_on(f);
	return 0;
}

int pci_msix_table_size(const struct pci_func *f)
{
	uint8_t cap = pci_find_capability(f, PCI_CAP_MSIX);

	return cap != 0 ? (pci_read16(f, cap + MSIX_CONTROL) & MSIX_CONTROL_TABLE_SIZE) + 1 : 0;
}

int pci_enable_msix(const struct pci_func *f, uint8_t vector, uint32_t apic_id)
{
	uint8_t cap = pci_find_capability(f, PCI_CAP_MSIX);
	if (cap == 0)
		return -ENOENT;
	uint32_t table = pci_read32(f, cap + MSIX_TABLE);
	int bir = table & MSIX_TABLE_BIR_MASK;
	if (bir >= PCI_NUM_BARS || f->bars[bir].size <= (table & ~MSIX_TABLE_BIR_MASK))
		return -ENOENT;
	volatile uint8_t *bar = pci_map_bar(f, bir);
	if (bar == NULL)
		return -ENOMEM;
	volatile uint32_t *table_base = (volatile uint32_t *)(bar + (table & ~MSIX_TABLE_BIR_MASK));
	uint16_t control = pci_read16(f, cap + MSIX_CONTROL);
	int entries = pci_msix_table_size(f);

	// Masked as a whole while the entries are written. Every entry sends
	// the same message: a device that spreads its causes over vectors (an
	// 82599's queues) wakes the one handler, which reads the causes.
	pci_write16(f, cap + MSIX_CONTROL, control | MSIX_CONTROL_ENABLE |
		    MSIX_CONTROL_FUNCTION_MASK);
	for (int i = 0; i < entries; i++) {
		volatile uint32_t *entry = table_base + i * MSIX_ENTRY_WORDS;
		entry[MSIX_ENTRY_ADDRESS_LOW] = msi_address(apic_id);
		entry[MSIX_ENTRY_ADDRESS_HIGH] = 0;
		entry[MSIX_ENTRY_DATA] = vector & MSI_DATA_VECTOR_MASK;
		entry[MSIX_ENTRY_CONTROL] &= ~MSIX_ENTRY_MASKED;
	}
	pci_write16(f, cap + MSIX_CONTROL, (control | MSIX_CONTROL_ENABLE) &
		    ~MSIX_CONTROL_FUNCTION_MASK);
	messages_on(f);
	return 0;
}
