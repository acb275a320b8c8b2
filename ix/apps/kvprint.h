// The key-value servers' counter lines (ixkvs on lwIP, ixkvs-libix on
// ixev): what the protocol and the store counted, each line starting
// with the program's name (tools/tests/test_kvs.py reads them).

#ifndef IX_APPS_KVPRINT_H
#define IX_APPS_KVPRINT_H

#include "ix/apps/kvproto.h"

// Prints srv's command and store counters, one line each, after name.
void kv_print_counters(const char *name, const struct kv_server *srv);

#endif
