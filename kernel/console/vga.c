// VGA text console: a cell is a character byte and an attribute byte; the
// CRT controller's cursor location registers (index 0x0E/0x0F at port
// 0x3D4/0x3D5) move the hardware cursor.

#include <stdint.h>

#include "arch/x86.h"
#include "console/vga.h"
#include "lib/string.h"
#include "mm/memlayout.h"

#define VGA_TEXT_PHYS 0xB8000
#define COLS 80
#define ROWS 25
#define ATTR_GRAY_ON_BLACK 0x0700

#define CRTC_INDEX 0x3D4
#define CRTC_DATA  0x3D5
#define CRTC_CURSOR_HIGH 0x0E
#define CRTC_CURSOR_LOW  0x0F

static uint16_t *screen;
static int pos;                 // next cell to write, row * COLS + col

static void move_cursor(void)
{
	outb(CRTC_INDEX, CRTC_CURSOR_HIGH);
	outb(CRTC_DATA, (uint8_t)(pos >> 8));
	outb(CRTC_INDEX, CRTC_CURSOR_LOW);
	outb(CRTC_DATA, (uint8_t)pos);
}

void vga_init(void)
{
	screen = P2V(VGA_TEXT_PHYS);
	for (int i = 0; i < COLS * ROWS; i++)
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
		pos += COLS - pos % COLS;
		break;
	case '\r':
		pos -= pos % COLS;
		break;
	case '\b':
		if (pos % COLS > 0)
			screen[--pos] = ATTR_GRAY_ON_BLACK | ' ';
		break;
	default:
		screen[pos++] = ATTR_GRAY_ON_BLACK | (uint8_t)c;
		break;
	}
	if (pos >= COLS * ROWS) {
		memmove(screen, screen + COLS, (ROWS - 1) * COLS * sizeof(screen[0]));
		for (int i = (ROWS - 1) * COLS; i < ROWS * COLS; i++)
			screen[i] = ATTR_GRAY_ON_BLACK | ' ';
		pos -= COLS;
	}
	move_cursor();
}
