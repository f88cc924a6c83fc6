#!/usr/bin/env python3
"""DANE end to end (issue 15): mailscope --tls-audit asks a real validating resolver for the
TLSA records of the test Dovecot's endpoints. tests/servers/dnssec.sh serves a
DNSSEC-signed zone from NSD behind Unbound, which holds the zone's key as its trust anchor:

  match.dane.test.example     TLSA 3 1 1 of the test certificate's key   (validated)
  mismatch.dane.test.example  TLSA 3 1 1 of another certificate's key    (validated)
  bogus.dane.test.example     TLSA with broken signatures: Unbound answers SERVFAIL
  notlsa.dane.test.example    no TLSA records                            (validated NXDOMAIN)
  insecure.dane.test.example  an unsigned child zone: TLSA found, not validated

Every host is 127.0.0.2 (the test Dovecot with valid.pem, which names *.dane.test.example);
each run probes an implicit-TLS endpoint (IMAPS) and a STARTTLS one (POP3), whose TLSA
names are _PORT._tcp.HOST."""
# fixtures: ms_dnssec

import hashlib
import os
import random
import socket
import struct
import subprocess
import unittest

import mstest as ms

DNSSEC_PORT = int(os.environ.get("MS_DNSSEC_PORT", "10055"))
RESOLVER = "127.0.0.1:%d" % DNSSEC_PORT
ZONE = "dane.test.example"
SERVFAIL_MESSAGE = "TLSA lookup failed (SERVFAIL: DNSSEC validation may have failed)"
DANE_CODES = ("tls.dane_mismatch", "tls.dane_unvalidated", "tls.dane_lookup_failed")


def spki_sha256(pem):
    """Hex SHA-256 of the certificate's SubjectPublicKeyInfo (what TLSA 3 1 1 holds),
    computed by openssl, not by mailscope."""
    pub = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def ask(name, qtype, cd=False):
    """One question to the test resolver (EDNS with DO, AD set; CD when asked): returns
    (rcode, AD bit, answer count)."""
    qid = random.randrange(65536)
    flags = 0x0120 | (0x0010 if cd else 0)  # RD, AD (+ CD)
    q = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 1)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    q += struct.pack(">HH", qtype, 1)
    q += b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000, 0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(q, ("127.0.0.1", DNSSEC_PORT))
        r = s.recv(4096)
    assert r[:2] == q[:2], "answer to another question"
    return r[3] & 0x0F, bool(r[3] & 0x20), struct.unpack(">H", r[6:8])[0]


def tlsa_name(host, port):
    return "_%d._tcp.%s" % (port, host)


def audit(host, extra=()):
    """mailscope --tls-audit on HOST's IMAPS and POP3 (STARTTLS) endpoints, asking only the
    validating resolver; the report is validated against the schema."""
    args = ["--dns-server", RESOLVER, "--tls-audit", "--ca-file", ms.CA] + list(extra) + [
        "imaps://%s:%d" % (host, ms.IMAPS_PORT), "pop3://%s:%d" % (host, ms.POP3_PORT)]
    if "--format" in extra:
        return ms.run(args, dns=False)
    r = ms.probe_json(args, dns=False)
    eps = r.json["endpoints"]
    if len(eps) != 2:
        raise AssertionError("expected 2 endpoints:\n" + r.describe())
    return r, eps


class Resolver(unittest.TestCase):
    """The fixture is what the tests below rely on: Unbound validates the zone, refuses the
    broken signatures, and the records are really there."""

    def test_validates(self):
        self.assertEqual(ask("match." + ZONE, 1), (0, True, 2))  # the A record and its RRSIG
        rcode, ad, n = ask(tlsa_name("match." + ZONE, ms.IMAPS_PORT), 52)
        self.assertEqual((rcode, ad), (0, True))
        self.assertGreaterEqual(n, 1)

    def test_bogus_is_servfail(self):
        self.assertEqual(ask(tlsa_name("bogus." + ZONE, ms.IMAPS_PORT), 52)[:2], (2, False))
        # with checking disabled the records come through: only the signatures are broken
        rcode, ad, n = ask(tlsa_name("bogus." + ZONE, ms.IMAPS_PORT), 52, cd=True)
        self.assertEqual((rcode, ad), (0, False))
        self.assertGreaterEqual(n, 1)
        # the host's address is signed correctly
        self.assertEqual(ask("bogus." + ZONE, 1)[:2], (0, True))

    def test_insecure_not_validated(self):
        rcode, ad, n = ask(tlsa_name("insecure." + ZONE, ms.IMAPS_PORT), 52)
        self.assertEqual((rcode, ad), (0, False))
        self.assertGreaterEqual(n, 1)


class Match(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host = "match." + ZONE
        cls.r, cls.eps = audit(cls.host)

    def test_matched_and_validated(self):
        want = spki_sha256(os.path.join(ms.CERTS, "valid.pem"))
        for ep in self.eps:
            d = ep["tls_audit"]["dane"]
            self.assertEqual(d["name"], tlsa_name(self.host, ep["port"]), d)
            self.assertEqual(d["status"], "ok", d)
            self.assertIsNone(d["message"], d)
            self.assertTrue(d["validated"], d)
            self.assertTrue(d["matched"], d)
            self.assertEqual(d["records"], [{"usage": 3, "selector": 1, "matching_type": 1,
                                             "data": want, "matched": True}])

    def test_no_dane_finding(self):
        for code in DANE_CODES:
            self.assertEqual(ms.findings(self.r.json, code), [], ms.codes(self.r.json))
        # the certificate names *.dane.test.example: nothing else is wrong either
        self.assertEqual(self.r.rc, 0, self.r.describe())
        self.assertEqual([f for f in self.r.json["findings"] if f["severity"] != "info"], [])

    def test_text(self):
        t = audit(self.host, ["--format", "text"])
        self.assertIn("1 TLSA record at %s, DNSSEC-validated, match"
                      % tlsa_name(self.host, ms.IMAPS_PORT), t.stdout)


class Mismatch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host = "mismatch." + ZONE
        cls.r, cls.eps = audit(cls.host)

    def test_not_matched_validated(self):
        stale = spki_sha256(os.path.join(ms.CERTS, "wronghost.pem"))
        for ep in self.eps:
            d = ep["tls_audit"]["dane"]
            self.assertEqual(d["status"], "ok", d)
            self.assertTrue(d["validated"], d)
            self.assertFalse(d["matched"], d)
            self.assertEqual([(x["data"], x["matched"]) for x in d["records"]], [(stale, False)])

    def test_critical(self):
        f = ms.findings(self.r.json, "tls.dane_mismatch")
        self.assertEqual(sorted(x["endpoint"] for x in f), sorted(ep["id"] for ep in self.eps))
        for x in f:
            self.assertEqual(x["severity"], "critical", x)
            self.assertIn("DNSSEC-validated", x["message"])
            self.assertIn("._tcp.%s" % self.host, x["message"])
        self.assertEqual(ms.findings(self.r.json, "tls.dane_unvalidated"), [])
        self.assertEqual(self.r.rc, 2, self.r.describe())


class Insecure(unittest.TestCase):
    """TLSA records in a zone that is provably not signed: a DANE client ignores them, so
    they match but protect nobody (info), and nothing is critical."""

    @classmethod
    def setUpClass(cls):
        cls.host = "insecure." + ZONE
        cls.r, cls.eps = audit(cls.host)

    def test_found_not_validated(self):
        for ep in self.eps:
            d = ep["tls_audit"]["dane"]
            self.assertEqual(d["status"], "ok", d)
            self.assertFalse(d["validated"], d)
            self.assertTrue(d["matched"], d)

    def test_info(self):
        f = ms.findings(self.r.json, "tls.dane_unvalidated")
        self.assertEqual(sorted(x["endpoint"] for x in f), sorted(ep["id"] for ep in self.eps))
        self.assertEqual({x["severity"] for x in f}, {"info"})
        self.assertEqual(ms.findings(self.r.json, "tls.dane_mismatch"), [])
        self.assertEqual(ms.findings(self.r.json, "tls.dane_lookup_failed"), [])
        self.assertEqual(self.r.rc, 0, self.r.describe())


class Bogus(unittest.TestCase):
    """A validating resolver answers SERVFAIL for records whose signatures are broken: the
    report says the lookup failed, never that there are no TLSA records."""

    @classmethod
    def setUpClass(cls):
        cls.host = "bogus." + ZONE
        cls.r, cls.eps = audit(cls.host)

    def test_servfail(self):
        for ep in self.eps:
            # the server itself works: the endpoint is a warning for the lookup alone
            self.assertIsNone(ep["error"], ep["error"])
            self.assertTrue(ep["tls"]["verified"], ep["tls"])
            self.assertEqual(ep["status"], "warning")
            d = ep["tls_audit"]["dane"]
            self.assertEqual(d["name"], tlsa_name(self.host, ep["port"]))
            self.assertEqual(d["status"], "servfail", d)
            self.assertEqual(d["message"], SERVFAIL_MESSAGE)
            self.assertFalse(d["validated"], d)
            self.assertEqual(d["records"], [])
            self.assertIsNone(d["matched"])

    def test_warning(self):
        f = ms.findings(self.r.json, "tls.dane_lookup_failed")
        self.assertEqual(sorted(x["endpoint"] for x in f), sorted(ep["id"] for ep in self.eps))
        for x in f:
            self.assertEqual(x["severity"], "warning", x)
            self.assertIn("SERVFAIL", x["message"])
            self.assertIn(tlsa_name(self.host, ms.IMAPS_PORT) if "imaps" in x["endpoint"]
                          else tlsa_name(self.host, ms.POP3_PORT), x["message"])
        self.assertEqual(self.r.rc, 1, self.r.describe())

    def test_text_says_failed(self):
        t = audit(self.host, ["--format", "text"])
        self.assertIn("%s: %s" % (SERVFAIL_MESSAGE, tlsa_name(self.host, ms.IMAPS_PORT)), t.stdout)
        self.assertNotIn("no TLSA records", t.stdout)


class NoTlsa(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host = "notlsa." + ZONE
        cls.r, cls.eps = audit(cls.host)

    def test_validated_absence(self):
        for ep in self.eps:
            d = ep["tls_audit"]["dane"]
            self.assertEqual(d["status"], "nxdomain", d)
            self.assertTrue(d["validated"], d)
            self.assertEqual(d["records"], [])
            self.assertIsNone(d["matched"])
        for code in DANE_CODES:
            self.assertEqual(ms.findings(self.r.json, code), [])
        self.assertEqual(self.r.rc, 0, self.r.describe())

    def test_text(self):
        t = audit(self.host, ["--format", "text"])
        self.assertIn("no TLSA records at %s (nxdomain, DNSSEC-validated)"
                      % tlsa_name(self.host, ms.IMAPS_PORT), t.stdout)


if __name__ == "__main__":
    ms.main()
