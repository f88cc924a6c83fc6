#!/usr/bin/env python3
"""Local inputs: what mailscope echoes of them, and files that are not what they seem
(directories, FIFOs without a writer, unreadable files, I/O errors, NUL bytes, over-long
lines, secret files others can read)."""

import os
import shutil
import subprocess
import sys
import tempfile
import json
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


def setpriv_without_dac():
    """A command prefix that runs mailscope as root without the capabilities that let root
    read any file (so a mode-000 file is unreadable), or None when that is not possible."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        return None
    return ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search", "--"]


class TargetsFile(unittest.TestCase):
    """--targets-file: read errors are exit 3 with a message; lines are byte strings."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ms-cmd-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def fleet(self, path, extra=(), **kw):
        return run(["--format", "jsonl", "--timeout", "2", "--deadline", "3"] + list(extra)
                   + ["--targets-file", path], **kw)

    def test_directory(self):
        r = self.fleet(self.tmp)
        self.assertEqual(r.rc, 3, r.describe())
        self.assertIn("Is a directory", r.stderr)
        self.assertIn(self.tmp, r.stderr)
        self.assertNotRegex(r.stderr, r"\b0 targets\b")
        self.assertEqual(r.out, b"")

    def test_directory_on_stdin(self):
        fd = os.open(self.tmp, os.O_RDONLY)
        try:
            r = self.fleet("-", stdin=fd)
        finally:
            os.close(fd)
        self.assertEqual(r.rc, 3, r.describe())
        self.assertIn("Is a directory", r.stderr)

    def test_unreadable(self):
        prefix = setpriv_without_dac()
        if prefix is None:
            self.skipTest("running as root without setpriv: root reads a mode-000 file")
        path = cmdtest.write(os.path.join(self.tmp, "targets"), REFUSED + "\n", mode=0)
        cmd = prefix + [cmdtest.MAILSCOPE, "--format", "jsonl", "--targets-file", path]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=cmdtest.env(), timeout=60)
        cmdtest.check_sanitizer(p.stderr)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn(b"Permission denied", p.stderr)
        self.assertEqual(p.stdout, b"")

    def test_io_error(self):
        """/proc/self/mem opens as a regular file, and reading its first page is EIO."""
        r = self.fleet("/proc/self/mem")
        self.assertEqual(r.rc, 3, r.describe())
        self.assertIn("Input/output error", r.stderr)
        self.assertRegex(r.stderr, r"cannot read the targets file '/proc/self/mem'")
        self.assertRegex(r.stderr, r"mailscope: 0 targets: .*\n$", "the summary line comes last")

    def test_fifo_without_writer(self):
        """open() of a FIFO without a writer blocks until one comes: refused at once."""
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo)
        r = self.fleet(fifo, timeout=20)
        self.assertEqual(r.rc, 3, r.describe())
        self.assertIn("not a regular file", r.stderr)
        self.assertIn("--targets-file -", r.stderr)
        self.assertLess(r.elapsed, 5, r.describe())

    def test_nul_byte_makes_the_line_invalid(self):
        """Before: strlen() stopped at the NUL, and the commented-out tail ran as a target."""
        with cmdtest.Listener("imap") as srv:
            good = "imap://127.0.0.1:%d" % srv.port
            hidden = "imap://127.0.0.2:%d" % srv.port
            path = cmdtest.write(os.path.join(self.tmp, "targets"),
                                 good.encode() + b"\n# a comment\0" + hidden.encode() + b"\n"
                                 + hidden.encode() + b"\0 user=x\n")
            r = self.fleet(path, timeout=30)
        self.assertEqual(r.rc, 2, r.describe())  # CRITICAL (no STARTTLS) outranks UNKNOWN
        docs = [json.loads(l) for l in r.out.splitlines()]
        self.assertEqual([d["target"] for d in docs], [good], r.describe())
        self.assertEqual(r.stderr.count("holds a NUL byte"), 2, r.describe())
        self.assertIn("line 2 holds a NUL byte", r.stderr)
        self.assertIn("line 3 holds a NUL byte", r.stderr)
        self.assertIn("3 targets: 0 ok, 0 warning, 1 critical, 2 unknown", r.stderr)

    def test_long_line_skipped_whole(self):
        """A long commented-out line whose tail looks like a target: one line, skipped whole,
        nothing of it probed (before: a NUL let fgets() take the tail for a new line)."""
        with cmdtest.Listener("imap") as srv:
            good = "imap://127.0.0.1:%d" % srv.port
            hidden = "imap://127.0.0.2:%d" % srv.port
            lines = [good.encode(),
                     b"# " + b"x" * 2000 + b" " + hidden.encode(),           # long comment
                     b"# short\0" + b"y" * 1500 + b" " + hidden.encode(),  # NUL, then long
                     b"#" + b"z" * 1015 + b"\0" + hidden.encode()]            # NUL near the cap
            path = cmdtest.write(os.path.join(self.tmp, "targets"), b"\n".join(lines) + b"\n")
            r = self.fleet(path, timeout=30)
        docs = [json.loads(l) for l in r.out.splitlines()]
        self.assertEqual([d["target"] for d in docs], [good], r.describe())
        self.assertEqual(r.rc, 2, r.describe())  # CRITICAL (no STARTTLS) outranks UNKNOWN
        self.assertIn("line 2 is longer than", r.stderr)
        self.assertIn("line 3 is longer than", r.stderr)
        self.assertIn("line 4", r.stderr)
        self.assertIn("4 targets: 0 ok, 0 warning, 1 critical, 3 unknown", r.stderr)

    def test_stdin_pipe_still_streams(self):
        with cmdtest.Listener("imap") as srv:
            good = "imap://127.0.0.1:%d" % srv.port
            p = subprocess.Popen(["bash", "-c", 'printf "%s\\n" "$1" | exec "$2" --format jsonl --targets-file -',
                                  "bash", good, cmdtest.MAILSCOPE], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=cmdtest.env())
            out, err = p.communicate(timeout=30)
        cmdtest.check_sanitizer(err)
        self.assertEqual(len(out.splitlines()), 1, err)
        self.assertIn(b"1 target: 0 ok, 0 warning, 1 critical, 0 unknown", err)


class CaFile(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ms-cmd-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_directory(self):
        r = run(["--json", "--ca-file", self.tmp, REFUSED])
        self.assertEqual(r.rc, 3, r.describe())
        self.assertIn("Is a directory", r.stderr)

    def test_ca_file_fifo(self):
        """OpenSSL opens --ca-file with a blocking open(): a FIFO is refused before that."""
        fifo = os.path.join(self.tmp, "ca.pem")
        os.mkfifo(fifo)
        r = run(["--json", "--timeout", "2", "--deadline", "2", "--ca-file", fifo, REFUSED], timeout=20)
        self.assertEqual(r.rc, 3, r.describe())
        self.assertIn("not a regular file", r.stderr)
        self.assertLess(r.elapsed, 4, r.describe())


CANARY = "Zq9-canary-file-71xp"


class SecretFiles(unittest.TestCase):
    """--password-file / --oauth2-token-file that are FIFOs, pipes, directories or readable
    by others."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ms-cmd-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def signin(self, option, path, extra=(), **kw):
        return run(["--json", "--timeout", "2", "--deadline", "2", "--user", "alice", option, path]
                   + list(extra) + [REFUSED], **kw)

    def test_fifo_without_writer_obeys_the_deadline(self):
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo, 0o600)
        for option, what in (("--password-file", "password"), ("--oauth2-token-file", "OAuth2 token")):
            with self.subTest(option=option):
                r = self.signin(option, fifo, timeout=20)
                self.assertEqual(r.rc, 3, r.describe())
                self.assertIn("nothing came from the %s file '%s' within 2 s" % (what, fifo), r.stderr)
                self.assertLess(r.elapsed, 2 + 3, "--deadline 2: " + r.describe())
                self.assertEqual(r.out, b"")

    def test_pipe_with_a_writer_is_read(self):
        """--password-file <(command): a pipe that delivers in time is a good source."""
        for option in ("--password-file", "--oauth2-token-file"):
            with self.subTest(option=option):
                p = subprocess.run(["bash", "-c", '"$1" --json --timeout 2 --deadline 5 --user alice '
                                    '"$2" <(sleep 0.5; echo "$3") "$4"', "bash", cmdtest.MAILSCOPE,
                                    option, CANARY, REFUSED], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=cmdtest.env(), timeout=30)
                cmdtest.check_sanitizer(p.stderr)
                self.assertEqual(p.returncode, 2, p.stderr)  # port 1 refused: CRITICAL, not a usage error
                doc = json.loads(p.stdout)
                self.assertEqual(doc["user"], "alice")
                self.assertNotIn(CANARY.encode(), p.stdout + p.stderr)
                self.assertNotIn(b"warning", p.stderr)

    def test_directory(self):
        for option in ("--password-file", "--oauth2-token-file"):
            with self.subTest(option=option):
                r = self.signin(option, self.tmp)
                self.assertEqual(r.rc, 3, r.describe())
                self.assertIn("Is a directory", r.stderr)

    def test_bad_first_line(self):
        for content, message in ((b"x" * 5000 + b"\n", "is longer than 4096 bytes"),
                                 (b"abc\0def\n", "holds a NUL byte"), (b"\n" + CANARY.encode(), "is empty")):
            with self.subTest(message=message):
                path = cmdtest.write(os.path.join(self.tmp, "secret"), content)
                r = self.signin("--password-file", path)
                self.assertEqual(r.rc, 3, r.describe())
                self.assertIn("the password file '%s' %s" % (path, message), r.stderr)
                self.assertEqual(r.out, b"")

    def test_readable_by_others_is_a_warning(self):
        for option in ("--password-file", "--oauth2-token-file"):
            for mode, warned in ((0o644, True), (0o640, True), (0o604, True), (0o600, False), (0o400, False)):
                with self.subTest(option=option, mode=oct(mode)):
                    path = cmdtest.write(os.path.join(self.tmp, "secret"), CANARY + "\n", mode=mode)
                    r = self.signin(option, path)
                    self.assertEqual(r.rc, 2, r.describe())  # used all the same
                    self.assertEqual(json.loads(r.out)["user"], "alice")
                    if warned:
                        self.assertRegex(r.stderr, r"mailscope: warning: the (password|OAuth2 token) file '%s' "
                                         r"can be read by other users \(mode 0%o\)" % (path, mode))
                        self.assertIn("chmod 600", r.stderr)
                    else:
                        self.assertNotIn("warning", r.stderr)
                    self.assertNotIn(CANARY, r.stderr + r.stdout)


if __name__ == "__main__":
    unittest.main()
