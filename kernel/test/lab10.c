// Lab 10 self-tests: the IX dataplane. lab10.echo runs ixecho (ix/apps:
// lwIP's TCP on the ixgbe driver, in user space) on port 0 of the
// emulated 82599, bridged to the e1000, for tools/tests/test_ix.py's
// clients on the host machine; lab10.ixecho the same echo as an IX
// application (ix/apps/ixecho_libix.c) in ring 3 over libix, with the
// dataplane in ring 0 of its Dune process (VT-x).

#include "test/bridge.h"
#include "test/ktest.h"

KTEST(lab10_echo, "lab10.echo", STAGE_SMP,
      "port 0 of the emulated 82599 bridged to the e1000: ixecho (lwIP's TCP echo on the "
      "ixgbe driver) at ip= port= until 'quit' or seconds=");
static void lab10_echo(void)
{
	bridge_serve("lab10.echo", "ixecho");
}

KTEST(lab10_ixecho, "lab10.ixecho", STAGE_VMX,
      "ixecho-libix: ixecho as an IX application in ring 3 over libix, the dataplane (driver "
      "and lwIP) in ring 0 of the same Dune process, on port 0 of the emulated 82599 bridged "
      "to the e1000; ip= port= until 'quit' or seconds=");
static void lab10_ixecho(void)
{
	bridge_serve("lab10.ixecho", "ixecho-libix");
}
