#!/usr/bin/env python3
"""Name resolution through the test dnsmasq (--dns-server 127.0.0.1:PORT): a name that
resolves, one that does not exist, one without an address."""

import unittest

import mstest as ms


class Resolves(unittest.TestCase):
    def test_mail_host_via_dns(self):
        r = ms.probe_json(["--ports", ms.PORTS, "--ca-file", ms.CA, ms.HOST])
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(r.json["status"], "ok")
        self.assertEqual(len(r.json["endpoints"]), 4)
        for e in r.json["endpoints"]:
            with self.subTest(endpoint=e["id"]):
                self.assertEqual(e["address"], ms.ADDR_VALID)
                self.assertIs(e["completed_securely"], True)
                t = e["timings_ms"]["resolve"]
                self.assertTrue(ms.normnum(t) and t >= 0, "resolve time %r" % (t,))

    def test_ipv4_only(self):
        r = ms.probe_json(["-4", "--ports", ms.PORTS, "--ca-file", ms.CA, "--protocols", "imap", ms.HOST])
        self.assertEqual(r.rc, 0, r.describe())
        for e in r.json["endpoints"]:
            self.assertEqual(e["address"], ms.ADDR_VALID)

    def test_other_name_same_server(self):
        """expired.test.example -> 127.0.0.3, whose certificate names it but has expired."""
        r = ms.probe_json(["--ports", ms.PORTS, "--ca-file", ms.CA, "--protocols", "imap",
                           "expired.test.example"])
        self.assertEqual(r.rc, 2, r.describe())
        for e in r.json["endpoints"]:
            self.assertEqual(e["address"], ms.ADDR_EXPIRED)
            self.assertEqual(e["host"], "expired.test.example")
        self.assertTrue(ms.findings(r.json, "tls.cert_expired"))
        self.assertFalse(ms.findings(r.json, "tls.cert_hostname_mismatch"))


class NoSuchHost(unittest.TestCase):
    def test_nxdomain(self):
        host = "nosuch.test.example"
        r = ms.probe_json(["--ports", ms.PORTS, host])
        self.assertEqual(r.rc, 2, r.describe())
        d = r.json
        self.assertEqual(d["status"], "critical")
        f = ms.findings(d, "dns.no_such_host")
        self.assertTrue(f, d["findings"])
        for x in f:
            self.assertEqual(x["severity"], "critical")
            self.assertIn(host, x["message"])
            self.assertTrue(x["remedy"])
        for e in d["endpoints"]:
            self.assertIs(e["completed_securely"], False)
            self.assertIsNotNone(e["error"])
            self.assertEqual(e["error"].get("phase"), "resolve")
            self.assertIsNone(e["tls"])
        others = [c for c in ms.codes(d) if not c.startswith("dns.")]
        self.assertEqual(others, [], "nothing beyond DNS can be said about a host that does not exist")


class NoAddress(unittest.TestCase):
    def test_txt_only(self):
        host = "noaddr.test.example"
        r = ms.probe_json(["--ports", ms.PORTS, host])
        self.assertEqual(r.rc, 2, r.describe())
        d = r.json
        self.assertEqual(d["status"], "critical")
        f = ms.findings(d, "dns.no_address")
        self.assertTrue(f, d["findings"])
        for x in f:
            self.assertEqual(x["severity"], "critical")
        self.assertFalse(ms.findings(d, "dns.no_such_host"))


if __name__ == "__main__":
    ms.main()
