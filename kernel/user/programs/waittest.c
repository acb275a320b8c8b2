// waittest: waits that must last until their condition holds.
//   waittest family   a grandchild's exit is its own parent's to reap
//   waittest readers  two readers of one pipe, both woken by its first
//                     byte, must each get a byte (the second waits on);
//                     a read of 2 bytes of 3 gets 2
//   waittest wait     sleeps in wait for a child that reads the console
//   waittest pipe     sleeps reading a pipe whose writer reads the console
// The last two never end by themselves: lab4.kill_sleeper kills them.
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

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int status, fds[2];

	if (strcmp(mode, "family") == 0)
		return family();
	if (strcmp(mode, "readers") == 0)
		return readers();
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
	fprintf(2, "waittest: unknown mode '%s'\n", mode);
	return 2;
}
