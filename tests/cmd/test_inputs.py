#!/usr/bin/env python3
"""Local inputs: what mailscope echoes of them, and files that are not what they seem
(directories, FIFOs without a writer, unreadable files, I/O errors, NUL bytes, over-long
lines, secret files others can read)."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cmdtest  # noqa: E402
from cmdtest import run  # noqa: E402

# Bytes a terminal acts on: OSC (set the title), CSI (clear the screen), BEL.
HOSTILE = b"evil\x1b]0;pwned\x07\x1b[2J\x9b31m"
REFUSED = "imaps://127.0.0.1:1"  # a target that fails at once: nothing listens on port 1


def assert_clean(test, data, what):
    for b in (b"\x1b", b"\x07", b"\x9b"):
        test.assertNotIn(b, data, "%s carries a raw control byte %r:\n%r" % (what, b, data))


class Echoes(unittest.TestCase):
    """Every echo of the user's input on stderr (and nagios' status line) is sanitised the
    way the reports are: control bytes become \\xHH."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ms-cmd-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_bad_command_line_target(self):
        for target in (b"imaps://" + HOSTILE, HOSTILE, b"imaps://host:99" + HOSTILE, b"x@" + HOSTILE):
            with self.subTest(target=target):
                r = run([target])
                self.assertEqual(r.rc, 3, r.describe())
                assert_clean(self, r.err, "stderr")
                self.assertIn(b"\\x1b", r.err, r.describe())

    def test_unknown_option(self):
        r = run([b"--" + HOSTILE, "mail.example.com"])
        self.assertEqual(r.rc, 3, r.describe())
        assert_clean(self, r.err, "stderr")
        self.assertIn(b"\\x1b", r.err, r.describe())

    def test_nagios_status_line(self):
        r = run(["--format", "nagios", b"imaps://" + HOSTILE])
        self.assertEqual(r.rc, 3, r.describe())
        assert_clean(self, r.out, "stdout")
        assert_clean(self, r.err, "stderr")
        self.assertRegex(r.stdout, r"^MAILSCOPE UNKNOWN - ")

    def test_bad_targets_file_lines(self):
        path = cmdtest.write(os.path.join(self.tmp, "targets"),
                             b"imaps://" + HOSTILE + b"\n" + REFUSED.encode() + b" " + HOSTILE + b"\n"
                             + REFUSED.encode() + b" user=" + HOSTILE + b" " + HOSTILE + b"\n")
        r = run(["--format", "jsonl", "--timeout", "2", "--targets-file", path])
        self.assertEqual(r.rc, 3, r.describe())
        assert_clean(self, r.err, "stderr")
        self.assertEqual(r.err.count(b"targets file line"), 3, r.describe())
        self.assertIn(b"\\x1b", r.err, r.describe())
        self.assertIn(b"3 targets: 0 ok, 0 warning, 0 critical, 3 unknown", r.err, r.describe())


if __name__ == "__main__":
    unittest.main()
