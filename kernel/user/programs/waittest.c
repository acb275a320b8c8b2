// waittest: waits that must last until their condition holds.
//   waittest family   a grandchild's exit is its own parent's to reap
//   waittest readers  two readers of one pipe, both woken by its first
//                     byte, must each get a byte (the second waits on);
//                     a read of 2 bytes of 3 gets 2
//   waittest writers  a write with no reader, one that fills the pipe
//                     exactly, one longer than the pipe, one whose reader
//                     leaves in the middle, one of no bytes, one of a
//                     byte to a reader that answers before the pipe closes
//   waittest wait     sleeps in wait for a child that reads the console
//   waittest pipe     sleeps reading a pipe whose writer reads the console
//   waittest full     sleeps writing to a full pipe that it never reads
// The last three never end by themselves: lab4.kill_sleeper kills them.
#include "ulib.h"

static void read_console(void)
{
	char c;

	read(0, &c, 1);
	exit(0);
}

static int family(void)
{
	int status;

	if (fork() == 0) {
		if (fork() == 0)
			exit(7);
		// Give the grandparent every chance to take the grandchild.
		for (int i = 0; i < 200; i++)
			yield();
		exit(wait(&status) > 0 ? status + 1 : 100);
	}
	// The grandchild is a zombie by now, its parent not yet waiting.
	for (int i = 0; i < 20; i++)
		yield();
	if (wait(&status) < 0)
		return 1;
	printf("waittest: child status %d, then %d\n", status, wait(&status));
	return 0;
}

static int readers(void)
{
	int fds[2], status, got = 0;

	if (pipe(fds) < 0)
		return 1;
	for (int i = 0; i < 2; i++) {
		if (fork() == 0) {
			char c;
			close(fds[1]);
			exit((int)read(fds[0], &c, 1));
		}
	}
	close(fds[0]);
	// Both readers asleep on the empty pipe, then one byte at a time.
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 50; j++)
			yield();
		write(fds[1], "x", 1);
	}
	close(fds[1]);
	while (wait(&status) > 0)
		got += status;
	// A read takes no more than it asks for, however much is there.
	char buf[3];
	if (pipe(fds) < 0)
		return 1;
	write(fds[1], "abc", 3);
	printf("waittest: two readers got %d bytes; a read of 2 of 3 got %d\n", got,
	       (int)read(fds[0], buf, 2));
	return 0;
}

#define PIPE_BYTES 512         // the kernel's pipe buffer (fs/pipe.c)
#define LONG_WRITE 3000
#define READER_TAKES 600

static char pattern[LONG_WRITE];

// Reads up to limit bytes of pattern from fd in pieces of 100; exits 0 if
// it got them in order and then the end (limit larger than what comes),
// 1 if it got limit bytes in order, 2 otherwise.
static void read_pattern(int fd, int limit)
{
	static char buf[100];
	int got = 0;
	int64_t n;

	while (got < limit) {
		int want = limit - got < (int)sizeof(buf) ? limit - got : (int)sizeof(buf);
		if ((n = read(fd, buf, want)) <= 0)
			break;
		for (int64_t i = 0; i < n; i++)
			if (buf[i] != pattern[got + i])
				exit(2);
		got += (int)n;
	}
	exit(got == limit ? 1 : got == LONG_WRITE ? 0 : 2);
}

// A reader asleep on an empty pipe must be woken by a write of one byte
// that neither fills the pipe nor closes it: the writer then waits for
// the reader's answer on a second pipe.
static int short_write(void)
{
	int there[2], back[2], status;
	char c = '?';

	if (pipe(there) < 0 || pipe(back) < 0)
		return 1;
	if (fork() == 0) {
		close(there[1]);
		close(back[0]);
		if (read(there[0], &c, 1) == 1)
			write(back[1], &c, 1);
		exit(0);
	}
	close(there[0]);
	close(back[1]);
	for (int i = 0; i < 50; i++)
		yield();                // the reader asleep by now
	write(there[1], "k", 1);
	read(back[0], &c, 1);
	printf("waittest: a short write woke the reader, which answered '%c'\n", c);
	close(there[1]);
	close(back[0]);
	wait(&status);
	return 0;
}

static int writers(void)
{
	int fds[2], status;
	static char back[PIPE_BYTES];

	for (int i = 0; i < LONG_WRITE; i++)
		pattern[i] = (char)(i * 13 + 5);
	if (pipe(fds) < 0)
		return 1;
	close(fds[0]);
	printf("waittest: write with no reader = %d\n", (int)write(fds[1], "x", 1));
	close(fds[1]);
	// A pipe holds PIPE_BYTES: a write of that many returns at once.
	if (pipe(fds) < 0)
		return 1;
	printf("waittest: write of %d bytes to an empty pipe = %d\n", PIPE_BYTES,
	       (int)write(fds[1], pattern, PIPE_BYTES));
	int n = 0;
	for (int64_t k; n < PIPE_BYTES && (k = read(fds[0], back + n, PIPE_BYTES - n)) > 0;)
		n += (int)k;
	printf("waittest: read them back: %d bytes, in order: %s\n", n,
	       n == PIPE_BYTES && memcmp(back, pattern, PIPE_BYTES) == 0 ? "yes" : "no");
	printf("waittest: write of no bytes = %d\n", (int)write(fds[1], pattern, 0));
	close(fds[0]);
	close(fds[1]);
	// Longer than the pipe: the writer waits for the reader, chunk by chunk.
	if (pipe(fds) < 0)
		return 1;
	if (fork() == 0) {
		close(fds[1]);
		read_pattern(fds[0], LONG_WRITE + 1);
	}
	close(fds[0]);
	int64_t w = write(fds[1], pattern, LONG_WRITE);
	close(fds[1]);
	status = -1;
	wait(&status);
	printf("waittest: write of %d bytes = %d; the reader got them in order: %s\n", LONG_WRITE,
	       (int)w, status == 0 ? "yes" : "no");
	// The reader leaves after READER_TAKES bytes: the writer, asleep on a
	// full pipe, wakes and gets what went in; its next write gets EPIPE.
	if (pipe(fds) < 0)
		return 1;
	if (fork() == 0) {
		close(fds[1]);
		read_pattern(fds[0], READER_TAKES);
	}
	close(fds[0]);
	w = write(fds[1], pattern, LONG_WRITE);
	status = -1;
	wait(&status);
	printf("waittest: the reader took %d bytes and left: the write got %s, then %d\n",
	       status == 1 ? READER_TAKES : -1,
	       w >= READER_TAKES && w <= READER_TAKES + PIPE_BYTES ? "what went in" : "a wrong count",
	       (int)write(fds[1], pattern, 1));
	close(fds[1]);
	return short_write();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int status, fds[2];

	if (strcmp(mode, "family") == 0)
		return family();
	if (strcmp(mode, "readers") == 0)
		return readers();
	if (strcmp(mode, "writers") == 0)
		return writers();
	if (strcmp(mode, "wait") == 0) {
		if (fork() == 0)
			read_console();
		wait(&status);
		return 1;
	}
	if (strcmp(mode, "pipe") == 0) {
		char c;
		if (pipe(fds) < 0)
			return 1;
		if (fork() == 0)
			read_console();
		close(fds[1]);
		read(fds[0], &c, 1);
		return 1;
	}
	if (strcmp(mode, "full") == 0) {
		if (pipe(fds) < 0)
			return 1;
		write(fds[1], pattern, PIPE_BYTES + 1);
		return 1;
	}
	fprintf(2, "waittest: unknown mode '%s'\n", mode);
	return 2;
}
