// ixbench UNIT [REQUESTS [CORES]]: the IX benchmark (run=bench.ix). A server on
// port 0 of the emulated 82599 under load from ixload (ix/apps) on port
// 1, the ports joined by the model's wire, each owned by a process of
// its own. The servers, one run each:
//   echo over IX   ixecho-libix (the echo in ring 3 over libix, the
//                  dataplane in ring 0 of the same Dune process), at
//                  batch limits 1, 4, 16 and 64
//   kv over IX     ixkvs-libix, the key-value server (memcached's
//                  protocol) likewise, at the same limits
//   echo native    ixecho and ixkvs (lwIP and the driver in an ordinary
//   kv native      process, every register access trapped by the
//                  kernel), at batch limit 1: the baseline
// and with CORES 2 (1 by default), the two IX servers again at batch
// limit 64 on two cores, under ixload on two cores (ixdp --cores=2).
// each under REQUESTS (3000) requests on CONNS connections: echo's of
// 64 bytes; the key-value server's 90% gets. One row a run: ixload's
// requests, rate and latencies (TSC ticks), the server thread's TSC
// ticks per request (SYS_clock's thread_cycles, the kernel's work for
// it included: VM exits, the emulated registers; all of its cores'
// threads), the emulated NIC's
// share of them (device_cycles: the model's DMA and wire, the work of a
// real NIC) and its crossings per request (IX only). Under Bochs the
// TSC counts instructions: UNIT, "instructions" or "cycles", says which
// (and ixload's tsc=). Then what batching saves the echo from batch
// limit 1 to batch limit 64: the ratios of the server's ticks per
// request, with and without the emulated NIC's share, and of its
// crossings per request; and the most any batching could save, from
// the echo's cost fitted as a cost a request plus a cost a crossing
// (fit_echo) (tools/tests/test_bench_ix.py checks them).
//
// Each program's output comes through a pipe, read by a thread of its
// own, and goes on to the console a whole line at a time; ixbench takes
// its numbers from those lines (ixload's and the servers' last lines).

#include <stdbool.h>
#include <stddef.h>

#include "ix/bench/fixed.h"
#include "lib/printfmt.h"
#include "ulib.h"

#define REQUESTS_DEFAULT 3000
#define CONNS "conns=32"        // ixload's most: a round fills a batch of 32 or more frames
#define SERVER_SECONDS "600"    // a bound only: the load's end= ends the server
#define LINE_MAX 256
#define STACK_SIZE (16 * 1024)

// A program ixbench runs, and the numbers its lines gave (0: none).
struct child {
	int pid;
	int fd;                 // the read end of its output's pipe
	int reader;             // the thread that reads it
	const char *ready_mark; // the start of the line that says it serves
	volatile bool ready;    // it printed that line
	volatile bool ended;    // its output ended
	uint64_t requests, per_second, p50, p99, p999;  // ixload's
	uint64_t ticks, nic_ticks, crossings;           // a server's
	char line[LINE_MAX];
	size_t len;
	char stack[STACK_SIZE] __attribute__((aligned(16)));
};

// A server ixbench runs: its program, the start of the line that says
// it serves, its port, and ixload's mode=, server= and end= for it.
struct server {
	const char *label;
	const char *program;
	const char *ready_mark;
	const char *port;
	const char *load_mode;
	const char *load_server;
	const char *load_end;
};

static const struct server echo_ix = {
	"echo over IX", "ixecho-libix", "ixdp: emulated port 0", "7",
	"mode=echo", "server=10.0.2.15:7", "end=quit",
};
static const struct server kv_ix = {
	"kv over IX", "ixkvs-libix", "ixdp: emulated port 0", "11211",
	"mode=memcached", "server=10.0.2.15:11211", "end=shutdown",
};
static const struct server kv_native = {
	"kv native", "ixkvs", "ixkvs: emulated port 0", "11211",
	"mode=memcached", "server=10.0.2.15:11211", "end=shutdown",
};
static const struct server echo_native = {
	"echo native", "ixecho", "ixecho: emulated port 0", "7",
	"mode=echo", "server=10.0.2.15:7", "end=quit",
};

// A row of the table.
struct row {
	const struct server *server;
	int batch;
	int cores;
	uint64_t requests, per_second, p50, p99, p999;
	uint64_t ticks, nic_ticks, crossings;
};

static const int batch_limits[] = { 1, 4, 16, 64 };
#define NLIMITS (int)(sizeof(batch_limits) / sizeof(batch_limits[0]))
#define ROWS_MAX (2 * NLIMITS + 4)
#define CORES_MAX 2

static struct child server, load;
static struct row rows[ROWS_MAX];
static int nrows;

// Where text begins in line, or NULL.
static const char *find(const char *line, const char *text)
{
	size_t n = strlen(text);

	for (const char *s = line; *s != '\0'; s++)
		if (strncmp(s, text, n) == 0)
			return s;
	return NULL;
}

// The number after "name " in line, where name begins line or follows a
// space: "p99 120" gives 120 for p99 (and "p99.9 7" nothing); 0 if none.
static uint64_t number_after(const char *line, const char *name)
{
	size_t n = strlen(name);

	for (const char *s = line; (s = find(s, name)) != NULL; s++)
		if ((s == line || s[-1] == ' ') && s[n] == ' ' && s[n + 1] >= '0' && s[n + 1] <= '9')
			return strtoul(s + n + 1, NULL, 10);
	return 0;
}

// The number before " name" in line ("1234 TSC ticks"); 0 if none.
static uint64_t number_before(const char *line, const char *name)
{
	for (const char *s = line; (s = find(s, name)) != NULL; s++) {
		const char *d = s - 1;
		if (d <= line || *d != ' ')
			continue;
		while (d > line && d[-1] >= '0' && d[-1] <= '9')
			d--;
		if (d < s - 1)
			return strtoul(d, NULL, 10);
	}
	return 0;
}

// One whole line of c's output: on to the console, its numbers kept
// (ixload's and the servers' lines: ix/apps/ixload.c, ix/dp/main.c,
// ix/apps/server.c).
static void take_line(struct child *c, char *line, size_t len)
{
	line[len] = '\n';
	write(1, line, len + 1);
	line[len] = '\0';
	if (strncmp(line, c->ready_mark, strlen(c->ready_mark)) == 0)
		c->ready = true;
	if (strncmp(line, "ixload: requests ", 17) == 0)
		c->requests = number_after(line, "requests");
	if (strncmp(line, "ixload: throughput ", 19) == 0)
		c->per_second = number_before(line, "requests/s");
	if (strncmp(line, "ixload: latency ", 16) == 0) {
		c->p50 = number_after(line, "p50");
		c->p99 = number_after(line, "p99");
		c->p999 = number_after(line, "p99.9");
	}
	if (find(line, "TSC ticks in this thread") != NULL ||
	    find(line, "TSC ticks in the cores' threads") != NULL) {
		c->ticks = number_before(line, "TSC ticks");
		c->nic_ticks = number_before(line, "of them in the emulated NIC");
		c->crossings = number_before(line, "crossings");
	}
}

// A reader thread: c's output, line by line, until its pipe ends. A
// line longer than LINE_MAX goes on in pieces.
static int read_output(void *arg)
{
	struct child *c = arg;
	char chunk[128];
	int64_t n;

	while ((n = read(c->fd, chunk, sizeof(chunk))) > 0) {
		for (int64_t i = 0; i < n; i++) {
			if (chunk[i] == '\n' || c->len == LINE_MAX - 1) {
				take_line(c, c->line, c->len);
				c->len = 0;
			}
			if (chunk[i] != '\n')
				c->line[c->len++] = chunk[i];
		}
	}
	if (c->len > 0)
		take_line(c, c->line, c->len);
	close(c->fd);
	c->ended = true;
	return 0;
}

// Makes fd `to` refer to the file of `from`.
static void redirect(int from, int to)
{
	close(to);
	if (dup(from) != to)
		fprintf(2, "ixbench: cannot redirect fd %d\n", to);
}

// Starts argv, its output (fds 1 and 2) into a pipe that a thread of
// ixbench reads (the child closes the read ends, or they would never
// see their end). Returns false after a line that says what failed.
static bool start(struct child *c, const char *ready_mark, char *const argv[])
{
	int fds[2];

	memset(c, 0, offsetof(struct child, stack));
	c->ready_mark = ready_mark;
	if (pipe(fds) < 0) {
		printf("ixbench: no pipe for %s\n", argv[0]);
		return false;
	}
	c->pid = fork();
	if (c->pid < 0) {
		printf("ixbench: cannot fork for %s: %s\n", argv[0], strerror(c->pid));
		return false;
	}
	if (c->pid == 0) {
		close(fds[0]);
		if (c == &load)
			close(server.fd);
		redirect(fds[1], 1);
		redirect(fds[1], 2);
		close(fds[1]);
		exec(argv[0], argv);
		fprintf(2, "ixbench: cannot run %s\n", argv[0]);
		exit(127);
	}
	close(fds[1]);
	c->fd = fds[0];
	c->reader = thread_create(read_output, c, c->stack, sizeof(c->stack));
	if (c->reader < 0) {
		printf("ixbench: no thread to read %s: %s\n", argv[0], strerror(c->reader));
		return false;
	}
	return true;
}

// Waits for the ends of both programs' output, then for both; sets
// their exit statuses (-1 if wait lost one).
static void finish(int *server_status, int *load_status)
{
	int value, status;

	join(load.reader, &value);
	join(server.reader, &value);
	*server_status = *load_status = -1;
	for (int pid, n = 0; n < 2 && (pid = wait(&status)) >= 0; n++) {
		if (pid == server.pid)
			*server_status = status;
		if (pid == load.pid)
			*load_status = status;
	}
}

// One run: r's server at its batch limit under ixload's requests (tsc=
// says what the TSC counts). Returns false after a line that says what
// went wrong.
static bool run(struct row *r, const char *tsc, uint64_t requests)
{
	const struct server *s = r->server;
	char batch[8], count[32], cores[16];

	snprintf(batch, sizeof(batch), "%d", r->batch);
	snprintf(count, sizeof(count), "requests=%lu", requests);
	snprintf(cores, sizeof(cores), "--cores=%d", r->cores);
	char *server_argv[] = { (char *)s->program, cores, "-b", batch, "10.0.2.15",
				(char *)s->port, SERVER_SECONDS, NULL };
	char **argv = server_argv;
	// The native servers take no --cores= (one thread): their arguments
	// start one later.
	if (s == &echo_native || s == &kv_native) {
		server_argv[1] = server_argv[0];
		argv = &server_argv[1];
	}
	char *load_argv[] = { "ixload", "--nic=1", cores, "10.0.2.16", "7", (char *)s->load_mode,
			      (char *)s->load_server, CONNS, count, (char *)tsc,
			      (char *)s->load_end, NULL };

	if (!start(&server, s->ready_mark, argv))
		return false;
	// The load starts once the server's receiver is on: its first
	// frames would be lost otherwise.
	while (!server.ready && !server.ended)
		sleep(1);
	if (!server.ready) {
		int value, status = -1;
		join(server.reader, &value);
		wait(&status);
		printf("ixbench: %s ended with status %d before it served\n", s->program, status);
		return false;
	}
	if (!start(&load, "ixload", load_argv))
		return false;
	int server_status, load_status;
	finish(&server_status, &load_status);
	if (load_status != 0 || server_status != 0 || load.requests != requests ||
	    server.ticks == 0) {
		printf("ixbench: %s at batch limit %d: ixload ended with status %d, %s with %d; "
		       "%lu of %lu requests, %lu server ticks\n", s->label, r->batch, load_status,
		       s->program, server_status, load.requests, requests, server.ticks);
		return false;
	}
	r->requests = load.requests;
	r->per_second = load.per_second;
	r->p50 = load.p50;
	r->p99 = load.p99;
	r->p999 = load.p999;
	r->ticks = server.ticks;
	r->nic_ticks = server.nic_ticks;
	r->crossings = server.crossings;
	return true;
}

// The table: a row a run.
static void print_table(const char *unit)
{
	char crossings[24];

	printf("bench.ix: latency (p50, p99, p99.9 of ixload's requests) and the server thread's "
	       "cost per request in %s; of that cost, the emulated NIC's own work (its DMA and "
	       "wire: no CPU's on a real 82599)\n", unit);
	printf("bench.ix: %-12s %5s %5s %8s %10s %9s %9s %9s %14s %11s %17s\n", "server", "cores",
	       "batch", "requests", "requests/s", "p50", "p99", "p99.9", "server/request",
	       "NIC/request", "crossings/request");
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		bool ix = r->server == &echo_ix || r->server == &kv_ix;
		printf("bench.ix: %-12s %5d %5d %8lu %10lu %9lu %9lu %9lu %14lu %11lu %17s\n",
		       r->server->label, r->cores, r->batch, r->requests, r->per_second, r->p50,
		       r->p99, r->p999, r->ticks / r->requests, r->nic_ticks / r->requests,
		       ix ? fixed2(crossings, sizeof(crossings), r->crossings, r->requests) : "-");
	}
}

// The echo's server cost over IX as a cost a request plus a cost a
// crossing, fitted by least squares over its runs at the batch limits
// (ticks = per_request * requests + per_crossing * crossings; every run
// has the same requests); cpu: without the emulated NIC's share. With
// no crossing at all, a request would still cost per_request: batch
// limit 1's cost over it is the most that any batching can save.
// Returns false if the runs' crossings do not differ.
static bool fit_echo(bool cpu, uint64_t *per_request, uint64_t *per_crossing)
{
	int64_t n = NLIMITS, sk = 0, st = 0, skk = 0, skt = 0;

	for (int i = 0; i < NLIMITS; i++) {
		const struct row *r = &rows[i];
		int64_t k = (int64_t)r->crossings, t = (int64_t)(r->ticks - (cpu ? r->nic_ticks : 0));
		sk += k, st += t, skk += k * k, skt += k * t;
	}
	int64_t d = n * skk - sk * sk;
	if (d == 0)
		return false;
	int64_t c = (n * skt - sk * st) / d, x = (st - c * sk) / n / (int64_t)rows[0].requests;
	if (c <= 0 || x <= 0)
		return false;
	*per_crossing = (uint64_t)c;
	*per_request = (uint64_t)x;
	return true;
}

// What batching saves the echo from batch limit 1 to 64, and the most
// it could (fit_echo).
static void print_ratios(const char *unit)
{
	// Every echo row has the same requests: the ticks' ratio is the
	// per-request one.
	const struct row *one = &rows[0], *most = &rows[NLIMITS - 1];
	uint64_t cpu_one = one->ticks - one->nic_ticks, x, c, cpu_x, cpu_c;
	char ratio[24], without_nic[24], crossings[24];

	printf("bench.ix: echo over IX from batch limit %d to %d: server %s per request fall "
	       "%sx, %sx without the emulated NIC's work; crossings per request %sx\n",
	       one->batch, most->batch, unit, fixed2(ratio, sizeof(ratio), one->ticks, most->ticks),
	       fixed2(without_nic, sizeof(without_nic), cpu_one, most->ticks - most->nic_ticks),
	       fixed2(crossings, sizeof(crossings), one->crossings, most->crossings));
	if (!fit_echo(false, &x, &c) || !fit_echo(true, &cpu_x, &cpu_c)) {
		printf("bench.ix: echo over IX: no fit of a cost a request and a cost a crossing\n");
		return;
	}
	printf("bench.ix: echo over IX as a cost a request plus a cost a crossing (least squares "
	       "over batch limits 1 to %d): %lu %s a request, %lu a crossing; %lu and %lu without "
	       "the emulated NIC's work\n", most->batch, x, unit, c, cpu_x, cpu_c);
	printf("bench.ix: echo over IX at no crossing a request (its cost a request alone): %sx "
	       "fewer %s than at batch limit 1, %sx without the emulated NIC's work: the most "
	       "any batching can save\n",
	       fixed2(ratio, sizeof(ratio), one->ticks, x * one->requests), unit,
	       fixed2(without_nic, sizeof(without_nic), cpu_one, cpu_x * one->requests));
}

int main(int argc, char **argv)
{
	const char *unit = argc > 1 ? argv[1] : "cycles";
	const char *end = "", *cores_end = "";
	uint64_t requests = argc > 2 ? strtoul(argv[2], &end, 10) : REQUESTS_DEFAULT;
	unsigned long cores = argc > 3 ? strtoul(argv[3], &cores_end, 10) : 1;
	char tsc[32];

	if ((strcmp(unit, "cycles") != 0 && strcmp(unit, "instructions") != 0) || *end != '\0' ||
	    requests == 0 || *cores_end != '\0' || cores < 1 || cores > CORES_MAX) {
		printf("usage: ixbench cycles|instructions [REQUESTS [CORES (1 or 2)]]\n");
		return 100;
	}
	snprintf(tsc, sizeof(tsc), "tsc=%s", unit);
	for (int i = 0; i < NLIMITS; i++) {
		rows[i] = (struct row){ .server = &echo_ix, .batch = batch_limits[i], .cores = 1 };
		rows[NLIMITS + i] = (struct row){ .server = &kv_ix, .batch = batch_limits[i],
						  .cores = 1 };
	}
	nrows = 2 * NLIMITS;
	rows[nrows++] = (struct row){ .server = &echo_native, .batch = 1, .cores = 1 };
	rows[nrows++] = (struct row){ .server = &kv_native, .batch = 1, .cores = 1 };
	if (cores > 1) {
		int most = batch_limits[NLIMITS - 1];
		rows[nrows++] = (struct row){ .server = &echo_ix, .batch = most, .cores = (int)cores };
		rows[nrows++] = (struct row){ .server = &kv_ix, .batch = most, .cores = (int)cores };
	}
	for (int i = 0; i < nrows; i++) {
		printf("ixbench: run %d of %d: %s, %d core%s, batch limit %d, %lu requests\n", i + 1,
		       nrows, rows[i].server->label, rows[i].cores, rows[i].cores > 1 ? "s" : "",
		       rows[i].batch, requests);
		if (!run(&rows[i], tsc, requests))
			return 1;
	}
	print_table(unit);
	print_ratios(unit);
	return 0;
}
