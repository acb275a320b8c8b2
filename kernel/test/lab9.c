// Lab 9 self-tests: PCI enumeration, and the e1000 serving ARP, ICMP echo
// and UDP echo (driven from the host by tools/tests/test_net.py).

#include "console/console.h"
#include "pci/pci.h"
#include "test/ktest.h"

KTEST(lab9_pci, "lab9.pci", STAGE_SMP, "list every PCI function with its class and BARs");
static void lab9_pci(void)
{
	int n = pci_init();

	printk("pci: %d functions, configuration by %s\n", n,
	       pci_uses_ecam() ? "ECAM" : "ports 0xCF8/0xCFC");
	for (int i = 0; i < n; i++)
		pci_print(&pci_funcs[i]);
}
