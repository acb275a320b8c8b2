// The emulated Intel 82599 (two ports, PCI 8086:10FB), written from its
// datasheet (ix/hw/ixgbe_hw.h cites the sections). The model is plain
// C with no kernel dependencies, so that a host-side unit test (vmx/dev/
// tests) runs it too; its owner (vmx/dev/nic.c in the kernel) gives it
// DMA, a wire and interrupts through struct i82599_ops, and serializes
// every call (the model has no lock of its own).
//
// What the model does: register reads and writes with their side effects
// (reset, EEPROM auto-read, link, read-to-clear statistics and causes,
// interrupt mask and auto-clear); transmit when the driver moves TDT
// (every descriptor up to the new tail is sent at once, its DD written
// back if RS asked); receive of a frame from the wire: the unicast and
// broadcast filters, RSS (Toeplitz over the IPv4 and TCP/UDP 4-tuple,
// RETA), the queue's next descriptors or a drop counted in MPC (in
// QPRDC if the queue has SRRCTL.DROP_EN), the advanced write-back
// (length, DD, EOP, RSS type and hash). A descriptor whose buffer the
// DMA callbacks refuse stops its queue (RXDCTL/TXDCTL ENABLE clears) and
// is reported once, as a real NIC's DMA fault would. The top of
// vmx/dev/82599.c lists what the model leaves out or makes simpler.

#ifndef VMX_DEV_82599_H
#define VMX_DEV_82599_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ix/hw/ixgbe_hw.h"

#define I82599_PORTS 2
#define I82599_FRAME_MAX 1518           // Ethernet frame without the CRC, no jumbo frames

struct i82599;

struct i82599_ops {
	// DMA of port between the bus address range [bus, bus + len) and
	// buf. Returns 0, or -EFAULT if the range is not memory that port's
	// owner gave for DMA (each port is a PCI function of its own, and
	// may have an owner of its own).
	int (*dma_read)(void *ctx, int port, uint64_t bus, void *buf, size_t len);
	int (*dma_write)(void *ctx, int port, uint64_t bus, const void *buf, size_t len);
	// A frame port sent that leaves the model (NULL: frames go on the
	// internal wire to the other port).
	void (*transmit)(void *ctx, int port, const void *frame, size_t len);
	// An interrupt: a cause of EICR that EIMS lets through was set on
	// port; vector is its MSI-X vector.
	void (*interrupt)(void *ctx, int port, int vector);
	// Says one line about the model (an unimplemented register, a DMA
	// fault). The model says each such thing once.
	void (*log)(void *ctx, const char *line);
};

// The model's memory. i82599_create takes it from i82599_zalloc and
// i82599_destroy gives it back with i82599_free: the model declares the
// two and its environment defines them (the kernel with kzalloc and
// kfree in vmx/dev/82599_kmem.c, the host test with calloc and free), so
// 82599.c includes no kernel header. A caller with memory of its own
// uses i82599_size and i82599_init instead.
void *i82599_zalloc(size_t size);
void i82599_free(void *ptr);

// Returns a model in its power-on state (every MAC address zero until
// i82599_reset gives the EEPROM's), or NULL if no memory is left. ops
// must live as long as the model; dma_read and dma_write are required,
// the other callbacks may be NULL. The callbacks may call back into the
// model (a driver that sends from its interrupt handler).
struct i82599 *i82599_create(const struct i82599_ops *ops, void *ctx);
void i82599_destroy(struct i82599 *nic);
// The bytes a model takes, and the same as i82599_create in mem (of
// i82599_size() bytes, aligned to 8).
size_t i82599_size(void);
struct i82599 *i82599_init(void *mem, const struct i82599_ops *ops, void *ctx);

// Power-on state of both ports (as CTRL.RST does, and the EEPROM's MAC
// addresses: base, base + 1). The EEPROM image that EERD reads holds
// port 0's address in words 0-2 and port 1's in words 3-5, low byte
// first in each word (mac[0] | mac[1] << 8); every other word reads 0.
// (A real 82599 keeps them in its LAN core modules; a driver of
// this course reads the address from RAL/RAH[0], as the auto-read left
// it, or from these words.)
void i82599_reset(struct i82599 *nic, const uint8_t base_mac[6]);
// Power-on state of port alone (its CTRL.RST), the EEPROM kept: what
// the port's owner left goes, the other port runs on.
void i82599_reset_port(struct i82599 *nic, int port);

// A read or write of width bytes (4 or 8; 1 and 2 read or write part of
// the 32-bit register) at offset in port's BAR 0.
uint64_t i82599_read(struct i82599 *nic, int port, uint32_t offset, int width);
void i82599_write(struct i82599 *nic, int port, uint32_t offset, int width, uint64_t value);

// A frame arrives at port from outside the model (the bridge). Returns
// true if a queue took it; false if it was filtered or dropped (counted).
bool i82599_receive(struct i82599 *nic, int port, const void *frame, size_t len);

// The internal wire loses one frame in every loss_every (0: none), for tests.
void i82599_set_loss(struct i82599 *nic, unsigned loss_every);

// The pending causes of port that EIMS enables, cleared as an EICR read
// would clear them (what a sleeping driver is woken for).
uint32_t i82599_take_causes(struct i82599 *nic, int port);

// Registers read or written that the model does not implement, so far.
uint64_t i82599_unimplemented(const struct i82599 *nic);

#endif
