#!/usr/bin/env python3
"""Tests of tools/runner.py's choice of emulator: the checks read a fake
tree of /dev, /proc and /sys made for each case, so the machines the
runner must refuse KVM on (none, a paravirtual KVM, no VT-x) are tested on
any machine.

  python3 tools/tests/test_runner.py
"""
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import runner  # noqa: E402

CPUINFO = "processor\t: 0\nvendor_id\t: %s\nflags\t\t: fpu pae %s sse2 syscall lm\n\n"


class EmulatorChoice(unittest.TestCase):
    def host(self, dev_kvm=True, modules=(), flags="", nested=None, vendor="GenuineIntel"):
        """A fake root: /dev/kvm (a plain file), the loaded modules, the
        CPU flags and kvm_intel's nested parameter."""
        root = Path(self.tmp.name) / ("host%d" % len(list(Path(self.tmp.name).iterdir())))
        (root / "dev").mkdir(parents=True)
        if dev_kvm:
            (root / "dev" / "kvm").write_text("")
        for m in modules:
            (root / "sys" / "module" / m / "parameters").mkdir(parents=True)
        if nested is not None:
            (root / "sys" / "module" / "kvm_intel" / "parameters" / "nested").write_text(nested)
        (root / "proc").mkdir()
        (root / "proc" / "cpuinfo").write_text(CPUINFO % (vendor, flags) * 2)
        return root

    def pick(self, root, requested="auto", needs_vmx=False):
        said = []
        emulator = runner.pick_emulator(requested, needs_vmx, root=root, say=said.append)
        return emulator, said

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_no_dev_kvm_falls_back_to_tcg(self):
        emulator, said = self.pick(self.host(dev_kvm=False))
        self.assertEqual(emulator, "qemu")
        self.assertEqual(len(said), 1)
        self.assertRegex(said[0], r"^run: not using KVM: .*/dev/kvm does not exist .*"
                                  r"; using QEMU's software CPU \(TCG\)$")

    def test_paravirtual_kvm_falls_back_and_kvm_is_refused(self):
        root = self.host(modules=("kvm", "kvm_pvm"), flags="hypervisor")
        emulator, said = self.pick(root)
        self.assertEqual(emulator, "qemu")
        self.assertEqual(len(said), 1)
        self.assertIn("kvm_pvm", said[0])
        self.assertIn("using QEMU's software CPU", said[0])
        self.assertEqual(self.pick(root, needs_vmx=True)[0], "bochs")
        with self.assertRaisesRegex(runner.EmulatorUnavailable, "^cannot use KVM: .*kvm_pvm"):
            self.pick(root, requested="kvm")

    def test_no_vmx_flag_or_no_module(self):
        emulator, said = self.pick(self.host(modules=("kvm",), flags="hypervisor"))
        self.assertEqual(emulator, "qemu")
        self.assertIn("neither the vmx nor the svm flag", said[0])
        emulator, said = self.pick(self.host(modules=("kvm",), flags="vmx"))
        self.assertEqual(emulator, "qemu")
        self.assertIn("has vmx but the kvm_intel module is not loaded", said[0])

    def test_hardware_kvm_is_chosen(self):
        for modules, flags, vendor in ((("kvm", "kvm_intel"), "vmx", "GenuineIntel"),
                                       (("kvm", "kvm_amd"), "svm", "AuthenticAMD")):
            emulator, said = self.pick(self.host(modules=modules, flags=flags, vendor=vendor))
            self.assertEqual((emulator, said), ("kvm", ["run: using QEMU with KVM"]))
            self.assertEqual(self.pick(self.host(modules=modules, flags=flags),
                                       requested="kvm")[0], "kvm")

    def test_vmx_labs_need_nested_vmx(self):
        off = self.host(modules=("kvm", "kvm_intel"), flags="vmx", nested="N\n")
        emulator, said = self.pick(off, needs_vmx=True)
        self.assertEqual(emulator, "bochs")
        self.assertRegex(said[0], r"nested VMX is off \(nested=N;.*; using Bochs$")
        on = self.host(modules=("kvm", "kvm_intel"), flags="vmx", nested="Y\n")
        self.assertEqual(self.pick(on, needs_vmx=True)[0], "kvm")
        amd = self.host(modules=("kvm", "kvm_amd"), flags="svm", vendor="AuthenticAMD")
        emulator, said = self.pick(amd, needs_vmx=True)
        self.assertEqual(emulator, "bochs")
        self.assertIn("SVM, not the VMX", said[0])

    def test_other_emulators_are_taken_as_asked(self):
        root = self.host(dev_kvm=False)
        for emu in ("qemu", "bochs"):
            self.assertEqual(self.pick(root, requested=emu), (emu, []))


if __name__ == "__main__":
    unittest.main()
