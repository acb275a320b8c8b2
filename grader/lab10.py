"""Lab 10 tests: the IX dataplane. Two boots under Bochs (Dune needs
VT-x), each with a client on this machine that reaches the kernel
through the e1000 bridge and 127.0.0.1 only:

- lab10.ixecho: ixecho-libix, the echo in ring 3 over libix with the
  dataplane in ring 0. Several connections at once with round trips of
  random bytes, one message of 1 MiB whose echo is read after a pause
  (flow control), then "quit". The counters the application, libix,
  the dataplane and the NIC print must agree with what was sent.
- lab10.ixprobe: ixprobe's bad commands (each refused with its error,
  in order), the received data read in place at IX_RX_ALIAS, and the
  faults of ring 3 stopped and reported.

The key-value server's protocol is graded first, on this machine, by
its host test (ix/apps/tests/kv_test.c, built with the tree's
kvproto.c): each exercise by the cases of the commands it serves."""

import os
import re
import socket
import time

import gradelib
from gradelib import TestFailure, expect_equal_lists, runner, test

LOOP = "ixdp_loop"
NETIF_RX = "netif_rx"
RX_ALIAS = "rx_alias"
COMMANDS = "tcp_commands"
DATAPLANE = [LOOP, NETIF_RX, RX_ALIAS, COMMANDS]
KV_UPDATE, KV_ARITH, KV_TOUCH = "kv_update", "kv_arith", "kv_touch"
BOCHS = ("bochs", "kvm")

RUN_TIMEOUT = 180       # host seconds a boot may take
SERVE_SECONDS = 100000  # guest seconds: Bochs's clock runs ahead; "quit" ends the run
CONNECTIONS = 8         # at once: more SYN-ACKs than lwIP's default ARP queue holds
ROUNDS = 4              # round trips on each
LARGE = 1 << 20         # bytes of the message held back by flow control
PAUSE = 1               # seconds before its echo is read
BATCH_LIMIT = 64        # ixdp's batch limit (IXGBE_NETIF_RX_BURST)
IX_RX_ALIAS = 0x4000000000


def recv_exactly(conn, n, what):
    got = bytearray()
    while len(got) < n:
        chunk = conn.recv(min(65536, n - len(got)))
        if not chunk:
            raise TestFailure("%s: the connection closed after %d of %d bytes"
                              % (what, len(got), n))
        got.extend(chunk)
    return bytes(got)


def expect_fin(conn, what):
    conn.shutdown(socket.SHUT_WR)
    rest = conn.recv(10)
    if rest != b"":
        raise TestFailure("%s: %r after the echo, not the server's FIN" % (what, rest))


def counters(lines, program):
    """(prefix, name) -> value for every 'name N' of the counter lines of
    program, libix, ixdp and the netif: "ixdp: crossings 5, idle 2" gives
    ("ixdp", "crossings") and ("ixdp", "idle")."""
    found = {}
    for line in lines:
        m = re.match(r"^(%s|libix|ixdp|netif|e1000): (.*)$" % re.escape(program), line)
        if not m or "," not in line:
            continue
        for part in m.group(2).split(","):
            n = re.match(r"^\s*(?:82599 )?([a-z ]+?) (\d+)\b", part)
            if n:
                found[(m.group(1), n.group(1))] = int(n.group(2))
    return found


def expect_no_double_free(boot):
    """pktbuf_free's complaint: two owners gave a buffer back."""
    twice = boot.matching(r"pktbuf_free: ")
    if twice:
        raise TestFailure("buffers given back twice: %s" % twice[:3])


def counter(boot, prefix, name):
    try:
        return boot.counters[(prefix, name)]
    except KeyError:
        raise TestFailure("no counter '%s' on a '%s:' line" % (name, prefix))


# ---------------------------------------------------------------------
# The key-value server's protocol, on this machine.

KV_TEST = runner.BUILD / "host" / "kv_test"
# kv_test's line for a case whose replies were not the expected ones.
FAILURE = re.compile(r"^(.+) \((?:whole|byte by byte|output full after each reply)\): "
                     r"the replies differ$")
UPDATE_CASES = [
    "set and get", "gets shows cas, which each store changes", "set noreply",
    "add, replace", "append, prepend keep the flags; missing keys",
    "cas: stored, then exists; missing key; bad cas",
    "set with an expired exptime removes the old value",
    "limits: LRU eviction kept the key in use and the newest",
    "limits: refused stores give their memory back",
]
ARITH_CASES = ["incr and decr: results, padding, wrap, floor",
               "incr and decr give the item a new cas, in place or not",
               "incr: non-numeric values, bad deltas"]
TOUCH_CASES = ["touch"]


def kv_failed(boot, cases):
    """The cases among those named that kv_test reported failed."""
    return sorted({m.group(1) for m in map(FAILURE.match, boot.lines[:-1]) if m} & set(cases))


@test(5, "the key-value host test builds with the tree's kvproto.c and runs to its end")
def test_kv(ctx):
    made = ctx.run_host(["make", "-s", str(KV_TEST.relative_to(runner.TOP))])
    if made.result.exit_code != 0:
        raise TestFailure("make %s failed:\n%s" % (KV_TEST, "\n".join(made.lines[-20:])))
    run = ctx.run_host([str(KV_TEST)])
    if not run.lines or not re.match(r"^\d+ passed, \d+ failed$", run.lines[-1]):
        raise TestFailure("kv_test ended with status %d without its count: %s"
                          % (run.result.exit_code, run.lines[-3:]))


def expect_cases(boot, cases, what):
    failed = kv_failed(boot, cases)
    if failed:
        raise TestFailure("%s: kv_test's cases failed: %s (kv.log has the replies)"
                          % (what, "; ".join(failed)))


@test(15, "storage commands: set, add, replace, append, prepend, cas and their replies",
      parent=test_kv, exercises=[KV_UPDATE])
def test_kv_update(ctx, boot):
    expect_cases(boot, UPDATE_CASES, "the storage commands")


@test(10, "incr and decr: results, padding, wrap, floor, their errors",
      parent=test_kv, exercises=[KV_UPDATE, KV_ARITH])
def test_kv_arith(ctx, boot):
    expect_cases(boot, ARITH_CASES, "incr and decr")


@test(5, "touch: a new exptime, its errors", parent=test_kv, exercises=[KV_UPDATE, KV_TOUCH])
def test_kv_touch(ctx, boot):
    expect_cases(boot, TOUCH_CASES, "touch")


@test(5, "every case of kv_test passes", parent=test_kv,
      exercises=[KV_UPDATE, KV_ARITH, KV_TOUCH])
def test_kv_all(ctx, boot):
    if not boot.lines[-1].endswith(" 0 failed") or boot.result.exit_code != 0:
        raise TestFailure("kv_test: %s; first: %s" % (boot.lines[-1], boot.lines[:3]))


# ---------------------------------------------------------------------
# ixecho-libix

def echo_client(ctx, sent):
    """The client of lab10.ixecho: sent["bytes"] counts what the round
    trips echoed."""
    rng = ctx.rng

    def client(net):
        net.wait_for(r"^ixecho-libix: in ring 3, echoing", RUN_TIMEOUT)
        conns = [net.connect() for _ in range(CONNECTIONS)]
        sent["bytes"] = 0
        for r in range(ROUNDS):
            for k, c in enumerate(conns):
                data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000)))
                c.sendall(data)
                if recv_exactly(c, len(data), "connection %d" % k) != data:
                    raise TestFailure("connection %d, round %d: the echo of %d bytes differs"
                                      % (k, r, len(data)))
                sent["bytes"] += len(data)
        for k, c in enumerate(conns):
            expect_fin(c, "connection %d" % k)
            c.close()
        held_back(net, os.urandom(LARGE))
        with net.connect() as c:
            c.sendall(b"quit")
            if recv_exactly(c, 4, "quit") != b"quit":
                raise TestFailure("quit was not echoed")
    return client


def held_back(net, data):
    """Sends data from a thread-free loop of small writes while the echo
    is left unread for PAUSE seconds through a small receive buffer:
    ixecho's sends fill up and the dataplane must hold the peer back."""
    with net.connect() as c:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        c.setblocking(False)
        start, sent, got = time.monotonic(), 0, bytearray()
        while len(got) < len(data):
            if time.monotonic() - start > 120:
                raise TestFailure("the 1 MiB message: %d bytes echoed of %d sent in 120 s"
                                  % (len(got), sent))
            reading = time.monotonic() - start > PAUSE
            try:
                if sent < len(data):
                    sent += c.send(data[sent:sent + 65536])
            except BlockingIOError:
                pass
            if reading:
                try:
                    chunk = c.recv(65536)
                    if not chunk:
                        raise TestFailure("the 1 MiB message: closed after %d bytes" % len(got))
                    got.extend(chunk)
                except BlockingIOError:
                    time.sleep(0.01)
            else:
                time.sleep(0.01)
        c.setblocking(True)
        c.settimeout(gradelib.ANSWER_SECONDS)
        if bytes(got) != data:
            raise TestFailure("the echo of the 1 MiB message differs")
        expect_fin(c, "the 1 MiB message")


@test(10, "ixecho-libix: round trips on 8 connections at once, 1 MiB held back, quit; status 0",
      exercises=DATAPLANE, emulators=BOCHS)
def test_ixecho(ctx):
    sent = {}
    boot = ctx.boot("lab10.ixecho", timeout=RUN_TIMEOUT, seconds=SERVE_SECONDS,
                    client=echo_client(ctx, sent))
    boot.sent = sent["bytes"]
    boot.expect_status("ok")
    lines = boot.test_lines()
    for want in ("ixecho-libix: quit received", "ixdp: the application ended with status 0",
                 "process ixecho-libix[1] ended with status 0"):
        if want not in lines:
            raise TestFailure("no line '%s'" % want)
    boot.counters = counters(lines, "ixecho-libix")


@test(10, "the echo's counters: connections, bytes echoed, closes, no error on either side",
      parent=test_ixecho, exercises=DATAPLANE)
def test_echo_counts(ctx, boot):
    a = lambda name: counter(boot, "ixecho-libix", name)   # noqa: E731
    d = lambda name: counter(boot, "ixdp", name)           # noqa: E731
    got = [a("tcp connections"), a("bytes echoed"), a("reset"), a("refused"), a("errors"),
           d("knocks"), d("errors"), d("errors lost"), d("no slot")]
    want = [CONNECTIONS + 2, boot.sent + LARGE + 4, 0, 0, 0, CONNECTIONS + 2, 0, 0, 0]
    names = ["connections", "bytes echoed", "reset", "refused", "the application's errors",
             "knocks", "refused commands", "errors lost", "no slot"]
    expect_equal_lists(["%s %d" % nv for nv in zip(names, want)],
                       ["%s %d" % nv for nv in zip(names, got)], "the counters")
    # Every connection but the quit's closed by FIN both ways; the quit's
    # ends the run, before or after ixecho has seen its FIN.
    if a("closed") not in (CONNECTIONS + 1, CONNECTIONS + 2):
        raise TestFailure("closed %d, want %d or %d" % (a("closed"), CONNECTIONS + 1,
                                                        CONNECTIONS + 2))


@test(15, "the crossings: every command run and every event returned, many to a crossing",
      parent=test_ixecho, exercises=[LOOP, COMMANDS])
def test_crossings(ctx, boot):
    d = lambda name: counter(boot, "ixdp", name)           # noqa: E731
    lib = lambda name: counter(boot, "libix", name)        # noqa: E731
    # The commands left queued when main returned are flushed after the
    # application printed libix's counters: at most one crossing more.
    last = d("flushes") - lib("flushes")
    if last not in (0, 1):
        raise TestFailure("the dataplane counted %d flushes, libix %d"
                          % (d("flushes"), lib("flushes")))
    if lib("polls") + lib("flushes") + last != d("crossings"):
        raise TestFailure("libix crossed %d times (polls and flushes), the dataplane counted %d"
                          % (lib("polls") + lib("flushes") + last, d("crossings")))
    if d("commands") < lib("commands") or (last == 0 and d("commands") != lib("commands")):
        raise TestFailure("libix queued %d commands, the dataplane ran %d"
                          % (lib("commands"), d("commands")))
    if lib("events") != d("events"):
        raise TestFailure("the dataplane returned %d events, libix dispatched %d"
                          % (d("events"), lib("events")))
    if d("most commands") < 2 or d("most events") < 2:
        raise TestFailure("at most %d commands and %d events in a crossing: not batched"
                          % (d("most commands"), d("most events")))
    if d("crossings") - d("idle") >= d("commands"):
        raise TestFailure("%d busy crossings for %d commands: one command a crossing"
                          % (d("crossings") - d("idle"), d("commands")))


@test(5, "lwIP's timers run; an idle poll sleeps on the port's interrupt, a busy one does not",
      parent=test_ixecho, exercises=[LOOP])
def test_idle_sleep(ctx, boot):
    d = lambda name: counter(boot, "ixdp", name)           # noqa: E731
    polls = d("crossings") - d("flushes")
    busy = d("crossings") - d("idle")
    if d("timer runs") == 0:
        raise TestFailure("lwIP's timers never ran (ixdp's timer runs 0): TCP retransmits, "
                          "sends delayed ACKs and probes a closed window from them")
    if d("sleeps") == 0:
        raise TestFailure("no poll slept (ixdp's sleeps 0) in %d polls, %d of them idle"
                          % (polls, d("idle")))
    # A crossing that brought commands never sleeps.
    if d("sleeps") > polls - 1 or d("sleeps") + busy > polls + d("idle"):
        raise TestFailure("%d polls slept of %d (%d idle): a poll with work slept"
                          % (d("sleeps"), polls, d("idle")))


@test(10, "adaptive batching: a poll takes what arrived, up to the limit; one doorbell a burst",
      parent=test_ixecho, exercises=[LOOP, NETIF_RX])
def test_batching(ctx, boot):
    n = lambda name: counter(boot, "netif", name)          # noqa: E731
    if not 1 < n("most per poll") <= BATCH_LIMIT:
        raise TestFailure("the largest poll took %d frames: want more than 1 (the 1 MiB message "
                          "arrives in bursts) and at most the limit, %d"
                          % (n("most per poll"), BATCH_LIMIT))
    if n("bursts") >= n("tx frames"):
        raise TestFailure("%d tail writes for %d frames sent" % (n("bursts"), n("tx frames")))


@test(10, "zero-copy receive: every frame the NIC received went to lwIP; none lost or freed twice",
      parent=test_ixecho, exercises=[NETIF_RX])
def test_zero_copy(ctx, boot):
    n = lambda name: counter(boot, "netif", name)          # noqa: E731
    d = lambda name: counter(boot, "ixdp", name)           # noqa: E731
    # The dataplane answers ARP itself; lwIP's instances get the rest.
    names = ["e1000 frames received", "82599 frames received", "frames to lwIP or ARP",
             "refused", "missed", "dropped", "no buffer"]
    got = [counter(boot, "e1000", "rx frames"), d("received"),
           n("rx frames") + d("arp frames received"), n("refused"), d("missed"), d("dropped"),
           d("no buffer")]
    expect_no_double_free(boot)
    want = [got[0]] * 3 + [0] * 4
    expect_equal_lists(["%s %d" % nv for nv in zip(names, want)],
                       ["%s %d" % nv for nv in zip(names, got)], "the receive path's counters")


# ---------------------------------------------------------------------
# ixprobe

# ixprobe.c's expected refusals, in order.
REFUSALS = [
    "accept of handle 0 refused: bad file descriptor",
    "send on a handle that names nothing refused: bad file descriptor",
    "recv_done on a handle that names nothing refused: bad file descriptor",
    "close of a handle that names nothing refused: bad file descriptor",
    "connect to port 0 refused: invalid argument",
    "send from the dataplane's memory refused: bad address",
    "send from past the user addresses refused: bad address",
    "send past the window refused: no buffer room",
    "send of 0 bytes refused: invalid argument",
    "sendv of a piece in the dataplane's memory refused: bad address",
    "sendv of an array in the dataplane's memory refused: bad address",
    "sendv of too many pieces refused: invalid argument",
    "sendv of pieces past the window together refused: no buffer room",
    "recv_done past what was received refused: invalid argument",
    "a second accept refused: invalid argument",
]
PROBES = [("commands", 0), ("rx-write", 3), ("dp-write", 3), ("dp-read", 3), ("privileged", 3)]


def probe_client(ctx, tokens):
    def client(net):
        net.wait_for(r"^ixprobe: ready \(probe commands\)$", RUN_TIMEOUT)
        tokens["commands"] = b"probe %s" % ctx.token().encode()
        with net.connect() as c:
            c.settimeout(gradelib.ANSWER_SECONDS)
            # The token in a frame of its own, apart from the handshake's
            # last ACK: a frame alone in its poll, as the acknowledgment
            # of its echo will be while ixprobe still holds the token.
            time.sleep(0.5)
            c.sendall(tokens["commands"])
            if recv_exactly(c, len(tokens["commands"]), "the probe") != tokens["commands"]:
                raise TestFailure("the echo of '%s' differs" % tokens["commands"].decode())
            if c.recv(10) != b"":
                raise TestFailure("no FIN after the probe's echo")
        net.wait_for(r"^ixprobe: ready \(probe rx-write\)$", 60)
        tokens["rx-write"] = b"write %s" % ctx.token().encode()
        with net.connect() as c:
            c.sendall(tokens["rx-write"])
            net.wait_for(r"^ixdp: the application faulted", 60)
    return client


@test(10, "ixprobe: each probe ends as it must (0 for the commands, 3 for a fault); no buffer "
      "freed twice",
      exercises=DATAPLANE, emulators=BOCHS)
def test_ixprobe(ctx):
    tokens = {}
    boot = ctx.boot("lab10.ixprobe", timeout=RUN_TIMEOUT, seconds=60,
                    client=probe_client(ctx, tokens))
    boot.tokens = tokens
    expect_no_double_free(boot)
    expect_equal_lists(["lab10.ixprobe: probe %s: ixprobe ended with status %d" % p
                        for p in PROBES], boot.matching(r"lab10\.ixprobe: probe "),
                       "the probes' ends")
    boot.expect_status("ok")


@test(20, "bad commands: each refused with its error event, in order; the connection still echoes",
      parent=test_ixprobe, exercises=[COMMANDS])
def test_bad_commands(ctx, boot):
    expect_equal_lists(["ixprobe: ok: " + r for r in REFUSALS] +
                       ["ixprobe: ok: every bad command refused, the echo acknowledged"],
                       boot.matching(r"ixprobe: (ok|FAIL): .*(refused|acknowledged)"),
                       "the refusals ixprobe saw")
    dp = boot.matching(r"ixdp: crossings ")
    if not dp or " errors %d, errors lost 0," % len(REFUSALS) not in dp[0]:
        raise TestFailure("the dataplane's first counters do not say 'errors %d, errors lost 0': "
                          "%s" % (len(REFUSALS), dp[:1]))


@test(10, "received data read in place, at IX_RX_ALIAS, read-only for ring 3",
      parent=test_ixprobe, exercises=[RX_ALIAS])
def test_rx_alias(ctx, boot):
    addrs = []
    for probe in ("commands", "rx-write"):
        data = boot.tokens.get(probe)
        if data is None:
            raise TestFailure("the client never sent the %s probe's data" % probe)
        pattern = r"ixprobe: received %d bytes at 0x([0-9a-f]+): '%s'$" % (len(data),
                                                                            data.decode())
        found = boot.matching(pattern)
        if not found:
            raise TestFailure("no line /%s/" % pattern)
        addr = int(re.match(pattern, found[0]).group(1), 16)
        if addr & ~0xFFFFFFF != IX_RX_ALIAS or addr % 2048 < 14 + 20 + 20:
            raise TestFailure("'%s' received at 0x%x: not past the headers of a 2 KiB buffer "
                              "in IX_RX_ALIAS (0x%x)" % (data.decode(), addr, IX_RX_ALIAS))
        addrs.append(addr)
    want = ("ixdp: the application faulted: write of 0x%x at rip 0x[0-9a-f]+, a received "
            "buffer \\(read-only in ring 3\\); it is stopped$" % addrs[1])
    if not boot.matching(want):
        raise TestFailure("the write into the received buffer at 0x%x was not stopped as a "
                          "fault on a read-only buffer: %s" % (addrs[1], boot.matching(
                              r"ixdp: the application faulted")))


@test(5, "ring 3 stopped at a write or a read of the dataplane's memory and at cli",
      parent=test_ixprobe, exercises=DATAPLANE)
def test_faults(ctx, boot):
    for probe, access in (("dp-write", "write"), ("dp-read", "read")):
        where = boot.matching(r"ixprobe: ready \(probe %s\): %s 0x[0-9a-f]+$"
                              % (probe, "writing" if access == "write" else "reading"))
        if not where:
            raise TestFailure("the %s probe did not start" % probe)
        addr = where[0].rsplit(" ", 1)[1]
        if not boot.matching(r"ixdp: the application faulted: %s of %s at rip 0x[0-9a-f]+, not "
                             r"the application's memory; it is stopped$" % (access, addr)):
            raise TestFailure("the %s of %s was not reported as a fault" % (access, addr))
    if not boot.matching(r"ixdp: the application faulted: exception 13 at rip 0x[0-9a-f]+, "
                         r"error 0x0; it is stopped$"):
        raise TestFailure("cli in ring 3 was not reported as a general protection fault")
