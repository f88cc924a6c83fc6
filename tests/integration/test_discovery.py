#!/usr/bin/env python3
"""Discovery from an e-mail address or a domain (issue 3): SRV, MX and conventional names

# fixtures: ms_postfix
from the test dnsmasq's zones (tests/servers/dnsmasq.sh), probed against the test Dovecot.

Every run goes to the test dnsmasq (--dns-server) with the test CA (--ca-file); traffic
stays on loopback. Each case checks the JSON `discovery` object (queries asked, their
statuses and answers, candidates and why some were dropped), `recommended`, the findings
and the exit code; every report is validated against report/schema.json.
"""

import re
import socket
import time
import unittest

import disc_helpers as dh
import mstest as ms

MAIL = ms.HOST  # mail.test.example: the valid certificate's name, 127.0.0.2


def setUpModule():
    dh.use_zones()


def tearDownModule():
    dh.stop_zones()


class Checks(unittest.TestCase):
    """Invariants every discovery report keeps, whatever the zone."""

    def check_discovery(self, r, domain, user=None):
        d = r.json
        disc = d["discovery"]
        self.assertIsNotNone(disc, r.describe())
        self.assertEqual(disc["domain"], domain)
        self.assertEqual(disc["user"], user)
        self.assertTrue(ms.normnum(disc["duration_ms"]) and disc["duration_ms"] >= 0)
        for q in disc["queries"]:
            with self.subTest(query=(q["type"], q["name"])):
                self.assertTrue(ms.normnum(q["duration_ms"]) and q["duration_ms"] >= 0, q)
                if q["status"] == "ok":
                    self.assertIsNone(q["message"], q)
                else:
                    self.assertTrue(q["message"], q)
                    self.assertEqual(q["answers"], [], q)
        names = [(q["type"], q["name"].lower()) for q in disc["queries"]]
        self.assertEqual(len(names), len(set(names)), "a name was asked twice: %s" % names)

        eps = ms.endpoints_by_id(d)
        self.assertEqual(len(eps), len(d["endpoints"]), "endpoint ids are not unique")
        self.assertLessEqual(len(eps), dh.MAX_ENDPOINTS)
        keys = [dh.candidate_key(c) for c in disc["candidates"]]
        self.assertEqual(len(keys), len(set(keys)), "a candidate is listed twice: %s" % keys)
        probed = set()
        for c in disc["candidates"]:
            with self.subTest(candidate=dh.candidate_key(c)):
                # exactly one of: probed as an endpoint, or dropped with a reason
                self.assertNotEqual(c["endpoint"] is None, c["dropped"] is None, c)
                if c["endpoint"] is not None:
                    self.assertIn(c["endpoint"], eps)
                    self.assertNotIn(c["endpoint"], probed, "two candidates, one endpoint")
                    probed.add(c["endpoint"])
                    e = eps[c["endpoint"]]
                    self.assertEqual((e["host"].lower(), e["port"], e["protocol"], e["security"]),
                                     dh.candidate_key(c))
                    self.assertEqual(e["source"], c["source"])
                    self.assertEqual(e["source_name"], c["source_name"])
                    self.assertIs(e["required"], False)
                    if c["source"] == "srv":
                        self.assertEqual(e["srv"], {"priority": c["priority"], "weight": c["weight"]})
                    else:
                        self.assertIsNone(e["srv"])
                else:
                    self.assertIn(c["dropped"], ("does not resolve", "limit reached"))
                if c["source"] == "conventional":
                    self.assertEqual(c["source_name"], "conventional name")
                    self.assertIsNone(c["priority"])
                    self.assertIsNone(c["weight"])
                if c["source"] == "mx":
                    self.assertEqual(c["source_name"], "%s MX" % domain)
                    self.assertIsNone(c["weight"])
        self.assertEqual(probed, set(eps), "every endpoint comes from exactly one candidate")

        rec = d["recommended"]
        for p in ("imap", "pop3"):
            s = rec[p]
            if s is None:
                continue
            with self.subTest(recommended=p):
                e = eps[s["endpoint"]]
                self.assertEqual(e["protocol"], p)
                self.assertEqual((s["host"], s["port"], s["security"]),
                                 (e["host"], e["port"], e["security"]))
                self.assertIn(s["security"], ("implicit", "starttls"))
                self.assertIs(e["completed_securely"], True)
                self.assertIs(e["tls"]["verified"], True)
                self.assertFalse(ms.findings(d, severity="critical", endpoint=e["id"]))
        if rec["preferred"] is not None:
            self.assertIsNotNone(rec[rec["preferred"]])
        else:
            self.assertIsNone(rec["imap"])
            self.assertIsNone(rec["pop3"])
        return d

    def check_rc(self, r, rc, status):
        self.assertEqual(r.rc, rc, r.describe())
        self.assertEqual(r.json["status"], status)

    def no_worse_than_info(self, d):
        self.assertEqual([f for f in d["findings"] if f["severity"] != "info"], [],
                         "unexpected warnings or criticals")


# ---- srv.test.example: SRV for all four services -------------------------------------------

SRV = "srv.test.example"
SRV_ANSWERS = {
    "_imaps._tcp": {"0 10 %d %s" % (ms.IMAPS_PORT, dh.CLOSED), "10 5 %d %s" % (ms.IMAPS_PORT, MAIL)},
    "_imap._tcp": {"20 0 %d %s" % (ms.IMAP_PORT, MAIL)},
    "_pop3s._tcp": {"0 60 %d %s" % (ms.POP3S_PORT, MAIL), "0 10 %d %s" % (ms.POP3S_PORT, dh.CLOSED)},
    "_pop3._tcp": {"10 0 %d %s" % (ms.POP3_PORT, MAIL)},
    "_submissions._tcp": {"0 1 %d %s" % (dh.SUBMISSIONS_PORT, MAIL)},
    "_submission._tcp": {"0 1 %d %s" % (dh.SUBMISSION_PORT, MAIL)},
}
# (host, port, protocol, security, source_name service, priority, weight), in ranking order:
# by service (imaps, imap, pop3s, pop3, submissions, submission), then lower priority, then higher weight
SRV_CANDIDATES = [
    (dh.CLOSED, ms.IMAPS_PORT, "imap", "implicit", "_imaps._tcp", 0, 10),
    (MAIL, ms.IMAPS_PORT, "imap", "implicit", "_imaps._tcp", 10, 5),
    (MAIL, ms.IMAP_PORT, "imap", "starttls", "_imap._tcp", 20, 0),
    (MAIL, ms.POP3S_PORT, "pop3", "implicit", "_pop3s._tcp", 0, 60),
    (dh.CLOSED, ms.POP3S_PORT, "pop3", "implicit", "_pop3s._tcp", 0, 10),
    (MAIL, ms.POP3_PORT, "pop3", "starttls", "_pop3._tcp", 10, 0),
    (MAIL, dh.SUBMISSIONS_PORT, "submission", "implicit", "_submissions._tcp", 0, 1),
    (MAIL, dh.SUBMISSION_PORT, "submission", "starttls", "_submission._tcp", 0, 1),
]


class SrvRecords(Checks):
    def check_srv_zone(self, r, user):
        d = self.check_discovery(r, SRV, user)
        self.check_rc(r, 0, "ok")

        # every SRV name once, with its answers; the MX; conventional names asked and absent
        for svc, answers in SRV_ANSWERS.items():
            q = dh.query(d, "%s.%s" % (svc, SRV), "SRV")
            self.assertEqual(q["status"], "ok", q)
            self.assertEqual(set(q["answers"]), answers, q)
        mx = dh.query(d, SRV, "MX")
        self.assertEqual((mx["status"], mx["answers"]), ("ok", ["10 %s" % MAIL]))
        for host in ("imap.", "pop.", "pop3.", "mail."):
            self.assertEqual(dh.query(d, host + SRV, "A+AAAA")["status"], "nxdomain")
        self.assertEqual(dh.query(d, SRV, "A+AAAA")["status"], "nodata")
        self.assertEqual(dh.query(d, MAIL, "A+AAAA")["answers"], [ms.ADDR_VALID])
        self.assertEqual(dh.query(d, dh.CLOSED, "A+AAAA")["answers"], [dh.ADDR_CLOSED])
        # the slowest query cannot take longer than discovery as a whole
        slowest = max(q["duration_ms"] for q in d["discovery"]["queries"])
        self.assertLessEqual(slowest, d["discovery"]["duration_ms"] + 0.2)

        # SRV covers every service: nothing is guessed from the MX host or conventional names
        got = [(c["host"], c["port"], c["protocol"], c["security"], c["source_name"],
                c["priority"], c["weight"]) for c in d["discovery"]["candidates"]]
        want = [(h, p, pr, s, "%s.%s" % (svc, SRV), pri, w) for h, p, pr, s, svc, pri, w in SRV_CANDIDATES]
        self.assertEqual(got, want)
        for c in d["discovery"]["candidates"]:
            self.assertEqual(c["source"], "srv")
            self.assertIsNotNone(c["endpoint"], c)
        self.assertEqual(d["discovery"]["srv_not_offered"], [])
        self.assertEqual(d["discovery"]["srv_unresolvable"], [])

        # the submission SRV answers are listed, and their server is probed like the others
        # (the test Postfix on mail.test.example)
        self.assertEqual(sorted(d["discovery"]["submission"]),
                         sorted(["_submissions._tcp: 0 1 %d %s" % (dh.SUBMISSIONS_PORT, MAIL),
                                 "_submission._tcp: 0 1 %d %s" % (dh.SUBMISSION_PORT, MAIL)]))
        self.assertEqual(sorted((e["protocol"], e["port"]) for e in d["endpoints"]
                                if e["port"] in (dh.SUBMISSIONS_PORT, dh.SUBMISSION_PORT)),
                         [("submission", dh.SUBMISSIONS_PORT), ("submission", dh.SUBMISSION_PORT)])

        eps = ms.endpoints_by_id(d)
        self.assertEqual(len(eps), 8)
        for e in d["endpoints"]:
            with self.subTest(endpoint=e["id"]):
                if e["host"] == MAIL:
                    self.assertIs(e["completed_securely"], True)
                    self.assertEqual(e["address"], ms.ADDR_VALID)
                    self.assertEqual(e["addresses"], [ms.ADDR_VALID])
                else:
                    self.assertEqual(e["error"]["code"], "tcp.refused")
                # one family only: no family check
                self.assertEqual(e["families"], {"ipv4": None, "ipv6": None})

        # the better SRV priority is dead: the fallback is recommended, implicit TLS first
        self.assertEqual(d["recommended"], {
            "imap": dh.setting(MAIL, ms.IMAPS_PORT, "implicit", "imap"),
            "pop3": dh.setting(MAIL, ms.POP3S_PORT, "implicit", "pop3"),
            "submission": dh.setting(MAIL, dh.SUBMISSIONS_PORT, "implicit", "submission"),
            "preferred": "imap", "user_name": None})
        # the dead records are info: another endpoint of the protocol works
        refused = ms.findings(d, "tcp.refused")
        self.assertEqual(sorted(f["endpoint"] for f in refused),
                         sorted(["imaps://%s:%d" % (dh.CLOSED, ms.IMAPS_PORT),
                                 "pop3s://%s:%d" % (dh.CLOSED, ms.POP3S_PORT)]))
        for f in refused:
            self.assertEqual(f["severity"], "info")
        self.assertEqual(ms.codes(d), ["tcp.refused"])
        self.assertEqual([(v["protocol"], v["available"], v.get("offered", True), v["status"])
                          for v in d["verdicts"]],
                         [("imap", True, True, "ok"), ("pop3", True, True, "ok"),
                          ("submission", True, True, "ok")])
        return d

    def test_email_address(self):
        r = dh.disc_json(["alice@" + SRV])
        self.check_srv_zone(r, "alice")
        self.assertIn("alice@" + SRV, r.json["target"])

    def test_discover_option(self):
        r = dh.disc_json(["--discover", SRV])
        self.check_srv_zone(r, None)

    def test_ports_option_does_not_change_srv_ports(self):
        """--ports is for guessed hosts; SRV records carry their own ports."""
        r = dh.disc_json(["--ports", "imap=1143,imaps=1993,pop3=1110,pop3s=1995", "--discover", SRV])
        self.check_srv_zone(r, None)

    def test_domain_is_normalised(self):
        """Upper case and a final dot in the address do not change what is asked."""
        for target in (["Alice@SRV.Test.Example"], ["--discover", SRV + "."]):
            with self.subTest(target=target):
                r = dh.disc_json(target)
                d = self.check_discovery(r, SRV, "Alice" if "@" in target[0] else None)
                self.check_rc(r, 0, "ok")
                self.assertEqual(len(d["endpoints"]), 8)
                self.assertEqual(d["recommended"]["imap"], dh.setting(MAIL, ms.IMAPS_PORT, "implicit", "imap"))

    def test_text_report_use_these_settings(self):
        r = dh.run(["alice@" + SRV], env={"NO_COLOR": "1"})
        self.assertEqual(r.rc, 0, r.describe())
        self.assertIn("Discovery for %s" % SRV, r.stdout)
        block = dh.use_these_settings(r.stdout)
        self.assertEqual(len(block), 3, block)
        first, second, third = block
        self.assertRegex(first, r"^\s+Incoming mail \(IMAP\):")
        self.assertRegex(first, r"server\s+%s\s+port\s+%d\s+security\s+SSL/TLS\s*$"
                         % (re.escape(MAIL), ms.IMAPS_PORT))
        self.assertRegex(second, r"^\s+Alternative \(POP3\):")
        self.assertRegex(second, r"server\s+%s\s+port\s+%d\s+security\s+SSL/TLS\s*$"
                         % (re.escape(MAIL), ms.POP3S_PORT))
        self.assertRegex(third, r"^\s+Outgoing mail \(SMTP\):")
        self.assertRegex(third, r"server\s+%s\s+port\s+%d\s+security\s+SSL/TLS\s*$"
                         % (re.escape(MAIL), dh.SUBMISSIONS_PORT))
        self.assertNotIn(dh.CLOSED, "\n".join(block))
        # the block ends the report
        self.assertTrue(r.stdout.rstrip().endswith(block[-1].rstrip()))

    def test_protocols_pop3(self):
        r = dh.disc_json(["--protocols", "pop3", "alice@" + SRV])
        d = self.check_discovery(r, SRV, "alice")
        self.check_rc(r, 0, "ok")
        asked = {q["name"] for q in dh.queries(d, "SRV")}
        # only what was requested is asked: no IMAP and no submission SRV names
        self.assertEqual(asked, {"_pop3s._tcp." + SRV, "_pop3._tcp." + SRV})
        self.assertFalse([q for q in dh.queries(d, "A+AAAA") if q["name"] == "imap." + SRV],
                         "imap.<domain> is asked although only POP3 was requested")
        self.assertEqual({c["protocol"] for c in d["discovery"]["candidates"]}, {"pop3"})
        self.assertEqual({e["protocol"] for e in d["endpoints"]}, {"pop3"})
        self.assertEqual(len(d["endpoints"]), 3)
        self.assertEqual(d["recommended"], dh.recommended(
            pop3=dh.setting(MAIL, ms.POP3S_PORT, "implicit", "pop3"), preferred="pop3"))
        self.assertEqual([v["protocol"] for v in d["verdicts"]], ["pop3"])
        self.no_worse_than_info(d)

    def test_protocols_pop3_text(self):
        r = dh.run(["--protocols", "pop3", "--discover", SRV], env={"NO_COLOR": "1"})
        self.assertEqual(r.rc, 0, r.describe())
        block = dh.use_these_settings(r.stdout)
        self.assertEqual(len(block), 1, block)
        self.assertRegex(block[0], r"^\s+Incoming mail \(POP3\):\s+server\s+%s\s+port\s+%d\s+security\s+SSL/TLS"
                         % (re.escape(MAIL), ms.POP3S_PORT))

    def test_resolve_pin_wins_over_dns(self):
        """--resolve mail.test.example:127.0.0.6 (its certificate also names mail.test.example
        and expires in ~5 days): no DNS question for the pinned host, the pin is used."""
        r = dh.disc_json(["--resolve", "%s:%s" % (MAIL, ms.ADDR_SOON), "--protocols", "imap",
                          "--discover", SRV])
        d = self.check_discovery(r, SRV)
        self.check_rc(r, 1, "warning")
        self.assertFalse([q for q in dh.queries(d, "A+AAAA") if q["name"] == MAIL],
                         "the pinned host was looked up in DNS")
        self.assertEqual(dh.query(d, dh.CLOSED, "A+AAAA")["status"], "ok")
        mail_eps = [e for e in d["endpoints"] if e["host"] == MAIL]
        self.assertEqual(len(mail_eps), 2)
        for e in mail_eps:
            self.assertEqual(e["address"], ms.ADDR_SOON)
            self.assertEqual(e["addresses"], [ms.ADDR_SOON])
            self.assertTrue(ms.findings(d, "tls.cert_expires_soon", endpoint=e["id"]))
        self.assertEqual(d["recommended"]["imap"], dh.setting(MAIL, ms.IMAPS_PORT, "implicit", "imap"))


# ---- nopop.test.example: POP3 SRV target "." ------------------------------------------------

NOPOP = "nopop.test.example"


class NotOffered(Checks):
    def test_pop3_not_offered(self):
        # receiving only: mail.nopop (127.0.0.2, whose certificate does not name it) would be
        # guessed for sending, which is not what this zone is about
        r = dh.disc_json(["--ports", ms.PORTS, "--protocols", "imap,pop3", "alice@" + NOPOP])
        d = self.check_discovery(r, NOPOP, "alice")
        self.check_rc(r, 0, "ok")
        for svc in ("_pop3s._tcp", "_pop3._tcp"):
            q = dh.query(d, "%s.%s" % (svc, NOPOP), "SRV")
            self.assertEqual(q["status"], "ok")
            self.assertEqual(len(q["answers"]), 1, q)
            self.assertTrue(q["answers"][0].endswith(" ."), q)
        self.assertEqual(sorted(d["discovery"]["srv_not_offered"]), ["_pop3._tcp", "_pop3s._tcp"])
        f = ms.findings(d, "dns.srv_not_offered")
        self.assertEqual(len(f), 1, "one finding per protocol: %s" % f)
        self.assertEqual(f[0]["severity"], "info")
        self.assertIsNone(f[0]["endpoint"])
        self.assertIn("POP3", f[0]["message"])
        self.assertIn(NOPOP, f[0]["message"])
        self.assertTrue(f[0]["remedy"])

        # pop.nopop and mail.nopop resolve, yet nothing is guessed: POP3 is not offered and
        # IMAP is covered by SRV
        self.assertEqual(dh.query(d, "pop." + NOPOP, "A+AAAA")["answers"], [ms.ADDR_VALID])
        self.assertEqual(dh.query(d, "mail." + NOPOP, "A+AAAA")["answers"], [ms.ADDR_VALID])
        self.assertEqual([(c["host"], c["port"], c["security"], c["source"])
                          for c in d["discovery"]["candidates"]],
                         [(MAIL, ms.IMAPS_PORT, "implicit", "srv"), (MAIL, ms.IMAP_PORT, "starttls", "srv")])
        self.assertEqual({e["protocol"] for e in d["endpoints"]}, {"imap"})

        v = {x["protocol"]: x for x in d["verdicts"]}
        self.assertIs(v["pop3"]["offered"], False)
        self.assertIs(v["pop3"]["available"], False)
        self.assertEqual(v["pop3"]["status"], "ok")
        self.assertIs(v["imap"]["available"], True)
        self.assertFalse(ms.findings(d, "proto.unavailable"))
        self.assertEqual(d["recommended"], dh.recommended(
            imap=dh.setting(MAIL, ms.IMAPS_PORT, "implicit", "imap"), preferred="imap"))
        self.no_worse_than_info(d)

    def test_only_pop3_requested(self):
        """Only POP3 asked, and the domain says it is not offered: an answer, not an alarm."""
        r = dh.disc_json(["--protocols", "pop3", "--discover", NOPOP])
        d = self.check_discovery(r, NOPOP)
        self.check_rc(r, 0, "ok")
        self.assertEqual(d["endpoints"], [])
        self.assertEqual(d["discovery"]["candidates"], [])
        self.assertEqual(d["recommended"], dh.recommended())
        self.assertEqual(ms.codes(d), ["dns.srv_not_offered"])
        self.assertIs(d["verdicts"][0]["offered"], False)


# ---- badsrv.test.example: SRV targets that do not resolve ------------------------------------

BADSRV = "badsrv.test.example"


class SrvTargetUnresolvable(Checks):
    def test_unresolvable_targets(self):
        # receiving only: this zone has no submission records, and the guessed names do not
        # resolve either
        r = dh.disc_json(["--protocols", "imap,pop3", "--discover", BADSRV])
        d = self.check_discovery(r, BADSRV)
        self.check_rc(r, 1, "warning")
        self.assertEqual(dh.query(d, "nowhere." + BADSRV, "A+AAAA")["status"], "nxdomain")
        self.assertEqual(dh.query(d, "noaddr.test.example", "A+AAAA")["status"], "nodata")
        self.assertEqual(sorted(d["discovery"]["srv_unresolvable"]), sorted([
            "_imaps._tcp.%s -> nowhere.%s" % (BADSRV, BADSRV),
            "_pop3s._tcp.%s -> noaddr.test.example" % BADSRV]))
        for host in ("nowhere." + BADSRV, "noaddr.test.example"):
            cs = dh.candidates(d, host=host)
            self.assertEqual(len(cs), 1, cs)
            self.assertIsNone(cs[0]["endpoint"])
            self.assertEqual(cs[0]["dropped"], "does not resolve")
            self.assertFalse([e for e in d["endpoints"] if e["host"] == host])

        f = ms.findings(d, "dns.srv_target_unresolvable")
        self.assertEqual(len(f), 2, "one finding per record: %s" % f)
        for x in f:
            self.assertEqual(x["severity"], "warning")
            self.assertIsNone(x["endpoint"])
            self.assertTrue(x["remedy"])
        nx = [x for x in f if "nowhere." + BADSRV in x["message"]]
        nodata = [x for x in f if "noaddr.test.example" in x["message"]]
        self.assertEqual(len(nx), 1)
        self.assertEqual(len(nodata), 1)
        self.assertIn("_imaps._tcp." + BADSRV, nx[0]["message"])
        self.assertIn("NXDOMAIN", nx[0]["message"])
        self.assertIn(str(ms.IMAPS_PORT), nx[0]["message"])
        self.assertIn("_pop3s._tcp." + BADSRV, nodata[0]["message"])
        self.assertNotIn("NXDOMAIN", nodata[0]["message"])

        # the STARTTLS records work: recommended, since no implicit TLS endpoint exists
        self.assertEqual(d["recommended"], dh.recommended(
            imap=dh.setting(MAIL, ms.IMAP_PORT, "starttls", "imap"),
            pop3=dh.setting(MAIL, ms.POP3_PORT, "starttls", "pop3"), preferred="imap"))
        self.assertEqual(ms.codes(d), ["dns.srv_target_unresolvable"])


# ---- mxonly.test.example: MX only --------------------------------------------------------------

MXONLY = "mxonly.test.example"


class MxOnly(Checks):
    def test_mx_host_guessed(self):
        """MX 10 mail.test.example (the certificate's name: no mismatch) and MX 20
        mx2.mxonly.test.example (does not resolve: dropped quietly, it is only a guess)."""
        r = dh.disc_json(dh.guessed(["--discover", MXONLY]))
        d = self.check_discovery(r, MXONLY)
        self.check_rc(r, 0, "ok")
        mx = dh.query(d, MXONLY, "MX")
        self.assertEqual(set(mx["answers"]), {"10 " + MAIL, "20 mx2." + MXONLY})
        for svc in ("_imaps._tcp", "_imap._tcp", "_pop3s._tcp", "_pop3._tcp", "_submissions._tcp",
                    "_submission._tcp"):
            self.assertEqual(dh.query(d, "%s.%s" % (svc, MXONLY), "SRV")["status"], "nxdomain")

        cs = d["discovery"]["candidates"]
        self.assertEqual([(c["host"], c["port"], c["protocol"], c["security"], c["priority"])
                          for c in cs[:4]],
                         [(MAIL, ms.IMAPS_PORT, "imap", "implicit", 10), (MAIL, ms.IMAP_PORT, "imap", "starttls", 10),
                          (MAIL, ms.POP3S_PORT, "pop3", "implicit", 10), (MAIL, ms.POP3_PORT, "pop3", "starttls", 10)])
        for c in cs[:4]:
            self.assertEqual(c["source"], "mx")
            self.assertIsNotNone(c["endpoint"])
        mx2 = dh.candidates(d, host="mx2." + MXONLY)
        self.assertEqual(len(mx2), 6)  # IMAP and POP3 (2 each), submission (2)
        self.assertEqual({(c["source"], c["priority"], c["dropped"]) for c in mx2},
                         {("mx", 20, "does not resolve")})
        self.assertEqual(cs[4:8], [c for c in mx2 if c["protocol"] != "submission"],
                         "MX preference order: 10 before 20, before conventional names")
        # sending: the conventional names first (none resolves), the MX hosts last (RFC 6186
        # has no MX rule for submission; a provider's MX often also takes submission)
        receive = [c for c in cs if c["protocol"] != "submission"]
        send = [c for c in cs if c["protocol"] == "submission"]
        conv = [c for c in receive if c["source"] == "conventional"]
        self.assertEqual(len(conv), len(receive) - 8)
        self.assertEqual({c["dropped"] for c in conv}, {"does not resolve"})
        self.assertEqual({c["host"] for c in conv},
                         {"imap." + MXONLY, "pop." + MXONLY, "pop3." + MXONLY, "mail." + MXONLY, MXONLY})
        self.assertEqual([(c["host"], c["port"], c["security"]) for c in send if c["endpoint"]],
                         [(MAIL, dh.SUBMISSIONS_PORT, "implicit"), (MAIL, dh.SUBMISSION_PORT, "starttls")])
        self.assertEqual({c["dropped"] for c in send if not c["endpoint"]}, {"does not resolve"})

        self.assertEqual(len(d["endpoints"]), 6)
        self.assertEqual(d["recommended"], dh.recommended(
            imap=dh.setting(MAIL, ms.IMAPS_PORT, "implicit", "imap"),
            pop3=dh.setting(MAIL, ms.POP3S_PORT, "implicit", "pop3"),
            submission=dh.setting(MAIL, dh.SUBMISSIONS_PORT, "implicit", "submission"),
            preferred="imap"))
        self.assertEqual(d["findings"], [], "guesses that do not resolve are dropped quietly")


# ---- conventional names only -----------------------------------------------------------------

CONV = "conv.test.example"


class ConventionalNames(Checks):
    def test_conventional_names_certificate_mismatch(self):
        """imap.conv and mail.conv resolve to 127.0.0.2, whose certificate names only
        mail.test.example: every endpoint fails verification, nothing is recommended."""
        r = dh.disc_json(dh.guessed(["--discover", CONV]))
        d = self.check_discovery(r, CONV)
        self.check_rc(r, 2, "critical")
        self.assertEqual(dh.query(d, CONV, "MX")["status"], "nodata")
        want = {("imap." + CONV, "imap"), ("mail." + CONV, "imap"), ("mail." + CONV, "pop3"),
                ("mail." + CONV, "submission")}
        probed = set()
        for c in d["discovery"]["candidates"]:
            with self.subTest(candidate=dh.candidate_key(c)):
                self.assertEqual(c["source"], "conventional")
                # the standard ports, as --ports says
                std = {("imap", "implicit"): ms.IMAPS_PORT, ("imap", "starttls"): ms.IMAP_PORT,
                       ("pop3", "implicit"): ms.POP3S_PORT, ("pop3", "starttls"): ms.POP3_PORT,
                       ("submission", "implicit"): dh.SUBMISSIONS_PORT,
                       ("submission", "starttls"): dh.SUBMISSION_PORT}
                self.assertEqual(c["port"], std[(c["protocol"], c["security"])])
                if c["host"] == "imap." + CONV:
                    self.assertEqual(c["protocol"], "imap")
                if c["host"] in ("pop." + CONV, "pop3." + CONV):
                    self.assertEqual(c["protocol"], "pop3")
                if c["endpoint"]:
                    probed.add((c["host"], c["protocol"]))
                else:
                    self.assertEqual(c["dropped"], "does not resolve")
        self.assertEqual(probed, want)
        self.assertEqual(len(d["endpoints"]), 8)
        for e in d["endpoints"]:
            f = ms.findings(d, "tls.cert_hostname_mismatch", endpoint=e["id"])
            self.assertEqual(len(f), 1, e["id"])
            self.assertEqual(f[0]["severity"], "critical")
            self.assertIn(e["host"], f[0]["message"])
            self.assertIs(e["completed_securely"], False)
        self.assertEqual(d["recommended"], dh.recommended())
        self.assertFalse([c for c in ms.codes(d) if c.startswith("dns.")],
                         "conventional names that do not resolve are dropped quietly")

    def test_text_says_why_nothing_is_recommended(self):
        r = dh.run(dh.guessed(["--discover", CONV]), env={"NO_COLOR": "1"})
        self.assertEqual(r.rc, 2, r.describe())
        block = " ".join(x.strip() for x in dh.use_these_settings(r.stdout))
        self.assertIn("No secure setting was found", block)
        self.assertIn("certificate", block)

    def test_standard_ports_without_ports_option(self):
        r = dh.disc_json(["--protocols", "imap", "--timeout", "3", "--discover", CONV])
        d = self.check_discovery(r, CONV)
        self.assertEqual({(c["port"], c["security"]) for c in d["discovery"]["candidates"]},
                         {(993, "implicit"), (143, "starttls")})

    def test_working_conventional_name(self):
        """test.example itself: no SRV, no MX; mail.test.example is its conventional name."""
        r = dh.disc_json(dh.guessed(["--discover", "test.example"]))
        d = self.check_discovery(r, "test.example")
        self.check_rc(r, 0, "ok")
        probed = [c for c in d["discovery"]["candidates"] if c["endpoint"]]
        self.assertEqual({c["host"] for c in probed}, {MAIL})
        self.assertEqual(len(probed), 6)
        self.assertEqual({c["source"] for c in probed}, {"conventional"})
        self.assertEqual(d["recommended"], dh.recommended(
            imap=dh.setting(MAIL, ms.IMAPS_PORT, "implicit", "imap"),
            pop3=dh.setting(MAIL, ms.POP3S_PORT, "implicit", "pop3"),
            submission=dh.setting(MAIL, dh.SUBMISSIONS_PORT, "implicit", "submission"),
            preferred="imap"))
        self.assertEqual(d["findings"], [])


# ---- ranking within one SRV priority, de-duplication, the candidate cap ------------------------

class Ranking(Checks):
    def test_weight_orders_within_priority(self):
        """_imaps 0 60 soon.test.example / 0 10 mail.test.example: same priority, the
        heavier first; soon's certificate expires in ~5 days (warning, not critical), and
        the documented ranking puts SRV order before ok-before-warning."""
        r = dh.disc_json(["--protocols", "imap", "--discover", "weights.test.example"])
        d = self.check_discovery(r, "weights.test.example")
        self.check_rc(r, 1, "warning")
        self.assertEqual([(c["host"], c["priority"], c["weight"]) for c in dh.candidates(d, source="srv")],
                         [(dh.SOON, 0, 60), (MAIL, 0, 10)])
        # _imap has no SRV record: STARTTLS is guessed on the conventional names (none resolves)
        self.assertEqual({(c["security"], c["dropped"]) for c in dh.candidates(d, source="conventional")},
                         {("starttls", "does not resolve")})
        self.assertEqual(d["recommended"]["imap"], dh.setting(dh.SOON, ms.IMAPS_PORT, "implicit", "imap"))
        self.assertEqual(ms.codes(d), ["tls.cert_expires_soon"])

    def test_each_endpoint_once(self):
        """dedup.test.example: _imaps names mail.test.example:IMAPS twice (priorities 0 and
        5); the MX host mail.dedup.test.example is also the conventional mail.<domain>."""
        r = dh.disc_json(dh.guessed(["--discover", "dedup.test.example"]))
        d = self.check_discovery(r, "dedup.test.example")
        self.assertEqual(len(dh.query(d, "_imaps._tcp.dedup.test.example", "SRV")["answers"]), 2)
        imaps = [c for c in dh.candidates(d, host=MAIL) if c["security"] == "implicit"]
        self.assertEqual(len(imaps), 1, imaps)
        self.assertEqual((imaps[0]["priority"], imaps[0]["source"]), (0, "srv"), "kept under its best record")
        dd = dh.candidates(d, host="mail.dedup.test.example")
        self.assertEqual(sorted((c["protocol"], c["security"], c["source"]) for c in dd),
                         [("pop3", "implicit", "mx"), ("pop3", "starttls", "mx"),
                          ("submission", "implicit", "conventional"),
                          ("submission", "starttls", "conventional")],
                         "listed once per endpoint, under the better source: MX for receiving, "
                         "the conventional name for sending (MX hosts come last there); IMAP is "
                         "covered by SRV")
        ids = [e["id"] for e in d["endpoints"]]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(len(ids), 6)
        self.assertEqual(d["recommended"]["imap"], dh.setting(MAIL, ms.IMAPS_PORT, "implicit", "imap"))
        self.assertIsNone(d["recommended"]["pop3"])
        self.check_rc(r, 2, "critical")  # mail.dedup.test.example is not in the certificate

    def test_candidate_cap(self):
        """many.test.example: 16 _imaps and 16 _pop3s records (answers too big for 512-byte
        UDP). At most 32 endpoints; the rest are listed as dropped, "limit reached"."""
        # receiving only: the cap is about the 32 receive records here
        r = dh.disc_json(dh.guessed(["--protocols", "imap,pop3", "--discover", "many.test.example"]))
        d = self.check_discovery(r, "many.test.example")
        self.check_rc(r, 0, "ok")
        for svc in ("_imaps._tcp", "_pop3s._tcp"):
            self.assertEqual(len(dh.query(d, "%s.many.test.example" % svc, "SRV")["answers"]), 16)
        cs = d["discovery"]["candidates"]
        kept = [c for c in cs if c["endpoint"]]
        self.assertEqual(len(kept), dh.MAX_ENDPOINTS)
        self.assertEqual(len(d["endpoints"]), dh.MAX_ENDPOINTS)
        self.assertEqual(cs[:dh.MAX_ENDPOINTS], kept, "the best-ranked candidates are the ones kept")
        self.assertEqual({c["dropped"] for c in cs[dh.MAX_ENDPOINTS:]}, {"limit reached"})
        self.assertEqual(d["recommended"], dh.recommended(
            imap=dh.setting(MAIL, ms.IMAPS_PORT, "implicit", "imap"),
            pop3=dh.setting(MAIL, ms.POP3S_PORT, "implicit", "pop3"), preferred="imap"))
        self.no_worse_than_info(d)


# ---- address families ------------------------------------------------------------------------
# The test Dovecot listens on 127.0.0.x only: ::1 refuses every test port.

class Families(Checks):
    def test_dual_stack_ipv6_refused(self):
        r = dh.disc_json(["--ports", ms.PORTS, "--protocols", "imap", dh.DUAL])
        d = r.json
        self.assertIsNone(d["discovery"])
        self.check_rc(r, 2, "critical")  # dual.test.example is not in the certificate
        self.assertEqual(len(d["endpoints"]), 2)
        for e in d["endpoints"]:
            with self.subTest(endpoint=e["id"]):
                self.assertEqual(e["addresses"], ["::1", ms.ADDR_VALID])
                self.assertEqual(e["address"], ms.ADDR_VALID, "Happy Eyeballs falls back to IPv4")
                v4, v6 = e["families"]["ipv4"], e["families"]["ipv6"]
                self.assertEqual((v4["address"], v4["ok"], v4["error"]), (ms.ADDR_VALID, True, None))
                self.assertTrue(ms.normnum(v4["connect_ms"]))
                self.assertEqual((v6["address"], v6["ok"], v6["error"]), ("::1", False, "tcp.refused"))
                self.assertIsNone(v6["connect_ms"])
                f = ms.findings(d, "tcp.ipv6_unreachable", endpoint=e["id"])
                self.assertEqual(len(f), 1)
                self.assertEqual(f[0]["severity"], "warning")
                self.assertIn("::1", f[0]["message"])
                self.assertIn(ms.ADDR_VALID, f[0]["message"])
                self.assertIn("IPv6 first", f[0]["message"])
                self.assertTrue(ms.findings(d, "tls.cert_hostname_mismatch", endpoint=e["id"]))
        self.assertFalse(ms.findings(d, "tcp.ipv4_unreachable"))

    def test_dual_stack_ipv4_only(self):
        r = dh.disc_json(["-4", "--ports", ms.PORTS, "--protocols", "imap", dh.DUAL])
        d = r.json
        for e in d["endpoints"]:
            self.assertEqual(e["addresses"], [ms.ADDR_VALID])
            self.assertEqual(e["families"], {"ipv4": None, "ipv6": None})
        self.assertFalse(ms.findings(d, "tcp.ipv6_unreachable"))

    def test_aaaa_only_refused(self):
        r = dh.disc_json(["--ports", ms.PORTS, "--protocols", "imap", dh.V6ONLY])
        d = r.json
        self.check_rc(r, 2, "critical")
        for e in d["endpoints"]:
            self.assertEqual((e["address"], e["addresses"]), ("::1", ["::1"]))
            self.assertEqual(e["families"], {"ipv4": None, "ipv6": None})
            self.assertEqual(e["error"]["code"], "tcp.refused")
            self.assertEqual(ms.findings(d, "tcp.refused", endpoint=e["id"])[0]["severity"], "critical")
        self.assertFalse(ms.findings(d, "tcp.ipv4_unreachable"))

    def test_aaaa_only_with_ipv4_only(self):
        r = dh.disc_json(["-4", "--ports", ms.PORTS, "--protocols", "imap", dh.V6ONLY])
        d = r.json
        self.check_rc(r, 2, "critical")
        f = ms.findings(d, "dns.no_address")
        self.assertEqual(len(f), 2)
        for x in f:
            self.assertIn("IPv4", x["message"])

    def test_discovery_across_families(self):
        """families.test.example: _imaps -> dual.test.example, _pop3s -> v6only.test.example."""
        r = dh.disc_json(["--discover", "families.test.example"])
        d = self.check_discovery(r, "families.test.example")
        self.check_rc(r, 2, "critical")
        self.assertEqual(dh.query(d, dh.DUAL, "A+AAAA")["answers"], ["::1", ms.ADDR_VALID])
        self.assertEqual(dh.query(d, dh.V6ONLY, "A+AAAA")["answers"], ["::1"])
        eps = ms.endpoints_by_id(d)
        dual = eps["imaps://%s:%d" % (dh.DUAL, ms.IMAPS_PORT)]
        v6 = eps["pop3s://%s:%d" % (dh.V6ONLY, ms.POP3S_PORT)]
        self.assertEqual(dual["address"], ms.ADDR_VALID)
        self.assertIs(dual["families"]["ipv6"]["ok"], False)
        self.assertTrue(ms.findings(d, "tcp.ipv6_unreachable", endpoint=dual["id"]))
        # the SRV target's certificate does not cover it: the message names the SRV record
        mm = ms.findings(d, "tls.cert_hostname_mismatch", endpoint=dual["id"])
        self.assertEqual(len(mm), 1)
        self.assertIn("_imaps._tcp.families.test.example", mm[0]["message"])
        self.assertEqual(v6["error"]["code"], "tcp.refused")
        self.assertEqual(ms.findings(d, "tcp.refused", endpoint=v6["id"])[0]["severity"], "critical")
        self.assertEqual(d["recommended"], dh.recommended())

    def test_discovery_ipv6_only(self):
        r = dh.disc_json(["-6", "--discover", "families.test.example"])
        d = self.check_discovery(r, "families.test.example")
        self.assertEqual(dh.query(d, dh.DUAL, "A+AAAA")["answers"], ["::1"])
        for e in d["endpoints"]:
            self.assertEqual(e["addresses"], ["::1"])
            self.assertEqual(e["error"]["code"], "tcp.refused")
        self.assertFalse(ms.findings(d, "tcp.ipv6_unreachable"))


# ---- a domain that does not exist; a DNS server that never answers ----------------------------

class NoSuchDomain(Checks):
    def test_nxdomain(self):
        dom = "nosuchdomain.test.example"
        r = dh.disc_json(dh.guessed(["alice@" + dom]))
        d = self.check_discovery(r, dom, "alice")
        self.check_rc(r, 2, "critical")
        self.assertTrue(d["discovery"]["queries"])
        self.assertEqual({q["status"] for q in d["discovery"]["queries"]}, {"nxdomain"})
        self.assertEqual({(q["type"], q["name"]) for q in dh.queries(d, "SRV")},
                         {("SRV", "%s.%s" % (s, dom)) for s in SRV_ANSWERS})
        self.assertEqual(dh.query(d, dom, "MX")["status"], "nxdomain")
        self.assertTrue(d["discovery"]["candidates"])
        self.assertEqual({c["dropped"] for c in d["discovery"]["candidates"]}, {"does not resolve"})
        self.assertEqual(d["endpoints"], [])
        f = ms.findings(d, "proto.unavailable")
        self.assertEqual(sorted(x["message"][:4] for x in f), ["IMAP", "POP3", "SMTP"])
        for x in f:
            self.assertEqual(x["severity"], "critical")
            self.assertIsNone(x["endpoint"])
            self.assertIn(dom, x["message"])
        self.assertEqual(d["recommended"], dh.recommended())
        self.assertEqual(d["discovery"]["srv_unresolvable"], [])

    def test_nxdomain_text(self):
        r = dh.run(["--discover", "nosuchdomain.test.example"], env={"NO_COLOR": "1"})
        self.assertEqual(r.rc, 2, r.describe())
        self.assertIn("No secure setting was found", " ".join(dh.use_these_settings(r.stdout)))


class SilentDnsServer(Checks):
    def test_everything_inside_the_deadline(self):
        """A DNS server on loopback that never answers: every question ends as a timeout,
        and the run ends within --deadline."""
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", port))
            t.listen(8)
        except OSError:
            t.close()
            t = None
        try:
            t0 = time.monotonic()
            r = ms.run(["--json", "--dns-server", "127.0.0.1:%d" % port, "--ca-file", ms.CA,
                        "--deadline", "2", "--timeout", "1", "--discover", SRV], dns=False)
            elapsed = time.monotonic() - t0
        finally:
            u.close()
            if t:
                t.close()
        ms.validate(r.json, r)
        d = self.check_discovery(r, SRV)
        self.check_rc(r, 2, "critical")
        self.assertLess(elapsed, 7.0, "the run took %.1f s with --deadline 2" % elapsed)  # --deadline + 5 s
        self.assertLessEqual(d["duration_ms"], 4000)  # --deadline + 2 s for a busy machine
        self.assertTrue(d["discovery"]["queries"])
        self.assertEqual({q["status"] for q in d["discovery"]["queries"]}, {"timeout"})
        self.assertEqual(d["endpoints"], [])
        self.assertEqual(d["recommended"], dh.recommended())


if __name__ == "__main__":
    ms.main()
