#!/usr/bin/env python3
"""The e1000 and the kernel's network services, driven from this machine.

Each test boots the kernel (run=lab9.pci or run=lab9.e1000) with an e1000
on the emulator's restricted user network (tools/run --net PORT), talks to
it through the forward of 127.0.0.1:PORT, and checks what comes back and
the counters the kernel prints at the end. Nothing is sent anywhere but
127.0.0.1.

  python3 tools/tests/test_net.py [-k qemu]        (Bochs tests: -k bochs)

Restricted slirp (QEMU's and Bochs's) drops every UDP datagram the guest
sends but to its own DHCP and TFTP services: UDP goes in through the
forward and its echoes never come back. So data round-trips by TCP, and
the UDP tests check the kernel's counts of what it echoed (which also
shows that the network is restricted). ARP, ping and UDP replies are
checked byte by byte with frames made here (RawFrames), carried by QEMU's
socket network between its e1000 and this test on 127.0.0.1.
"""
import json
import os
import queue
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(TOP / "tools"))
import runner  # noqa: E402

PORT_BASE = 27000
LOGS = runner.BUILD / "net-tests"
# Frames the driver's receive ring holds: E1000_RX_RING (kernel/net/e1000.h)
# less the one slot kept between tail and head.
RX_RING_USABLE = 31
# Guest seconds the kernel serves at most, and host seconds a run may take.
# Bochs's clock (sync=none) runs ahead of this machine's while the guest
# halts, by far: its guest time bounds nothing here.
SERVE_SECONDS = {"qemu": 30, "bochs": 100000}
# Guest milliseconds the flood test holds the receive ring.
HOLD_MS = {"qemu": 2000, "bochs": 60000}
RUN_TIMEOUT = {"qemu": 60, "bochs": 180}

QEMU_PCI = [
    "pci: 00:00.0 8086:1237 class 06.00.00 host bridge",
    "pci: 00:01.0 8086:7000 class 06.01.00 ISA bridge",
    "pci: 00:01.1 8086:7010 class 01.01.80 IDE controller",
    "pci: 00:01.3 8086:7113 class 06.80.00 bridge",
    "pci: 00:02.0 1234:1111 class 03.00.00 VGA controller",
]
QEMU_E1000 = "pci: 00:03.0 8086:100e class 02.00.00 Ethernet controller"
# QEMU's q35 PC, whose ACPI tables have an MCFG: configuration by ECAM.
QEMU_Q35_PCI = [
    "pci: 00:00.0 8086:29c0 class 06.00.00 host bridge",
    "pci: 00:01.0 1234:1111 class 03.00.00 VGA controller",
    "pci: 00:1f.0 8086:2918 class 06.01.00 ISA bridge",
    "pci: 00:1f.2 8086:2922 class 01.06.01 SATA controller",
    "pci: 00:1f.3 8086:2930 class 0c.05.00 SMBus controller",
]


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1, derived from the
    user id (as the runner's user_port) and the first free one after it."""
    start = PORT_BASE + os.getuid() % 5000
    for port in range(start, start + 100):
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET, kind) as s:
                    s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port in %d-%d" % (start, start + 99))


class Run:
    """A run of the kernel in a thread; the test waits for lines of its
    output as they come."""

    def __init__(self, test, emulator, cmdline, net=True):
        self.emulator = emulator
        self.port = free_port() if net else None
        self.lines = queue.Queue()
        self.partial = ""
        self.result = None
        log = LOGS / ("%s-%s.log" % (test.id().split(".")[-1], emulator))
        if self.port:
            cmdline += " port=%d" % self.port
        self.thread = threading.Thread(target=lambda: self.run(cmdline, log), daemon=True)
        self.thread.start()

    def run(self, cmdline, log):
        self.result = runner.run_captured(self.emulator, cmdline, log,
                                          timeout=RUN_TIMEOUT[self.emulator],
                                          net_port=self.port, echo=self.echo)
        self.lines.put(None)

    def echo(self, chunk):
        self.partial += chunk.replace("\r", "")
        *complete, self.partial = self.partial.split("\n")
        for line in complete:
            self.lines.put(line)

    def wait_for(self, pattern, timeout):
        """The first line from now on that matches pattern (re.search)."""
        line = runner.next_matching_line(self.lines, pattern, timeout)
        if line is None:
            raise AssertionError("no line /%s/ from the kernel%s" % (pattern, self.tail()))
        return line

    def finish(self):
        self.thread.join(RUN_TIMEOUT[self.emulator] + 10)
        if self.result is None or self.result.status != "ok":
            raise AssertionError("the run did not end ok: %s %s%s" % (
                self.result.status if self.result else "still running",
                self.result.reason if self.result else "", self.tail()))
        return self.result.lines()

    def tail(self):
        if self.result is None:
            return ""
        return "\n  " + "\n  ".join(self.result.lines()[-15:])


def counters(lines):
    """name -> value for every 'name N' of the kernel's counter lines
    (lab9.e1000's print_counters: "e1000: rx frames 5, tx frames 5, ...")."""
    found = {}
    for line in lines:
        if not re.match(r"^(e1000|net): ", line) or "," not in line:
            continue
        for part in line.split(":", 1)[1].split(","):
            m = re.match(r"^\s*([a-z ]+?) (\d+)\b", part)
            if m:
                found[m.group(1)] = int(m.group(2))
    return found


def tcp_quit(port, timeout=30):
    """Sends "quit" on a new connection (the kernel's serving loop ends
    once it has echoed it) and returns what came back; closes without
    waiting for the kernel's FIN, which may never come."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        c.sendall(b"quit")
        got = b""
        while len(got) < 4:
            chunk = c.recv(100)
            if not chunk:
                break
            got += chunk
    return got


def round_trips(test, conn, messages):
    """Sends each message on conn and checks that exactly it comes back
    before the next; returns the bytes echoed."""
    sent = 0
    for m in messages:
        conn.sendall(m)
        got = b""
        while len(got) < len(m):
            chunk = conn.recv(65536)
            test.assertTrue(chunk, "the connection closed after %d bytes" % sent)
            got += chunk
        test.assertEqual(m, got, "the echo of %d bytes differs" % len(m))
        sent += len(m)
    return sent


class Pci(unittest.TestCase):
    def test_qemu_without_nic(self):
        run = Run(self, "qemu", "run=lab9.pci", net=False)
        lines = run.finish()
        self.assertEqual(QEMU_PCI, [l for l in lines if re.match(r"pci: \S+ \w{4}:\w{4} ", l)])
        self.assertIn("pci: 5 functions, configuration by ports 0xCF8/0xCFC", lines)

    def test_qemu_with_nic(self):
        run = Run(self, "qemu", "run=lab9.pci")
        lines = run.finish()
        self.assertEqual(QEMU_PCI + [QEMU_E1000],
                         [l for l in lines if re.match(r"pci: \S+ \w{4}:\w{4} ", l)])
        bars = [re.sub(r"0x[0-9a-f]+", "ADDR", l) for l in lines if "00:03.0   bar" in l]
        self.assertEqual(["pci: 00:03.0   bar 0: memory ADDR, 131072 bytes",
                          "pci: 00:03.0   bar 1: ports ADDR, 64 bytes"], bars)

    def test_qemu_q35_ecam(self):
        cmd = runner.qemu_command("qemu", "run=lab9.pci", 1, 128) + ["-machine", "q35"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        lines = proc.stdout.replace("\r", "").splitlines()
        self.assertIn("== end: ok", lines, "\n".join(lines[-10:]))
        self.assertIn("pci: 5 functions, configuration by ECAM", lines)
        self.assertEqual(QEMU_Q35_PCI,
                         [l for l in lines if re.match(r"pci: \S+ \w{4}:\w{4} ", l)])


class Msi(unittest.TestCase):
    """QEMU's edu device raises interrupts on demand: by MSI, and by its
    INTx line through the I/O APIC when told to; its e1000e by MSI-X."""

    def check(self, irq, kind):
        values = [random.randrange(1, 1 << 30) for _ in range(3)]
        cmdline = "run=lab9.msi irq=%s values=%s" % (irq, ",".join(map(str, values)))
        cmd = runner.qemu_command("qemu", cmdline, 1, 128) + ["-device", "edu"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        lines = proc.stdout.replace("\r", "").splitlines()
        self.assertIn("== end: ok", lines, "\n".join(lines[-10:]))
        self.assertEqual(["msi: edu 00:03.0 interrupts by " + kind] +
                         ["msi: interrupt with status %d" % v for v in values],
                         [l for l in lines if l.startswith("msi: ")])

    def test_qemu_msi(self):
        self.check("msi", "MSI")

    def test_qemu_intx(self):
        self.check("intx", "INTx")

    def test_qemu_msix(self):
        """QEMU's e1000e has MSI-X, which the kernel prefers."""
        times = random.randint(2, 6)
        cmd = runner.qemu_command("qemu", "run=lab9.msix times=%d" % times, 1, 128) + \
            ["-device", "e1000e"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        lines = proc.stdout.replace("\r", "").splitlines()
        self.assertIn("== end: ok", lines, "\n".join(lines[-10:]))
        self.assertEqual(["msix: e1000e 00:03.0 interrupts by MSI-X"] +
                         ["msix: interrupt %d: link status change" % i for i in range(times)],
                         [l for l in lines if l.startswith("msix: ")])


def checksum(data):
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def ip_bytes(text):
    return socket.inet_aton(text)


class Frames:
    """Ethernet frames made here, carried to and from QEMU's e1000 as UDP
    datagrams on 127.0.0.1 (QEMU's socket network: no NAT, no other
    host, nothing reachable but this test's socket). A mixin of
    unittest.TestCase: the kernel's run, the frames and their checks."""

    HOST_MAC = mac_bytes("02:00:00:00:00:02")
    HOST_IP = "10.0.2.2"
    GUEST_MAC = mac_bytes(runner.NET_MAC)
    GUEST_IP = runner.NET_GUEST_IP
    RUN = "run=lab9.e1000 seconds=30"   # what the kernel runs (test_ix.py's: lab10.echo)

    def start(self, echo_port, extra=""):
        self.host_port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.qemu_port = s.getsockname()[1]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.host_port))
        self.sock.settimeout(5)
        cmd = runner.qemu_command("qemu", "%s port=%d %s" % (self.RUN, echo_port, extra), 1,
                                  128)
        at = cmd.index("-nic")
        del cmd[at:at + 2]
        LOGS.mkdir(parents=True, exist_ok=True)
        self.qmp_path = LOGS / "raw-frames.qmp"
        if self.qmp_path.exists():
            self.qmp_path.unlink()
        cmd += ["-netdev", "socket,id=n0,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d"
                % (self.host_port, self.qemu_port),
                "-device", "e1000,netdev=n0,mac=" + runner.NET_MAC,
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        seen = []
        for line in self.proc.stdout:
            seen.append(line)
            if "echo on port" in line:
                return
        self.fail("the kernel never served:\n" + "".join(seen[-10:]))

    def set_link(self, up):
        """QEMU's set_link through its QMP socket (a Unix socket): the NIC
        sees its link go down or up and interrupts (LSC)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as q:
            q.settimeout(10)
            q.connect(str(self.qmp_path))
            f = q.makefile("rw")
            f.readline()                                    # the greeting
            for command in ({"execute": "qmp_capabilities"},
                            {"execute": "set_link", "arguments": {"name": "n0", "up": up}}):
                f.write(json.dumps(command) + "\n")
                f.flush()
                self.assertIn("return", json.loads(f.readline()))

    def wait_line(self, pattern):
        for line in self.proc.stdout:
            if re.search(pattern, line):
                return line
        self.fail("no line /%s/ from the kernel" % pattern)

    def finish(self):
        out, _ = self.proc.communicate(timeout=60)
        self.sock.close()
        return out.replace("\r", "").splitlines()

    def send(self, frame):
        self.sock.sendto(frame, ("127.0.0.1", self.qemu_port))

    def receive(self):
        """The next frame sent to this test's MAC address (lwIP, say,
        broadcasts an ARP request for its own address when it starts)."""
        while True:
            frame, _ = self.sock.recvfrom(2048)
            if frame[0:6] == self.HOST_MAC:
                return frame

    def eth(self, ethertype, payload, dst=None):
        return (dst or self.GUEST_MAC) + self.HOST_MAC + struct.pack("!H", ethertype) + payload

    def ip(self, protocol, payload, bad_checksum=False):
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, 0, 64,
                             protocol, 0, ip_bytes(self.HOST_IP), ip_bytes(self.GUEST_IP))
        sum_ = checksum(header) ^ (0x5555 if bad_checksum else 0)
        return header[:10] + struct.pack("!H", sum_) + header[12:] + payload

    def udp(self, src_port, dst_port, data):
        header = struct.pack("!HHHH", src_port, dst_port, 8 + len(data), 0)
        pseudo = ip_bytes(self.HOST_IP) + ip_bytes(self.GUEST_IP) + \
            struct.pack("!BBH", 0, 17, 8 + len(data))
        sum_ = checksum(pseudo + header + data) or 0xFFFF
        return header[:6] + struct.pack("!H", sum_) + data

    def check_arp(self):
        """ARP: who has the guest's address? Its reply, exactly."""
        arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, self.HOST_MAC,
                          ip_bytes(self.HOST_IP), b"\0" * 6, ip_bytes(self.GUEST_IP))
        self.send(self.eth(0x0806, arp, dst=b"\xff" * 6))
        reply = self.receive()
        self.assertEqual(b"\x08\x06", reply[12:14], "not an ARP reply")
        self.assertEqual(struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, self.GUEST_MAC,
                                     ip_bytes(self.GUEST_IP), self.HOST_MAC,
                                     ip_bytes(self.HOST_IP)), reply[14:42])

    def check_pings(self, rng):
        """Pings with random identifiers and data, each answered exactly;
        returns how many."""
        pings = 0
        for seq in range(rng.randint(2, 5)):
            ident, data = rng.getrandbits(16), os.urandom(rng.randint(0, 1000))
            icmp = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
            icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
            self.send(self.eth(0x0800, self.ip(1, icmp)))
            _, answer = self.check_ip_reply(self.receive(), 1)
            self.assertEqual(0, checksum(answer), "ICMP checksum")
            self.assertEqual(struct.pack("!BB", 0, 0), answer[:2])
            self.assertEqual(icmp[4:], answer[4:], "the echo's identifier, sequence, data")
            pings += 1
        return pings

    def check_ip_reply(self, frame, protocol):
        self.assertEqual(self.HOST_MAC, frame[0:6])
        self.assertEqual(self.GUEST_MAC, frame[6:12])
        self.assertEqual(b"\x08\x00", frame[12:14])
        ip = frame[14:34]
        self.assertEqual(0, checksum(ip), "IP header checksum")
        self.assertEqual(protocol, ip[9])
        self.assertEqual(ip_bytes(self.GUEST_IP) + ip_bytes(self.HOST_IP), ip[12:20])
        return ip, frame[34:14 + struct.unpack("!H", ip[2:4])[0]]


class RawFrames(Frames, unittest.TestCase):
    """ARP, ping and UDP echo answered exactly, what is not for the kernel
    ignored, a bad checksum refused, the link's going down and up
    noticed."""

    def test_qemu_arp_ping_udp(self):
        rng = random.Random()
        port = rng.randrange(1024, 60000)
        self.start(port)
        self.check_arp()
        pings = self.check_pings(rng)
        # UDP echo.
        datagrams = 0
        for _ in range(rng.randint(2, 5)):
            src, data = rng.randrange(1024, 60000), os.urandom(rng.randint(1, 1400))
            self.send(self.eth(0x0800, self.ip(17, self.udp(src, port, data))))
            ip, answer = self.check_ip_reply(self.receive(), 17)
            pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, len(answer))
            self.assertEqual(0, checksum(pseudo + answer), "UDP checksum")
            self.assertEqual(struct.pack("!HHH", port, src, 8 + len(data)), answer[:6])
            self.assertEqual(data, answer[8:])
            datagrams += 1
        # Not for the kernel: another MAC (the NIC's address filter drops
        # it), another port (ignored); broken: the IP checksum (malformed).
        self.send(self.eth(0x0800, self.ip(17, self.udp(9, port, b"x")),
                           dst=mac_bytes("02:00:00:00:00:09")))
        self.send(self.eth(0x0800, self.ip(17, self.udp(9, port ^ 1, b"x"))))
        self.send(self.eth(0x0800, self.ip(17, self.udp(9, port, b"x"), bad_checksum=True)))
        # The link goes down and comes back: a link status change each time.
        self.set_link(False)
        self.wait_line(r"^e1000: link down")
        self.set_link(True)
        self.wait_line(r"^e1000: link up$")
        self.send(self.eth(0x0800, self.ip(17, self.udp(9, port, b"quit"))))
        self.assertEqual(b"quit", self.check_ip_reply(self.receive(), 17)[1][8:])
        lines = self.finish()
        c = counters(lines)
        self.assertEqual((1, pings, datagrams + 1, 1, 1),
                         (c["arp replies"], c["icmp echoes"], c["udp echoes"], c["ignored"],
                          c["malformed"]), "\n".join(lines[-8:]))
        self.assertEqual(1 + pings + datagrams + 2 + 1, c["rx frames"])
        self.assertEqual(1 + pings + datagrams + 1, c["tx frames"])


    def test_qemu_count(self):
        """count=N: the kernel serves N UDP datagrams, then ends."""
        n = random.randint(1, 6)
        self.start(7, "count=%d" % n)
        for i in range(n):
            self.send(self.eth(0x0800, self.ip(17, self.udp(5000 + i, 7, b"%d" % i))))
            self.assertEqual(b"%d" % i, self.check_ip_reply(self.receive(), 17)[1][8:])
        lines = self.finish()
        self.assertIn("net: all datagrams echoed", lines)
        self.assertEqual(n, counters(lines)["udp echoes"])
        self.assertIn("== end: ok", lines)


class Echo:
    """TCP round trips of random data, UDP that goes in and is counted,
    and the counters at the end."""

    def check_echo(self, emulator):
        rng = random.Random()
        run = Run(self, emulator, "run=lab9.e1000 seconds=%d" % SERVE_SECONDS[emulator])
        run.wait_for(r"^net: .* echo on port", RUN_TIMEOUT[emulator])
        messages = [os.urandom(rng.randint(1, 1400)) for _ in range(5)] + [os.urandom(50000)]
        with socket.create_connection(("127.0.0.1", run.port), timeout=30) as c:
            sent = round_trips(self, c, messages)
            c.shutdown(socket.SHUT_WR)
            self.assertEqual(b"", c.recv(100), "no FIN after the echo")
        datagrams = rng.randint(3, 8)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(1)
            for i in range(datagrams):
                u.sendto(b"datagram %d" % i, ("127.0.0.1", run.port))
                # Restricted: the kernel's echo never comes back.
                with self.assertRaises(socket.timeout):
                    u.recvfrom(2048)
        self.assertEqual(b"quit", tcp_quit(run.port))
        lines = run.finish()
        self.assertIn("e1000: mac %s from the EEPROM" % runner.NET_MAC, lines)
        self.assertIn("e1000: link up, 1000 Mb/s full duplex", lines)
        c = counters(lines)
        self.assertEqual(0, c["missed"], lines)
        self.assertEqual(0, c["errors"])
        self.assertEqual(0, c["tx ring full"])
        self.assertEqual(0, c["malformed"])
        self.assertEqual(datagrams, c["udp echoes"])
        self.assertEqual(2, c["tcp connections"])
        # The first by FIN both ways; the second ends the run, before or
        # after the kernel has seen its FIN.
        self.assertIn(c["closed"], (1, 2))
        self.assertEqual(sent + 4, c["bytes echoed"])
        self.assertEqual(0, c["segments left unacknowledged"])
        self.assertEqual(1, c["arp replies"])
        # What the NIC stored the driver handed on, all of it (the quit
        # ends the run: frames after it may wait in the ring).
        self.assertLessEqual(c["rx frames"], c["received"])
        self.assertGreaterEqual(c["rx frames"], c["received"] - 2)
        self.assertEqual(c["tx frames"], c["sent"])
        self.assertEqual(c["tx frames"], c["arp replies"] + c["udp echoes"] + c["icmp echoes"] +
                         c["segments sent"])


class Flood:
    """More datagrams than the receive ring holds, while the driver holds
    the ring (it fills: every slot is full at the release): each datagram
    is either echoed by the kernel or counted missed by the NIC (MPC), and
    every frame the NIC stored reached the kernel. QEMU's e1000 drops (and
    counts) what does not fit once its own queue gives up; Bochs's slirp
    keeps the frames until the ring has room, so nothing is missed."""

    def check_flood(self, emulator, expect_drops, datagrams=100):
        hold_ms = HOLD_MS[emulator]
        run = Run(self, emulator, "run=lab9.e1000 seconds=%d hold=%d"
                  % (SERVE_SECONDS[emulator], hold_ms))
        run.wait_for(r"^net: .* echo on port", RUN_TIMEOUT[emulator])
        # slirp resolves the guest's address with ARP before its first
        # frame to it, and may drop a datagram that waited for the answer;
        # a TCP round trip (which slirp retries) gets it resolved first.
        with socket.create_connection(("127.0.0.1", run.port), timeout=30) as c:
            c.sendall(b"arp")
            self.assertEqual(b"arp", c.recv(10))
            c.shutdown(socket.SHUT_WR)
            self.assertEqual(b"", c.recv(10))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.sendto(b"first", ("127.0.0.1", run.port))
            run.wait_for(r"^e1000: receive ring held", 30)
            for i in range(datagrams):
                u.sendto(b"flood %d" % i, ("127.0.0.1", run.port))
            released = run.wait_for(r"^e1000: receive ring released", 60)
            time.sleep(1)
            u.sendto(b"quit", ("127.0.0.1", run.port))
        lines = run.finish()
        c = counters(lines)
        offered = 1 + datagrams + 1
        self.assertIn(" %d of %d slots full" % (RX_RING_USABLE, RX_RING_USABLE), released)
        if expect_drops:
            self.assertGreater(c["missed"], 0, "nothing was dropped: %s" % c)
        else:
            self.assertEqual(0, c["missed"])
        self.assertEqual(offered, c["udp echoes"] + c["missed"],
                         "echoed %d + missed %d != %d sent" % (c["udp echoes"], c["missed"],
                                                                offered))
        self.assertGreaterEqual(c["udp echoes"], 1 + RX_RING_USABLE + 1)
        self.assertEqual(c["rx frames"], c["received"])
        self.assertEqual(0, c["errors"])


def nic_counters(lines):
    """nicecho's line of the 82599's counters, as name -> value."""
    for line in lines:
        m = re.match(r"^nicecho: 82599 received (\d+), sent (\d+), missed (\d+), "
                     r"dropped (\d+); replies dropped (\d+)$", line)
        if m:
            return dict(zip(("received", "sent", "missed", "dropped", "replies dropped"),
                            map(int, m.groups())))
    raise AssertionError("no counters of the 82599 from nicecho")


class Bridge(unittest.TestCase):
    """A client on this machine and the ixgbe driver in a user process:
    TCP round trips through the emulator's port forward, its e1000, the
    bridge, the emulated 82599's port 0, the driver and the kernel's
    network services built into nicecho; UDP in (restricted: counted)."""

    def test_qemu_bridge(self):
        rng = random.Random()
        run = Run(self, "qemu", "run=lab9.bridge seconds=%d" % SERVE_SECONDS["qemu"])
        run.wait_for(r"^nicecho: emulated port 0, mac %s, link up; .* echo on port %d$"
                     % (runner.NET_MAC, run.port), RUN_TIMEOUT["qemu"])
        messages = [os.urandom(rng.randint(1, 1400)) for _ in range(4)] + [os.urandom(20000)]
        with socket.create_connection(("127.0.0.1", run.port), timeout=30) as c:
            sent = round_trips(self, c, messages)
        datagrams = rng.randint(2, 5)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            for i in range(datagrams):
                u.sendto(b"datagram %d" % i, ("127.0.0.1", run.port))
        # The datagrams reach nicecho before the quit, on the same path.
        time.sleep(1)
        self.assertEqual(b"quit", tcp_quit(run.port))
        lines = run.finish()
        self.assertIn("nicecho: quit received", lines)
        self.assertIn("process nicecho[1] ended with status 0", lines)
        self.assertIn("bridge: frames with no wire 0", lines)
        c = counters(lines)
        self.assertEqual(2, c["tcp connections"])
        self.assertEqual(sent + 4, c["bytes echoed"])
        self.assertEqual(datagrams, c["udp echoes"])
        self.assertEqual(0, c["malformed"])
        self.assertEqual(0, c["segments left unacknowledged"])
        n = nic_counters(lines)
        self.assertEqual(0, n["missed"])
        self.assertEqual(0, n["dropped"])
        self.assertEqual(0, n["replies dropped"])
        # Every frame the e1000 received went to port 0, every frame port
        # 0 sent left by the e1000 (the e1000's count: its driver counts
        # a frame once reclaimed, which the last one may not be yet).
        self.assertEqual(c["rx frames"], n["received"])
        self.assertEqual(c["sent"], n["sent"])
        self.assertEqual(n["sent"], c["arp replies"] + c["udp echoes"] + c["icmp echoes"] +
                         c["segments sent"])


class Qemu(unittest.TestCase, Echo, Flood):
    def test_qemu_echo(self):
        self.check_echo("qemu")

    def test_qemu_flood(self):
        self.check_flood("qemu", expect_drops=True)


class Bochs(unittest.TestCase, Echo, Flood):
    def test_bochs_echo(self):
        self.check_echo("bochs")

    def test_bochs_flood(self):
        self.check_flood("bochs", expect_drops=False)


if __name__ == "__main__":
    unittest.main()
