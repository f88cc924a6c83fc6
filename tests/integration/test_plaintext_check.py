#!/usr/bin/env python3
"""Plaintext sign-in is confirmed before it is reported (issue 10), against the real Dovecot:

- 127.0.0.7 (disable_plaintext_auth = no): IMAP offers AUTH=PLAIN without LOGINDISABLED and
  POP3 USER/SASL PLAIN before TLS, and takes them: auth.plaintext_login_allowed stands and
  says it was confirmed (a SASL PLAIN exchange cancelled at Dovecot's "+");
- 127.0.0.11 (ssl = required, disable_plaintext_auth = no): POP3 lists USER before STLS but
  refuses it ("Plaintext authentication disallowed"): no warning, the info
  auth.plaintext_refusal_unannounced; IMAP announces LOGINDISABLED, so nothing is checked;
- 127.0.0.2 (the defaults): nothing advertised, nothing checked, no second connection;
- --no-confirm: no check, the warning says so;
- the check never carries the user's credentials, even when they are given.
"""
import base64
import re
import unittest

import mstest as ms


def endpoint(doc, proto):
    """The STARTTLS endpoint of PROTO in a bare-host report."""
    for e in doc["endpoints"]:
        if e["protocol"] == proto and e["security"] == "starttls":
            return e
    raise AssertionError("no %s STARTTLS endpoint in %s" % (proto, [e["id"] for e in doc["endpoints"]]))


def mine(doc, code, e):
    return [f for f in doc["findings"] if f["code"] == code and f["endpoint"] == e["id"]]


class PlaintextAllowed(unittest.TestCase):
    """127.0.0.7 takes a password before TLS: confirmed."""

    @classmethod
    def setUpClass(cls):
        cls.run_ = ms.probe_json(["--trace"] + ms.valid_args(ms.ADDR_PLAINTEXT))
        cls.doc = cls.run_.json

    def test_confirmed_warning_per_protocol(self):
        for proto in ("imap", "pop3"):
            with self.subTest(proto=proto):
                e = endpoint(self.doc, proto)
                pc = e["plaintext_check"]
                self.assertIsInstance(pc, dict, e["id"])
                self.assertEqual(pc["verdict"], "confirmed", pc)
                self.assertEqual(pc["method"], "sasl_cancel", pc)
                self.assertEqual(pc["status"], "+", pc)
                self.assertEqual(pc["sent"], "AUTHENTICATE PLAIN" if proto == "imap" else "AUTH PLAIN")
                f = mine(self.doc, "auth.plaintext_login_allowed", e)
                self.assertEqual(len(f), 1, self.doc["findings"])
                self.assertEqual(f[0]["severity"], "warning")
                self.assertIn("confirmed it on a separate connection", f[0]["message"])

    def test_check_is_its_own_connection_and_cancels(self):
        lines = [l for l in self.run_.stderr.splitlines() if "#plaintext-check" in l]
        self.assertTrue(lines, "the check's connection is labelled in the trace")
        sent = [l.split(" C: ", 1)[1] for l in lines if " C: " in l]
        self.assertTrue(any(re.match(r"\S+ AUTHENTICATE PLAIN$", s) for s in sent), sent)
        self.assertIn("*", sent, "the SASL exchange is cancelled at the '+'")
        self.assertIn("AUTH PLAIN", sent)

    def test_no_confirm(self):
        doc = ms.probe_json(["--no-confirm"] + ms.valid_args(ms.ADDR_PLAINTEXT)).json
        for proto in ("imap", "pop3"):
            e = endpoint(doc, proto)
            self.assertIsNone(e["plaintext_check"])
            f = mine(doc, "auth.plaintext_login_allowed", e)
            self.assertEqual(len(f), 1)
            self.assertIn("--no-confirm", f[0]["message"])


class PlaintextRefused(unittest.TestCase):
    """127.0.0.11 lists USER before STLS and refuses it: no warning, an info."""

    @classmethod
    def setUpClass(cls):
        cls.log = ms.DovecotLog()
        cls.run_ = ms.probe_json(["--trace"] + ms.valid_args(ms.ADDR_TLSREQUIRED))
        cls.doc = cls.run_.json

    def test_pop3_refused_is_not_a_warning(self):
        self.assertEqual(self.run_.rc, 0, self.run_.describe())
        e = endpoint(self.doc, "pop3")
        self.assertIn("USER", e["capabilities"]["before_tls"], "Dovecot advertises USER here")
        pc = e["plaintext_check"]
        self.assertEqual(pc["verdict"], "refused", pc)
        self.assertEqual(pc["method"], "user_random_user", pc)
        self.assertRegex(pc["sent"], r"^USER mailscope-probe-[0-9a-f]{8}$")
        self.assertEqual(pc["status"], "-ERR")
        self.assertIn("Plaintext authentication disallowed", pc["answer"])
        self.assertEqual(mine(self.doc, "auth.plaintext_login_allowed", e), [])
        info = mine(self.doc, "auth.plaintext_refusal_unannounced", e)
        self.assertEqual(len(info), 1, self.doc["findings"])
        self.assertEqual(info[0]["severity"], "info")
        self.assertIn("Plaintext authentication disallowed", info[0]["message"])

    def test_imap_announces_logindisabled_and_is_not_checked(self):
        e = endpoint(self.doc, "imap")
        self.assertIn("LOGINDISABLED", e["capabilities"]["before_tls"])
        self.assertIsNone(e["plaintext_check"])
        self.assertFalse([f for f in self.doc["findings"] if f["endpoint"] == e["id"]])

    def test_the_server_saw_a_user_that_cannot_exist(self):
        user = re.search(r"mailscope-probe-[0-9a-f]{8}", endpoint(self.doc, "pop3")["plaintext_check"]["sent"])
        self.assertTrue(user)
        # Dovecot refuses before any lookup: no auth attempt for that user reaches the passdb.
        text = self.log.wait(r"pop3-login: .*lip=%s," % re.escape(ms.ADDR_TLSREQUIRED))
        self.assertNotIn("Login: user=<%s>" % user.group(0), text)


class NothingAdvertised(unittest.TestCase):
    def test_defaults_are_not_checked(self):
        r = ms.probe_json(["--trace"] + ms.valid_args())
        for e in r.json["endpoints"]:
            self.assertIsNone(e["plaintext_check"], e["id"])
        self.assertNotIn("#plaintext-check", r.stderr, "no second connection when nothing is advertised")


class NeverTheUsersCredentials(unittest.TestCase):
    def test_check_carries_no_secret(self):
        password = "Check-Canary-4412"
        r = ms.signin(ms.ALICE, password, ["--json", "--trace"] + ms.valid_args(ms.ADDR_PLAINTEXT), json=False)
        check = "\n".join(l for l in r.stderr.splitlines() if "#plaintext-check" in l)
        self.assertTrue(check, r.describe())
        forms = [password, ms.ALICE, base64.b64encode(("\0%s\0%s" % (ms.ALICE, password)).encode()).decode()]
        for s in forms:
            self.assertNotIn(s, check, "the check's connection must not carry %r" % s)


if __name__ == "__main__":
    unittest.main(verbosity=2)
