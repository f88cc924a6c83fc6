#!/usr/bin/env python3
"""Sign-in and the account-feature summary (issue 4) against the test Dovecot.

# fixtures: ms_postfix

The accounts and alice's mailbox are described in tests/servers/dovecot.sh and mirrored in
mstest.py (ALICE_*, DENY_*_TEXT). Every expected value here is either what dovecot.sh
configured or what Python's own IMAP/POP3 client reads from the same server (the
"oracle"), never what mailscope happened to print.

Tests marked "depends on: ..." (mstest.pending) need a part of issue 4 that was not built
when they were written; they run anyway and their failure message says what they wait for.

Traffic stays on loopback: every run gets --dns-server (the test dnsmasq) and --resolve.
"""

import re
import unittest

import mstest as ms

JSON_AUTH = "JSON endpoint 'auth' object (issue 4)"
JSON_ACCOUNT = "JSON endpoint 'account' object and capabilities.after_login (issue 4)"
JSON_SUMMARY = "JSON top-level 'summary' (features + schedule) (issue 4)"
FINDINGS = "auth.* findings from the sign-in result (issue 4)"
TEXT_SUMMARY = "text report opening with the summary and schedule (issue 4)"

IMAPS_ID = "imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT)
IMAP_ID = "imap://%s:%d" % (ms.HOST, ms.IMAP_PORT)
POP3S_ID = "pop3s://%s:%d" % (ms.HOST, ms.POP3S_PORT)
POP3_ID = "pop3://%s:%d" % (ms.HOST, ms.POP3_PORT)

# client commands that carry or announce credentials
CRED_COMMAND = re.compile(r"^(?:\S+ (?:LOGIN|AUTHENTICATE)\b|AUTH\b|USER\b|PASS\b|APOP\b)", re.I)
# a plain answer word, or a value (anything else, non-empty)
NOT_APPLICABLE = ("no", "n/a")


def json_run(user, password, args, **kw):
    return ms.signin(user, password, ["--json"] + list(args), json=False, **kw)


def ep(doc, id_):
    eps = ms.endpoints_by_id(doc)
    if id_ not in eps:
        raise AssertionError("endpoint %s missing; have %s" % (id_, sorted(eps)))
    return eps[id_]


def auth(doc, id_):
    e = ep(doc, id_)
    if "auth" not in e:
        raise AssertionError("endpoint %s has no 'auth' key (keys: %s)" % (id_, sorted(e)))
    return e["auth"]


def account(doc, id_):
    e = ep(doc, id_)
    if "account" not in e:
        raise AssertionError("endpoint %s has no 'account' key (keys: %s)" % (id_, sorted(e)))
    return e["account"]


def url(proto, port, host=ms.HOST):
    return "%s://%s:%d" % (proto, host, port)


def cred_commands(run_, endpoint=None):
    """Sign-in commands of the sessions that may carry the user's credentials: the plaintext
    check (its own connection, "#plaintext-check") sends a cancelled exchange or a random
    user instead, and test_plaintext_check.py checks it never carries the user's."""
    return [(e, c) for e, c in ms.trace_commands(run_.stderr)
            if CRED_COMMAND.match(c) and (endpoint is None or e == endpoint)
            and not e.endswith("#plaintext-check")]


class Common:
    """Assertions shared by the classes below."""

    def assertSignedIn(self, doc, id_, mechanisms=("PLAIN", "LOGIN")):
        a = auth(doc, id_)
        self.assertIsInstance(a, dict, "auth of %s" % id_)
        self.assertIs(a["chosen"], True, a)
        self.assertIs(a["attempted"], True, a)
        self.assertIs(a["ok"], True, a)
        self.assertIsNone(a["code"], a)
        self.assertIsNone(a["not_attempted_reason"], a)
        self.assertIn(a["mechanism"], mechanisms, a)
        self.assertIsInstance(a["server_response"], str)
        self.assertIn("Logged in", a["server_response"])
        self.assertIsInstance(account(doc, id_), dict, "account of %s must be read after sign-in" % id_)
        return a

    def assertNotSignedIn(self, doc, id_):
        a = auth(doc, id_)
        self.assertIsInstance(a, dict, "credentials were given: auth of %s must be an object" % id_)
        self.assertIs(a["attempted"], False, a)
        self.assertIsNot(a["ok"], True, a)
        self.assertIsNone(account(doc, id_), "no account facts without a sign-in on %s" % id_)
        return a

    def assertExitMatchesStatus(self, run_):
        self.assertEqual(run_.rc, ms.exit_for_status(run_.json), run_.describe())

    def assertNoCredentialsSent(self, run_, user, log, addr, sessions):
        """Neither the transcript nor the Dovecot log shows USER attempting a sign-in. The log
        is read once Dovecot has logged SESSIONS connections without sign-in on ADDR."""
        self.assertEqual(cred_commands(run_), [], "credentials (or a sign-in command) were sent:\n"
                         + run_.stderr[-3000:])
        text = log.wait(r"no auth attempts.*lip=%s," % re.escape(addr), count=sessions)
        self.assertNotIn("<%s>" % user, text, "the Dovecot log shows a sign-in attempt for %s:\n%s"
                         % (user, text[-3000:]))
        self.assertNotIn("(%s," % user, text, "the Dovecot auth process saw %s:\n%s" % (user, text[-3000:]))


# ---- a good password: everything the account offers ------------------------------------

class GoodPassword(Common, unittest.TestCase):
    """alice signs in on the healthy bare host 127.0.0.2 (four endpoints)."""

    @classmethod
    def setUpClass(cls):
        cls.imap_oracle = ms.imap_oracle(flags=False)
        cls.pop3_oracle = ms.pop3_oracle()
        cls.run_ = json_run(ms.ALICE, ms.ALICE_PASSWORD, ms.valid_args())
        cls.doc = cls.run_.json

    def test_exit_ok(self):
        self.assertEqual(self.run_.rc, 0, self.run_.describe())
        self.assertEqual(self.doc["status"], "ok")
        bad = [f for f in self.doc["findings"] if f["severity"] != "info"]
        self.assertEqual(bad, [])
        self.assertEqual([f for f in self.doc["findings"] if f["code"].startswith("auth.")], [])

    def test_schema(self):
        ms.validate(self.doc, self.run_)

    @ms.pending(JSON_AUTH)
    def test_one_endpoint_per_protocol(self):
        """Sign-in on the best endpoint of each protocol only: implicit TLS."""
        self.assertEqual([e["id"] for e in ms.chosen_endpoints(self.doc, "imap")], [IMAPS_ID])
        self.assertEqual([e["id"] for e in ms.chosen_endpoints(self.doc, "pop3")], [POP3S_ID])

    @ms.pending(JSON_AUTH)
    def test_chosen_auth(self):
        for id_ in (IMAPS_ID, POP3S_ID):
            with self.subTest(endpoint=id_):
                a = self.assertSignedIn(self.doc, id_)
                # Dovecot offers AUTH=PLAIN AUTH=LOGIN / SASL PLAIN LOGIN after TLS
                self.assertEqual(sorted(a["mechanisms"]), ["LOGIN", "PLAIN"], a)
                self.assertIn(a["mechanism"], a["mechanisms"])

    @ms.pending(JSON_AUTH)
    def test_other_endpoints_not_signed_in(self):
        for id_ in (IMAP_ID, POP3_ID):
            with self.subTest(endpoint=id_):
                a = self.assertNotSignedIn(self.doc, id_)
                self.assertIs(a["chosen"], False, a)
                self.assertIsNone(ep(self.doc, id_)["capabilities"].get("after_login"))

    @ms.pending(JSON_ACCOUNT)
    def test_capabilities_after_login(self):
        imap = ep(self.doc, IMAPS_ID)["capabilities"]["after_login"]
        self.assertEqual(imap, self.imap_oracle["capabilities"])
        for c in ("IDLE", "NAMESPACE", "SPECIAL-USE", "QUOTA", "LIST-EXTENDED"):
            self.assertIn(c, imap)
        pop3 = ep(self.doc, POP3S_ID)["capabilities"]["after_login"]
        self.assertEqual([" ".join(c.split()) for c in pop3], self.pop3_oracle["capabilities"])
        self.assertIn("UIDL", pop3)
        self.assertIn("TOP", pop3)

    @ms.pending(JSON_ACCOUNT)
    def test_imap_folders(self):
        acc = account(self.doc, IMAPS_ID)
        self.assertIs(acc["folders_truncated"], False)
        got = {f["name"]: sorted(f["special_use"]) for f in acc["folders"]}
        names = set(got)
        self.assertTrue(set(ms.ALICE_FOLDERS) <= names, "missing folders: %s" % (set(ms.ALICE_FOLDERS) - names))
        self.assertTrue(names <= set(ms.ALICE_FOLDERS) | ms.ALICE_OPTIONAL_FOLDERS,
                        "unexpected folders: %s" % (names - set(ms.ALICE_FOLDERS) - ms.ALICE_OPTIONAL_FOLDERS))
        self.assertEqual(len(acc["folders"]), len(names), "a folder is listed twice")
        for name, uses in ms.ALICE_FOLDERS.items():
            self.assertEqual([u.lower() for u in got[name]], [u.lower() for u in uses], name)
        # and what dovecot.sh configured is what the server says
        for name in ms.ALICE_FOLDERS:
            self.assertEqual(self.imap_oracle["folders"][name], ms.ALICE_FOLDERS[name])

    @ms.pending(JSON_ACCOUNT)
    def test_imap_namespaces(self):
        ns = account(self.doc, IMAPS_ID)["namespaces"]
        self.assertEqual(self.imap_oracle["namespaces"], ms.ALICE_NAMESPACES)
        for group, prefixes in ms.ALICE_NAMESPACES.items():
            self.assertEqual([ms.prefix_of(n) for n in ns[group]], prefixes, group)

    @ms.pending(JSON_ACCOUNT)
    def test_imap_inbox(self):
        inbox = account(self.doc, IMAPS_ID)["inbox"]
        self.assertEqual(self.imap_oracle["inbox"], (ms.ALICE_INBOX_MESSAGES, ms.ALICE_INBOX_UNSEEN))
        self.assertEqual(inbox, {"messages": ms.ALICE_INBOX_MESSAGES, "unseen": ms.ALICE_INBOX_UNSEEN})

    @ms.pending(JSON_ACCOUNT)
    def test_imap_quota(self):
        q = account(self.doc, IMAPS_ID)["quota"]
        used, limit = self.imap_oracle["quota"]
        self.assertEqual(limit, ms.QUOTA_LIMIT_KB)
        self.assertGreater(used, 0)
        self.assertEqual(q["storage_limit_kb"], ms.QUOTA_LIMIT_KB)
        self.assertEqual(q["storage_used_kb"], used)
        self.assertIsNone(account(self.doc, IMAPS_ID)["pop3"], "an IMAP endpoint has no POP3 facts")

    @ms.pending(JSON_ACCOUNT)
    def test_pop3_account(self):
        acc = account(self.doc, POP3S_ID)
        p = acc["pop3"]
        self.assertIsInstance(p, dict)
        self.assertEqual(p["messages"], ms.ALICE_INBOX_MESSAGES)
        self.assertEqual(p["messages"], self.pop3_oracle["messages"])
        self.assertEqual(p["octets"], self.pop3_oracle["octets"])
        self.assertIsNone(p["expire_days"], "Dovecot 2.3 never says EXPIRE")
        self.assertIsNone(p["login_delay_seconds"], "Dovecot 2.3 never says LOGIN-DELAY")
        self.assertIs(p["uidl"], True)
        self.assertIs(p["top"], True)
        self.assertIsNone(acc.get("quota"), "POP3 has no quota command")

    @ms.pending(JSON_SUMMARY)
    def test_summary_shape(self):
        s = self.doc["summary"]
        ids = [f["id"] for f in s["features"]]
        self.assertEqual(sorted(ids), sorted(ms.FEATURE_IDS))
        for f in s["features"]:
            with self.subTest(feature=f["id"]):
                for proto in ("imap", "pop3"):
                    o = ms.answer_object(self.doc, f["id"], proto)
                    self.assertIsInstance(o["text"], str, f)
                    self.assertNotEqual(o["text"].strip(), "", f)
                    self.assertIsInstance(o["value"], (str, int, type(None)), f)
                self.assertIsInstance(f["evidence"], str)
                self.assertTrue(f["evidence"].strip(), f)
        self.assertIsInstance(s["schedule"], str)
        self.assertTrue(s["schedule"].strip())

    @ms.pending(JSON_SUMMARY)
    def test_summary_answers(self):
        d = self.doc
        a = lambda id_, p: ms.answer(d, id_, p)
        ev = lambda id_: ms.feature(d, id_)["evidence"]
        # Is IMAP/POP3 enabled for this account? Both sign-ins worked.
        self.assertEqual(a("protocol_enabled", "imap"), "yes")
        self.assertEqual(a("protocol_enabled", "pop3"), "yes")
        # Can mail stay on the server? IMAP yes; POP3 UIDL and no EXPIRE 0
        self.assertEqual(a("leave_mail_on_server", "imap"), "yes")
        self.assertEqual(a("leave_mail_on_server", "pop3"), "yes")
        self.assertIn("UIDL", ev("leave_mail_on_server"))
        # Several server folders? IMAP LIST: yes, with the count of folders as a number
        self.assertEqual(a("server_folders", "imap"), "yes")
        folders = ms.answer_object(d, "server_folders", "imap")
        n = len(account(d, IMAPS_ID)["folders"])
        self.assertEqual(folders["value"], n, "the count of folders")
        self.assertEqual(folders["unit"], "folders")
        self.assertRegex(folders["text"], r"\b%d\b" % n)
        self.assertIn(a("server_folders", "pop3"), NOT_APPLICABLE)
        # Sent items on the server? the \Sent mailbox
        self.assertEqual(a("sent_items_on_server", "imap"), "yes")
        self.assertIn("Sent", ev("sent_items_on_server"))
        self.assertIn(a("sent_items_on_server", "pop3"), NOT_APPLICABLE)
        # Shared/public folders? NAMESPACE has a shared namespace "Public/"
        self.assertEqual(a("shared_folders", "imap"), "yes")
        self.assertIn("Public", ev("shared_folders"))
        self.assertIn(a("shared_folders", "pop3"), NOT_APPLICABLE)
        # Headers only first? IMAP yes; POP3 TOP works
        self.assertEqual(a("headers_only_download", "imap"), "yes")
        self.assertEqual(a("headers_only_download", "pop3"), "yes")
        self.assertIn("TOP", ev("headers_only_download"))
        # Push? IMAP IDLE
        self.assertEqual(a("push_mail", "imap"), "yes")
        self.assertIn("IDLE", ev("push_mail"))
        self.assertIn(a("push_mail", "pop3"), NOT_APPLICABLE)
        # Secure connection: implicit TLS and STARTTLS, certificate valid, no plaintext sign-in
        self.assertEqual(a("secure_connection", "imap"), "yes")
        self.assertEqual(a("secure_connection", "pop3"), "yes")
        # Sign-in methods: passwords (PLAIN, LOGIN), no OAuth2
        for p in ("imap", "pop3"):
            self.assertEqual(a("sign_in_methods", p), "yes")
            m = ms.answer_object(d, "sign_in_methods", p)["value"]
            self.assertIn("PLAIN", m)
            self.assertNotRegex(m, r"(?i)oauth")
        # Quota: 10 MiB limit, from GETQUOTAROOT, in KiB for scripts
        q = ms.answer_object(d, "quota", "imap")
        self.assertEqual(q["answer"], "yes")
        self.assertEqual(q["unit"], "KiB")
        self.assertEqual(q["limit"], 10240, "the limit (10240 KiB = 10 MiB)")
        self.assertIsInstance(q["value"], int)
        self.assertGreater(q["value"], 0)
        self.assertEqual(q["percent"], q["value"] * 100 // q["limit"])
        self.assertRegex(q["text"], r"10(\.0)?\s*Mi?B", "the text names the limit")
        self.assertRegex(ev("quota"), r"(?i)quota|storage")
        self.assertIn(a("quota", "pop3"), ("n/a", "unknown", "no"))
        # min poll interval: present, answered for POP3 (no LOGIN-DELAY said)
        poll = ms.answer_object(d, "min_poll_interval", "pop3")
        self.assertEqual(poll["answer"], "yes")
        self.assertEqual((poll["value"], poll["unit"]), (0, "seconds"), "no LOGIN-DELAY: 0 s")

    @ms.pending(JSON_SUMMARY)
    def test_schedule_recommends_push(self):
        self.assertRegex(self.doc["summary"]["schedule"], r"(?i)push|IDLE")

    @ms.pending(TEXT_SUMMARY)
    def test_text_report_opens_with_summary(self):
        r = ms.signin(ms.ALICE, ms.ALICE_PASSWORD, ms.valid_args(extra=("--format", "text")), json=False)
        self.assertEqual(r.rc, 0, r.describe())
        flat = " ".join(r.stdout.split())
        schedule = " ".join(self.doc["summary"]["schedule"].split())
        self.assertIn(schedule, flat, "the text report shows the recommended schedule")
        first_endpoint = flat.find(IMAPS_ID)
        self.assertGreaterEqual(first_endpoint, 0)
        self.assertLess(flat.find(schedule), first_endpoint, "the summary comes before the endpoint details")
        self.assertRegex(r.stdout, r"(?i)sent")
        self.assertRegex(r.stdout, r"(?i)quota")


class NoCredentials(Common, unittest.TestCase):
    """Without --user nothing is signed in, and the answers that need a sign-in are unknown."""

    @classmethod
    def setUpClass(cls):
        cls.run_ = ms.run(["--json"] + ms.valid_args())
        cls.doc = cls.run_.json

    def test_exit_ok(self):
        self.assertEqual(self.run_.rc, 0, self.run_.describe())
        self.assertEqual([f for f in self.doc["findings"] if f["code"].startswith("auth.")], [])

    @ms.pending(JSON_AUTH)
    def test_auth_null(self):
        for e in self.doc["endpoints"]:
            with self.subTest(endpoint=e["id"]):
                self.assertIn("auth", e)
                self.assertIsNone(e["auth"])
                self.assertIn("account", e)
                self.assertIsNone(e["account"])
                self.assertIn("after_login", e["capabilities"])
                self.assertIsNone(e["capabilities"]["after_login"])

    @ms.pending(JSON_SUMMARY)
    def test_summary_unknown_without_sign_in(self):
        self.assertEqual(sorted(f["id"] for f in self.doc["summary"]["features"]), sorted(ms.FEATURE_IDS))
        for id_, protos in (("protocol_enabled", ("imap", "pop3")), ("server_folders", ("imap",)),
                            ("sent_items_on_server", ("imap",)), ("shared_folders", ("imap",)),
                            ("quota", ("imap",))):
            f = ms.feature(self.doc, id_)
            for p in protos:
                self.assertEqual(f[p]["answer"], "unknown", f)
            self.assertRegex(f["evidence"], r"(?i)sign|log\s*in|credential|--user", f)


# ---- failures: a wrong password, a protocol denied for the account ------------------------

class BadPassword(Common, unittest.TestCase):
    WRONG = "wrong-pw-4Hs1"

    @classmethod
    def setUpClass(cls):
        cls.run_ = json_run(ms.ALICE, cls.WRONG, ms.valid_args())
        cls.doc = cls.run_.json

    @ms.pending(FINDINGS)
    def test_exit_critical(self):
        self.assertEqual(self.run_.rc, 2, self.run_.describe())
        self.assertEqual(self.doc["status"], "critical")

    @ms.pending(FINDINGS)
    def test_auth_failed_findings(self):
        f = ms.findings(self.doc, "auth.failed")
        self.assertEqual(sorted(x["endpoint"] for x in f), sorted([IMAPS_ID, POP3S_ID]), self.doc["findings"])
        for x in f:
            self.assertEqual(x["severity"], "critical")
            self.assertIn(ms.AUTH_FAILED_TEXT, x["message"], "the server's words")
            self.assertTrue(x["remedy"])
        self.assertEqual(ms.findings(self.doc, "auth.protocol_disabled"), [])

    @ms.pending(JSON_AUTH)
    def test_auth_objects(self):
        for id_, code in ((IMAPS_ID, "AUTHENTICATIONFAILED"), (POP3S_ID, "AUTH")):
            with self.subTest(endpoint=id_):
                a = auth(self.doc, id_)
                self.assertIs(a["chosen"], True)
                self.assertIs(a["attempted"], True)
                self.assertIs(a["ok"], False)
                self.assertEqual(a["code"], code)
                self.assertIn(ms.AUTH_FAILED_TEXT, a["server_response"])
                self.assertIsNone(account(self.doc, id_))

    @ms.pending(JSON_SUMMARY)
    def test_summary(self):
        # a wrong password says nothing about whether the protocol is enabled
        self.assertEqual(ms.answer(self.doc, "protocol_enabled", "imap"), "unknown")
        self.assertEqual(ms.answer(self.doc, "protocol_enabled", "pop3"), "unknown")


class ProtocolDisabled(Common, unittest.TestCase):
    """imaponly may not use POP3, pop3only may not use IMAP (Dovecot nologin + reason)."""

    @classmethod
    def setUpClass(cls):
        cls.imaponly = json_run(ms.IMAPONLY, ms.IMAPONLY_PASSWORD, ms.valid_args())
        cls.pop3only = json_run(ms.POP3ONLY, ms.POP3ONLY_PASSWORD, ms.valid_args())
        cls.imaponly_wrong = json_run(ms.IMAPONLY, "wrong-pw-4Hs1", ms.valid_args())

    def check(self, run_, denied_id, allowed_id, text, code):
        doc = run_.json
        self.assertExitMatchesStatus(run_)
        f = ms.findings(doc, "auth.protocol_disabled")
        self.assertEqual([x["endpoint"] for x in f], [denied_id], doc["findings"])
        self.assertIn(f[0]["severity"], ("warning", "critical"))
        self.assertIn(text, f[0]["message"], "the server's own words")
        self.assertTrue(f[0]["remedy"])
        self.assertEqual(ms.findings(doc, "auth.failed"), [], "a correct password is not auth.failed")
        a = auth(doc, denied_id)
        self.assertIs(a["attempted"], True)
        self.assertIs(a["ok"], False)
        self.assertEqual(a["code"], code)
        self.assertIn(text, a["server_response"])
        self.assertSignedIn(doc, allowed_id)

    @ms.pending(FINDINGS)
    def test_pop3_disabled(self):
        self.check(self.imaponly, POP3S_ID, IMAPS_ID, ms.DENY_POP3_TEXT, "AUTH")

    @ms.pending(FINDINGS)
    def test_imap_disabled(self):
        self.check(self.pop3only, IMAPS_ID, POP3S_ID, ms.DENY_IMAP_TEXT, "CONTACTADMIN")

    @ms.pending(JSON_SUMMARY)
    def test_summary_protocol_enabled(self):
        for run_, yes, no, text in ((self.imaponly, "imap", "pop3", ms.DENY_POP3_TEXT),
                                    (self.pop3only, "pop3", "imap", ms.DENY_IMAP_TEXT)):
            with self.subTest(denied=no):
                f = ms.feature(run_.json, "protocol_enabled")
                self.assertEqual(f[yes]["answer"], "yes", f)
                self.assertEqual(f[no]["answer"], "no", f)
                self.assertIn(text, f["evidence"], "the evidence quotes the server")

    @ms.pending(FINDINGS)
    def test_wrong_password_of_denied_account_is_auth_failed(self):
        """Dovecot checks the password first: a wrong one is a wrong one, on both protocols."""
        doc = self.imaponly_wrong.json
        self.assertEqual(self.imaponly_wrong.rc, 2, self.imaponly_wrong.describe())
        self.assertEqual(sorted(x["endpoint"] for x in ms.findings(doc, "auth.failed")),
                         sorted([IMAPS_ID, POP3S_ID]))
        self.assertEqual(ms.findings(doc, "auth.protocol_disabled"), [])


# ---- how and where: STARTTLS endpoints, forced mechanisms ----------------------------------

class StartTLSSignIn(Common, unittest.TestCase):
    """Only the STARTTLS/STLS endpoints are named: they are the best, and credentials follow TLS."""

    @classmethod
    def setUpClass(cls):
        args = ["--trace", "--resolve", "%s:%s" % (ms.HOST, ms.ADDR_VALID), "--ca-file", ms.CA,
                url("imap", ms.IMAP_PORT), url("pop3", ms.POP3_PORT)]
        cls.run_ = json_run(ms.ALICE, ms.ALICE_PASSWORD, args)
        cls.doc = cls.run_.json

    def test_exit_ok(self):
        self.assertEqual(self.run_.rc, 0, self.run_.describe())

    def test_credentials_only_after_tls(self):
        cmds = ms.trace_commands(self.run_.stderr)
        for id_, upgrade in ((IMAP_ID, re.compile(r"^\S+ STARTTLS$", re.I)), (POP3_ID, re.compile(r"^STLS$", re.I))):
            with self.subTest(endpoint=id_):
                mine = [c for e, c in cmds if e == id_]
                up = [i for i, c in enumerate(mine) if upgrade.match(c)]
                creds = [i for i, c in enumerate(mine) if CRED_COMMAND.match(c)]
                self.assertTrue(up, "no STARTTLS/STLS in the transcript of %s:\n%s" % (id_, mine))
                self.assertTrue(creds, "no sign-in on %s:\n%s" % (id_, mine))
                self.assertLess(up[0], creds[0], mine)

    @ms.pending(JSON_AUTH)
    def test_signed_in(self):
        for id_ in (IMAP_ID, POP3_ID):
            with self.subTest(endpoint=id_):
                self.assertSignedIn(self.doc, id_)


class ForcedMechanism(Common, unittest.TestCase):
    def run_mech(self, mech, user=ms.ALICE, env=None, password=ms.ALICE_PASSWORD, extra=()):
        args = ["--auth-mech", mech, "--trace"] + list(extra) + ms.valid_args()
        return json_run(user, password, args, extra_env=env)

    def test_login(self):
        r = self.run_mech("LOGIN")
        self.assertEqual(r.rc, 0, r.describe())
        cmds = [c for _, c in cred_commands(r)]
        self.assertTrue(any(re.match(r"^\S+ AUTHENTICATE LOGIN\b", c) for c in cmds), cmds)
        self.assertTrue(any(re.match(r"^AUTH LOGIN\b", c) for c in cmds), cmds)
        with self.subTest("JSON"):
            ms.pending(JSON_AUTH)(lambda: [self.assertEqual(self.assertSignedIn(r.json, i)["mechanism"], "LOGIN")
                                           for i in (IMAPS_ID, POP3S_ID)])()

    def test_user_pass(self):
        """USER: POP3 USER/PASS; IMAP the LOGIN command."""
        r = self.run_mech("USER")
        self.assertEqual(r.rc, 0, r.describe())
        cmds = [c for _, c in cred_commands(r)]
        self.assertTrue(any(re.match(r"^USER alice$", c) for c in cmds), cmds)
        self.assertTrue(any(re.match(r"^PASS\b", c) for c in cmds), cmds)
        self.assertTrue(any(re.match(r"^\S+ LOGIN\b", c) for c in cmds), cmds)
        with self.subTest("JSON"):
            def check():
                self.assertEqual(self.assertSignedIn(r.json, POP3S_ID, ("USER",))["mechanism"], "USER")
                self.assertSignedIn(r.json, IMAPS_ID, ("USER", "IMAP LOGIN", "LOGIN"))
            ms.pending(JSON_AUTH)(check)()

    def test_unknown_mechanism_is_usage_error(self):
        r = ms.signin(ms.ALICE, ms.ALICE_PASSWORD, ["--auth-mech", "CRAM-MD5"] + ms.valid_args(), json=False)
        self.assertEqual(r.rc, 3, r.describe())
        self.assertEqual(r.stdout, "")
        self.assertIn("CRAM-MD5", r.stderr)

    def test_xoauth2_not_offered(self):
        """Forcing XOAUTH2 where the server offers only PLAIN and LOGIN: the token is not sent.

        A bearer token is a replayable credential; handing it to a server that did not
        advertise an OAuth2 mechanism gains nothing (the answer is "unsupported mechanism",
        which the capabilities already said) and gives the token away. Expected:
        auth.mechanism_unavailable from the capabilities alone, without trying."""
        user = "oauth-check-user"
        log = ms.DovecotLog()
        r = ms.run(["--json", "--trace", "--user", user, "--auth-mech", "XOAUTH2"] + ms.valid_args(),
                   env={"MAILSCOPE_OAUTH2_TOKEN": "ya29.canary-token-Zx81Qw"})
        self.assertNoCredentialsSent(r, user, log, ms.ADDR_VALID, 4)
        with self.subTest("findings"):
            def check():
                self.assertExitMatchesStatus(r)
                f = ms.findings(r.json, "auth.mechanism_unavailable")
                self.assertEqual(sorted(x["endpoint"] for x in f), sorted([IMAPS_ID, POP3S_ID]), r.json["findings"])
                for x in f:
                    self.assertRegex(x["message"], r"XOAUTH2")
                for i in (IMAPS_ID, POP3S_ID):
                    self.assertIs(auth(r.json, i)["attempted"], False)
            ms.pending(FINDINGS)(check)()


# ---- insecure endpoints: refuse unless --allow-insecure-auth ------------------------------

class InsecureEndpoints(Common, unittest.TestCase):
    def plainonly_args(self, extra=()):
        return list(extra) + ["--trace", "--resolve", "%s:%s" % (ms.HOST, ms.ADDR_PLAINONLY),
                              url("imap", ms.IMAP_PORT), url("pop3", ms.POP3_PORT)]

    def check_refused(self, r, ids, user, log, addr):
        self.assertNoCredentialsSent(r, user, log, addr, len(ids))

        def check():
            doc = r.json
            f = ms.findings(doc, "auth.not_attempted_insecure")
            for id_ in ids:
                mine = [x for x in f if x["endpoint"] == id_]
                self.assertTrue(mine, "no auth.not_attempted_insecure on %s: %s" % (id_, doc["findings"]))
                self.assertEqual(mine[0]["severity"], "info")
                self.assertRegex(mine[0]["message"] + mine[0]["remedy"], r"--allow-insecure-auth")
                a = auth(doc, id_)
                self.assertIs(a["attempted"], False, a)
                self.assertIsInstance(a["not_attempted_reason"], str)
                self.assertTrue(a["not_attempted_reason"].strip())
            self.assertEqual([x for x in doc["findings"] if x["code"] in ("auth.failed", "auth.protocol_disabled")], [])
        ms.pending(FINDINGS)(check)()

    def test_plaintext_endpoint_refused(self):
        """127.0.0.10: no TLS at all; without --allow-insecure-auth nothing is sent."""
        user = "insecure-check-10"
        log = ms.DovecotLog()
        r = ms.signin(user, ms.ALICE_PASSWORD, ["--json"] + self.plainonly_args(), json=False)
        self.check_refused(r, [IMAP_ID, POP3_ID], user, log, ms.ADDR_PLAINONLY)

    def test_plaintext_endpoint_allowed(self):
        """--allow-insecure-auth on 127.0.0.10 (the server permits plaintext): sign-in works."""
        log = ms.DovecotLog()
        r = ms.signin(ms.ALICE, ms.ALICE_PASSWORD, ["--json"] + self.plainonly_args(["--allow-insecure-auth"]),
                      json=False)
        text = log.wait(r"-login: Info: Login: user=<alice>.*lip=127\.0\.0\.10,", count=2)
        for proto in ("imap", "pop3"):
            self.assertRegex(text, r"%s-login: Info: Login: user=<alice>, method=\S+, rip=127\.0\.0\.1, "
                                   r"lip=127\.0\.0\.10" % proto, r.describe())

        def check():
            doc = r.json
            for id_ in (IMAP_ID, POP3_ID):
                self.assertSignedIn(doc, id_, ("PLAIN", "LOGIN", "USER", "IMAP LOGIN"))
            self.assertEqual(account(doc, IMAP_ID)["inbox"], {"messages": ms.ALICE_INBOX_MESSAGES,
                                                               "unseen": ms.ALICE_INBOX_UNSEEN})
            self.assertEqual(account(doc, POP3_ID)["pop3"]["messages"], ms.ALICE_INBOX_MESSAGES)
            self.assertEqual(ms.findings(doc, "auth.not_attempted_insecure"), [])
        ms.pending(JSON_ACCOUNT)(check)()

    def test_unverified_certificate_refused(self):
        """127.0.0.7 without the test CA: TLS is up but not verified, so nothing is sent
        (even though this Dovecot would accept a plaintext password before TLS)."""
        user = "insecure-check-7"
        log = ms.DovecotLog()
        r = ms.signin(user, ms.ALICE_PASSWORD, ["--json", "--trace"] + ms.valid_args(ms.ADDR_PLAINTEXT, ca=False),
                      json=False)
        self.assertNoCredentialsSent(r, user, log, ms.ADDR_PLAINTEXT, 4)

        def check():
            doc = r.json
            f = ms.findings(doc, "auth.not_attempted_insecure")
            for proto in ("imap", "pop3"):
                self.assertTrue([x for x in f if x["endpoint"].startswith(proto)],
                                "no auth.not_attempted_insecure for %s: %s" % (proto, doc["findings"]))
            for e in doc["endpoints"]:
                self.assertIs(e["auth"]["attempted"], False, e["id"])
        ms.pending(FINDINGS)(check)()

    def test_unverified_certificate_allowed(self):
        """--allow-insecure-auth on 127.0.0.7 without the CA: sign-in on one endpoint per
        protocol, the implicit-TLS one (TLS, if unverified, beats plaintext)."""
        r = ms.signin(ms.ALICE, ms.ALICE_PASSWORD,
                      ["--json", "--trace", "--allow-insecure-auth"] + ms.valid_args(ms.ADDR_PLAINTEXT, ca=False),
                      json=False)
        creds = cred_commands(r)
        self.assertEqual(sorted({e for e, _ in creds}), sorted([IMAPS_ID, POP3S_ID]),
                         "sign-in on the implicit-TLS endpoints only:\n%s" % creds)

        def check():
            doc = r.json
            self.assertEqual([e["id"] for e in ms.chosen_endpoints(doc)], [IMAPS_ID, POP3S_ID])
            for id_ in (IMAPS_ID, POP3S_ID):
                self.assertSignedIn(doc, id_)
        ms.pending(JSON_AUTH)(check)()

    def test_server_forbids_plaintext(self):
        """127.0.0.8 (no TLS, LOGINDISABLED, no SASL before TLS) with --allow-insecure-auth:
        the server offers no way to sign in; no password is sent and it is not 'wrong'."""
        user = "insecure-check-8"
        log = ms.DovecotLog()
        r = ms.signin(user, ms.ALICE_PASSWORD,
                      ["--json", "--trace", "--allow-insecure-auth", "--resolve", "%s:%s" % (ms.HOST, ms.ADDR_NOTLS),
                       url("imap", ms.IMAP_PORT), url("pop3", ms.POP3_PORT)], json=False)
        secret_cmds = [(e, c) for e, c in cred_commands(r) if not re.match(r"^USER\b", c, re.I)]
        self.assertEqual(secret_cmds, [], "a password went out although the server forbids it:\n" + r.stderr[-3000:])
        text = log.wait(r"no auth attempts.*lip=127\.0\.0\.8,", count=2)
        self.assertNotIn("(%s," % user, text)
        self.assertNotIn("Login: user=<%s>" % user, text)

        def check():
            doc = r.json
            self.assertEqual(ms.findings(doc, "auth.failed"), [], "the password was not wrong")
            for id_ in (IMAP_ID, POP3_ID):
                self.assertIsNot(auth(doc, id_)["ok"], True)
                codes = {x["code"] for x in doc["findings"] if x["endpoint"] == id_}
                self.assertTrue(codes & {"auth.mechanism_unavailable", "auth.not_attempted_insecure"},
                                "%s: %s" % (id_, codes))
        ms.pending(FINDINGS)(check)()


# ---- read-only: the mailbox is the same after a run ---------------------------------------

class ReadOnly(unittest.TestCase):
    """mailscope never changes the mailbox: same files (names carry the flags), same IMAP
    flags, same POP3 UIDLs; no mutating command in the transcript; Dovecot's own logout
    counters show nothing deleted, expunged or retrieved."""

    MUTATING_IMAP = {"SELECT", "STORE", "EXPUNGE", "APPEND", "COPY", "MOVE", "CREATE", "DELETE", "RENAME",
                     "SUBSCRIBE", "UNSUBSCRIBE", "SETACL", "DELETEACL", "SETQUOTA", "SETMETADATA"}
    MUTATING_POP3 = {"DELE", "RETR"}  # RETR marks the message \Seen in Dovecot

    @classmethod
    def setUpClass(cls):
        cls.files_before = ms.maildir_snapshot()
        cls.imap_before = ms.imap_oracle()
        cls.pop3_before = ms.pop3_oracle()
        cls.log = ms.DovecotLog()
        cls.runs = [
            json_run(ms.ALICE, ms.ALICE_PASSWORD, ["--trace"] + ms.valid_args()),
            json_run(ms.ALICE, ms.ALICE_PASSWORD,
                     ["--trace", "--auth-mech", "USER", "--resolve", "%s:%s" % (ms.HOST, ms.ADDR_VALID),
                      "--ca-file", ms.CA, url("imap", ms.IMAP_PORT), url("pop3", ms.POP3_PORT)]),
            json_run(ms.ALICE, ms.ALICE_PASSWORD, ["--trace", "--allow-insecure-auth", "--resolve",
                                                   "%s:%s" % (ms.HOST, ms.ADDR_PLAINONLY),
                                                   url("imap", ms.IMAP_PORT), url("pop3", ms.POP3_PORT)]),
        ]
        cls.log_text = cls.log.wait(r"pop3\(alice\).*Logged out")
        cls.files_after = ms.maildir_snapshot()
        cls.imap_after = ms.imap_oracle()
        cls.pop3_after = ms.pop3_oracle()

    def test_runs_signed_in(self):
        for r in self.runs:
            self.assertTrue(cred_commands(r), "no sign-in happened:\n" + r.stderr[-2000:])
        # the plaintext-only server (last run) is critical whatever the account can do
        for r in self.runs[:2]:
            self.assertEqual(r.rc, 0, r.describe())

    def test_files_unchanged(self):
        self.assertEqual(self.files_after, self.files_before)
        self.assertEqual(len([f for f in self.files_before if "/cur/" in f]), 15)

    def test_flags_unchanged(self):
        self.assertEqual(self.imap_after["flags"], self.imap_before["flags"])
        self.assertEqual(self.imap_after["inbox"], (ms.ALICE_INBOX_MESSAGES, ms.ALICE_INBOX_UNSEEN))
        self.assertEqual(self.imap_after["folders"], self.imap_before["folders"])

    def test_pop3_unchanged(self):
        self.assertEqual(self.pop3_after["uidl"], self.pop3_before["uidl"])
        self.assertEqual(self.pop3_after["messages"], ms.ALICE_INBOX_MESSAGES)

    def test_no_mutating_commands(self):
        for r in self.runs:
            for id_, cmd in ms.trace_commands(r.stderr):
                words = cmd.split()
                if not words:
                    continue
                with self.subTest(endpoint=id_, command=cmd[:60]):
                    if id_.startswith("imap"):
                        verb = words[1].upper() if len(words) > 1 else ""
                        if verb == "UID" and len(words) > 2:
                            verb = words[2].upper()
                        self.assertNotIn(verb, self.MUTATING_IMAP)
                        if verb == "FETCH":
                            self.assertNotRegex(cmd.upper(), r"BODY\[|RFC822(?!\.SIZE|\.HEADER)",
                                                "a FETCH that would set \\Seen")
                    else:
                        self.assertNotIn(words[0].upper(), self.MUTATING_POP3)

    def test_dovecot_counters(self):
        imap = re.findall(r"imap\(alice\).*Logged out.*", self.log_text)
        pop3 = re.findall(r"pop3\(alice\).*Logged out.*", self.log_text)
        self.assertTrue(imap and pop3, "no alice sessions in the Dovecot log:\n" + self.log_text[-3000:])
        for line in imap:
            self.assertRegex(line, r"deleted=0 expunged=0 trashed=0", line)
        for line in pop3:
            self.assertRegex(line, r"retr=0/0, del=0/", line)


if __name__ == "__main__":
    ms.main()
