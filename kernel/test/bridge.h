// Programs that serve the host machine through port 0 of the emulated
// 82599, bridged to the e1000 (lab9.bridge, lab10.echo, lab10.kvs,
// lab10.ixecho, lab10.ixkvs, lab10.ixprobe).

#ifndef KERNEL_TEST_BRIDGE_H
#define KERNEL_TEST_BRIDGE_H

// Makes the e1000 the wire of the 82599's port 0 (nic_bridge), and says
// so. Panics, naming test, when there is no bridge.
void bridge_attach(const char *test);

// Runs program with the command line's ip= (10.0.2.15), port=
// (default_port) and seconds= (30) as its arguments, then arg if not
// NULL, and waits for it; returns its exit status.
int bridge_run(const char *program, const char *default_port, const char *arg);

// Prints the e1000's counters and the frames that found no wire.
void bridge_report(void);

// bridge_attach, bridge_run of program, bridge_report. Panics, naming
// test, when program ends with a status other than 0.
void bridge_serve(const char *test, const char *program, const char *default_port,
		  const char *arg);

#endif
