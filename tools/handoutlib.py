"""Generate a student tree (a handout) from the instructor's full tree.

The marker syntax is described in docs/lab-markers.md. This module holds the
logic; tools/handout is its command line. Text functions are pure (a text in,
a text out); only list_source_files, plan_handout and write_handout touch the
file system.
"""
import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# Directories (at the top of the tree) that no handout ever contains.
EXCLUDED_DIRS = ("solutions", ".ci", ".git", "build")

# Directories a walk of a tree that is not a git checkout does not enter.
WALK_SKIPPED_DIRS = {".git", "build", "__pycache__"}

# File markers are looked for in this many lines at the top of a file.
FILE_MARKER_LINES = 5
INSTRUCTOR_ONLY = "INSTRUCTOR ONLY"
HANDOUT_FROM_RE = re.compile(r"HANDOUT FROM LAB\s+(\d+)")

C_SUFFIXES = {".c", ".h", ".S"}
HASH_SUFFIXES = {".py", ".sh", ".mk"}
HASH_NAMES = {"Makefile", "GNUmakefile", "Makefrag"}

NAME_RE = r"[A-Za-z_][A-Za-z0-9_]*"

# The name of the file a handout records what it is in.
HANDOUT_FILE = ".handout"


class MarkerError(Exception):
    """A malformed marker: names the file, the line (1-based) and the
    problem, printed as `file:line: message`."""

    def __init__(self, path, line, message):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass
class Region:
    """One solution region: `begin`, `stub_at` and `end` are the 1-based
    line numbers of its markers (`stub_at` is None without a stub);
    `solution` and `stub` hold its lines as written (stub lines still
    commented out); `indent` is the BEGIN line's leading whitespace."""
    lab: int
    name: str
    begin: int
    indent: str
    newline: str
    stub_at: int = None
    end: int = None
    solution: list = field(default_factory=list)
    stub: list = field(default_factory=list)


def leader_for(path, text=""):
    """Return the line-comment leader of the file at `path` ("//" or "#"),
    or None when markers are not recognised in that kind of file. A file
    without a known suffix whose text starts with `#!` is a script: "#"."""
    p = Path(path)
    if p.suffix in C_SUFFIXES:
        return "//"
    if p.suffix in HASH_SUFFIXES or p.name in HASH_NAMES:
        return "#"
    if p.suffix == "" and text.startswith("#!"):
        return "#"
    return None


def split_lines(text):
    """Split `text` into lines that keep their "\\n" (the last one may have
    none). Unlike str.splitlines, only "\\n" ends a line."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def line_ending(line):
    """Return the end of `line`: "\\r\\n", "\\n" or "" (last line)."""
    for end in ("\r\n", "\n"):
        if line.endswith(end):
            return end
    return ""


def marker_patterns(leader):
    """Return the regular expressions of the markers for `leader`: a loose
    one that spots any marker-like comment, and strict ones for BEGIN, STUB
    and END."""
    lead = r"^(\s*)" + re.escape(leader) + r"\s*"
    return {
        "any": re.compile(lead + r"(BEGIN LAB|END LAB|STUB:)"),
        "begin": re.compile(lead + r"BEGIN LAB\s+(\d+)\s+SOLUTION:\s*("
                            + NAME_RE + r")\s*$"),
        "stub": re.compile(lead + r"STUB:\s*$"),
        "end": re.compile(lead + r"END LAB\s+(\d+)\s*$"),
    }


def marker_kind(line, patterns, leader, path, lineno):
    """Classify `line` as "begin", "stub", "end" (returning the match too)
    or None for an ordinary line. A comment that looks like a marker but is
    not well formed is an error."""
    if not patterns["any"].match(line):
        return None, None
    for kind in ("begin", "stub", "end"):
        m = patterns[kind].match(line)
        if m:
            return kind, m
    expected = {
        "BEGIN LAB": f"'{leader} BEGIN LAB <n> SOLUTION: <name>'",
        "END LAB": f"'{leader} END LAB <n>'",
        "STUB:": f"'{leader} STUB:' alone on its line",
    }[patterns["any"].match(line).group(2)]
    raise MarkerError(path, lineno,
                      f"malformed marker {line.strip()!r}: expected {expected}")


def check_stub_line(line, leader, path, lineno):
    """Raise MarkerError unless `line` is a commented-out stub line: the
    leader after the indentation, then a space or nothing."""
    body = line.lstrip(" \t").rstrip("\r\n")
    if body == leader or body.startswith(leader + " "):
        return
    raise MarkerError(path, lineno,
                      f"stub line {line.strip()!r} does not start with "
                      f"'{leader} ' (every line between STUB: and END must "
                      f"be commented out)")


def uncomment_stub_line(line, leader):
    """Return a stub line with its leader and the one space after it
    removed; the indentation before and after them is kept. A line that is
    only the leader becomes an empty line."""
    body = line.lstrip(" \t")
    indent = line[:len(line) - len(body)]
    end = line_ending(body)
    body = body[:len(body) - len(end)]
    if body == leader:
        return end
    return indent + body[len(leader) + 1:] + end


def open_region(region, m, path, lineno):
    """Return the Region a BEGIN line (match `m`) opens; an error if
    `region` (the one being read) is still open: regions do not nest."""
    if region is not None:
        raise MarkerError(path, lineno,
                          f"BEGIN LAB {m.group(2)} SOLUTION: {m.group(3)} inside "
                          f"region {region.name} opened at line {region.begin} "
                          f"(regions do not nest; close it with END LAB "
                          f"{region.lab} first)")
    return Region(lab=int(m.group(2)), name=m.group(3), begin=lineno,
                  indent=m.group(1), newline=line_ending(m.string))


def mark_stub(region, path, lineno):
    """Record a STUB: line at `lineno` in `region`; an error outside a
    region or when the region already has one."""
    if region is None:
        raise MarkerError(path, lineno, "STUB: outside a region (no BEGIN LAB "
                          "before it)")
    if region.stub_at is not None:
        raise MarkerError(path, lineno,
                          f"second STUB: in region {region.name} (the first is "
                          f"at line {region.stub_at})")
    region.stub_at = lineno


def close_region(region, m, path, lineno):
    """Close `region` with the END line (match `m`) at `lineno`; an error
    outside a region or when the lab numbers differ."""
    lab = int(m.group(2))
    if region is None:
        raise MarkerError(path, lineno, f"END LAB {lab} without a BEGIN LAB")
    if lab != region.lab:
        raise MarkerError(path, lineno,
                          f"END LAB {lab} closes BEGIN LAB {region.lab} "
                          f"SOLUTION: {region.name} (line {region.begin}); "
                          f"the lab numbers must match")
    region.end = lineno


def parse(text, leader, path="<text>"):
    """Split `text` into pieces: ordinary lines (str) and Region objects, in
    order. Raises MarkerError for a malformed marker, a region that does
    not end, a nested region, a STUB: outside a region or a stub line that
    is not commented out."""
    patterns = marker_patterns(leader)
    pieces, region = [], None
    for lineno, line in enumerate(split_lines(text), start=1):
        kind, m = marker_kind(line, patterns, leader, path, lineno)
        if kind == "begin":
            region = open_region(region, m, path, lineno)
        elif kind == "stub":
            mark_stub(region, path, lineno)
        elif kind == "end":
            close_region(region, m, path, lineno)
            pieces.append(region)
            region = None
        elif region is None:
            pieces.append(line)
        elif region.stub_at is None:
            region.solution.append(line)
        else:
            check_stub_line(line, leader, path, lineno)
            region.stub.append(line)
    if region is not None:
        raise MarkerError(path, region.begin,
                          f"BEGIN LAB {region.lab} SOLUTION: {region.name} has "
                          f"no END LAB {region.lab} before the end of the file")
    return pieces


def parse_regions(text, leader, path="<text>"):
    """Return the Regions of `text` (see parse for the errors)."""
    return [p for p in parse(text, leader, path) if isinstance(p, Region)]


def is_stripped(region_lab, lab, keep_earlier):
    """Say whether a handout for `lab` removes the solution of a region of
    `region_lab`: always for labs >= `lab`, for earlier labs unless
    `keep_earlier`."""
    return region_lab >= lab or not keep_earlier


def render_region(region, leader, stripped):
    """Return the lines a region becomes: its solution lines when kept;
    when stripped, a "your code here" line and the uncommented stub."""
    if not stripped:
        return list(region.solution)
    head = (f"{region.indent}{leader} LAB {region.lab}: your code here "
            f"({region.name}){region.newline}")
    return [head] + [uncomment_stub_line(s, leader) for s in region.stub]


def transform(text, leader, lab, keep_earlier=False, path="<text>"):
    """Return (new text, stripped) for a handout of `lab`: every region is
    replaced by its stub (stripped) or by its solution (kept), see
    is_stripped; `stripped` lists the (lab, name) removed, in order."""
    out, stripped = [], []
    for piece in parse(text, leader, path):
        if isinstance(piece, str):
            out.append(piece)
            continue
        strip = is_stripped(piece.lab, lab, keep_earlier)
        out.extend(render_region(piece, leader, strip))
        if strip:
            stripped.append((piece.lab, piece.name))
    return "".join(out), stripped


def head_lines(text):
    """Return the first FILE_MARKER_LINES lines of `text`."""
    return split_lines(text)[:FILE_MARKER_LINES]


def is_instructor_only(text):
    """Say whether `text` carries the instructor-only mark in its first
    lines: such a file is in no handout."""
    return any(INSTRUCTOR_ONLY in line for line in head_lines(text))


def handout_from(text):
    """Return n when the first lines of `text` say the file is handed out
    from lab n on, else None."""
    for line in head_lines(text):
        m = HANDOUT_FROM_RE.search(line)
        if m:
            return int(m.group(1))
    return None


def remove_handout_from(text):
    """Return `text` without the line of its first lines that says from
    which lab the file is handed out."""
    lines = split_lines(text)
    for i, line in enumerate(lines[:FILE_MARKER_LINES]):
        if HANDOUT_FROM_RE.search(line):
            return "".join(lines[:i] + lines[i + 1:])
    return text


def in_excluded_dir(relpath):
    """Say whether `relpath` (relative to the top of the tree) lies in a
    directory that no handout contains (solutions/, .ci/, .git/, build/)."""
    return Path(relpath).parts[0] in EXCLUDED_DIRS


def include_file(relpath, text, lab):
    """Say whether the file at `relpath` goes into a handout for `lab`.
    `text` is its content, or None for a binary file (which carries no
    markers)."""
    if in_excluded_dir(relpath):
        return False
    if text is None:
        return True
    if is_instructor_only(text):
        return False
    first = handout_from(text)
    return first is None or first <= lab


def handout_text(relpath, text, lab, keep_earlier):
    """Return (text, stripped) for the handout copy of a text file that
    include_file accepted: regions transformed, file marker removed."""
    leader = leader_for(relpath, text)
    stripped = []
    if leader is not None:
        text, stripped = transform(text, leader, lab, keep_earlier, relpath)
    return remove_handout_from(text), stripped


def decode(data):
    """Return `data` (bytes) as text, or None if it is not UTF-8 (a binary
    file, copied as it is)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def git_files(top):
    """Return the files git tracks under `top` (relative paths), or None
    when `top` is not the top of a git checkout."""
    try:
        root = subprocess.run(["git", "-C", str(top), "rev-parse",
                               "--show-toplevel"], capture_output=True,
                              text=True, check=True).stdout.strip()
        if Path(root).resolve() != Path(top).resolve():
            return None
        out = subprocess.run(["git", "-C", str(top), "ls-files", "-z"],
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def walked_files(top):
    """Return every file under `top` (relative paths, sorted), skipping
    WALK_SKIPPED_DIRS and compiled Python files."""
    found = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in WALK_SKIPPED_DIRS)
        for name in filenames:
            if not name.endswith(".pyc"):
                found.append(os.path.relpath(os.path.join(dirpath, name), top))
    return sorted(found)


def list_source_files(top):
    """Return the files of the tree at `top`: those git tracks (that still
    exist in the working tree), or every file when it is not a checkout."""
    files = git_files(top)
    if files is None:
        return walked_files(top)
    return [p for p in files if os.path.lexists(os.path.join(top, p))]


@dataclass
class OutFile:
    """One file of a handout: its relative path, its content (bytes) or
    the target of a symbolic link, and its permission bits."""
    relpath: str
    data: bytes = None
    link: str = None
    mode: int = 0o644


@dataclass
class Plan:
    """What a handout contains: the files to write, the number of files
    left out, the exercises stripped ((lab, name, relpath), one per
    region) and the errors found (MarkerError), all before anything is
    written."""
    files: list = field(default_factory=list)
    left_out: int = 0
    stripped: list = field(default_factory=list)
    errors: list = field(default_factory=list)


def plan_file(top, relpath, lab, keep_earlier, plan):
    """Add the handout copy of `relpath` to `plan` (or count it as left
    out, or record its marker error)."""
    full = os.path.join(top, relpath)
    st = os.lstat(full)
    if stat.S_ISLNK(st.st_mode):
        plan.files.append(OutFile(relpath, link=os.readlink(full)))
        return
    if not stat.S_ISREG(st.st_mode):      # a submodule, say: not handed out
        plan.left_out += 1
        return
    data = Path(full).read_bytes()
    text = decode(data)
    if not include_file(relpath, text, lab):
        plan.left_out += 1
        return
    mode = stat.S_IMODE(st.st_mode)
    if text is not None:
        try:
            new, stripped = handout_text(relpath, text, lab, keep_earlier)
        except MarkerError as e:
            plan.errors.append(e)
            return
        data = new.encode("utf-8")
        plan.stripped.extend((n, name, relpath) for n, name in stripped)
    plan.files.append(OutFile(relpath, data=data, mode=mode))


def plan_handout(top, lab, keep_earlier):
    """Return the Plan of a handout of `lab` from the tree at `top`."""
    plan = Plan()
    for relpath in list_source_files(top):
        if in_excluded_dir(relpath):
            plan.left_out += 1
        else:
            plan_file(top, relpath, lab, keep_earlier, plan)
    return plan


def stripped_exercises(plan):
    """Return the (lab, name) pairs the plan strips, sorted, each once."""
    return sorted({(n, name) for n, name, _ in plan.stripped})


def handout_record(lab, keep_earlier, exercises):
    """Return the text of OUTDIR/.handout: the lab, whether earlier
    solutions are kept, and one `stripped=<lab>:<name>` line per exercise
    removed."""
    lines = [f"lab={lab}", f"keep_earlier={1 if keep_earlier else 0}"]
    lines += [f"stripped={n}:{name}" for n, name in exercises]
    return "\n".join(lines) + "\n"


def check_outdir(outdir):
    """Return an error message if `outdir` cannot receive a handout (it
    exists and is not an empty directory), else None."""
    p = Path(outdir)
    if not os.path.lexists(p):
        return None
    if not p.is_dir() or p.is_symlink():
        return f"{outdir}: exists and is not a directory"
    if any(p.iterdir()):
        return f"{outdir}: directory is not empty (a handout goes into a new " \
               f"or empty directory)"
    return None


def write_file(root, out):
    """Write one OutFile under the directory `root`."""
    dest = os.path.join(root, out.relpath)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if out.link is not None:
        os.symlink(out.link, dest)
        return
    Path(dest).write_bytes(out.data)
    os.chmod(dest, out.mode)


def write_handout(plan, outdir, lab, keep_earlier):
    """Write the files of `plan` and the .handout record into `outdir`
    (new or empty). The tree is built in a temporary directory beside it
    and moved into place at the end, so a failure leaves nothing half
    written."""
    outdir = Path(outdir)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent)
    try:
        for out in plan.files:
            write_file(tmp, out)
        record = handout_record(lab, keep_earlier, stripped_exercises(plan))
        Path(tmp, HANDOUT_FILE).write_text(record)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        if outdir.exists():
            outdir.rmdir()
        os.rename(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def list_regions(top):
    """Return ([(lab, name, relpath, line)], errors) for every region of
    the tree at `top` outside the directories no handout contains."""
    regions, errors = [], []
    for relpath in list_source_files(top):
        full = os.path.join(top, relpath)
        if in_excluded_dir(relpath) or not os.path.isfile(full):
            continue
        text = decode(Path(full).read_bytes())
        leader = leader_for(relpath, text) if text is not None else None
        if leader is None:
            continue
        try:
            found = parse_regions(text, leader, relpath)
        except MarkerError as e:
            errors.append(e)
            continue
        regions.extend((r.lab, r.name, relpath, r.begin) for r in found)
    return regions, errors
