#!/usr/bin/env python3
"""--tls-audit and the address pool (issue 15) against real servers: stunnel in front of the
test Dovecot (tests/servers/stunnel.sh: a legacy endpoint, a chain without and with its
intermediate, an SNI-dependent pair), a pool name in the test dnsmasq with a closed member
and one with another certificate, TLSA records from dnsmasq, testssl.sh as a peer on the
legacy endpoint, and local servers that reset, hang or alert on a TLS 1.0 ClientHello."""
# fixtures: ms_stunnel

import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import mstest as ms

LEGACY_PORT = int(os.environ.get("MS_LEGACY_PORT", "10990"))
CHAIN_PORT = int(os.environ.get("MS_CHAIN_PORT", "10991"))
CHAIN_FULL_PORT = int(os.environ.get("MS_CHAIN_FULL_PORT", "10992"))
SNI_PORT = int(os.environ.get("MS_SNI_PORT", "10996"))
VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]


def audit(port, extra=(), host=ms.HOST, addr="127.0.0.1"):
    r = ms.probe_json(["--tls-audit", "--resolve", "%s:%s" % (host, addr), "--ca-file", ms.CA]
                      + list(extra) + ["imaps://%s:%d" % (host, port)])
    ep = r.json["endpoints"][0]
    return r, ep, ep["tls_audit"]


class Legacy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r, cls.ep, cls.a = audit(LEGACY_PORT)

    def test_versions(self):
        got = {v: self.a["versions"][v]["outcome"] for v in VERSIONS}
        self.assertEqual(got, {v: "accepted" for v in VERSIONS}, self.r.describe())
        for v in VERSIONS:
            self.assertEqual(self.a["versions"][v]["version"], v)
        self.assertIn(self.a["versions"]["SSLv3"]["outcome"], ("untestable", "refused"))

    def test_outdated_named(self):
        f = ms.findings(self.r.json, "tls.protocol_outdated")
        self.assertEqual(len(f), 1, ms.codes(self.r.json))
        self.assertIn("TLS 1.0, TLS 1.1", f[0]["message"])

    def test_weak_classes(self):
        w = self.a["weak_ciphers"]
        for cls_ in ("null", "anon", "static_rsa", "cbc_tls1.0"):
            self.assertEqual(w[cls_]["outcome"], "accepted", (cls_, w[cls_]))
        self.assertIn("NULL", w["null"]["cipher"])
        self.assertIn("ADH", w["anon"]["cipher"])
        self.assertEqual(w["static_rsa"]["group"], "RSA")
        for cls_ in ("export", "des", "rc4"):  # Debian's OpenSSL has none to offer
            self.assertIn(w[cls_]["outcome"], ("untestable", "refused"))
        f = ms.findings(self.r.json, "tls.weak_cipher")
        self.assertEqual(len(f), 1)
        self.assertEqual(f[0]["severity"], "critical")  # NULL and anonymous
        self.assertIn("ECDHE-RSA-NULL-SHA", f[0]["message"])

    def test_one_handshake_per_class(self):
        # versions (4, SSLv3 untestable), 3 testable weak classes, 5 groups, order, DHE, SNI, best
        self.assertLessEqual(self.a["handshakes"], 18)

    def test_dh_and_groups(self):
        self.assertEqual(self.a["dhe"]["outcome"], "accepted")
        self.assertEqual(self.a["dhe"]["key_bits"], 1024)
        self.assertTrue(ms.findings(self.r.json, "tls.dh_weak"))
        for g in ("X25519", "P-256", "P-384"):
            self.assertEqual(self.a["groups"][g]["outcome"], "accepted", g)
            self.assertEqual(self.a["groups"][g]["group"], g)

    def test_dane_mismatch_unvalidated(self):
        d = self.a["dane"]
        self.assertEqual(d["name"], "_%d._tcp.%s" % (LEGACY_PORT, ms.HOST))
        self.assertEqual(d["status"], "ok", d)
        self.assertFalse(d["validated"])  # dnsmasq does not sign
        self.assertFalse(d["matched"])
        f = ms.findings(self.r.json, "tls.dane_mismatch")
        self.assertEqual([x["severity"] for x in f], ["warning"])
        self.assertTrue(ms.findings(self.r.json, "tls.dane_unvalidated"))

    def test_text_matrix(self):
        t = ms.run(["--tls-audit", "--resolve", "%s:127.0.0.1" % ms.HOST, "--ca-file", ms.CA,
                    "imaps://%s:%d" % (ms.HOST, LEGACY_PORT)])
        self.assertIn("TLS audit", t.stdout)
        self.assertIn("TLS1.0 yes", t.stdout)
        self.assertIn("NULL yes", t.stdout)

    def test_mail_programs(self):
        c = {x["name"]: x for x in self.r.json["clients"]}
        self.assertEqual(c["Outlook Express"]["can_connect"], "yes")  # TLS 1.0 is accepted
        self.assertEqual(c["Mozilla Thunderbird"]["use"]["port"], LEGACY_PORT)
        for x in c.values():
            self.assertTrue(x["source"].startswith("https://"), x)
        one = ms.probe_json(["--tls-audit", "--client", "mozilla thunderbird", "--resolve",
                             "%s:127.0.0.1" % ms.HOST, "--ca-file", ms.CA,
                             "imaps://%s:%d" % (ms.HOST, LEGACY_PORT)])
        self.assertEqual([x["name"] for x in one.json["clients"]], ["Mozilla Thunderbird"])

    @unittest.skipUnless(shutil.which("testssl"), "testssl.sh (Debian testssl.sh) not installed")
    @unittest.skipIf(os.environ.get("MS_SANITIZED") == "ON",
                     "the cross-check with testssl.sh (~80 s) runs in the normal build: it checks "
                     "the versions found, which the sanitizers do not change")
    def test_versions_equal_testssl(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "t.json")
            subprocess.run(["testssl", "--quiet", "--color", "0", "--warnings", "off", "-p",
                            "--jsonfile", out, "127.0.0.1:%d" % LEGACY_PORT],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
            with open(out) as f:
                doc = json.load(f)
        ids = {"SSLv3": "SSLv3", "TLS1": "TLSv1", "TLS1_1": "TLSv1.1", "TLS1_2": "TLSv1.2",
               "TLS1_3": "TLSv1.3"}
        theirs = {ids[x["id"]]: not x["finding"].startswith("not offered")
                  for x in doc if x.get("id") in ids}
        ours = {v: p["outcome"] == "accepted" for v, p in self.a["versions"].items()
                if p["outcome"] in ("accepted", "refused", "reset")}
        self.assertTrue(ours)
        for v, accepted in ours.items():
            self.assertEqual(accepted, theirs[v], (v, theirs))


class Chain(unittest.TestCase):
    def test_intermediate_not_sent(self):
        r, ep, a = audit(CHAIN_PORT)
        ch = a["chain"]
        self.assertEqual(ch["sent"], 1)
        self.assertTrue(ch["issuer_missing"])
        self.assertIn("mailscope Test Intermediate CA", ch["missing_issuer"])
        f = ms.findings(r.json, "tls.chain_incomplete")
        self.assertEqual(len(f), 1, ms.codes(r.json))
        self.assertIn("mailscope Test Intermediate CA", f[0]["message"])
        self.assertIn("fullchain.pem", f[0]["remedy"])

    def test_control_sends_it(self):
        r, ep, a = audit(CHAIN_FULL_PORT)
        ch = a["chain"]
        self.assertEqual(ch["sent"], 2)
        self.assertFalse(ch["issuer_missing"])
        self.assertFalse(ch["wrong_order"])
        self.assertTrue(ch["verified"])
        self.assertFalse(ms.findings(r.json, "tls.chain_incomplete"))
        self.assertFalse(ms.findings(r.json, "tls.chain_wrong_order"))
        # DANE: the TLSA record for this port names the leaf's key
        d = a["dane"]
        self.assertEqual(d["status"], "ok", d)
        self.assertTrue(d["matched"], d)
        self.assertFalse(ms.findings(r.json, "tls.dane_mismatch"))

    def test_unknown_root_is_not_incomplete(self):
        # without --ca-file the intermediate's root is unknown and the leaf names its issuer
        # by AIA: still told apart as an omitted intermediate; the complete chain is not
        r = ms.probe_json(["--tls-audit", "--resolve", "%s:127.0.0.1" % ms.HOST,
                           "imaps://%s:%d" % (ms.HOST, CHAIN_FULL_PORT)])
        self.assertFalse(ms.findings(r.json, "tls.chain_incomplete"), ms.codes(r.json))
        self.assertTrue(ms.findings(r.json, "tls.cert_untrusted"))


class Sni(unittest.TestCase):
    def test_other_certificate_without_sni(self):
        r, ep, a = audit(SNI_PORT)
        self.assertTrue(ep["tls"]["verified"])
        self.assertFalse(a["sni"]["same_certificate"])
        self.assertFalse(a["sni"]["hostname_match"])
        self.assertIn("other.test.example", a["sni"]["subject"])
        f = ms.findings(r.json, "tls.sni_required")
        self.assertEqual([x["severity"] for x in f], ["warning"])
        c = {x["name"]: x for x in r.json["clients"]}
        self.assertEqual(c["Outlook Express"]["can_connect"], "no")
        self.assertIn("TLS 1.0", c["Outlook Express"]["reason"])
        self.assertEqual(c["Windows Mail"]["can_connect"], "unknown")  # TLS 1.2 not known
        self.assertEqual(c["Mozilla Thunderbird"]["can_connect"], "yes")

    def test_same_certificate(self):
        r, ep, a = audit(CHAIN_FULL_PORT)
        self.assertTrue(a["sni"]["same_certificate"])
        self.assertFalse(ms.findings(r.json, "tls.sni_required"))


class Pool(unittest.TestCase):
    def test_members(self):
        r = ms.probe_json(["--ca-file", ms.CA, "imaps://pool.test.example:%d" % ms.IMAPS_PORT])
        ep = r.json["endpoints"][0]
        p = ep["pool"]
        self.assertEqual(p["address_count"], 3)
        self.assertFalse(p["capped"])
        by = {m["address"]: m for m in p["addresses"]}
        self.assertEqual(set(by), {"127.0.0.2", "127.0.0.3", "127.0.0.9"})
        self.assertEqual(by["127.0.0.9"]["status"], "failed")
        self.assertEqual(by["127.0.0.9"]["error"]["code"], "tcp.refused")
        self.assertEqual(by["127.0.0.3"]["status"], "ok")
        self.assertNotEqual(by["127.0.0.3"]["cert_fingerprint"], by["127.0.0.2"]["cert_fingerprint"])
        self.assertEqual(by["127.0.0.3"]["capability_digest"], by["127.0.0.2"]["capability_digest"])
        self.assertEqual(sum(m["main"] for m in p["addresses"]), 1)
        down = ms.findings(r.json, "tcp.pool_member_down")
        self.assertEqual(len(down), 1, ms.codes(r.json))
        self.assertIn("1 of 3 addresses", down[0]["message"])
        self.assertIn("127.0.0.9", down[0]["message"])
        inc = ms.findings(r.json, "tls.pool_inconsistent")
        self.assertEqual(len(inc), 1)
        self.assertIn("127.0.0.3", inc[0]["message"])

    def test_sign_in_stays_on_one_address(self):
        r = ms.signin(ms.ALICE, ms.ALICE_PASSWORD,
                      ["--ca-file", ms.CA, "--allow-insecure-auth",
                       "imaps://pool.test.example:%d" % ms.IMAPS_PORT])
        ep = r.json["endpoints"][0]
        if ep["address"] != "127.0.0.2":
            self.skipTest("the main session reached %s" % ep["address"])
        self.assertTrue(ep["auth"]["ok"], ep["auth"])
        self.assertEqual(len(ep["pool"]["addresses"]), 3)  # the others were probed, unsigned

    def test_single_address_has_no_pool(self):
        r = ms.probe_json(ms.valid_args(extra=["--protocols", "imap"]))
        for ep in r.json["endpoints"]:
            self.assertIsNone(ep["pool"])


# ---- servers that misbehave on a TLS 1.0 ClientHello --------------------------------

def is_tls10_only(hello):
    """A ClientHello offering TLS 1.0 at most: version 0x0301 and no supported_versions."""
    if len(hello) < 11 or hello[0] != 0x16 or hello[5] != 0x01:
        return False
    return hello[9:11] == b"\x03\x01" and b"\x00\x2b" not in hello[43:]


class OddServer(threading.Thread):
    """Implicit TLS on 127.0.0.1: TLS 1.0-only ClientHellos get MODE ('reset', 'hang',
    'alert'); the others a normal handshake and an IMAP greeting."""

    def __init__(self, mode):
        super().__init__(daemon=True)
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(ms.CERTS, "valid.pem"), os.path.join(ms.CERTS, "valid.key"))
        self.stop = False
        self.held = []

    def run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            c.settimeout(10)
            hello = c.recv(4096, socket.MSG_PEEK)
            if is_tls10_only(hello):
                if self.mode == "reset":
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    c.close()
                elif self.mode == "hang":
                    self.held.append(c)
                else:  # protocol_version alert (70), fatal
                    c.recv(4096)
                    c.sendall(b"\x15\x03\x01\x00\x02\x02\x46")
                    c.close()
                return
            s = self.ctx.wrap_socket(c, server_side=True)
            s.sendall(b"* OK [CAPABILITY IMAP4rev1] ready\r\n")
            s.settimeout(5)
            try:
                while s.recv(1024):
                    s.sendall(b"* BYE\r\nM1 OK bye\r\n")
            except OSError:
                pass
            s.close()
        except OSError:
            pass

    def close(self):
        self.stop = True
        self.sock.close()
        for c in self.held:
            c.close()


class OddServers(unittest.TestCase):
    def run_mode(self, mode, extra=()):
        srv = OddServer(mode)
        srv.start()
        try:
            t0 = time.monotonic()
            r, ep, a = audit(srv.port, extra=extra)
            return r, ep, a, time.monotonic() - t0
        finally:
            srv.close()

    def test_reset(self):
        r, ep, a, _ = self.run_mode("reset")
        self.assertEqual(ep["status"], "ok")
        self.assertEqual(a["versions"]["TLSv1"]["outcome"], "reset", a["versions"]["TLSv1"])
        self.assertEqual(a["versions"]["TLSv1.2"]["outcome"], "accepted")
        self.assertFalse(ms.findings(r.json, "tls.protocol_outdated"))

    def test_alert(self):
        r, ep, a, _ = self.run_mode("alert")
        v = a["versions"]["TLSv1"]
        self.assertEqual(v["outcome"], "refused", v)
        self.assertEqual(v["alert"], "protocol version")

    def test_hang_bounded_by_deadline(self):
        r, ep, a, took = self.run_mode("hang", extra=["--timeout", "20", "--deadline", "3"])
        self.assertEqual(a["versions"]["TLSv1"]["outcome"], "timeout")
        self.assertEqual(ep["tls"]["version"], "TLSv1.3")  # the main result is intact
        self.assertLess(took, 20)  # no hang: the deadline (3 s) ended it, with a wide margin


if __name__ == "__main__":
    unittest.main(verbosity=2)
