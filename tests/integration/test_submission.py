#!/usr/bin/env python3
"""SMTP submission (issue 14) against the real test Postfix (tests/servers/postfix.sh), which
signs in through the test Dovecot's SASL socket.

The listeners, all on 127.0.0.2 with the valid certificate for mail.test.example:
  MS_SUBMISSION_PORT       STARTTLS, AUTH only after TLS (smtpd_tls_auth_only)
  MS_SUBMISSIONS_PORT      implicit TLS (RFC 8314)
  MS_SUBMISSION_WEAK_PORT  AUTH PLAIN LOGIN offered and taken before TLS (deliberately weak)
What the tests check: both secure endpoints probed and OK, the capabilities before and after
TLS equal to what Python's smtplib reads, SIZE as the largest message, sign-in with the right
password (signed in, can send), a wrong one (auth.failed quoting "535 5.7.8 ..."), none;
AUTH before TLS confirmed on the weak listener; smtp:// always reported; --protocols;
--require / --forbid items; the text report; discovery (SRV, and dead receiving candidates
that must not starve the sending side); and that no MAIL, RCPT, DATA or BDAT ever goes out.
Every JSON report is validated against report/schema.json.
"""
# fixtures: ms_postfix

import json
import re
import smtplib
import socket
import ssl
import unittest

import disc_helpers as dh
import mstest as ms

HOST = ms.HOST
ADDR = ms.ADDR_VALID
SUB = ms.SUBMISSION_PORT
SUBS = ms.SUBMISSIONS_PORT
WEAK = ms.SUBMISSION_WEAK_PORT
SUB_PORTS = "submission=%d,submissions=%d" % (SUB, SUBS)
ID_587 = "submission://%s:%d" % (HOST, SUB)
ID_465 = "submissions://%s:%d" % (HOST, SUBS)
ID_WEAK = "submission://%s:%d" % (HOST, WEAK)
PASSWORD_ENV = {"MAILSCOPE_PASSWORD": ms.ALICE_PASSWORD}
WRONG_ENV = {"MAILSCOPE_PASSWORD": "not-the-password-4Zq"}
# Postfix's reply to a wrong password (tests/servers/postfix.sh, through Dovecot)
WRONG_WORDS = re.compile(r"535 5\.7\.8 Error: authentication failed")
# the EHLO keywords issue 14 asks the session to read, as the test Postfix offers them
KEYWORDS = ("PIPELINING", "SIZE 26214400", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8",
            "CHUNKING")
NO_MAIL = re.compile(r"\bC: (MAIL|RCPT|DATA|BDAT)\b", re.I)


def resolve():
    return ["--resolve", "%s:%s" % (HOST, ADDR), "--ca-file", ms.CA]


def host_args(protocols="submission", extra=()):
    """A bare-host probe of the test Postfix (and Dovecot, with --protocols all)."""
    return resolve() + ["--ports", ms.PORTS + "," + SUB_PORTS, "--protocols", protocols] + \
        list(extra) + [HOST]


def url_args(*urls, extra=()):
    return resolve() + list(extra) + list(urls)


def probe(args, **kw):
    """mailscope --json ARGS, schema-validated; the secret never shows, nor a sanitizer."""
    r = ms.probe_json(args, **kw)
    for secret in (ms.ALICE_PASSWORD, WRONG_ENV["MAILSCOPE_PASSWORD"]):
        if secret in r.stdout or secret in r.stderr:
            raise AssertionError("the password shows in the output:\n" + r.describe())
    return r


def feature(doc, fid):
    return next(f for f in doc["summary"]["features"] if f["id"] == fid)


# ---- what Python's own client reads (the oracle) -------------------------------------------

def _ctx():
    ctx = ssl.create_default_context(cafile=ms.CA)
    ctx.check_hostname = True
    return ctx


def _keywords(s):
    code, msg = s.ehlo("client.test.example")
    if code != 250:
        raise AssertionError("EHLO refused: %d %r" % (code, msg))
    return msg.decode("ascii").split("\n")[1:]


def oracle(port, implicit=False):
    """(before_tls, after_tls): the EHLO keyword lines as smtplib reads them."""
    if implicit:
        sock = _ctx().wrap_socket(socket.create_connection((ADDR, port), timeout=30),
                                  server_hostname=HOST)
        s = smtplib.SMTP(local_hostname="client.test.example", timeout=30)
        s.sock = sock
        s.file = None
        s.getreply()
        try:
            return None, _keywords(s)
        finally:
            s.close()
    s = smtplib.SMTP(ADDR, port, local_hostname="client.test.example", timeout=30)
    try:
        before = _keywords(s)
        code, _ = s.docmd("STARTTLS")
        if code != 220:
            raise AssertionError("STARTTLS refused")
        s.sock = _ctx().wrap_socket(s.sock, server_hostname=HOST)
        s.file = None
        return before, _keywords(s)
    finally:
        s.close()


def setUpModule():
    dh.use_zones()


def tearDownModule():
    dh.stop_zones()


class Probe(unittest.TestCase):
    maxDiff = None

    def test_both_endpoints_ok(self):
        """--protocols submission on a bare host: 465 (implicit TLS) and 587 (STARTTLS), OK."""
        r = probe(host_args())
        d = r.json
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(d["status"], "ok")
        eps = ms.endpoints_by_id(d)
        self.assertEqual(sorted(eps), sorted([ID_465, ID_587]))
        for eid, security in ((ID_465, "implicit"), (ID_587, "starttls")):
            e = eps[eid]
            with self.subTest(endpoint=eid):
                self.assertEqual((e["protocol"], e["security"], e["status"]),
                                 ("submission", security, "ok"))
                self.assertEqual(e["greeting"], "220 %s ESMTP Postfix" % HOST)
                self.assertTrue(e["completed_securely"])
                self.assertTrue(e["tls"]["verified"])
                self.assertIn(e["tls"]["version"], ("TLSv1.2", "TLSv1.3"))
                self.assertEqual(e["server"]["software"], "postfix")
                self.assertIsNone(e["error"])
                self.assertIsNone(e["auth"])  # no credentials, no sign-in facts
        self.assertEqual(eps[ID_587]["starttls_response"], "220 2.0.0 Ready to start TLS")
        self.assertIsNone(eps[ID_465]["starttls_response"])
        self.assertEqual(d["findings"], [])
        v = [x for x in d["verdicts"] if x["protocol"] == "submission"]
        self.assertEqual(len(v), 1)
        self.assertTrue(v[0]["available"])
        self.assertEqual(v[0]["status"], "ok")

    def test_capabilities_before_and_after_tls(self):
        """What mailscope reads before and after TLS is what smtplib reads: STARTTLS only
        before TLS, AUTH only after it; SIZE, PIPELINING, 8BITMIME... on both sides."""
        eps = ms.endpoints_by_id(probe(host_args()).json)
        before, after = oracle(SUB)
        caps = eps[ID_587]["capabilities"]
        self.assertEqual(caps["before_tls"], before)
        self.assertEqual(caps["after_tls"], after)
        self.assertIn("STARTTLS", caps["before_tls"])
        self.assertNotIn("STARTTLS", caps["after_tls"])
        self.assertFalse([c for c in caps["before_tls"] if c.upper().startswith("AUTH")])
        self.assertIn("AUTH PLAIN LOGIN", caps["after_tls"])
        for k in KEYWORDS:
            self.assertIn(k, caps["before_tls"])
            self.assertIn(k, caps["after_tls"])
        self.assertEqual(caps["truncated"], {"before_tls": False, "after_tls": False,
                                             "after_login": False})
        _, implicit = oracle(SUBS, implicit=True)
        caps = eps[ID_465]["capabilities"]
        self.assertIsNone(caps["before_tls"])
        self.assertEqual(caps["after_tls"], implicit)
        self.assertIn("AUTH PLAIN LOGIN", caps["after_tls"])

    def test_summary_without_credentials(self):
        """No credentials: sending is unknown (it needs a sign-in), the largest message is
        SIZE's 25 MiB, the sign-in methods are PLAIN and LOGIN; the receiving columns n/a."""
        d = probe(host_args()).json
        f = feature(d, "max_message_size")
        self.assertEqual(f["submission"]["answer"], "yes")
        self.assertEqual((f["submission"]["value"], f["submission"]["unit"]), (25600, "KiB"))
        self.assertEqual(f["submission"]["text"], "25 MB")
        self.assertIn("SIZE 26214400", f["evidence"])
        self.assertEqual(f["imap"]["answer"], "n/a")
        f = feature(d, "can_send")
        self.assertEqual(f["submission"]["answer"], "unknown")
        self.assertIn("no credentials", f["evidence"])
        f = feature(d, "sign_in_methods")
        self.assertEqual(f["submission"]["value"], "PLAIN, LOGIN")
        self.assertEqual(d["summary"]["signed_in"]["submission"], None)
        for e in d["endpoints"]:
            self.assertIsNone(e["auth"])
        self.assertFalse([f for f in d["findings"] if f["code"].startswith("auth.")])

    def test_recommended_outgoing_server(self):
        """'Use these settings': the outgoing server, 465 implicit TLS before 587 (RFC 8314)."""
        d = probe(host_args()).json
        self.assertEqual(d["recommended"]["submission"], {
            "host": HOST, "port": SUBS, "security": "implicit", "endpoint": ID_465})
        self.assertIsNone(d["recommended"]["imap"])
        # only 587 given: it is the recommendation
        d = probe(url_args(ID_587)).json
        self.assertEqual(d["recommended"]["submission"], {
            "host": HOST, "port": SUB, "security": "starttls", "endpoint": ID_587})

    def test_protocols_all(self):
        """--protocols all adds 465 and 587 to the four receiving endpoints: six, all OK."""
        r = probe(host_args("all"))
        d = r.json
        self.assertEqual(r.rc, 0, r.describe())
        eps = ms.endpoints_by_id(d)
        want = set(ms.standard_endpoints()) | {ID_465, ID_587}
        self.assertEqual(set(eps), want)
        self.assertTrue(all(e["status"] == "ok" for e in eps.values()))
        self.assertEqual(sorted(v["protocol"] for v in d["verdicts"]),
                         ["imap", "pop3", "submission"])
        self.assertEqual(d["recommended"]["submission"]["port"], SUBS)
        self.assertEqual(d["recommended"]["imap"]["port"], ms.IMAPS_PORT)
        # the default for a bare host stays receiving only
        d = probe(resolve() + ["--ports", ms.PORTS + "," + SUB_PORTS, HOST]).json
        self.assertFalse([e for e in d["endpoints"] if e["protocol"] == "submission"])

    def test_text_report(self):
        """The text report's SMTP lines."""
        r = ms.run(host_args())
        self.assertEqual(r.rc, 0, r.describe())
        out = r.stdout
        self.assertRegex(out, r"OK +SMTP works securely on %d \(implicit TLS\) and %d \(STARTTLS\)"
                         % (SUBS, SUB))
        self.assertRegex(out, r"Can send mail\? +unknown")
        self.assertRegex(out, r"Largest message +25 MB")
        self.assertRegex(out, r"Sign-in methods +PLAIN, LOGIN")
        self.assertRegex(out, r"Outgoing mail \(SMTP\): +server %s +port %d +security SSL/TLS"
                         % (re.escape(HOST), SUBS))
        self.assertRegex(out, r"caps pre-TLS +PIPELINING SIZE 26214400 .*STARTTLS")
        self.assertRegex(out, r"STARTTLS +220 2\.0\.0 Ready to start TLS")
        self.assertRegex(out, r"caps over TLS +PIPELINING SIZE 26214400 .*AUTH PLAIN LOGIN")
        self.assertIn("No findings.", out)


class SignIn(unittest.TestCase):
    maxDiff = None

    def test_right_password(self):
        """alice signs in (through Dovecot) on the implicit-TLS endpoint: signed in, can send,
        enabled; 587 leaves it to 465. Nothing is sent: QUIT follows AUTH."""
        r = probe(host_args(extra=["--user", ms.ALICE, "--trace"]), env=PASSWORD_ENV)
        d = r.json
        self.assertEqual(r.rc, 0, r.describe())
        eps = ms.endpoints_by_id(d)
        au = eps[ID_465]["auth"]
        self.assertTrue(au["attempted"] and au["ok"] and au["chosen"])
        self.assertEqual((au["outcome"], au["mechanism"], au["status"], au["code"],
                          au["server_response"]),
                         ("ok", "PLAIN", "235", "2.7.0", "Authentication successful"))
        self.assertEqual(au["mechanisms"], ["PLAIN", "LOGIN"])
        self.assertFalse(eps[ID_587]["auth"]["attempted"])
        self.assertEqual(eps[ID_587]["auth"]["outcome"], "not_chosen")
        self.assertEqual(d["summary"]["signed_in"]["submission"], ID_465)
        self.assertEqual(feature(d, "can_send")["submission"]["answer"], "yes")
        self.assertIn("no mail was sent", feature(d, "can_send")["evidence"])
        self.assertEqual(feature(d, "protocol_enabled")["submission"]["answer"], "yes")
        self.assertEqual(d["findings"], [])
        self.assertEqual(d["recommended"]["user_name"], ms.ALICE)
        self.assertRegex(d["summary"]["schedule"], r"Send through %s:%d .*signed in"
                         % (re.escape(HOST), SUBS))
        self.assertIn("C: AUTH PLAIN <redacted>", r.stderr)
        self.assertIsNone(NO_MAIL.search(r.stderr), r.stderr)

    def test_right_password_starttls_and_login(self):
        """On 587 after STARTTLS, with --auth-mech LOGIN (two 334 steps): signed in."""
        r = probe(url_args(ID_587, extra=["--user", ms.ALICE, "--auth-mech", "LOGIN",
                                          "--trace"]), env=PASSWORD_ENV)
        self.assertEqual(r.rc, 0, r.describe())
        au = r.json["endpoints"][0]["auth"]
        self.assertTrue(au["ok"])
        self.assertEqual((au["mechanism"], au["status"]), ("LOGIN", "235"))
        trace = r.stderr
        # the credentials go only inside TLS: STARTTLS, then EHLO again, then AUTH
        self.assertLess(trace.index("C: STARTTLS"), trace.index("C: AUTH LOGIN"))
        self.assertEqual(trace.count("C: EHLO"), 2)
        self.assertIsNone(NO_MAIL.search(trace), trace)

    def test_wrong_password(self):
        """A wrong password: auth.failed (critical, exit 2) quoting Postfix with its enhanced
        status code, '535 5.7.8 Error: authentication failed'."""
        r = probe(host_args(extra=["--user", ms.ALICE]), env=WRONG_ENV)
        d = r.json
        self.assertEqual(r.rc, 2, r.describe())
        self.assertEqual(d["status"], "critical")
        f = ms.findings(d, "auth.failed")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertEqual((f[0]["severity"], f[0]["endpoint"]), ("critical", ID_465))
        self.assertRegex(f[0]["message"], WRONG_WORDS)
        self.assertIn("alice", f[0]["message"])
        au = ms.endpoints_by_id(d)[ID_465]["auth"]
        self.assertEqual((au["attempted"], au["ok"], au["outcome"], au["status"], au["code"]),
                         (True, False, "failed", "535", "5.7.8"))
        self.assertRegex(au["server_response"], r"^Error: authentication failed")
        self.assertEqual(d["summary"]["signed_in"]["submission"], None)
        self.assertEqual(feature(d, "can_send")["submission"]["answer"], "unknown")
        self.assertIn("rejected the credentials", feature(d, "can_send")["evidence"])
        # the text report says it the same way
        t = ms.run(host_args(extra=["--user", ms.ALICE]), env=WRONG_ENV)
        self.assertEqual(t.rc, 2, t.describe())
        self.assertRegex(t.stdout, r"auth\.failed: " + WRONG_WORDS.pattern)
        self.assertNotIn(WRONG_ENV["MAILSCOPE_PASSWORD"], t.stdout + t.stderr)

    def test_no_credentials_sends_nothing(self):
        """Without --user: EHLO, STARTTLS, EHLO, QUIT; no AUTH, and never MAIL/RCPT/DATA."""
        r = probe(host_args(extra=["--trace"]))
        self.assertEqual(r.rc, 0, r.describe())
        client = re.findall(r"(\S+) C: (\S+)", r.stderr)
        verbs = {}
        for eid, verb in client:
            verbs.setdefault(eid, []).append(verb.upper())
        self.assertEqual(verbs[ID_587], ["EHLO", "STARTTLS", "EHLO", "QUIT"])
        self.assertEqual(verbs[ID_465], ["EHLO", "QUIT"])
        self.assertIsNone(NO_MAIL.search(r.stderr))


class Weak(unittest.TestCase):
    def test_auth_before_tls_confirmed(self):
        """The weak listener offers AUTH PLAIN LOGIN before STARTTLS: submission.auth_before_tls,
        confirmed on a separate connection that cancels at the 334 (no secret sent)."""
        r = probe(url_args(ID_WEAK, extra=["--trace"]))
        d = r.json
        self.assertEqual(r.rc, 1, r.describe())
        f = ms.findings(d, "submission.auth_before_tls", endpoint=ID_WEAK)
        self.assertEqual(len(f), 1, d["findings"])
        self.assertEqual(f[0]["severity"], "warning")
        self.assertIn("confirmed it on a separate connection", f[0]["message"])
        self.assertIn("AUTH PLAIN LOGIN", f[0]["message"])
        e = d["endpoints"][0]
        self.assertIn("AUTH PLAIN LOGIN", e["capabilities"]["before_tls"])
        pc = e["plaintext_check"]
        self.assertEqual((pc["verdict"], pc["method"], pc["sent"], pc["status"]),
                         ("confirmed", "sasl_cancel", "AUTH PLAIN", "+"))
        self.assertIn("C: *", r.stderr)  # the cancel
        self.assertFalse(ms.findings(d, "submission.no_auth"))
        self.assertIsNone(NO_MAIL.search(r.stderr))

    def test_no_confirm(self):
        """--no-confirm: the warning stands on the advertisement alone, and says so."""
        d = probe(url_args(ID_WEAK, extra=["--no-confirm"])).json
        f = ms.findings(d, "submission.auth_before_tls")
        self.assertEqual(len(f), 1)
        self.assertIn("not confirmed", f[0]["message"])
        self.assertIsNone(d["endpoints"][0]["plaintext_check"])

    def test_sign_in_waits_for_tls(self):
        """Even where AUTH is offered in clear text, the user's password goes only inside TLS."""
        r = probe(url_args(ID_WEAK, extra=["--user", ms.ALICE, "--trace"]), env=PASSWORD_ENV)
        self.assertEqual(r.rc, 1, r.describe())
        e = r.json["endpoints"][0]
        self.assertTrue(e["auth"]["ok"])
        # the main connection's lines (the plaintext check's id ends in #plaintext-check)
        text = "\n".join(line for line in r.stderr.splitlines()
                         if line.split()[2:3] == [ID_WEAK])
        self.assertLess(text.index("C: STARTTLS"), text.index("C: AUTH PLAIN <redacted>"))


class Port25(unittest.TestCase):
    def test_smtp_url(self):
        """smtp://host:PORT (the relay scheme): probed as STARTTLS submission, named as given,
        and always reported (submission.port25, a warning)."""
        sid = "smtp://%s:%d" % (HOST, SUB)
        r = probe(url_args(sid, extra=["--trace"]))
        d = r.json
        self.assertEqual(r.rc, 1, r.describe())
        e = d["endpoints"][0]
        self.assertEqual((e["id"], e["protocol"], e["security"], e["status"]),
                         (sid, "submission", "starttls", "warning"))
        self.assertTrue(e["tls"]["verified"])
        f = ms.findings(d, "submission.port25", endpoint=sid)
        self.assertEqual(len(f), 1, d["findings"])
        self.assertEqual(f[0]["severity"], "warning")
        self.assertIn("smtp://", f[0]["message"])
        self.assertIn("465", f[0]["remedy"])
        self.assertIn("C: STARTTLS", r.stderr)
        # the same server named submission:// gets no such finding
        d = probe(url_args(ID_587)).json
        self.assertEqual(d["findings"], [])


class Require(unittest.TestCase):
    def rc(self, require=None, forbid=None, args=None, env=None, extra=()):
        a = list(extra)
        if require:
            a += ["--require", require]
        if forbid:
            a += ["--forbid", forbid]
        r = probe(args(a) if args else host_args(extra=a), env=env)
        return r.rc, r.json

    def test_items_that_hold(self):
        for item in ("submission", "submissions", "submission+starttls", "smtp:AUTH=PLAIN",
                     "smtp:auth=login", "smtp:PIPELINING", "smtp:SIZE>=26214400",
                     "smtp:SIZE<=26214400", "max_message_size", "tls>=1.2",
                     "submission,submissions,smtp:AUTH=PLAIN,max_message_size"):
            with self.subTest(item=item):
                rc, d = self.rc(require=item)
                self.assertEqual(rc, 0, d["findings"])
                self.assertFalse(ms.findings(d, "require.unmet"))

    def test_items_that_do_not_hold(self):
        for item in ("smtp:AUTH=XOAUTH2", "smtp:SIZE>26214400", "smtp:SIZE>=50000000",
                     "smtp:STARTTLS", "can_send", "imap"):
            with self.subTest(item=item):
                rc, d = self.rc(require=item)
                self.assertEqual(rc, 2, d["findings"])
                f = ms.findings(d, "require.unmet")
                self.assertEqual(len(f), 1)
                self.assertIn(item, f[0]["message"])

    def test_can_send_with_credentials(self):
        rc, d = self.rc(require="can_send", extra=["--user", ms.ALICE], env=PASSWORD_ENV)
        self.assertEqual(rc, 0, d["findings"])
        rc, d = self.rc(require="can_send", extra=["--user", ms.ALICE], env=WRONG_ENV)
        self.assertEqual(rc, 2)
        self.assertTrue(ms.findings(d, "require.unmet"))

    def test_only_one_kind(self):
        """Only 587 probed: submissions does not hold, submission+starttls does."""
        only = lambda a: url_args(ID_587, extra=a)  # noqa: E731
        self.assertEqual(self.rc(require="submission+starttls", args=only)[0], 0)
        self.assertEqual(self.rc(require="submissions", args=only)[0], 2)

    def test_forbid(self):
        weak = lambda a: url_args(ID_WEAK, extra=a)  # noqa: E731
        rc, d = self.rc(forbid="submission.auth_before_tls", args=weak)
        self.assertEqual(rc, 2)
        f = ms.findings(d, "forbid.present")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertIn("submission.auth_before_tls", f[0]["message"])
        rc, d = self.rc(forbid="submission.auth_before_tls")
        self.assertEqual(rc, 0, d["findings"])
        rc, d = self.rc(forbid="submission")
        self.assertEqual(rc, 2)

    def test_bad_items_are_usage_errors(self):
        for item in ("smtp:SIZE>=lots", "smtp:PIPELINING>=1"):
            with self.subTest(item=item):
                r = ms.run(host_args(extra=["--require", item]))
                self.assertEqual(r.rc, 3, r.describe())
                self.assertIn(item, r.stderr)


class Formats(unittest.TestCase):
    def test_nagios(self):
        r = ms.run(["--format", "nagios"] + host_args())
        self.assertEqual(r.rc, 0, r.describe())
        first = r.stdout.splitlines()[0]
        self.assertTrue(first.startswith("MAILSCOPE OK - SMTP works securely"), first)
        self.assertIn("'submissions_%d_time'=" % SUBS, first)
        self.assertIn("'submission_%d_cert_days'=" % SUB, first)
        r = ms.run(["--format", "nagios"] + url_args("smtp://%s:%d" % (HOST, SUB)))
        self.assertEqual(r.rc, 1, r.describe())
        self.assertIn("WARNING submission.port25", r.stdout)

    def test_prometheus(self):
        r = ms.run(["--format", "prometheus"] + host_args())
        self.assertEqual(r.rc, 0, r.describe())
        for port, security in ((SUBS, "implicit"), (SUB, "starttls")):
            line = ('mailscope_probe_success{target="%s",host="%s",protocol="submission",'
                    'port="%d",security="%s"} 1' % (HOST, HOST, port, security))
            self.assertIn(line, r.stdout.splitlines())

    def test_jsonl(self):
        r = ms.run(["--format", "jsonl"] + host_args())
        self.assertEqual(r.rc, 0, r.describe())
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1)
        doc = json.loads(lines[0])
        ms.validate(doc, r)
        self.assertEqual(sorted(e["id"] for e in doc["endpoints"]), sorted([ID_465, ID_587]))


class Discovery(unittest.TestCase):
    def test_srv(self):
        """srv.test.example: the _submissions/_submission SRV records name the test Postfix;
        both probed, the outgoing server recommended is the implicit-TLS one."""
        r = dh.disc_json(dh.guessed(["--ports", ms.PORTS + "," + SUB_PORTS, "--protocols",
                                     "submission", "--discover", "srv.test.example"]))
        d = r.json
        eps = ms.endpoints_by_id(d)
        for eid in (ID_465, ID_587):
            self.assertIn(eid, eps)
            self.assertEqual(eps[eid]["source"], "srv")
            self.assertEqual(eps[eid]["status"], "ok")
        self.assertEqual(eps[ID_465]["source_name"], "_submissions._tcp.srv.test.example")
        self.assertEqual(d["recommended"]["submission"]["endpoint"], ID_465)

    def test_dead_receiving_candidates_do_not_starve_sending(self):
        """manyrecv.test.example: 40 receiving SRV records to a closed host, more than the
        endpoint cap, and one _submissions record to the test Postfix. The sending side keeps
        its share of the cap: the submission server is probed, OK, and recommended."""
        r = dh.disc_json(dh.guessed(["--ports", ms.PORTS + "," + SUB_PORTS, "--timeout", "5",
                                     "--discover", "manyrecv.test.example"]))
        d = r.json
        cs = d["discovery"]["candidates"]
        self.assertLessEqual(len(d["endpoints"]), 32)
        subs = [e for e in d["endpoints"] if e["protocol"] == "submission"]
        self.assertEqual([e["id"] for e in subs if e["source"] == "srv"], [ID_465], cs)
        self.assertEqual(ms.endpoints_by_id(d)[ID_465]["status"], "ok")
        self.assertEqual(d["recommended"]["submission"]["endpoint"], ID_465)
        # what was left out for the cap is receiving, and says so
        dropped = [c for c in cs if c["dropped"] == "limit reached"]
        self.assertTrue(dropped, cs)
        self.assertLessEqual({c["protocol"] for c in dropped}, {"imap", "pop3"})


    def test_dead_receiving_hosts_do_not_fill_the_host_table(self):
        """manyhosts.test.example: 40 receiving SRV records, each to its own dead host (more
        hosts than discovery looks up), and one _submission record to the test Postfix: the
        sending side still gets its host looked up and its server probed."""
        r = dh.disc_json(dh.guessed(["--ports", ms.PORTS + "," + SUB_PORTS, "--timeout", "5",
                                     "--discover", "manyhosts.test.example"]))
        d = r.json
        eps = ms.endpoints_by_id(d)
        self.assertIn(ID_587, eps, d["discovery"]["candidates"])
        self.assertEqual(eps[ID_587]["source"], "srv")
        self.assertEqual(eps[ID_587]["status"], "ok")
        self.assertEqual(d["recommended"]["submission"]["endpoint"], ID_587)
        cs = d["discovery"]["candidates"]
        self.assertFalse([c for c in cs if c["protocol"] == "submission"
                          and c["dropped"] == "limit reached"])
        self.assertTrue([c for c in cs if c["protocol"] in ("imap", "pop3")
                         and c["dropped"] == "limit reached"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
