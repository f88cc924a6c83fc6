#!/usr/bin/env python3
"""What mail programs fetch to set themselves up (issue 16): Thunderbird autoconfig and
Microsoft Autodiscover, served by a real nginx (tests/servers/nginx.sh, 127.0.0.20) for the
ac*.test.example zones of the test dnsmasq, checked against the test Dovecot (incoming) and
the test Postfix (outgoing, SMTP submission on 127.0.0.2).

mailscope is told the web server's ports with --ports https=...,http=... (the URLs
themselves name the standard ports 443/80, as mail programs fetch them), and the test
servers' ports for the guessed names. Every report is validated against report/schema.json.
"""
# fixtures: ms_nginx ms_postfix

import os
import re
import unittest

import disc_helpers as dh
import mstest as ms

HTTPS_PORT = int(os.environ.get("MS_HTTPS_PORT", "10443"))
HTTP_PORT = int(os.environ.get("MS_HTTP_PORT", "10080"))
CLOSED_PORT = int(os.environ.get("MS_CLOSED_PORT", "10999"))
MAIL = ms.HOST


def setUpModule():
    dh.use_zones()


def tearDownModule():
    dh.stop_zones()


def ac_args(*extra):
    return ["--ports", "%s,submission=%d,submissions=%d,https=%d,http=%d" % (
        ms.PORTS, ms.SUBMISSION_PORT, ms.SUBMISSIONS_PORT, HTTPS_PORT, HTTP_PORT)] + list(extra)


def run(domain, *extra, user="alice"):
    return dh.disc_json(ac_args(*extra) + ["%s@%s" % (user, domain)])


def sources(doc):
    return {s["method"]: s for s in doc["autoconfig"]["sources"]}


def codes(doc, prefix=("autoconfig.", "autodiscover.")):
    return sorted(f["code"] for f in doc["findings"] if f["code"].startswith(prefix))


def smtp_setting(doc, method="autoconfig"):
    found = [x for x in sources(doc)[method]["settings"] if x["type"] == "smtp"]
    if len(found) != 1:
        raise AssertionError("expected one smtp setting from %s: %s" % (method, sources(doc)[method]))
    return found[0]


def submission_ids(doc):
    return sorted(e["id"] for e in doc["endpoints"] if e["protocol"] == "submission")


class Autoconfig(unittest.TestCase):
    def test_correct_file_and_autodiscover(self):
        r = run("acgood.test.example")
        d = r.json
        a = d["autoconfig"]
        self.assertEqual(a["address"], "alice@acgood.test.example")
        self.assertEqual(a["thunderbird"], "autoconfig")
        self.assertEqual(a["outlook"], "autodiscover")
        s = sources(d)
        ac = s["autoconfig"]
        self.assertEqual(ac["outcome"], "settings", ac)
        self.assertEqual(ac["url"], "https://autoconfig.acgood.test.example/mail/config-v1.1.xml"
                         "?emailaddress=alice%40acgood.test.example")
        self.assertEqual(ac["http_status"], 200)
        self.assertFalse(ac["plain_http"])
        self.assertEqual(ac["exchanges"][0]["status"], 200)
        self.assertEqual(ac["exchanges"][0]["address"], "127.0.0.20")
        settings = [(x["type"], x["host"], x["port"], x["security"], x["check"]) for x in ac["settings"]]
        self.assertEqual(settings, [
            ("imap", MAIL, ms.IMAPS_PORT, "implicit", "works"),
            ("pop3", MAIL, ms.POP3S_PORT, "implicit", "works"),
            ("smtp", MAIL, ms.SUBMISSION_PORT, "starttls", "works")])
        self.assertEqual(ac["settings"][0]["username"], "alice")
        self.assertEqual(ac["settings"][0]["username_pattern"], "%EMAILLOCALPART%")
        self.assertEqual(ac["settings"][0]["endpoint"], "imaps://%s:%d" % (MAIL, ms.IMAPS_PORT))
        ad = s["autodiscover"]
        self.assertEqual(ad["outcome"], "settings", ad)
        self.assertEqual(ad["exchanges"][0]["method"], "POST")
        self.assertEqual([(x["type"], x["security"], x["check"]) for x in ad["settings"]],
                         [("imap", "implicit", "works"), ("pop3", "implicit", "works"),
                          ("smtp", "starttls", "works")])
        # the outgoing server both name is the test Postfix, probed once, with STARTTLS
        submission = "submission://%s:%d" % (MAIL, ms.SUBMISSION_PORT)
        self.assertEqual(ac["settings"][2]["endpoint"], submission)
        self.assertEqual(ad["settings"][2]["endpoint"], submission)
        self.assertEqual(ac["settings"][2]["check_text"], "works")
        self.assertEqual(submission_ids(d), [submission])
        ep = ms.endpoints_by_id(d)[submission]
        self.assertIn(ep["source"], ("srv", "autoconfig", "autodiscover"))
        self.assertEqual(d["recommended"]["submission"]["endpoint"], submission)
        self.assertEqual(ad["settings"][0]["username"], "alice")
        # the other sources found nothing there
        for m in ("well_known", "autoconfig_http", "well_known_http", "autodiscover_domain",
                  "autodiscover_redirect", "autodiscover_srv"):
            self.assertEqual(s[m]["outcome"], "not_found", s[m])
        self.assertEqual(s["ispdb"]["outcome"], "skipped")
        # each endpoint once: autoconfig, Autodiscover and SRV name the same two
        self.assertEqual(len(d["endpoints"]), len({e["id"] for e in d["endpoints"]}))
        ids = [e["id"] for e in d["endpoints"] if e["host"] == MAIL]
        self.assertEqual(sorted(ids), sorted(["imaps://%s:%d" % (MAIL, ms.IMAPS_PORT),
                                              "pop3s://%s:%d" % (MAIL, ms.POP3S_PORT),
                                              submission]))
        self.assertEqual(codes(d), [])
        self.assertNotIn("autoconfig_note", d["recommended"])
        self.assertEqual(r.rc, 0, r.describe())

    def test_text_section(self):
        r = dh.run(ac_args() + ["alice@acgood.test.example"], env={"NO_COLOR": "1"})
        self.assertIn("What mail programs will be told", r.stdout)
        block = r.stdout.split("What mail programs will be told", 1)[1].split("\n\n", 1)[0]
        self.assertRegex(block, r"Thunderbird +uses autoconfig")
        self.assertRegex(block, r"IMAP +%s:%d SSL/TLS, user alice: works" % (re.escape(MAIL), ms.IMAPS_PORT))
        self.assertRegex(block, r"SMTP +%s:%d STARTTLS, user alice: works" % (re.escape(MAIL), ms.SUBMISSION_PORT))
        self.assertRegex(r.stdout, r"Outgoing mail \(SMTP\): +server %s +port %d +security STARTTLS"
                         % (re.escape(MAIL), ms.SUBMISSION_PORT))
        self.assertEqual(r.rc, 0, r.describe())

    def test_points_to_closed_port(self):
        if not ms.port_refuses(ms.ADDR_VALID, CLOSED_PORT):
            self.skipTest("port %d is not closed on %s" % (CLOSED_PORT, ms.ADDR_VALID))
        d = run("acclosed.test.example", "--protocols", "imap").json
        st = sources(d)["autoconfig"]["settings"][0]
        self.assertEqual((st["port"], st["check"], st["check_text"]),
                         (CLOSED_PORT, "broken", "refused the connection"))
        f = ms.findings(d, "autoconfig.points_to_broken")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertEqual(f[0]["severity"], "warning")
        self.assertEqual(f[0]["endpoint"], "imaps://%s:%d" % (MAIL, CLOSED_PORT))
        self.assertIn("refused the connection", f[0]["message"])
        self.assertIn("autoconfig.acclosed.test.example", f[0]["message"])
        # the endpoint's own finding is there too
        self.assertTrue(ms.findings(d, "tcp.refused", endpoint=f[0]["endpoint"]))

    def test_outgoing_points_to_closed_port(self):
        if not ms.port_refuses(ms.ADDR_VALID, CLOSED_PORT):
            self.skipTest("port %d is not closed on %s" % (CLOSED_PORT, ms.ADDR_VALID))
        d = run("acclosed.test.example", "--protocols", "submission").json
        st = smtp_setting(d)
        submissions = "submissions://%s:%d" % (MAIL, CLOSED_PORT)
        self.assertEqual((st["port"], st["security"], st["check"], st["check_text"], st["endpoint"]),
                         (CLOSED_PORT, "implicit", "broken", "refused the connection", submissions))
        # the incoming setting was not asked for
        self.assertEqual(sources(d)["autoconfig"]["settings"][0]["check"], "not_checked")
        f = ms.findings(d, "autoconfig.points_to_broken")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertEqual(f[0]["endpoint"], submissions)
        self.assertIn("to use SMTP at %s:%d (SSL/TLS)" % (MAIL, CLOSED_PORT), f[0]["message"])
        self.assertIn("refused the connection", f[0]["message"])
        self.assertTrue(ms.findings(d, "tcp.refused", endpoint=submissions))

    def test_plaintext_settings(self):
        d = run("acplain.test.example", "--protocols", "imap").json
        st = sources(d)["autoconfig"]["settings"][0]
        self.assertEqual((st["security"], st["security_text"], st["check"]), ("none", "plain", "insecure"))
        # probed with STARTTLS on that port: the server could do better
        self.assertEqual(st["endpoint"], "imap://%s:%d" % (MAIL, ms.IMAP_PORT))
        f = ms.findings(d, "autoconfig.insecure")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertIn("without encryption", f[0]["message"])
        self.assertIn("offers STARTTLS", f[0]["message"])
        note = d["recommended"]["autoconfig_note"]
        self.assertIsNotNone(note)
        self.assertIn("Thunderbird", note)
        self.assertIn("without encryption", note)

    def test_outgoing_plaintext(self):
        d = run("acplain.test.example", "--protocols", "submission").json
        st = smtp_setting(d)
        submission = "submission://%s:%d" % (MAIL, ms.SUBMISSION_PORT)
        self.assertEqual((st["security"], st["security_text"], st["check"]), ("none", "plain", "insecure"))
        # probed with STARTTLS on that port: Postfix offers it
        self.assertEqual(st["endpoint"], submission)
        self.assertEqual(submission_ids(d), [submission])
        f = ms.findings(d, "autoconfig.insecure")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertIn("to use SMTP at %s:%d without encryption (plain)" % (MAIL, ms.SUBMISSION_PORT),
                      f[0]["message"])
        self.assertIn("offers STARTTLS", f[0]["message"])
        self.assertEqual(d["recommended"]["submission"]["endpoint"], submission)
        note = d["recommended"]["autoconfig_note"]
        self.assertIn("Thunderbird (autoconfig) would set up SMTP at %s:%d (none)" % (MAIL, ms.SUBMISSION_PORT), note)
        self.assertIn("sends passwords without encryption", note)

    def test_http_only(self):
        d = run("achttp.test.example", "--protocols", "imap").json
        s = sources(d)
        self.assertEqual(s["autoconfig"]["outcome"], "not_found")
        self.assertEqual(s["autoconfig"]["http_status"], 404)
        self.assertEqual(s["autoconfig_http"]["outcome"], "settings")
        self.assertTrue(s["autoconfig_http"]["plain_http"])
        self.assertEqual(d["autoconfig"]["thunderbird"], "autoconfig_http")
        f = ms.findings(d, "autoconfig.insecure")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertIn("only served over plain http", f[0]["message"])
        self.assertIn("https://autoconfig.achttp.test.example/mail/config-v1.1.xml", f[0]["remedy"])

    def test_autodiscover_redirect_to_another_domain(self):
        d = run("acredirect.test.example", "--protocols", "imap").json
        s = sources(d)
        for m in ("autodiscover", "autodiscover_redirect"):
            self.assertEqual(s[m]["outcome"], "settings", s[m])
            self.assertEqual(s[m]["redirected_to"], "autodiscover.acother.test.example")
            self.assertEqual(s[m]["final_url"],
                             "https://autodiscover.acother.test.example/autodiscover/autodiscover.xml")
            self.assertEqual([x["status"] for x in s[m]["exchanges"]], [302, 200])
        self.assertEqual([x["method"] for x in s["autodiscover_redirect"]["exchanges"]], ["GET", "POST"])
        f = ms.findings(d, "autodiscover.redirect_other_domain")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertIn("autodiscover.acother.test.example", f[0]["message"])
        self.assertIn("Outlook asks the user", f[0]["message"])

    def test_disagrees_with_srv(self):
        d = run("acdisagree.test.example", "--protocols", "imap").json
        f = ms.findings(d, "autoconfig.disagrees")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertIn("127.0.0.2:%d" % ms.IMAPS_PORT, f[0]["message"])
        self.assertIn("_imaps._tcp.acdisagree.test.example", f[0]["message"])
        self.assertEqual(f[0]["severity"], "info")  # both work
        # both probed, each once
        ids = {e["id"] for e in d["endpoints"]}
        self.assertIn("imaps://127.0.0.2:%d" % ms.IMAPS_PORT, ids)
        self.assertIn("imaps://%s:%d" % (MAIL, ms.IMAPS_PORT), ids)
        self.assertIn("Thunderbird", d["recommended"]["autoconfig_note"])

    def test_outgoing_disagrees_with_srv(self):
        d = run("acdisagree.test.example", "--protocols", "submission").json
        st = smtp_setting(d)
        self.assertEqual((st["host"], st["check"]), ("127.0.0.2", "works"))
        f = ms.findings(d, "autoconfig.disagrees")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertIn("different SMTP servers", f[0]["message"])
        self.assertIn("says 127.0.0.2:%d" % ms.SUBMISSION_PORT, f[0]["message"])
        self.assertIn("SRV (_submission._tcp.acdisagree.test.example) says %s:%d" % (MAIL, ms.SUBMISSION_PORT),
                      f[0]["message"])
        self.assertEqual(f[0]["severity"], "info")  # both work
        self.assertEqual(submission_ids(d), sorted(["submission://127.0.0.2:%d" % ms.SUBMISSION_PORT,
                                                    "submission://%s:%d" % (MAIL, ms.SUBMISSION_PORT)]))
        # mailscope recommends the SRV record's server: the note says what Thunderbird would use
        self.assertEqual(d["recommended"]["submission"]["endpoint"], "submission://%s:%d" % (MAIL, ms.SUBMISSION_PORT))
        self.assertIn("would set up SMTP at 127.0.0.2:%d (STARTTLS), which works too" % ms.SUBMISSION_PORT,
                      d["recommended"]["autoconfig_note"])

    def test_invalid_xml(self):
        d = run("acinvalid.test.example", "--protocols", "imap").json
        s = sources(d)["autoconfig"]
        self.assertEqual(s["outcome"], "invalid")
        self.assertEqual(s["error_line"], 7)
        self.assertEqual(s["settings"], [])
        f = ms.findings(d, "autoconfig.invalid")
        self.assertEqual(len(f), 1, d["findings"])
        self.assertIn("line 7", f[0]["message"])
        self.assertIn("not well-formed", f[0]["message"])
        self.assertIsNone(d["autoconfig"]["thunderbird"])

    def test_sign_in_required_is_a_result(self):
        d = run("acauth.test.example", "--protocols", "imap").json
        s = sources(d)["autodiscover"]
        self.assertEqual((s["outcome"], s["http_status"], s["failure"]), ("sign_in_required", 401, None))
        self.assertEqual(codes(d), [])

    def test_mx_based(self):
        d = run("acmx.test.example", "--protocols", "imap").json
        s = sources(d)["mx_autoconfig"]
        self.assertEqual(d["autoconfig"]["mx_domain"], "acprovider.example")
        self.assertEqual(s["url"], "https://autoconfig.acprovider.example/mail/config-v1.1.xml"
                         "?emailaddress=alice%40acmx.test.example")
        self.assertEqual(s["outcome"], "settings", s)
        self.assertEqual(s["settings"][0]["check"], "works")
        self.assertEqual(d["autoconfig"]["thunderbird"], "mx_autoconfig")

    def test_username_pattern(self):
        env = {"MAILSCOPE_PASSWORD": ms.ALICE_PASSWORD}
        r = dh.disc_json(ac_args("--protocols", "imap,submission", "--user", ms.ALICE,
                                 "alice@acuser.test.example"), env=env)
        d = r.json
        # signed in to IMAP and to the test Postfix (the outgoing server the file names)
        self.assertTrue(ms.auth_of(ms.endpoints_by_id(d)["submissions://%s:%d" % (MAIL, ms.SUBMISSIONS_PORT)])["ok"],
                        r.describe())
        f = ms.findings(d, "autoconfig.username_pattern")
        self.assertEqual(len(f), 2, r.describe())  # IMAP and SMTP
        self.assertEqual(sorted(re.search(r"sign in to (\w+) as", x["message"]).group(1) for x in f),
                         ["IMAP", "SMTP"])
        for x in f:
            self.assertIn('"alice@acuser.test.example"', x["message"])
            self.assertIn("%EMAILADDRESS%", x["message"])
            self.assertIn("%EMAILLOCALPART%", x["remedy"])
        self.assertNotIn(ms.ALICE_PASSWORD, r.stdout + r.stderr)
        # the right pattern: no finding
        d = dh.disc_json(ac_args("--protocols", "imap,submission", "--user", ms.ALICE,
                                 "alice@acgood.test.example"), env=env).json
        self.assertEqual(ms.findings(d, "autoconfig.username_pattern"), [])

    def test_no_autoconfig(self):
        d = run("acclosed.test.example", "--protocols", "imap", "--no-autoconfig").json
        self.assertIsNone(d["autoconfig"])
        self.assertEqual(codes(d), [])
        self.assertFalse([c for c in d["discovery"]["candidates"] if c["source"] == "autoconfig"])

    def test_autoconfig_db_directory(self):
        import tempfile
        with tempfile.TemporaryDirectory(dir=ms.TESTENV) as db:
            with open(os.path.join(db, "nosuchdomain.test.example.xml"), "w") as f:
                f.write('<clientConfig version="1.1"><emailProvider id="x"><incomingServer type="imap">'
                        '<hostname>%s</hostname><port>%d</port><socketType>SSL</socketType>'
                        '<username>%%EMAILADDRESS%%</username></incomingServer></emailProvider>'
                        '</clientConfig>' % (MAIL, ms.IMAPS_PORT))
            d = run("nosuchdomain.test.example", "--protocols", "imap", "--autoconfig-db", db).json
        s = sources(d)["ispdb"]
        self.assertEqual(s["outcome"], "settings", s)
        self.assertEqual(s["settings"][0]["check"], "works")
        self.assertEqual(d["autoconfig"]["thunderbird"], "ispdb")
        self.assertEqual(d["recommended"]["imap"]["endpoint"], "imaps://%s:%d" % (MAIL, ms.IMAPS_PORT))

    def test_outgoing_port25(self):
        # nothing may listen there: mailscope must not talk to a system mail server
        if not ms.port_refuses(ms.ADDR_VALID, 25):
            self.skipTest("port 25 is not closed on %s" % ms.ADDR_VALID)
        import tempfile
        with tempfile.TemporaryDirectory(dir=ms.TESTENV) as db:
            with open(os.path.join(db, "nosuchdomain.test.example.xml"), "w") as f:
                f.write('<clientConfig version="1.1"><emailProvider id="x"><incomingServer type="imap">'
                        '<hostname>%s</hostname><port>%d</port><socketType>SSL</socketType>'
                        '<username>%%EMAILADDRESS%%</username></incomingServer>'
                        '<outgoingServer type="smtp"><hostname>%s</hostname><port>25</port>'
                        '<socketType>STARTTLS</socketType></outgoingServer></emailProvider>'
                        '</clientConfig>' % (MAIL, ms.IMAPS_PORT, MAIL))
            d = run("nosuchdomain.test.example", "--protocols", "submission", "--autoconfig-db", db).json
        st = smtp_setting(d, "ispdb")
        self.assertEqual((st["port"], st["security"], st["check"]), (25, "starttls", "broken"))
        self.assertIsNotNone(st["endpoint"])
        # the endpoint's own finding: port 25 is not for mail programs
        self.assertTrue(ms.findings(d, "submission.port25", endpoint=st["endpoint"]), d["findings"])
        f = ms.findings(d, "autoconfig.points_to_broken")
        self.assertEqual([x["endpoint"] for x in f], [st["endpoint"]])

    def test_trace_shows_http(self):
        r = dh.run(ac_args("--protocols", "imap", "--trace", "--json", "alice@acgood.test.example"))
        lines = [l for l in r.stderr.splitlines() if " http:autoconfig " in l]
        self.assertTrue(any("C: GET /mail/config-v1.1.xml?emailaddress=" in l for l in lines), lines[:20])
        self.assertTrue(any("S: HTTP/1.1 200" in l for l in lines), lines[:40])
        self.assertTrue(any("<clientConfig" in l for l in lines))
        ad = [l for l in r.stderr.splitlines() if " http:autodiscover " in l]
        self.assertTrue(any("C: POST /autodiscover/autodiscover.xml" in l for l in ad))
        self.assertTrue(any("<EMailAddress>alice@acgood.test.example</EMailAddress>" in l for l in ad))
        self.assertFalse([l for l in ad if "Authorization" in l])


if __name__ == "__main__":
    ms.main()
