// Programs that serve the host machine through port 0 of the emulated
// 82599, bridged to the e1000 (lab9.bridge, lab10.echo, lab10.kvs).

#ifndef KERNEL_TEST_BRIDGE_H
#define KERNEL_TEST_BRIDGE_H

// Makes the e1000 the wire of the 82599's port 0 (nic_bridge), then runs
// program with the command line's ip= (10.0.2.15), port= (default_port),
// seconds= (30) and time= (the Unix time now, for a program that needs
// it; 0: not given) as its arguments and waits for it; prints the
// e1000's counters and the frames that found no wire. Panics, naming
// test, when there is no bridge or the program ends with a status other
// than 0.
void bridge_serve(const char *test, const char *program, const char *default_port);

#endif
