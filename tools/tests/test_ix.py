#!/usr/bin/env python3
"""The IX dataplane's TCP echo (ixecho: lwIP on the ixgbe driver),
driven from this machine.

The kernel boots with run=lab10.echo (under QEMU and under Bochs) and
an e1000 on the emulator's restricted user network: port 0 of the emulated 82599 is bridged to the
e1000, and ixecho serves TCP echo there. Clients here reach it through
the forward of 127.0.0.1:PORT (tools/tests/test_net.py's Run): several
connections at once, each with round trips of random data checked byte
for byte; one message of many segments whose echo is read only after a
pause, so that ixecho's flow control holds the sender back; then
"quit". The
counters ixecho prints at the end must agree with what was sent and
with the NIC's. ARP and ping are checked with frames made here
(test_net.py's Frames). The IX applications over libix (ixecho-libix,
ixprobe: run=lab10.ixecho, lab10.ixprobe) are Lab 10's grader's
(grader/lab10.py), which drives them the same way. Load runs
run=lab10.load (Bochs, no bridge): ixload, the load generator, on port 1
against ixecho-libix and then ixkvs on port 0, two processes at once
over the model's internal wire; its counts must be those its seed gives
(computed here) and agree with the servers'; then connects refused and
a client that vanishes, whose connections the server's keep-alive must
abort. Options runs run=lab10.options (QEMU): each of the dataplane's
options given wrong must be refused with its line. Nothing is sent
anywhere but 127.0.0.1.

  python3 tools/tests/test_ix.py [-k qemu]        (Bochs: -k bochs; ixload: Load)
"""
import os
import random
import re
import socket
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import nictestlib  # noqa: E402
import runner  # noqa: E402
import test_net  # noqa: E402

CONNECTIONS = 8         # at once: more SYN-ACKs than lwIP's default ARP queue holds
LARGE = 1 << 20         # bytes of the message of many segments
PAUSE = 1               # seconds before its echo is read
SERVE_SECONDS = 4       # RawFrames' run: ixecho's seconds


def counters(lines, program="ixecho"):
    """(prefix, name) -> value for every 'name N' of the counter lines
    of program (ixecho, ixkvs, ixecho-libix, ixkvs-libix), libix, ixev and the dataplane,
    the interface, the e1000 and lwIP:
    "ixecho: tcp connections 2, ..." gives ("ixecho", "tcp
    connections"); lwIP's "lwip: tcp recv 5, xmit 4" gives ("lwip tcp",
    "recv") and ("lwip tcp", "xmit")."""
    found = {}
    for line in lines:
        m = re.match(r"^(%s|libix|ixev|ixdp|netif|e1000|lwip): (.*)$" % re.escape(program), line)
        if not m or "," not in line:
            continue
        prefix, rest = m.groups()
        if prefix == "lwip":
            proto, rest = rest.split(" ", 1)
            prefix += " " + proto
        for part in rest.split(","):
            n = re.match(r"^\s*(?:82599 )?([a-z ]+?) (\d+)\b", part)
            if n:
                found[(prefix, n.group(1))] = int(n.group(2))
    return found


def echo_held_back(test, port, data):
    """Sends data on a new connection from a thread, and reads the echo
    only after a pause, through a small receive buffer: meanwhile the
    echo fills the buffers on its way back, and most often ixecho's send
    buffer too, which makes ixecho hold data and close its window
    ("held" in its counters; not always: this machine's buffers under
    the emulator's network may take it all). Checks that exactly data
    came back."""
    got = bytearray()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as c:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        c.settimeout(60)
        c.connect(("127.0.0.1", port))
        sender = threading.Thread(target=c.sendall, args=(data,))
        sender.start()
        time.sleep(PAUSE)
        while len(got) < len(data):
            chunk = c.recv(65536)
            if not chunk:
                break
            got.extend(chunk)
        sender.join(60)
        c.shutdown(socket.SHUT_WR)
        test.assertEqual(b"", c.recv(10), "no FIN after the echo")
    test.assertEqual(len(data), len(got), "the echo has %d of %d bytes" % (len(got), len(data)))
    test.assertTrue(data == bytes(got), "the echo of %d bytes differs" % len(data))


def echo_clients(test, run):
    """What a client does to an echo server on run's port: several
    connections open at once, their round trips interleaved, each closed
    by FIN both ways; one message held back by flow control (LARGE
    bytes); then "quit". Returns the bytes the round trips echoed (the
    held-back message and the quit aside) and the run's lines."""
    rng = random.Random()
    conns = [socket.create_connection(("127.0.0.1", run.port), timeout=30)
             for _ in range(CONNECTIONS)]
    sent = 0
    for _ in range(4):
        for c in conns:
            sent += test_net.round_trips(test, c, [os.urandom(rng.randint(1, 3000))])
    for c in conns:
        c.shutdown(socket.SHUT_WR)
        test.assertEqual(b"", c.recv(10), "no FIN after the echo")
        c.close()
    echo_held_back(test, run.port, os.urandom(LARGE))
    test.assertEqual(b"quit", test_net.tcp_quit(run.port))
    return sent, run.finish()


class Echo(unittest.TestCase):
    def test_qemu_echo(self):
        self.check_echo("qemu")

    def test_bochs_echo(self):
        self.check_echo("bochs")

    def check_echo(self, emulator):
        run = test_net.Run(self, emulator, "run=lab10.echo seconds=%d"
                           % test_net.SERVE_SECONDS[emulator])
        run.wait_for(r"^ixecho: emulated port 0, mac %s, link up; 10\.0\.2\.15 serves TCP "
                     r"echo on port %d \(lwIP 2\.1\.3\)$" % (runner.NET_MAC, run.port),
                     test_net.RUN_TIMEOUT[emulator])
        sent, lines = echo_clients(self, run)
        self.assertIn("ixecho: quit received", lines)
        self.assertIn("process ixecho[1] ended with status 0", lines)
        self.assertIn("bridge: frames with no wire 0", lines)
        c = counters(lines)
        e = lambda name: c[("ixecho", name)]        # noqa: E731
        self.assertEqual(CONNECTIONS + 2, e("tcp connections"))
        self.assertEqual(sent + LARGE + 4, e("bytes echoed"))
        # Every connection but the quit's by FIN both ways; the quit's
        # ends the run, before or after ixecho has seen its FIN.
        self.assertIn(e("closed"), (CONNECTIONS + 1, CONNECTIONS + 2))
        self.assertEqual((0, 0), (e("reset"), e("refused")))
        for proto in ("tcp", "ip"):
            self.assertEqual((0, 0), (c[("lwip " + proto, "chkerr")],
                                      c[("lwip " + proto, "memerr")]), proto)
        self.assertEqual(0, c[("lwip heap", "err")])
        # lwIP's timers ran on the timer wheel: tcp_tmr every 250 ms
        # moves from level 1 to level 0 before it fires.
        self.assertGreater(c[("lwip timers", "fired")], 0)
        self.assertGreater(c[("lwip timers", "cascaded")], 0)
        n = lambda name: c[("netif", name)]         # noqa: E731
        self.assertEqual((0, 0, 0), (n("refused"), n("no buffer"), n("ring full")))
        self.assertEqual((0, 0, 0), (e("missed"), e("dropped"), e("no buffer")))
        # Every frame the e1000 received went to port 0 and on to lwIP;
        # every frame lwIP sent left by port 0 and the e1000 (the e1000's
        # own count: its driver counts a frame once reclaimed).
        self.assertEqual(c[("e1000", "rx frames")], e("received"))
        self.assertEqual(e("received"), n("rx frames"))
        self.assertEqual(n("tx frames"), e("sent"))
        # Every packet lwIP's IP sent reached the driver: none was lost
        # waiting for ARP.
        self.assertEqual(c[("lwip ip", "xmit")] + c[("lwip etharp", "xmit")], n("tx frames"))
        self.assertEqual(e("sent"), c[("e1000", "sent")])
        # Batching: fewer tail writes than frames sent.
        self.assertLess(n("bursts"), n("tx frames"))


def connect_early(port, seconds=10):
    """A connection to 127.0.0.1:port, tried again while refused: the
    emulator's network refuses connections to the guest until the guest
    has sent its first frame, which may come a moment after the line the
    test waited for."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def run_line(test, lines, pattern):
    """The match of the first line that matches pattern (re.match)."""
    for line in lines:
        m = re.match(pattern, line)
        if m:
            return m
    test.fail("no line /%s/ in the run" % pattern)


MASK = (1 << 64) - 1


def splitmix(state):
    """ixload's next_random: (the new state, the value)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def memcached_counts(seed, conns, requests, get, keys):
    """What ixload's memcached mode sends for these options (ixload.c's
    header says how it draws): (gets, hits, misses, sets)."""
    gets = hits = sets = 0
    for c in range(conns):
        state = (seed * 0x100000001 + c) & MASK
        share = requests // conns + (1 if c < requests % conns else 0)
        own = (keys - c + conns - 1) // conns
        stored = set()
        for _ in range(share):
            state, r = splitmix(state)
            is_get = r % 100 < get
            state, r = splitmix(state)
            key = c + conns * (r % own)
            if is_get:
                gets += 1
                hits += key in stored
            else:
                sets += 1
                stored.add(key)
    return gets, hits, gets - hits, sets


class Load(unittest.TestCase):
    """run=lab10.load under Bochs: ixload on port 1 (a Dune process, the
    dataplane in its ring 0) against ixecho-libix, then ixkvs (native),
    on port 0, then connects to a port nobody listens on (refused): the
    tests of ix_tcp_connect. Every count exact."""
    CONNS = 8
    REQUESTS = 240
    CORES = 1

    def test_bochs_load(self):
        rng = random.Random()
        seed, size, get = rng.randrange(1, 1 << 32), rng.randint(1, 3000), rng.randint(50, 95)
        keys = rng.randint(self.CONNS, 400)
        cmdline = ("run=lab10.load cores=%d conns=%d requests=%d seed=%d size=%d get=%d keys=%d"
                   % (self.CORES, self.CONNS, self.REQUESTS, seed, size, get, keys))
        log = runner.BUILD / "ix-tests" / ("bochs-load-%d.log" % self.CORES)
        result = runner.run_captured("bochs", cmdline, log, timeout=240, smp=self.CORES)
        lines = result.lines()
        where = "%s (%s; log %s)" % (cmdline, result.status, log)
        self.assertEqual("ok", result.status, where + "\n" + "\n".join(lines[-20:]))
        ends = [lines.index("lab10.load: %s: client 1 (ixload) ended with status %d" % end)
                for end in (("echo", 0), ("memcached", 0), ("refused", 1))]
        self.check_echo(lines[:ends[0] + 1], seed, size)
        self.check_memcached(lines[ends[0] + 1:ends[1] + 1], seed, get, keys)
        keepalive = lines.index("lab10.load: refused: client 2 (ixload) ended with status 0")
        self.check_refused(lines[ends[1] + 1:keepalive + 1])
        self.check_keepalive(lines[keepalive + 1:])
        self.assertIn("lab10.load: echo, memcached, refused connects and keep-alive: every "
                      "status as expected", lines)
        self.assertEqual([], [line for line in lines if line.startswith("82599 model:")], where)
        # ixload's requests go by reference from its memory; the echo's
        # replies are copied from the received buffers.
        sends = lambda part: [tuple(int(v) for v in m.groups()) for m in  # noqa: E731
                              (re.match(r"^ixdp: bytes sent by reference (\d+), copied from "
                                        r"received buffers (\d+)$", x) for x in part) if m]
        echoed = self.REQUESTS * size + len("quit\r\n")
        self.assertEqual([(0, echoed), (echoed, 0)], sorted(sends(lines[:ends[0] + 1])))
        memcached = sends(lines[ends[0] + 1:ends[1] + 1])
        self.assertEqual(1, len(memcached))
        self.assertGreater(memcached[0][0], 0)
        self.assertEqual(0, memcached[0][1])

    def check_client(self, lines, mode, server, seed):
        """ixload's lines in one run, checked; returns its counters."""
        c, n = self.CONNS, self.REQUESTS
        self.assertIn("ixdp: emulated port 1, mac 02:00:00:82:59:91, link up; 10.0.2.16 port 7 "
                      "for ixload in ring 3 (lwIP 2.1.3)", lines)
        self.assertIn("ixload: mode %s, server %s, conns %d, requests %d, seed %d"
                      % (mode, server, c, n, seed), lines)
        self.assertIn("ixload: requests %d, replies checked %d, errors 0, connections %d, "
                      "failed 0" % (n, n, c), lines)
        run_line(self, lines, r"^ixload: throughput \d+ requests/s, %d replies in \d+ ms$" % n)
        run_line(self, lines, r"^ixload: cost [1-9]\d* instructions/request$")
        m = run_line(self, lines, r"^ixload: latency instructions p50 (\d+), p99 (\d+), "
                     r"p99\.9 (\d+), max (\d+)$")
        p = [int(v) for v in m.groups()]
        self.assertTrue(0 < p[0] <= p[1] <= p[2] <= p[3], "percentiles out of order: %s" % p)
        return counters(lines, "ixload")

    def check_echo(self, lines, seed, size):
        self.check_client(lines, "echo", "10.0.2.15:7", seed)
        self.assertIn("ixload: end quit done", lines)
        self.assertIn("ixecho-libix: quit received", lines)
        e = counters(lines, "ixecho-libix")
        s = lambda name: e[("ixecho-libix", name)]     # noqa: E731
        self.assertEqual(self.CONNS + 1, s("tcp connections"))
        self.assertEqual(self.REQUESTS * size + len("quit\r\n"), s("bytes echoed"))
        # The quit's connection ends the run, before or after its FIN.
        self.assertIn(s("closed"), (self.CONNS, self.CONNS + 1))
        self.assertEqual((0, 0, 0), (s("reset"), s("refused"), s("errors")))

    def check_memcached(self, lines, seed, get, keys):
        mine = self.check_client(lines, "memcached", "10.0.2.15:11211", seed)
        gets, hits, misses, sets = memcached_counts(seed, self.CONNS, self.REQUESTS, get, keys)
        self.assertEqual([gets, hits, misses, sets, sets],
                         [mine[("ixload", n)] for n in ("gets", "hits", "misses", "sets",
                                                        "stored")])
        self.assertIn("ixload: end shutdown done", lines)
        self.assertIn("ixkvs: shutdown received", lines)
        k = counters(lines, "ixkvs")
        self.assertEqual([gets, hits, misses, sets],
                         [k[("ixkvs", n)] for n in ("gets", "hits", "misses", "sets")])
        self.assertEqual((self.CONNS + 1, 0), (k[("ixkvs", "tcp connections")],
                                               k[("ixkvs", "reset")]))


    def check_refused(self, lines):
        """Two connects to a port nobody listens on, each refused (tried
        again, then failed, in either order: each connection's flow group
        reports it); a second client ends the server."""
        self.assertEqual(["ixload: connection %d: connect: connection refused" % i
                          for i in (0, 1)],
                         sorted(x for x in lines if re.match(r"^ixload: connection \d+: ", x)))
        self.assertIn("ixload: requests 0, replies checked 0, errors 2, connections 0, failed 2",
                      lines)
        self.assertIn("ixload: requests 1, replies checked 1, errors 0, connections 1, failed 0",
                      lines)
        self.assertIn("lab10.load: refused: ixecho-libix ended with status 0", lines)
        self.assertIn("lab10.load: refused: client 2 (ixload) ended with status 0", lines)

    def check_keepalive(self, lines):
        """A client that vanishes with its 4 connections open (end=vanish):
        the server (--keepalive=1000) probes them after a second of silence
        and, unanswered, aborts all 4 before its time is up; none closed
        or reset."""
        self.assertIn("ixload: requests 8, replies checked 8, errors 0, connections 4, failed 0",
                      lines)
        self.assertIn("ixload: end vanish done", lines)
        self.assertIn("ixecho-libix: time is up", lines)
        e = counters(lines, "ixecho-libix")
        self.assertEqual([4, 0, 0, 4, 32], [e[("ixecho-libix", name)] for name in (
            "tcp connections", "closed", "reset", "aborted", "bytes echoed")])
        self.assertIn("lab10.load: keep-alive: ixecho-libix ended with status 0", lines)
        self.assertIn("lab10.load: keep-alive: client 1 (ixload) ended with status 0", lines)


SERVER_IP, CLIENT_IP = 0x0A00020F, 0x0A000210      # lab10.load's 10.0.2.15, 10.0.2.16
FLOW_GROUPS = 16                                    # ix/dp/fg.h's FG_COUNT
EPHEMERAL_FIRST, EPHEMERAL_PORTS = 49152, 16384     # ix/dp/main.c's


def flow_group(src, dst, sport, dport):
    """The flow group of a TCP flow's frames (ix/dp/fg.h): the RETA index
    the Toeplitz hash of its addresses and ports gives, modulo
    FLOW_GROUPS."""
    data = (src.to_bytes(4, "big") + dst.to_bytes(4, "big") + sport.to_bytes(2, "big") +
            dport.to_bytes(2, "big"))
    return (nictestlib.toeplitz(nictestlib.RSS_KEY, data) & 127) % FLOW_GROUPS


def connect_ports(core, cores, n, local, remote, remote_port):
    """The local ports of core's first n connects to remote:remote_port
    (ix/dp/main.c's connect_port): the next ports of the core's share
    whose replies land in a flow group of the core's (flow group f is
    core f % cores's)."""
    port, ports = EPHEMERAL_FIRST + core * (EPHEMERAL_PORTS // cores), []
    while len(ports) < n:
        if flow_group(remote, local, remote_port, port) % cores == core:
            ports.append(port)
        port += 1
    return ports


class LoadCores(Load):
    """run=lab10.load cores=2 under Bochs with two CPUs: ixecho-libix and
    ixload each on two cores (ixdp --cores=2: a Dune thread a core, each
    with its own queue, flow groups and ring 3), every reply checked as
    on one core; each core of the echo server takes exactly the
    connections the Toeplitz hash of their addresses and ports sends its
    flow groups, and ixload's cores open theirs (connection i on core
    i % 2, the end's on core 0) from the ports their share gives."""
    CORES = 2

    def check_echo(self, lines, seed, size):
        self.check_client(lines, "echo", "10.0.2.15:7", seed)
        self.assertIn("ixload: end quit done", lines)
        echo = [[int(v) for v in m.groups()] for m in
                (re.match(r"^ixecho-libix: tcp connections (\d+), closed (\d+), reset 0, "
                          r"aborted 0, refused 0, bytes echoed (\d+), held 0, errors 0$", x)
                 for x in lines)
                if m]
        self.assertEqual(self.CORES, len(echo), "one line of counters a core")
        total = [sum(column) for column in zip(*echo)]
        self.assertEqual(self.CONNS + 1, total[0])
        self.assertIn(total[1], (self.CONNS, self.CONNS + 1))
        self.assertEqual(self.REQUESTS * size + len("quit\r\n"), total[2])
        ports = []
        for core in range(self.CORES):
            mine = len(range(core, self.CONNS, self.CORES)) + (core == 0)
            ports += connect_ports(core, self.CORES, mine, CLIENT_IP, SERVER_IP, 7)
        want = [0] * self.CORES
        for port in ports:
            want[flow_group(CLIENT_IP, SERVER_IP, port, 7) % self.CORES] += 1
        knocks = {int(m.group(1)): int(m.group(2)) for m in
                  (re.match(r"^ixdp: port 0, core (\d+): .*, knocks (\d+)$", x) for x in lines)
                  if m}
        self.assertEqual(dict(enumerate(want)), knocks)


class Migrate(unittest.TestCase):
    """run=lab10.migrate under Bochs with two CPUs: ixload and
    ixecho-libix on two cores each while the kernel (the control plane,
    nic_ctl) moves ixload's flow groups between its cores, one move a
    tick, MOVES in all: every request answered and checked, no
    connection lost, the end's quit echoed, and ixload's dataplane
    counts every move it carried out."""
    CONNS, REQUESTS, MOVES = 8, 2000, 64

    def test_bochs_migrate(self):
        rng = random.Random()
        seed, size = rng.randrange(1, 1 << 32), rng.randint(1, 1000)
        cmdline = ("run=lab10.migrate conns=%d requests=%d seed=%d size=%d moves=%d every=1"
                   % (self.CONNS, self.REQUESTS, seed, size, self.MOVES))
        log = runner.BUILD / "ix-tests" / "bochs-migrate.log"
        result = runner.run_captured("bochs", cmdline, log, timeout=300, smp=2)
        lines = result.lines()
        where = "%s (%s; log %s)" % (cmdline, result.status, log)
        self.assertEqual("ok", result.status, where + "\n" + "\n".join(lines[-20:]))
        n = self.REQUESTS
        self.assertIn("ixload: requests %d, replies checked %d, errors 0, connections %d, "
                      "failed 0" % (n, n, self.CONNS), lines, where)
        self.assertIn("ixload: end quit done", lines, where)
        m = run_line(self, lines, r"^lab10\.migrate: (\d+) moves posted, (\d+) seen carried "
                     r"out, 0 refused; ixload ended with status 0, "
                     r"ixecho-libix with status 0$")
        posted, answered = int(m.group(1)), int(m.group(2))
        self.assertEqual(self.MOVES, posted, where)
        # The ports' two dataplanes: ixload's moved, the echo's did not.
        moved = sorted([int(v) for v in mm.groups()] for mm in
                       (re.match(r"^ixdp: flow groups moved (\d+), frames forwarded (\d+), "
                                 r"commands forwarded (\d+)$", x) for x in lines) if mm)
        self.assertEqual(2, len(moved), where)
        self.assertEqual([0, 0, 0], moved[0], where)
        self.assertTrue(answered <= moved[1][0] <= posted, "moves %s of %d posted, %d answered"
                        % (moved[1], posted, answered))
        echoed = [int(mm.group(1)) for mm in
                  (re.match(r"^ixecho-libix: tcp connections \d+, closed \d+, reset 0, "
                            r"aborted 0, refused 0, bytes echoed (\d+), held 0, errors 0$", x)
                   for x in lines) if mm]
        self.assertEqual(n * size + len("quit\r\n"), sum(echoed), where)


class Options(unittest.TestCase):
    """run=lab10.options under QEMU: ixecho-libix with each of ixdp's
    options wrong, refused before the dataplane takes the NIC, each with
    a line that says what is wrong and status 100."""
    WANT = [
        ("--cores=9", "ixdp: --cores=9: want a number from 1 to 4"),
        ("--keepalive=0", "ixdp: --keepalive=0: want a number from 1 to 7200000"),
        ("--keepalive=soon", "ixdp: --keepalive=soon: want a number from 1 to 7200000"),
        ("-b 65", "ixecho-libix: -b 65: the batch limit is a number from 1 to 64"),
        ("-b", "ixecho-libix: -b (missing): the batch limit is a number from 1 to 64"),
        ("--nic=2", "ixdp: --nic=2: want a number from 0 to 1"),
        ("10.0.2", "usage: ixecho-libix [--nic=0|1] [--cores=1..4] [--keepalive=MS] [-b LIMIT] "
                   "[IP [PORT [ARGS...]]]"),
    ]

    def test_qemu_options(self):
        log = runner.BUILD / "ix-tests" / "qemu-options.log"
        result = runner.run_captured("qemu", "run=lab10.options", log, timeout=60)
        lines = result.lines()
        where = "run=lab10.options (%s; log %s)" % (result.status, log)
        self.assertEqual("ok", result.status, where + "\n" + "\n".join(lines[-20:]))
        told = [line for line in lines if line.startswith(("ixdp: ", "ixecho-libix: ", "usage: ",
                                                           "lab10.options: "))]
        want = []
        for option, complaint in self.WANT:
            want += [complaint, "lab10.options: %s: status 100" % option]
        want.append("lab10.options: %d wrong options, each refused" % len(self.WANT))
        self.assertEqual(want, told, where)


class RawFrames(test_net.Frames, unittest.TestCase):
    """ARP and ping answered exactly by lwIP (its ICMP echo copies the
    frame, which it cannot grow in place in the driver's buffer), frames
    made here and carried to the e1000 by QEMU's socket network, then
    the bridge; the run ends after its seconds."""
    RUN = "run=lab10.echo seconds=%d" % SERVE_SECONDS

    def test_qemu_arp_ping(self):
        self.start(7)
        self.check_arp()
        pings = self.check_pings(random.Random())
        lines = self.finish()
        self.assertIn("ixecho: time is up", lines)
        self.assertIn("process ixecho[1] ended with status 0", lines)
        c = counters(lines)
        self.assertEqual((pings, pings, 0), (c[("lwip icmp", "recv")], c[("lwip icmp", "xmit")],
                                             c[("lwip icmp", "drop")]))
        self.assertEqual(1, c[("lwip etharp", "recv")])


if __name__ == "__main__":
    unittest.main()
