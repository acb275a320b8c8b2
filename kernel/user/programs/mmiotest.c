// mmiotest [VALUE]: the 82599 as a user-space driver sees it (vmx/dev/
// nic.h), on the emulated NIC, whose registers are trapped and decoded
// (trap/mmio.h).
//
//   First what needs no MMIO decoding, only system calls:
//   1. A child opens port 0 and adds to a register (an instruction the
//      decoder refuses): the kernel names it and the child dies of a
//      page fault; its end frees the port.
//   2. Two children own port 0 and port 1 at once, and the parent's
//      open of either is refused; their ends free both.
//   3. Ports 0 and 1 opened; bad opens refused; a child of the owner
//      cannot open a port, and has no DMA memory.
//   4. dma_alloc: bus addresses of contiguous blocks (aligned to their
//      size), zeroed memory, the limit of a process, bad arguments
//      refused; munmap and map of the windows refused.
//   5. nic_wait: a timeout, and a port that does not exist.
//   Then the registers, every access trapped and decoded:
//   6. STATUS and EEC of both ports printed; EEC read with a 32-bit
//      displacement, and with a SIB byte that has no base register.
//   7. RDBAL(0)/RDBAH(0) and RAL(0) written and read back with 8-, 16-,
//      32- and 64-bit MOVs, MOVZX and MOV of an immediate, through
//      registers up to r15 and base + index addressing; the values come
//      from VALUE (the grader's token).
//   8. nic_wait: a thread woken by a cause the main thread sets (EIMS,
//      then EICS).
//   9. The internal wire: port 0 sends a frame from DMA memory, port 1
//      receives it into DMA memory (the descriptors written back, the
//      receive interrupt wakes nic_wait); a transmit ring at a bus
//      address that is not the process's DMA memory stops its queue.
//   10. munmap of port 1's first page drops its MMIO region: a read there
//      is an ordinary page fault, which a SIGSEGV handler catches; the
//      handler ends the program.
//
// Each check prints "mmiotest: ok: WHAT" or "mmiotest: FAIL: WHAT ...";
// the exit status is the number of failures.

#include <stdbool.h>

#include "arch/memlayout.h"
#include "ix/hw/ixgbe_hw.h"
#include "ulib.h"


static int failures;

static void check(bool ok, const char *what, uint64_t got, uint64_t want)
{
	if (ok)
		printf("mmiotest: ok: %s\n", what);
	else
		printf("mmiotest: FAIL: %s: got 0x%lx, want 0x%lx\n", what, got, want);
	failures += !ok;
}

static void check_eq(const char *what, uint64_t got, uint64_t want)
{
	check(got == want, what, got, want);
}

// A child runs fn and should die of it (status 128 + 14, a page fault).
static void child_dies(const char *what, void (*fn)(volatile uint8_t *), volatile uint8_t *arg)
{
	int status = 0;

	if (fork() == 0) {
		fn(arg);
		exit(0);
	}
	wait(&status);
	check_eq(what, (uint64_t)status, 128 + 14);
}

// A child that owns port while the parent checks: it says whether its
// open succeeded on ready, then waits until the parent closes hold.
static void own_port(int port, const int ready[2], const int hold[2])
{
	struct nic_info info;
	char answer, none;

	close(ready[0]);
	close(hold[1]);
	answer = nic_open(port, &info) == 0 ? 'y' : 'n';
	write(ready[1], &answer, 1);
	read(hold[0], &none, 1);
	exit(0);
}

// Each port has an owner of its own: two children hold port 0 and port
// 1 at once, and a third process (this one) is refused either.
static void two_owners(void)
{
	int ready[2], hold[2], status[2] = { -1, -1 };
	char answers[2] = { 0, 0 };
	struct nic_info info;

	if (pipe(ready) < 0 || pipe(hold) < 0) {
		check(false, "pipes for the owners", 0, 0);
		return;
	}
	for (int port = 0; port < 2; port++)
		if (fork() == 0)
			own_port(port, ready, hold);
	close(ready[1]);
	close(hold[0]);
	for (int i = 0; i < 2; i++)
		read(ready[0], &answers[i], 1);
	check_eq("two processes own port 0 and port 1 at once",
		 answers[0] == 'y' && answers[1] == 'y', 1);
	check_eq("a third process's nic_open(0)", nic_open(0, &info), -EBUSY);
	check_eq("a third process's nic_open(1)", nic_open(1, &info), -EBUSY);
	close(hold[1]);
	wait(&status[0]);
	wait(&status[1]);
	close(ready[0]);
	check_eq("both owners end with status 0", status[0] | status[1], 0);
}

static void add_to_status(volatile uint8_t *unused)
{
	struct nic_info info;

	if (nic_open(0, &info) < 0)
		exit(1);
	// addl $1, STATUS: a read-modify-write the decoder does not know.
	asm volatile("addl $1, %0" : "+m"(*(volatile uint32_t *)(info.regs + IXGBE_STATUS)));
}

static void read_byte(volatile uint8_t *p)
{
	printf("mmiotest: child read 0x%x\n", *p);
}

static uint32_t reg32(const struct nic_info *n, uint32_t off)
{
	return *(volatile uint32_t *)(n->regs + off);
}

// Writes and reads RDBAL(0)/RDBAH(0) as one 64-bit register and as two
// 32-bit ones, with the operands in registers the REX prefix names.
static void rdba(const struct nic_info *n, uint64_t value)
{
	uint64_t want = value & ~0x7Ful;        // the ring's base is 128-byte aligned
	register uint64_t v asm("r14") = want;
	register uint64_t base asm("r11") = n->regs + IXGBE_RDBAL(0);
	// A 32-bit load clears bits 63:32 of its register: they start set.
	register uint64_t lo asm("r9") = ~0ul, hi asm("rbx") = ~0ul, both asm("r15");
	register uint64_t index asm("r12") = 1;

	asm volatile("movq %1, (%0)" : : "r"(base), "r"(v) : "memory");
	asm volatile("movl (%1), %k0" : "+r"(lo) : "r"(base) : "memory");
	asm volatile("movl (%1,%2,4), %k0" : "+r"(hi) : "r"(base), "r"(index) : "memory");
	asm volatile("movq 0x0(%1), %0" : "=r"(both) : "r"(base) : "memory");
	check_eq("RDBAL(0) by movq %r14 to (%r11)", both, want);
	check_eq("RDBAL(0) by movl into %r9d", lo, want & 0xFFFFFFFF);
	check_eq("RDBAH(0) by movl (%r11,%r12,4) into %ebx", hi, want >> 32);
}

// RAL(0) a byte and a half-word at a time, and read back in parts.
static void ral(const struct nic_info *n, uint32_t value)
{
	register uint64_t base asm("r13") = n->regs + IXGBE_RAL(0);
	register uint64_t b1 asm("rsi") = (value >> 8) & 0xFF;
	register uint64_t h1 asm("r10") = value >> 16;
	register uint64_t r8 asm("r8") = 0x1111111111111111ul;
	uint64_t zx8 = ~0ul, zx16, word;

	asm volatile("movl $0x5a5a5a5a, (%0)" : : "r"(base) : "memory");
	asm volatile("movb %b1, 1(%0)" : : "r"(base), "r"(b1) : "memory");
	asm volatile("movw %w1, 2(%0)" : : "r"(base), "r"(h1) : "memory");
	asm volatile("movb $0, (%0)" : : "r"(base) : "memory");
	word = reg32(n, IXGBE_RAL(0));
	asm volatile("movzbl 1(%1), %k0" : "+r"(zx8) : "r"(base) : "memory");
	asm volatile("movzwq 2(%1), %0" : "=r"(zx16) : "r"(base) : "memory");
	asm volatile("movb 1(%1), %b0" : "+r"(r8) : "r"(base) : "memory");
	check_eq("RAL(0) after movl $imm, movb %sil, movw %r10w, movb $0", word, value & 0xFFFFFF00);
	check_eq("RAL(0) byte 1 by movzbl", zx8, (value >> 8) & 0xFF);
	check_eq("RAL(0) bytes 2-3 by movzwq from (%r13)", zx16, value >> 16);
	check_eq("RAL(0) byte 1 into %r8b keeps r8's other bits", r8,
		 0x1111111111111100ul | ((value >> 8) & 0xFF));
}

// EEC read by two more addressing forms: a 32-bit displacement from a
// base register, and a SIB byte with an index and no base (index * 1 +
// disp32).
static void eec_forms(const struct nic_info *n)
{
	register uint64_t regs asm("rdx") = n->regs;
	register uint64_t index asm("r12") = n->regs;
	uint32_t want = reg32(n, IXGBE_EEC), a, b;

	asm volatile("movl %c2(%1), %0" : "=r"(a) : "r"(regs), "i"(IXGBE_EEC) : "memory");
	asm volatile("movl %c2(,%1,1), %0" : "=r"(b) : "r"(index), "i"(IXGBE_EEC) : "memory");
	check_eq("EEC by movl 0x10010(%rdx), a 32-bit displacement", a, want);
	check_eq("EEC by movl 0x10010(,%r12,1), SIB with no base", b, want);
}

static void owner_child(volatile uint8_t *dma)
{
	struct nic_info info;

	exit(nic_open(1, &info) == -EBUSY ? 0 : 1);
}

static void dma(void)
{
	uint64_t bus = 0, bus4 = 0;
	int64_t a = dma_alloc(3 * PAGE_SIZE, &bus);

	check(a > 0 && a % PAGE_SIZE == 0, "dma_alloc(3 pages) gives a page-aligned address", a, 0);
	check(bus != 0 && bus % (4 * PAGE_SIZE) == 0, "its bus address is a block of 4 pages", bus, 0);
	if (a <= 0)
		return;
	volatile uint64_t *m = (volatile uint64_t *)a;
	check_eq("DMA memory is zeroed", m[3 * PAGE_SIZE / 8 - 1] | m[0], 0);
	m[0] = bus;
	check_eq("DMA memory is writable", m[0], bus);

	int64_t b = dma_alloc(4ul << 20, &bus4);
	check(b > 0 && bus4 % (4ul << 20) == 0, "dma_alloc(4 MiB): one block aligned to 4 MiB",
	      bus4, 0);
	check(b != a, "a second allocation lies elsewhere", b, a);

	// What the process holds now: 4 MiB and a block of 4 pages; the
	// limit (64 MiB of blocks) leaves room for 14 blocks more of 4 MiB.
	int64_t r = 0;
	int blocks = 0;
	while (blocks < 64 && (r = dma_alloc(4ul << 20, &bus4)) > 0)
		blocks++;
	check_eq("dma_alloc(4 MiB) past a process's 64 MiB", r, -ENOMEM);
	check_eq("blocks of 4 MiB that fit below the limit", blocks, 14);

	check_eq("dma_alloc(0)", dma_alloc(0, &bus), -EINVAL);
	check_eq("dma_alloc(4 MiB + 1)", dma_alloc((4ul << 20) + 1, &bus), -EINVAL);
	check_eq("dma_alloc(bus = NULL)", dma_alloc(PAGE_SIZE, NULL), -EFAULT);
	check_eq("dma_alloc(bus in the kernel)", dma_alloc(PAGE_SIZE, (uint64_t *)0xFFFF800000000000ul),
		 -EFAULT);
	check_eq("dma_alloc(bus read-only)", dma_alloc(PAGE_SIZE, (uint64_t *)(uint64_t)&dma), -EFAULT);
	check_eq("munmap(DMA memory)", munmap((void *)a, PAGE_SIZE), -EINVAL);
	check_eq("map(in the DMA window)", map((void *)(a + (64ul << 20)), PAGE_SIZE, PROT_READ), -EINVAL);
	child_dies("a child reading its parent's DMA memory dies", read_byte, (volatile uint8_t *)a);
}

static struct nic_info ports[2];

static int wait_port1(void *arg)
{
	return (int)nic_wait(1, 500);
}

static void waits(void)
{
	static char stack[8192] __attribute__((aligned(16)));
	int value = -1;

	*(volatile uint32_t *)(ports[1].regs + IXGBE_EIMS) = 1;
	int tid = thread_create(wait_port1, NULL, stack, sizeof(stack));
	sleep(3);
	*(volatile uint32_t *)(ports[1].regs + IXGBE_EICS) = 1;
	join(tid, &value);
	check_eq("a thread in nic_wait(1) is woken by EICS with cause 1", (uint64_t)value, 1);
}

static void wr32(const struct nic_info *n, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(n->regs + off) = v;
}

// Places ring q of a port at bus (8 descriptors, 128 bytes): the base,
// head and tail registers given (RDBAL or TDBAL and its neighbours).
static void ring(const struct nic_info *n, uint32_t bal, uint32_t len, uint32_t head,
		 uint32_t tail, uint64_t bus)
{
	wr32(n, bal, (uint32_t)bus);
	wr32(n, bal + 4, (uint32_t)(bus >> 32));
	wr32(n, len, 8 * sizeof(union ixgbe_adv_rx_desc));
	wr32(n, head, 0);
	wr32(n, tail, 0);
}

#define FRAME_LEN 64

static void wire(uint64_t token)
{
	const struct nic_info *tx = &ports[0], *rx = &ports[1];
	uint64_t bus = 0;
	int64_t va = dma_alloc(4 * PAGE_SIZE, &bus);

	check(va > 0, "dma_alloc for the rings and buffers", va, 0);
	if (va <= 0)
		return;
	union ixgbe_adv_tx_desc *txd = (void *)va;
	union ixgbe_adv_rx_desc *rxd = (void *)(va + 256);
	uint8_t *frame = (uint8_t *)(va + PAGE_SIZE), *rxbuf = (uint8_t *)(va + 2 * PAGE_SIZE);

	// Port 1 receives everything into queue 0; its receive cause is
	// vector 1 (IVAR), which EIMS lets through.
	ring(rx, IXGBE_RDBAL(0), IXGBE_RDLEN(0), IXGBE_RDH(0), IXGBE_RDT(0), bus + 256);
	wr32(rx, IXGBE_SRRCTL(0), IXGBE_SRRCTL_DESCTYPE_ADV | 2);      // 2 KiB buffers
	for (int i = 0; i < 2; i++)
		rxd[i].read.pkt_addr = bus + 2 * PAGE_SIZE + (uint64_t)i * 2048;
	wr32(rx, IXGBE_RXDCTL(0), IXGBE_RXDCTL_ENABLE);
	wr32(rx, IXGBE_RDT(0), 2);
	wr32(rx, IXGBE_FCTRL, IXGBE_FCTRL_BAM | IXGBE_FCTRL_UPE | IXGBE_FCTRL_MPE);
	wr32(rx, IXGBE_IVAR(0), IXGBE_IVAR_VALID | 1);
	wr32(rx, IXGBE_EIMS, 1u << 1);
	wr32(rx, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);

	// A broadcast frame whose payload is the token.
	for (int i = 0; i < 6; i++)
		frame[i] = 0xFF;
	for (int i = 6; i < FRAME_LEN; i++)
		frame[i] = (uint8_t)(token >> (8 * (i % 8))) ^ (uint8_t)i;
	txd[0].read.buffer_addr = bus + PAGE_SIZE;
	txd[0].read.cmd_type_len = FRAME_LEN | IXGBE_TXD_DTYP_DATA | IXGBE_TXD_CMD_DEXT |
				   IXGBE_TXD_CMD_IFCS | IXGBE_TXD_CMD_EOP | IXGBE_TXD_CMD_RS;
	txd[0].read.olinfo_status = FRAME_LEN << IXGBE_TXD_PAYLEN_SHIFT;
	ring(tx, IXGBE_TDBAL(0), IXGBE_TDLEN(0), IXGBE_TDH(0), IXGBE_TDT(0), bus);
	wr32(tx, IXGBE_TXDCTL(0), IXGBE_TXDCTL_ENABLE);
	wr32(tx, IXGBE_DMATXCTL, IXGBE_DMATXCTL_TE);
	wr32(tx, IXGBE_TDT(0), 1);

	check_eq("the sent descriptor is written back (DD)", txd[0].wb.status & IXGBE_TXD_STAT_DD,
		 IXGBE_TXD_STAT_DD);
	check_eq("the received descriptor: DD and EOP",
		 rxd[0].wb.status_error & (IXGBE_RXD_STAT_DD | IXGBE_RXD_STAT_EOP),
		 IXGBE_RXD_STAT_DD | IXGBE_RXD_STAT_EOP);
	check_eq("the received length", rxd[0].wb.length, FRAME_LEN);
	int same = 0;
	for (int i = 0; i < FRAME_LEN; i++)
		same += rxbuf[i] == frame[i];
	check_eq("the received bytes are the sent ones", same, FRAME_LEN);
	check_eq("nic_wait(1) returns the receive cause", nic_wait(1, 100), 1u << 1);

	// Queue 1's ring at bus 0x1000: memory the process was never given.
	ring(tx, IXGBE_TDBAL(1), IXGBE_TDLEN(1), IXGBE_TDH(1), IXGBE_TDT(1), 0x1000);
	wr32(tx, IXGBE_TXDCTL(1), IXGBE_TXDCTL_ENABLE);
	wr32(tx, IXGBE_TDT(1), 1);
	check_eq("a ring outside the DMA memory stops its queue",
		 reg32(tx, IXGBE_TXDCTL(1)) & IXGBE_TXDCTL_ENABLE, 0);
}

// The control plane's requests (nic_ctl) as the port's owner sees them
// in its control page, answered by hand as a dataplane's loop would.
static void control_requests(void)
{
	struct nic_ctl *ctl = (struct nic_ctl *)ports[0].ctl;

	check_eq("nic_ctl(2, ...)", nic_ctl(2, NIC_CTL_MOVE, 0, 0), -EINVAL);
	check_eq("nic_ctl(0, move 5 to 1) is posted", nic_ctl(0, NIC_CTL_MOVE, 5, 1), 0);
	check(ctl->posted == ctl->done + 1 && ctl->op == NIC_CTL_MOVE && ctl->arg0 == 5 &&
	      ctl->arg1 == 1, "the owner's control page holds the request", ctl->posted - ctl->done, 1);
	check_eq("a second nic_ctl while one is posted", nic_ctl(0, NIC_CTL_MOVE, 6, 0), -EBUSY);
	ctl->result = -EINVAL;
	ctl->done = ctl->posted;
	check_eq("nic_ctl once the owner has answered", nic_ctl(0, NIC_CTL_MOVE, 6, 0), 0);
	check(ctl->arg0 == 6 && ctl->arg1 == 0, "the next request replaces the last", ctl->arg0, 6);
	ctl->done = ctl->posted;
}

static uint64_t value;

static void unmapped_fault(int sig, struct siginfo *info, struct sigcontext *ctx)
{
	check_eq("after munmap, a read of port 1's registers is a page fault there",
		 info->addr, ports[1].regs + IXGBE_STATUS);
	printf("mmiotest: value 0x%lx: %d failed\n", value, failures);
	exit(failures);
}

static void unmap_registers(void)
{
	check_eq("munmap(port 1's first page)", munmap((void *)ports[1].regs, PAGE_SIZE), 0);
	sigaction(SIGSEGV, unmapped_fault);
	reg32(&ports[1], IXGBE_STATUS);
	check(false, "the read after munmap came back", 0, 0);
}

int main(int argc, char **argv)
{
	value = argc > 1 ? strtoul(argv[1], NULL, 0) : 0x0123456789ABCDEFul;

	// First what needs no register access (no MMIO decoding): the
	// system calls.
	child_dies("a child adding to STATUS dies", add_to_status, NULL);
	two_owners();
	check_eq("nic_ctl(0, ...) with no owner", nic_ctl(0, NIC_CTL_MOVE, 0, 0), -ENOENT);
	for (int i = 0; i < 2; i++) {
		int err = nic_open(i, &ports[i]);
		check_eq(i == 0 ? "nic_open(0) once the child is gone" : "nic_open(1)", err, 0);
		if (err < 0)
			return 1 + failures;
		printf("mmiotest: port %d: registers at 0x%lx, %lu bytes, %04x:%04x, %s\n", i,
		       ports[i].regs, ports[i].regs_len, ports[i].vendor, ports[i].device,
		       ports[i].emulated ? "emulated" : "real");
	}
	check_eq("nic_open(0) again", nic_open(0, &ports[0]), -EBUSY);
	check_eq("nic_open(2)", nic_open(2, &ports[0]), -EINVAL);
	check_eq("nic_open(1, info = NULL)", nic_open(1, NULL), -EFAULT);
	check_eq("map(over the registers)", map((void *)ports[0].regs, PAGE_SIZE, PROT_READ), -EINVAL);
	int status = -1;
	if (fork() == 0)
		owner_child(NULL);
	wait(&status);
	check_eq("a child of the owner gets -EBUSY from nic_open", (uint64_t)status, 0);
	dma();
	check_eq("nic_wait(0, 2 ticks) times out", nic_wait(0, 2), 0);
	check_eq("nic_wait(2, ...)", nic_wait(2, 1), -EINVAL);
	control_requests();

	// Then the registers, each access trapped and decoded.
	for (int i = 0; i < 2; i++)
		printf("mmiotest: port %d: STATUS 0x%08x EEC 0x%08x\n", i,
		       reg32(&ports[i], IXGBE_STATUS), reg32(&ports[i], IXGBE_EEC));
	eec_forms(&ports[1]);
	rdba(&ports[0], value);
	ral(&ports[0], (uint32_t)value);
	waits();
	wire(value);
	unmap_registers();
	return failures;
}
