// Two programs at once on the emulated 82599, without the bridge: a
// server that owns port 0 and a client (ixload, the load generator) that
// owns port 1, joined by the model's internal wire (lab10.load, and the
// benchmarks built on it).

#ifndef KERNEL_TEST_LOAD_H
#define KERNEL_TEST_LOAD_H

// Starts server (its argv, NULL-terminated), runs it until its driver
// has port 0's receiver on (so that the clients' first frames are not
// lost), then runs each of the n clients (argvs likewise) in turn, each
// to its end before the next starts, and waits for the server. status
// (1 + n entries) gets the server's exit status, then the clients'. If the server
// ends before port 0 is up, no client is started (their status -1),
// after a line naming test that says so.
void load_run(const char *test, char *const server[], char *const *const clients[], int n,
	      int status[]);

// load_run with one client.
void load_pair(const char *test, char *const server[], char *const client[],
	       int *server_status, int *client_status);

#endif
