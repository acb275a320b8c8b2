// sthreads [TOKEN [N]]: Wedge's sthreads (Bittau et al., NSDI 2008) on
// libdune, as in the Dune paper (sthread.h): three tags, a policy (tag 0
// shared read-write, tag 1 copy on write, tag 2 read-only, the rest of the
// process hidden), and sthreads that write them, read a secret of the
// process, write the read-only tag. Then N sthreads created, run and
// ended, timed against N fork + exit + wait.
#include "arch/x86.h"
#include "lib/printfmt.h"
#include "libdune/dune.h"
#include "sthread.h"
#include "ulib.h"

#define REGION STHREAD_REGION

uint64_t secret;                        // untagged: no sthread may read it

// -- what the sthreads do (ring 3) --

static void say(const char *s)
{
	write(1, s, strlen(s));
}

static void writer(uint64_t value)
{
	char line[128];

	*(volatile uint64_t *)(REGION + 0 * PGSIZE) = value;            // tag 0: shared
	*(volatile uint64_t *)(REGION + 1 * PGSIZE) = value << 4;       // tag 1: copy on write
	snprintf(line, sizeof(line), "sthreads: sthread: tag 0 now 0x%lx, tag 1 (its copy) 0x%lx, "
		 "tag 2 reads 0x%lx\n", *(volatile uint64_t *)REGION,
		 *(volatile uint64_t *)(REGION + PGSIZE), *(volatile uint64_t *)(REGION + 2 * PGSIZE));
	say(line);
	exit(0);
}

static void snooper(uint64_t arg)
{
	say("sthreads: sthread: reading the untagged secret\n");
	uint64_t v = *(volatile uint64_t *)&secret;
	exit((int)v);
}

static void scribbler(uint64_t arg)
{
	say("sthreads: sthread: writing the read-only tag\n");
	*(volatile uint64_t *)(REGION + 2 * PGSIZE) = arg;
	exit(3);
}

static void nothing(uint64_t arg)
{
	exit(0);
}

// A new sthread from tpl runs fn(arg) and ends: its status, or the
// error of sthread_create.
static int run_one(const struct sthread *tpl, void (*fn)(uint64_t), uint64_t arg)
{
	struct sthread c;
	int err = sthread_create(&c, tpl);

	if (err) {
		dune_printf("sthreads: sthread_create failed: %d\n", err);
		return err;
	}
	int ret = sthread_run(&c, fn, arg);
	sthread_free(&c);
	return ret;
}

int main(int argc, char **argv)
{
	uint64_t token = argc > 1 ? strtoul(argv[1], NULL, 0) : 0x1234;
	int n = argc > 2 ? (int)strtoul(argv[2], NULL, 0) : 20;
	int status;

	// fork + exit + wait, natively, first.
	uint64_t start = rdtsc();
	for (int i = 0; i < n; i++) {
		if (fork() == 0)
			exit(0);
		wait(&status);
	}
	uint64_t fork_cycles = (rdtsc() - start) / (uint64_t)n;

	secret = token ^ 0x5ec7e7;
	int err;
	if ((err = dune_init(false)) < 0 || (err = dune_enter()) < 0) {
		printf("sthreads: dune_init or dune_enter failed: %d\n", err);
		return 1;
	}
	size_t pool_before = dune_page_count();
	sthread_init();
	static const enum sthread_tag_mode modes[3] = { TAG_RW, TAG_COW, TAG_RO };
	for (int i = 0; i < 3; i++)
		if (sthread_tag_new(i) == 0) {
			dune_printf("sthreads: no memory for the tags\n");
			return 1;
		}
	*(volatile uint64_t *)(REGION + 1 * PGSIZE) = token ^ 1;
	*(volatile uint64_t *)(REGION + 2 * PGSIZE) = token ^ 2;
	struct sthread tpl;
	err = sthread_policy(&tpl, modes, 3);
	if (err) {
		dune_printf("sthreads: sthread_policy failed: %d\n", err);
		return 1;
	}
	dune_printf("sthreads: policy: tag 0 shared read-write, tag 1 copy on write, tag 2 "
		    "read-only; the rest hidden\n");

	int ret = run_one(&tpl, writer, token);
	dune_printf("sthreads: writer ended %d after %lu copy-on-write fault; the parent sees tag 0 "
		    "0x%lx, tag 1 0x%lx\n", ret, sthread_cow_faults, *(volatile uint64_t *)REGION,
		    *(volatile uint64_t *)(REGION + PGSIZE));
	ret = run_one(&tpl, snooper, 0);
	dune_printf("sthreads: snooper ended %d; the secret is still 0x%lx\n", ret, secret);
	ret = run_one(&tpl, scribbler, token);
	dune_printf("sthreads: scribbler ended %d; tag 2 still 0x%lx\n", ret,
		    *(volatile uint64_t *)(REGION + 2 * PGSIZE));

	start = rdtsc();
	for (int i = 0; i < n && run_one(&tpl, nothing, 0) == 0; i++)
		;
	uint64_t sthread_cycles = (rdtsc() - start) / (uint64_t)n;
	dune_printf("sthreads: %d sthreads created, run and ended: %lu cycles each; fork + exit + "
		    "wait: %lu cycles each: sthreads %s\n", n, sthread_cycles, fork_cycles,
		    sthread_cycles < fork_cycles ? "faster" : "slower");
	// Each tag: its own reference and the template's; every sthread's
	// went with it.
	uint32_t refs[3];
	for (int i = 0; i < 3; i++) {
		ptent_t *pte;
		dune_vm_lookup(pgroot, (void *)(REGION + i * PGSIZE), CREATE_NONE, &pte);
		refs[i] = dune_pa2page(PTE_ADDR(*pte))->ref;
	}
	dune_printf("sthreads: the tags' references after the sthreads ended: %u %u %u\n", refs[0],
		    refs[1], refs[2]);
	sthread_free(&tpl);
	sthread_tags_free(3);
	dune_printf("sthreads: pool pages in use: %ld more than before (the page table at REGION)\n",
		    (long)(dune_page_count() - pool_before));
	return 0;
}
