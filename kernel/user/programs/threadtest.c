// threadtest THREADS INCREMENTS: THREADS threads add INCREMENTS each to
// one counter in the memory they share, and each returns its own value
// to join. Then the rest of what threads share and how they end: a pipe
// one thread opens is the others' too; join's errors; a child forked by
// a thread is the process's to wait for; exec is refused
// while there are other threads; exit or a fault in
// any thread ends the whole process; and a thread running on another CPU
// faults as soon as mprotect or munmap returns (the TLB shootdown reached
// its CPU). The cases that end a process run in children, one each.
#include <stdbool.h>

#include "arch/memlayout.h"
#include "ulib.h"

#define MAX_THREADS 8
#define STACK_SIZE (4 * PAGE_SIZE)
#define PAGE_VA 0x60000000ul    // the page the shootdown cases change

static char stacks[MAX_THREADS][STACK_SIZE] __attribute__((aligned(16)));
static uint64_t counter, increments;
static volatile int started, go;
static int fds[2];

static int add(void *arg)
{
	for (uint64_t i = 0; i < increments; i++)
		__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
	return 100 + (int)(uint64_t)arg;
}

static int start(int (*fn)(void *), int i, void *arg)
{
	return thread_create(fn, arg, stacks[i], STACK_SIZE);
}

static void result(const char *what, int64_t value)
{
	printf("threadtest: %s = %ld\n", what, value);
}

static void shared_memory(int nthreads)
{
	int tids[MAX_THREADS];

	for (int i = 0; i < nthreads; i++)
		tids[i] = start(add, i, (void *)(uint64_t)i);
	for (int i = 0; i < nthreads; i++) {
		int value = -1;
		int err = join(tids[i], &value);
		printf("threadtest: thread %d: join = %d, value %d\n", i, err, value);
	}
	printf("threadtest: counter %lu\n", counter);
}

static int open_pipe(void *arg)
{
	(void)arg;
	return pipe(fds);
}

static int close_write_end(void *arg)
{
	(void)arg;
	return close(fds[1]);
}

// A descriptor one thread opens or closes is opened or closed for all.
static void shared_files(void)
{
	char buf[8] = { 0 };
	int value;

	join(start(open_pipe, 0, NULL), &value);
	result("pipe in a thread", value);
	result("write in the first thread", write(fds[1], "shared", 6));
	result("read", read(fds[0], buf, sizeof(buf) - 1));
	printf("threadtest: read \"%s\"\n", buf);
	join(start(close_write_end, 0, NULL), &value);
	result("close in a thread", value);
	result("write to the closed end", write(fds[1], "x", 1));
	result("read at the end", read(fds[0], buf, 1));
	close(fds[0]);
}

static int seven(void *arg)
{
	(void)arg;
	return 7;
}

static int fork_exit_5(void *arg)
{
	(void)arg;
	int pid = fork();
	if (pid == 0)
		exit(5);
	return pid;
}

// A child that a thread forks is the process's: the first thread's wait
// reaps it.
static void fork_in_a_thread(void)
{
	int pid = -1, status = -1;

	if (join(start(fork_exit_5, 0, NULL), &pid) < 0 || pid < 0) {
		printf("threadtest: fork in a thread failed: %d\n", pid);
		return;
	}
	int got = wait(&status);
	printf("threadtest: fork in a thread: wait got that child: %s, status %d\n",
	       got == pid ? "yes" : "no", status);
}

static void join_errors(void)
{
	int value = 0;
	int tid = start(seven, 0, NULL);

	result("join(bad pointer)", join(tid, (int *)0xFFFF800000000000ul));
	result("join after it", join(tid, &value));
	result("the value", value);
	result("join again", join(tid, &value));
	result("join(itself)", join(getpid(), &value));
	result("join(no such thread)", join(-1, &value));
	int pid = fork();
	if (pid == 0)
		exit(0);
	result("join(a child process)", join(pid, &value));
	wait(NULL);
	result("clone(kernel address)", clone((void *)0xFFFFFFFF80000000ul, stacks[0], NULL));
	result("clone(non-canonical stack)", clone((void *)seven, (void *)0x0000900000000000ul, NULL));
}

static int read_one(void *arg)
{
	char c = 0;

	(void)arg;
	read(fds[0], &c, 1);
	return c;
}

// exec with another thread alive (blocked in read) is refused.
static void exec_with_a_thread(void)
{
	char *argv[] = { "hello", NULL };
	int value = 0;

	pipe(fds);
	int tid = start(read_one, 0, NULL);
	result("exec with a thread", exec("hello", argv));
	write(fds[1], "x", 1);
	join(tid, &value);
	result("the thread read", value);
	close(fds[0]);
	close(fds[1]);
}

static int exit_42(void *arg)
{
	(void)arg;
	exit(42);
}

static int write_null(void *arg)
{
	(void)arg;
	*(volatile int *)0 = 1;
	return 0;
}

// Keeps writing the page (so that its CPU caches a writable, dirty
// translation) until told to go, then writes it once more, which must
// fault: the page changed under it.
static int keep_writing(void *arg)
{
	volatile uint64_t *page = (uint64_t *)PAGE_VA;

	(void)arg;
	(*page)++;
	started = 1;
	while (!go)
		(*page)++;
	page[1] = 1;
	return 0;
}

// Runs how in a child process and prints how the child ended.
static void in_child(const char *what, void (*how)(void))
{
	int status;

	if (fork() == 0) {
		how();
		exit(0);
	}
	wait(&status);
	printf("threadtest: %s: the process ended with status %d\n", what, status);
}

static void spin_while_a_thread_exits(void)
{
	start(exit_42, 0, NULL);
	for (;;)
		;
}

static void spin_while_a_thread_faults(void)
{
	start(write_null, 0, NULL);
	for (;;)
		;
}

// Maps the page, starts the writer and waits for it to run; then changes
// the page with change and lets the writer go. Its fault ends the
// process; if it survives, the process ends with status 99.
static void under_a_writer(void (*change)(void))
{
	int value;

	map((void *)PAGE_VA, PAGE_SIZE, PROT_READ | PROT_WRITE);
	int tid = start(keep_writing, 0, NULL);
	while (!started)
		;       // no yield: the writer starts on another CPU where there is one
	change();
	go = 1;
	join(tid, &value);
	exit(99);
}

static void protect(void)
{
	mprotect((void *)PAGE_VA, PAGE_SIZE, PROT_READ);
}

static void unmap(void)
{
	munmap((void *)PAGE_VA, PAGE_SIZE);
}

static void protect_under_a_writer(void)
{
	under_a_writer(protect);
}

static void unmap_under_a_writer(void)
{
	under_a_writer(unmap);
}

int main(int argc, char **argv)
{
	int nthreads = argc == 3 ? (int)strtoul(argv[1], NULL, 0) : 0;

	if (nthreads < 1 || nthreads > MAX_THREADS) {
		printf("threadtest: usage: threadtest THREADS(1-%d) INCREMENTS\n", MAX_THREADS);
		return 1;
	}
	increments = strtoul(argv[2], NULL, 0);
	shared_memory(nthreads);
	shared_files();
	join_errors();
	fork_in_a_thread();
	exec_with_a_thread();
	in_child("exit in a thread", spin_while_a_thread_exits);
	in_child("a fault in a thread", spin_while_a_thread_faults);
	in_child("mprotect under a running thread", protect_under_a_writer);
	in_child("munmap under a running thread", unmap_under_a_writer);
	return 0;
}
