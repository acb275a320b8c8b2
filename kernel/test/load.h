// Two programs at once on the emulated 82599, without the bridge: a
// server that owns port 0 and a client (ixload, the load generator) that
// owns port 1, joined by the model's internal wire (lab10.load, and the
// benchmarks built on it).

#ifndef KERNEL_TEST_LOAD_H
#define KERNEL_TEST_LOAD_H

// Starts server (its argv, NULL-terminated), runs it until its driver
// has port 0's receiver on (so that the client's first frames are not
// lost), starts client (likewise), and waits for both; sets each one's
// exit status. If the server ends first, the client is not started (its
// status -1), after a line naming test that says so.
void load_pair(const char *test, char *const server[], char *const client[],
	       int *server_status, int *client_status);

#endif
