"""Shared helpers for mailscope's integration tests (Python 3 standard library +
python3-jsonschema).

The tests run the real mailscope binary against the private Dovecot and dnsmasq that
the ctest fixtures start (tests/servers/*.sh), parse its JSON report and check it field
by field. Everything happens on loopback: every run gets --dns-server pointing at the
test dnsmasq, so no test ever asks a resolver outside this machine.

Environment (set by tests/integration/CMakeLists.txt):
  MAILSCOPE       path of the binary under test
  MS_TESTENV      directory holding certs/, dovecot/, dnsmasq/
  MS_DNS_PORT     port of the test dnsmasq on 127.0.0.1
  MS_SCHEMA       path of report/schema.json
  MS_VERSION      project version (for --version)
  MS_IMAP_PORT MS_IMAPS_PORT MS_POP3_PORT MS_POP3S_PORT   Dovecot's ports
"""

import datetime
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import unittest

MAILSCOPE = os.environ.get("MAILSCOPE", "mailscope")
TESTENV = os.environ.get("MS_TESTENV", os.path.join(os.getcwd(), "testenv"))
CERTS = os.path.join(TESTENV, "certs")
CA = os.path.join(CERTS, "ca.pem")
DNS_PORT = int(os.environ.get("MS_DNS_PORT", "10053"))
DNS_SERVER = "127.0.0.1:%d" % DNS_PORT
SCHEMA = os.environ.get("MS_SCHEMA", "")
VERSION = os.environ.get("MS_VERSION", "")

IMAP_PORT = int(os.environ.get("MS_IMAP_PORT", "10143"))
IMAPS_PORT = int(os.environ.get("MS_IMAPS_PORT", "10993"))
POP3_PORT = int(os.environ.get("MS_POP3_PORT", "10110"))
POP3S_PORT = int(os.environ.get("MS_POP3S_PORT", "10995"))
PORTS = "imap=%d,imaps=%d,pop3=%d,pop3s=%d" % (IMAP_PORT, IMAPS_PORT, POP3_PORT, POP3S_PORT)

HOST = "mail.test.example"
# Dovecot's loopback addresses, one per certificate (tests/servers/dovecot.sh)
ADDR_VALID = "127.0.0.2"
ADDR_EXPIRED = "127.0.0.3"
ADDR_WRONGHOST = "127.0.0.4"
ADDR_SELFSIGNED = "127.0.0.5"
ADDR_SOON = "127.0.0.6"
ADDR_PLAINTEXT = "127.0.0.7"
ADDR_NOTLS = "127.0.0.8"

# endpoint id -> (protocol, port, security) for a bare host with PORTS
def standard_endpoints(host=HOST):
    return {
        "imap://%s:%d" % (host, IMAP_PORT): ("imap", IMAP_PORT, "starttls"),
        "imaps://%s:%d" % (host, IMAPS_PORT): ("imap", IMAPS_PORT, "implicit"),
        "pop3://%s:%d" % (host, POP3_PORT): ("pop3", POP3_PORT, "starttls"),
        "pop3s://%s:%d" % (host, POP3S_PORT): ("pop3", POP3S_PORT, "implicit"),
    }


RUN_TIMEOUT = float(os.environ.get("MS_RUN_TIMEOUT", "120"))
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer")


class Run:
    """One finished mailscope run."""

    def __init__(self, args, proc, elapsed):
        self.args = args
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.elapsed = elapsed
        self._json = None

    @property
    def json(self):
        if self._json is None:
            try:
                self._json = json.loads(self.stdout)
            except ValueError as e:
                raise AssertionError("stdout is not JSON (%s); rc=%d\nargs: %s\nstdout:\n%s\nstderr:\n%s"
                                     % (e, self.rc, " ".join(self.args), self.stdout[:4000],
                                        self.stderr[-4000:]))
        return self._json

    def describe(self):
        return "mailscope %s -> rc=%d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(self.args), self.rc, self.stdout[:6000], self.stderr[-3000:])


def sanitizer_env(env):
    """Sanitizer reports get exit codes of their own, so that they never pass for one of
    mailscope's exit codes (harmless for a build without sanitizers)."""
    asan = env.get("ASAN_OPTIONS", "detect_leaks=1")
    ubsan = env.get("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    env["ASAN_OPTIONS"] = asan + ":exitcode=86"
    env["UBSAN_OPTIONS"] = ubsan + ":exitcode=87"
    return env


def run(args, dns=True, env=None, timeout=None, stdin=subprocess.DEVNULL):
    """Run mailscope with ARGS (a list). dns=True adds --dns-server for the test dnsmasq."""
    import time

    full = list(args)
    if dns:
        full = ["--dns-server", DNS_SERVER] + full
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    if env:
        e.update(env)
    sanitizer_env(e)
    t0 = time.monotonic()
    proc = subprocess.run([MAILSCOPE] + full, stdin=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=e, timeout=timeout or RUN_TIMEOUT,
                          text=True, errors="replace")
    r = Run(full, proc, time.monotonic() - t0)
    for m in SANITIZER_MARKERS:
        if m in r.stderr:
            raise AssertionError("sanitizer report in stderr:\n" + r.describe())
    if r.rc in (86, 87) or r.rc < 0:
        raise AssertionError("mailscope crashed or a sanitizer fired:\n" + r.describe())
    return r


def probe_json(args, **kw):
    """Run mailscope --json ARGS, validate the report against the schema, return Run."""
    r = run(["--json"] + list(args), **kw)
    validate(r.json, r)
    return r


def valid_args(addr=ADDR_VALID, ca=True, host=HOST, extra=()):
    """The arguments of a bare-host probe of Dovecot at ADDR."""
    a = ["--resolve", "%s:%s" % (host, addr), "--ports", PORTS]
    if ca:
        a += ["--ca-file", CA]
    return a + list(extra) + [host]


# ---- schema -------------------------------------------------------------------------

_validator = None


def validator():
    global _validator
    if _validator is None:
        try:
            import jsonschema
        except ImportError:  # pragma: no cover
            raise AssertionError("python3-jsonschema is not installed (scripts/deps.sh installs it)")
        if not SCHEMA or not os.path.isfile(SCHEMA):
            raise AssertionError("JSON schema not found: %r (report/schema.json)" % SCHEMA)
        with open(SCHEMA) as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema, format_checker=cls.FORMAT_CHECKER
                         if hasattr(cls, "FORMAT_CHECKER") else jsonschema.FormatChecker())
    return _validator


def validate(doc, run_=None):
    errors = sorted(validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        lines = ["report does not validate against %s:" % SCHEMA]
        for e in errors[:20]:
            lines.append("  at /%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message))
        if run_ is not None:
            lines.append(run_.describe())
        raise AssertionError("\n".join(lines))


# ---- report helpers -------------------------------------------------------------------

def endpoints_by_id(doc):
    return {e["id"]: e for e in doc["endpoints"]}


def findings(doc, code=None, severity=None, endpoint=Ellipsis):
    out = []
    for f in doc["findings"]:
        if code is not None and f["code"] != code:
            continue
        if severity is not None and f["severity"] != severity:
            continue
        if endpoint is not Ellipsis and f["endpoint"] != endpoint:
            continue
        out.append(f)
    return out


def codes(doc):
    return sorted({f["code"] for f in doc["findings"]})


def fingerprint(pem_path):
    """SHA-256 fingerprint of a PEM certificate as lower-case hex without colons."""
    import base64
    import hashlib

    with open(pem_path) as f:
        pem = f.read()
    b64 = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S).group(1)
    return hashlib.sha256(base64.b64decode("".join(b64.split()))).hexdigest()


def openssl_fingerprint(pem_path):
    """The same, as `openssl x509 -fingerprint -sha256` prints it, normalised."""
    out = subprocess.run(["openssl", "x509", "-in", pem_path, "-noout", "-fingerprint", "-sha256"],
                         stdout=subprocess.PIPE, check=True, text=True).stdout
    return out.strip().split("=", 1)[1].replace(":", "").lower()


def openssl_dates(pem_path):
    out = subprocess.run(["openssl", "x509", "-in", pem_path, "-noout", "-startdate", "-enddate"],
                         stdout=subprocess.PIPE, check=True, text=True, env=dict(os.environ, LC_ALL="C")).stdout
    d = {}
    for line in out.splitlines():
        k, v = line.split("=", 1)
        d[k] = datetime.datetime.strptime(v.replace(" GMT", ""), "%b %d %H:%M:%S %Y").replace(
            tzinfo=datetime.timezone.utc)
    return d["notBefore"], d["notAfter"]


def parse_time(s):
    """Parse a report time stamp (ISO 8601 / RFC 3339, UTC)."""
    if not isinstance(s, str):
        raise AssertionError("time stamp is not a string: %r" % (s,))
    t = s.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    try:
        d = datetime.datetime.fromisoformat(t)
    except ValueError:
        raise AssertionError("time stamp %r is not ISO 8601 (e.g. 2029-02-28T23:58:25Z)" % s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d


def normnum(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


# ---- an independent client: what does the server really send? -------------------------

def _lines(f):
    line = f.readline()
    if not line:
        raise AssertionError("server closed the connection")
    return line.decode("utf-8", "replace").rstrip("\r\n")


def oracle_caps(addr, port, protocol, security, host=HOST, timeout=5):
    """Capabilities as Python's own client sees them: (before_tls, after_tls), each a list
    of strings (IMAP: the tokens of the untagged CAPABILITY response; POP3: the CAPA lines)
    or None where not applicable."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = socket.create_connection((addr, port), timeout=timeout)
    try:
        if security == "implicit":
            s = ctx.wrap_socket(s, server_hostname=host)
        f = s.makefile("rwb")
        _lines(f)  # greeting

        def imap_caps(tag):
            f.write(b"%s CAPABILITY\r\n" % tag)
            f.flush()
            caps = None
            while True:
                line = _lines(f)
                if line.upper().startswith("* CAPABILITY "):
                    caps = line.split()[2:]
                elif line.startswith(tag.decode() + " "):
                    return caps

        def pop3_caps():
            f.write(b"CAPA\r\n")
            f.flush()
            if not _lines(f).startswith("+OK"):
                return None
            caps = []
            while True:
                line = _lines(f)
                if line == ".":
                    return caps
                caps.append(line[1:] if line.startswith("..") else line)

        get = (lambda t: imap_caps(t)) if protocol == "imap" else (lambda t: pop3_caps())
        if security == "implicit":
            return None, get(b"a")
        before = get(b"a")
        f.write(b"b STARTTLS\r\n" if protocol == "imap" else b"STLS\r\n")
        f.flush()
        resp = _lines(f)
        if not (resp.startswith("b OK") or resp.startswith("+OK")):
            return before, None
        s = ctx.wrap_socket(s, server_hostname=host)
        f = s.makefile("rwb")
        return before, get(b"c")
    finally:
        s.close()


def port_refuses(addr, port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((addr, port))
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        s.close()
    return False


def closed_port(addr="127.0.0.2", start=10111):
    """A port on ADDR that refuses connections (nothing listens there)."""
    for p in range(start, start + 50):
        if port_refuses(addr, p):
            return p
    raise unittest.SkipTest("no closed port found on %s" % addr)


def main():
    unittest.main(verbosity=2, buffer=False)


if __name__ == "__main__":
    sys.exit("helper module, not a test")
