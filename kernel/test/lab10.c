// Lab 10 self-tests: the IX dataplane. lab10.echo runs ixecho (ix/apps:
// lwIP's TCP on the ixgbe driver, in user space) on port 0 of the
// emulated 82599, bridged to the e1000, for tools/tests/test_ix.py's
// clients on the host machine; lab10.kvs runs ixkvs, the key-value
// server, there for tools/tests/test_kvs.py's memcached clients;
// lab10.ixecho the same echo as an IX application
// (ix/apps/ixecho_libix.c) in ring 3 over libix, with the dataplane in
// ring 0 of its Dune process (VT-x); lab10.ixkvs the key-value server
// likewise (ix/apps/kvs_libix.c, on ixev). lab10.load joins two
// processes by the model's internal wire, without the bridge: a server
// on port 0 and ixload, the load generator, on port 1 (load.h);
// lab10.migrate the same on two cores each while the kernel, IX's
// control plane, moves ixload's flow groups between its cores.

#include <stddef.h>

#include "boot/cmdline.h"
#include "clock/clock.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/sysnum.h"
#include "lib/printfmt.h"
#include "platform/platform.h"
#include "proc/exec.h"
#include "proc/proc.h"
#include "test/bridge.h"
#include "test/ktest.h"
#include "test/load.h"
#include "vmx/dev/nic.h"

#define LOAD_CLIENTS_MAX 4      // clients of one load_check

KTEST(lab10_echo, "lab10.echo", STAGE_SMP,
      "port 0 of the emulated 82599 bridged to the e1000: ixecho (lwIP's TCP echo on the "
      "ixgbe driver) at ip= port= until 'quit' or seconds=");
static void lab10_echo(void)
{
	bridge_serve("lab10.echo", "ixecho", "7", NULL);
}

KTEST(lab10_kvs, "lab10.kvs", STAGE_SMP,
      "port 0 of the emulated 82599 bridged to the e1000: ixkvs (memcached's text protocol on "
      "lwIP and the ixgbe driver) at ip= port= (11211) with time= (the Unix time) until "
      "'shutdown' or seconds=");
static void lab10_kvs(void)
{
	bridge_serve("lab10.kvs", "ixkvs", "11211", cmdline_get("time"));
}

KTEST(lab10_ixecho, "lab10.ixecho", STAGE_VMX,
      "ixecho-libix: ixecho as an IX application in ring 3 over libix, the dataplane (driver "
      "and lwIP) in ring 0 of the same Dune process, on port 0 of the emulated 82599 bridged "
      "to the e1000; ip= port= until 'quit' or seconds=");
static void lab10_ixecho(void)
{
	bridge_serve("lab10.ixecho", "ixecho-libix", "7", NULL);
}

KTEST(lab10_ixkvs, "lab10.ixkvs", STAGE_VMX,
      "ixkvs-libix: ixkvs as an IX application in ring 3 on ixev over libix, the dataplane "
      "in ring 0 of the same Dune process, on port 0 of the emulated 82599 bridged to the "
      "e1000; ip= port= (11211) with time= (the Unix time) until 'shutdown' or seconds=");
static void lab10_ixkvs(void)
{
	bridge_serve("lab10.ixkvs", "ixkvs-libix", "11211", cmdline_get("time"));
}

// ixprobe's probes (ix/apps/ixprobe.c), in the order they run, and the
// status each must end with: 0 (every check passed), or 3, the
// dataplane's own when it stopped the application for a fault.
static const struct {
	const char *probe;
	int status;
} ixprobes[] = {
	{ "commands", 0 }, { "rx-write", 3 }, { "dp-write", 3 }, { "dp-read", 3 },
	{ "privileged", 3 },
};

KTEST(lab10_ixprobe, "lab10.ixprobe", STAGE_VMX,
      "ixprobe once per probe on the bridge: bad commands refused with error events, and "
      "ring 3's writes to a received buffer, accesses to the dataplane's memory and a "
      "privileged instruction stopped");
static void lab10_ixprobe(void)
{
	bridge_attach("lab10.ixprobe");
	for (size_t i = 0; i < sizeof(ixprobes) / sizeof(ixprobes[0]); i++) {
		int status = bridge_run("ixprobe", "7", ixprobes[i].probe);
		printk("lab10.ixprobe: probe %s: ixprobe ended with status %d\n",
		       ixprobes[i].probe, status);
		if (status != ixprobes[i].status)
			panic("lab10.ixprobe: probe %s: ixprobe ended with status %d, not %d",
			      ixprobes[i].probe, status, ixprobes[i].status);
	}
	bridge_report();
}

// -- lab10.load --

// Starts argv (NULL-terminated).
static struct proc *start(char *const argv[])
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return proc_spawn_started(argv, argc);
}

static bool port0_receiving(void)
{
	return nic_receiving(0);
}

// -- lab10.options --

// ixdp's options (ix/dp/main.c), each wrong.
static char *const bad_options[][3] = {
	{ "--cores=9" }, { "--keepalive=0" }, { "--keepalive=soon" }, { "-b", "65" }, { "-b" },
	{ "--nic=2" }, { "10.0.2" },
};

KTEST(lab10_options, "lab10.options", STAGE_SMP,
      "ixecho-libix with each of ixdp's options wrong (the cores, keep-alive's time, the "
      "batch limit, the port, the address): the dataplane says what is wrong and ends with "
      "status 100 before it takes the NIC");
static void lab10_options(void)
{
	size_t n = sizeof(bad_options) / sizeof(bad_options[0]);

	for (size_t i = 0; i < n; i++) {
		char *const *o = bad_options[i];
		char *argv[] = { "ixecho-libix", o[0], o[1], NULL };
		int status = proc_wait_report(start(argv));
		printk("lab10.options: %s%s%s: status %d\n", o[0], o[1] ? " " : "", o[1] ? o[1] : "",
		       status);
		if (status != 100)
			panic("lab10.options: ixecho-libix %s ended with status %d, not 100", o[0],
			      status);
	}
	printk("lab10.options: %zu wrong options, each refused\n", n);
}

void load_run(const char *test, char *const server[], char *const *const clients[], int n,
	      int status[])
{
	struct proc *s = start(server);
	bool up = proc_run_kernel_until(s, port0_receiving);

	if (!up)
		printk("%s: %s ended before port 0 was up; no client started\n", test, server[0]);
	for (int i = 0; i < n; i++)
		status[1 + i] = up ? proc_wait_report(start(clients[i])) : -1;
	status[0] = proc_wait_report(s);
}

void load_pair(const char *test, char *const server[], char *const client[],
	       int *server_status, int *client_status)
{
	int status[2];

	load_run(test, server, &client, 1, status);
	*server_status = status[0];
	*client_status = status[1];
}

// load_run, then each status printed; panics, naming test, unless the
// server ends with status 0 and each client with want[i] (ixload's 0:
// every request answered as expected).
static void load_check(const char *test, char *const server[], char *const *const clients[],
		       int n, const int want[])
{
	int status[1 + LOAD_CLIENTS_MAX];
	bool ok;

	if (n > LOAD_CLIENTS_MAX)
		panic("%s: %d clients, more than %d", test, n, LOAD_CLIENTS_MAX);
	load_run(test, server, clients, n, status);
	printk("%s: %s ended with status %d\n", test, server[0], status[0]);
	ok = status[0] == 0;
	for (int i = 0; i < n; i++) {
		printk("%s: client %d (%s) ended with status %d\n", test, i + 1, clients[i][0],
		       status[1 + i]);
		ok = ok && status[1 + i] == want[i];
	}
	if (!ok)
		panic("%s: the server must end with status 0, and the clients with the statuses "
		      "the test expects", test);
}

#define KEEPALIVE_SERVER_SECONDS "12"    // the vanished client's connections die in about 5

KTEST(lab10_load, "lab10.load", STAGE_VMX,
      "ixload (ix/apps/ixload.c) on port 1 of the emulated 82599 against a server on port 0, "
      "over the internal wire: ixecho-libix (echo, size=), then ixkvs (memcached, get= "
      "percent, keys=), with conns=, requests= and seed=, each run checked (status 0); then "
      "connects to a port nobody listens on, refused; then a client that vanishes with its "
      "connections open, which the server's keep-alive aborts");
static void lab10_load(void)
{
	char conns[24], requests[32], seed[32], size[24], get[16], keys[24], cores[24];
	char *tsc = platform_is_bochs() ? "tsc=instructions" : "tsc=cycles";
	static const int ok[] = { 0 }, refused_then_ok[] = { 1, 0 };

	snprintf(conns, sizeof(conns), "conns=%lu", cmdline_get_u64("conns", 8));
	snprintf(requests, sizeof(requests), "requests=%lu", cmdline_get_u64("requests", 400));
	snprintf(seed, sizeof(seed), "seed=%lu", cmdline_get_u64("seed", 1));
	snprintf(size, sizeof(size), "size=%lu", cmdline_get_u64("size", 64));
	snprintf(get, sizeof(get), "get=%lu", cmdline_get_u64("get", 80));
	snprintf(keys, sizeof(keys), "keys=%lu", cmdline_get_u64("keys", 200));
	snprintf(cores, sizeof(cores), "--cores=%lu", cmdline_get_u64("cores", 1));

	char *echo_server[] = { "ixecho-libix", cores, "10.0.2.15", "7", "60", NULL };
	char *echo_client[] = { "ixload", "--nic=1", cores, "10.0.2.16", "7", "mode=echo",
				"server=10.0.2.15:7", conns, requests, seed, size, tsc, "end=quit",
				NULL };
	char *const *echo[] = { echo_client };
	load_check("lab10.load: echo", echo_server, echo, 1, ok);

	char *kvs_server[] = { "ixkvs", "10.0.2.15", "11211", "60", NULL };
	char *kvs_client[] = { "ixload", "--nic=1", "10.0.2.16", "7", "mode=memcached",
			       "server=10.0.2.15:11211", conns, requests, seed, get, keys, tsc,
			       "end=shutdown", NULL };
	char *const *kvs[] = { kvs_client };
	load_check("lab10.load: memcached", kvs_server, kvs, 1, ok);

	// Port 9 has no listener: the server's lwIP answers each SYN with a
	// RST, each connect fails (status 1); a second client ends the server.
	char *refused_client[] = { "ixload", "--nic=1", "10.0.2.16", "7", "server=10.0.2.15:9",
				   "conns=2", "requests=2", tsc, NULL };
	char *quit_client[] = { "ixload", "--nic=1", "10.0.2.16", "7", "server=10.0.2.15:7",
				"conns=1", "requests=1", tsc, "end=quit", NULL };
	char *const *refused[] = { refused_client, quit_client };
	load_check("lab10.load: refused", echo_server, refused, 2, refused_then_ok);

	// A client vanishes with its connections open (end=vanish: its port
	// goes off with it, nothing more comes from it); the server probes
	// them after a second of silence and, unanswered, aborts them all
	// before its time is up (tools/tests/test_ix.py counts them).
	char *keepalive_server[] = { "ixecho-libix", "--keepalive=1000", "10.0.2.15", "7",
				     KEEPALIVE_SERVER_SECONDS, NULL };
	char *vanish_client[] = { "ixload", "--nic=1", "10.0.2.16", "7", "server=10.0.2.15:7",
				  "conns=4", "requests=8", "size=4", tsc, "end=vanish", NULL };
	char *const *vanish[] = { vanish_client };
	load_check("lab10.load: keep-alive", keepalive_server, vanish, 1, ok);
	printk("lab10.load: echo, memcached, refused connects and keep-alive: every status as "
	       "expected\n");
}

// -- lab10.migrate --

#define MIGRATE_PORT 1          // ixload's
#define MIGRATE_CORES 2
#define MIGRATE_FLOW_GROUPS 16  // ix/dp/fg.h's FG_COUNT

static struct {
	uint64_t moves_max;     // moves= (the run ends first if ixload is done)
	uint64_t every;         // ticks between two moves (every=)
	uint64_t posted;        // moves posted
	uint64_t answered;      // moves the dataplane has carried out or refused
	uint64_t failed;        // moves the dataplane refused
	uint64_t last;          // ticks at the last post
} migrate;

// proc_run_kernel_until's ready(), the control plane: once the last
// move is carried out and migrate.every ticks have passed, posts the
// next. Move k takes flow group k % 16 to core (fg + 1 + k / 16) % 2: each
// pass over the flow groups moves each to the core it was not on. Never
// ready: the run goes on until ixload ends.
static bool migrate_step(void)
{
	int result = nic_ctl_result(MIGRATE_PORT);

	if (result == 1)
		return false;
	if (migrate.answered < migrate.posted) {
		migrate.answered++;
		migrate.failed += result < 0;
	}
	if (migrate.posted == migrate.moves_max || ticks - migrate.last < migrate.every)
		return false;
	uint64_t k = migrate.posted, fg = k % MIGRATE_FLOW_GROUPS;
	uint32_t core = (uint32_t)((fg + 1 + k / MIGRATE_FLOW_GROUPS) % MIGRATE_CORES);
	if (nic_ctl(MIGRATE_PORT, NIC_CTL_MOVE, (uint32_t)fg, core) == 0) {
		migrate.posted++;
		migrate.last = ticks;
	}
	return false;
}

KTEST(lab10_migrate, "lab10.migrate", STAGE_VMX,
      "ixecho-libix and ixload (mode=echo, conns=, requests=, seed=, size=) on two cores each "
      "(two CPUs: --smp 2), while the kernel moves ixload's flow groups between its cores, "
      "up to moves= times, one every every= ticks; both must end with status 0 (every "
      "request answered and checked, no connection lost)");
static void lab10_migrate(void)
{
	char conns[24], requests[32], seed[32], size[24], cores[24];
	char *tsc = platform_is_bochs() ? "tsc=instructions" : "tsc=cycles";

	snprintf(conns, sizeof(conns), "conns=%lu", cmdline_get_u64("conns", 8));
	snprintf(requests, sizeof(requests), "requests=%lu", cmdline_get_u64("requests", 2000));
	snprintf(seed, sizeof(seed), "seed=%lu", cmdline_get_u64("seed", 1));
	snprintf(size, sizeof(size), "size=%lu", cmdline_get_u64("size", 64));
	snprintf(cores, sizeof(cores), "--cores=%d", MIGRATE_CORES);
	migrate.moves_max = cmdline_get_u64("moves", 64);
	migrate.every = cmdline_get_u64("every", 1);

	char *server[] = { "ixecho-libix", cores, "10.0.2.15", "7", "120", NULL };
	char *client[] = { "ixload", "--nic=1", cores, "10.0.2.16", "7", "mode=echo",
			   "server=10.0.2.15:7", conns, requests, seed, size, tsc, "seconds=120",
			   "end=quit", NULL };
	struct proc *s = start(server);
	if (!proc_run_kernel_until(s, port0_receiving))
		panic("lab10.migrate: ixecho-libix ended before port 0 was up");
	struct proc *c = start(client);
	proc_run_kernel_until(c, migrate_step);
	int client_status = proc_wait_report(c);
	int server_status = proc_wait_report(s);
	printk("lab10.migrate: %lu moves posted, %lu seen carried out, %lu refused; "
	       "ixload ended with status %d, ixecho-libix with status %d\n", migrate.posted,
	       migrate.answered, migrate.failed, client_status, server_status);
	if (client_status != 0 || server_status != 0 || migrate.failed != 0 ||
	    migrate.posted < MIGRATE_FLOW_GROUPS)
		panic("lab10.migrate: both must end with status 0 after at least %d moves, none "
		      "refused", MIGRATE_FLOW_GROUPS);
}
