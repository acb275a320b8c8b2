// Registers and descriptors of the Intel 8254x family (the 82540EM, PCI
// 8086:100E, that QEMU and Bochs emulate), from the PCI/PCI-X Family of
// Gigabit Ethernet Controllers Software Developer's Manual (8254x SDM),
// revision 4.0: chapter 13 for registers (13.4 general, 13.7
// statistics), 3.2 and 3.3 for descriptors, 5.3.1 and 5.6 for the EEPROM.

#ifndef KERNEL_NET_E1000_REGS_H
#define KERNEL_NET_E1000_REGS_H

#include <stdint.h>

#define E1000_VENDOR_INTEL 0x8086
#define E1000_DEVICE_82540EM 0x100E

// Register offsets in BAR 0 (8254x SDM 13.3, the register summary; a
// section number is given where it was checked).
#define E1000_CTRL     0x0000   // device control (13.4.1)
#define E1000_STATUS   0x0008   // device status (13.4.2)
#define E1000_EERD     0x0014   // EEPROM read (13.4.4)
#define E1000_ICR      0x00C0   // interrupt cause read, cleared by the read (13.4.17)
#define E1000_ICS      0x00C8   // interrupt cause set (13.4.19)
#define E1000_IMS      0x00D0   // interrupt mask set/read (13.4.20)
#define E1000_IMC      0x00D8   // interrupt mask clear (13.4.21)
#define E1000_RCTL     0x0100   // receive control (13.4.22)
#define E1000_TCTL     0x0400   // transmit control (13.4.33)
#define E1000_TIPG     0x0410   // transmit inter-packet gap (13.4.34)
#define E1000_RDBAL    0x2800   // receive descriptor base, low and high (13.4.25-26)
#define E1000_RDBAH    0x2804
#define E1000_RDLEN    0x2808   // ring length in bytes, a multiple of 128 (13.4.27)
#define E1000_RDH      0x2810   // head: the next descriptor the NIC fills (13.4.28)
#define E1000_RDT      0x2818   // tail: one past the last it may fill (13.4.29)
#define E1000_RDTR     0x2820   // receive interrupt delay
#define E1000_RADV     0x282C   // receive absolute interrupt delay
#define E1000_TDBAL    0x3800   // transmit descriptor base (13.4.36-37)
#define E1000_TDBAH    0x3804
#define E1000_TDLEN    0x3808   // (13.4.38)
#define E1000_TDH      0x3810   // head: the next descriptor the NIC sends (13.4.39)
#define E1000_TDT      0x3818   // tail: one past the last ready one (13.4.40)
#define E1000_TIDV     0x3820   // transmit interrupt delay (13.4.41)
#define E1000_MTA      0x5200   // multicast table, 128 dwords
#define E1000_RAL0     0x5400   // receive address 0, low and high
#define E1000_RAH0     0x5404
#define E1000_MTA_ENTRIES 128

// Statistics (8254x SDM 13.7): 32-bit counters, cleared when read.
#define E1000_CRCERRS  0x4000   // CRC errors
#define E1000_MPC      0x4010   // missed packets: no room to store them (13.7.5)
#define E1000_GPRC     0x4074   // good packets received
#define E1000_GPTC     0x4080   // good packets transmitted (13.7.30)
#define E1000_RNBC     0x40A0   // receive no buffers
#define E1000_TPR      0x40D0   // total packets received
#define E1000_TPT      0x40D4   // total packets transmitted

// CTRL bits (13.4.1).
#define E1000_CTRL_FD      (1u << 0)    // full duplex
#define E1000_CTRL_LRST    (1u << 3)    // link reset
#define E1000_CTRL_ASDE    (1u << 5)    // auto-speed detection
#define E1000_CTRL_SLU     (1u << 6)    // set link up
#define E1000_CTRL_ILOS    (1u << 7)    // invert loss-of-signal
#define E1000_CTRL_RST     (1u << 26)   // device reset, self-clearing
#define E1000_CTRL_VME     (1u << 30)   // VLAN mode
#define E1000_CTRL_PHY_RST (1u << 31)   // PHY reset

// STATUS bits (13.4.2).
#define E1000_STATUS_FD    (1u << 0)    // full duplex
#define E1000_STATUS_LU    (1u << 1)    // link up
#define E1000_STATUS_SPEED_SHIFT 6      // 00: 10, 01: 100, 1x: 1000 Mb/s
#define E1000_STATUS_SPEED_MASK 0x3

// EERD (13.4.4, 82540EM layout; 5.3.1 how to use it): write the word
// address with START, poll for DONE, take the data.
#define E1000_EERD_START      (1u << 0)
#define E1000_EERD_DONE       (1u << 4)
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16
// EEPROM words 0-2: the Ethernet address, low byte first (5.6.1).
#define E1000_EEPROM_MAC_WORD 0

// Interrupt causes, the same bits in ICR, ICS, IMS and IMC (13.4.17).
#define E1000_ICR_TXDW   (1u << 0)      // a transmit descriptor was written back
#define E1000_ICR_TXQE   (1u << 1)      // transmit queue empty
#define E1000_ICR_LSC    (1u << 2)      // link status change
#define E1000_ICR_RXDMT0 (1u << 4)      // free receive descriptors below the threshold
#define E1000_ICR_RXO    (1u << 6)      // receiver overrun: a frame missed
#define E1000_ICR_RXT0   (1u << 7)      // receiver timer: frames arrived
#define E1000_ICR_ALL    0xFFFFFFFFu

// RCTL bits (13.4.22).
#define E1000_RCTL_EN        (1u << 1)  // receiver enable
#define E1000_RCTL_BAM       (1u << 15) // accept broadcast
#define E1000_RCTL_BSIZE_2048 (0u << 16) // buffer size 2048 (BSEX clear)
#define E1000_RCTL_SECRC     (1u << 26) // strip the Ethernet CRC

// TCTL bits (13.4.33, Table 13-76): enable, pad short packets, collision
// threshold and distance (the values recommended there: 0Fh, and 40h for
// full duplex).
#define E1000_TCTL_EN        (1u << 1)
#define E1000_TCTL_PSP       (1u << 3)
#define E1000_TCTL_CT_SHIFT  4
#define E1000_TCTL_COLD_SHIFT 12
#define E1000_TCTL_CT        0x0F
#define E1000_TCTL_COLD_FD   0x40

// TIPG for the 82540EM on copper (13.4.34): IPGT 10, IPGR1 8, IPGR2 6.
#define E1000_TIPG_82540EM   (10u | 8u << 10 | 6u << 20)

// RAH: address valid.
#define E1000_RAH_AV         (1u << 31)

// A receive descriptor (3.2.3, Table 3-1): the buffer, then what the NIC
// wrote back into it.
struct e1000_rx_desc {
	uint64_t addr;          // physical address of the buffer
	uint16_t length;        // bytes stored in it
	uint16_t checksum;
	uint8_t status;         // E1000_RXD_STAT_*
	uint8_t errors;         // E1000_RXD_ERR_*
	uint16_t special;
} __attribute__((packed));

#define E1000_RXD_STAT_DD  0x01 // descriptor done
#define E1000_RXD_STAT_EOP 0x02 // end of packet
// Frame errors (3.2.3.2): CRC, symbol, sequence, carrier extension, RX data.
#define E1000_RXD_ERR_FRAME 0x97

// A legacy transmit descriptor (3.3.3, Table 3-8).
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;            // E1000_TXD_CMD_*
	uint8_t status;         // E1000_TXD_STAT_*
	uint8_t css;
	uint16_t special;
} __attribute__((packed));

#define E1000_TXD_CMD_EOP  0x01 // end of packet
#define E1000_TXD_CMD_IFCS 0x02 // insert the frame check sequence
#define E1000_TXD_CMD_RS   0x08 // report status: write DD back when sent
#define E1000_TXD_STAT_DD  0x01

#endif
