#!/usr/bin/env python3
"""--version: the project version (+ `git describe` in a checkout) and a line for every
library the program links, with the version it runs with and the one it was built against.

Every shared library a program links directly (its ELF NEEDED entries, `readelf -d`) must
have a line: linking a new library without a row in cmd/version.c fails here. The
programs checked are MAILSCOPE and, when built beside it, mailscope-serve.
"""
import os
import pathlib
import re
import shutil
import subprocess
import unittest

import cmdtest

SOURCE = pathlib.Path(__file__).resolve().parents[2]

# soname prefix -> the name --version prints. A NEEDED entry that matches none fails the
# test: add the library to cmd/version.c (one row) and here.
LIBRARIES = {
    "libssl.so": "OpenSSL", "libcrypto.so": "OpenSSL",
    "libcares.so": "c-ares",
    "libjansson.so": "jansson",
    "libc.so": "glibc", "libm.so": "glibc", "libpthread.so": "glibc", "libdl.so": "glibc",
    "librt.so": "glibc",
    "libmicrohttpd.so": "libmicrohttpd",
    "libgnutls.so": "GnuTLS",
    "libcurl.so": "libcurl", "libcurl-gnutls.so": "libcurl",
    "libexpat.so": "expat",
    "libpsl.so": "libpsl",
}
# Not libraries of the program: the sanitizer runtimes of an ASan+UBSan build.
IGNORED = ("libasan.so", "libubsan.so", "liblsan.so", "libtsan.so", "ld-linux")


def project_version():
    text = (SOURCE / "CMakeLists.txt").read_text()
    m = re.search(r"project\(mailscope\s+VERSION\s+([0-9.]+)", text)
    return m.group(1)


def programs():
    first = pathlib.Path(cmdtest.MAILSCOPE)
    out = [first]
    serve = first.parent / "mailscope-serve"
    if serve.exists():
        out.append(serve)
    return out


def needed(binary):
    p = subprocess.run(["readelf", "-d", str(binary)], stdout=subprocess.PIPE, check=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", p.stdout.decode())


def version_of(binary):
    p = subprocess.run([str(binary), "--version"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cmdtest.env(), timeout=30)
    cmdtest.check_sanitizer(p.stderr)
    if p.returncode != 0 or p.stderr:
        raise AssertionError("%s --version: rc=%d\n%s" % (binary, p.returncode, p.stderr.decode()))
    return p.stdout.decode()


def library_rows(text):
    """{name: (running, built)} from the lines after 'libraries:'."""
    rows = {}
    lines = text.splitlines()
    i = lines.index("libraries:")
    for line in lines[i + 1:]:
        m = re.fullmatch(r"  (\S+)\s+(\S+)\s+\(built with (\S+)\)", line)
        if not m:
            raise AssertionError("not a library line: %r\n%s" % (line, text))
        rows[m.group(1)] = (m.group(2), m.group(3))
    return rows


def in_git_checkout():
    if not shutil.which("git"):
        return False
    p = subprocess.run(["git", "-C", str(SOURCE), "rev-parse", "--show-toplevel"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p.returncode == 0 and pathlib.Path(p.stdout.decode().strip()).resolve() == SOURCE


class Version(unittest.TestCase):
    def test_first_line(self):
        for binary in programs():
            with self.subTest(program=binary.name):
                first = version_of(binary).splitlines()[0]
                m = re.fullmatch(r"(\S+) ([0-9.]+)(?: \(git ([A-Za-z0-9._+-]+)\))?", first)
                self.assertTrue(m, first)
                self.assertEqual(m.group(1), binary.name)
                self.assertEqual(m.group(2), project_version())
                # A build from a checkout says which commit; the build tree of this test is
                # the checkout's (a build from a copy without .git is tests/package's case).
                if in_git_checkout():
                    self.assertTrue(m.group(3), "built from a git checkout, no git describe: " + first)

    def test_every_linked_library(self):
        for binary in programs():
            with self.subTest(program=binary.name):
                rows = library_rows(version_of(binary))
                for soname in needed(binary):
                    if soname.startswith(IGNORED):
                        continue
                    names = [n for prefix, n in LIBRARIES.items() if soname.startswith(prefix)]
                    self.assertTrue(names, "%s links %s: give it a row in cmd/version.c and a name in "
                                    "tests/cmd/test_version.py" % (binary.name, soname))
                    self.assertIn(names[0], rows, "%s links %s but --version has no %s line"
                                  % (binary.name, soname, names[0]))
                for name, (running, built) in rows.items():
                    self.assertRegex(running, r"^[0-9]+\.[0-9]+", name)
                    self.assertRegex(built, r"^[0-9]+\.[0-9]+", name)

    def test_serve_subcommand(self):
        # `mailscope serve --version` runs mailscope-serve: its version and its own libraries
        # (the HTTP server's), not the command line tool's.
        serve = [b for b in programs() if b.name == "mailscope-serve"]
        if not serve:
            self.skipTest("mailscope-serve is not built")
        p = subprocess.run([cmdtest.MAILSCOPE, "serve", "--version"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cmdtest.env(),
                           timeout=30)
        cmdtest.check_sanitizer(p.stderr)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(p.stdout.decode(), version_of(serve[0]))
        self.assertIn("libmicrohttpd", library_rows(p.stdout.decode()))
        self.assertNotIn("libmicrohttpd", library_rows(version_of(programs()[0])))

    def test_running_versions_are_the_loaded_libraries(self):
        # The openssl command loads the same libcrypto: its "Library:" version is the one
        # mailscope runs with (OpenSSL_version(), not the headers' OPENSSL_VERSION_STR).
        if not shutil.which("openssl"):
            self.skipTest("no openssl command")
        p = subprocess.run(["openssl", "version", "-v"], stdout=subprocess.PIPE, check=True)
        m = re.search(r"Library: OpenSSL (\S+)", p.stdout.decode()) or re.search(
            r"^OpenSSL (\S+)", p.stdout.decode())
        rows = library_rows(version_of(programs()[0]))
        self.assertEqual(rows["OpenSSL"][0], m.group(1))
        glibc = os.confstr("CS_GNU_LIBC_VERSION").split()[-1]
        self.assertEqual(rows["glibc"][0], glibc)


if __name__ == "__main__":
    unittest.main(verbosity=2)
