#!/usr/bin/env python3
"""Discovery reports that say something wrong: each test asserts the right behaviour and

# fixtures: ms_postfix
fails against the binary it was written for (the bug is named in the docstring). Kept
apart from test_discovery.py so that file stays green while these wait for a fix in
report/ (and probe/ for the family); delete a test's docstring note once it passes.
"""

import re
import socket
import unittest

import disc_helpers as dh
import mstest as ms

MAIL = ms.HOST


def setUpModule():
    dh.use_zones()


def tearDownModule():
    dh.stop_zones()


class Wording(unittest.TestCase):
    def test_closed_sibling_remedy_names_each_security(self):
        """srv.test.example: the dead _imaps record's info finding tells users to use
        "mail.test.example:IMAPS and mail.test.example:IMAP (implicit TLS)" although the
        second one is STARTTLS. report/assess_endpoint.c judge_closed_sibling() formats the whole
        sibling list from secure_siblings() with security_words(first->security), the first
        sibling's security only."""
        r = dh.disc_json(["--discover", "srv.test.example"])
        refused = ms.findings(r.json, "tcp.refused")
        self.assertEqual(len(refused), 2)
        for f in refused:
            with self.subTest(endpoint=f["endpoint"]):
                starttls_port = ms.IMAP_PORT if f["endpoint"].startswith("imap") else ms.POP3_PORT
                if "%s:%d" % (MAIL, starttls_port) in f["remedy"]:
                    self.assertIn("STARTTLS", f["remedy"],
                                  "a STARTTLS endpoint is described as implicit TLS")

    def test_srv_target_without_a_record_under_ipv4_only(self):
        """-4 with families.test.example: _pop3s names v6only.test.example, which has an
        AAAA record but no A record. dns.srv_target_unresolvable says "the name has no A or
        AAAA record", which is false. report/assess_discovery.c (the srv_unresolvable loop in the
        discovery findings) maps a "nodata" query to that fixed sentence; the result model
        does not record the -4/-6 restriction (nor which family was asked), so the assessor
        cannot say "no IPv4 (A) address (IPv6 excluded by -4)"."""
        r = dh.disc_json(["-4", "--discover", "families.test.example"])
        f = [x for x in ms.findings(r.json, "dns.srv_target_unresolvable") if dh.V6ONLY in x["message"]]
        self.assertEqual(len(f), 1, r.json["findings"])
        self.assertNotIn("no A or AAAA", f[0]["message"])
        self.assertTrue(re.search(r"IPv4|\bA record|-4", f[0]["message"]), f[0]["message"])

    def test_dns_timeout_is_not_reported_as_no_server(self):
        """A DNS server that never answers: every discovery question times out, yet the only
        findings are proto.unavailable "no server was found (none of the N candidates
        resolves)", as if the domain had no servers, with the remedy "Publish SRV records". The report should say that DNS did not
        answer (e.g. dns.timeout, "check this machine's resolver"), as it does for a bare
        host. report/assess.c (make_verdict) builds proto.unavailable's discovery message from the dropped
        candidates without looking at the query statuses ("timeout")."""
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        try:
            r = ms.run(["--json", "--dns-server", "127.0.0.1:%d" % port, "--ca-file", ms.CA,
                        "--deadline", "2", "--timeout", "1", "--discover", "srv.test.example"],
                       dns=False)
        finally:
            u.close()
        ms.validate(r.json, r)
        d = r.json
        self.assertEqual({q["status"] for q in d["discovery"]["queries"]}, {"timeout"})
        said = ms.findings(d, "dns.timeout") or [
            f for f in d["findings"]
            if re.search(r"time(d)? ?out|did not answer|no answer", f["message"], re.I)]
        self.assertTrue(said, "no finding says that DNS did not answer: %s" % d["findings"])


if __name__ == "__main__":
    ms.main()
