#!/usr/bin/env python3
"""A bare host with a valid, CA-signed certificate: the four standard endpoints of the
test Dovecot (127.0.0.2), checked field by field."""

import datetime
import os
import re
import unittest

import mstest as ms


class ValidHost(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.run_ = ms.probe_json(ms.valid_args())
        cls.doc = cls.run_.json
        cls.eps = ms.endpoints_by_id(cls.doc)
        cls.cert_file = os.path.join(ms.CERTS, "valid.pem")

    def ep(self, id_):
        self.assertIn(id_, self.eps, "endpoint %s missing; have %s" % (id_, sorted(self.eps)))
        return self.eps[id_]

    def test_exit_code_and_status(self):
        self.assertEqual(self.run_.rc, 0, self.run_.describe())
        self.assertEqual(self.doc["status"], "ok")

    def test_top_level(self):
        d = self.doc
        self.assertIsInstance(d["mailscope"], dict)
        self.assertIsInstance(d["mailscope"]["version"], str)
        if ms.VERSION:
            self.assertEqual(d["mailscope"]["version"], ms.VERSION)
        self.assertIn("schema_version", d)
        self.assertIn(ms.HOST, str(d["target"]))
        self.assertTrue(ms.normnum(d["duration_ms"]) and d["duration_ms"] >= 0)
        self.assertIsInstance(d["findings"], list)
        self.assertIsInstance(d.get("verdicts"), list, "top-level 'verdicts' list missing")
        self.assertTrue(self.doc["verdicts"], "no verdicts")

    def test_no_bad_findings(self):
        bad = [f for f in self.doc["findings"] if f["severity"] != "info"]
        self.assertEqual(bad, [], "unexpected findings on a healthy server")
        self.assertEqual(ms.findings(self.doc, "auth.plaintext_login_allowed"), [])

    def test_four_endpoints(self):
        want = ms.standard_endpoints()
        self.assertEqual(sorted(self.eps), sorted(want))
        self.assertEqual(len(self.doc["endpoints"]), 4)
        for id_, (proto, port, security) in want.items():
            e = self.ep(id_)
            with self.subTest(endpoint=id_):
                self.assertEqual(e["protocol"], proto)
                self.assertEqual(e["port"], port)
                self.assertEqual(e["security"], security)
                self.assertEqual(e["host"], ms.HOST)
                self.assertEqual(e["address"], ms.ADDR_VALID)
                self.assertEqual(e["status"], "ok")
                self.assertIs(e["completed_securely"], True)
                self.assertIsNone(e["error"])

    def test_timings(self):
        for id_, e in self.eps.items():
            with self.subTest(endpoint=id_):
                t = e["timings_ms"]
                for k in ("resolve", "connect", "tls", "greeting", "total"):
                    self.assertIn(k, t)
                    self.assertTrue(t[k] is None or (ms.normnum(t[k]) and t[k] >= 0), "%s=%r" % (k, t[k]))
                self.assertTrue(ms.normnum(t["total"]) and t["total"] > 0)
                for k in ("connect", "tls", "greeting"):
                    self.assertTrue(ms.normnum(t[k]), "%s should be measured: %r" % (k, t[k]))
                    self.assertLessEqual(t[k], t["total"] + 1)
                self.assertLessEqual(e["timings_ms"]["total"], self.doc["duration_ms"] + 1)

    def test_greetings(self):
        for id_, e in self.eps.items():
            with self.subTest(endpoint=id_):
                self.assertIsInstance(e["greeting"], str)
                self.assertIn("Dovecot", e["greeting"])
                self.assertIn("ready", e["greeting"])

    def test_tls(self):
        for id_, e in self.eps.items():
            with self.subTest(endpoint=id_):
                t = e["tls"]
                self.assertIsInstance(t, dict)
                self.assertEqual(t["version"], "TLSv1.3")
                self.assertIsInstance(t["cipher"], str)
                self.assertRegex(t["cipher"], r"^TLS_(AES|CHACHA20)")
                self.assertIs(t["verified"], True)
                self.assertIsNone(t["verify_error"])

    def test_certificate(self):
        nb, na = ms.openssl_dates(self.cert_file)
        fp = ms.openssl_fingerprint(self.cert_file)
        self.assertEqual(fp, ms.fingerprint(self.cert_file))
        for id_, e in self.eps.items():
            with self.subTest(endpoint=id_):
                c = e["tls"]["certificate"]
                self.assertIsInstance(c, dict)
                self.assertIn("mail.test.example", c["subject"])
                self.assertIn("mailscope Test CA", c["issuer"])
                self.assertNotIn("mailscope Test CA", c["subject"])
                self.assertIsInstance(c["san"], list)
                san = " ".join(c["san"])
                self.assertTrue(any(s.endswith("mail.test.example") for s in c["san"]), c["san"])
                self.assertIn("localhost", san)
                self.assertIn("127.0.0.2", san)
                self.assertEqual(ms.parse_time(c["not_before"]), nb)
                self.assertEqual(ms.parse_time(c["not_after"]), na)
                expect_days = (na - datetime.datetime.now(datetime.timezone.utc)).days
                self.assertTrue(abs(c["days_left"] - expect_days) <= 1,
                                "days_left %r, expected about %d" % (c["days_left"], expect_days))
                self.assertGreater(c["days_left"], 700)
                self.assertIs(c["hostname_match"], True)
                self.assertIs(c["self_signed"], False)
                self.assertEqual(c["key_type"], "EC")
                self.assertEqual(c["key_bits"], 256)
                self.assertRegex(c["signature_algorithm"].lower(), r"ecdsa.*sha256|sha256.*ecdsa")
                self.assertEqual(c["sha256_fingerprint"].replace(":", "").lower(), fp)

    def caps_check(self, id_, protocol, port, security):
        e = self.ep(id_)
        before, after = ms.oracle_caps(ms.ADDR_VALID, port, protocol, security)
        caps = e["capabilities"]
        # "as the server sent them": the same strings Python's own client reads
        if protocol == "pop3":
            norm = lambda l: None if l is None else [" ".join(x.split()) for x in l]
        else:
            norm = lambda l: l
        self.assertEqual(norm(caps["before_tls"]), norm(before))
        self.assertEqual(norm(caps["after_tls"]), norm(after))
        return caps

    def test_imap_starttls_capabilities(self):
        caps = self.caps_check("imap://%s:%d" % (ms.HOST, ms.IMAP_PORT), "imap", ms.IMAP_PORT, "starttls")
        self.assertIn("IMAP4rev1", caps["before_tls"])
        self.assertIn("STARTTLS", caps["before_tls"])
        self.assertIn("LOGINDISABLED", caps["before_tls"])
        self.assertFalse([c for c in caps["before_tls"] if c.upper().startswith("AUTH=")])
        self.assertIn("AUTH=PLAIN", caps["after_tls"])
        self.assertIn("AUTH=LOGIN", caps["after_tls"])
        self.assertNotIn("LOGINDISABLED", caps["after_tls"])
        self.assertNotIn("STARTTLS", caps["after_tls"])

    def test_imaps_capabilities(self):
        caps = self.caps_check("imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT), "imap", ms.IMAPS_PORT, "implicit")
        self.assertIsNone(caps["before_tls"])
        self.assertIn("AUTH=PLAIN", caps["after_tls"])
        self.assertNotIn("STARTTLS", caps["after_tls"])

    def test_pop3_stls_capabilities(self):
        caps = self.caps_check("pop3://%s:%d" % (ms.HOST, ms.POP3_PORT), "pop3", ms.POP3_PORT, "starttls")
        self.assertIn("STLS", caps["before_tls"])
        self.assertIn("UIDL", caps["before_tls"])
        self.assertIn("TOP", caps["before_tls"])
        self.assertNotIn("USER", caps["before_tls"])
        self.assertFalse([c for c in caps["before_tls"] if re.match(r"SASL\s+\S", c)],
                         "no SASL mechanism may be offered before STLS")
        self.assertIn("USER", caps["after_tls"])
        self.assertIn("SASL PLAIN LOGIN", caps["after_tls"])
        self.assertNotIn("STLS", caps["after_tls"])

    def test_pop3s_capabilities(self):
        caps = self.caps_check("pop3s://%s:%d" % (ms.HOST, ms.POP3S_PORT), "pop3", ms.POP3S_PORT, "implicit")
        self.assertIsNone(caps["before_tls"])
        self.assertIn("USER", caps["after_tls"])
        self.assertIn("SASL PLAIN LOGIN", caps["after_tls"])

    def test_parallel(self):
        """The wall time of a four-endpoint probe is close to the slowest endpoint, not the sum.

        duration_ms also covers fixed start-up work (loading trust stores, ...), which a
        one-endpoint run of the same server measures; it is taken off before comparing.
        (test_cli.Timeouts.test_endpoints_run_in_parallel checks the same with slow endpoints.)"""
        totals = [e["timings_ms"]["total"] for e in self.doc["endpoints"]]
        dur = self.doc["duration_ms"]
        self.assertGreaterEqual(dur + 1, max(totals), "the run cannot be shorter than its slowest endpoint")
        one = ms.probe_json(ms.valid_args(extra=("--protocols", "imap"))[:-1] +
                            ["imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT)]).json
        overhead = max(0.0, one["duration_ms"] - one["endpoints"][0]["timings_ms"]["total"])
        print("\nparallelism: duration_ms=%s for 4 endpoints with totals %s (sum %.1f, max %.1f); "
              "fixed overhead of a 1-endpoint run %.1f ms"
              % (dur, totals, sum(totals), max(totals), overhead))
        if sum(totals) < 40:
            self.skipTest("endpoint times too small to judge parallelism (sum %s ms)" % sum(totals))
        self.assertLess(dur - overhead, 0.9 * sum(totals))

if __name__ == "__main__":
    ms.main()
