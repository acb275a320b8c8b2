#!/usr/bin/env python3
"""Host unit tests of tools/fetch-lwip, without the network: reading the
machine's apt sources (one-line and deb822) into the private state's
deb-src entries, the .dsc's checksums, and a fetch from --archives of a
package made here (what is unpacked, what is refused, the stamp)."""
import hashlib
import io
import sys
import tarfile
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(TOP / "tools" / "tests"))
from scripts import load_script  # noqa: E402

fetch_lwip = load_script("fetch-lwip")

ONE_LINE = """\
# the main archive
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg check-valid-until=no] http://mirror.example/debian bookworm main contrib
deb http://mirror.example/debian-security bookworm-security main
deb-src http://other.example/debian bookworm contrib
"""

DEB822 = """\
Types: deb
# a comment inside a paragraph
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGPL
 -----END PGP PUBLIC KEY BLOCK-----

Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb
URIs: https://vendor.example/apt
Suites: nodistro
Components: main
"""


class Sources(unittest.TestCase):
    def test_one_line(self):
        entries = fetch_lwip.parse_one_line(ONE_LINE)
        self.assertEqual(3, len(entries))
        self.assertEqual({"Types": "deb", "URIs": "http://mirror.example/debian",
                          "Suites": "bookworm", "Components": "main contrib",
                          "Architectures": "amd64", "Check-Valid-Until": "no",
                          "Signed-By": "/usr/share/keyrings/debian-archive-keyring.gpg"},
                         entries[0])
        self.assertNotIn("Signed-By", entries[1])

    def test_deb822_keeps_an_inline_key(self):
        entries = fetch_lwip.parse_deb822(DEB822)
        self.assertEqual(3, len(entries))
        self.assertEqual("bookworm bookworm-updates", entries[0]["Suites"])
        self.assertTrue(entries[0]["Signed-By"].startswith("\n -----BEGIN PGP PUBLIC KEY"))
        self.assertEqual("no", entries[1]["Enabled"])

    def test_only_the_suites_main_component(self):
        with tempfile.TemporaryDirectory() as d:
            one, deb822 = Path(d) / "sources.list", Path(d) / "debian.sources"
            one.write_text(ONE_LINE)
            deb822.write_text(DEB822)
            real = fetch_lwip.apt_source_files
            fetch_lwip.apt_source_files = lambda: [one, deb822]
            try:
                entries = fetch_lwip.debian_entries()
            finally:
                fetch_lwip.apt_source_files = real
        self.assertEqual(["http://mirror.example/debian"] * 2, [e["URIs"] for e in entries])
        text = fetch_lwip.private_sources(entries)
        self.assertEqual(2, text.count("Types: deb-src\nURIs: http://mirror.example/debian\n"
                                       "Suites: bookworm\nComponents: main\n"))
        self.assertIn("Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n", text)
        self.assertIn("Check-Valid-Until: no\n", text)
        self.assertIn("Signed-By: \n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n", text)


def tarball(path, members):
    """An xz tarball at path of (name, bytes or None for a folder, or
    ('link', target))."""
    with tarfile.open(path, "w:xz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(data, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, data[1]
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def dsc(files):
    """A clearsigned .dsc's text listing files {name: bytes}."""
    lines = ["-----BEGIN PGP SIGNED MESSAGE-----", "Hash: SHA512", "",
             "Format: 3.0 (quilt)", "Source: lwip", "Version: " + fetch_lwip.PACKAGE_VERSION,
             "Checksums-Sha256:"]
    lines += [" %s %d %s" % (hashlib.sha256(data).hexdigest(), len(data), name)
              for name, data in files.items()]
    lines += ["Files:", " 0123 1 x", "", "-----BEGIN PGP SIGNATURE-----", "",
              "-----END PGP SIGNATURE-----"]
    return "\n".join(lines) + "\n"


ORIG = "lwip_2.1.3+dfsg1.orig.tar.xz"
DEBIAN = "lwip_%s.debian.tar.xz" % fetch_lwip.PACKAGE_VERSION


class FromArchives(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        root = Path(self.dir.name)
        self.archives, self.out = root / "archives", root / "out"
        self.archives.mkdir()
        tarball(self.archives / ORIG, [
            ("lwip-2.1.3", None), ("lwip-2.1.3/src", None),
            ("lwip-2.1.3/src/core/init.c", b"/* init */\n"),
            ("lwip-2.1.3/src/include/lwip/opt.h", b"/* opt */\n"),
            ("lwip-2.1.3/COPYING", b"licence\n"),
            ("lwip-2.1.3/test/unit/x.c", b"not kept\n"),
            ("lwip-2.1.3/src/link.c", ("link", "/etc/passwd")),
            ("lwip-2.1.3/src/../../evil.c", b"outside\n")])
        tarball(self.archives / DEBIAN, [("debian/control", b"Source: lwip\n")])
        self.write_dsc()

    def tearDown(self):
        self.dir.cleanup()

    def write_dsc(self):
        files = {n: (self.archives / n).read_bytes() for n in (ORIG, DEBIAN)}
        (self.archives / fetch_lwip.DSC).write_text(dsc(files))

    def fetch(self):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            status = fetch_lwip.main(["--archives", str(self.archives), str(self.out)])
        return status, out.getvalue() + err.getvalue()

    def test_unpacks_src_and_licence_only(self):
        status, said = self.fetch()
        self.assertEqual(0, status, said)
        self.assertEqual(b"/* init */\n", (self.out / "src/core/init.c").read_bytes())
        self.assertEqual(b"/* opt */\n", (self.out / "src/include/lwip/opt.h").read_bytes())
        self.assertEqual(b"licence\n", (self.out / "COPYING").read_bytes())
        self.assertFalse((self.out / "test").exists())
        self.assertFalse((self.out / "src/link.c").exists(), "a link was unpacked")
        self.assertFalse((Path(self.dir.name) / "evil.c").exists())
        self.assertFalse((self.out / "evil.c").exists())
        stamp = (self.out / ".fetched").read_text().split()
        self.assertEqual(["lwip", fetch_lwip.PACKAGE_VERSION, ORIG, "sha256",
                          hashlib.sha256((self.archives / ORIG).read_bytes()).hexdigest()], stamp)

    def test_second_fetch_does_nothing(self):
        self.assertEqual(0, self.fetch()[0])
        (self.out / "src/core/init.c").write_text("edited\n")
        status, said = self.fetch()
        self.assertEqual((0, ""), (status, said))
        self.assertEqual("edited\n", (self.out / "src/core/init.c").read_text())

    def test_wrong_checksum_is_refused(self):
        with open(self.archives / ORIG, "ab") as f:
            f.write(b"x")
        status, said = self.fetch()
        self.assertEqual(1, status)
        self.assertIn("%s: SHA-256 " % ORIG, said)
        self.assertIn("a broken download, deleted", said)
        self.assertFalse((self.out / "src").exists())
        self.assertFalse((self.out / ".fetched").exists())

    def test_not_lwip_is_refused(self):
        tarball(self.archives / ORIG, [("lwip-2.1.3/src/other.c", b"\n")])
        self.write_dsc()
        status, said = self.fetch()
        self.assertEqual(1, status)
        self.assertIn("has no src/core/init.c", said)

    def test_missing_dsc(self):
        (self.archives / fetch_lwip.DSC).unlink()
        status, said = self.fetch()
        self.assertEqual(1, status)
        self.assertIn("no %s there" % fetch_lwip.DSC, said)


if __name__ == "__main__":
    unittest.main(verbosity=1)
