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
(grader/lab10.py), which drives them the same way. Nothing is sent
anywhere but 127.0.0.1.

  python3 tools/tests/test_ix.py [-k qemu]        (Bochs: -k bochs)
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
import runner  # noqa: E402
import test_net  # noqa: E402

CONNECTIONS = 8         # at once: more SYN-ACKs than lwIP's default ARP queue holds
LARGE = 1 << 20         # bytes of the message of many segments
PAUSE = 1               # seconds before its echo is read
SERVE_SECONDS = 4       # RawFrames' run: ixecho's seconds


def counters(lines, program="ixecho"):
    """(prefix, name) -> value for every 'name N' of the counter lines
    of program (ixecho, ixkvs, ixecho-libix), libix and the dataplane,
    the interface, the e1000 and lwIP:
    "ixecho: tcp connections 2, ..." gives ("ixecho", "tcp
    connections"); lwIP's "lwip: tcp recv 5, xmit 4" gives ("lwip tcp",
    "recv") and ("lwip tcp", "xmit")."""
    found = {}
    for line in lines:
        m = re.match(r"^(%s|libix|ixdp|netif|e1000|lwip): (.*)$" % re.escape(program), line)
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
