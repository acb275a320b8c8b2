// COM1 driver. Register offsets and bits from the 16550D datasheet
// (National Semiconductor, "PC16550D UART", Table II).

#include "arch/ports.h"
#include "arch/x86.h"
#include "console/serial.h"

#define COM1 COM1_PORT

#define UART_DATA 0             // receive/transmit buffer (DLAB=0)
#define UART_IER  1             // interrupt enable (DLAB=0)
#define UART_DLL  0             // divisor latch low (DLAB=1)
#define UART_DLM  1             // divisor latch high (DLAB=1)
#define UART_FCR  2             // FIFO control
#define UART_LCR  3             // line control
#define UART_MCR  4             // modem control
#define UART_LSR  5             // line status
#define UART_SCR  7             // scratch

#define LCR_DLAB  0x80
#define LCR_8N1   0x03
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS_OUT2 0x0B
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

#define UART_CLOCK_DIVISOR_115200 1     // 1.8432 MHz / 16 / 115200

static bool present;

bool serial_init(void)
{
	// A UART keeps what is written to its scratch register.
	outb(COM1 + UART_SCR, 0x5A);
	if (inb(COM1 + UART_SCR) != 0x5A)
		return false;

	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, UART_CLOCK_DIVISOR_115200);
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
	present = true;
	return true;
}

void serial_putc(int c)
{
	if (!present)
		return;
	// Bounded wait: a stuck UART must not hang the kernel (or a panic).
	for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THR_EMPTY); i++)
		pause();
	outb(COM1 + UART_DATA, (uint8_t)c);
}

#define IER_RECEIVED_DATA 0x01

void serial_enable_interrupts(void)
{
	if (present)
		outb(COM1 + UART_IER, IER_RECEIVED_DATA);
}

int serial_getc(void)
{
	if (!present || !(inb(COM1 + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(COM1 + UART_DATA);
}
