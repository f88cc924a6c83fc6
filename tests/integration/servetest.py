"""Helpers for the `mailscope serve` tests (Python 3 standard library): start a serve
process on a test port with a config file, talk HTTP to it, stop it with SIGTERM and check
it exits 0 without sanitizer reports.

Environment (tests/integration/CMakeLists.txt):
  MS_SERVE_PORT        first of ten ports for serve instances (each test file takes a slice)
  MS_PROMETHEUS_PORT   first of two ports for Prometheus servers
plus everything mstest.py reads.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import mstest as ms

SERVE_PORT = int(os.environ.get("MS_SERVE_PORT", "10180"))
PROMETHEUS_PORT = int(os.environ.get("MS_PROMETHEUS_PORT", "10190"))
PASSWORD = "canary-pw-7Q2x"  # alice's (tests/servers/dovecot.sh)

# A line of the access log (common log format, plus target="..." for POST bodies).
CLF = re.compile(r'^(\S+) - (\S+) \[(\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] '
                 r'"(\S+) (\S+) (\S+)" (\d{3}|-) (\d+|-)( target="[^"]*")?$')


def dovecot_ports():
    return {"imap": ms.IMAP_PORT, "imaps": ms.IMAPS_PORT, "pop3": ms.POP3_PORT,
            "pop3s": ms.POP3S_PORT}


def default_config(**extra):
    """A config whose default module probes the test Dovecot's ports."""
    cfg = {"modules": {"default": {"ports": dovecot_ports()}}}
    for k, v in extra.items():
        cfg[k] = v
    return cfg


class Serve:
    """One `mailscope serve` process."""

    def __init__(self, port, config=None, args=(), env=None, tls=None, listen=None):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="ms-serve-")
        self.args = ["serve", "--listen", listen or "127.0.0.1:%d" % port,
                     "--dns-server", ms.DNS_SERVER, "--ca-file", ms.CA] + list(args)
        if config is not None:
            path = os.path.join(self.dir, "serve.json")
            with open(path, "w") as f:
                json.dump(config, f)
            self.args += ["--config", path]
        self.tls = tls
        if tls:
            self.args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        e = dict(os.environ)
        e.update(env or {})
        ms.sanitizer_env(e)
        self.err_path = os.path.join(self.dir, "stderr.log")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([ms.MAILSCOPE] + self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.err, env=e)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "listening on" in self.log():
                return
            if self.proc.poll() is not None:
                raise AssertionError("mailscope serve exited with %d:\n%s"
                                     % (self.proc.returncode, self.log()))
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError("mailscope serve did not start listening:\n" + self.log())

    def log(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def access_log(self):
        return [l for l in self.log().splitlines() if CLF.match(l)]

    def connection(self, timeout=60, source=None):
        if self.tls:
            ctx = ssl.create_default_context(cafile=ms.CA)
            ctx.check_hostname = False
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=ctx, source_address=source)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=source)

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers dict with lower-case names, body bytes)."""
        c = self.connection(timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
                headers = dict({"Content-Type": "application/json"}, **(headers or {}))
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def json(self, path, expect=200, **kw):
        status, headers, body = self.request(kw.pop("method", "GET"), path, **kw)
        if status != expect:
            raise AssertionError("%s: HTTP %d, expected %d:\n%s\n--- serve log:\n%s"
                                 % (path, status, expect, body[:3000].decode("utf-8", "replace"),
                                    self.log()[-3000:]))
        return json.loads(body)

    def stop(self, sig=signal.SIGTERM, timeout=120):
        """Stop it; returns the exit code after checking for sanitizer reports."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("mailscope serve did not stop within %d s:\n%s"
                                     % (timeout, self.log()[-3000:]))
        self.err.close()
        check_clean(self.log(), "mailscope serve")
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        rc = self.stop()
        if exc[0] is None and rc != 0:
            raise AssertionError("mailscope serve exited with %d:\n%s" % (rc, self.log()[-3000:]))


# A non-loopback client over plain HTTP: in a private network namespace (unshare -n), serve
# listens on 198.51.100.1:8080 and the client connects from that address. CLIENT is Python
# run after this prelude, with connect() for a connection and p for the serve process.
_OTHER_HOST_PRELUDE = """
import http.client, json, os, re, subprocess, sys, urllib.parse
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
subprocess.run(["ip", "addr", "add", "198.51.100.1/32", "dev", "lo"], check=True)
env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:exitcode=86")
p = subprocess.Popen([sys.argv[1], "serve", "--listen", "198.51.100.1:8080",
                      "--allow-private"], stderr=subprocess.PIPE, env=env)
line = p.stderr.readline().decode()
assert "listening" in line, line
def connect(timeout=60):
    return http.client.HTTPConnection("198.51.100.1", 8080, timeout=timeout,
                                      source_address=("198.51.100.1", 0))
"""


def serve_for_another_host(tc, client, timeout=120):
    """Runs CLIENT (see _OTHER_HOST_PRELUDE) against a serve that sees a non-loopback client;
    skips TC where unshare -n is not permitted. Returns what the script printed."""
    probe = subprocess.run(["unshare", "-n", "true"], stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        tc.skipTest("unshare -n is not permitted here (needs CAP_SYS_ADMIN)")
    script = _OTHER_HOST_PRELUDE + textwrap.dedent(client)
    p = subprocess.run(["unshare", "-n", sys.executable, "-c", script, ms.MAILSCOPE],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    tc.assertEqual(p.returncode, 0, p.stdout)
    return p.stdout


def check_clean(text, what):
    for m in ms.SANITIZER_MARKERS:
        if m in text:
            raise AssertionError("sanitizer report in the stderr of %s:\n%s" % (what, text[-6000:]))


def promtool_check_metrics(tc, text):
    """promtool (Debian's prometheus package) accepts the exposition text."""
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if not os.path.exists(promtool):
        tc.skipTest("promtool is not installed (scripts/deps.sh installs prometheus)")
    p = subprocess.run([promtool, "check", "metrics"], input=text, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    tc.assertEqual(p.returncode, 0, p.stdout)


def quote(s):
    import urllib.parse
    return urllib.parse.quote(s, safe="")


class Staller:
    """A TCP server on loopback that accepts and never says a word: a mail server that
    hangs (probes against it run until their timeout)."""

    def __init__(self, addr="127.0.0.1"):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def close(self):
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            c.close()
