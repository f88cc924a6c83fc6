#!/usr/bin/env python3
"""Output that cannot be written (--help to /dev/full, a closed stdout, a closed pipe in a
fleet) and fleets stopped by SIGTERM/SIGINT: never a silent success, never a torn JSON line."""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import shutil
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cmdtest  # noqa: E402

SUMMARY_RE = re.compile(r"^mailscope: (\d+) targets?: (\d+) ok, (\d+) warning, (\d+) critical, (\d+) unknown$",
                        re.M)


def shell(command, *args, timeout=60):
    """bash -c COMMAND with $1 = mailscope and ARGS after it; (rc, stdout, stderr)."""
    p = subprocess.run(["bash", "-c", command, "bash", cmdtest.MAILSCOPE] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cmdtest.env(), timeout=timeout)
    cmdtest.check_sanitizer(p.stderr)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


class HelpAndVersion(unittest.TestCase):
    def test_unwritable_stdout(self):
        for option in ("--help", "--version"):
            for where, redirect in (("/dev/full", '>/dev/full'), ("closed stdout", '>&-')):
                with self.subTest(option=option, stdout=where):
                    rc, out, err = shell('"$1" "$2" ' + redirect, option)
                    self.assertEqual(rc, 3, err)
                    self.assertRegex(err, r"^mailscope: cannot write the (help|version)")
                    self.assertEqual(len(err.splitlines()), 1, err)

    def test_writable_stdout(self):
        for option in ("--help", "--version"):
            rc, out, err = shell('"$1" "$2"', option)
            self.assertEqual(rc, 0, err)
            self.assertEqual(err, "")
            self.assertTrue(out)


if __name__ == "__main__":
    unittest.main()
