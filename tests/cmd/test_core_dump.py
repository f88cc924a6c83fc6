#!/usr/bin/env python3
"""A core dump taken in the middle of a sign-in must not hold the password.

mailscope signs in to a fake IMAPS server that never answers AUTHENTICATE; while it waits,
the test sends SIGABRT with `ulimit -c unlimited` in an empty temporary directory, then
greps whatever core landed there for the canary password (raw, and base64-encoded at every
alignment, as inside SASL PLAIN). It also checks, from outside, that the process was
non-dumpable while it held the secret (/proc/PID/status belongs to root then, not to the
process's user: the test runs mailscope as an unprivileged user for that when it is root).

Skips (exit 77, with the reason) when the machine cannot show the bug: an ASan build
(ASan turns core dumps off), a core_pattern that pipes cores to a program or writes them
elsewhere, a core limit that cannot be raised, or a machine where even a plain process's
SIGABRT leaves no core in its working directory. The system's core_pattern is only read.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fake"))
import cmdtest  # noqa: E402
import fakeserver  # noqa: E402
from run_case import secret_forms  # noqa: E402

CANARY = "Cd5-core-canary-PW-47wm"
NOBODY = 65534
SKIP = cmdtest.SKIP


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(SKIP)


def fail(reason):
    print("FAIL: " + reason)
    sys.exit(1)


def core_files(directory):
    return [os.path.join(directory, n) for n in sorted(os.listdir(directory))]


def leaks(path):
    with open(path, "rb") as f:
        data = f.read()
    return sorted(kind for form, kind in secret_forms(CANARY).items() if form.encode() in data)


def as_user_prefix():
    """Run the child as an unprivileged user when root, so that /proc/PID/status's owner shows
    whether it is dumpable. None: not possible (then that check is skipped)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        return None
    prefix = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--"]
    # the binary must be reachable for that user (a build under a private home is not)
    if subprocess.run(prefix + ["sh", "-c", 'test -x "$1"', "sh", cmdtest.MAILSCOPE]).returncode != 0:
        return None
    return prefix


def control(directory, prefix):
    """Can a core land in DIRECTORY at all? A plain process holding the canary in its
    environment, aborted the same way. Returns a reason to skip, or None."""
    p = subprocess.Popen(["bash", "-c", 'ulimit -c unlimited || exit 99; exec "$@"', "bash"]
                         + prefix + ["sleep", "30"], cwd=directory, env=dict(os.environ, MS_CANARY=CANARY))
    time.sleep(0.5)
    if p.poll() == 99:
        return "the core file size limit cannot be raised (ulimit -c unlimited failed)"
    os.kill(p.pid, signal.SIGABRT)
    p.wait(timeout=30)
    cores = core_files(directory)
    for c in cores:
        os.unlink(c)
    if not cores:
        return ("a plain process aborted in %s left no core there (core_pattern %r, or the container "
                "or kernel takes cores elsewhere): the test cannot see a dump" % (directory, PATTERN))
    return None


def main():
    global PATTERN
    if cmdtest.is_sanitized():
        skip("ASan build: AddressSanitizer disables core dumps (disable_coredump), so no dump could show "
             "the secret; the normal build runs this test")
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            PATTERN = f.read().strip()
    except OSError as e:
        skip("cannot read /proc/sys/kernel/core_pattern: %s" % e)
    if PATTERN.startswith("|"):
        skip("core_pattern pipes cores to a program (%r): they cannot land in a temporary directory, "
             "and this test does not change the system's core_pattern" % PATTERN)
    if "/" in PATTERN:
        skip("core_pattern writes cores to another directory (%r): this test does not change it" % PATTERN)

    tmp = tempfile.mkdtemp(prefix="ms-core-")
    os.chmod(tmp, 0o755)
    try:
        prefix = as_user_prefix()
        if prefix is None:
            print("note: root, and no setpriv or a binary user %d cannot run: the /proc/PID/status "
                  "owner check is skipped" % NOBODY)
        cores = os.path.join(tmp, "cores")
        os.mkdir(cores)
        os.chmod(cores, 0o777)  # the child may run as another user
        reason = control(cores, prefix or [])
        if reason:
            skip(reason)

        certdir = os.path.join(tmp, "certs")
        certs = fakeserver.generate_certs(certdir, ["valid"])
        for root, dirs, files in os.walk(certdir):
            os.chmod(root, 0o755)
            for n in files:
                os.chmod(os.path.join(root, n), 0o644)
        spec = {"script": [
            {"tls": {"cert": "valid"}},
            {"send": "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] fake IMAP4rev1 ready\r\n"},
            {"expect": "(?P<tag>\\S+) AUTHENTICATE PLAIN \\S+", "timeout": 30},
            {"silent": 60}], "lifetime": 90}
        server = fakeserver.FakeServer(spec, certs).start()
        args = ["--json", "--timeout", "60", "--deadline", "80", "--resolve", "mail.test.example:127.0.0.1",
                "--ca-file", certs["ca"], "--user", "alice", "imaps://mail.test.example:%d" % server.port]
        p = subprocess.Popen(["bash", "-c", 'ulimit -c unlimited; exec "$@"', "bash"] + (prefix or [])
                             + [cmdtest.MAILSCOPE] + args, cwd=cores, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=cmdtest.env({"MAILSCOPE_PASSWORD": CANARY}))
        try:
            end = time.monotonic() + 30
            while "tag" not in server.vars and time.monotonic() < end and p.poll() is None:
                time.sleep(0.05)
            if "tag" not in server.vars:
                p.kill()
                out, err = p.communicate()
                fail("mailscope never sent AUTHENTICATE PLAIN:\n%s\n%s\n%s"
                     % ("\n".join(server.log), out.decode(errors="replace"), err.decode(errors="replace")))
            # mid-sign-in: the secret is held
            # a non-dumpable process's /proc/PID files (not the directory) belong to root
            owner = os.stat("/proc/%d/status" % p.pid).st_uid
            expected_user = NOBODY if os.geteuid() == 0 else os.geteuid()
            if prefix is not None and owner == expected_user:
                p.kill()
                p.communicate()
                fail("the process is dumpable while it holds the password (/proc/%d/status belongs to uid %d, "
                     "not root): PR_SET_DUMPABLE was not cleared" % (p.pid, owner))
            os.kill(p.pid, signal.SIGABRT)
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            server.stop()
        if p.returncode != -signal.SIGABRT:
            fail("mailscope was not killed by SIGABRT (rc %s):\n%s" % (p.returncode, err.decode(errors="replace")))
        found = core_files(cores)
        for c in found:
            forms = leaks(c)
            if forms:
                fail("the core dump %s (%d bytes) holds the password: %s" % (c, os.path.getsize(c), ", ".join(forms)))
        if found:
            print("PASS: a core was written (%s) without the password" % ", ".join(os.path.basename(c) for c in found))
        else:
            print("PASS: no core dump was written at all (the process was non-dumpable)")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


PATTERN = ""
if __name__ == "__main__":
    sys.exit(main())
