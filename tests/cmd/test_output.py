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


class Fleet(unittest.TestCase):
    """A fleet stopped by a signal, or by a reader that went away."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ms-cmd-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def targets(self, lines):
        return cmdtest.write(os.path.join(self.tmp, "targets"), "\n".join(lines) + "\n")

    def start(self, args, stdout=None):
        """Start mailscope ARGS; stdout goes to a file (self.out) unless given: a pipe the test
        did not drain would fill up and block mailscope's writes."""
        if stdout is None:
            self.out = tempfile.TemporaryFile(dir=self.tmp)
            stdout = self.out
        return subprocess.Popen([cmdtest.MAILSCOPE] + args, stdin=subprocess.DEVNULL, stdout=stdout,
                                stderr=subprocess.PIPE, env=cmdtest.env())

    def output(self):
        self.out.seek(0)
        data = self.out.read()
        self.out.close()
        return data

    def signalled(self, args, silent, in_flight, signals):
        """Start mailscope ARGS; once IN_FLIGHT connections reached the SILENT listener, send
        SIGNALS (0.2 s apart). Returns (rc, stdout bytes, stderr text, seconds from the
        first signal to the exit)."""
        p = self.start(args)
        try:
            end = time.monotonic() + 30
            while silent.accepted < in_flight and time.monotonic() < end:
                time.sleep(0.05)
            self.assertEqual(silent.accepted, in_flight, "the silent targets never got in flight")
            t0 = time.monotonic()
            for i, signo in enumerate(signals):
                if i:
                    time.sleep(0.2)
                p.send_signal(signo)
            _, err = p.communicate(timeout=30)
            elapsed = time.monotonic() - t0
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        cmdtest.check_sanitizer(err)
        return p.returncode, self.output(), err.decode("utf-8", "replace"), elapsed

    def interrupt(self, signo):
        """20 quick targets (finished before the signal), 30 on a listener that never speaks
        (--timeout 30: in flight when the signal comes), 100 more never started."""
        with cmdtest.Listener("imap") as quick, cmdtest.Listener("silent") as silent:
            lines = ["imap://127.0.0.1:%d" % quick.port] * 20 + ["imap://127.0.0.1:%d" % silent.port] * 130
            path = self.targets(lines)
            return self.signalled(["--format", "jsonl", "--concurrency", "30", "--timeout", "30",
                                   "--deadline", "60", "--targets-file", path], silent, 30, [signo])

    def check_lines(self, out):
        self.assertTrue(out.endswith(b"\n") or out == b"", "a torn last line: %r" % out[-200:])
        docs = [json.loads(l) for l in out.splitlines()]
        return docs

    def test_sigterm_and_sigint(self):
        for signo in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=signo.name):
                rc, out, err, elapsed = self.interrupt(signo)
                self.assertEqual(rc, 3, err)
                docs = self.check_lines(out)
                self.assertEqual(len(docs), 20, err)  # the quick ones; the 30 in flight abandoned
                self.assertIn("%s: starting no more targets" % signo.name, err)
                self.assertIn("interrupted by %s: 30 targets in flight abandoned" % signo.name, err)
                found = SUMMARY_RE.findall(err)
                self.assertEqual(len(found), 1, err)
                self.assertEqual(found[0][0], "20", err)
                self.assertEqual(err.strip().splitlines()[-1], SUMMARY_RE.search(err).group(0),
                                 "the summary is the last line")
                # the drain bound (2 s), with a wide margin for a busy machine under ASan
                self.assertLess(elapsed, 2 + 8, err)

    def test_second_signal_stops_at_once(self):
        with cmdtest.Listener("silent") as silent:
            path = self.targets(["imap://127.0.0.1:%d" % silent.port] * 10)
            rc, out, err, elapsed = self.signalled(["--format", "jsonl", "--timeout", "30", "--targets-file", path],
                                                   silent, 10, [signal.SIGINT, signal.SIGINT])
        self.assertEqual(rc, 3, err)
        self.assertEqual(out, b"")
        self.assertIn("SIGINT again: abandoning the targets in flight now", err)
        self.assertIn("interrupted by SIGINT: 10 targets in flight abandoned", err)
        self.assertRegex(err, r"mailscope: 0 targets: 0 ok, 0 warning, 0 critical, 0 unknown\n$")
        self.assertLess(elapsed, 2 + 8, err)  # no hang (wide margin)

    def test_closed_pipe_stops_the_run(self):
        """mailscope --targets-file f --format jsonl | head -1: one message, then stop."""
        with cmdtest.Listener("imap") as quick:
            path = self.targets(["imap://127.0.0.1:%d" % quick.port] * 300)
            r, w = os.pipe()
            p = self.start(["--format", "jsonl", "--concurrency", "2", "--targets-file", path], stdout=w)
            os.close(w)
            with os.fdopen(r, "rb") as reader:
                first = reader.readline()
            # the read end is closed now: the next write gets EPIPE
            try:
                _, err = p.communicate(timeout=60)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
        err = err.decode()
        cmdtest.check_sanitizer(err.encode())
        json.loads(first)
        self.assertEqual(p.returncode, 3, err)
        self.assertEqual(err.count("cannot write"), 1, err)
        self.assertIn("cannot write the report: Broken pipe", err)
        self.assertIn("stopped: stdout is gone", err)
        found = SUMMARY_RE.findall(err)
        self.assertEqual(len(found), 1, err)
        self.assertLess(int(found[0][0]), 300, err)
        self.assertLess(quick.accepted, 300, "the run went on after stdout was gone")


if __name__ == "__main__":
    unittest.main()
