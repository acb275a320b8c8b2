// Lab 10 self-tests: the IX dataplane. lab10.echo runs ixecho (ix/apps:
// lwIP's TCP on the ixgbe driver, in user space) on port 0 of the
// emulated 82599, bridged to the e1000, for tools/tests/test_ix.py's
// clients on the host machine; lab10.kvs runs ixkvs, the key-value
// server, there for tools/tests/test_kvs.py's memcached clients.

#include "test/bridge.h"
#include "test/ktest.h"

KTEST(lab10_echo, "lab10.echo", STAGE_SMP,
      "port 0 of the emulated 82599 bridged to the e1000: ixecho (lwIP's TCP echo on the "
      "ixgbe driver) at ip= port= until 'quit' or seconds=");
static void lab10_echo(void)
{
	bridge_serve("lab10.echo", "ixecho", "7");
}

KTEST(lab10_kvs, "lab10.kvs", STAGE_SMP,
      "port 0 of the emulated 82599 bridged to the e1000: ixkvs (memcached's text protocol on "
      "lwIP and the ixgbe driver) at ip= port= (11211) with time= (the Unix time) until "
      "'shutdown' or seconds=");
static void lab10_kvs(void)
{
	bridge_serve("lab10.kvs", "ixkvs", "11211");
}
