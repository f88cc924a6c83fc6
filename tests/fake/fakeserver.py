#!/usr/bin/env python3
"""fakeserver.py - a scriptable, hostile POP3/IMAP4/SMTP server for mailscope's tests.

It knows no protocol: a case's script says every byte it sends and every line it expects,
and a "tls" step switches to TLS wherever the script puts it (after "+OK" to STLS, after
"OK" to STARTTLS, after "220" to SMTP STARTTLS alike).

Python 3 standard library only. It listens on 127.0.0.1 on an ephemeral port, serves one
scripted conversation (or `connections` of them, one after the other) and stops by itself:
after the script, when told to (stop()), or when its lifetime runs out, whichever is first.

The script is data (a list of steps, see README.md); the steps are:

  {"send": TEXT}          send bytes. TEXT is a string whose code points 0-255 are the bytes
  {"hex": "2a204f4b"}     (JSON "\\u0000" escapes give NULs and binary), or hex. TEXT may
                          also be a list of pieces, each a string or {"text": T, "repeat": N,
                          "base64": true} (T repeated N times, then base64-encoded: computed
                          large or encoded data such as a SASL challenge). Options:
                          "repeat": N (TEXT N times; "{i}" in TEXT becomes 0..N-1),
                          "flood": S (send it again and again for S seconds),
                          "chunk": N, "delay": S (N bytes per segment, S seconds apart:
                          tiny segments, slow drip), "truncate": N (TLS: cut the last N
                          bytes of the encrypted records), "raw": true (bypass TLS).
                          {NAME} is replaced by a value captured by "expect" (e.g. {tag}).
  {"expect": REGEX}       read one client line (without its line end) and match it;
                          named groups are captured ("(?P<tag>\\S+) CAPABILITY");
                          "eof_ok": true ends the conversation quietly if the client closes.
  {"branch": [{"expect": REGEX, "then": [STEPS]}, ...]}
                          read one client line; the first alternative whose REGEX matches
                          runs its steps (captures kept), then the script goes on after the
                          branch. No match is an error; "eof_ok" as for expect.
  {"loop": N, "steps": [STEPS]}
                          run the steps N times ("{i}" in a send is the round, 0..N-1).
  {"recv": true}          read whatever raw bytes come (e.g. a TLS ClientHello).
  {"tls": {...}}          server-side TLS handshake: "cert" (valid|expired|wronghost|
                          selfsigned|notyetvalid), "min"/"max" ("TLSv1", "TLSv1.2", ...),
                          "ciphers" (OpenSSL cipher string), "chunk"/"delay" (send the
                          server's handshake flights in tiny or slow segments), "buffered":
                          what to do with plaintext the client pipelined before the handshake
                          (STARTTLS injection test): "keep" (vulnerable: read it as if it had
                          come inside TLS), "discard" (safe), "close" (safe: hang up when
                          there is any); default: hand it to TLS as handshake bytes;
                          "client_cert": "required" (ask for a client certificate and end
                          TLS without one: the conversation is then over, no error).
  {"sleep": S}            wait S seconds.
  {"silent": S}           say nothing for S seconds or until the client closes.
  {"wait_eof": S}         wait up to S seconds for the client to close; with
                          "no_data": true any byte from the client is an error.
  {"close": true}         close the connection (FIN).
  {"close_notify": true}  send a TLS close_notify alert, then close.
  {"reset": true}         close with SO_LINGER 0 (RST).
  {"fin_reset": true}     a FIN at once followed by an RST.

Every step takes "timeout" (seconds, default 5). After the last step the server waits for
the client to close (it never closes first unless told to).

Listener options (case["server"]): "backlog_full": true (listen(0) and fill the backlog with
connections that are never accepted, so a new connect never completes), "connections": N
(N connections served concurrently, each running the whole script with its own captures;
log lines say which connection, as "#2").

Standalone use, for debugging a case by hand:
  fakeserver.py tests/fake/cases/imap-greeting-bye.case
prints "port N" and "ca FILE" and serves the case's script once.
"""

import base64
import json
import os
import re
import select
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings

HOST = "mail.test.example"
LISTEN_ADDR = "127.0.0.1"
DEFAULT_STEP_TIMEOUT = 5.0
DEFAULT_LIFETIME = 20.0
SLICE = 0.05  # how often blocking waits look at the stop flag


class PeerGone(Exception):
    """The client closed or reset the connection while the server was sending."""


class StepTimeout(Exception):
    pass


class Stopped(Exception):
    pass


class ScriptError(Exception):
    pass


# ---- certificates ------------------------------------------------------------------------

CERT_KINDS = ("valid", "expired", "wronghost", "selfsigned", "notyetvalid", "huge")


def _openssl(*args, cwd=None):
    proc = subprocess.run(["openssl"] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (args[0], proc.stderr.decode(errors="replace")))


def _newkey(path):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)


def generate_certs(outdir, kinds=CERT_KINDS):
    """Write ca.pem and <kind>.pem/<kind>.key for each kind into outdir (EC P-256).

    valid       CA-signed for mail.test.example (SAN), valid now
    expired     CA-signed for mail.test.example, valid 2020-01-01 .. 2021-01-01
    notyetvalid CA-signed for mail.test.example, valid from 2090
    wronghost   CA-signed for other.test.example only
    selfsigned  self-signed for mail.test.example
    huge        CA-signed for mail.test.example and 400 other names and addresses, with a
                long UTF-8 subject (RDNs with 8-bit text, many OUs)
    Returns {"ca": path, kind: (cert, key), ...}."""
    os.makedirs(outdir, exist_ok=True)
    out = {"ca": os.path.join(outdir, "ca.pem")}
    cakey = os.path.join(outdir, "ca.key")
    _newkey(cakey)
    _openssl("req", "-x509", "-new", "-key", cakey, "-out", out["ca"], "-days", "30",
             "-subj", "/CN=mailscope fake server test CA", "-sha256",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    work = os.path.join(outdir, "ca-work")
    os.makedirs(os.path.join(work, "new"), exist_ok=True)
    open(os.path.join(work, "index.txt"), "w").close()
    with open(os.path.join(work, "serial"), "w") as f:
        f.write("1000\n")
    cnf = os.path.join(work, "ca.cnf")
    with open(cnf, "w") as f:
        f.write("""[ ca ]
default_ca = fake
[ fake ]
dir = {w}
database = {w}/index.txt
new_certs_dir = {w}/new
serial = {w}/serial
certificate = {ca}
private_key = {key}
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = @alt
[ leaf_other ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.test.example
[ alt ]
DNS.1 = {host}
[ leaf_huge ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = @alt_huge
[ alt_huge ]
DNS.1 = {host}
{many}
""".format(w=work, ca=out["ca"], key=cakey, host=HOST,
           many="\n".join(["DNS.%d = x%d.%s" % (i, i, "a" * 40 + ".test.example") for i in range(2, 390)]
                          + ["IP.%d = 192.0.2.%d" % (i, i) for i in range(1, 11)])))
    spans = {
        "valid": ("-days", "30"),
        "expired": ("-startdate", "20200101000000Z", "-enddate", "20210101000000Z"),
        "notyetvalid": ("-startdate", "20900101000000Z", "-enddate", "20910101000000Z"),
        "wronghost": ("-days", "30"),
        "huge": ("-days", "30"),
    }
    for kind in kinds:
        if kind == "ca":
            continue
        cert = os.path.join(outdir, kind + ".pem")
        key = os.path.join(outdir, kind + ".key")
        _newkey(key)
        if kind == "selfsigned":
            _openssl("req", "-x509", "-new", "-key", key, "-out", cert, "-days", "30",
                     "-subj", "/CN=" + HOST, "-sha256", "-addext", "subjectAltName=DNS:" + HOST)
        elif kind in spans:
            cn = "other.test.example" if kind == "wronghost" else HOST
            csr = os.path.join(work, kind + ".csr")
            subj = "/CN=" + cn
            if kind == "huge":
                subj += ("/O=F\u00e4ke M\u00e4il \u65e5\u672c \\, \"quoted\" org"
                         + "".join("/OU=unit %d \u00fc\u00f6\u00e4 %s" % (i, "z" * 50) for i in range(12)))
            _openssl("req", "-new", "-utf8", "-key", key, "-out", csr, "-subj", subj)
            ext = {"wronghost": "leaf_other", "huge": "leaf_huge"}.get(kind, "leaf")
            _openssl("ca", "-batch", "-utf8", "-config", cnf, "-notext", "-in", csr, "-out", cert,
                     "-extensions", ext, *spans[kind])
        else:
            raise ValueError("unknown certificate kind %r" % kind)
        out[kind] = (cert, key)
    return out


def tls_versions():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return {
            "TLSv1": ssl.TLSVersion.TLSv1,
            "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2,
            "TLSv1.3": ssl.TLSVersion.TLSv1_3,
        }


def server_context(certs, opts):
    """An SSLContext for the server side of a {"tls": opts} step."""
    kind = opts.get("cert", "valid")
    if kind not in certs:
        raise ScriptError("certificate %r was not generated" % kind)
    cert, key = certs[kind]
    versions = tls_versions()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        old = opts.get("min") in ("TLSv1", "TLSv1.1") or opts.get("max") in ("TLSv1", "TLSv1.1")
        ciphers = opts.get("ciphers") or ("DEFAULT:@SECLEVEL=0" if old else None)
        if ciphers:
            ctx.set_ciphers(ciphers)
        if "min" in opts:
            ctx.minimum_version = versions[opts["min"]]
        if "max" in opts:
            ctx.maximum_version = versions[opts["max"]]
    ctx.load_cert_chain(cert, key)
    if opts.get("client_cert") == "required":
        # ask for a client certificate and refuse the handshake without one (TLS 1.3: the
        # alert certificate_required comes after the client's Finished)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(certs["ca"])
    return ctx


def can_speak(version):
    """Whether this machine's OpenSSL still negotiates `version` ("TLSv1", ...) with itself
    at @SECLEVEL=0 (Debian may build it out or forbid it by policy)."""
    tmp = tempfile.mkdtemp(prefix="msfake-probe.")
    try:
        certs = generate_certs(tmp, ["selfsigned"])
        sctx = server_context(certs, {"cert": "selfsigned", "min": version, "max": version})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            cctx.check_hostname = False
            cctx.verify_mode = ssl.CERT_NONE
            cctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            cctx.minimum_version = tls_versions()[version]
            cctx.maximum_version = tls_versions()[version]
        a, b = socket.socketpair()
        a.settimeout(5)
        b.settimeout(5)
        result = {}

        def serve():
            try:
                with sctx.wrap_socket(a, server_side=True) as s:
                    result["server"] = s.version()
            except (OSError, ssl.SSLError) as e:
                result["server_error"] = str(e)

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            with cctx.wrap_socket(b) as c:
                result["client"] = c.version()
        except (OSError, ssl.SSLError) as e:
            result["client_error"] = str(e)
        t.join(5)
        return result.get("client") == version
    except (OSError, ssl.SSLError, RuntimeError, ValueError, subprocess.SubprocessError):
        return False
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


# ---- one connection ----------------------------------------------------------------------

class Conn:
    def __init__(self, sock, server, number=1):
        self.sock = sock
        self.server = server
        self.number = number    # 1, 2, ... in the order of accept
        # captures of this conversation ({tag}, ...); the first one's are also server.vars
        self.vars = server.vars if number == 1 else {}
        self.buf = b""          # received plaintext (after TLS: decrypted) not yet consumed
        self.tls = None         # ssl.SSLObject once a "tls" step ran
        self.inbio = self.outbio = None
        self.eof = False
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # -- raw socket --
    def _wait(self, rd, deadline):
        while True:
            if self.server.stopping():
                raise Stopped()
            left = deadline - time.monotonic()
            if left <= 0:
                raise StepTimeout()
            r, w, _ = select.select([self.sock] if rd else [], [] if rd else [self.sock], [],
                                    min(SLICE, left))
            if r or w:
                return

    def recv_raw(self, deadline):
        """Some bytes from the socket, or b"" at EOF/reset."""
        while True:
            self._wait(True, deadline)
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except (ConnectionResetError, BrokenPipeError):
                return b""
            return data

    def send_raw(self, data, deadline):
        view = memoryview(data)
        while view:
            self._wait(False, deadline)
            try:
                n = self.sock.send(view)
            except (BlockingIOError, InterruptedError):
                continue
            except (ConnectionResetError, BrokenPipeError) as e:
                raise PeerGone(str(e))
            view = view[n:]

    # -- TLS over memory BIOs: the script controls every byte on the wire --
    def _flush_tls(self, deadline, cut=0, chunk=0, delay=0.0):
        data = self.outbio.read()
        if cut:
            data = data[:-cut] if cut < len(data) else b""
        if not data:
            return
        if not chunk:
            self.send_raw(data, deadline)
            return
        for i in range(0, len(data), chunk):  # a handshake flight in tiny/slow segments
            if i and delay:
                self.server.sleep(delay)
            self.send_raw(data[i:i + chunk], deadline)

    def start_tls(self, ctx, deadline, chunk=0, delay=0.0, buffered=None):
        """Server-side handshake. `buffered` says what becomes of plaintext the client sent
        after the command that started TLS and before the handshake (a pipelined command):
        None hands it to TLS (as the start of the ClientHello), "keep" reads it afterwards
        as if it had come inside TLS (the STARTTLS command-injection bug), "discard" drops
        it, "close" returns None without a handshake when there is any (the caller hangs
        up). Returns the TLS version."""
        pipelined = b""
        if buffered in ("keep", "discard", "close"):
            pipelined, self.buf = self.buf, b""
            if pipelined:
                self.server.note("pipelined before TLS (%s): %s" % (buffered, printable(pipelined)),
                                 self)
            if pipelined and buffered == "close":
                return None
        elif buffered is not None:
            raise ScriptError("tls: unknown \"buffered\" %r" % buffered)
        self.inbio, self.outbio = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inbio, self.outbio, server_side=True)
        if self.buf:  # bytes already read belong to the ClientHello
            self.inbio.write(self.buf)
            self.buf = b""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush_tls(deadline, chunk=chunk, delay=delay)
                data = self.recv_raw(deadline)
                if data:
                    self.inbio.write(data)
                else:
                    self.inbio.write_eof()
            except ssl.SSLError:
                try:
                    self._flush_tls(deadline)  # our alert
                except PeerGone:
                    pass
                raise
        self._flush_tls(deadline, chunk=chunk, delay=delay)  # the end (and TLS 1.3 tickets)
        if buffered == "keep":
            self.buf = pipelined + self.buf
        return self.tls.version()

    def close_notify(self, deadline):
        if not self.tls:
            raise ScriptError("close_notify without TLS")
        try:
            self.tls.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        self._flush_tls(deadline)

    # -- plaintext stream --
    def _fill(self, deadline):
        """Read more plaintext into self.buf; False at EOF."""
        if self.eof:
            return False
        if not self.tls:
            data = self.recv_raw(deadline)
            if not data:
                self.eof = True
                return False
            self.buf += data
            return True
        while True:
            try:
                data = self.tls.read(65536)
                if not data:
                    self.eof = True
                    return False
                self.buf += data
                return True
            except ssl.SSLWantReadError:
                self._flush_tls(deadline)
                raw = self.recv_raw(deadline)
                if raw:
                    self.inbio.write(raw)
                else:
                    self.inbio.write_eof()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self.eof = True
                return False
            except ssl.SSLError as e:
                self.server.note("TLS read error: %s" % e)
                self.eof = True
                return False

    def read_line(self, deadline):
        """One line without its line end, or None at EOF."""
        while b"\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise ScriptError("client line longer than 1 MiB")
            if not self._fill(deadline):
                return None
        line, self.buf = self.buf.split(b"\n", 1)
        return line[:-1] if line.endswith(b"\r") else line

    def read_any(self, deadline):
        if not self.buf and not self._fill(deadline):
            return None
        data, self.buf = self.buf, b""
        return data

    def send(self, data, deadline, chunk=0, delay=0.0, truncate=0, raw=False):
        pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] if chunk else [data]
        for n, piece in enumerate(pieces):
            if n and delay:
                self.server.sleep(delay)
            if self.tls and not raw:
                self.tls.write(piece)
                self._flush_tls(deadline, cut=truncate if n == len(pieces) - 1 else 0)
            else:
                self.send_raw(piece[:-truncate] if truncate else piece, deadline)

    def reset(self):
        """A pure RST: SO_LINGER 0 and close, no FIN before it."""
        if self.sock.fileno() < 0:
            return
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def fin_reset(self):
        """A FIN immediately followed by an RST: the client sees end-of-stream, and
        whatever it writes in answer (a TLS alert, LOGOUT) meets a reset socket."""
        if self.sock.fileno() < 0:
            return
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.sock.close()

    def close(self):
        if self.sock.fileno() < 0:
            return
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


# ---- the server --------------------------------------------------------------------------

VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def piece_text(piece, vars):
    """One piece of a "send": a string, or {"text": T, "repeat": N, "base64": bool}."""
    if isinstance(piece, str):
        return VAR.sub(lambda m: vars.get(m.group(1), m.group(0)), piece)
    if not isinstance(piece, dict) or "text" not in piece:
        raise ScriptError("send: a piece must be a string or {\"text\": ...}, not %r" % (piece,))
    text = VAR.sub(lambda m: vars.get(m.group(1), m.group(0)), piece["text"])
    text *= int(piece.get("repeat", 1))
    if piece.get("base64"):
        text = base64.b64encode(text.encode("latin-1")).decode("ascii")
    return text


def step_bytes(step, vars):
    if "hex" in step:
        data = bytes.fromhex(step["hex"])
    else:
        send = step["send"]
        if isinstance(send, list):
            text = "".join(piece_text(p, vars) for p in send)
        else:
            text = piece_text(send, vars)
        count = int(step.get("repeat", 1))
        if "{i}" in text and count > 1:
            text = "".join(text.replace("{i}", str(i)) for i in range(count))
        else:
            text = text * count
        data = text.encode("latin-1")
    return data


def printable(data, limit=160):
    text = data[:limit].decode("latin-1").encode("unicode_escape").decode("ascii")
    return text + ("...(%d bytes)" % len(data) if len(data) > limit else "")


class FakeServer:
    def __init__(self, spec, certs=None):
        """spec: the case's "server" object; certs: generate_certs() output."""
        self.spec = spec
        self.certs = certs or {}
        self.script = spec.get("script", [])
        self.lifetime = float(spec.get("lifetime", DEFAULT_LIFETIME))
        self.log = []
        self.errors = []
        self.vars = {}  # the first connection's captures (for tests that drive a server)
        self.steps_done = 0
        self.connections = 0
        self._conn_threads = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self._fillers = []
        self.t0 = time.monotonic()
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((LISTEN_ADDR, 0))
        self.port = self.lsock.getsockname()[1]
        if spec.get("backlog_full"):
            self.lsock.listen(0)
            self._fill_backlog()
        else:
            self.lsock.listen(8)
        self.lsock.setblocking(False)

    # -- bookkeeping --
    def note(self, text, conn=None):
        who = "#%d " % conn.number if conn is not None and self._many() else ""
        with self._lock:
            self.log.append("%7.3f %s%s" % (time.monotonic() - self.t0, who, text))

    def error(self, text, conn=None):
        self.note("ERROR " + text, conn)
        who = "connection %d: " % conn.number if conn is not None and self._many() else ""
        with self._lock:
            self.errors.append(who + text)

    def _many(self):
        return int(self.spec.get("connections", 1)) > 1

    def stopping(self):
        return self._stop.is_set() or time.monotonic() - self.t0 > self.lifetime

    def sleep(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.stopping():
                raise Stopped()
            time.sleep(min(SLICE, max(0.0, end - time.monotonic())))

    def _fill_backlog(self):
        """listen(0) accepts one queued connection on Linux; make a few and never accept:
        further SYNs are dropped, so a new connect() stays pending until it times out."""
        for _ in range(3):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect_ex((LISTEN_ADDR, self.port))
            self._fillers.append(c)
        time.sleep(0.05)
        self.note("backlog filled with %d connections" % len(self._fillers))

    def backlog_blocks(self, wait=0.3):
        """Check that a connect to the full backlog does not complete (platform sanity)."""
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(wait)
        try:
            c.connect((LISTEN_ADDR, self.port))
            return False
        except (socket.timeout, OSError):
            return True
        finally:
            c.close()

    # -- lifecycle --
    def start(self):
        self._thread = threading.Thread(target=self._run, name="fakeserver", daemon=True)
        self._thread.start()
        return self

    def stop(self, join_timeout=5.0):
        self._stop.set()
        if self._thread:
            self._thread.join(join_timeout)
            if self._thread.is_alive():
                self.error("server thread did not stop within %.1f s" % join_timeout)
        self._close_listener()

    def _close_listener(self):
        for c in self._fillers:
            c.close()
        self._fillers = []
        try:
            self.lsock.close()
        except OSError:
            pass

    def _run(self):
        try:
            if self.spec.get("backlog_full"):
                while not self.stopping():  # never accept
                    time.sleep(SLICE)
                return
            wanted = int(self.spec.get("connections", 1))
            if wanted == 1:
                sock = self._accept()
                if sock is not None:
                    self.connections = 1
                    self.note("accepted connection 1")
                    self._conversation(Conn(sock, self, 1))
                return
            # Several connections are served concurrently (a client may hold one open while
            # it opens the next, e.g. mailscope's --injection-test).
            for _ in range(wanted):
                sock = self._accept()
                if sock is None:
                    break
                self.connections += 1
                conn = Conn(sock, self, self.connections)
                self.note("accepted connection %d" % self.connections, conn)
                t = threading.Thread(target=self._conversation, args=(conn,),
                                     name="fakeserver-%d" % conn.number, daemon=True)
                self._conn_threads.append(t)
                t.start()
            for t in self._conn_threads:
                while t.is_alive():
                    t.join(SLICE)
        except Exception as e:  # a bug in the server or the case: report, never hang
            self.error("server crashed: %s: %s" % (type(e).__name__, e))
        finally:
            self._close_listener()

    def _conversation(self, conn):
        try:
            self._serve(conn)
        except Exception as e:  # a bug in the server or the case: report, never hang
            self.error("server crashed: %s: %s" % (type(e).__name__, e), conn)
        finally:
            conn.close()

    def _accept(self):
        while not self.stopping():
            r, _, _ = select.select([self.lsock], [], [], SLICE)
            if r:
                try:
                    sock, _ = self.lsock.accept()
                    return sock
                except (BlockingIOError, InterruptedError):
                    continue
        self.note("no connection came")
        return None

    def _serve(self, conn):
        if not self._run_steps(conn, self.script, ""):
            return
        # The script is over: let the client close first (never race it with our FIN).
        try:
            self._wait_eof(conn, time.monotonic() + DEFAULT_STEP_TIMEOUT, False)
        except (Stopped, StepTimeout, PeerGone):
            pass

    def _run_steps(self, conn, steps, where):
        """Run steps in order; False when the conversation is over (a step ended it, or an
        error, recorded here). `where` prefixes step numbers inside branches and loops."""
        for i, step in enumerate(steps):
            num = "%s%d" % (where, i + 1)
            deadline = time.monotonic() + float(step.get("timeout", DEFAULT_STEP_TIMEOUT))
            try:
                if not self._step(conn, step, deadline, num):
                    return False
                if not where:
                    self.steps_done = i + 1
            except Stopped:
                self.note("stopped at step %s" % num, conn)
                return False
            except PeerGone as e:
                self.note("client went away during step %s (%s): %s" % (num, describe(step), e),
                          conn)
                return False
            except StepTimeout:
                self.error("step %s (%s) timed out" % (num, describe(step)), conn)
                return False
            except ssl.SSLError as e:
                if step.get("fail_ok"):
                    self.note("step %s (%s) failed as allowed: %s" % (num, describe(step), e),
                              conn)
                    return False
                self.error("step %s (%s): TLS error: %s" % (num, describe(step), e), conn)
                return False
            except ScriptError as e:
                self.error("step %s (%s): %s" % (num, describe(step), e), conn)
                return False
        return True

    def _read_client_line(self, conn, step, deadline, what):
        """One client line as text; None when the client closed and the step allows it."""
        line = conn.read_line(deadline)
        if line is None:
            if step.get("eof_ok"):
                self.note("client closed (allowed)", conn)
                return None
            raise ScriptError("the client closed instead of sending %s" % what)
        self.note("C: %s" % printable(line), conn)
        return line.decode("latin-1")

    def _wait_eof(self, conn, deadline, no_data):
        while True:
            data = conn.read_any(deadline)
            if data is None:
                self.note("client closed", conn)
                return True
            self.note("C: %s" % printable(data), conn)
            if no_data:
                raise ScriptError("the client sent data where it must not: %s" % printable(data))

    def _step(self, conn, step, deadline, num="?"):
        """Run one step; False ends the conversation (without error)."""
        if "send" in step or "hex" in step:
            data = step_bytes(step, conn.vars)
            self.note("S: %s" % printable(data), conn)
            flood_until = time.monotonic() + float(step.get("flood", 0))
            while True:
                conn.send(data, deadline, chunk=int(step.get("chunk", 0)),
                          delay=float(step.get("delay", 0)), truncate=int(step.get("truncate", 0)),
                          raw=bool(step.get("raw")))
                if time.monotonic() >= flood_until:
                    break
        elif "expect" in step:
            text = self._read_client_line(conn, step, deadline, "/%s/" % step["expect"])
            if text is None:
                return False
            m = re.fullmatch(step["expect"], text)
            if not m:
                raise ScriptError("client line %r does not match /%s/" % (text, step["expect"]))
            conn.vars.update({k: v for k, v in m.groupdict().items() if v is not None})
        elif "branch" in step:
            alts = step["branch"]
            text = self._read_client_line(conn, step, deadline, "a line for the branch")
            if text is None:
                return False
            for k, alt in enumerate(alts):
                m = re.fullmatch(alt["expect"], text)
                if m:
                    conn.vars.update({k2: v for k2, v in m.groupdict().items() if v is not None})
                    self.note("branch %d (/%s/)" % (k + 1, alt["expect"]), conn)
                    return self._run_steps(conn, alt.get("then", []), "%s.%d." % (num, k + 1))
            raise ScriptError("client line %r matches no branch (%s)" % (
                text, ", ".join("/%s/" % a["expect"] for a in alts)))
        elif "loop" in step:
            for r in range(int(step["loop"])):
                conn.vars["i"] = str(r)
                if not self._run_steps(conn, step.get("steps", []), "%s.%d." % (num, r + 1)):
                    return False
            conn.vars.pop("i", None)
        elif "recv" in step:
            data = conn.read_any(deadline)
            if data is None:
                if step.get("eof_ok"):
                    return False
                raise ScriptError("the client closed instead of sending")
            self.note("C: %s" % printable(data, 40), conn)
        elif "tls" in step:
            opts = step["tls"]
            try:
                version = conn.start_tls(server_context(self.certs, opts), deadline,
                                         chunk=int(opts.get("chunk", 0)),
                                         delay=float(opts.get("delay", 0)),
                                         buffered=opts.get("buffered"))
            except ssl.SSLError as e:
                if not opts.get("client_cert"):
                    raise
                # required and not sent: the alert went out; the conversation is over
                self.note("TLS refused without a client certificate: %s" % e, conn)
                conn.close()
                return False
            if version is None:
                self.note("pipelined plaintext before the handshake: close", conn)
                conn.close()
                return False
            self.note("TLS up: %s" % version, conn)
        elif "sleep" in step:
            self.sleep(float(step["sleep"]))
        elif "silent" in step:
            try:
                self._wait_eof(conn, time.monotonic() + float(step["silent"]), False)
                return False  # the client closed: nothing more to say
            except StepTimeout:
                pass
        elif "wait_eof" in step:
            self._wait_eof(conn, time.monotonic() + float(step["wait_eof"]),
                           bool(step.get("no_data")))
            return False
        elif "close" in step:
            self.note("close", conn)
            conn.close()
            return False
        elif "close_notify" in step:
            self.note("close_notify", conn)
            conn.close_notify(deadline)
            conn.close()
            return False
        elif "reset" in step:
            self.note("reset", conn)
            conn.reset()
            return False
        elif "fin_reset" in step:
            self.note("FIN, then reset", conn)
            conn.fin_reset()
            return False
        else:
            raise ScriptError("unknown step %r" % step)
        return True


def describe(step):
    for key in ("send", "hex", "expect", "branch", "loop", "recv", "tls", "sleep", "silent",
                "wait_eof", "close", "close_notify", "reset", "fin_reset"):
        if key in step:
            value = step[key]
            if isinstance(value, str) and len(value) > 40:
                value = value[:40] + "..."
            return "%s %s" % (key, json.dumps(value))
    return json.dumps(step)[:60]


def all_steps(steps):
    """Every step, also those inside branches and loops."""
    for s in steps:
        yield s
        for alt in s.get("branch", []):
            yield from all_steps(alt.get("then", []))
        yield from all_steps(s.get("steps", []) if "loop" in s else [])


def cert_kinds(spec):
    kinds = {s["tls"].get("cert", "valid") for s in all_steps(spec.get("script", [])) if "tls" in s}
    return sorted(kinds)


def main(argv):
    import argparse
    import shutil
    ap = argparse.ArgumentParser(description="Serve one fake-server case (for debugging).")
    ap.add_argument("case", help="a tests/fake/cases/*.case file")
    args = ap.parse_args(argv)
    with open(args.case, encoding="utf-8") as f:
        case = json.load(f)
    tmp = tempfile.mkdtemp(prefix="msfake.")
    try:
        certs = generate_certs(tmp, cert_kinds(case["server"]))
        server = FakeServer(case["server"], certs).start()
        print("port %d" % server.port, flush=True)
        print("ca %s" % certs["ca"], flush=True)
        try:
            while server._thread.is_alive():
                server._thread.join(0.2)
        except KeyboardInterrupt:
            pass
        server.stop()
        print("\n".join(server.log))
        return 1 if server.errors else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
