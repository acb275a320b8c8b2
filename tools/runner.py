"""Run the kernel in an emulator: QEMU (software CPU), QEMU with KVM, or
Bochs. Used by tools/run (make run, make gdb) and by the grader.

A run passes the kernel a command line, captures what the kernel prints
(COM1 under QEMU, port 0xE9 under Bochs) into a log, and ends in one of
these ways (RunResult.status):
  ok       the kernel printed "== end: ok" and powered off
  panic    the kernel printed "== end: panic" (a panic or a kernel fault)
  reset    the machine stopped without an end marker (triple fault, or a
           failed emulator check: see the emulator log)
  timeout  nothing ended the run within the time limit
  loop     the kernel printed the same line, or the same short cycle of
           lines, LoopWatch.REPEATS times in a row: the run is stopped
           there, well before the time limit, and its log stays short
  crashed  the emulator itself died of a signal (a fault of QEMU's or
           Bochs's own, not of the kernel); the grader runs such a boot
           once more
  error    the emulator could not start or failed
A run stopped by the runner (timeout, loop) says where each CPU was
(RunResult.places), named by the kernel function ('cpu 0 in f+0x1c').
"""

import collections
import os
import queue
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import tty
from dataclasses import dataclass, field
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
BUILD = TOP / "build"
KERNEL_ELF = BUILD / "kernel" / "kernel.elf"
BOCHSRC_TEMPLATE = TOP / "tools" / "bochsrc.in"

END_MARKER = re.compile(r"^== end: (ok|panic)\s*$", re.M)
# How long an emulator may take to exit after the kernel's end marker.
EXIT_GRACE_SECONDS = 5
OUTLIVE_SECONDS = 120           # past a run's time limit, its emulator is killed regardless
DEFAULT_TIMEOUT = {"qemu": 30, "kvm": 30, "bochs": 120}

EMULATORS = ("qemu", "kvm", "bochs")
# How the machine starts: its BIOS loads the kernel (QEMU's own Multiboot
# loader; GRUB's BIOS loader from the ISO under Bochs), or UEFI firmware
# (Debian's OVMF, QEMU only) loads GRUB's EFI loader from the hybrid ISO.
FIRMWARES = ("bios", "uefi")
OVMF_IMAGES = (Path("/usr/share/ovmf/OVMF.fd"), Path("/usr/share/OVMF/OVMF.fd"))
# Bochs's CPU when none is asked for: VMX with EPT, VPID and unrestricted
# guest (the VT-x labs need them).
BOCHS_CPU_MODEL = "corei7_haswell_4770"
EMULATOR_NAMES = {"qemu": "QEMU's software CPU (TCG)", "kvm": "QEMU with KVM",
                  "bochs": "Bochs"}


@dataclass
class RunResult:
    emulator: str
    cmdline: str
    status: str = "error"
    output: str = ""
    seconds: float = 0.0
    exit_code: int = None
    log_path: Path = None
    emulator_log: str = ""      # Bochs's own log (VM-entry failures etc.)
    reason: str = ""            # for reset/timeout/loop/error: what happened
    places: list = field(default_factory=list)  # [CpuPlace]: where a stopped run's CPUs were
    loop_cycle: list = None     # for a loop: the lines that repeated (LoopWatch.REPEATS times)

    def lines(self):
        return self.output.splitlines()


class EmulatorUnavailable(RuntimeError):
    """The emulator asked for cannot run this kernel on this machine."""


def kvm_unusable_reason(root="/"):
    """Why KVM cannot run this kernel here, or None if it can. KVM must be
    hardware-assisted: the CPU reports VT-x or AMD-V (the vmx or svm flag
    of /proc/cpuinfo: CPUID.1:ECX.VMX, Intel SDM Vol. 3C 23.6; CPUID
    0x80000001:ECX.SVM, AMD APM Vol. 2 15.4) and kvm_intel or kvm_amd
    drives it. A paravirtual KVM (module kvm_pvm, nested inside
    another hypervisor without VT-x) opens /dev/kvm but does not run this
    kernel: its SYSCALL lands at syscall_entry still in ring 3. root points
    the checks at another tree of /dev, /proc and /sys (for tests)."""
    root = Path(root)
    dev = root / "dev" / "kvm"
    if not dev.exists():
        return "%s does not exist (no KVM on this machine)" % dev
    if not os.access(dev, os.R_OK | os.W_OK):
        return "%s is not readable and writable by you (join group kvm)" % dev
    modules = root / "sys" / "module"
    if (modules / "kvm_pvm").exists():
        return ("the KVM here is kvm_pvm, a paravirtual KVM without VT-x or AMD-V, "
                "which does not run this kernel")
    try:
        cpuinfo = (root / "proc" / "cpuinfo").read_text()
    except OSError as e:
        return "cannot read the CPU flags: %s" % e
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
    for flag, module in (("vmx", "kvm_intel"), ("svm", "kvm_amd")):
        if flag in flags:
            if (modules / module).exists():
                return None
            return "the CPU has %s but the %s module is not loaded" % (flag, module)
    return "the CPU has neither the vmx nor the svm flag (no hardware virtualization)"


def nested_vmx_missing_reason(root="/"):
    """Why hardware KVM here gives its guests no VMX, or None if it does
    (kvm_intel with its nested parameter on)."""
    modules = Path(root) / "sys" / "module"
    if not (modules / "kvm_intel").exists():
        return "this KVM (kvm_amd) gives its guests SVM, not the VMX the VT-x labs need"
    try:
        value = (modules / "kvm_intel" / "parameters" / "nested").read_text().strip()
    except OSError:
        value = "unknown"
    if value in ("Y", "1"):
        return None
    return "kvm_intel's nested VMX is off (nested=%s; the VT-x labs need it)" % value


def pick_emulator(requested, needs_vmx=False, root="/", say=None):
    """Resolve 'auto': KVM where it can run this kernel (with nested VMX
    for VT-x labs), else QEMU's software CPU, or Bochs for VT-x labs
    (QEMU's software CPU has no VMX); say(line), by default a line on
    stderr, tells which it chose and why KVM was not. Raises EmulatorUnavailable if
    KVM was asked for where it cannot run this kernel."""
    say = say or (lambda line: print(line, file=sys.stderr))
    why = kvm_unusable_reason(root)
    if requested == "kvm" and why:
        raise EmulatorUnavailable("cannot use KVM: " + why)
    if requested != "auto":
        return requested
    if not why and needs_vmx:
        why = nested_vmx_missing_reason(root)
    if not why:
        say("run: using %s" % EMULATOR_NAMES["kvm"])
        return "kvm"
    fallback = "bochs" if needs_vmx else "qemu"
    say("run: not using KVM: %s; using %s" % (why, EMULATOR_NAMES[fallback]))
    return fallback


def user_port(base):
    """A TCP port for this user (so users of one machine do not collide);
    refuses one that is taken."""
    port = base + os.getuid() % 5000
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise RuntimeError("port %d (derived from your user id) is in use: "
                               "is another run of yours still going?" % port)
    return port


def tool_versions():
    """The versions of the tools whose behaviour the labs depend on."""
    versions = {}
    for name, cmd in (("gcc", ["gcc", "--version"]),
                      ("qemu", ["qemu-system-x86_64", "--version"]),
                      ("bochs", ["dpkg-query", "-W", "-f=${Version}", "bochs"])):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
            versions[name] = out.splitlines()[0].strip() if out else "unknown"
        except (OSError, subprocess.SubprocessError):
            versions[name] = "not installed"
    return versions


def ovmf_image():
    for path in OVMF_IMAGES:
        if path.exists():
            return path
    raise RuntimeError("no UEFI firmware (%s): install Debian's ovmf package "
                       "(tools/setup does)" % OVMF_IMAGES[0])


# The NIC a run with a network gets: an e1000 (82540EM) with this MAC
# address, on the emulator's user-mode network (QEMU's user networking,
# Bochs's slirp), where the guest is 10.0.2.15 and the host 10.0.2.2.
NET_MAC = "52:54:00:12:34:56"
NET_GUEST_IP = "10.0.2.15"


def qemu_net_args(net_port):
    """No NIC at all without a port (QEMU's PC would otherwise get one on
    an unrestricted network). With one: an e1000 on a restricted user
    network (the guest reaches nothing beyond the emulator), and TCP
    connections and UDP datagrams to 127.0.0.1:net_port on this machine
    forwarded to the same port of the guest, on the loopback address only.
    Restricted slirp drops every UDP datagram the guest sends but to its
    own DHCP and TFTP services, replies to forwarded ones too: through
    the forward, only TCP comes back."""
    if net_port is None:
        return ["-nic", "none"]
    forwards = ",".join("hostfwd=%s:127.0.0.1:%d-:%d" % (proto, net_port, net_port)
                        for proto in ("tcp", "udp"))
    return ["-netdev", "user,id=n0,restrict=on," + forwards,
            "-device", "e1000,netdev=n0,mac=" + NET_MAC]


def qemu_command(emulator, cmdline, smp, megs, interactive=False, gdb_port=None, cpu=None,
                 uefi_iso=None, net_port=None, monitor=None):
    """The QEMU command line for a run (cpu: a -cpu model, else QEMU's own
    default, or the host's CPU under KVM). With uefi_iso, a PC of today
    (q35) whose UEFI firmware boots that ISO (its grub.cfg holds the
    command line); else QEMU loads the kernel itself. net_port: see
    qemu_net_args. With monitor (a path), QEMU's monitor listens on that
    unix socket, so that the runner can ask where the CPUs are when a run
    hangs."""
    if uefi_iso:
        boot = ["-machine", "q35", "-bios", str(ovmf_image()), "-cdrom", str(uefi_iso)]
    else:
        boot = ["-kernel", str(KERNEL_ELF), "-append", cmdline]
    cmd = ["qemu-system-x86_64"] + boot + ["-m", str(megs), "-smp", str(smp), "-no-reboot", "-display", "none",
           "-serial", "mon:stdio" if interactive else "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4"] + qemu_net_args(net_port)
    if emulator == "kvm":
        why = kvm_unusable_reason()
        if why:
            raise EmulatorUnavailable("cannot use KVM: " + why)
        cmd += ["-enable-kvm", "-cpu", cpu or "host"]
    elif cpu:
        cmd += ["-cpu", cpu]
    if gdb_port is not None:
        cmd += ["-S", "-gdb", "tcp:127.0.0.1:%d" % gdb_port]
    if monitor is not None:
        # A comma in a QEMU option's value is written twice.
        cmd += ["-monitor", "unix:%s,server=on,wait=off" % str(monitor).replace(",", ",,")]
    return cmd


def make_iso(cmdline, iso_path):
    """Build a GRUB ISO that boots the kernel with this command line."""
    root = iso_path.parent / (iso_path.stem + ".root")
    shutil.rmtree(root, ignore_errors=True)
    (root / "boot" / "grub").mkdir(parents=True)
    shutil.copy(KERNEL_ELF, root / "boot" / "kernel.elf")
    (root / "boot" / "grub" / "grub.cfg").write_text(grub_config(cmdline))
    proc = subprocess.run(["grub-mkrescue", "-o", str(iso_path), str(root)],
                          capture_output=True, text=True)
    shutil.rmtree(root, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError("grub-mkrescue failed:\n" + proc.stderr)


def grub_config(cmdline):
    """grub.cfg: boot the kernel at once with the given command line, by
    Multiboot2 (the RSDP of a UEFI machine comes only that way)."""
    return ("set timeout=0\nset default=0\n"
            'menuentry "kernel" {\n'
            "\tmultiboot2 /boot/kernel.elf %s\n\tboot\n}\n" % cmdline)


def bochs_config(iso, log, smp, megs, com1_mode, com1_dev, cpu=None, slirp_config=None):
    """The bochsrc; with slirp_config (the path of bochs_slirp_config's
    file), an e1000 on Bochs's slirp network."""
    text = BOCHSRC_TEMPLATE.read_text()
    for key, value in (("ISO", iso), ("LOG", log), ("CPUS", smp), ("MEGS", megs),
                       ("CPU_MODEL", cpu or BOCHS_CPU_MODEL),
                       ("COM1_MODE", com1_mode), ("COM1_DEV", com1_dev)):
        text = text.replace("@%s@" % key, str(value))
    if slirp_config:
        text += ("# The NIC: an e1000 on slirp (its configuration: %s).\n"
                 "plugin_ctrl: e1000=1\n"
                 "e1000: enabled=1, mac=%s, ethmod=slirp, script=%s\n"
                 % (slirp_config, NET_MAC, slirp_config))
    return text


def bochs_slirp_config(net_port):
    """Bochs's slirp configuration (its first line must say so): restricted
    (the guest reaches only slirp's own services), and TCP and UDP to
    127.0.0.1:net_port forwarded to the same port of the guest."""
    return ("# slirp config\n"
            "restricted = 1\n"
            "hostfwd = tcp:127.0.0.1:%d-:%d\n"
            "hostfwd = udp:127.0.0.1:%d-:%d\n" % ((net_port,) * 4))


def bochs_command(workdir, cmdline, smp, megs, interactive=False, cpu=None, com1_tty=None,
                  net_port=None):
    """Write the ISO, bochsrc and debugger script for a Bochs run into
    workdir and return the command. Debian's Bochs has its debugger built
    in: the script's "c" lets it run without stopping at a prompt. COM1 is
    the terminal (interactive), the terminal device com1_tty, or a file.
    net_port: an e1000 whose port net_port is forwarded (bochs_slirp_config)."""
    iso = workdir / "kernel.iso"
    make_iso(cmdline, iso)
    slirp = None
    if net_port is not None:
        slirp = workdir / "slirp.conf"
        slirp.write_text(bochs_slirp_config(net_port))
    if interactive and os.isatty(0):
        com1_tty = os.ttyname(0)
    if com1_tty:
        com1_mode, com1_dev = "term", com1_tty
    else:
        com1_mode, com1_dev = "file", workdir / "com1.log"
    (workdir / "bochsrc").write_text(
        bochs_config(iso, workdir / "bochs.log", smp, megs, com1_mode, com1_dev, cpu, slirp))
    (workdir / "bochs.rc").write_text("c\n")
    return ["bochs", "-q", "-f", str(workdir / "bochsrc"), "-rc", str(workdir / "bochs.rc")]


# QEMU's exit status when the kernel writes v to isa-debug-exit is
# (v << 1) | 1; 0 means QEMU stopped on its own (with -no-reboot, a reset).
QEMU_EXIT_STATUS = {1: "ok", 3: "panic", 0: "reset"}


def run_interactive(emulator, cmdline, smp=1, megs=256, gdb_port=None, firmware="bios",
                    net_port=None):
    """Run with the terminal attached to the serial console (make run,
    make gdb); returns how the run ended: ok, panic, reset or error."""
    workdir = BUILD / "run" / "interactive"
    workdir.mkdir(parents=True, exist_ok=True)
    if not os.isatty(0) and gdb_port is None:
        return run_piped(emulator, workdir, cmdline, smp, megs, firmware, net_port)
    if emulator == "bochs":
        if firmware != "bios":
            raise RuntimeError("Bochs boots by its BIOS only: UEFI boots run under QEMU")
        cmd = bochs_command(workdir, cmdline, smp, megs, interactive=True, net_port=net_port)
        # COM1 is the terminal. Port 0xE9's copy of the output goes to a
        # file, whose end marker says how the run ended (Bochs exits with 1
        # after any shutdown request); Bochs's own messages are shown only
        # if there is no end marker.
        out_path, err_path = workdir / "e9.log", workdir / "bochs.stderr"
        with open(out_path, "w") as out, open(err_path, "w") as err:
            subprocess.call(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        marker = END_MARKER.search(out_path.read_text(errors="replace"))
        if marker:
            return marker.group(1)
        print(err_path.read_text(errors="replace"), file=sys.stderr)
        return "reset"
    iso = None
    if firmware == "uefi":
        iso = workdir / "kernel.iso"
        make_iso(cmdline, iso)
    cmd = qemu_command(emulator, cmdline, smp, megs, interactive=True, gdb_port=gdb_port,
                       uefi_iso=iso, net_port=net_port)
    return QEMU_EXIT_STATUS.get(subprocess.call(cmd), "error")


# A run whose input is piped lasts until the kernel ends it.
PIPED_RUN_TIMEOUT = 24 * 3600


def first_prompt(cmdline):
    """What the kernel prints when it is ready for input: the monitor's
    prompt, the shell's, or the header of a self-test."""
    run = dict(arg.split("=", 1) for arg in cmdline.split() if "=" in arg).get("run", "monitor")
    return {"monitor": "K> ", "shell": "$ "}.get(run, "== run: ")


def run_piped(emulator, workdir, cmdline, smp, megs, firmware, net_port=None):
    """make run with input that is not a terminal (a script's pipe): the
    output is shown as it comes, and the input is typed into COM1 once the
    kernel is ready to read it. Typed any earlier, it would be lost: the
    kernel clears the UART's FIFO when it sets the port up."""
    result = run_captured(emulator, cmdline, workdir / "piped.log", timeout=PIPED_RUN_TIMEOUT,
                          smp=smp, megs=megs, firmware=firmware, net_port=net_port,
                          stdin_data=[(first_prompt(cmdline), sys.stdin.read())],
                          echo=lambda s: (sys.stdout.write(s), sys.stdout.flush()))
    if result.status not in ("ok", "panic"):
        print(result.reason, file=sys.stderr)
    return result.status


def run_captured(emulator, cmdline, log_path, timeout=None, smp=1, megs=256,
                 stdin_data=None, stdin_after="K> ", echo=None, cpu=None, firmware="bios",
                 net_port=None, stop=None):
    """Run to the end with the output captured; returns a RunResult.
    stdin_data is typed into the serial console (Bochs's through a
    pseudo-terminal, paced: see Typist) once the
    output shows stdin_after (the monitor's prompt: what is typed earlier
    can be lost while the kernel sets up the UART); or, as a list of
    (cue, text) steps, each text once the output since the step before
    shows its cue. echo, if given, is
    called with each chunk of output as it arrives. cpu names the CPU
    model (None: the default of qemu_command or BOCHS_CPU_MODEL); firmware
    is one of FIRMWARES (UEFI under QEMU only). net_port attaches an
    e1000 whose UDP port net_port is forwarded from 127.0.0.1:net_port
    (qemu_net_args, bochs_slirp_config). stop, a threading.Event, ends
    the run early when set (a client on the network gave up): the run
    then counts as timed out."""
    timeout = timeout or DEFAULT_TIMEOUT[emulator]
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result = RunResult(emulator=emulator, cmdline=cmdline, log_path=log_path)
    workdir = log_path.parent / (log_path.stem + ".run")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    steps = stdin_data if isinstance(stdin_data, list) else [(stdin_after, stdin_data)]
    steps = [s for s in steps if s[1]]
    com1 = monitor = None
    try:
        if emulator == "bochs":
            if firmware != "bios":
                raise RuntimeError("Bochs boots by its BIOS only: UEFI boots run under QEMU")
            # Bochs's COM1 reads a terminal: a pseudo-terminal whose
            # other side the typist writes. The output comes by port
            # 0xE9 (stdout); what COM1 sends is read and dropped.
            com1 = Pty() if steps else None
            cmd = bochs_command(workdir, cmdline, smp, megs, cpu=cpu,
                                com1_tty=com1.name if com1 else None, net_port=net_port)
        else:
            iso = None
            if firmware == "uefi":
                iso = workdir / "kernel.iso"
                make_iso(cmdline, iso)
            monitor = qemu_monitor_path(workdir)
            cmd = qemu_command(emulator, cmdline, smp, megs, cpu=cpu, uefi_iso=iso,
                               net_port=net_port, monitor=monitor)
    except (RuntimeError, OSError) as e:
        result.reason = str(e)
        remove_monitor(monitor, workdir)
        return result

    # The emulator runs in a session of its own (killed as a group), so it
    # would outlive a runner killed before its end (a grading stopped by
    # tools/mutants' time limit, CI's): coreutils' timeout ends it a while
    # after the run's own limit whatever happens to the runner.
    start = time.monotonic()
    try:
        if shutil.which(cmd[0]) is None:
            raise OSError("not found")
        proc = subprocess.Popen(["timeout", "--signal=KILL", "%d" % (timeout + OUTLIVE_SECONDS)]
                                + cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        result.reason = "cannot start %s: %s" % (cmd[0], e)
        remove_monitor(monitor, workdir)
        return result
    if emulator == "bochs":
        # Bochs's stdin is its debugger's (locate_bochs_cpus types there);
        # the typist types into COM1, if at all.
        typist = Typist(com1.writer() if com1 else open(os.devnull, "wb"), steps,
                        paced=com1 is not None)
        locate = locate_bochs_cpus
    else:
        typist = Typist(proc.stdin, steps)
        locate = lambda proc: (b"", locate_qemu_cpus(monitor))    # noqa: E731
    got = collect_output(proc, start, timeout, echo, typist,
                         drain=com1.master if com1 else None, locate=locate, stop=stop)
    if com1:
        com1.close()
    if not proc.stdin.closed:
        proc.stdin.close()
    remove_monitor(monitor, workdir)
    result.seconds = time.monotonic() - start
    result.output = got.stdout.decode(errors="replace").replace("\r\n", "\n")
    result.exit_code = proc.returncode
    result.places = got.places
    result.loop_cycle = got.loop_cycle
    log_path.write_text(result.output)
    if emulator == "bochs":
        bochs_log = workdir / "bochs.log"
        result.emulator_log = bochs_log.read_text(errors="replace") if bochs_log.exists() else ""
    classify(result, got.stderr.decode(errors="replace"), got.timed_out, timeout, got.loop)
    return result


def next_matching_line(lines, pattern, timeout):
    """The first line taken from the queue lines (a run's lines as they
    come; None once it ended) that matches pattern (re.search), within
    timeout seconds; None if none came."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            line = ""
        if line is None or time.monotonic() > deadline:
            return None
        if re.search(pattern, line):
            return line


class Pty:
    """A pseudo-terminal in raw mode: the emulator opens name, the runner
    writes and reads master."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.name = os.ttyname(self.slave)

    def writer(self):
        return os.fdopen(os.dup(self.master), "wb", buffering=0)

    def close(self):
        os.close(self.master)
        os.close(self.slave)


class Typist:
    """Types into the emulator's input a step at a time: each step is
    (cue, text), typed once the output since the previous step shows cue;
    the input is closed after the last.

    Paced typing is for a UART that drops what its 16-byte FIFO cannot
    hold (Bochs's COM1 reads the terminal whether or not the guest keeps
    up): one byte at a time, the next once the output has grown since
    (the echo, most often) and GAP_SECONDS have passed, or after
    PACE_SECONDS without output (a byte that echoes nothing, such as ^D).
    The gap keeps a guest busy printing from receiving more than a few
    bytes before it reads again."""

    GAP_SECONDS = 0.02
    PACE_SECONDS = 0.3

    def __init__(self, stdin, steps, paced=False):
        self.stdin, self.steps, self.since = stdin, list(steps), 0
        self.paced, self.pending = paced, b""
        self.sent_at, self.output_len, self.grew = 0.0, 0, False
        if not self.steps:
            stdin.close()

    def saw(self, output):
        """Called with the whole output so far, whenever it grew or the
        time of wake_at() came."""
        while self.steps and self.steps[0][0] in output[self.since:]:
            self.pending += self.steps.pop(0)[1].encode()
            self.since = len(output)
        if not self.pending:
            return
        self.grew = self.grew or len(output) > self.output_len
        self.output_len = len(output)
        if not self.paced:
            self.type(self.pending)
        elif time.monotonic() >= self.wake_at():
            self.type(self.pending[:1])

    def type(self, data):
        try:
            self.stdin.write(data)
            self.stdin.flush()
            self.pending = self.pending[len(data):]
            self.sent_at, self.grew = time.monotonic(), False
            if not self.steps and not self.pending:
                self.stdin.close()
        except BrokenPipeError:
            self.steps, self.pending = [], b""

    def wake_at(self):
        """When saw() must be called even if no output came, or None."""
        if not (self.paced and self.pending):
            return None
        return self.sent_at + (self.GAP_SECONDS if self.grew else self.PACE_SECONDS)

    def finish(self):
        """The run is over: close the input if some cue never came."""
        self.steps, self.pending = [], b""
        if not self.stdin.closed:
            try:
                self.stdin.close()
            except BrokenPipeError:
                pass


class LoopWatch:
    """Watches the output for a loop: the same line, or the same cycle of
    up to MAX_PERIOD lines, printed REPEATS times in a row. No test prints
    anything like it (in the logs of Labs 1-4 no line or cycle comes more
    than 3 times in a row), while a kernel stuck in a printing loop prints
    thousands of copies a second, for the whole time limit, into a log of
    megabytes."""

    REPEATS = 1000
    MAX_PERIOD = 8
    # Output with no newline is cut into "lines" this long (so that a loop
    # that prints no newline is seen too).
    LONGEST_LINE = 4096

    def __init__(self, repeats=REPEATS, max_period=MAX_PERIOD):
        self.repeats, self.max_period = repeats, max_period
        self.recent = collections.deque(maxlen=max_period)     # the last lines, newest last
        # streak[p]: how many lines in a row have equalled the line p before them.
        self.streak = [0] * (max_period + 1)
        self.partial = b""      # the start of a line still being printed
        self.seen = 0           # bytes of output in whole lines so far
        self.found = None       # the loop's description, once seen
        self.cycle = None       # and its lines
        self.end = None         # where in the output the loop was seen (bytes)

    def feed(self, chunk):
        """Watch a chunk of output; returns the loop's description once
        one is seen, else None."""
        *lines, self.partial = (self.partial + chunk).split(b"\n")
        # (line, its bytes in the output): whole lines, then pieces of a
        # line too long to wait for.
        pieces = [(line, len(line) + 1) for line in lines]
        while len(self.partial) >= self.LONGEST_LINE:
            piece, self.partial = self.partial[:self.LONGEST_LINE], self.partial[self.LONGEST_LINE:]
            pieces.append((piece, len(piece)))
        for line, size in pieces:
            if self.found:
                break
            self.seen += size
            self.add(line.rstrip(b"\r"))
        return self.found

    def add(self, line):
        for period in range(1, self.max_period + 1):
            same = len(self.recent) >= period and self.recent[-period] == line
            self.streak[period] = self.streak[period] + 1 if same else 0
        self.recent.append(line)
        for period in range(1, self.max_period + 1):
            # A cycle of p lines printed n times: after the first copy,
            # (n - 1) * p lines each equal to the one p before.
            if self.streak[period] >= (self.repeats - 1) * period:
                self.cycle = [line.decode(errors="replace") for line in list(self.recent)[-period:]]
                self.found = self.describe(self.cycle)
                self.end = self.seen
                return

    def describe(self, cycle):
        def quote(text):
            return "'%s'" % (text if len(text) <= 80 else text[:77] + "...")
        what = (quote(cycle[0]) if len(cycle) == 1 else
                "the %d lines %s" % (len(cycle), ", ".join(quote(line) for line in cycle)))
        return "the kernel printed %s %d times in a row (a loop?)" % (what, self.repeats)


# How often a run that can be stopped from outside looks whether it is.
STOP_POLL_SECONDS = 0.2


@dataclass
class Collected:
    """What collect_output gathered, and why it stopped the run."""
    stdout: bytes = b""
    stderr: bytes = b""
    timed_out: bool = False     # the time limit passed with no end marker
    loop: str = None            # the output showed a loop (LoopWatch): what it was
    loop_cycle: list = None     # and the lines that repeated
    places: list = field(default_factory=list)     # [CpuPlace] when it stopped the run


def collect_output(proc, start, timeout, echo, typist, drain=None, locate=None, stop=None):
    """Read stdout and stderr until the process exits, the time limit
    passes (or stop, an Event, is set: looked at every STOP_POLL_SECONDS),
    the kernel's end marker is followed by no exit, or the output
    shows a loop (LoopWatch: the output is cut where it was seen); read
    and drop what arrives on the file descriptor drain. If the runner
    stops the run (time limit, loop), locate(proc), if given, is asked
    where the CPUs are: it returns (more stdout, [CpuPlace]). Kills the
    process group on the way out. Returns a Collected."""
    got = Collected()
    out, err = bytearray(), bytearray()
    streams = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    if drain is not None:
        streams[drain] = bytearray()
    watch = LoopWatch()
    end_seen_at = None
    while set(streams) - {drain} and not got.loop:
        now = time.monotonic()
        limit = start + timeout
        if end_seen_at is not None:
            limit = min(limit, end_seen_at + EXIT_GRACE_SECONDS)
        if now >= limit or (stop is not None and stop.is_set()):
            break
        wake = min(limit, typist.wake_at() or limit)
        if stop is not None:
            wake = min(wake, now + STOP_POLL_SECONDS)
        ready, _, _ = select.select(list(streams), [], [], max(0, wake - now))
        if not ready:
            typist.saw(out.decode(errors="replace"))
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:             # a pty whose other side closed
                chunk = b""
            if not chunk:
                del streams[fd]
                continue
            if fd == drain:
                continue
            streams[fd].extend(chunk)
            if streams[fd] is out:
                if echo:
                    echo(chunk.decode(errors="replace"))
                if end_seen_at is None and watch.feed(chunk):
                    got.loop, got.loop_cycle = watch.found, watch.cycle
                    del out[watch.end:]
                    break
                text = out.decode(errors="replace")
                typist.saw(text)
                if end_seen_at is None and END_MARKER.search(text):
                    end_seen_at = time.monotonic()
    if not got.loop:
        try:
            proc.wait(timeout=0 if set(streams) - {drain} else EXIT_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    typist.finish()
    got.timed_out = proc.poll() is None and end_seen_at is None and not got.loop
    if (got.timed_out or got.loop) and proc.poll() is None and locate is not None:
        more, got.places = locate(proc)
        if got.timed_out:
            out.extend(more)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    got.stdout, got.stderr = bytes(out), bytes(err)
    return got


# ---- Where the CPUs were when a run was stopped ----
#
# A run that hangs or loops is stopped by the runner; before it kills the
# emulator it asks where each CPU is (QEMU's monitor, Bochs's debugger),
# and the verdict names the kernel function of each address.

# How long the emulator may take to say where its CPUs are.
LOCATE_SECONDS = 5
# Where QEMU's monitor listens (in the run's directory, if the path fits
# in a unix socket address: sun_path holds 108 bytes).
QEMU_MONITOR_SOCKET = "qemu-monitor.sock"
UNIX_PATH_MAX = 107


# How many callers of the function a CPU was in are named, at most.
MAX_CALLERS = 12
# The kernel's stacks lie in the upper half (the image at KERNBASE, the
# direct map at DIRECTMAP_BASE: kernel/mm/memlayout.h).
KERNEL_HALF = 0xFFFF800000000000


@dataclass
class CpuPlace:
    """Where one CPU was: the address of its next instruction (RIP, or EIP
    or IP outside long mode), where the emulator says whether it was
    halted (HLT, waiting for an interrupt), its frame pointer (RBP), and
    the return addresses of the frame chain from there (its callers)."""
    cpu: int
    address: int
    halted: bool = False
    frame: int = None
    callers: list = field(default_factory=list)


def walk_frames(frame, read_frame):
    """The return addresses of the frame chain from frame (an RBP), as the
    kernel's backtrace walks it: read_frame(rbp) gives the saved RBP and
    the return address, or None if the memory cannot be read. Stops at a
    frame outside the kernel's half, out of order (a chain runs up the
    stack), or after MAX_CALLERS."""
    callers = []
    while (frame is not None and frame >= KERNEL_HALF and frame % 8 == 0
           and len(callers) < MAX_CALLERS):
        words = read_frame(frame)
        if words is None or words[1] == 0:
            break
        callers.append(words[1])
        if words[0] <= frame:
            break
        frame = words[0]
    return callers


def qemu_monitor_path(workdir):
    """A path for QEMU's monitor socket: in workdir if it fits in a socket
    address, else in a new directory under the system's temporary one
    (the caller removes its parent)."""
    path = Path(workdir) / QEMU_MONITOR_SOCKET
    if len(str(path)) <= UNIX_PATH_MAX:
        return path
    import tempfile
    return Path(tempfile.mkdtemp(prefix="qemu-run-")) / QEMU_MONITOR_SOCKET


def remove_monitor(monitor, workdir):
    """Remove QEMU's monitor socket once QEMU has gone (a socket left in
    the build tree stops a copy of the tree: tools/mutants), and the
    directory qemu_monitor_path made for it outside workdir, if any."""
    if monitor is None:
        return
    try:
        monitor.unlink()
    except OSError:
        pass
    if monitor.parent != Path(workdir):
        shutil.rmtree(monitor.parent, ignore_errors=True)


def qemu_monitor_command(sock, command, deadline):
    """Send a command to QEMU's human monitor and return what it printed
    up to its next prompt."""
    sock.settimeout(max(0.1, deadline - time.monotonic()))
    if command:
        sock.sendall(command.encode() + b"\n")
    reply = b""
    while not reply.endswith(b"(qemu) "):
        chunk = sock.recv(65536)
        if not chunk:
            break
        reply += chunk
    return reply.decode(errors="replace")


def locate_qemu_cpus(monitor):
    """Ask QEMU's monitor (a unix socket path) where each CPU is: stop the
    machine (so that the software CPU writes back its registers), then
    `info registers -a`, then each CPU's frame chain (`x /2gx`). Returns
    [CpuPlace], empty if QEMU did not answer."""
    deadline = time.monotonic() + LOCATE_SECONDS
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(LOCATE_SECONDS)
            sock.connect(str(monitor))
            qemu_monitor_command(sock, None, deadline)          # the greeting
            qemu_monitor_command(sock, "stop", deadline)
            places = parse_qemu_registers(
                qemu_monitor_command(sock, "info registers -a", deadline))
            for place in places:
                # `x` reads memory through the page tables of the CPU
                # chosen by `cpu`.
                qemu_monitor_command(sock, "cpu %d" % place.cpu, deadline)
                place.callers = walk_frames(place.frame, lambda rbp: parse_qemu_words(
                    qemu_monitor_command(sock, "x /2gx 0x%x" % rbp, deadline)))
            return places
    except OSError:
        return []


def parse_qemu_words(text):
    """The two words that QEMU's `x /2gx ADDR` printed
    ("ADDR: 0xWORD 0xWORD"), or None ("ADDR: Cannot access memory")."""
    m = re.search(r"^[0-9a-fA-F]+: 0x([0-9a-fA-F]+) 0x([0-9a-fA-F]+)\s*$", text, re.M)
    return (int(m.group(1), 16), int(m.group(2), 16)) if m else None


def parse_qemu_registers(text):
    """[CpuPlace] from the output of QEMU's `info registers -a`: a block
    per CPU, headed "CPU#n", with RIP= (EIP= outside long mode) and HLT=."""
    places = []
    for block in re.split(r"^CPU#", text, flags=re.M)[1:]:
        number = re.match(r"(\d+)", block)
        ip = re.search(r"\b[RE]IP=([0-9a-fA-F]+)", block)
        if number and ip:
            halted = re.search(r"\bHLT=1\b", block) is not None
            rbp = re.search(r"\bRBP=([0-9a-fA-F]+)", block)
            places.append(CpuPlace(int(number.group(1)), int(ip.group(1), 16), halted,
                                   int(rbp.group(1), 16) if rbp else None))
    return places


# What Bochs's debugger prints when it stops (on SIGINT, as on Ctrl-C):
# "Next at t=TICKS", then a line per CPU with its next instruction,
# "(N) [0xPHYSICAL] CS:RIP (context): instruction ; bytes", then its
# prompt "<bochs:N>". Its output shares stdout with port 0xE9's.
BOCHS_STOPPED = "Next at t="
BOCHS_CPU_LINE = re.compile(r"^\((\d+)\) \[0x[0-9a-fA-F]+\] [0-9a-fA-F]{4}:([0-9a-fA-F]+) ", re.M)
BOCHS_PROMPT = "<bochs:"


def locate_bochs_cpus(proc):
    """Ask Bochs where each CPU is: SIGINT stops the simulation in its
    debugger, which prints each CPU's next instruction, then reads
    commands from Bochs's stdin (proc.stdin, a pipe): for each CPU, its
    registers (`r`) for RBP, then the frame chain (`x /2gx`). Returns
    (what the kernel printed before the stop, [CpuPlace])."""
    try:
        proc.send_signal(signal.SIGINT)
    except OSError:
        return b"", []
    deadline = time.monotonic() + LOCATE_SECONDS
    text = read_until_bochs_prompt(proc, b"", deadline, after=BOCHS_STOPPED.encode())
    kernel, stopped, debugger = text.partition(BOCHS_STOPPED.encode())
    places = parse_bochs_stop(debugger.decode(errors="replace")) if stopped else []
    try:
        for place in places:
            # `x` reads memory through the page tables of the CPU chosen
            # by `set $cpu`.
            place.frame = parse_bochs_rbp(
                bochs_debugger_command(proc, "set $cpu = %d" % place.cpu, deadline)
                + bochs_debugger_command(proc, "r", deadline))
            place.callers = walk_frames(place.frame, lambda rbp: parse_bochs_words(
                bochs_debugger_command(proc, "x /2gx 0x%x" % rbp, deadline)))
    except (OSError, ValueError):       # Bochs has gone, or its stdin is not a pipe
        pass
    return kernel, places


def read_until_bochs_prompt(proc, text, deadline, after=b""):
    """Read Bochs's stdout onto text until its debugger's prompt comes
    (after the bytes after, if given), it exits, or the deadline passes."""
    fd = proc.stdout.fileno()
    while BOCHS_PROMPT.encode() not in (text.partition(after)[2] if after else text):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        text += chunk
    return text


def bochs_debugger_command(proc, command, deadline):
    """Type a command to Bochs's debugger; returns what it printed up to
    its next prompt."""
    if proc.stdin is None or proc.stdin.closed:
        raise ValueError("Bochs's stdin is not the runner's")
    proc.stdin.write(command.encode() + b"\n")
    proc.stdin.flush()
    return read_until_bochs_prompt(proc, b"", deadline).decode(errors="replace")


def parse_bochs_stop(text):
    """[CpuPlace] from the lines Bochs's debugger prints after "Next at t="
    (Bochs does not say which CPUs are halted)."""
    return [CpuPlace(int(m.group(1)), int(m.group(2), 16))
            for m in BOCHS_CPU_LINE.finditer(text)]


def parse_bochs_rbp(text):
    """RBP from what Bochs's `r` printed ("rbp: ffffffff_8019cfb0"), or None."""
    m = re.search(r"^rbp: ([0-9a-fA-F]{8})_([0-9a-fA-F]{8})\s*$", text, re.M)
    return int(m.group(1) + m.group(2), 16) if m else None


def parse_bochs_words(text):
    """The two words that Bochs's `x /2gx ADDR` printed
    ("0xADDR <bogus+ 0>:<tab>0xWORD<tab>0xWORD"), or None (an address with
    no mapping: "physical address not available")."""
    m = re.search(r"^0x[0-9a-fA-F]+ <[^>]*>:\s*0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s*$",
                  text, re.M)
    return (int(m.group(1), 16), int(m.group(2), 16)) if m else None


def kernel_symbols():
    """([(address, name)] sorted, end of text) of the kernel's functions,
    from nm as the kernel's own symbol table is made (tools/mksyms.py);
    ([], None) if the image cannot be read."""
    import mksyms
    try:
        nm = subprocess.run(["nm", "-n", str(KERNEL_ELF)], capture_output=True, text=True,
                            check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return [], None
    return mksyms.function_symbols(nm.splitlines())


def symbolize(address, symbols, etext, return_address=False):
    """'function+0xoff' for an address in the kernel's text; else the
    address itself (a guest's, the BIOS's, a user program's). A return
    address is looked up one byte back, as the kernel's backtrace does (a
    call at a function's end returns past it)."""
    import bisect
    lookup = address - 1 if return_address else address
    i = bisect.bisect_right([start for start, _ in symbols], lookup) - 1
    if i >= 0 and etext is not None and lookup < etext:
        start, name = symbols[i]
        return "%s+0x%x" % (name, address - start)
    return "0x%x" % address


def describe_places(places, symbols=None, etext=None):
    """'cpu 0 in vga_putc+0x62 < printk+0x4c < backtrace_walk+0x1c, cpu 1
    at 0xfd09a (halted)': each CPU's function, then its callers."""
    if symbols is None:
        symbols, etext = kernel_symbols()
    said = []
    for place in places:
        where = symbolize(place.address, symbols, etext)
        if not where.startswith("0x"):
            # The callers of a kernel function, up to the first return
            # address outside the kernel (the end of the chain, garbage).
            for ret in place.callers:
                caller = symbolize(ret, symbols, etext, return_address=True)
                if caller.startswith("0x"):
                    break
                where += " < " + caller
        said.append("cpu %d %s %s%s" % (place.cpu, "at" if where.startswith("0x") else "in",
                                        where, " (halted)" if place.halted else ""))
    return ", ".join(said)


def classify(result, stderr, timed_out, timeout=None, loop=None):
    """Set result.status and result.reason from the output and the exit;
    timeout is the time limit in seconds (for the verdict), loop what
    LoopWatch saw if the run was stopped for it."""
    marker = END_MARKER.search(result.output)
    if marker:
        result.status = marker.group(1)
        return
    if loop:
        result.status = "loop"
        result.reason = loop + where_the_cpus_were(result.places)
        return
    if timed_out:
        result.status = "timeout"
        result.reason = "no end marker within %s (a hang?)" % (
            "%g s" % timeout if timeout else "the time limit")
        result.reason += where_the_cpus_were(result.places)
        result.reason += emulator_explanation(result.emulator_log, stderr)
        return
    if result.exit_code is not None and result.exit_code < 0:
        # Popen's negative status: a signal nobody here sent (the runner's
        # own stops are the loop and the timeout above).
        sig = -result.exit_code
        name = signal.Signals(sig).name if sig in signal.valid_signals() else "signal %d" % sig
        result.status = "crashed"
        result.reason = ("%s itself died of %s (signal %d): a fault of the emulator's, "
                         "not of the kernel" % (result.emulator, name, sig))
        result.reason += emulator_explanation(result.emulator_log, stderr)
        return
    result.status = "reset"
    result.reason = ("the machine stopped without an end marker (exit status %s): "
                     "a triple fault resets it" % result.exit_code)
    result.reason += emulator_explanation(result.emulator_log, stderr)


def where_the_cpus_were(places):
    """'; cpu 0 in f+0x1c, ...' for a verdict, or '' if nobody knows."""
    return "; " + describe_places(places) if places else ""


def emulator_explanation(emulator_log, stderr):
    """The lines of the emulator's own log (Bochs) or error output that say
    why a run went wrong: triple faults, panics, failed VM entries."""
    # Bochs log lines: "<time><level>[<device>] message", level e = error,
    # p = panic; information lines (level i, also on Bochs's stderr) only
    # repeat the configuration.
    why = [line for line in emulator_log.splitlines()
           if re.match(r"^\d+[ep]\[", line) or re.search(r"VMENTER FAIL|VMFAIL", line)]
    errors = [line for line in stderr.splitlines() if line.strip() and "ALSA" not in line
              and not re.match(r"^\d+i\[", line)]
    if why:
        return "\nemulator log:\n  " + "\n  ".join(why[-10:])
    if errors:
        return "\nemulator said:\n  " + "\n  ".join(errors[-10:])
    return ""
