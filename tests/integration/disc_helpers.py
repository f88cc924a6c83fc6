"""Helpers for the discovery tests (test_discovery*.py): the test zones of
tests/servers/dnsmasq.sh and small accessors for the report's `discovery` object.

The zones' SRV records carry the test Dovecot's ports, which dnsmasq.sh takes from
$MS_IMAP_PORT $MS_IMAPS_PORT $MS_POP3_PORT $MS_POP3S_PORT (defaults 10143 10993 10110
10995), and the test Postfix's, from $MS_SUBMISSIONS_PORT $MS_SUBMISSION_PORT (defaults
10465 10587). When the fixture's dnsmasq was started without them while the tests use other
ports (a build configured with -DMS_TEST_IMAPS_PORT=...), use_zones() starts a private
dnsmasq (same script, same zones, the right ports) on a free loopback port for the module
and stop_zones() ends it; every run then goes to that server instead.
"""

import os
import shutil
import socket
import struct
import subprocess
import tempfile

import mstest as ms

HERE = os.path.dirname(os.path.abspath(__file__))
DNSMASQ_SH = os.path.join(HERE, "..", "servers", "dnsmasq.sh")

# The certificate of 127.0.0.2 (valid.pem) covers mail.test.example; closed.test.example
# (127.0.0.9) has nothing listening; soon.test.example's certificate expires in ~5 days.
CLOSED = "closed.test.example"
ADDR_CLOSED = "127.0.0.9"
SOON = "soon.test.example"
V6ONLY = "v6only.test.example"
DUAL = "dual.test.example"
SUBMISSIONS_PORT = ms.SUBMISSIONS_PORT  # the test Postfix (tests/servers/postfix.sh)
SUBMISSION_PORT = ms.SUBMISSION_PORT
MAX_ENDPOINTS = 32  # MS_DISCOVERY_MAX_ENDPOINTS (probe/discover.h)

_state = {"dns": ms.DNS_SERVER, "dir": None}


def dns_server():
    return _state["dns"]


# ---- a minimal DNS client (standard library): is the fixture's zone the right one? -----

def _skip_name(buf, off):
    while True:
        n = buf[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def _read_name(buf, off):
    """The domain name at OFF ("." for the root), following compression pointers."""
    labels = []
    for _ in range(128):  # bounded: a pointer loop cannot hang the test
        n = buf[off]
        if n == 0:
            break
        if n & 0xC0 == 0xC0:
            off = struct.unpack(">H", buf[off:off + 2])[0] & 0x3FFF
            continue
        labels.append(buf[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels) or "."


def srv_ports(name, server=("127.0.0.1", ms.DNS_PORT), timeout=5.0):
    """The ports of NAME's SRV records as SERVER answers them (empty on any failure)."""
    return [port for port, _target in srv_records(name, server, timeout)]


def srv_records(name, server=("127.0.0.1", ms.DNS_PORT), timeout=5.0):
    """(port, target) of NAME's SRV records as SERVER answers them (empty on any failure);
    the target is "." when the record says the service is not offered."""
    qid = 0x5352
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    q += struct.pack(">HH", 33, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, server)
        r = s.recv(4096)
    except OSError:
        return []
    finally:
        s.close()
    if len(r) < 12 or struct.unpack(">H", r[:2])[0] != qid:
        return []
    qd, an = struct.unpack(">HH", r[4:8])
    off = 12
    for _ in range(qd):
        off = _skip_name(r, off) + 4
    records = []
    for _ in range(an):
        off = _skip_name(r, off)
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", r[off:off + 10])
        off += 10
        if rtype == 33:
            records.append((struct.unpack(">HHH", r[off:off + 6])[2], _read_name(r, off + 6)))
        off += rdlen
    return records


def _free_port():
    """A port free for both UDP and TCP on 127.0.0.1 (good enough for a test)."""
    for _ in range(20):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port on 127.0.0.1")


def _zones_match(server):
    """Do SERVER's discovery zones carry this run's Dovecot and Postfix ports?"""
    return (ms.IMAPS_PORT in srv_ports("_imaps._tcp.srv.test.example", server)
            and ms.SUBMISSION_PORT in srv_ports("_submission._tcp.srv.test.example", server))


def use_zones():
    """Call from setUpModule: make sure the discovery zones carry this run's ports."""
    if _zones_match(("127.0.0.1", ms.DNS_PORT)):
        _state["dns"] = ms.DNS_SERVER
        return
    d = tempfile.mkdtemp(prefix="dnsmasq-discovery.", dir=ms.TESTENV if os.path.isdir(ms.TESTENV) else None)
    port = _free_port()
    env = dict(os.environ, MS_IMAP_PORT=str(ms.IMAP_PORT), MS_IMAPS_PORT=str(ms.IMAPS_PORT),
               MS_POP3_PORT=str(ms.POP3_PORT), MS_POP3S_PORT=str(ms.POP3S_PORT),
               MS_SUBMISSION_PORT=str(ms.SUBMISSION_PORT),
               MS_SUBMISSIONS_PORT=str(ms.SUBMISSIONS_PORT))
    env.pop("MS_DNSMASQ_EXTRA", None)
    subprocess.run(["bash", DNSMASQ_SH, "start", d, str(port)], env=env, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=60)
    _state["dir"] = d
    _state["dns"] = "127.0.0.1:%d" % port
    if not _zones_match(("127.0.0.1", port)):
        stop_zones()
        raise RuntimeError("the private dnsmasq does not serve the discovery zones")


def stop_zones():
    """Call from tearDownModule: stop the private dnsmasq, if use_zones() started one."""
    d = _state["dir"]
    if d:
        subprocess.run(["bash", DNSMASQ_SH, "stop", d], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, timeout=60)
        shutil.rmtree(d, ignore_errors=True)
        _state["dir"] = None
        _state["dns"] = ms.DNS_SERVER


# ---- running mailscope ------------------------------------------------------------------

def run(args, **kw):
    """mailscope ARGS with --dns-server (the zones' server) and --ca-file; returns ms.Run."""
    return ms.run(["--dns-server", dns_server(), "--ca-file", ms.CA] + list(args), dns=False, **kw)


def disc_json(args, **kw):
    """mailscope --json ARGS (with --dns-server and --ca-file), validated against the schema."""
    r = run(["--json"] + list(args), **kw)
    ms.validate(r.json, r)
    return r


def guessed(args):
    """ARGS with --ports: guessed hosts (MX, conventional names) use the standard ports, the
    test Dovecot's for receiving and the test Postfix's for sending."""
    return ["--ports", ms.PORTS_ALL] + list(args)


# ---- reading the `discovery` object -------------------------------------------------------

def queries(doc, qtype=None):
    return [q for q in doc["discovery"]["queries"] if qtype is None or q["type"] == qtype]


def query(doc, name, qtype):
    found = [q for q in doc["discovery"]["queries"] if q["name"] == name and q["type"] == qtype]
    if len(found) != 1:
        raise AssertionError("expected one %s query for %s, found %d: %s" % (
            qtype, name, len(found), [(q["type"], q["name"]) for q in doc["discovery"]["queries"]]))
    return found[0]


def candidates(doc, host=None, source=None):
    return [c for c in doc["discovery"]["candidates"]
            if (host is None or c["host"] == host) and (source is None or c["source"] == source)]


def candidate_key(c):
    return (c["host"].lower(), c["port"], c["protocol"], c["security"])


def endpoint_id(protocol, security, host, port):
    scheme = {("imap", "implicit"): "imaps", ("imap", "starttls"): "imap",
              ("pop3", "implicit"): "pop3s", ("pop3", "starttls"): "pop3",
              ("submission", "implicit"): "submissions",
              ("submission", "starttls"): "submission"}[(protocol, security)]
    return "%s://%s:%d" % (scheme, host, port)


def setting(host, port, security, protocol):
    return {"host": host, "port": port, "security": security,
            "endpoint": endpoint_id(protocol, security, host, port)}


def recommended(imap=None, pop3=None, submission=None, preferred=None, user_name=None):
    """The report's `recommended` object: one setting (or None) per protocol."""
    return {"imap": imap, "pop3": pop3, "submission": submission, "preferred": preferred,
            "user_name": user_name}


def use_these_settings(text):
    """The lines of the text report's closing "Use these settings" block (without its title)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "Use these settings":
            out = []
            for rest in lines[i + 1:]:
                if not rest.strip():
                    break
                out.append(rest)
            return out
    raise AssertionError("no 'Use these settings' block in the text report:\n" + text[-3000:])
