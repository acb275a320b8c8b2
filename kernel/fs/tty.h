// The console as a terminal: the line discipline of a Unix tty in
// canonical mode. Input is edited a line at a time and echoed as it
// arrives; read returns a completed line (or the part of it asked for).
//
//   Enter      ends the line (a carriage return counts as a newline)
//   Backspace  erases the last character of the line (DEL too)
//   Ctrl-U     erases the whole line
//   Ctrl-D     ends the line without a newline; at the start of a line,
//              the end of input: read returns 0
//   Ctrl-C     discards the line, kills the foreground process group
//              (tty_set_foreground) and makes a read waiting for a
//              line return -EINTR; with no foreground group, the next
//              read too (the shell had printed its prompt but not yet
//              begun to read the line the Ctrl-C discarded)

#ifndef KERNEL_FS_TTY_H
#define KERNEL_FS_TTY_H

#include <stdint.h>

// At the console's interrupt: takes every character the UART holds.
void tty_interrupt(void);

// read and write for the console's open files (fs/file.c).
int64_t tty_read(uint64_t buf, uint64_t n);
int64_t tty_write(uint64_t buf, uint64_t n);

// The process group Ctrl-C kills (0: none). Returns 0, or -EINVAL.
int tty_set_foreground(int pgid);

#endif
