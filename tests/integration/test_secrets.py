#!/usr/bin/env python3
"""Secrets (issue 4, DESIGN.md convention 9): a password or token never appears in anything
mailscope writes (stdout, stderr, JSON, text, --trace), in clear or in a base64 form; the
trace shows <redacted> instead; secrets are never taken on the command line; they come from
MAILSCOPE_PASSWORD / MAILSCOPE_OAUTH2_TOKEN, --password-file / --oauth2-token-file, or a
no-echo prompt on the terminal; and the environment variable does not linger in the process.

The canary password is alice's (tests/servers/dovecot.sh). OAuth2 tokens go to a scripted
fake server (tests/fake/fakeserver.py, used here as a library) that offers XOAUTH2 or
OAUTHBEARER and checks the wire format of what it receives; Dovecot here offers neither.

Tests marked "depends on: ..." (mstest.pending) need a part of issue 4 that was not built
when they were written; their failure message says so.
"""

import base64
import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

import mstest as ms

FAKE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fake")
sys.path.insert(0, FAKE_DIR)
try:
    import fakeserver  # noqa: E402  (tests/fake/fakeserver.py, used as a library)
except ImportError:  # pragma: no cover
    fakeserver = None

CANARY = ms.ALICE_PASSWORD
WRONG = "wrong-canary-9Zq4"
TOKEN = "ya29.canary-token-Zx81Qw"
FINDINGS = "auth.* findings from the sign-in result (issue 4)"
JSON_AUTH = "JSON endpoint 'auth' object (issue 4)"

IMAPS_ID = "imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT)
POP3S_ID = "pop3s://%s:%d" % (ms.HOST, ms.POP3S_PORT)


def b64(data):
    return base64.b64encode(data).decode()


def secret_forms(secret, messages=()):
    """{text: what it is} for every form of SECRET that must not appear: the secret, its
    hex, the base64 of the secret and of each SASL MESSAGE that carries it, and the base64
    fragments that any base64 encoding of any text containing the secret must contain
    (one per alignment of the secret in the encoded bytes, mod 3)."""
    s = secret.encode()
    forms = {secret: "the secret itself", s.hex(): "the secret in hex", b64(s): "base64 of the secret"}
    for m in messages:
        forms[b64(m)] = "base64 of the SASL message %r" % m
    for k in range(3):
        enc = b64(b"\0" * k + s)
        frag = enc[((k + 2) // 3) * 4:((k + len(s)) // 3) * 4]
        if len(frag) >= 8:
            forms[frag] = "a base64 fragment of the secret (offset %d mod 3)" % k
    return forms


def password_forms(user, password):
    u, p = user.encode(), password.encode()
    return secret_forms(password, [b"\0" + u + b"\0" + p,          # PLAIN
                                   u + b"\0" + u + b"\0" + p])     # PLAIN with authzid


def token_forms(user, token, host=ms.HOST):
    u, t = user.encode(), token.encode()
    return secret_forms(token, [b"user=" + u + b"\x01auth=Bearer " + t + b"\x01\x01",   # XOAUTH2
                                b"n,a=" + u + b",\x01auth=Bearer " + t + b"\x01\x01",     # OAUTHBEARER
                                b"Bearer " + t])


class SecretAssertions:
    def assertNoSecret(self, run_, forms):
        blob = run_.stdout + "\n" + run_.stderr
        for form, what in forms.items():
            if form in blob:
                i = blob.index(form)
                self.fail("%s appears in what mailscope wrote (%s), near: %r\n(args: %s)"
                          % (what, "stdout" if i < len(run_.stdout) else "stderr",
                             blob[max(0, i - 80):i + len(form) + 20], " ".join(run_.args)))

    def assertRedactedTrace(self, run_):
        """Every client line of the transcript that carries a credential shows <redacted>:
        POP3 PASS/APOP, the IMAP LOGIN command, AUTHENTICATE/AUTH with an initial response,
        and every SASL response to a server challenge ("+ ...") except an empty one, a
        cancel ("*") or the OAUTHBEARER error acknowledgement ("AQ==")."""
        carrying = []
        last = {}
        for ep, d, text in ms.trace_lines(run_.stderr):
            if d == "S":
                last[ep] = text
                continue
            imap = ep.startswith("imap")
            if (not imap and re.match(r"^(PASS|APOP)\b", text, re.I)) \
                    or (imap and re.match(r"^\S+ LOGIN\b", text, re.I)) \
                    or re.match(r"^(\S+ AUTHENTICATE|AUTH) \S+ \S", text, re.I):
                carrying.append((ep, text))
            elif re.match(r"^\+( |$)", last.get(ep, "")) and text.strip() not in ("", "*", "AQ==", "="):
                carrying.append((ep, text))
            last[ep] = ""
        self.assertTrue(carrying, "no credential was sent at all:\n" + run_.stderr[-2000:])
        for ep, c in carrying:
            self.assertIn("<redacted>", c, "%s: %s" % (ep, c))


# ---- the canary password ---------------------------------------------------------------------

class PasswordCanary(SecretAssertions, unittest.TestCase):
    """Runs that send alice's password (canary-pw-7Q2x) in every way mailscope can; every
    byte of stdout and stderr is searched for it."""

    def canary_run(self, args, fmt="json", password=CANARY, user=ms.ALICE, forms=None):
        r = ms.signin(user, password, ["--trace", "--format", fmt] + list(args), json=False)
        self.assertIn(r.rc, (0, 1, 2), r.describe())
        self.assertNoSecret(r, forms or password_forms(user, password))
        self.assertRedactedTrace(r)
        self.assertIn("<redacted>", r.stderr)
        return r

    def test_json_all_endpoints(self):
        r = self.canary_run(ms.valid_args(), "json")
        r.json  # stdout is the report

    def test_text_all_endpoints(self):
        self.canary_run(ms.valid_args(), "text")

    def test_auth_login(self):
        """SASL LOGIN sends the password as its own base64 line."""
        for fmt in ("json", "text"):
            with self.subTest(format=fmt):
                self.canary_run(["--auth-mech", "LOGIN"] + ms.valid_args(), fmt)

    def test_user_pass_and_imap_login(self):
        """POP3 PASS and the IMAP LOGIN command carry the password in clear (inside TLS)."""
        for fmt in ("json", "text"):
            with self.subTest(format=fmt):
                r = self.canary_run(["--auth-mech", "USER"] + ms.valid_args(), fmt)
                self.assertTrue(any(re.match(r"^PASS\b", c) for _, c in ms.trace_commands(r.stderr)))

    def test_starttls_endpoints(self):
        self.canary_run(["--resolve", "%s:%s" % (ms.HOST, ms.ADDR_VALID), "--ca-file", ms.CA,
                         "imap://%s:%d" % (ms.HOST, ms.IMAP_PORT), "pop3://%s:%d" % (ms.HOST, ms.POP3_PORT)])

    def test_plaintext_endpoint(self):
        """--allow-insecure-auth on the plaintext-only server: the transcript is still redacted."""
        for mech in ("PLAIN", "USER"):
            with self.subTest(mech=mech):
                self.canary_run(["--allow-insecure-auth", "--auth-mech", mech,
                                 "--resolve", "%s:%s" % (ms.HOST, ms.ADDR_PLAINONLY),
                                 "imap://%s:%d" % (ms.HOST, ms.IMAP_PORT), "pop3://%s:%d" % (ms.HOST, ms.POP3_PORT)])

    def test_wrong_password(self):
        """A rejected password is as secret as a good one (failure messages quote the server, not it)."""
        for fmt in ("json", "text"):
            with self.subTest(format=fmt):
                self.canary_run(ms.valid_args(), fmt, password=WRONG)

    def test_denied_account(self):
        for fmt in ("json", "text"):
            with self.subTest(format=fmt):
                self.canary_run(ms.valid_args(), fmt, user=ms.IMAPONLY, password=ms.IMAPONLY_PASSWORD)

    def test_password_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".pw") as f:
            f.write(CANARY + "\n")
            f.flush()
            r = ms.run(["--trace", "--json", "--user", ms.ALICE, "--password-file", f.name] + ms.valid_args())
        self.assertNoSecret(r, password_forms(ms.ALICE, CANARY))
        self.assertRedactedTrace(r)


# ---- OAuth2 tokens ----------------------------------------------------------------------------

def fake_imaps(script_after_greeting, caps):
    """A fake implicit-TLS IMAP server: greeting with CAPS, then SCRIPT_AFTER_GREETING."""
    tmp = tempfile.mkdtemp(prefix="ms-secrets.")
    certs = fakeserver.generate_certs(os.path.join(tmp, "certs"), ["valid"])
    spec = {"script": [{"tls": {"cert": "valid"}},
                       {"send": "* OK [CAPABILITY IMAP4rev1 SASL-IR %s] fake ready\r\n" % caps}]
            + script_after_greeting, "lifetime": 30}
    server = fakeserver.FakeServer(spec, certs)
    return server, certs, tmp


OAUTH_FAILURE = [
    # RFC 7628 / Google: the server answers a bad token with an error challenge, the client
    # answers it (empty line or "AQ=="), then the command fails
    {"send": "+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n"},
    {"expect": "(?P<resp>.*)"},
    {"send": "{tag} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n"},
    {"expect": "(?P<t2>\\S+) LOGOUT"},
    {"send": "* BYE fake logging out\r\n{t2} OK LOGOUT completed\r\n"},
]


class TokenCanary(SecretAssertions, unittest.TestCase):
    def run_fake(self, mech, fmt="json", token_file=None):
        if fakeserver is None:
            self.skipTest("tests/fake/fakeserver.py is missing (needed for a server that offers OAuth2)")
        server, certs, tmp = fake_imaps([{"expect": "(?P<tag>\\S+) AUTHENTICATE %s (?P<ir>\\S+)" % mech}]
                                        + OAUTH_FAILURE, "AUTH=%s" % mech)
        server.start()
        try:
            args = ["--trace", "--format", fmt, "--timeout", "3", "--deadline", "10", "--user", ms.ALICE,
                    "--resolve", "%s:127.0.0.1" % ms.HOST, "--ca-file", certs["ca"],
                    "imaps://%s:%d" % (ms.HOST, server.port)]
            env = None
            if token_file:
                args = ["--oauth2-token-file", token_file] + args
            else:
                env = {"MAILSCOPE_OAUTH2_TOKEN": TOKEN}
            r = ms.run(args, env=env)
        finally:
            server.stop()
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertIn("ir", server.vars, "the fake server never received AUTHENTICATE %s with an initial "
                      "response:\n%s\n%s" % (mech, "\n".join(server.log), r.describe()))
        return r, base64.b64decode(server.vars["ir"]), server

    def test_xoauth2_wire_format_and_canary(self):
        for fmt in ("json", "text"):
            with self.subTest(format=fmt):
                r, ir, server = self.run_fake("XOAUTH2", fmt)
                self.assertEqual(ir, b"user=alice\x01auth=Bearer " + TOKEN.encode() + b"\x01\x01")
                self.assertNoSecret(r, token_forms(ms.ALICE, TOKEN))
                self.assertRedactedTrace(r)
                if fmt == "json":
                    ms.pending(FINDINGS)(lambda: self.assertTrue(ms.findings(r.json, "auth.failed"),
                                                                 r.json["findings"]))()

    def test_oauthbearer_wire_format_and_canary(self):
        r, ir, server = self.run_fake("OAUTHBEARER")
        hdr = b"n,a=alice,\x01"
        self.assertTrue(ir.startswith(hdr), ir)
        self.assertTrue(ir.endswith(b"\x01\x01"), ir)
        pairs = dict(p.split(b"=", 1) for p in ir[len(hdr):-1].split(b"\x01")[:-1])
        self.assertEqual(pairs.get(b"auth"), b"Bearer " + TOKEN.encode(), ir)
        if b"host" in pairs:
            self.assertEqual(pairs[b"host"], ms.HOST.encode())
        if b"port" in pairs:
            self.assertEqual(pairs[b"port"], str(server.port).encode())
        self.assertNoSecret(r, token_forms(ms.ALICE, TOKEN))
        self.assertRedactedTrace(r)

    def test_token_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".token") as f:
            f.write(TOKEN + "\n")
            f.flush()
            r, ir, _ = self.run_fake("XOAUTH2", token_file=f.name)
        self.assertEqual(ir, b"user=alice\x01auth=Bearer " + TOKEN.encode() + b"\x01\x01")
        self.assertNoSecret(r, token_forms(ms.ALICE, TOKEN))

    def test_token_not_offered_by_dovecot(self):
        """Dovecot offers only PLAIN and LOGIN: the token is neither sent nor printed."""
        for fmt in ("json", "text"):
            with self.subTest(format=fmt):
                r = ms.run(["--trace", "--format", fmt, "--user", ms.ALICE] + ms.valid_args(),
                           env={"MAILSCOPE_OAUTH2_TOKEN": TOKEN})
                self.assertNoSecret(r, token_forms(ms.ALICE, TOKEN))
                self.assertFalse([c for _, c in ms.trace_commands(r.stderr)
                                  if re.match(r"^(\S+ AUTHENTICATE|AUTH)\s+(XOAUTH2|OAUTHBEARER)", c, re.I)])
                if fmt == "json":
                    def check():
                        f = ms.findings(r.json, "auth.mechanism_unavailable")
                        self.assertEqual(sorted(x["endpoint"] for x in f), sorted([IMAPS_ID, POP3S_ID]),
                                         r.json["findings"])
                    ms.pending(FINDINGS)(check)()


# ---- where secrets may come from --------------------------------------------------------------

class CredentialSources(SecretAssertions, unittest.TestCase):
    """bob's password is used only here, so the Dovecot log tells whether it worked."""

    def usage_error(self, args, env=None, secret=None, hint=True):
        r = ms.run(args, env=env)
        self.assertEqual(r.rc, 3, r.describe())
        self.assertEqual(r.stdout, "")
        self.assertTrue(r.stderr.strip(), "the error explains itself on stderr")
        if hint:  # a command-line mistake points at --help (as in test_cli)
            self.assertIn("--help", r.stderr)
        if secret:
            self.assertNoSecret(r, secret_forms(secret))
        return r

    def test_no_secret_on_command_line(self):
        for args in (["--password", CANARY], ["--password=" + CANARY], ["--pass", CANARY],
                     ["--passwd", CANARY], ["--oauth2-token", TOKEN], ["--token", TOKEN], ["-p", CANARY]):
            with self.subTest(args=args[0]):
                secret = args[-1].split("=", 1)[-1]
                self.usage_error(["--user", ms.ALICE] + args + ms.valid_args(), secret=secret)

    def check_bob_signed_in(self, r, log):
        self.assertEqual(r.rc, 0, r.describe())
        text = log.wait(r"Login: user=<bob>", count=2)
        self.assertEqual(len(re.findall(r"(imap|pop3)-login: Info: Login: user=<bob>", text)), 2,
                         "bob signed in once per protocol:\n" + text[-3000:])
        self.assertNoSecret(r, password_forms(ms.BOB, ms.BOB_PASSWORD))

    def test_password_file_first_line(self):
        """Only the first line counts, without its line end (LF or CRLF)."""
        for content in (ms.BOB_PASSWORD + "\n", ms.BOB_PASSWORD + "\r\nsecond line\n", ms.BOB_PASSWORD):
            with self.subTest(content=content):
                with tempfile.NamedTemporaryFile("w", suffix=".pw", newline="") as f:
                    f.write(content)
                    f.flush()
                    log = ms.DovecotLog()
                    r = ms.run(["--json", "--user", ms.BOB, "--password-file", f.name] + ms.valid_args())
                self.check_bob_signed_in(r, log)

                def check():
                    chosen = ms.chosen_endpoints(r.json)
                    self.assertEqual(len(chosen), 2)
                    for e in chosen:
                        self.assertIs(e["auth"]["ok"], True)
                ms.pending(JSON_AUTH)(check)()

    def test_password_from_environment(self):
        log = ms.DovecotLog()
        r = ms.signin(ms.BOB, ms.BOB_PASSWORD, ["--json"] + ms.valid_args(), json=False)
        self.check_bob_signed_in(r, log)

    def test_password_file_errors(self):
        r = self.usage_error(["--user", ms.ALICE, "--password-file", "/nonexistent/pw"] + ms.valid_args(),
                             hint=False)
        self.assertIn("/nonexistent/pw", r.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".pw") as f:  # empty
            r = self.usage_error(["--user", ms.ALICE, "--password-file", f.name] + ms.valid_args(), hint=False)
            self.assertIn(f.name, r.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".pw") as f:
            f.write(CANARY + "\n")
            f.flush()
            # a password file without --user
            self.usage_error(["--password-file", f.name] + ms.valid_args(), secret=CANARY, hint=False)

    def test_user_without_secret(self):
        """No secret given and stdin is not a terminal: a usage error that says where to put it."""
        r = self.usage_error(["--user", ms.ALICE] + ms.valid_args(), hint=False)
        self.assertIn("MAILSCOPE_PASSWORD", r.stderr)

    def test_password_without_user(self):
        """MAILSCOPE_PASSWORD alone does not make mailscope sign in."""
        r = ms.run(["--json", "--trace"] + ms.valid_args(), env={"MAILSCOPE_PASSWORD": CANARY})
        self.assertEqual(r.rc, 0, r.describe())
        self.assertFalse([c for _, c in ms.trace_commands(r.stderr)
                          if re.match(r"^(\S+ (LOGIN|AUTHENTICATE)|AUTH|USER|PASS)\b", c, re.I)])
        self.assertNoSecret(r, password_forms(ms.ALICE, CANARY))


class Prompt(SecretAssertions, unittest.TestCase):
    """With stdin a terminal and no other source, mailscope asks on the terminal, echo off."""

    def test_prompt_without_echo(self):
        tmp = tempfile.mkdtemp(prefix="ms-prompt.")
        out, err = os.path.join(tmp, "out"), os.path.join(tmp, "err")
        env = ms.sanitizer_env(dict(os.environ))
        env.pop("MAILSCOPE_PASSWORD", None)
        args = ["--dns-server", ms.DNS_SERVER, "--json", "--user", ms.BOB] + ms.valid_args()
        pid, fd = pty.fork()
        if pid == 0:  # child: the pty is its controlling terminal and stdin
            try:
                os.execvpe("/bin/sh", ["sh", "-c", 'exec "$0" "$@" >"$MS_OUT" 2>"$MS_ERR"', ms.MAILSCOPE] + args,
                           dict(env, MS_OUT=out, MS_ERR=err))
            finally:
                os._exit(127)
        tty = b""
        try:
            deadline = time.monotonic() + 15
            while b"assword" not in tty and time.monotonic() < deadline:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        tty += os.read(fd, 4096)
                    except OSError:
                        break
            self.assertIn(b"assword", tty, "no password prompt on the terminal; stderr: %r"
                          % (open(err).read() if os.path.exists(err) else ""))
            self.assertIn(ms.BOB.encode(), tty, "the prompt names the user")
            self.assertFalse(termios.tcgetattr(fd)[3] & termios.ECHO, "echo is off while asking")
            os.write(fd, ms.BOB_PASSWORD.encode() + b"\n")
            deadline = time.monotonic() + ms.RUN_TIMEOUT
            while time.monotonic() < deadline:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        chunk = os.read(fd, 4096)
                    except OSError:  # EIO: the child is gone
                        break
                    if not chunk:
                        break
                    tty += chunk
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    pid = 0
                    break
            if pid:
                _, status = os.waitpid(pid, 0)
                pid = 0
            rc = os.waitstatus_to_exitcode(status)
        finally:
            if pid:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            os.close(fd)
        stdout, stderr = open(out).read(), open(err).read()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
        self.assertNotIn(ms.BOB_PASSWORD.encode(), tty, "the password was echoed: %r" % tty)
        run_ = type("R", (), {"stdout": stdout, "stderr": stderr, "args": args})()
        self.assertNoSecret(run_, password_forms(ms.BOB, ms.BOB_PASSWORD))
        self.assertEqual(rc, 0, "rc=%d\nstdout:\n%s\nstderr:\n%s" % (rc, stdout[:3000], stderr[-2000:]))
        ms.pending(JSON_AUTH)(lambda: self.assertEqual(
            [e["auth"]["ok"] for e in ms.chosen_endpoints(json.loads(stdout))], [True, True]))()


class EnvironmentScrubbed(unittest.TestCase):
    """MAILSCOPE_PASSWORD is wiped from the process's environment once read: it is not in
    /proc/PID/environ while mailscope runs (nor in /proc/PID/cmdline)."""

    @unittest.skipIf(os.environ.get("MS_UNDER_VALGRIND"),
                     "under valgrind /proc/PID/environ is valgrind's own copy, not the program's")
    def test_environ_scrubbed(self):
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(4)
        port = lsock.getsockname()[1]
        accepted = []
        stop = threading.Event()

        def serve():  # accept and say nothing: mailscope waits in the greeting phase
            lsock.settimeout(0.2)
            while not stop.is_set():
                try:
                    c, _ = lsock.accept()
                    accepted.append(c)
                except socket.timeout:
                    pass
                except OSError:
                    return

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        env = ms.sanitizer_env(dict(os.environ, MAILSCOPE_PASSWORD=CANARY))
        args = [ms.MAILSCOPE, "--dns-server", ms.DNS_SERVER, "--json", "--user", ms.ALICE, "--timeout", "4",
                "--deadline", "6", "--resolve", "%s:127.0.0.1" % ms.HOST, "imap://%s:%d" % (ms.HOST, port)]
        proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 5
            while not accepted and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            self.assertTrue(accepted, "mailscope never connected")
            with open("/proc/%d/environ" % proc.pid, "rb") as f:
                environ = f.read()
            with open("/proc/%d/cmdline" % proc.pid, "rb") as f:
                cmdline = f.read()
        finally:
            out, err = proc.communicate(timeout=ms.RUN_TIMEOUT)
            stop.set()
            t.join(2)
            for c in accepted:
                c.close()
            lsock.close()
        self.assertNotIn(CANARY.encode(), environ, "the password is still in /proc/PID/environ")
        self.assertNotIn(CANARY.encode(), cmdline)
        self.assertNotIn(CANARY.encode(), out + err)


if __name__ == "__main__":
    ms.main()
