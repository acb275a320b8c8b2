// The emulated 82599's state, and the calls between its two files:
// vmx/dev/82599.c (reports, power-on, registers, the interface) and
// vmx/dev/82599_queues.c (interrupts, transmit, receive). The model's
// users include vmx/dev/82599.h, not this.

#ifndef VMX_DEV_82599_INTERNAL_H
#define VMX_DEV_82599_INTERNAL_H

#include "ix/hw/rss.h"
#include "vmx/dev/82599.h"

#define DESC_SIZE 16                    // RX and TX descriptors alike
#define ETH_HLEN 14
#define ETH_FCS_LEN 4
#define ETHERTYPE_IPV4 0x0800
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define EEPROM_WORDS 64
#define TX_FRAME_DESCS 64               // descriptors one frame may take, at most
#define REPORTED_MAX 64                 // unimplemented registers reported by offset

// Complaints about a queue, each made once until the queue is enabled
// again or the port reset (bits of rx_queue.told and tx_queue.told).
enum {
	TOLD_FAULT = 1 << 0,    // DMA refused: the queue stopped
	TOLD_RING = 1 << 1,     // RDLEN/TDLEN, head or tail out of range
	TOLD_BSIZE = 1 << 2,    // SRRCTL.BSIZEPACKET is 0
	TOLD_DESCTYPE = 1 << 3, // SRRCTL.DESCTYPE is not advanced one-buffer
	TOLD_OVERSIZE = 1 << 4, // a frame to send is larger than I82599_FRAME_MAX
};

struct rx_queue {
	uint32_t rdbal, rdbah, rdlen, rdh, rdt, srrctl, rxdctl;
	uint8_t told;
};

struct tx_queue {
	uint32_t tdbal, tdbah, tdlen, tdh, tdt, txdctl;
	uint8_t told;
};

// Statistics (8.2.3.23): read-to-clear; 32-bit counters stick at their
// maximum. The octet counters are read low half first: reading the low
// half clears the counter and keeps the high half for the next read.
struct stats {
	uint32_t crcerrs, gprc, gptc, tpr, tpt;
	uint32_t mpc[8];
	uint64_t gorc, gotc;
	uint32_t gorch, gotch;          // high halves kept by the read of the low ones
	uint32_t qprc[16], qprdc[16], qptc[16];
};

// One port: a PCI function and its BAR 0. What reads back as written is
// stored as written; what the model computes (STATUS, LINKS, EEC) is not
// stored.
struct port {
	int id;
	// General, EEPROM, link (8.2.3.1, 8.2.3.2, 8.2.3.22).
	uint32_t ctrl, ctrl_ext, eerd, autoc, hlreg0;
	// Interrupts (8.2.3.5).
	uint32_t eicr, eims, eiac, eiam, gpie, ivar_misc;
	uint32_t ivar[64], eitr[24];
	// Receive filters, RSS, receive and transmit DMA (8.2.3.7-9).
	uint32_t rxctrl, fctrl, rxcsum, rdrxctl, mrqc, dmatxctl, rttdcs;
	uint32_t ral[16], rah[16], rssrk[10], reta[32], rqsmr[4], tqsm[4];
	// RSS's hash by table (82599_queues.c): rss_table[i][v] is the hash
	// of an input whose only nonzero byte is byte i, of value v.
	uint32_t rss_table[RSS_IPV4_INPUT_SIZE][256];
	bool rss_table_stale;                   // RSSRK was written since the table was made
	struct rx_queue rx[IXGBE_MAX_QUEUES];
	struct tx_queue tx[IXGBE_MAX_QUEUES];
	struct stats stats;
	bool vector_told;                       // an IVAR vector above 15 was reported
	uint8_t frame[I82599_FRAME_MAX];        // a frame to send, gathered from its descriptors
};

struct i82599 {
	const struct i82599_ops *ops;
	void *ctx;
	struct port port[I82599_PORTS];
	uint16_t eeprom[EEPROM_WORDS];
	unsigned loss_every;                    // the internal wire loses every loss_every-th frame
	unsigned wire_frames;                   // frames put on the internal wire since set_loss
	uint64_t unimplemented;
	uint32_t reported[REPORTED_MAX];        // offsets of unimplemented registers already reported
	unsigned nreported;
};

// vmx/dev/82599.c: reports through ops->log.
// Says "82599 port N: RX queue Q: text value" (TX queue if tx) once per
// what, a TOLD_ bit, until the queue is enabled again; value in hex if
// base is 16, else in decimal.
void i82599_queue_complaint(struct i82599 *nic, struct port *p, int q, bool tx, uint8_t what,
			    const char *text, uint64_t value, unsigned base);
// Says "82599 port N: text value" (the caller makes it say so once).
void i82599_port_complaint(struct i82599 *nic, struct port *p, const char *text, uint64_t value,
			   unsigned base);

// vmx/dev/82599_queues.c.
// Sets causes in EICR and sends the interrupts EIMS enables.
void i82599_raise(struct i82599 *nic, struct port *p, uint32_t causes);
// Sends the interrupts of the causes in bits (already in EICR) that EIMS
// enables, with EIAC's auto-clear and EIAM's auto-mask.
void i82599_send_interrupts(struct i82599 *nic, struct port *p, uint32_t bits);
// Sends the complete frames between TDH and TDT of TX queue q, if the
// queue and DMATXCTL.TE are enabled.
void i82599_tx_process(struct i82599 *nic, struct port *p, int q);
// A frame arrives at port p: returns true if a queue took it.
bool i82599_port_receive(struct i82599 *nic, struct port *p, const uint8_t *frame, size_t len);

#endif
