#!/usr/bin/env python3
"""Grade a lab: boot the kernel for each of the lab's tests and print a
line per test, the score, and "N passed, N failed".

  grader/grade.py LAB [--emu auto|qemu|kvm|bochs] [--filter REGEX]...
                      [--seed N] [--json FILE] [--echo] [--handout-check]
                      [--mem MIB] [--smp N] [--cpu MODEL] [--firmware bios|uefi]

The kernel must be built first (make grade LAB=n does both). Logs go to
build/grade/labN-EMU/, results to build/grade/labN-EMU/results.json.
The exit status is 0 only with full marks.

--mem, --smp and --cpu choose the machine (make grade MEM= SMP= CPU=):
every boot gets that memory, every test that takes any number of CPUs
gets that many (tests of a given count keep theirs), and the emulator
that CPU model (QEMU's -cpu, Bochs's cpu: model=); the expectations
follow what was asked. --firmware uefi (QEMU only) boots every test from
the hybrid ISO under UEFI firmware (OVMF) on QEMU's q35 machine.

--handout-check grades a tree made by tools/handout instead: it reads the
tree's .handout file, and passes when every test that grades a removed
exercise fails and every other test passes.
"""
import argparse
import importlib
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gradelib  # noqa: E402
from gradelib import runner  # noqa: E402

# Labs whose tests need VT-x: 'auto' picks KVM with nested VMX, else Bochs.
VMX_LABS = {5, 6, 7, 8, 10}


def parse_args():
    ap = argparse.ArgumentParser(description="Grade a lab.")
    ap.add_argument("lab", type=int)
    ap.add_argument("--emu", default="auto", choices=("auto",) + runner.EMULATORS)
    ap.add_argument("--filter", action="append", default=[], metavar="REGEX",
                    help="run only the tests whose name matches (repeatable)")
    ap.add_argument("--seed", type=int, help="seed of the random choices (to replay a run)")
    ap.add_argument("--json", metavar="FILE", help="where to write the results")
    ap.add_argument("--echo", action="store_true", help="show the kernel's output as it runs")
    ap.add_argument("--handout-check", action="store_true")
    ap.add_argument("--mem", type=int, metavar="MIB", help="memory of every boot, in MiB")
    ap.add_argument("--smp", type=int, metavar="N", help="CPUs of the tests that take any number")
    ap.add_argument("--cpu", metavar="MODEL", help="the emulator's CPU model")
    ap.add_argument("--firmware", default="bios", choices=runner.FIRMWARES,
                    help="how the machine starts (uefi: QEMU only)")
    return ap.parse_args()


def read_handout_file():
    """The stripped exercises of a handout tree, from its .handout file."""
    path = runner.TOP / ".handout"
    if not path.exists():
        sys.exit("grade: --handout-check needs a tree made by tools/handout (%s is missing)" % path)
    stripped = set()
    for line in path.read_text().splitlines():
        if line.startswith("stripped="):
            stripped.add(line.split("=", 1)[1].split(":", 1)[1])
    return stripped


def handout_verdicts(tests, stripped):
    """Each test must fail if it grades a stripped exercise, else pass.
    Returns the number of tests that behaved as they must, and prints the
    others."""
    good = 0
    for t in tests:
        must_fail = bool(set(t.exercises) & stripped)
        if t.passed != must_fail:
            good += 1
        elif must_fail:
            print("BROKEN TEST %s: passes on the handout, which removed %s"
                  % (t.name, ", ".join(sorted(set(t.exercises) & stripped))))
        else:
            print("HANDOUT BROKEN %s: fails although it grades no removed exercise"
                  % t.name)
    return good


def main():
    args = parse_args()
    if not runner.KERNEL_ELF.exists():
        sys.exit("grade: %s is missing: run make first (make grade LAB=%d builds it)"
                 % (runner.KERNEL_ELF, args.lab))
    try:
        importlib.import_module("lab%d" % args.lab)
    except ModuleNotFoundError:
        sys.exit("grade: no tests for lab %d (grader/lab%d.py)" % (args.lab, args.lab))
    try:
        emulator = runner.pick_emulator(args.emu, needs_vmx=args.lab in VMX_LABS)
    except runner.EmulatorUnavailable as e:
        sys.exit("grade: --emu %s: %s" % (args.emu, e))
    if args.firmware == "uefi" and emulator == "bochs":
        sys.exit("grade: --firmware uefi needs QEMU (Bochs boots by its BIOS only)")
    if args.handout_check:
        gradelib.ANSWER_SECONDS = gradelib.HANDOUT_CHECK_ANSWER_SECONDS
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    logdir = runner.BUILD / "grade" / ("lab%d-%s" % (args.lab, emulator))
    shutil.rmtree(logdir, ignore_errors=True)
    logdir.mkdir(parents=True)

    asked = " ".join("%s=%s" % (k, v) for k, v in (("MEM", args.mem), ("SMP", args.smp),
                                                   ("CPU", args.cpu)) if v)
    if args.firmware != "bios":
        asked = (asked + " FIRMWARE=%s" % args.firmware).strip()
    print("== lab %d on %s%s (seed %d; --seed %d replays these choices)"
          % (args.lab, emulator, " " + asked if asked else "", seed, seed))
    try:
        tests = gradelib.run_tests(args.lab, emulator, args.filter, logdir, seed, echo=args.echo,
                                   machine=gradelib.Machine(args.mem, args.smp, args.cpu,
                                                            args.firmware))
    except gradelib.NoSuchTest as e:
        sys.exit("grade: lab %d: %s" % (args.lab, e))
    gradelib.write_results(args.json or logdir / "results.json", args.lab, emulator, tests, seed)
    gradelib.remove_passed_runs(tests)
    score = sum(t.points for t in tests if t.passed)
    total = sum(t.points for t in tests)
    failed = [t for t in tests if not t.passed]

    if args.handout_check:
        good = handout_verdicts(tests, read_handout_file())
        print("handout check, lab %d on %s: %d of %d tests behave as they must"
              % (args.lab, emulator, good, len(tests)))
        print("%d passed, %d failed" % (good, len(tests) - good))
        sys.exit(0 if good == len(tests) else 1)

    print("Score: %d/%d" % (score, total))
    if failed:
        print("logs of the failed tests are in %s" % logdir)
        print("tools: " + "; ".join("%s %s" % kv for kv in runner.tool_versions().items()))
    print("%d passed, %d failed" % (len(tests) - len(failed), len(failed)))
    sys.exit(0 if not failed and tests else 1)


if __name__ == "__main__":
    main()
