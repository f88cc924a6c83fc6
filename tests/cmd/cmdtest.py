"""Shared helpers for tests/cmd: mailscope against local inputs (files, FIFOs, pipes),
signals and resource limits. Python 3 standard library only; no fixtures: each test starts
the loopback listeners it needs (Listener below) and stops them.

Environment (set by tests/CMakeLists.txt):
  MAILSCOPE   path of the binary under test
"""

import os
import selectors
import socket
import subprocess
import threading
import time

MAILSCOPE = os.environ.get("MAILSCOPE", "mailscope")
SANITIZER_MARKERS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:",
                     b"SUMMARY: UndefinedBehaviorSanitizer", b"SUMMARY: AddressSanitizer")
SKIP = 77


def is_sanitized():
    """True when the binary under test is an ASan build."""
    try:
        with open(MAILSCOPE, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def env(extra=None):
    """The runner's environment without secrets or NO_COLOR, plus EXTRA (None unsets);
    sanitizer reports get exit codes of their own (86, 87)."""
    e = dict(os.environ)
    for k in ("MAILSCOPE_PASSWORD", "MAILSCOPE_OAUTH2_TOKEN", "NO_COLOR"):
        e.pop(k, None)
    for k, v in (extra or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    e["ASAN_OPTIONS"] = e.get("ASAN_OPTIONS", "detect_leaks=1") + ":exitcode=86"
    e["UBSAN_OPTIONS"] = e.get("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1") + ":exitcode=87"
    return e


class Run:
    def __init__(self, args, rc, out, err, elapsed):
        self.args, self.rc, self.out, self.err, self.elapsed = args, rc, out, err, elapsed

    @property
    def stderr(self):
        return self.err.decode("utf-8", "replace")

    @property
    def stdout(self):
        return self.out.decode("utf-8", "replace")

    def describe(self):
        return "mailscope %r -> rc=%s after %.1f s\nstdout:\n%s\nstderr:\n%s" % (
            self.args, self.rc, self.elapsed, self.stdout[:3000], self.stderr[-3000:])


def check_sanitizer(err, what=""):
    for m in SANITIZER_MARKERS:
        if m in err:
            raise AssertionError("sanitizer report %s:\n%s" % (what, err.decode("utf-8", "replace")[-4000:]))


def run(args, extra_env=None, stdin=subprocess.DEVNULL, timeout=60, cwd=None, shell=None):
    """Run mailscope ARGS (a list of str or bytes); shell: a bash command prefix run before
    `exec mailscope ...` (e.g. "ulimit -n 40"). Returns Run; a crash or a sanitizer report
    raises AssertionError, as does a run that outlives TIMEOUT (it is killed)."""
    cmd = [MAILSCOPE] + list(args)
    if shell:
        cmd = ["bash", "-c", shell + '; exec "$@"', "bash"] + cmd
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env(extra_env), cwd=cwd)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError("mailscope %r did not finish within %s s (killed)\nstderr:\n%s"
                             % (args, timeout, err.decode("utf-8", "replace")[-3000:]))
    r = Run(args, p.returncode, out, err, time.monotonic() - t0)
    check_sanitizer(err, "for %r" % (args,))
    if r.rc in (86, 87) or r.rc < 0:
        raise AssertionError("mailscope crashed or a sanitizer fired:\n" + r.describe())
    return r


class Listener:
    """A loopback TCP server on an ephemeral port, in a thread, serving any number of
    connections at once. mode "imap": greets, answers CAPABILITY (no STARTTLS) and LOGOUT,
    then closes; "silent": accepts and never says a word (until stopped); "greet": greets,
    then stays silent."""

    def __init__(self, mode="imap", host="127.0.0.1", backlog=512, count=1):
        """count: listen on that many ports (self.ports; self.port is the first)."""
        self.mode = mode
        self.socks = []
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, 0))
            s.listen(backlog)
            s.setblocking(False)
            self.socks.append(s)
        self.ports = [s.getsockname()[1] for s in self.socks]
        self.port = self.ports[0]
        self.accepted = 0
        self.lines = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        self._thread.join(10)
        for s in self.socks:
            s.close()

    def _run(self):
        sel = selectors.DefaultSelector()
        for s in self.socks:
            sel.register(s, selectors.EVENT_READ, None)
        bufs = {}
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(0.1):
                    if key.data is None:
                        try:
                            c, _ = key.fileobj.accept()
                        except (BlockingIOError, InterruptedError):
                            continue
                        self.accepted += 1
                        c.setblocking(False)
                        if self.mode in ("imap", "greet"):
                            try:
                                c.send(b"* OK fake IMAP4rev1 ready\r\n")
                            except OSError:
                                c.close()
                                continue
                        bufs[c] = b""
                        sel.register(c, selectors.EVENT_READ, "conn")
                        continue
                    c = key.fileobj
                    try:
                        data = c.recv(4096)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        sel.unregister(c)
                        c.close()
                        bufs.pop(c, None)
                        continue
                    if self.mode != "imap":
                        continue
                    bufs[c] += data
                    close = False
                    while b"\n" in bufs[c]:
                        line, bufs[c] = bufs[c].split(b"\n", 1)
                        self.lines.append(line)
                        parts = line.split()
                        if len(parts) < 2:
                            continue
                        tag, cmd = parts[0], parts[1].upper()
                        if cmd == b"CAPABILITY":
                            reply = b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n"
                        elif cmd == b"LOGOUT":
                            reply = b"* BYE bye\r\n" + tag + b" OK done\r\n"
                            close = True
                        else:
                            reply = tag + b" BAD unknown\r\n"
                        try:
                            c.send(reply)
                        except OSError:
                            close = True
                    if close:
                        sel.unregister(c)
                        c.close()
                        bufs.pop(c, None)
        finally:
            for c in list(bufs):
                c.close()
            sel.close()


def write(path, data, mode=0o600):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
    return path
