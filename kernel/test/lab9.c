// Lab 9 self-tests: PCI enumeration, the e1000 serving ARP, ICMP echo
// and UDP echo (driven from the host by tools/tests/test_net.py), the
// 82599 as a user-space driver reaches it (mmiotest), and the ixgbe
// driver (ix/drivers) on the emulated 82599, natively and in Dune mode
// (lab9.ixgbe and lab9.ixgbe.dune, whose lines tools/tests/test_ixgbe.py
// checks).

#include "arch/x86.h"
#include "boot/cmdline.h"
#include "console/console.h"
#include "cpu/lapic.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/printfmt.h"
#include "lib/string.h"
#include "mm/page.h"
#include "net/e1000.h"
#include "net/e1000_regs.h"
#include "net/net.h"
#include "pci/pci.h"
#include "proc/exec.h"
#include "proc/proc.h"
#include "test/bridge.h"
#include "test/ktest.h"
#include "vmx/dev/nic.h"

KTEST(lab9_pci, "lab9.pci", STAGE_SMP, "list every PCI function with its class and BARs");
static void lab9_pci(void)
{
	int n = pci_init();

	printk("pci: %d functions, configuration by %s\n", n,
	       pci_uses_ecam() ? "ECAM" : "ports 0xCF8/0xCFC");
	for (int i = 0; i < n; i++)
		pci_print(&pci_funcs[i]);
}

// Sleeps until an interrupt, unless the NIC has left work (sti; hlt: no
// interrupt can come between the check and the halt, SDM Vol. 2A "STI").
static void wait_for_nic(void)
{
	cli();
	if (e1000_work_pending())
		sti();
	else
		asm volatile("sti; hlt" ::: "memory");
}

static void print_e1000_counters(void)
{
	struct e1000_stats s;

	e1000_stats(&s);
	printk("e1000: rx frames %lu, tx frames %lu, missed %lu, no buffers %lu, "
	       "errors %lu, tx ring full %lu\n", s.rx_frames, s.tx_frames, s.missed,
	       s.no_buffers, s.rx_errors, s.tx_ring_full);
	printk("e1000: interrupts %lu, bottom halves %lu, received %lu, sent %lu (the NIC's "
	       "count)\n", s.interrupts, s.polls, s.good_rx, s.good_tx);
}

static void print_counters(void)
{
	char text[320];

	print_e1000_counters();
	net_format_stats(text, sizeof(text));
	printk("%s", text);
}

KTEST(lab9_e1000, "lab9.e1000", STAGE_SMP,
      "the e1000 up; ARP, ping, UDP and TCP echo at ip= port= until 'quit', count= UDP echoes "
      "or seconds= (hold= ms: the receive ring held after the first UDP datagram)");
static void lab9_e1000(void)
{
	const char *ip_text = cmdline_get("ip");
	uint32_t ip = net_parse_ip(ip_text ? ip_text : "10.0.2.15");
	uint16_t port = cmdline_get_u64("port", 7);
	uint64_t seconds = cmdline_get_u64("seconds", 20);
	uint64_t hold_ms = cmdline_get_u64("hold", 0);
	uint64_t count = cmdline_get_u64("count", 0);        // 0: no bound

	if (ip == 0)
		panic("lab9.e1000: ip=%s is not an IPv4 address", ip_text);
	pci_init();
	int r = e1000_init(net_input);
	if (r < 0)
		panic("lab9.e1000: no e1000 up: %s (attach one: tools/run --net PORT)", strerror(r));
	const uint8_t *mac = e1000_mac();
	printk("e1000: interrupts by %s\n", e1000_irq_kind());
	printk("e1000: mac %02x:%02x:%02x:%02x:%02x:%02x from %s\n", mac[0], mac[1], mac[2],
	       mac[3], mac[4], mac[5], e1000_mac_source());
	int mbps;
	bool full_duplex;
	if (e1000_link(&mbps, &full_duplex))
		printk("e1000: link up, %d Mb/s %s duplex\n", mbps, full_duplex ? "full" : "half");
	else
		printk("e1000: link down\n");
	net_init(mac, ip, port, e1000_transmit);
	printk("net: %u.%u.%u.%u answers ARP and ping, UDP and TCP echo on port %u\n", ip >> 24,
	       (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF, port);

	uint64_t deadline = rdtsc() + seconds * 1000 * tsc_per_ms;
	uint64_t release_at = 0;
	bool held = false;
	while (net_stats.quit_requests == 0 && rdtsc() < deadline &&
	       (count == 0 || net_stats.udp_echoes < count)) {
		if (hold_ms > 0 && release_at == 0 && net_stats.udp_echoes > 0) {
			e1000_hold_rx(true);
			held = true;
			release_at = rdtsc() + hold_ms * tsc_per_ms;
			printk("e1000: receive ring held for %lu ms\n", hold_ms);
		}
		if (held && rdtsc() >= release_at) {
			struct e1000_stats s;
			e1000_stats(&s);
			int waiting = e1000_rx_waiting();
			e1000_hold_rx(false);
			held = false;
			printk("e1000: receive ring released: %d of %d slots full, missed %lu while "
			       "held\n", waiting, E1000_RX_RING - 1, s.missed);
		}
		wait_for_nic();
		e1000_poll();
	}
	printk("net: %s\n", net_stats.quit_requests ? "quit received" :
	       count && net_stats.udp_echoes >= count ? "all datagrams echoed" : "time is up");
	print_counters();
}

// QEMU's "edu" teaching device (QEMU's docs/specs/edu.rst): BAR 0 holds
// an interrupt status register, and writing a value to "raise" sets its
// bits and interrupts (by MSI once the function's MSI is on); writing
// them to "acknowledge" clears them.
#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11E8
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64

static volatile uint32_t *edu;
static volatile uint32_t edu_status, edu_interrupts;

static void edu_interrupt(void *arg)
{
	(void)arg;
	uint32_t status = edu[EDU_IRQ_STATUS / 4];
	if (status == 0)
		return;                 // a shared INTx line: not this device
	edu[EDU_IRQ_ACK / 4] = status;
	edu_status = status;
	__atomic_fetch_add(&edu_interrupts, 1, __ATOMIC_RELEASE);
}

KTEST(lab9_msi, "lab9.msi", STAGE_SMP,
      "QEMU's edu device (-device edu) interrupts by MSI (irq=intx: by INTx) with values= ");
static void lab9_msi(void)
{
	pci_init();
	const struct pci_func *f = pci_find(EDU_VENDOR, EDU_DEVICE);
	if (f == NULL)
		panic("lab9.msi: no edu device (1234:11e8): run QEMU with -device edu");
	pci_enable(f, false);
	edu = (volatile uint32_t *)pci_map_bar(f, 0);
	if (edu == NULL)
		panic("lab9.msi: cannot map the edu device's BAR 0");
	const char *irq = cmdline_get("irq");
	int vector;
	enum pci_irq_kind kind = pci_setup_interrupt(f, edu_interrupt, NULL,
						     irq != NULL && strcmp(irq, "intx") == 0, &vector);
	printk("msi: edu %02x:%02x.%x interrupts by %s\n", f->bus, f->dev, f->fn,
	       pci_irq_kind_name(kind));
	if (kind == PCI_IRQ_NONE)
		panic("lab9.msi: the edu device has no interrupt");
	const char *values = cmdline_get("values");
	for (const char *v = values ? values : "1"; *v;) {
		uint32_t value = 0;
		for (; *v >= '0' && *v <= '9'; v++)
			value = value * 10 + (*v - '0');
		if (*v == ',')
			v++;
		uint32_t before = __atomic_load_n(&edu_interrupts, __ATOMIC_ACQUIRE);
		edu[EDU_IRQ_RAISE / 4] = value;
		uint64_t deadline = rdtsc() + 1000 * tsc_per_ms;
		while (__atomic_load_n(&edu_interrupts, __ATOMIC_ACQUIRE) == before &&
		       rdtsc() < deadline)
			pause();
		if (edu_interrupts == before)
			printk("msi: no interrupt for %u\n", value);
		else
			printk("msi: interrupt with status %u\n", edu_status);
	}
}

// MSI-X, with QEMU's e1000e (82574L, 8086:10D3; its datasheet, 10.2 for
// the registers): the "other" causes (a link status change among them)
// go to the MSI-X vector that IVAR's bits 19:16 name (bit 19: valid), and
// setting LSC in ICS raises them. In MSI-X mode ICR is cleared by writing
// its bits back.
#define E1000E_DEVICE 0x10D3
#define E1000E_ICR 0x00C0
#define E1000E_ICS 0x00C8
#define E1000E_IMS 0x00D0
#define E1000E_IMC 0x00D8
#define E1000E_IVAR 0x00E4
#define E1000E_ICR_LSC (1u << 2)
#define E1000E_ICR_OTHER (1u << 24)
#define E1000E_IVAR_OTHER_VALID_VECTOR0 (0x8u << 16)

static volatile uint32_t *e1000e;
static volatile uint32_t e1000e_causes, e1000e_interrupts;

static void e1000e_interrupt(void *arg)
{
	(void)arg;
	uint32_t icr = e1000e[E1000E_ICR / 4];
	e1000e[E1000E_ICR / 4] = icr;
	e1000e_causes = icr;
	__atomic_fetch_add(&e1000e_interrupts, 1, __ATOMIC_RELEASE);
}

KTEST(lab9_msix, "lab9.msix", STAGE_SMP,
      "QEMU's e1000e (-device e1000e) interrupts by MSI-X, times= times");
static void lab9_msix(void)
{
	pci_init();
	const struct pci_func *f = pci_find(E1000_VENDOR_INTEL, E1000E_DEVICE);
	if (f == NULL)
		panic("lab9.msix: no e1000e (8086:10d3): run QEMU with -device e1000e");
	pci_enable(f, true);
	e1000e = (volatile uint32_t *)pci_map_bar(f, 0);
	if (e1000e == NULL)
		panic("lab9.msix: cannot map the e1000e's BAR 0");
	e1000e[E1000E_IMC / 4] = 0xFFFFFFFF;
	e1000e[E1000E_ICR / 4] = 0xFFFFFFFF;
	int vector;
	enum pci_irq_kind kind = pci_setup_interrupt(f, e1000e_interrupt, NULL, false, &vector);
	printk("msix: e1000e %02x:%02x.%x interrupts by %s\n", f->bus, f->dev, f->fn,
	       pci_irq_kind_name(kind));
	if (kind != PCI_IRQ_MSIX)
		panic("lab9.msix: the e1000e is not interrupting by MSI-X");
	e1000e[E1000E_IVAR / 4] = E1000E_IVAR_OTHER_VALID_VECTOR0;
	e1000e[E1000E_IMS / 4] = E1000E_ICR_LSC | E1000E_ICR_OTHER;
	uint64_t times = cmdline_get_u64("times", 3);
	for (uint64_t i = 0; i < times; i++) {
		uint32_t before = __atomic_load_n(&e1000e_interrupts, __ATOMIC_ACQUIRE);
		e1000e[E1000E_ICS / 4] = E1000E_ICR_LSC;
		uint64_t deadline = rdtsc() + 1000 * tsc_per_ms;
		while (__atomic_load_n(&e1000e_interrupts, __ATOMIC_ACQUIRE) == before &&
		       rdtsc() < deadline)
			pause();
		if (e1000e_interrupts == before)
			printk("msix: no interrupt %lu\n", i);
		else
			printk("msix: interrupt %lu: %s\n", i,
			       (e1000e_causes & E1000E_ICR_LSC) ? "link status change" : "other");
	}
}

KTEST(lab9_mmio, "lab9.mmio", STAGE_SMP,
      "mmiotest [value=N]: the 82599's registers trapped and decoded, dma_alloc, nic_wait, "
      "a child killed for an instruction the decoder refuses");
static void lab9_mmio(void)
{
	const char *value = cmdline_get("value");
	char *argv[] = { "mmiotest", (char *)value, NULL };
	size_t before = page_free_count();

	proc_wait_report(proc_spawn_started(argv, value != NULL ? 2 : 1));
	proc_wait_all_kernel();
	printk("free pages: start %lu end %lu\n", before, page_free_count());
}

// Runs program (nictest, or nictest-dune: the same in Dune mode) with
// the command line's seed=, queues= and ring=; panics, naming test,
// unless every subtest passed.
static void run_nictest(const char *test, char *program)
{
	char seed[24], queues[24], ring[24];

	snprintf(seed, sizeof(seed), "%lu", cmdline_get_u64("seed", 1));
	snprintf(queues, sizeof(queues), "%lu", cmdline_get_u64("queues", 4));
	snprintf(ring, sizeof(ring), "%lu", cmdline_get_u64("ring", 128));
	char *argv[] = { program, seed, queues, ring };
	int status = proc_wait_report(proc_spawn_started(argv, 4));
	for (int port = 0; port < 2; port++) {
		struct nic_counts c;
		nic_counts(port, &c);
		printk("%s: port %d: %lu register reads, %lu writes; tail writes: RDT %lu, TDT %lu\n",
		       test, port, c.reads, c.writes, c.rdt_writes, c.tdt_writes);
	}
	if (status != 0)
		panic("%s: %s ended with status %d: %s", test, program, status,
		      status == 100 ? "it could not start (a port, or Dune mode)" :
		      "that many subtests failed");
}

KTEST(lab9_ixgbe, "lab9.ixgbe", STAGE_SMP,
      "nictest: the ixgbe driver on the emulated 82599's two ports, with seed=, queues= "
      "(4) and ring= (128 descriptors); a failed subtest panics");
static void lab9_ixgbe(void)
{
	run_nictest("lab9.ixgbe", "nictest");
}

KTEST(lab9_ixgbe_dune, "lab9.ixgbe.dune", STAGE_VMX,
      "nictest-dune: lab9.ixgbe's subtests in Dune mode, where each register access is an "
      "EPT violation (VT-x: Bochs), with seed=, queues= and ring=");
static void lab9_ixgbe_dune(void)
{
	run_nictest("lab9.ixgbe.dune", "nictest-dune");
}

void bridge_attach(const char *test)
{
	int err = nic_bridge();
	if (err < 0)
		panic("%s: no bridge: %s (attach an e1000: tools/run --net PORT)", test,
		      strerror(err));
	const uint8_t *mac = e1000_mac();
	printk("bridge: e1000 %02x:%02x:%02x:%02x:%02x:%02x is the wire of the 82599's port 0\n",
	       mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int bridge_run(const char *program, const char *default_port, const char *arg)
{
	const char *ip = cmdline_get("ip"), *port = cmdline_get("port");
	const char *seconds = cmdline_get("seconds");
	char list[4 * KTEST_ARG_MAX];
	const char *args = list;
	struct ktest_command c;

	snprintf(list, sizeof(list), "%s:%s:%s%s%s", ip ? ip : "10.0.2.15",
		 port ? port : default_port, seconds ? seconds : "30", arg ? ":" : "",
		 arg ? arg : "");
	ktest_next_command(&args, program, &c);
	return proc_wait_report(proc_spawn_started(c.argv, c.argc));
}

void bridge_report(void)
{
	print_e1000_counters();
	printk("bridge: frames with no wire %lu\n", nic_unplugged());
}

void bridge_serve(const char *test, const char *program, const char *default_port,
		  const char *arg)
{
	bridge_attach(test);
	int status = bridge_run(program, default_port, arg);
	bridge_report();
	if (status != 0)
		panic("%s: %s ended with status %d", test, program, status);
}

KTEST(lab9_bridge, "lab9.bridge", STAGE_SMP,
      "port 0 of the emulated 82599 bridged to the e1000: nicecho (the ixgbe driver and the "
      "kernel's network services in user space) at ip= port= until 'quit' or seconds=");
static void lab9_bridge(void)
{
	bridge_serve("lab9.bridge", "nicecho", "7", NULL);
}
