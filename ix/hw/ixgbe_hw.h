// Registers and descriptors of the Intel 82599 10 GbE controller (PCI
// 8086:10FB), from the Intel 82599 10 GbE Controller Datasheet, rev. 3.x:
// 8.2 for registers (8.2.3.x is given where it was checked), 7.1.6 and
// 7.2.3 for the advanced descriptors, 7.1.2.8 for RSS. The ixgbe driver
// (ix/drivers) and the emulated 82599 (vmx/dev) both read this file: one
// map of the hardware, so the driver cannot know which of the two it
// drives.

#ifndef IX_HW_IXGBE_HW_H
#define IX_HW_IXGBE_HW_H

#include <stdint.h>

#define IXGBE_VENDOR_INTEL      0x8086
#define IXGBE_DEVICE_82599_SFP  0x10FB
#define IXGBE_BAR0_SIZE         0x20000         // 128 KiB of registers
#define IXGBE_MAX_QUEUES        16              // queue pairs the model and driver use
#define IXGBE_MSIX_VECTORS      64

// General control and status (8.2.3.1, 8.2.3.2).
#define IXGBE_CTRL      0x00000
#define IXGBE_CTRL_GIO_DIS      (1u << 2)       // PCIe master disable
#define IXGBE_CTRL_LRST         (1u << 3)       // link reset, self-clearing
#define IXGBE_CTRL_RST          (1u << 26)      // device reset, self-clearing
#define IXGBE_STATUS    0x00008
#define IXGBE_STATUS_LAN_ID_SHIFT 2             // bits 3:2: which port (PCI function)
#define IXGBE_STATUS_LAN_ID_MASK  (3u << 2)
#define IXGBE_STATUS_LINKUP     (1u << 7)
#define IXGBE_STATUS_GIO        (1u << 19)      // PCIe master enabled (clears after CTRL.GIO_DIS)
#define IXGBE_CTRL_EXT  0x00018
#define IXGBE_CTRL_EXT_DRV_LOAD (1u << 28)      // the driver has taken the device

// EEPROM (8.2.3.2.1-2): the MAC address is auto-read at reset.
#define IXGBE_EEC       0x10010
#define IXGBE_EEC_PRES          (1u << 8)       // an EEPROM is present
#define IXGBE_EEC_ARD           (1u << 9)       // auto-read done
#define IXGBE_EERD      0x10014
#define IXGBE_EERD_START        (1u << 0)
#define IXGBE_EERD_DONE         (1u << 1)
#define IXGBE_EERD_ADDR_SHIFT   2
#define IXGBE_EERD_DATA_SHIFT   16

// Interrupts (8.2.3.5): cause, cause set, auto-clear, mask set/clear,
// vector allocation, throttling.
#define IXGBE_EICR      0x00800         // read clears (when GPIE.OCD is 0)
#define IXGBE_EICS      0x00808
#define IXGBE_EIAC      0x00810
#define IXGBE_EITR(n)   (0x00820 + 4 * (n))     // n < 24
#define IXGBE_EIMS      0x00880
#define IXGBE_EIMC      0x00888
#define IXGBE_EIAM      0x00890
#define IXGBE_GPIE      0x00898
#define IXGBE_GPIE_MSIX_MODE    (1u << 4)
#define IXGBE_GPIE_OCD          (1u << 5)       // other clear disable
#define IXGBE_GPIE_EIAME        (1u << 30)
#define IXGBE_GPIE_PBA_SUPPORT  (1u << 31)
#define IXGBE_IVAR(n)   (0x00900 + 4 * (n))     // n < 64: queues 2n and 2n+1
#define IXGBE_IVAR_MISC 0x00A00                 // bits 7:0 TCP timer, 15:8 other causes
#define IXGBE_IVAR_VALID        0x80            // in each 8-bit entry: vector | valid
#define IXGBE_IVAR_VECTOR_MASK  0x3F
// The entry of queue q in IVAR(q / 2) (8.2.3.5): RX at bit 16 * (q & 1),
// TX 8 bits above it.
#define IXGBE_IVAR_SHIFT(q, tx) (16 * ((q) & 1) + 8 * (tx))
#define IXGBE_EICR_RTX_QUEUE    0x0000FFFFu     // one bit per MSI-X vector 0-15
#define IXGBE_EICR_LSC          (1u << 20)      // link status change
#define IXGBE_EICR_TCP_TIMER    (1u << 30)
#define IXGBE_EICR_OTHER        (1u << 31)

// Receive (8.2.3.7-8).
#define IXGBE_RXCTRL    0x03000
#define IXGBE_RXCTRL_RXEN       (1u << 0)
#define IXGBE_FCTRL     0x05080
#define IXGBE_FCTRL_MPE         (1u << 8)       // multicast promiscuous
#define IXGBE_FCTRL_UPE         (1u << 9)       // unicast promiscuous
#define IXGBE_FCTRL_BAM         (1u << 10)      // accept broadcast
#define IXGBE_RXCSUM    0x05000
#define IXGBE_HLREG0    0x04240
#define IXGBE_HLREG0_TXCRCEN    (1u << 0)
#define IXGBE_HLREG0_RXCRCSTRP  (1u << 1)
#define IXGBE_HLREG0_TXPADEN    (1u << 10)      // pad short frames
#define IXGBE_RDRXCTL   0x02F00
#define IXGBE_RDRXCTL_DMAIDONE  (1u << 3)       // DMA init done
#define IXGBE_RAL(n)    (0x0A200 + 8 * (n))     // receive address n, low 32 bits
#define IXGBE_RAL_ALIAS(n) (0x05400 + 8 * (n))  // n < 16: the 82598's addresses, still decoded
#define IXGBE_RAH(n)    (0x0A204 + 8 * (n))     // the high 16, and
#define IXGBE_RAH_AV            (1u << 31)      // address valid
#define IXGBE_MRQC      0x0EC80
#define IXGBE_MRQC_ALIAS 0x05818                // the 82598's address, still used by drivers
#define IXGBE_MRQC_MRQE_MASK    0xFu
#define IXGBE_MRQC_RSSEN        0x1             // MRQE = 0001: RSS only
#define IXGBE_MRQC_RSS_TCPIPV4  (1u << 16)
#define IXGBE_MRQC_RSS_IPV4     (1u << 17)
#define IXGBE_MRQC_RSS_UDPIPV4  (1u << 22)
#define IXGBE_RSSRK(n)  (0x0EB80 + 4 * (n))     // n < 10: the 40-byte key, byte 4n in bits 7:0
#define IXGBE_RSSRK_ALIAS(n) (0x05C80 + 4 * (n))
#define IXGBE_RSS_KEY_SIZE      40
#define IXGBE_RETA(n)   (0x0EB00 + 4 * (n))     // n < 32: 128 one-byte entries, 4n in bits 7:0
#define IXGBE_RETA_ALIAS(n) (0x05C00 + 4 * (n))
#define IXGBE_RETA_ENTRIES      128
#define IXGBE_RETA_QUEUE_MASK   0xFu            // each entry's queue index, bits 3:0 (7.1.2.8)

// Receive queue n (n < 64; the first 64 are at these addresses).
#define IXGBE_RDBAL(n)  (0x01000 + 0x40 * (n))
#define IXGBE_RDBAH(n)  (0x01004 + 0x40 * (n))
#define IXGBE_RDLEN(n)  (0x01008 + 0x40 * (n))  // bytes, a multiple of 128
#define IXGBE_RDH(n)    (0x01010 + 0x40 * (n))
#define IXGBE_SRRCTL(n) (0x01014 + 0x40 * (n))
#define IXGBE_RDT(n)    (0x01018 + 0x40 * (n))
#define IXGBE_RXDCTL(n) (0x01028 + 0x40 * (n))
#define IXGBE_SRRCTL_ALIAS(n) (0x02100 + 4 * (n))  // n < 16: the 82598's addresses, still decoded
#define IXGBE_SRRCTL_BSIZEPKT_SHIFT 10          // BSIZEPACKET, bits 4:0, counts KiB: bytes >> 10
#define IXGBE_SRRCTL_BSIZEPKT_MASK  0x1Fu
#define IXGBE_SRRCTL_DESCTYPE_ADV   (1u << 25)  // advanced, one buffer
#define IXGBE_SRRCTL_DESCTYPE_MASK  (7u << 25)
#define IXGBE_SRRCTL_DROP_EN        (1u << 28)
#define IXGBE_RXDCTL_ENABLE     (1u << 25)

// Transmit (8.2.3.9).
#define IXGBE_DMATXCTL  0x04A80
#define IXGBE_DMATXCTL_TE       (1u << 0)
#define IXGBE_RTTDCS    0x04900
#define IXGBE_TDBAL(n)  (0x06000 + 0x40 * (n))
#define IXGBE_TDBAH(n)  (0x06004 + 0x40 * (n))
#define IXGBE_TDLEN(n)  (0x06008 + 0x40 * (n))
#define IXGBE_TDH(n)    (0x06010 + 0x40 * (n))
#define IXGBE_TDT(n)    (0x06018 + 0x40 * (n))
#define IXGBE_TXDCTL(n) (0x06028 + 0x40 * (n))
#define IXGBE_TXDCTL_ENABLE     (1u << 25)

// Link (8.2.3.22).
#define IXGBE_AUTOC     0x042A0
#define IXGBE_AUTOC_RESTART_AN  (1u << 12)
#define IXGBE_LINKS     0x042A4
#define IXGBE_LINKS_UP          (1u << 30)
#define IXGBE_LINKS_SPEED_10G   (3u << 28)
#define IXGBE_LINKS_SPEED_MASK  (3u << 28)

// Statistics (8.2.3.23): read clears them.
#define IXGBE_CRCERRS   0x04000
#define IXGBE_GPRC      0x04074         // good packets received
#define IXGBE_GPTC      0x04080         // good packets transmitted
#define IXGBE_GORCL     0x04088         // good octets received, low and high
#define IXGBE_GORCH     0x0408C
#define IXGBE_GOTCL     0x04090
#define IXGBE_GOTCH     0x04094
#define IXGBE_TPR       0x040D0         // total packets received
#define IXGBE_TPT       0x040D4
#define IXGBE_MPC(n)    (0x03FA0 + 4 * (n))     // missed, per packet buffer (n < 8)
#define IXGBE_QPRC(n)   (0x01030 + 0x40 * (n))  // per queue (n < 16)
#define IXGBE_QPRDC(n)  (0x01430 + 0x40 * (n))  // per queue: dropped for want of a descriptor
#define IXGBE_QPTC(n)   (0x08680 + 4 * (n))
#define IXGBE_QPTC_ALIAS(n) (0x06030 + 0x40 * (n))  // the 82598's address, still decoded
// The per-queue counters above count statistics counters, not queues:
// RQSMR and TQSM map queue q to counter (reg(q / 4) >> 8 * (q % 4)) & 0xF,
// and every queue to counter 0 after reset (8.2.3.23).
#define IXGBE_RQSMR(n)  (0x02300 + 4 * (n))
#define IXGBE_TQSM(n)   (0x08600 + 4 * (n))
#define IXGBE_QSM_MASK  0xFu

// Advanced receive descriptor (7.1.6): the driver writes the read
// format, the NIC writes back the other over it.
union ixgbe_adv_rx_desc {
	struct {
		uint64_t pkt_addr;      // bus address of the buffer
		uint64_t hdr_addr;      // 0: no header split
	} read;
	struct {
		uint32_t info;          // RSS type bits 3:0, packet type bits 16:4
		uint32_t rss_hash;
		uint32_t status_error;
		uint16_t length;
		uint16_t vlan;
	} wb;
};
#define IXGBE_RXD_STAT_DD       (1u << 0)       // descriptor done
#define IXGBE_RXD_STAT_EOP      (1u << 1)       // end of packet
#define IXGBE_RXD_RSSTYPE_MASK  0xFu
#define IXGBE_RXD_RSSTYPE_NONE          0x0
#define IXGBE_RXD_RSSTYPE_IPV4_TCP      0x1
#define IXGBE_RXD_RSSTYPE_IPV4          0x2
#define IXGBE_RXD_RSSTYPE_IPV4_UDP      0x7
#define IXGBE_RXD_PKTTYPE_IPV4  (1u << 4)       // packet type (7.1.6): bit 4 + n of info
#define IXGBE_RXD_PKTTYPE_TCP   (1u << 8)
#define IXGBE_RXD_PKTTYPE_UDP   (1u << 9)

// Advanced transmit data descriptor (7.2.3.2.4); the NIC writes DD back
// into olinfo_status when RS asked for it.
union ixgbe_adv_tx_desc {
	struct {
		uint64_t buffer_addr;
		uint32_t cmd_type_len;
		uint32_t olinfo_status;
	} read;
	struct {
		uint64_t reserved;
		uint32_t nxtseq_seed;
		uint32_t status;
	} wb;
};
#define IXGBE_TXD_DTALEN_MASK   0xFFFFu
#define IXGBE_TXD_DTYP_MASK     (0xFu << 20)
#define IXGBE_TXD_DTYP_CTXT     (2u << 20)      // context descriptor (offloads): no data
#define IXGBE_TXD_DTYP_DATA     (3u << 20)
#define IXGBE_TXD_CMD_EOP       (1u << 24)
#define IXGBE_TXD_CMD_IFCS      (1u << 25)
#define IXGBE_TXD_CMD_RS        (1u << 27)      // report status
#define IXGBE_TXD_CMD_DEXT      (1u << 29)      // advanced descriptor
#define IXGBE_TXD_PAYLEN_SHIFT  14
#define IXGBE_TXD_STAT_DD       (1u << 0)

#endif
