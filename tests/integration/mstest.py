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
  MS_SUBMISSION_PORT MS_SUBMISSIONS_PORT MS_SUBMISSION_WEAK_PORT   Postfix's ports
                  (tests/servers/postfix.sh; only scripts with "# fixtures: ms_postfix"
                  get a running Postfix)
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import snapshot  # noqa: E402

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
# the test Postfix on ADDR_VALID (tests/servers/postfix.sh): submission (STARTTLS, AUTH only
# after TLS), submissions (implicit TLS), and a weak listener offering AUTH before TLS
SUBMISSION_PORT = int(os.environ.get("MS_SUBMISSION_PORT", "10587"))
SUBMISSIONS_PORT = int(os.environ.get("MS_SUBMISSIONS_PORT", "10465"))
SUBMISSION_WEAK_PORT = int(os.environ.get("MS_SUBMISSION_WEAK_PORT", "10588"))
# PORTS plus the test Postfix's: for an e-mail address (or --discover), whose guessed hosts
# are probed for sending too
PORTS_ALL = PORTS + ",submission=%d,submissions=%d" % (SUBMISSION_PORT, SUBMISSIONS_PORT)

HOST = "mail.test.example"
# Dovecot's loopback addresses, one per certificate (tests/servers/dovecot.sh)
ADDR_VALID = "127.0.0.2"
ADDR_EXPIRED = "127.0.0.3"
ADDR_WRONGHOST = "127.0.0.4"
ADDR_SELFSIGNED = "127.0.0.5"
ADDR_SOON = "127.0.0.6"
ADDR_PLAINTEXT = "127.0.0.7"
ADDR_NOTLS = "127.0.0.8"
ADDR_PLAINONLY = "127.0.0.10"  # no TLS at all, and plaintext sign-in allowed
ADDR_TLSREQUIRED = "127.0.0.11"  # ssl=required: POP3 lists USER before STLS, refuses it

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
    for k, v in (env or {}).items():  # None unsets
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    sanitizer_env(e)
    t0 = time.monotonic()
    proc = subprocess.run([MAILSCOPE] + full, stdin=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=e, timeout=timeout or RUN_TIMEOUT,
                          text=True, errors="replace")
    r = Run(full, proc, time.monotonic() - t0)
    snapshot.save(os.path.basename(sys.argv[0]), full, r.stdout)
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


# ---- sign-in: the test accounts and alice's mailbox (tests/servers/dovecot.sh) -----------

DOVECOT_DIR = os.path.join(TESTENV, "dovecot")
DOVECOT_LOG = os.path.join(DOVECOT_DIR, "dovecot.log")

ALICE = "alice"
ALICE_PASSWORD = "canary-pw-7Q2x"      # the canary: must never appear in anything mailscope writes
BOB = "bob"
BOB_PASSWORD = "bob-pw-3Kd9"
IMAPONLY = "imaponly"                  # POP3 denied for this account
IMAPONLY_PASSWORD = "imaponly-pw-5Rm2"
POP3ONLY = "pop3only"                  # IMAP denied for this account
POP3ONLY_PASSWORD = "pop3only-pw-8Vt4"
# What Dovecot answers a correct password of a denied account with (dovecot.sh):
#   IMAP: <tag> NO [CONTACTADMIN] IMAP access is disabled for this account
#   POP3: -ERR [AUTH] POP3 access is disabled for this account
# and a wrong password with:
#   IMAP: <tag> NO [AUTHENTICATIONFAILED] Authentication failed.
#   POP3: -ERR [AUTH] Authentication failed.
DENY_IMAP_TEXT = os.environ.get("MS_DENY_IMAP_TEXT", "IMAP access is disabled for this account")
DENY_POP3_TEXT = os.environ.get("MS_DENY_POP3_TEXT", "POP3 access is disabled for this account")
AUTH_FAILED_TEXT = "Authentication failed."

# alice's folders as LIST shows them, with their RFC 6154 special-use flags
ALICE_FOLDERS = {
    "INBOX": [],
    "Sent": ["\\Sent"],
    "Drafts": ["\\Drafts"],
    "Trash": ["\\Trash"],
    "Junk": ["\\Junk"],
    "Archive": ["\\Archive"],
    "Projects": [],
    "Projects/2026": [],
    "Public/Announcements": [],   # in the public namespace
}
# LIST also shows the public namespace's prefix as a non-selectable "Public"
# (\Noselect, or \NonExistent with RETURN (SPECIAL-USE)); a report may leave it out.
ALICE_OPTIONAL_FOLDERS = {"Public"}
ALICE_INBOX_MESSAGES = 5
ALICE_INBOX_UNSEEN = 2
ALICE_NAMESPACES = {"personal": [""], "other_users": [], "shared": ["Public/"]}
QUOTA_ROOT = "User quota"
QUOTA_LIMIT_KB = 10240                 # quota_rule = *:storage=10M

FEATURE_IDS = ("protocol_enabled", "leave_mail_on_server", "server_folders", "sent_items_on_server",
               "shared_folders", "headers_only_download", "push_mail", "min_poll_interval",
               "secure_connection", "sign_in_methods", "quota", "can_send", "max_message_size")
ANSWER_WORDS = ("yes", "no", "unknown", "n/a")


def pending(what):
    """Mark a test that depends on a feature not implemented yet (issue 4 is in progress).
    The test still runs and still fails; its failure message names what it waits for, so
    that a red test reads as "not built yet" rather than as a regression."""
    def wrap(fn):
        import functools

        @functools.wraps(fn)
        def inner(*a, **kw):
            try:
                return fn(*a, **kw)
            except AssertionError as e:
                raise AssertionError("[depends on: %s] %s" % (what, e)) from None
            except (KeyError, TypeError, IndexError) as e:  # a report field that is not there yet
                raise AssertionError("[depends on: %s] %s: %s" % (what, type(e).__name__, e)) from None
        # first docstring line = what unittest prints beside the test's name, also in FAIL headers
        inner.__doc__ = "[depends on: %s] %s" % (what, (fn.__doc__ or "").strip())
        return inner
    return wrap


def signin(user, password, args, extra_env=None, json=True, **kw):
    """Run mailscope --user USER with the password in MAILSCOPE_PASSWORD; ARGS as for run()."""
    env = {"MAILSCOPE_PASSWORD": password}
    if extra_env:
        env.update(extra_env)
    full = ["--user", user] + list(args)
    return probe_json(full, env=env, **kw) if json else run(full, env=env, **kw)


def exit_for_status(doc):
    return {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}[doc["status"]]


def auth_of(ep):
    return ep.get("auth")


def chosen_endpoints(doc, protocol=None):
    """Endpoints picked to sign in (auth.chosen true), optionally of one protocol."""
    out = []
    for e in doc["endpoints"]:
        a = e.get("auth")
        if isinstance(a, dict) and a.get("chosen") is True and (protocol is None or e["protocol"] == protocol):
            out.append(e)
    return out


def feature(doc, id_):
    """The summary entry with this id (asserting there is exactly one)."""
    s = doc.get("summary")
    if not isinstance(s, dict):
        raise AssertionError("no top-level 'summary' object in the report (keys: %s)" % sorted(doc))
    hits = [f for f in s.get("features", []) if f.get("id") == id_]
    if len(hits) != 1:
        raise AssertionError("summary.features has %d entries with id %r: %s"
                             % (len(hits), id_, [f.get("id") for f in s.get("features", [])]))
    return hits[0]


def answer_object(doc, id_, protocol):
    """The summary answer object of feature ID_ for PROTOCOL ("imap" or "pop3"):
    {"answer": yes|no|unknown|n/a, "value", "unit", "text"} (schema_version 2)."""
    a = feature(doc, id_)[protocol]
    if not isinstance(a, dict) or a.get("answer") not in ("yes", "no", "unknown", "n/a"):
        raise AssertionError("summary %s.%s is not an answer object: %r" % (id_, protocol, a))
    return a


def answer(doc, id_, protocol):
    """The machine-readable answer word of feature ID_ for PROTOCOL: yes, no, unknown, n/a."""
    return answer_object(doc, id_, protocol)["answer"]


def prefix_of(ns):
    """A namespace entry as a prefix string (entries may be strings or {"prefix": ...})."""
    if isinstance(ns, dict):
        return ns.get("prefix")
    return ns


def ms_tls_context():
    ctx = ssl.create_default_context(cafile=CA)
    return ctx


def imap_client(addr=ADDR_VALID, port=None, host=HOST, timeout=10):
    """imaplib over implicit TLS to ADDR, verified against the test CA with SNI HOST."""
    import imaplib

    port = port or IMAPS_PORT
    ctx = ms_tls_context()

    class Client(imaplib.IMAP4_SSL):
        def _create_socket(self, timeout_):
            sock = socket.create_connection((addr, port), timeout)
            return ctx.wrap_socket(sock, server_hostname=host)

    return Client(host, port, ssl_context=ctx, timeout=timeout)


def pop3_client(addr=ADDR_VALID, port=None, host=HOST, timeout=10):
    """poplib over implicit TLS to ADDR, verified against the test CA with SNI HOST."""
    import poplib

    port = port or POP3S_PORT
    ctx = ms_tls_context()

    class Client(poplib.POP3_SSL):
        def _create_socket(self, timeout_):
            sock = socket.create_connection((addr, port), timeout)
            return ctx.wrap_socket(sock, server_hostname=host)

    return Client(host, port, context=ctx, timeout=timeout)


_IMAP_TOKEN = re.compile(r'\s*(\(|\)|"(?:[^"\\]|\\.)*"|[^\s()"]+)')


def imap_parse(text):
    """A tiny parser of IMAP data: lists become Python lists, quoted strings str, NIL None,
    atoms str. Returns the list of top-level items."""
    stack = [[]]
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _IMAP_TOKEN.match(text, pos)
        if not m:
            break
        tok = m.group(1)
        pos = m.end()
        if tok == "(":
            stack.append([])
        elif tok == ")":
            done = stack.pop()
            stack[-1].append(done)
        elif tok.startswith('"'):
            stack[-1].append(re.sub(r"\\(.)", r"\1", tok[1:-1]))
        elif tok.upper() == "NIL":
            stack[-1].append(None)
        else:
            stack[-1].append(tok)
    return stack[0]


def _ok(typ, data, what):
    if typ != "OK":
        raise AssertionError("oracle: %s failed: %s %r" % (what, typ, data))
    return data


def imap_oracle(user=ALICE, password=ALICE_PASSWORD, flags=True):
    """What the account looks like to Python's own IMAP client (read-only: EXAMINE only).
    Returns {"capabilities": [...after login...], "folders": {name: [special-use...]},
    "noselect": set, "namespaces": {"personal": [prefixes], ...}, "inbox": (messages, unseen),
    "quota": (used_kb, limit_kb) or None, "flags": {folder: {uid: sorted flags}} }."""
    m = imap_client()
    try:
        _ok(*m.login(user, password), what="LOGIN")
        out = {}
        typ, data = m.capability()
        out["capabilities"] = _ok(typ, data, "CAPABILITY")[-1].decode().split()
        typ, data = m.namespace()
        ns = imap_parse(_ok(typ, data, "NAMESPACE")[0].decode())
        out["namespaces"] = {k: [e[0] for e in (g or [])]
                             for k, g in zip(("personal", "other_users", "shared"), ns)}
        tag = m._command("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE)")
        _ok(*m._command_complete("LIST", tag), what="LIST RETURN (SPECIAL-USE)")
        typ, data = m._untagged_response("OK", [None], "LIST")
        folders, noselect = {}, set()
        for line in data:
            if line is None:
                continue
            fl, _sep, name = imap_parse(line.decode())
            lower = [f.lower() for f in fl]
            if "\\noselect" in lower or "\\nonexistent" in lower:
                noselect.add(name)
            folders[name] = sorted(f for f in fl if f.lower() in (
                "\\all", "\\archive", "\\drafts", "\\flagged", "\\junk", "\\sent", "\\trash"))
        out["folders"] = folders
        out["noselect"] = noselect
        typ, data = m.status("INBOX", "(MESSAGES UNSEEN)")
        st = imap_parse(_ok(typ, data, "STATUS")[0].decode())[1]
        st = dict(zip(st[::2], st[1::2]))
        out["inbox"] = (int(st["MESSAGES"]), int(st["UNSEEN"]))
        out["quota"] = None
        if "QUOTA" in out["capabilities"]:
            typ, data = m.getquotaroot("INBOX")
            for item in _ok(typ, data, "GETQUOTAROOT")[1]:
                q = imap_parse(item.decode())
                res = q[1] if len(q) > 1 else []
                for i in range(0, len(res) - 2, 3):
                    if res[i].upper() == "STORAGE":
                        out["quota"] = (int(res[i + 1]), int(res[i + 2]))
        if flags:
            out["flags"] = {}
            for name in sorted(folders):
                if name in noselect:
                    continue
                typ, data = m.select('"%s"' % name, readonly=True)  # EXAMINE
                _ok(typ, data, "EXAMINE %s" % name)
                typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
                per = {}
                for item in _ok(typ, data, "FETCH"):
                    if not item:
                        continue
                    mm = re.search(rb"UID (\d+).*FLAGS \(([^)]*)\)", item) or \
                        re.search(rb"FLAGS \(([^)]*)\).*UID (\d+)", item)
                    if not mm:
                        continue
                    if mm.re.pattern.startswith(rb"UID"):
                        uid, fl = mm.group(1), mm.group(2)
                    else:
                        fl, uid = mm.group(1), mm.group(2)
                    per[int(uid)] = sorted(f for f in fl.decode().split() if f != "\\Recent")
                out["flags"][name] = per
        return out
    finally:
        try:
            m.logout()
        except Exception:
            pass


def pop3_oracle(user=ALICE, password=ALICE_PASSWORD):
    """STAT, UIDL and CAPA after sign-in, as Python's POP3 client sees them (no RETR, no DELE)."""
    p = pop3_client()
    try:
        p.user(user)
        p.pass_(password)
        resp, lines, _ = p._longcmd("CAPA")
        caps = [" ".join(l.decode().split()) for l in lines]
        count, octets = p.stat()
        resp, uidl, _ = p.uidl()
        return {"capabilities": caps, "messages": count, "octets": octets,
                "uidl": [l.decode().split()[1] for l in uidl]}
    finally:
        try:
            p.quit()
        except Exception:
            pass


def maildir_snapshot(user=ALICE):
    """Every message file of USER's Maildir and of the public namespace, as relative paths
    (the name carries the flags: ...:2,FS), plus the folder directories. Dovecot's own
    dovecot* index/uidlist files are left out: they may change on any read."""
    out = []
    for root in (os.path.join(DOVECOT_DIR, "mail", user, "Maildir"), os.path.join(DOVECOT_DIR, "public")):
        for dirpath, dirnames, filenames in os.walk(root):
            rel = os.path.relpath(dirpath, DOVECOT_DIR)
            base = os.path.basename(dirpath)
            if base in ("cur", "new", "tmp"):
                for f in filenames:
                    out.append(os.path.join(rel, f))
            elif not base.startswith("dovecot"):
                out.append(rel + "/")
    return sorted(out)


class DovecotLog:
    """The part of the test Dovecot's log written after this object was made."""

    def __init__(self, path=DOVECOT_LOG):
        self.path = path
        try:
            self.start = os.path.getsize(path)
        except OSError:
            raise AssertionError("Dovecot log %s not found" % path)

    def text(self):
        with open(self.path, "rb") as f:
            f.seek(self.start)
            return f.read().decode("utf-8", "replace")

    def wait(self, pattern, timeout=15.0, count=1):
        """The new text, once PATTERN (a regex) matches COUNT times in it (or TIMEOUT runs out:
        generous, as it returns at the match and Dovecot's log lags on a busy machine)."""
        import time

        end = time.monotonic() + timeout
        while True:
            t = self.text()
            if len(re.findall(pattern, t)) >= count or time.monotonic() > end:
                return t
            time.sleep(0.05)


def trace_lines(stderr):
    """(endpoint id, "C" or "S", text) for every client and server line of a --trace transcript."""
    out = []
    for line in stderr.splitlines():
        m = re.match(r"^\[\s*[\d.]+\]\s+(\S+)\s+([CS]):\s?(.*)$", line)
        if m:
            out.append((m.group(1), m.group(2), m.group(3)))
    return out


def trace_commands(stderr):
    """(endpoint id, command line) for every client line of a --trace transcript."""
    out = []
    for line in stderr.splitlines():
        m = re.match(r"^\[\s*[\d.]+\]\s+(\S+)\s+C:\s?(.*)$", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def main():
    unittest.main(verbosity=2, buffer=False)


if __name__ == "__main__":
    sys.exit("helper module, not a test")
