#!/usr/bin/env python3
"""The command line: usage errors, --version, --help, --trace, text output and colour,
--timeout and --deadline against a server that never answers."""

import json
import os
import pty
import re
import select
import socket
import subprocess
import threading
import time
import unittest

import mstest as ms

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class Usage(unittest.TestCase):
    def usage_error(self, args):
        # --dns-server is added, so that a usage error that slipped through would still
        # only ever ask the test dnsmasq
        r = ms.run(args)
        self.assertEqual(r.rc, 3, r.describe())
        self.assertEqual(r.stdout, "", "a usage error prints nothing on stdout")
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        self.assertTrue(lines, "a usage error explains itself on stderr")
        self.assertLessEqual(len(lines), 2, "one line of reason (+ a hint), not the whole help:\n" + r.stderr)
        self.assertIn("--help", r.stderr)
        return r

    def test_unknown_option(self):
        self.usage_error(["--no-such-option", ms.HOST])

    def test_no_target(self):
        self.usage_error([])

    def test_bad_format(self):
        self.usage_error(["--format", "xml", ms.HOST])

    def test_bad_scheme(self):
        self.usage_error(["ftp://%s" % ms.HOST])
        self.usage_error(["lmtp://%s" % ms.HOST])

    def test_bad_port(self):
        self.usage_error(["imaps://%s:99999" % ms.HOST])

    def test_bad_ports_option(self):
        self.usage_error(["--ports", "imap=abc", ms.HOST])

    def test_bad_protocols(self):
        self.usage_error(["--protocols", "lmtp", ms.HOST])

    def test_bad_resolve(self):
        self.usage_error(["--resolve", "nonsense", ms.HOST])

    def test_bad_timeout(self):
        self.usage_error(["--timeout", "-1", ms.HOST])

    def test_missing_ca_file(self):
        r = ms.run(["--ca-file", "/nonexistent/ca.pem", ms.HOST])
        self.assertEqual(r.rc, 3, r.describe())
        self.assertEqual(r.stdout, "")
        self.assertIn("/nonexistent/ca.pem", r.stderr)


class VersionHelp(unittest.TestCase):
    def test_version(self):
        r = ms.run(["--version"], dns=False)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertIn("mailscope", r.stdout)
        first = r.stdout.splitlines()[0]
        self.assertRegex(first, r"^mailscope [0-9.]+( \(git \S+\))?$")
        if ms.VERSION:
            self.assertIn(ms.VERSION, first)
        # the libraries follow (tests/cmd/test_version.py checks them against the binary)
        for lib in ("OpenSSL", "c-ares", "jansson"):
            self.assertRegex(r.stdout, r"(?m)^  %s " % re.escape(lib))

    def test_help(self):
        r = ms.run(["--help"], dns=False)
        self.assertEqual(r.rc, 0, r.describe())
        out = r.stdout
        self.assertRegex(out, r"(?i)usage")
        for opt in ("--json", "--format", "--ports", "--protocols", "--resolve", "--ca-file", "--timeout",
                    "--deadline", "--trace", "--cert-warn-days", "--dns-server", "--version"):
            self.assertIn(opt, out)
        self.assertRegex(out, r"(?i)example")
        self.assertRegex(out, r"mailscope\s+\S*mail\.example\.com", "examples show real command lines")
        self.assertRegex(out, r"(?i)exit")
        self.assertEqual(r.stderr, "")


class Trace(unittest.TestCase):
    def test_trace_on_stderr(self):
        r = ms.probe_json(ms.valid_args(extra=("--trace",)))
        self.assertEqual(r.rc, 0, r.describe())
        json.loads(r.stdout)  # stdout holds the report and nothing else
        err = r.stderr
        # both directions of the transcript, for every endpoint
        for word in ("CAPABILITY", "STARTTLS", "CAPA", "STLS", "LOGOUT", "QUIT", "Dovecot", "LOGINDISABLED"):
            self.assertIn(word, err, "trace lacks %s" % word)
        for port in (ms.IMAP_PORT, ms.IMAPS_PORT, ms.POP3_PORT, ms.POP3S_PORT):
            self.assertIn(str(port), err)

    def test_no_trace_by_default(self):
        r = ms.probe_json(ms.valid_args())
        self.assertNotIn("LOGOUT", r.stderr)
        self.assertNotIn("STARTTLS", r.stderr)


class TextReport(unittest.TestCase):
    def test_piped_text(self):
        r = ms.run(ms.valid_args(extra=("--format", "text")))
        self.assertEqual(r.rc, 0, r.describe())
        self.assertIsNone(ANSI.search(r.stdout), "no colour when piped")
        out = r.stdout
        self.assertIn(ms.HOST, out)
        self.assertRegex(out, r"IMAP")
        self.assertRegex(out, r"POP3")
        self.assertIn("TLSv1.3", out)
        self.assertIn("LOGINDISABLED", out)
        self.assertIn(ms.ADDR_VALID, out)
        with self.assertRaises(ValueError):
            json.loads(out)

    def test_default_format_is_text(self):
        r = ms.run(ms.valid_args())
        self.assertEqual(r.rc, 0, r.describe())
        with self.assertRaises(ValueError):
            json.loads(r.stdout)
        self.assertIn(ms.HOST, r.stdout)

    def test_text_findings_with_remedy(self):
        r = ms.run(ms.valid_args(ms.ADDR_EXPIRED, extra=("--format", "text")))
        self.assertEqual(r.rc, 2, r.describe())
        self.assertIn("tls.cert_expired", r.stdout)

    def run_on_tty(self, args, env):
        """Run mailscope with stdout on a pseudo-terminal; return (rc, output)."""
        master, slave = pty.openpty()
        e = dict(os.environ)
        e.pop("NO_COLOR", None)
        e["TERM"] = "xterm-256color"
        e.update(env)
        ms.sanitizer_env(e)
        p = subprocess.Popen([ms.MAILSCOPE, "--dns-server", ms.DNS_SERVER] + args, stdin=subprocess.DEVNULL,
                             stdout=slave, stderr=subprocess.PIPE, env=e)
        os.close(slave)
        chunks = []
        deadline = time.monotonic() + ms.RUN_TIMEOUT
        try:
            while time.monotonic() < deadline:
                rl, _, _ = select.select([master], [], [], 0.2)
                if rl:
                    try:
                        b = os.read(master, 65536)
                    except OSError:  # EIO: the child closed the terminal
                        break
                    if not b:
                        break
                    chunks.append(b)
                elif p.poll() is not None:
                    break
            rc = p.wait(timeout=max(1, deadline - time.monotonic()))
        finally:
            os.close(master)
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stderr.close()
        return rc, b"".join(chunks).decode("utf-8", "replace")

    def test_colour_on_terminal(self):
        rc, out = self.run_on_tty(ms.valid_args(ms.ADDR_SOON), {})
        self.assertEqual(rc, 1, out)
        self.assertIsNotNone(ANSI.search(out), "colour expected on a terminal:\n" + out)

    def test_no_colour_with_NO_COLOR(self):
        rc, out = self.run_on_tty(ms.valid_args(ms.ADDR_SOON), {"NO_COLOR": "1"})
        self.assertEqual(rc, 1, out)
        self.assertIsNone(ANSI.search(out), "NO_COLOR must switch colour off:\n" + out)
        self.assertIn("tls.cert_expires_soon", out)


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never says anything."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        self.sock.settimeout(0.1)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except socket.timeout:
                pass
            except OSError:
                return

    def close(self):
        self.stop = True
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


class Timeouts(unittest.TestCase):
    def setUp(self):
        self.srv = SilentServer()

    def tearDown(self):
        self.srv.close()

    def test_greeting_timeout(self):
        r = ms.probe_json(["--timeout", "1", "imap://127.0.0.1:%d" % self.srv.port])
        self.assertEqual(r.rc, 2, r.describe())
        self.assertLess(r.elapsed, 10)
        self.assertTrue(ms.findings(r.json, "proto.timeout"), r.json["findings"])
        e = r.json["endpoints"][0]
        self.assertEqual(e["error"].get("phase"), "greeting")

    def test_tls_handshake_timeout(self):
        r = ms.probe_json(["--timeout", "1", "pop3s://127.0.0.1:%d" % self.srv.port])
        self.assertEqual(r.rc, 2, r.describe())
        self.assertLess(r.elapsed, 10)
        self.assertIs(r.json["endpoints"][0]["completed_securely"], False)

    def test_endpoints_run_in_parallel(self):
        """Four endpoints that each wait 3 s for a greeting take about 3 s together, not 12.
        (3 s, not 1: the process's wall time must tell 3 from 12 with room for ASan's start
        and exit on a busy machine, which can add a second or two.)"""
        p = self.srv.port
        targets = ["imap://127.0.0.1:%d" % p, "imaps://127.0.0.1:%d" % p,
                   "pop3://127.0.0.1:%d" % p, "pop3s://127.0.0.1:%d" % p]
        r = ms.probe_json(["--timeout", "3"] + targets)
        self.assertEqual(r.rc, 2, r.describe())
        totals = [e["timings_ms"]["total"] for e in r.json["endpoints"]]
        print("\nparallel timeouts: duration_ms=%s, endpoint totals=%s (sum %.0f), process wall %.2f s"
              % (r.json["duration_ms"], totals, sum(totals), r.elapsed))
        self.assertEqual(len(totals), 4)
        for t in totals:
            self.assertGreaterEqual(t, 2900)
        self.assertLess(r.json["duration_ms"], 0.6 * sum(totals))
        self.assertLess(r.elapsed, 8.5, "one after the other they would take 12 s")

    def test_deadline_bounds_the_run(self):
        t0 = time.monotonic()
        r = ms.probe_json(["--timeout", "60", "--deadline", "2", "imap://127.0.0.1:%d" % self.srv.port,
                           "pop3s://127.0.0.1:%d" % self.srv.port])
        self.assertLess(time.monotonic() - t0, 12, "--deadline 2 must end the run, whatever the server does")
        self.assertIn(r.rc, (2, 3), r.describe())
        for e in r.json["endpoints"]:
            self.assertIs(e["completed_securely"], False)


if __name__ == "__main__":
    ms.main()
