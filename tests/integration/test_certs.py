#!/usr/bin/env python3
"""Certificate findings against real Dovecot endpoints that present an expired, a
wrong-host, a self-signed, an untrusted and a soon-expiring certificate."""

import os
import unittest

import mstest as ms


class CertCase(unittest.TestCase):
    ADDR = None
    CA = True
    EXTRA = ()
    doc = None

    @classmethod
    def setUpClass(cls):
        cls.run_ = ms.probe_json(ms.valid_args(cls.ADDR, ca=cls.CA, extra=cls.EXTRA))
        cls.doc = cls.run_.json
        cls.eps = ms.endpoints_by_id(cls.doc)

    def assert_finding_everywhere(self, code, severity):
        """CODE with SEVERITY is reported for each of the four endpoints."""
        got = ms.findings(self.doc, code)
        self.assertTrue(got, "no %s finding; codes: %s\n%s" % (code, ms.codes(self.doc), self.run_.describe()))
        for f in got:
            self.assertEqual(f["severity"], severity, f)
            self.assertIsInstance(f["message"], str)
            self.assertTrue(f["message"].strip())
            self.assertIsInstance(f["remedy"], str)
            self.assertTrue(f["remedy"].strip(), "a %s finding needs a remedy" % code)
        flagged = {f["endpoint"] for f in got}
        self.assertEqual(flagged, set(ms.standard_endpoints()),
                         "%s should name each endpoint (or be per endpoint)" % code)

    def assert_tls_facts_recorded(self):
        """A failed verification still records the facts and goes on to read capabilities."""
        for id_, e in self.eps.items():
            with self.subTest(endpoint=id_):
                t = e["tls"]
                self.assertIsInstance(t, dict)
                self.assertIn(t["version"], ("TLSv1.3", "TLSv1.2"))
                self.assertIsInstance(t["certificate"], dict)
                self.assertIn("sha256_fingerprint", t["certificate"])
                after = e["capabilities"]["after_tls"]
                self.assertTrue(after, "capabilities after TLS should still be read")
        f = self.cert_fingerprint()
        for e in self.eps.values():
            self.assertEqual(e["tls"]["certificate"]["sha256_fingerprint"].replace(":", "").lower(), f)

    def cert_fingerprint(self):
        return ms.openssl_fingerprint(os.path.join(ms.CERTS, self.CERT + ".pem"))

    def assert_not_secure(self):
        """Verification failed on every endpoint, each is critical, and no protocol counts
        as available. (completed_securely is a fact: TLS came up and capabilities were read
        over it; it says nothing about the certificate.)"""
        for id_, e in self.eps.items():
            with self.subTest(endpoint=id_):
                self.assertIs(e["tls"]["verified"], False)
                self.assertIsInstance(e["tls"]["verify_error"], str)
                self.assertTrue(e["tls"]["verify_error"])
                self.assertEqual(e["status"], "critical")
        for v in self.doc["verdicts"]:
            if isinstance(v, dict) and "available" in v:
                self.assertIs(v["available"], False, v)

    def assert_critical(self):
        self.assertEqual(self.run_.rc, 2, self.run_.describe())
        self.assertEqual(self.doc["status"], "critical")


class Expired(CertCase):
    ADDR = ms.ADDR_EXPIRED
    CERT = "expired"

    def test_exit_critical(self):
        self.assert_critical()

    def test_finding(self):
        self.assert_finding_everywhere("tls.cert_expired", "critical")
        self.assertEqual(ms.findings(self.doc, "tls.cert_hostname_mismatch"), [])

    def test_facts(self):
        self.assert_not_secure()
        self.assert_tls_facts_recorded()
        for e in self.eps.values():
            c = e["tls"]["certificate"]
            self.assertLess(c["days_left"], 0)
            self.assertEqual(ms.parse_time(c["not_after"]).year, 2021)
            self.assertIs(c["hostname_match"], True)
            self.assertIs(c["self_signed"], False)


class WrongHost(CertCase):
    ADDR = ms.ADDR_WRONGHOST
    CERT = "wronghost"

    def test_exit_critical(self):
        self.assert_critical()

    def test_finding(self):
        self.assert_finding_everywhere("tls.cert_hostname_mismatch", "critical")
        self.assertEqual(ms.findings(self.doc, "tls.cert_expired"), [])
        self.assertEqual(ms.findings(self.doc, "tls.cert_untrusted"), [])

    def test_facts(self):
        self.assert_not_secure()
        self.assert_tls_facts_recorded()
        for e in self.eps.values():
            c = e["tls"]["certificate"]
            self.assertIs(c["hostname_match"], False)
            self.assertIn("other.test.example", c["subject"])
            self.assertIn("other.test.example", " ".join(c["san"]))
            self.assertNotIn("mail.test.example", " ".join(c["san"]))


class SelfSigned(CertCase):
    ADDR = ms.ADDR_SELFSIGNED
    CERT = "selfsigned"
    CA = False

    def test_exit_critical(self):
        self.assert_critical()

    def test_finding(self):
        self.assert_finding_everywhere("tls.cert_untrusted", "critical")
        self.assertEqual(ms.findings(self.doc, "tls.cert_hostname_mismatch"), [])
        self.assertEqual(ms.findings(self.doc, "tls.cert_expired"), [])

    def test_facts(self):
        self.assert_not_secure()
        self.assert_tls_facts_recorded()
        for e in self.eps.values():
            c = e["tls"]["certificate"]
            self.assertIs(c["self_signed"], True)
            self.assertEqual(c["subject"], c["issuer"])
            self.assertIs(c["hostname_match"], True)


class SelfSignedWithOtherCA(SelfSigned):
    """--ca-file with the test CA does not make a self-signed certificate trusted."""
    CA = True


class ValidWithoutCA(CertCase):
    """The valid certificate, but its CA is not a trust anchor (no --ca-file)."""
    ADDR = ms.ADDR_VALID
    CERT = "valid"
    CA = False

    def test_exit_critical(self):
        self.assert_critical()

    def test_finding(self):
        self.assert_finding_everywhere("tls.cert_untrusted", "critical")
        self.assertEqual(ms.findings(self.doc, "tls.cert_hostname_mismatch"), [])

    def test_facts(self):
        self.assert_not_secure()
        self.assert_tls_facts_recorded()
        for e in self.eps.values():
            c = e["tls"]["certificate"]
            self.assertIs(c["self_signed"], False)
            self.assertIs(c["hostname_match"], True)
            self.assertIn("mailscope Test CA", c["issuer"])


class ExpiresSoon(CertCase):
    ADDR = ms.ADDR_SOON
    CERT = "soon"

    def test_exit_warning(self):
        self.assertEqual(self.run_.rc, 1, self.run_.describe())
        self.assertEqual(self.doc["status"], "warning")

    def test_finding(self):
        self.assert_finding_everywhere("tls.cert_expires_soon", "warning")
        self.assertEqual([f for f in self.doc["findings"] if f["severity"] == "critical"], [])

    def test_facts(self):
        self.assert_tls_facts_recorded()
        for id_, e in self.eps.items():
            with self.subTest(endpoint=id_):
                self.assertIs(e["tls"]["verified"], True)
                self.assertIs(e["completed_securely"], True)
                self.assertEqual(e["status"], "warning")
                self.assertIn(e["tls"]["certificate"]["days_left"], (4, 5))


class ExpiresSoonBelowThreshold(CertCase):
    """--cert-warn-days 2: a certificate with 4-5 days left is fine."""
    ADDR = ms.ADDR_SOON
    CERT = "soon"
    EXTRA = ("--cert-warn-days", "2")

    def test_ok(self):
        self.assertEqual(self.run_.rc, 0, self.run_.describe())
        self.assertEqual(self.doc["status"], "ok")
        self.assertEqual(ms.findings(self.doc, "tls.cert_expires_soon"), [])


class ValidAboveThreshold(CertCase):
    """--cert-warn-days larger than the valid certificate's lifetime warns about it too."""
    ADDR = ms.ADDR_VALID
    CERT = "valid"
    EXTRA = ("--cert-warn-days", "3650")

    def test_warning(self):
        self.assertEqual(self.run_.rc, 1, self.run_.describe())
        self.assert_finding_everywhere("tls.cert_expires_soon", "warning")


class SystemTrustStore(unittest.TestCase):
    """Without --ca-file, the system store decides: a hashed directory (SSL_CERT_DIR, read
    lazily) or a bundle file (SSL_CERT_FILE) holding the test CA verifies the chain; a store
    without it does not."""

    def probe(self, env):
        args = ["--resolve", "%s:%s" % (ms.HOST, ms.ADDR_VALID), "--ports", ms.PORTS,
                "--protocols", "imap", ms.HOST]
        r = ms.probe_json(args, env=env)
        return r, [e["tls"]["verified"] for e in r.json["endpoints"]]

    def hashed_dir(self, tmp):
        import subprocess
        h = subprocess.run(["openssl", "x509", "-noout", "-subject_hash", "-in", ms.CA],
                           capture_output=True, text=True, check=True).stdout.strip()
        os.symlink(ms.CA, os.path.join(tmp, h + ".0"))

    def test_hashed_directory(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            self.hashed_dir(tmp)
            for file_env in ("/nonexistent", None):
                with self.subTest(SSL_CERT_FILE=file_env):
                    r, verified = self.probe({"SSL_CERT_DIR": tmp, "SSL_CERT_FILE": file_env})
                    self.assertEqual(verified, [True, True], r.describe())
                    self.assertEqual(r.rc, 0, r.describe())

    def test_bundle_file(self):
        import tempfile
        with tempfile.TemporaryDirectory() as empty:
            r, verified = self.probe({"SSL_CERT_FILE": ms.CA, "SSL_CERT_DIR": empty})
            self.assertEqual(verified, [True, True], r.describe())

    def test_store_without_the_ca(self):
        import tempfile
        with tempfile.TemporaryDirectory() as empty:
            r, verified = self.probe({"SSL_CERT_FILE": "/nonexistent", "SSL_CERT_DIR": empty})
            self.assertEqual(verified, [False, False], r.describe())
            self.assertEqual(r.rc, 2, r.describe())
            self.assertTrue(ms.findings(r.json, "tls.cert_untrusted") or
                            [f for f in r.json["findings"] if f["code"].startswith("tls.")],
                            r.json["findings"])


del CertCase  # not a test by itself

if __name__ == "__main__":
    ms.main()
