// VGA text console: a cell is a character byte and an attribute byte; the
// CRT controller's cursor location registers (index 0x0E/0x0F at port
// 0x3D4/0x3D5, the colour adapter's) move the hardware cursor.

#include <stdint.h>

#include "arch/x86.h"
#include "console/vga.h"
#include "lib/string.h"
#include "arch/memlayout.h"

#define ATTR_GRAY_ON_BLACK 0x0700

#define CRTC_INDEX 0x3D4
#define CRTC_DATA  0x3D5
#define CRTC_CURSOR_HIGH 0x0E
#define CRTC_CURSOR_LOW  0x0F

static uint16_t *screen;        // NULL until vga_init: no screen, no writes
static int cols, rows;
static int pos;                 // next cell to write, row * cols + col

static void move_cursor(void)
{
	outb(CRTC_INDEX, CRTC_CURSOR_HIGH);
	outb(CRTC_DATA, (uint8_t)(pos >> 8));
	outb(CRTC_INDEX, CRTC_CURSOR_LOW);
	outb(CRTC_DATA, (uint8_t)pos);
}

void vga_init(uint64_t phys, int ncols, int nrows)
{
	cols = ncols;
	rows = nrows;
	screen = P2V(phys);
	for (int i = 0; i < cols * rows; i++)
		screen[i] = ATTR_GRAY_ON_BLACK | ' ';
	pos = 0;
	move_cursor();
}

void vga_putc(int c)
{
	if (screen == NULL)
		return;
	switch (c) {
	case '\n':
		pos += cols - pos % cols;
		break;
	case '\r':
		pos -= pos % cols;
		break;
	case '\b':
		if (pos % cols > 0)
			screen[--pos] = ATTR_GRAY_ON_BLACK | ' ';
		break;
	default:
		screen[pos++] = ATTR_GRAY_ON_BLACK | (uint8_t)c;
		break;
	}
	if (pos >= cols * rows) {
		memmove(screen, screen + cols, (rows - 1) * cols * sizeof(screen[0]));
		for (int i = (rows - 1) * cols; i < rows * cols; i++)
			screen[i] = ATTR_GRAY_ON_BLACK | ' ';
		pos -= cols;
	}
	move_cursor();
}
