// Lab 10 self-tests: the IX dataplane. lab10.echo runs ixecho (ix/apps:
// lwIP's TCP on the ixgbe driver, in user space) on port 0 of the
// emulated 82599, bridged to the e1000, for tools/tests/test_ix.py's
// clients on the host machine; lab10.kvs runs ixkvs, the key-value
// server, there for tools/tests/test_kvs.py's memcached clients;
// lab10.ixecho the same echo as an IX application
// (ix/apps/ixecho_libix.c) in ring 3 over libix, with the dataplane in
// ring 0 of its Dune process (VT-x); lab10.ixkvs the key-value server
// likewise (ix/apps/kvs_libix.c, on ixev).

#include <stddef.h>

#include "boot/cmdline.h"
#include "console/console.h"
#include "debug/panic.h"
#include "test/bridge.h"
#include "test/ktest.h"

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
