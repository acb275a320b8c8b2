#!/usr/bin/env python3
"""Host unit tests of tools/test's step selection (make test ONLY=,
tools/test --only): which steps a pattern keeps, in which groups, and
what a pattern that matches nothing or --help does (neither runs a
step)."""
import subprocess
import sys
import unittest
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(TOP / "tools" / "tests"))
from scripts import load_script  # noqa: E402

make_test = load_script("test")


def step(title):
    return (title, ["true"], TOP)


GROUPS = [
    ({"qemu", "bochs"}, [step("host: include layers"), step("host: handout generator")]),
    ({"qemu"}, [step("lab 2 on qemu"), step("lab 2 on qemu, --mem 5120")]),
    ({"bochs"}, [step("lab 2 on bochs")]),
    ({"qemu"}, [step("handout 2: generate"), step("handout 2: build")]),
    ({"qemu"}, [step("handout 10: generate")]),
]


def titles(groups):
    return [[title for title, _, _ in steps] for _, steps in groups]


class Selection(unittest.TestCase):
    def test_empty_pattern_keeps_everything(self):
        self.assertEqual(titles(GROUPS), titles(make_test.selected(GROUPS, "")))

    def test_search_not_match_and_groups_kept(self):
        # "handout generator" and "handout 10:" do not match; "on qemu$" is
        # found inside a title, not only at its start.
        got = list(make_test.selected(GROUPS, "handout [2-5]:|on qemu$"))
        self.assertEqual([["lab 2 on qemu"], ["handout 2: generate", "handout 2: build"]],
                         titles(got))
        self.assertEqual([{"qemu"}, {"qemu"}], [emus for emus, _ in got])

    def test_nothing_matches(self):
        self.assertEqual([], list(make_test.selected(GROUPS, "lab 11")))


class CommandLine(unittest.TestCase):
    def run_test(self, *args):
        return subprocess.run([sys.executable, str(TOP / "tools" / "test")] + list(args),
                              capture_output=True, text=True, timeout=60)

    def test_no_step_matches(self):
        r = self.run_test("--only", "no such step")
        self.assertEqual(1, r.returncode)
        self.assertEqual("make test: no step's title matches 'no such step'\n", r.stderr)
        self.assertEqual("", r.stdout)

    def test_help_runs_nothing(self):
        r = self.run_test("--help")
        self.assertEqual(0, r.returncode)
        self.assertIn("--only REGEX", r.stdout)
        self.assertNotIn("====", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=1)
