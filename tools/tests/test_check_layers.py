#!/usr/bin/env python3
"""Host unit tests of tools/check-layers: the tree keeps its layers, and a
wrong-way include is caught with its file, the include and the rule."""
import io
import shutil
import sys
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(TOP / "tools" / "tests"))
from scripts import load_script  # noqa: E402

check_layers = load_script("check-layers")


def run(root, layers=None):
    """Runs the checker on root; returns (exit status, output)."""
    out = io.StringIO()
    argv = ["--root", str(root)] + (["--layers", str(layers)] if layers else [])
    with redirect_stdout(out):
        status = check_layers.main(argv)
    return status, out.getvalue()


def write(root, path, text):
    p = root / path
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


LAYERS = """\
# lowest first
kernel/lib
kernel/mm
kernel/proc
kernel               # main
kernel/user: kernel/lib
"""


class SmallTree(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = Path(self.dir.name)
        write(self.root, "tools/layers.txt", LAYERS)
        write(self.root, "kernel/lib/string.h", "int strlen(const char *s);\n")
        write(self.root, "kernel/mm/vm.h", '#include "lib/string.h"\n')
        write(self.root, "kernel/mm/vm.c", '#include "mm/vm.h"\n#include "vm.h"\n')
        write(self.root, "kernel/proc/proc.h", '#include "mm/vm.h"\n')
        write(self.root, "kernel/main.c", '#include "proc/proc.h"\n#include <stdint.h>\n')
        write(self.root, "kernel/user/sh.c", '#include "lib/string.h"\n')

    def tearDown(self):
        self.dir.cleanup()

    def test_downward_includes_pass(self):
        status, out = run(self.root)
        self.assertEqual(status, 0, out)
        self.assertIn("6 passed, 0 failed", out)

    def test_upward_include_is_named(self):
        write(self.root, "kernel/mm/vm.c", '#include "mm/vm.h"\n#include "proc/proc.h"\n')
        status, out = run(self.root)
        self.assertEqual(status, 1)
        self.assertIn('kernel/mm/vm.c:2: #include "proc/proc.h" (kernel/proc): '
                      "kernel/proc is above kernel/mm", out)
        self.assertIn("5 passed, 1 failed", out)

    def test_include_of_the_top_layer(self):
        write(self.root, "kernel/init.h", "void bring_up(void);\n")
        write(self.root, "kernel/proc/proc.c", '#include "init.h"\n')
        status, out = run(self.root)
        self.assertEqual(status, 1)
        self.assertIn('kernel/proc/proc.c:1: #include "init.h" (kernel): kernel is above kernel/proc', out)

    def test_program_may_include_only_its_list(self):
        write(self.root, "kernel/user/sh.c", '#include "mm/vm.h"\n')
        status, out = run(self.root)
        self.assertEqual(status, 1)
        self.assertIn('kernel/user/sh.c:1: #include "mm/vm.h" (kernel/mm): '
                      "kernel/user may include only kernel/lib", out)

    def test_the_kernel_may_not_include_a_program(self):
        write(self.root, "kernel/user/ulib.h", "int getpid(void);\n")
        write(self.root, "kernel/main.c", '#include "user/ulib.h"\n')
        status, out = run(self.root)
        self.assertEqual(status, 1)
        self.assertIn("kernel/user is not part of the kernel's layers", out)

    def test_missing_file_is_reported(self):
        write(self.root, "kernel/mm/vm.c", '#include "mm/gone.h"\n')
        status, out = run(self.root)
        self.assertEqual(status, 1)
        self.assertIn('kernel/mm/vm.c:1: #include "mm/gone.h": no such file', out)

    def test_build_tree_is_not_read(self):
        # Even with the whole tree a layer, build/ (lwIP's source, whose
        # includes name its own folders) is not checked.
        write(self.root, "tools/layers.txt", LAYERS.replace("kernel               # main",
                                                            "kernel\n."))
        write(self.root, "build/lwip/src/core/init.c", '#include "lwip/opt.h"\n')
        status, out = run(self.root)
        self.assertEqual(status, 0, out)
        self.assertIn("6 passed, 0 failed", out)

    def test_bad_layers_file(self):
        write(self.root, "tools/layers.txt", LAYERS + "kernel/mm\n")
        status, out = run(self.root)
        self.assertEqual(status, 1)
        self.assertIn("kernel/mm is listed twice", out)


class RealTree(unittest.TestCase):
    def test_tree_keeps_its_layers(self):
        status, out = run(TOP)
        self.assertEqual(status, 0, out)

    def test_planted_wrong_way_include_is_caught(self):
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            for folder in ("kernel", "vmx", "libdune", "ix"):
                shutil.copytree(TOP / folder, root / folder)
            write(root, "tools/layers.txt", (TOP / "tools" / "layers.txt").read_text())
            # The wrong way round: the console (low) reaching for the
            # processes (high).
            path = root / "kernel" / "console" / "console.c"
            path.write_text('#include "proc/proc.h"\n' + path.read_text())
            status, out = run(root)
            self.assertEqual(status, 1)
            self.assertIn('kernel/console/console.c:1: #include "proc/proc.h" (kernel/proc): '
                          "kernel/proc is above kernel/console: includes point down the "
                          "layers only", out)
            self.assertIn(", 1 failed", out)


if __name__ == "__main__":
    unittest.main(verbosity=1)
