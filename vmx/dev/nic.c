// The kernel side of the 82599 (vmx/dev/nic.h): finding or making the
// NIC, its ports' owners, the emulated registers and DMA, and waiting for its
// interrupts.

#include <stdbool.h>
#include <stddef.h>

#include "arch/memlayout.h"
#include "clock/clock.h"
#include "console/console.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "lib/sysnum.h"
#include "mm/devmem.h"
#include "mm/uaccess.h"
#include "net/e1000.h"
#include "pci/pci.h"
#include "proc/proc.h"
#include "syscall/syscall.h"
#include "vmx/dev/82599.h"
#include "vmx/dev/nic.h"

// The model's EEPROM: a locally administered base address; port 1 has
// base + 1.
static const uint8_t model_mac[6] = { 0x02, 0x00, 0x00, 0x82, 0x59, 0x90 };

// A port: one PCI function of the 82599, owned by one process.
struct nic_port {
	int index;
	struct aspace *owner;           // nic.lock: the owning process's memory, or NULL
	struct aspace_notifier notifier;        // on owner: its release detaches the port
	struct pci_func *pci;           // a real NIC's function, else NULL
	volatile uint32_t irq_pending;  // a real NIC interrupted
	struct nic_ctl *ctl;            // nic.lock: the owner's control page (the kernel's address)
	struct nic_counts counts;       // nic.lock: the model's register accesses (nic_counts)
};

static struct {
	struct spinlock lock;
	struct i82599 *model;           // NULL for a real NIC
	bool present;                   // nic_init found or made one
	bool wake;                      // lock: an interrupt since the last wakeup
	bool bridged;                   // port 0's wire is the e1000 (nic_bridge)
	uint64_t unplugged;             // lock: frames sent where no wire is
	struct nic_port ports[I82599_PORTS];
} nic = { .lock = SPINLOCK_INIT("nic") };

// Releases nic.lock and wakes the waiters if the model interrupted. The
// wakeup comes after the release: sleep takes proc_lock under nic.lock,
// so wakeup (which takes proc_lock) must not be called under it.
static void unlock_and_wake(void)
{
	bool wake = nic.wake;

	nic.wake = false;
	spin_unlock(&nic.lock);
	// nic_wait sleeps on the ticks' channel (it times out by them), so
	// this wakes clock_wait's sleepers too; they check and sleep again.
	if (wake)
		wakeup((void *)&ticks);
}

// -- what the model asks of the kernel (struct i82599_ops), nic.lock held --

// Whether [bus, bus + len) is DMA memory of port's owner.
static bool owner_dma_range(int port, uint64_t bus, size_t len)
{
	struct aspace *owner = nic.ports[port].owner;

	return owner != NULL && aspace_dma_range(owner, bus, len);
}

static int model_dma_read(void *ctx, int port, uint64_t bus, void *buf, size_t len)
{
	if (!owner_dma_range(port, bus, len))
		return -EFAULT;
	memcpy(buf, P2V(bus), len);
	return 0;
}

static int model_dma_write(void *ctx, int port, uint64_t bus, const void *buf, size_t len)
{
	if (!owner_dma_range(port, bus, len))
		return -EFAULT;
	memcpy(P2V(bus), buf, len);
	return 0;
}

static void model_interrupt(void *ctx, int port, int vector)
{
	nic.wake = true;
}

static void model_log(void *ctx, const char *line)
{
	printk("82599 model: %s\n", line);
}

static const struct i82599_ops model_ops = {
	.dma_read = model_dma_read,
	.dma_write = model_dma_write,
	.transmit = NULL,               // the internal wire between the ports
	.interrupt = model_interrupt,
	.log = model_log,
};

// -- the bridge: port 0's wire is the emulator's e1000 --
//
// Frames port 0 sends leave by the e1000 (e1000_transmit), and frames
// the e1000 receives arrive at port 0; port 1 is unplugged. Port 0 has
// the e1000's MAC address, so that what the emulator's network sends
// to it passes the e1000's own filter: the e1000 is the port's PHY. The
// e1000's bottom half runs in nic_wait, before the waiter sleeps: a
// dataplane waits for the NIC when its rings are empty. Lock order: the
// e1000's receive lock, then nic.lock, then the e1000's transmit lock.

static void bridge_transmit(void *ctx, int port, const void *frame, size_t len)
{
	if (port != 0 || e1000_transmit(frame, len) < 0)
		nic.unplugged++;
}

static const struct i82599_ops bridge_ops = {
	.dma_read = model_dma_read,
	.dma_write = model_dma_write,
	.transmit = bridge_transmit,
	.interrupt = model_interrupt,
	.log = model_log,
};

static void bridge_receive(const void *frame, size_t len)
{
	spin_lock(&nic.lock);
	i82599_receive(nic.model, 0, frame, len);
	unlock_and_wake();
}

int nic_bridge(void)
{
	if (nic.model == NULL)
		return -ENODEV;         // none, or a real 82599, which has its own wire
	int err = e1000_init(bridge_receive);
	if (err < 0)
		return err;
	struct i82599 *bridged = i82599_create(&bridge_ops, &nic);
	if (bridged == NULL)
		return -ENOMEM;
	spin_lock(&nic.lock);
	if (nic.ports[0].owner != NULL || nic.ports[1].owner != NULL) {
		spin_unlock(&nic.lock);
		i82599_destroy(bridged);
		return -EBUSY;
	}
	struct i82599 *old = nic.model;
	nic.model = bridged;
	i82599_reset(nic.model, e1000_mac());
	nic.bridged = true;
	spin_unlock(&nic.lock);
	i82599_destroy(old);
	return 0;
}

uint64_t nic_unplugged(void)
{
	return nic.unplugged;
}

void nic_counts(int index, struct nic_counts *c)
{
	spin_lock(&nic.lock);
	*c = nic.ports[index].counts;
	spin_unlock(&nic.lock);
}

bool nic_receiving(int index)
{
	bool on = false;

	spin_lock(&nic.lock);
	if (nic.model != NULL && nic.ports[index].owner != NULL)
		on = i82599_read(nic.model, index, IXGBE_RXCTRL, 4) & IXGBE_RXCTRL_RXEN;
	spin_unlock(&nic.lock);
	return on;
}

// -- the emulated registers: the MMIO region of a port (mm/devmem.h) --

static uint64_t regs_read(void *dev, uint64_t offset, int width)
{
	struct nic_port *port = dev;

	spin_lock(&nic.lock);
	port->counts.reads++;
	uint64_t value = i82599_read(nic.model, port->index, (uint32_t)offset, width);
	unlock_and_wake();
	return value;
}

// Counts a write of port's registers, and whether it moved a tail.
static void count_write(struct nic_port *port, uint64_t offset)
{
	port->counts.writes++;
	for (unsigned q = 0; q < IXGBE_MAX_QUEUES; q++) {
		port->counts.rdt_writes += offset == IXGBE_RDT(q);
		port->counts.tdt_writes += offset == IXGBE_TDT(q);
	}
}

static void regs_write(void *dev, uint64_t offset, int width, uint64_t value)
{
	struct nic_port *port = dev;

	spin_lock(&nic.lock);
	count_write(port, offset);
	i82599_write(nic.model, port->index, (uint32_t)offset, width, value);
	unlock_and_wake();
}

static const struct mmio_ops regs_ops = { .read = regs_read, .write = regs_write };

// -- the owners: one per port --

// A port's owner's address space is being freed: nothing of it runs,
// and its DMA memory goes next, so the port must forget its owner
// first. The model's port goes back to its power-on state; the other
// port, and its owner, run on.
static void owner_release(struct aspace_notifier *n)
{
	struct nic_port *port = (struct nic_port *)((char *)n - offsetof(struct nic_port, notifier));

	spin_lock(&nic.lock);
	port->owner = NULL;
	port->ctl = NULL;
	if (nic.model != NULL)
		i82599_reset_port(nic.model, port->index);
	spin_unlock(&nic.lock);
}

static const struct aspace_notifier_ops owner_ops = { .release = owner_release };

// Makes as the owner of port, if it has none. Returns 0, or -EBUSY.
static int claim_port(struct aspace *as, struct nic_port *port)
{
	int err = 0;

	spin_lock(&nic.lock);
	if (port->owner != NULL) {
		err = -EBUSY;
	} else {
		port->owner = as;
		port->counts = (struct nic_counts){ 0 };
	}
	spin_unlock(&nic.lock);
	return err;
}

static void unclaim_port(struct nic_port *port)
{
	spin_lock(&nic.lock);
	port->owner = NULL;
	spin_unlock(&nic.lock);
}

// Maps port's registers into as; sets info's address and length.
static int map_registers(struct aspace *as, struct nic_port *port, struct nic_info *info)
{
	info->regs_len = IXGBE_BAR0_SIZE;
	if (port->pci == NULL)
		return aspace_add_mmio(as, IXGBE_BAR0_SIZE, &regs_ops, port, &info->regs);
	const struct pci_bar *bar = &port->pci->bars[0];
	info->regs_len = bar->size;
	return aspace_map_device(as, bar->base, bar->size, &info->regs);
}

// Fills in what PCI says of port (the model's answers are those of a
// real 82599's function).
static void describe(const struct nic_port *port, struct nic_info *info)
{
	const struct pci_func *f = port->pci;

	info->vendor = f != NULL ? f->vendor : IXGBE_VENDOR_INTEL;
	info->device = f != NULL ? f->device : IXGBE_DEVICE_82599_SFP;
	info->msix_vectors = f != NULL ? pci_msix_table_size(f) : IXGBE_MSIX_VECTORS;
	info->emulated = f == NULL;
}

int64_t sys_nic_open(uint64_t index, uint64_t info_out)
{
	struct aspace *as = proc_current()->as;
	struct nic_info info = { .port = (uint8_t)index };
	int err;

	if (index >= I82599_PORTS)
		return -EINVAL;
	if (!nic.present)
		return -ENODEV;
	if ((err = user_writable(info_out, sizeof(info))) < 0)
		return err;
	struct nic_port *port = &nic.ports[index];
	if ((err = claim_port(as, port)) < 0)
		return err;
	uint64_t bus;
	if ((err = aspace_dma_alloc(as, sizeof(struct nic_ctl), &info.ctl, &bus)) < 0 ||
	    (err = map_registers(as, port, &info)) < 0) {
		unclaim_port(port);
		return err;
	}
	spin_lock(&nic.lock);
	port->ctl = P2V(bus);
	spin_unlock(&nic.lock);
	// The caller runs on as, so as cannot be released before this.
	aspace_notifier_register(as, &port->notifier);
	describe(port, &info);
	return copy_to_user(info_out, &info, sizeof(info));
}

int nic_ctl(int index, uint32_t op, uint32_t arg0, uint32_t arg1)
{
	int err = 0;

	if (index < 0 || index >= I82599_PORTS)
		return -EINVAL;
	spin_lock(&nic.lock);
	struct nic_ctl *ctl = nic.ports[index].ctl;
	if (ctl == NULL) {
		err = -ENOENT;
	} else if (ctl->posted != ctl->done) {
		err = -EBUSY;
	} else {
		ctl->op = op;
		ctl->arg0 = arg0;
		ctl->arg1 = arg1;
		// The request before its number: the owner reads posted first.
		__atomic_store_n(&ctl->posted, ctl->posted + 1, __ATOMIC_RELEASE);
	}
	spin_unlock(&nic.lock);
	return err;
}

int nic_ctl_result(int index)
{
	int result = -ENOENT;

	if (index < 0 || index >= I82599_PORTS)
		return -EINVAL;
	spin_lock(&nic.lock);
	struct nic_ctl *ctl = nic.ports[index].ctl;
	if (ctl != NULL)
		result = __atomic_load_n(&ctl->done, __ATOMIC_ACQUIRE) != ctl->posted ? 1 : ctl->result;
	spin_unlock(&nic.lock);
	return result;
}

int64_t sys_nic_ctl(uint64_t index, uint64_t op, uint64_t args)
{
	if (index >= I82599_PORTS)
		return -EINVAL;
	return nic_ctl((int)index, (uint32_t)op, (uint32_t)args, (uint32_t)(args >> 32));
}

// The port's causes, taken: the model's as an EICR read, a real NIC's
// interrupt as bit 0 (nic.lock held).
static uint32_t take_causes(struct nic_port *port)
{
	if (nic.model != NULL)
		return i82599_take_causes(nic.model, port->index);
	return __atomic_exchange_n(&port->irq_pending, 0, __ATOMIC_SEQ_CST);
}

int64_t sys_nic_wait(uint64_t index, uint64_t nticks)
{
	struct aspace *as = proc_current()->as;
	uint64_t start = ticks;
	int64_t result = 0;

	if (index >= I82599_PORTS)
		return -EINVAL;
	struct nic_port *port = &nic.ports[index];
	for (;;) {
		// The bridge's received frames raise port 0's causes.
		if (nic.bridged)
			e1000_poll();
		spin_lock(&nic.lock);
		if (port->owner != as) {
			result = -EPERM;
			break;
		}
		if ((result = take_causes(port)) != 0 || ticks - start >= nticks)
			break;
		if (proc_killed()) {
			result = -EINTR;
			break;
		}
		sleep((void *)&ticks, &nic.lock);
		unlock_and_wake();
	}
	unlock_and_wake();
	return result;
}

// -- finding the NIC --

// A real NIC port's interrupt, which every vector of its MSI-X table
// sends (pci/msi.c). It takes no lock, so its wakeup may fall between a
// waiter's check and its sleep: the next tick wakes that waiter (it
// sleeps on the ticks' channel), not later.
static void real_interrupt(void *arg)
{
	struct nic_port *port = arg;

	__atomic_store_n(&port->irq_pending, 1, __ATOMIC_SEQ_CST);
	wakeup((void *)&ticks);
}

// Takes the real 82599's functions (one per port) if there are both.
static bool find_real_nic(void)
{
	int found = 0;

	for (int i = 0; i < pci_nfuncs && found < I82599_PORTS; i++)
		if (pci_funcs[i].vendor == IXGBE_VENDOR_INTEL &&
		    pci_funcs[i].device == IXGBE_DEVICE_82599_SFP)
			nic.ports[found++].pci = &pci_funcs[i];
	if (found < I82599_PORTS) {
		for (int i = 0; i < I82599_PORTS; i++)
			nic.ports[i].pci = NULL;
		return false;
	}
	for (int i = 0; i < I82599_PORTS; i++) {
		struct pci_func *f = nic.ports[i].pci;
		int vector;
		pci_enable(f, true);
		if (pci_setup_interrupt(f, real_interrupt, &nic.ports[i], false, &vector) == PCI_IRQ_NONE)
			printk("nic: port %d (%02x:%02x.%d) has no interrupt: nic_wait only times out\n",
			       i, f->bus, f->dev, f->fn);
		printk("nic: port %d is a real 82599 at %02x:%02x.%d, BAR 0 at 0x%lx\n", i,
		       f->bus, f->dev, f->fn, f->bars[0].base);
	}
	return true;
}

void nic_init(void)
{
	for (int i = 0; i < I82599_PORTS; i++) {
		nic.ports[i].index = i;
		nic.ports[i].notifier.ops = &owner_ops;
	}
	pci_init();
	if (find_real_nic()) {
		nic.present = true;
		return;
	}
	if ((nic.model = i82599_create(&model_ops, &nic)) == NULL) {
		printk("nic: no 82599 on PCI, and no memory for the model\n");
		return;
	}
	i82599_reset(nic.model, model_mac);
	nic.present = true;
}
