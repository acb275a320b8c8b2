#!/usr/bin/env python3
"""Host-side tests of tools/handout and tools/handoutlib.py.

Run from anywhere: python3 tools/tests/test_handout.py
The marker texts below are built from lists of strings so that this file,
which is itself part of the tree, holds no region of its own.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent
TOP = TOOLS.parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(TOOLS))
import handoutlib as hl  # noqa: E402
from handoutlib import MarkerError  # noqa: E402


def text(*lines):
    """Return the lines joined into a text, each ended by a newline."""
    return "".join(line + "\n" for line in lines)


def c_region(lab=1, name="f", solution=("\treturn 1;",), stub=("\t// return 0;",),
             indent="\t"):
    """Return the lines of a C region (stub=None: no STUB: marker)."""
    lines = [f"{indent}// BEGIN LAB {lab} SOLUTION: {name}", *solution]
    if stub is not None:
        lines += [f"{indent}// STUB:", *stub]
    return lines + [f"{indent}// END LAB {lab}"]


def c_function(*region):
    """Return a C function whose body is the given lines."""
    return text("int f(int x)", "{", *region, "}")


class StripAndKeepC(unittest.TestCase):
    """Regions of C files (leader //)."""

    def test_strip_replaces_solution_by_stub(self):
        src = c_function(*c_region())
        out, stripped = hl.transform(src, "//", 1)
        self.assertEqual(out, text("int f(int x)", "{",
                                   "\t// LAB 1: your code here (f)",
                                   "\treturn 0;", "}"))
        self.assertEqual(stripped, [(1, "f")])

    def test_kept_region_loses_markers_and_stub(self):
        src = c_function(*c_region(lab=1))
        out, stripped = hl.transform(src, "//", 2, keep_earlier=True)
        self.assertEqual(out, text("int f(int x)", "{", "\treturn 1;", "}"))
        self.assertEqual(stripped, [])

    def test_default_strips_every_lab(self):
        src = c_function(*c_region(lab=1, name="a"), *c_region(lab=3, name="b"))
        _, stripped = hl.transform(src, "//", 2)
        self.assertEqual(stripped, [(1, "a"), (3, "b")])

    def test_keep_earlier_strips_this_lab_and_later(self):
        src = c_function(*c_region(lab=1, name="a"), *c_region(lab=2, name="b"),
                         *c_region(lab=3, name="c"))
        out, stripped = hl.transform(src, "//", 2, keep_earlier=True)
        self.assertEqual(stripped, [(2, "b"), (3, "c")])
        self.assertIn("LAB 2: your code here (b)", out)
        self.assertNotIn("(a)", out)

    def test_indentation_of_marker_and_stub(self):
        src = c_function(*c_region(indent="    ", stub=(
            "    // if (x)", "    // \treturn 0;", "\t\t// return 2;")))
        out, _ = hl.transform(src, "//", 1)
        self.assertEqual(out, text("int f(int x)", "{",
                                   "    // LAB 1: your code here (f)",
                                   "    if (x)", "    \treturn 0;",
                                   "\t\treturn 2;", "}"))

    def test_bare_leader_is_an_empty_stub_line(self):
        src = c_function(*c_region(stub=("\t// int y = x;", "\t//",
                                         "\t// return y;")))
        out, _ = hl.transform(src, "//", 1)
        self.assertIn("\tint y = x;\n\n\treturn y;\n", out)

    def test_region_without_stub(self):
        src = c_function(*c_region(stub=None))
        out, _ = hl.transform(src, "//", 1)
        self.assertEqual(out, text("int f(int x)", "{",
                                   "\t// LAB 1: your code here (f)", "}"))

    def test_empty_stub(self):
        src = c_function(*c_region(stub=()))
        out, _ = hl.transform(src, "//", 1)
        self.assertEqual(out, text("int f(int x)", "{",
                                   "\t// LAB 1: your code here (f)", "}"))

    def test_kept_region_without_stub(self):
        src = c_function(*c_region(stub=None))
        out, _ = hl.transform(src, "//", 2, keep_earlier=True)
        self.assertEqual(out, text("int f(int x)", "{", "\treturn 1;", "}"))

    def test_text_without_regions_is_unchanged(self):
        src = text("// STUB is a word; BEGIN too", "int x;", "") + "no newline"
        self.assertEqual(hl.transform(src, "//", 1), (src, []))

    def test_crlf_and_last_line_without_newline(self):
        src = "\r\n".join(c_region()) + "\r\nint y;"
        out, _ = hl.transform(src, "//", 1)
        self.assertEqual(out, "\t// LAB 1: your code here (f)\r\n"
                              "\treturn 0;\r\nint y;")

    def test_parse_regions_reports_lines(self):
        regions = hl.parse_regions(c_function(*c_region(name="g")), "//")
        self.assertEqual(len(regions), 1)
        r = regions[0]
        self.assertEqual((r.lab, r.name, r.begin, r.stub_at, r.end),
                         (1, "g", 3, 5, 7))
        self.assertEqual(r.solution, ["\treturn 1;\n"])

    def test_assembly_uses_the_c_leader(self):
        src = text("entry:", *c_region(solution=("\tmovq $1, %rax",),
                                       stub=("\t// ud2",)))
        out, _ = hl.transform(src, hl.leader_for("kernel/boot/entry.S"), 1)
        self.assertEqual(out, text("entry:", "\t// LAB 1: your code here (f)",
                                   "\tud2"))


class StripAndKeepHash(unittest.TestCase):
    """Regions of Python, shell and make files (leader #)."""

    PY = ["def f(x):",
          "    # BEGIN LAB 4 SOLUTION: grade_f",
          "    return x + 1",
          "    # STUB:",
          "    # raise NotImplementedError",
          "    # END LAB 4",
          ""]

    MAKE = ["all:",
            "# BEGIN LAB 2 SOLUTION: make_iso",
            "\tgrub-mkrescue -o $@ iso",
            "# STUB:",
            "# \t@echo 'write the ISO rule' && false",
            "# END LAB 2"]

    def test_python_stripped(self):
        out, stripped = hl.transform(text(*self.PY), "#", 4)
        self.assertEqual(out, text("def f(x):",
                                   "    # LAB 4: your code here (grade_f)",
                                   "    raise NotImplementedError", ""))
        self.assertEqual(stripped, [(4, "grade_f")])

    def test_python_kept(self):
        out, _ = hl.transform(text(*self.PY), "#", 5, keep_earlier=True)
        self.assertEqual(out, text("def f(x):", "    return x + 1", ""))

    def test_makefile_recipe_keeps_its_tab(self):
        out, _ = hl.transform(text(*self.MAKE), "#", 2)
        self.assertEqual(out, text("all:", "# LAB 2: your code here (make_iso)",
                                   "\t@echo 'write the ISO rule' && false"))

    def test_c_comment_is_not_a_marker_in_python(self):
        src = text("x = 1", "// BEGIN LAB 1 SOLUTION: f")
        self.assertEqual(hl.transform(src, "#", 1), (src, []))


class Leaders(unittest.TestCase):
    """The comment leader of each kind of file."""

    def test_leaders(self):
        cases = {"kernel/lib/printfmt.c": "//", "kernel/arch/x86.h": "//",
                 "kernel/boot/entry.S": "//", "tools/mksyms.py": "#",
                 "grader/run.sh": "#", "Makefile": "#",
                 "kernel/Makefrag": "#", "labs/rules.mk": "#",
                 "docs/lab-markers.md": None, "kernel/kernel.ld": None,
                 "tools/setup": None}
        for path, leader in cases.items():
            self.assertEqual(hl.leader_for(path), leader, path)

    def test_script_without_suffix_by_its_shebang(self):
        self.assertEqual(hl.leader_for("tools/setup", "#!/bin/sh\n"), "#")
        self.assertIsNone(hl.leader_for("README", "text\n"))


class Malformed(unittest.TestCase):
    """Every malformed marker is an error naming the file and the line."""

    def assertError(self, lines, line, words, leader="//"):
        """Check that parsing `lines` fails at `line` with `words` in the
        message."""
        with self.assertRaises(MarkerError) as cm:
            hl.transform(text(*lines), leader, 1, path="kernel/x.c")
        msg = str(cm.exception)
        self.assertTrue(msg.startswith(f"kernel/x.c:{line}: "), msg)
        self.assertIn(words, msg)

    def test_begin_without_end(self):
        self.assertError(["int x;", "// BEGIN LAB 1 SOLUTION: f", "x = 1;"],
                         2, "no END LAB 1")

    def test_end_of_another_lab(self):
        self.assertError(["// BEGIN LAB 1 SOLUTION: f", "x;", "// END LAB 2"],
                         3, "END LAB 2 closes BEGIN LAB 1")

    def test_nested_begin(self):
        self.assertError(["// BEGIN LAB 1 SOLUTION: f",
                          "  // BEGIN LAB 1 SOLUTION: g", "// END LAB 1"],
                         2, "do not nest")

    def test_stub_outside_region(self):
        self.assertError(["int x;", "// STUB:"], 2, "STUB: outside a region")

    def test_end_without_begin(self):
        self.assertError(["int x;", "// END LAB 1"], 2, "without a BEGIN")

    def test_stub_line_without_leader(self):
        self.assertError(["// BEGIN LAB 1 SOLUTION: f", "x;", "// STUB:",
                          "// ok;", "return 0;", "// END LAB 1"],
                         5, "does not start with '// '")

    def test_blank_stub_line(self):
        self.assertError(["// BEGIN LAB 1 SOLUTION: f", "// STUB:", "",
                          "// END LAB 1"], 3, "commented out")

    def test_leader_without_space_in_stub(self):
        self.assertError(["// BEGIN LAB 1 SOLUTION: f", "// STUB:",
                          "//return 0;", "// END LAB 1"], 3, "'// '")

    def test_second_stub(self):
        self.assertError(["// BEGIN LAB 1 SOLUTION: f", "// STUB:", "// a;",
                          "// STUB:", "// END LAB 1"], 4, "second STUB:")

    def test_begin_without_name(self):
        self.assertError(["// BEGIN LAB 1 SOLUTION:", "// END LAB 1"],
                         1, "malformed marker")

    def test_begin_with_bad_lab(self):
        self.assertError(["// BEGIN LAB one SOLUTION: f"], 1, "malformed marker")

    def test_end_without_lab(self):
        self.assertError(["// BEGIN LAB 1 SOLUTION: f", "// END LAB"],
                         2, "expected '// END LAB <n>'")

    def test_hash_leader_errors(self):
        self.assertError(["x = 1", "# BEGIN LAB 1 SOLUTION: f"], 2,
                         "no END LAB 1", leader="#")


class FileMarkers(unittest.TestCase):
    """Instructor-only files and files handed out from a given lab."""

    def test_instructor_only_in_first_five_lines(self):
        self.assertTrue(hl.is_instructor_only(
            text("#!/bin/sh", "# " + "INSTRUCTOR ONLY: grading keys")))
        self.assertFalse(hl.is_instructor_only(
            text(*["x"] * 5, "// " + "INSTRUCTOR ONLY")))

    def test_instructor_only_is_never_included(self):
        src = text("/* " + "INSTRUCTOR ONLY */")
        for lab in (1, 9):
            self.assertFalse(hl.include_file("kernel/k.c", src, lab))

    def test_handout_from_lab(self):
        src = text("// " + "HANDOUT FROM LAB 3", "int x;")
        self.assertEqual(hl.handout_from(src), 3)
        self.assertFalse(hl.include_file("kernel/vm.c", src, 2))
        self.assertTrue(hl.include_file("kernel/vm.c", src, 3))
        self.assertTrue(hl.include_file("kernel/vm.c", src, 4))

    def test_handout_from_marker_line_is_removed(self):
        src = text("// vm.c: the page tables", "// " + "HANDOUT FROM LAB 3",
                   "int x;")
        out, _ = hl.handout_text("kernel/vm.c", src, 3, False)
        self.assertEqual(out, text("// vm.c: the page tables", "int x;"))

    def test_excluded_directories(self):
        for path in ("solutions/lab1/printfmt.c", ".ci/run.sh", "build/x.o",
                     ".git/config"):
            self.assertFalse(hl.include_file(path, "x\n", 1), path)
        self.assertTrue(hl.include_file("kernel/solutions.c", "x\n", 1))

    def test_binary_file_is_included(self):
        self.assertIsNone(hl.decode(b"\xff\xfe\x00"))
        self.assertTrue(hl.include_file("docs/figure.png", None, 1))


def make_tree(root, files):
    """Create the files {relpath: (content, mode)} under `root`; content
    is text or bytes."""
    for relpath, (content, mode) in files.items():
        p = Path(root, relpath)
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
        os.chmod(p, mode)


BINARY = bytes(range(256))


def fake_tree_files():
    """Return the files of a small course tree (not a git checkout)."""
    a_c = c_function(*c_region(lab=1, name="add"),
                     *c_region(lab=2, name="mul", stub=("\t// return 2;",)))
    return {
        "kernel/a.c": (a_c, 0o644),
        "kernel/vm.c": (text("// " + "HANDOUT FROM LAB 3", "int vm;"), 0o644),
        "kernel/keys.c": (text("// " + "INSTRUCTOR ONLY", "int key;"), 0o644),
        "tools/run.sh": (text("#!/bin/sh", "echo run"), 0o755),
        "docs/logo.bin": (BINARY, 0o644),
        "solutions/lab1/a.c": (text("int solved;"), 0o644),
        "build/kernel.elf": (b"\x7fELF", 0o644),
        ".ci/check.sh": (text("#!/bin/sh"), 0o755),
    }


class Tree(unittest.TestCase):
    """plan_handout and write_handout on a small tree."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="handout-test-")
        self.src = os.path.join(self.tmp, "src")
        make_tree(self.src, fake_tree_files())

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def handout(self, lab, keep_earlier=False):
        """Write the handout of `lab` and return its directory."""
        out = os.path.join(self.tmp, f"out{lab}{int(keep_earlier)}")
        plan = hl.plan_handout(self.src, lab, keep_earlier)
        self.assertEqual(plan.errors, [])
        hl.write_handout(plan, out, lab, keep_earlier)
        return out

    def files(self, out):
        """Return the relative paths of the files under `out`."""
        return set(hl.walked_files(out))

    def test_walk_fallback_lists_every_file_but_build(self):
        self.assertIsNone(hl.git_files(self.src))
        found = set(hl.list_source_files(self.src))
        self.assertIn("solutions/lab1/a.c", found)
        self.assertNotIn("build/kernel.elf", found)

    def test_lab2_files(self):
        out = self.handout(2)
        self.assertEqual(self.files(out), {".handout", "kernel/a.c",
                                           "tools/run.sh", "docs/logo.bin"})

    def test_lab3_includes_its_file_without_the_marker(self):
        out = self.handout(3)
        self.assertEqual(Path(out, "kernel/vm.c").read_text(), text("int vm;"))

    def test_modes_and_binary(self):
        out = self.handout(1)
        mode = os.stat(Path(out, "tools/run.sh")).st_mode
        self.assertTrue(mode & stat.S_IXUSR)
        self.assertFalse(os.stat(Path(out, "kernel/a.c")).st_mode & stat.S_IXUSR)
        self.assertEqual(Path(out, "docs/logo.bin").read_bytes(), BINARY)

    def test_record_of_a_handout(self):
        out = self.handout(2)
        self.assertEqual(Path(out, ".handout").read_text(),
                         text("lab=2", "keep_earlier=0", "stripped=1:add",
                              "stripped=2:mul"))

    def test_keep_earlier(self):
        out = self.handout(2, keep_earlier=True)
        self.assertEqual(Path(out, ".handout").read_text(),
                         text("lab=2", "keep_earlier=1", "stripped=2:mul"))
        self.assertEqual(Path(out, "kernel/a.c").read_text(),
                         text("int f(int x)", "{", "\treturn 1;",
                              "\t// LAB 2: your code here (mul)",
                              "\treturn 2;", "}"))

    def test_outdir_must_be_new_or_empty(self):
        out = Path(self.tmp, "out")
        self.assertIsNone(hl.check_outdir(out))
        out.mkdir()
        self.assertIsNone(hl.check_outdir(out))
        Path(out, "x").write_text("x")
        self.assertIn("not empty", hl.check_outdir(out))

    def test_errors_are_collected_from_every_file(self):
        make_tree(self.src, {
            "kernel/b.c": (text("// END LAB 1"), 0o644),
            "tools/c.py": (text("x = 1", "# STUB:"), 0o644)})
        plan = hl.plan_handout(self.src, 1, False)
        self.assertEqual(sorted(str(e) for e in plan.errors),
                         ["kernel/b.c:1: END LAB 1 without a BEGIN LAB",
                          "tools/c.py:2: STUB: outside a region (no BEGIN "
                          "LAB before it)"])


def run_cli(top, *args):
    """Run tools/handout of the tree at `top`; return the CompletedProcess."""
    return subprocess.run([sys.executable, str(Path(top, "tools/handout")),
                           *map(str, args)], capture_output=True, text=True)


class CommandLine(unittest.TestCase):
    """tools/handout run on a small tree that carries its own copy."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="handout-test-")
        self.src = os.path.join(self.tmp, "src")
        make_tree(self.src, fake_tree_files())
        for name in ("handout", "handoutlib.py"):
            shutil.copy2(TOOLS / name, Path(self.src, "tools", name))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_summary(self):
        out = Path(self.tmp, "out")
        r = run_cli(self.src, 2, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("5 files (4 left out)", r.stdout)
        self.assertRegex(r.stdout, r"lab 1\s+add\s+kernel/a.c")
        self.assertRegex(r.stdout, r"lab 2\s+mul\s+kernel/a.c")

    def test_list(self):
        r = run_cli(self.src, "--list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "1\tadd\tkernel/a.c:3\n2\tmul\tkernel/a.c:8\n")

    def test_non_empty_outdir_is_refused(self):
        out = Path(self.tmp, "out")
        out.mkdir()
        Path(out, "mine.c").write_text("x")
        r = run_cli(self.src, 1, out)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not empty", r.stderr)
        self.assertEqual(os.listdir(out), ["mine.c"])

    def test_malformed_tree_writes_nothing(self):
        make_tree(self.src, {"kernel/bad.c": (
            text("int x;", "// BEGIN LAB 1 SOLUTION: f", "x = 1;"), 0o644)})
        r = run_cli(self.src, 1, Path(self.tmp, "out"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("kernel/bad.c:2: BEGIN LAB 1 SOLUTION: f has no END LAB 1",
                      r.stderr)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["src"])
        self.assertEqual(run_cli(self.src, "--list").returncode, 1)

    def test_usage_errors(self):
        for args in ((), (1,), ("--list", 1), (0, "out")):
            r = run_cli(self.src, *args)
            self.assertEqual(r.returncode, 2, args)


@unittest.skipIf(Path(TOP, hl.HANDOUT_FILE).exists(),
                 "this tree is itself a handout: its regions are gone")
class RealTree(unittest.TestCase):
    """The handout of lab 1 of this very tree."""

    SOLUTION_LINE = 'digits[n++] = "0123456789abcdef"[num % base];'

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="handout-test-")
        cls.out = Path(cls.tmp, "lab1")
        cls.result = run_cli(TOP, 1, cls.out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_generated(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)

    def test_print_number_is_stripped(self):
        src = Path(self.out, "kernel/lib/printfmt.c").read_text()
        self.assertIn("LAB 1: your code here (print_number)", src)
        self.assertNotIn(self.SOLUTION_LINE, src)
        self.assertNotIn("BEGIN LAB", src)

    def test_solutions_are_absent(self):
        self.assertFalse(Path(self.out, "solutions").exists())
        self.assertTrue(Path(self.out, "kernel").is_dir())

    def test_record(self):
        record = Path(self.out, ".handout").read_text().splitlines()
        self.assertEqual(record[:2], ["lab=1", "keep_earlier=0"])
        self.assertIn("stripped=1:print_number", record)

    def test_list_names_print_number(self):
        r = run_cli(TOP, "--list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout,
                         r"(?m)^1\tprint_number\tkernel/lib/printfmt\.c:\d+$")

    def test_keep_earlier_keeps_lab1_in_lab2(self):
        out = Path(self.tmp, "lab2")
        r = run_cli(TOP, 2, out, "--keep-earlier")
        self.assertEqual(r.returncode, 0, r.stderr)
        src = Path(out, "kernel/lib/printfmt.c").read_text()
        self.assertIn(self.SOLUTION_LINE, src)
        self.assertNotIn("your code here (print_number)", src)
        self.assertNotIn("stripped=1:print_number",
                         Path(out, ".handout").read_text())


def main():
    """Run every test, then print `N passed, N failed`; exit non-zero on a
    failure."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + \
        len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{passed} passed, {failed} failed")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
