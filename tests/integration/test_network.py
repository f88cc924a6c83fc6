#!/usr/bin/env python3
"""Endpoint selection (bare host, --ports, --protocols, URL targets), closed ports,
servers without TLS and servers that allow plaintext sign-in."""

import unittest

import mstest as ms


def url(scheme, port, host=ms.HOST):
    return "%s://%s:%d" % (scheme, host, port)


class ClosedPortURL(unittest.TestCase):
    """A URL target whose port refuses connections: tcp.refused, critical."""

    def test_refused(self):
        if not ms.port_refuses("127.0.0.1", 1):
            self.skipTest("something listens on 127.0.0.1:1")
        r = ms.probe_json(["imaps://127.0.0.1:1"])
        self.assertEqual(r.rc, 2, r.describe())
        d = r.json
        self.assertEqual(d["status"], "critical")
        self.assertEqual(len(d["endpoints"]), 1)
        e = d["endpoints"][0]
        self.assertEqual(e["id"], "imaps://127.0.0.1:1")
        self.assertEqual(e["protocol"], "imap")
        self.assertEqual(e["port"], 1)
        self.assertEqual(e["security"], "implicit")
        self.assertEqual(e["address"], "127.0.0.1")
        self.assertIs(e["completed_securely"], False)
        self.assertIsInstance(e["error"], dict, "a failed endpoint carries an error object")
        self.assertIsInstance(e["error"]["code"], str)
        self.assertTrue(e["error"]["message"])
        self.assertEqual(e["error"].get("phase"), "connect")
        self.assertIsNone(e["tls"])
        f = ms.findings(d, "tcp.refused")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertEqual(f[0]["severity"], "critical")
        self.assertEqual(f[0]["endpoint"], e["id"])
        self.assertTrue(f[0]["remedy"])


class OneClosedPortOnBareHost(unittest.TestCase):
    """Bare host whose POP3 STLS port is closed while POP3S works: info, overall ok."""

    def test_info_only(self):
        closed = ms.closed_port(ms.ADDR_VALID)
        ports = "imap=%d,imaps=%d,pop3=%d,pop3s=%d" % (ms.IMAP_PORT, ms.IMAPS_PORT, closed, ms.POP3S_PORT)
        r = ms.probe_json(["--resolve", "%s:%s" % (ms.HOST, ms.ADDR_VALID), "--ports", ports,
                           "--ca-file", ms.CA, ms.HOST])
        d = r.json
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(d["status"], "ok")
        eps = ms.endpoints_by_id(d)
        closed_id = url("pop3", closed)
        self.assertIn(closed_id, eps)
        self.assertIs(eps[closed_id]["completed_securely"], False)
        self.assertEqual(eps[closed_id]["error"].get("phase"), "connect")
        f = ms.findings(d, "tcp.refused")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertEqual(f[0]["severity"], "info")
        self.assertEqual(f[0]["endpoint"], closed_id)
        self.assertIn(str(closed), f[0]["message"])
        self.assertIn(str(ms.POP3S_PORT), f[0]["message"], "say which sibling works")
        for id_ in (url("imap", ms.IMAP_PORT), url("imaps", ms.IMAPS_PORT), url("pop3s", ms.POP3S_PORT)):
            self.assertIs(eps[id_]["completed_securely"], True, id_)

    def test_both_pop3_ports_closed_is_critical(self):
        closed = ms.closed_port(ms.ADDR_VALID)
        closed2 = ms.closed_port(ms.ADDR_VALID, closed + 1)
        ports = "imap=%d,imaps=%d,pop3=%d,pop3s=%d" % (ms.IMAP_PORT, ms.IMAPS_PORT, closed, closed2)
        r = ms.probe_json(["--resolve", "%s:%s" % (ms.HOST, ms.ADDR_VALID), "--ports", ports,
                           "--ca-file", ms.CA, ms.HOST])
        self.assertEqual(r.rc, 2, r.describe())
        self.assertEqual(r.json["status"], "critical")
        self.assertEqual(len(ms.findings(r.json, "tcp.refused")), 2)


class Protocols(unittest.TestCase):
    def check(self, proto, want):
        r = ms.probe_json(ms.valid_args(extra=("--protocols", proto)))
        self.assertEqual(r.rc, 0, r.describe())
        eps = ms.endpoints_by_id(r.json)
        self.assertEqual(sorted(eps), sorted(want))
        for e in r.json["endpoints"]:
            self.assertEqual(e["protocol"], proto)
            self.assertIs(e["completed_securely"], True)

    def test_imap_only(self):
        self.check("imap", [url("imap", ms.IMAP_PORT), url("imaps", ms.IMAPS_PORT)])

    def test_pop3_only(self):
        self.check("pop3", [url("pop3", ms.POP3_PORT), url("pop3s", ms.POP3S_PORT)])


class URLTargets(unittest.TestCase):
    def test_two_urls(self):
        targets = [url("imaps", ms.IMAPS_PORT), url("pop3", ms.POP3_PORT)]
        r = ms.probe_json(["--resolve", "%s:%s" % (ms.HOST, ms.ADDR_VALID), "--ca-file", ms.CA] + targets)
        self.assertEqual(r.rc, 0, r.describe())
        eps = ms.endpoints_by_id(r.json)
        self.assertEqual(sorted(eps), sorted(targets))
        self.assertEqual(eps[targets[0]]["security"], "implicit")
        self.assertEqual(eps[targets[1]]["security"], "starttls")
        self.assertEqual(eps[targets[1]]["protocol"], "pop3")
        for e in eps.values():
            self.assertIs(e["completed_securely"], True)

    def test_default_port(self):
        """imaps://HOST without a port means 993."""
        if not ms.port_refuses(ms.ADDR_VALID, 993):
            self.skipTest("something listens on %s:993" % ms.ADDR_VALID)
        r = ms.probe_json(["--resolve", "%s:%s" % (ms.HOST, ms.ADDR_VALID), "imaps://%s" % ms.HOST])
        self.assertEqual(r.rc, 2, r.describe())
        e = r.json["endpoints"]
        self.assertEqual(len(e), 1)
        self.assertEqual(e[0]["port"], 993)
        self.assertEqual(e[0]["id"], "imaps://%s:993" % ms.HOST)
        self.assertTrue(ms.findings(r.json, "tcp.refused"))


class NoTLS(unittest.TestCase):
    """Dovecot with ssl=no (127.0.0.8): STARTTLS/STLS not offered, never fall back."""

    @classmethod
    def setUpClass(cls):
        cls.run_ = ms.probe_json(["--resolve", "%s:%s" % (ms.HOST, ms.ADDR_NOTLS), "--ca-file", ms.CA,
                                  url("imap", ms.IMAP_PORT), url("pop3", ms.POP3_PORT)])
        cls.doc = cls.run_.json

    def test_critical(self):
        self.assertEqual(self.run_.rc, 2, self.run_.describe())
        self.assertEqual(self.doc["status"], "critical")

    def test_not_offered(self):
        f = ms.findings(self.doc, "starttls.not_offered")
        self.assertEqual({x["endpoint"] for x in f}, {url("imap", ms.IMAP_PORT), url("pop3", ms.POP3_PORT)},
                         self.doc["findings"])
        for x in f:
            self.assertEqual(x["severity"], "critical")

    def test_no_fallback(self):
        for e in self.doc["endpoints"]:
            with self.subTest(endpoint=e["id"]):
                self.assertIs(e["completed_securely"], False)
                self.assertTrue(e["capabilities"]["before_tls"])
                self.assertIsNone(e["capabilities"]["after_tls"])
                self.assertNotIn("STARTTLS", e["capabilities"]["before_tls"])
                self.assertNotIn("STLS", e["capabilities"]["before_tls"])
                self.assertTrue(e["tls"] is None or not e["tls"].get("version"))


class PlaintextAllowed(unittest.TestCase):
    """Dovecot with disable_plaintext_auth=no (127.0.0.7): password sign-in before TLS."""

    @classmethod
    def setUpClass(cls):
        cls.run_ = ms.probe_json(ms.valid_args(ms.ADDR_PLAINTEXT))
        cls.doc = cls.run_.json

    def test_finding(self):
        f = ms.findings(self.doc, "auth.plaintext_login_allowed")
        self.assertEqual({x["endpoint"] for x in f}, {url("imap", ms.IMAP_PORT), url("pop3", ms.POP3_PORT)},
                         self.doc["findings"])
        sev = {x["severity"] for x in f}
        self.assertEqual(len(sev), 1)
        sev = sev.pop()
        self.assertIn(sev, ("warning", "critical"))
        self.assertEqual(self.run_.rc, {"warning": 1, "critical": 2}[sev], self.run_.describe())
        for x in f:
            self.assertTrue(x["remedy"])

    def test_capabilities(self):
        eps = ms.endpoints_by_id(self.doc)
        imap = eps[url("imap", ms.IMAP_PORT)]["capabilities"]
        self.assertNotIn("LOGINDISABLED", imap["before_tls"])
        self.assertIn("AUTH=PLAIN", imap["before_tls"])
        pop3 = eps[url("pop3", ms.POP3_PORT)]["capabilities"]
        self.assertIn("USER", pop3["before_tls"])
        for e in eps.values():
            self.assertIs(e["tls"]["verified"], True)


if __name__ == "__main__":
    ms.main()
