#!/usr/bin/env python3
"""mailscope serve (issue 13): every endpoint and every error over real HTTP, against the
test Dovecot and dnsmasq: /healthz, /api/v1/check (GET and POST, the same JSON as
mailscope --json), /api/v1/transcript, /probe, /metrics, /problems/; 400/403/404/405/413/
414/415/429 with RFC 9457 problem details; the deny list (each range, literal and behind a
name, IPv4-mapped IPv6, checked at connect time); the rate limit and the global cap; sign-in
rules (POST body only, HTTPS or loopback, never logged or echoed); security headers; the
access log; HTTPS; config validation (--check-config); SIGTERM with 50 probes in flight.

Ports: MS_SERVE_PORT + 0 .. 3."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
import unittest

import mstest as ms
import servetest as st

PORT = st.SERVE_PORT
PORT_B = st.SERVE_PORT + 1
PORT_C = st.SERVE_PORT + 2
PORT_D = st.SERVE_PORT + 3

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def check_security_headers(tc, headers, what):
    for name, must in SECURITY_HEADERS.items():
        tc.assertIn(name, headers, "%s: no %s header" % (what, name))
        tc.assertIn(must, headers[name], what)
    tc.assertIn("frame-ancestors 'none'", headers["content-security-policy"], what)


def problem(tc, status, headers, body, expect_status, param=Ellipsis):
    """Check an RFC 9457 problem details answer; returns the document."""
    tc.assertEqual(status, expect_status, body[:2000])
    tc.assertEqual(headers.get("content-type"), "application/problem+json")
    doc = json.loads(body)
    tc.assertEqual(doc["status"], expect_status)
    for key in ("type", "title", "detail"):
        tc.assertIsInstance(doc[key], str)
        tc.assertTrue(doc[key])
    if param is not Ellipsis:
        if param is None:
            tc.assertNotIn("invalid-params", doc)
        else:
            tc.assertEqual([p["name"] for p in doc["invalid-params"]], [param], doc)
    return doc


def private_config(**limits):
    cfg = st.default_config()
    if limits:
        cfg["limits"] = limits
    return cfg


class ServeTest(unittest.TestCase):
    """One shared instance with --allow-private (the test servers live on loopback)."""

    @classmethod
    def setUpClass(cls):
        cfg = st.default_config(modules={
            "default": {"ports": st.dovecot_ports()},
            "imaps_only": {"protocols": ["imap"], "ports": st.dovecot_ports(),
                           "require": ["imaps", "tls>=1.2"]},
            "strict": {"ports": st.dovecot_ports(), "require": ["imap:NOSUCHCAP"]},
            "login": {"ports": st.dovecot_ports(), "user": "alice",
                      "password_file": cls.password_file()},
        })
        cfg["limits"] = {"rate_per_minute": 0}
        cls.serve = st.Serve(PORT, cfg, args=["--allow-private"])

    @classmethod
    def tearDownClass(cls):
        rc = cls.serve.stop()
        assert rc == 0, "exit %d\n%s" % (rc, cls.serve.log()[-3000:])

    @classmethod
    def password_file(cls):
        d = tempfile.mkdtemp(prefix="ms-serve-pw-")
        path = os.path.join(d, "pw")
        with open(path, "w") as f:
            f.write(st.PASSWORD + "\n")
        return path

    # ---- healthz and headers ----

    def test_healthz(self):
        status, headers, body = self.serve.get("/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))
        check_security_headers(self, headers, "/healthz")
        status, headers, body = self.serve.request("HEAD", "/healthz")
        self.assertEqual((status, body), (200, b""))

    def test_security_headers_on_every_answer(self):
        for method, path, body in (("GET", "/healthz", None), ("GET", "/metrics", None),
                                   ("GET", "/nope", None), ("POST", "/healthz", "x"),
                                   ("GET", "/api/v1/check", None),
                                   ("GET", "/api/v1/check?target=" + ms.HOST, None),
                                   ("GET", "/problems/bad-parameter", None)):
            status, headers, _ = self.serve.request(method, path, body=body)
            check_security_headers(self, headers, "%s %s -> %d" % (method, path, status))
            self.assertEqual(headers.get("cache-control"), "no-store")

    # ---- /api/v1/check ----

    def test_check_is_the_cli_report(self):
        doc = self.serve.json("/api/v1/check?target=" + ms.HOST)
        ms.validate(doc)
        cli = ms.probe_json(["--ca-file", ms.CA, "--ports", ms.PORTS, ms.HOST]).json
        self.assertEqual(sorted(doc.keys()), sorted(cli.keys()))
        self.assertEqual(doc["status"], "ok", doc)
        self.assertEqual([e["id"] for e in doc["endpoints"]], [e["id"] for e in cli["endpoints"]])
        self.assertEqual(ms.codes(doc), ms.codes(cli))
        self.assertEqual(doc["target"], ms.HOST)
        self.assertEqual(doc["verdicts"], cli["verdicts"])

    def test_check_protocols_and_ports(self):
        doc = self.serve.json("/api/v1/check?target=%s&protocols=pop3&ports=%s"
                              % (ms.HOST, st.quote("pop3s=%d" % ms.POP3S_PORT)))
        ms.validate(doc)
        self.assertEqual(sorted(e["protocol"] for e in doc["endpoints"]), ["pop3", "pop3"])
        doc = self.serve.json("/api/v1/check?target=" + st.quote("imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT)))
        self.assertEqual([e["id"] for e in doc["endpoints"]], ["imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT)])

    def test_check_email_discovery(self):
        doc = self.serve.json("/api/v1/check?target=" + st.quote("alice@srv.test.example"))
        ms.validate(doc)
        self.assertEqual(doc["discovery"]["domain"], "srv.test.example")
        self.assertTrue(doc["discovery"]["candidates"], doc["discovery"])

    def test_module_requirements(self):
        doc = self.serve.json("/api/v1/check?module=imaps_only&target=" + ms.HOST)
        self.assertEqual({e["protocol"] for e in doc["endpoints"]}, {"imap"})
        self.assertEqual(doc["status"], "ok")
        doc = self.serve.json("/api/v1/check?module=strict&target=" + ms.HOST)
        self.assertEqual(doc["status"], "critical")
        self.assertIn("require.unmet", ms.codes(doc))

    def test_expired_certificate_is_a_report_not_an_error(self):
        doc = self.serve.json("/api/v1/check?target=expired.test.example")
        self.assertEqual(doc["status"], "critical")
        self.assertIn("tls.cert_expired", ms.codes(doc))

    def test_post_check_signs_in_and_never_echoes_the_password(self):
        body = {"target": ms.HOST, "user": "alice", "password": st.PASSWORD}
        doc = self.serve.json("/api/v1/check", method="POST", body=body)
        ms.validate(doc)
        raw = json.dumps(doc)
        self.assertNotIn(st.PASSWORD, raw)
        self.assertTrue(any(e["auth"]["ok"] for e in doc["endpoints"] if e.get("auth")), raw[:3000])
        status, _, text = self.serve.request("POST", "/api/v1/transcript", body=body)
        self.assertEqual(status, 200)
        text = text.decode()
        self.assertIn("<redacted>", text)
        self.assertNotIn(st.PASSWORD, text)
        log = self.serve.log()
        self.assertNotIn(st.PASSWORD, log)
        lines = [l for l in self.serve.access_log() if '"POST /api/v1/check ' in l]
        self.assertTrue(lines, log[-2000:])
        m = st.CLF.match(lines[-1])
        self.assertEqual(m.group(2), "<redacted>")  # the user name
        self.assertEqual(m.group(9), ' target="%s"' % ms.HOST)
        self.assertNotIn("alice", lines[-1])

    def test_post_wrong_password(self):
        body = {"target": "imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT), "user": "alice",
                "password": "wrong-pw-Zq9"}
        doc = self.serve.json("/api/v1/check", method="POST", body=body)
        self.assertIn("auth.failed", ms.codes(doc))
        self.assertNotIn("wrong-pw-Zq9", self.serve.log())

    def test_post_email_target_signs_in_as_the_address_or_needs_a_user(self):
        status, headers, body = self.serve.request(
            "POST", "/api/v1/check", body={"target": ms.HOST, "password": "x"})
        problem(self, status, headers, body, 400, "user")

    def test_module_user_signs_in(self):
        doc = self.serve.json("/api/v1/check?module=login&target=" + ms.HOST)
        self.assertTrue(doc["credentials_given"] if "credentials_given" in doc else True)
        self.assertTrue(any(e.get("auth", {}).get("ok") for e in doc["endpoints"]), json.dumps(doc)[:3000])
        status, _, text = self.serve.get("/probe?module=login&target=" + ms.HOST)
        self.assertEqual(status, 200)
        self.assertRegex(text.decode(), r"(?m)^mailscope_login_success\{.*\} 1$")

    def test_transcript(self):
        status, headers, text = self.serve.get(
            "/api/v1/transcript?target=" + st.quote("imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT)))
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        text = text.decode()
        self.assertIn("connecting to 127.0.0.2 port %d" % ms.IMAPS_PORT, text)
        self.assertRegex(text, r"S: \* OK .*Dovecot")

    # ---- /probe ----

    def test_probe_prometheus(self):
        status, headers, text = self.serve.get("/probe?module=default&target=" + ms.HOST)
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        text = text.decode()
        self.assertRegex(text, r"(?m)^# TYPE probe_success gauge$")
        self.assertRegex(text, r"(?m)^probe_success 1$")
        self.assertRegex(text, r"(?m)^probe_duration_seconds [0-9.]+$")
        self.assertRegex(text, r'(?m)^mailscope_probe_success\{target="mail.test.example",host="mail.test.example",protocol="imap",port="%d",security="implicit"\} 1$' % ms.IMAPS_PORT)
        self.assertRegex(text, r"(?m)^mailscope_cert_not_after_timestamp_seconds\{")
        st.promtool_check_metrics(self, text)

    def test_probe_failure_is_probe_success_0(self):
        status, _, text = self.serve.get("/probe?module=default&target=closed.test.example")
        self.assertEqual(status, 200)
        self.assertRegex(text.decode(), r"(?m)^probe_success 0$")
        status, _, text = self.serve.get("/probe?module=strict&target=" + ms.HOST)
        self.assertRegex(text.decode(), r"(?m)^probe_success 0$")
        self.assertIn('code="require.unmet"', text.decode())

    def test_probe_unknown_module(self):
        status, headers, body = self.serve.get("/probe?module=nosuch&target=" + ms.HOST)
        doc = problem(self, status, headers, body, 400, "module")
        self.assertIn("nosuch", doc["detail"])

    def test_probe_module_default_when_absent(self):
        status, _, text = self.serve.get("/probe?target=" + ms.HOST)
        self.assertEqual(status, 200)

    def test_probe_scrape_timeout_header_bounds_the_probe(self):
        """Prometheus says how long it waits (X-Prometheus-Scrape-Timeout-Seconds): a server
        that never answers costs that long, not the module's 30 s deadline."""
        stall = st.Staller("127.0.0.9")
        try:
            cfg = {"modules": {"default": {"ports": {"imaps": stall.port}, "protocols": ["imap"],
                                           "timeout": 30, "deadline": 30}}}
            with st.Serve(PORT_C, cfg, args=["--allow-private"]) as s:
                t0 = time.monotonic()
                status, _, text = s.get("/probe?target=" + st.quote("imaps://127.0.0.9:%d" % stall.port),
                                        headers={"X-Prometheus-Scrape-Timeout-Seconds": "3"})
                elapsed = time.monotonic() - t0
        finally:
            stall.close()
        self.assertEqual(status, 200)
        self.assertRegex(text.decode(), r"(?m)^probe_success 0$")
        self.assertLess(elapsed, 15)
        self.assertGreater(elapsed, 2)

    # ---- /metrics ----

    def test_metrics(self):
        self.serve.get("/healthz")
        self.serve.get("/nope")
        status, headers, text = self.serve.get("/metrics")
        self.assertEqual(status, 200)
        text = text.decode()
        self.assertRegex(text, r'(?m)^mailscope_serve_http_requests_total\{handler="healthz",code="200"\} [1-9]')
        self.assertRegex(text, r'(?m)^mailscope_serve_http_requests_total\{handler="none",code="404"\} [1-9]')
        self.assertRegex(text, r'(?m)^mailscope_serve_probes_in_flight\{state="running"\} \d+$')
        self.assertRegex(text, r'(?m)^mailscope_serve_probe_duration_seconds_bucket\{le="\+Inf"\} \d+$')
        self.assertRegex(text, r'(?m)^mailscope_serve_rejections_total\{reason="rate_limited"\} \d+$')
        for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                     "process_open_fds", "process_max_fds", "process_start_time_seconds"):
            self.assertRegex(text, r"(?m)^%s [0-9.e+]+$" % name)
        rss = int(re.search(r"(?m)^process_resident_memory_bytes (\d+)$", text).group(1))
        self.assertGreater(rss, 1 << 20)
        st.promtool_check_metrics(self, text)

    def test_problem_types_resolve(self):
        for name in ("bad-parameter", "target-denied", "rate-limited", "busy", "shutting-down",
                     "sign-in-needs-https", "unsupported-media-type"):
            status, headers, body = self.serve.get("/problems/" + name)
            self.assertEqual(status, 200, name)
            self.assertTrue(body)
        status, headers, body = self.serve.get("/problems/nope")
        problem(self, status, headers, body, 404)

    # ---- errors ----

    def test_400_bad_parameters(self):
        cases = [
            ("/api/v1/check", "target"),
            ("/api/v1/check?target=", "target"),
            ("/api/v1/check?target=imaps://", "target"),
            ("/api/v1/check?target=x%20y", "target"),
            ("/api/v1/check?target=" + ms.HOST + "&bogus=1", "bogus"),
            ("/api/v1/check?target=a&target=b", "target"),
            ("/api/v1/check?target=%s&protocols=lmtp" % ms.HOST, "protocols"),
            ("/api/v1/check?target=%s&ports=imaps=x" % ms.HOST, "ports"),
            ("/api/v1/check?target=%s&module=nosuch" % ms.HOST, "module"),
            ("/api/v1/check?target=%s&password=hunter2-Zq" % ms.HOST, "password"),
            ("/api/v1/check?target=%s&user=alice" % ms.HOST, "user"),
            ("/probe?target=" + ms.HOST + "&debug=true", "debug"),
            ("/probe?module=default", "target"),
            ("/metrics?x=1", "x"),
        ]
        for path, param in cases:
            with self.subTest(path=path):
                status, headers, body = self.serve.get(path)
                doc = problem(self, status, headers, body, 400, param)
                self.assertEqual(doc["type"], "/problems/bad-parameter")
        self.assertNotIn("hunter2-Zq", self.serve.log())

    def test_400_bad_bodies(self):
        for body, param in (('{"target": 5}', "target"), ('{"nosuch": "x"}', "nosuch"),
                            ("[1, 2]", None), ("{not json", None), ("", None),
                            ('{"target": "a", "target": "b"}', None)):
            with self.subTest(body=body):
                status, headers, text = self.serve.request(
                    "POST", "/api/v1/check", body=body, headers={"Content-Type": "application/json"})
                problem(self, status, headers, text, 400, param if param else Ellipsis)

    def test_415_without_json_content_type(self):
        status, headers, body = self.serve.request(
            "POST", "/api/v1/check", body=json.dumps({"target": ms.HOST}),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        problem(self, status, headers, body, 415)

    def test_404(self):
        for path in ("/nope", "/api/v1/checks", "/api/v2/check", "/probe/x", "/healthz/"):
            status, headers, body = self.serve.get(path)
            problem(self, status, headers, body, 404)

    def test_405(self):
        for method, path, allow in (("POST", "/probe", "GET, HEAD"),
                                    ("DELETE", "/api/v1/check", "GET, HEAD, POST"),
                                    ("PUT", "/healthz", "GET, HEAD"),
                                    ("POST", "/metrics", "GET, HEAD")):
            status, headers, body = self.serve.request(method, path, body="")
            problem(self, status, headers, body, 405)
            self.assertEqual(headers.get("allow"), allow)

    def test_413_body_too_large(self):
        big = json.dumps({"target": ms.HOST, "module": "x" * 20000})
        status, headers, body = self.serve.request("POST", "/api/v1/check", body=big,
                                                   headers={"Content-Type": "application/json"})
        problem(self, status, headers, body, 413)
        # chunked: no Content-Length, the limit holds while the body arrives
        c = self.serve.connection()
        c.putrequest("POST", "/api/v1/check")
        c.putheader("Content-Type", "application/json")
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        try:
            for _ in range(40):
                chunk = b"x" * 1000
                c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            c.send(b"0\r\n\r\n")
        except OSError:
            pass  # the server may close as soon as it has answered
        r = c.getresponse()
        self.assertEqual(r.status, 413)
        c.close()
        # a body where none is taken
        status, headers, body = self.serve.request("GET", "/healthz", body="x" * 100)
        problem(self, status, headers, body, 413)

    def test_414_url_too_long(self):
        status, headers, body = self.serve.get("/api/v1/check?target=" + "a" * 3000)
        problem(self, status, headers, body, 414)

    def test_header_too_large_is_refused(self):
        status, _, _ = self.serve.request("GET", "/healthz", headers={"X-Big": "y" * 40000})
        self.assertIn(status, (413, 431, 400))
        status, _, _ = self.serve.get("/healthz")  # still serving
        self.assertEqual(status, 200)

    def test_slow_request_is_cut_off(self):
        """Slowloris: a request whose headers trickle in is cut off after request_timeout."""
        s = socket.create_connection(("127.0.0.1", PORT))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        s.settimeout(1)
        closed = False
        while time.monotonic() - t0 < 60:
            try:
                s.sendall(b"X-Slow: 1\r\n")
                data = s.recv(100)
                if data == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
        s.close()
        self.assertTrue(closed, "a trickling request was not cut off within 60 s")
        elapsed = time.monotonic() - t0
        self.assertGreater(elapsed, 5)  # request_timeout is 10 s by default
        _, _, text = self.serve.get("/metrics")
        self.assertRegex(text.decode(), r'(?m)^mailscope_serve_rejections_total\{reason="request_timeout"\} [1-9]')


class StreamTest(unittest.TestCase):
    """Accept: application/x-ndjson: each endpoint's facts as soon as it finishes, then the
    report; a slow endpoint does not hold back the others."""

    def test_endpoints_stream_before_the_slow_one(self):
        stall = st.Staller("127.0.0.2")
        try:
            ports = dict(st.dovecot_ports(), pop3s=stall.port)
            cfg = {"modules": {"default": {"ports": ports, "timeout": 4, "deadline": 20}},
                   "limits": {"rate_per_minute": 0}}
            with st.Serve(PORT_C, cfg, args=["--allow-private"]) as s:
                c = s.connection()
                t0 = time.monotonic()
                c.request("GET", "/api/v1/check?target=" + ms.HOST,
                          headers={"Accept": "application/x-ndjson"})
                r = c.getresponse()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.getheader("Content-Type"), "application/x-ndjson")
                self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
                events = []
                while True:
                    line = r.readline()
                    if not line:
                        break
                    events.append((time.monotonic() - t0, json.loads(line)))
                c.close()
        finally:
            stall.close()
        kinds = [e["event"] for _, e in events]
        self.assertEqual(kinds, ["endpoint"] * 4 + ["report"], kinds)
        report = events[-1][1]["report"]
        ms.validate(report)
        by_id = ms.endpoints_by_id(report)
        for t, e in events[:4]:
            ep = e["endpoint"]
            self.assertNotIn("status", ep)
            self.assertEqual(report["endpoints"][e["index"]]["id"], ep["id"])
            full = dict(by_id[ep["id"]])
            full.pop("status")
            self.assertEqual(ep["id"], full["id"])
            self.assertEqual(ep["error"], full["error"])
        slow = [t for t, e in events[:4] if e["endpoint"]["port"] == stall.port]
        fast = [t for t, e in events[:4] if e["endpoint"]["port"] != stall.port]
        self.assertEqual(len(slow), 1)
        self.assertLess(max(fast) + 2, slow[0], events)  # they came while pop3s still waited
        slow_ep = [e for e in report["endpoints"] if e["port"] == stall.port][0]
        self.assertEqual(slow_ep["error"]["code"], "tls.timeout")  # pop3s: TLS never began

    def test_denied_target_is_still_403(self):
        with st.Serve(PORT_C, st.default_config()) as s:
            status, headers, body = s.request("GET", "/api/v1/check?target=" + ms.HOST,
                                              headers={"Accept": "application/x-ndjson"})
            problem(self, status, headers, body, 403, "target")


class DenyTest(unittest.TestCase):
    """Without --allow-private: every private kind of address is refused with 403, as a
    literal and behind a name (checked on the address actually connected to)."""

    LITERALS = ["127.0.0.2", "10.1.2.3", "172.31.255.1", "192.168.10.1", "100.64.1.1",
                "100.127.255.254", "169.254.169.254", "224.0.0.251", "239.255.255.250",
                "0.0.0.0", "255.255.255.255", "::1", "::", "fd12:3456::1", "fe80::1", "ff02::1",
                "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:192.168.1.1", "::ffff:169.254.1.1",
                "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "2002:a00:1::1"]
    NAMES = {"loopback": "127.0.0.2", "ten": "10.255.0.1", "oneseventwo": "172.16.0.1",
             "oneninetwo": "192.168.0.1", "cgnat": "100.64.0.1", "linklocal": "169.254.0.1",
             "multicast": "224.0.0.1", "unspecified": "0.0.0.0", "ula": "fd00::1",
             "linklocal6": "fe80::1", "multicast6": "ff02::1", "v6loopback": "::1",
             "mapped": "::ffff:127.0.0.2", "mappedten": "::ffff:10.0.0.1",
             "nat64": "64:ff9b::a00:1"}

    @classmethod
    def setUpClass(cls):
        cfg = st.default_config()
        cfg["limits"] = {"rate_per_minute": 0}
        cls.serve = st.Serve(PORT_B, cfg)

    @classmethod
    def tearDownClass(cls):
        assert cls.serve.stop() == 0

    def denied(self, path, fragment):
        status, headers, body = self.serve.get(path)
        doc = problem(self, status, headers, body, 403, "target")
        self.assertEqual(doc["type"], "/problems/target-denied")
        self.assertIn(fragment, doc["detail"])
        return doc

    def test_literals(self):
        for addr in self.LITERALS:
            with self.subTest(addr=addr):
                target = "imaps://[%s]:%d" % (addr, ms.IMAPS_PORT) if ":" in addr else addr
                self.denied("/api/v1/check?target=" + st.quote(target), "does not connect")

    def test_names_are_checked_on_the_address_connected_to(self):
        for name, addr in self.NAMES.items():
            with self.subTest(name=name):
                host = "%s.deny.test.example" % name
                doc = self.denied("/api/v1/check?target=" + st.quote(host), addr)
                self.assertIn(host, doc["detail"])
        doc = self.denied("/probe?module=default&target=" + ms.HOST, "127.0.0.2")
        self.assertIn("loopback", doc["detail"])

    def test_discovery_to_a_private_server(self):
        doc = self.denied("/api/v1/check?target=" + st.quote("bob@srv.test.example"), "loopback")
        self.assertRegex(doc["detail"], r"127\.0\.0\.[29] is a loopback address")

    def test_ports_outside_the_module(self):
        for target in ("imaps://%s:25" % ms.HOST, "pop3://%s:22" % ms.HOST):
            status, headers, body = self.serve.get("/api/v1/check?target=" + st.quote(target))
            doc = problem(self, status, headers, body, 403, "target")
            self.assertIn("not a mail port", doc["detail"])
        status, headers, body = self.serve.get(
            "/api/v1/check?target=%s&ports=%s" % (ms.HOST, st.quote("imaps=8080")))
        doc = problem(self, status, headers, body, 403, "ports")
        self.assertIn("8080", doc["detail"])

    def test_metrics_count_denials(self):
        self.serve.get("/api/v1/check?target=10.0.0.1")
        _, _, text = self.serve.get("/metrics")
        self.assertRegex(text.decode(), r'(?m)^mailscope_serve_rejections_total\{reason="denied"\} [1-9]')

    def test_allow_private_lifts_it(self):
        """The same names connect with --allow-private: the deny list, not the network,
        refused them (::ffff:127.0.0.2 reaches Dovecot through the IPv4-mapped address)."""
        with st.Serve(PORT_C, st.default_config(), args=["--allow-private"]) as s:
            for host in ("loopback.deny.test.example", "mapped.deny.test.example"):
                doc = s.json("/api/v1/check?target=" + st.quote("imaps://%s:%d" % (host, ms.IMAPS_PORT)))
                ep = doc["endpoints"][0]
                self.assertIsNone(ep["error"], ep)
                self.assertTrue(ep["tls"]["established"], ep)


class LimitsTest(unittest.TestCase):

    def test_rate_limit_per_client(self):
        cfg = st.default_config(limits={"rate_per_minute": 6, "burst": 3})
        with st.Serve(PORT_C, cfg, args=["--allow-private"]) as s:
            path = "/api/v1/check?target=" + st.quote("imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT))
            for i in range(3):
                status, _, body = s.get(path)
                self.assertEqual(status, 200, body[:500])
            status, headers, body = s.get(path)
            doc = problem(self, status, headers, body, 429)
            self.assertEqual(doc["type"], "/problems/rate-limited")
            retry = int(headers["retry-after"])
            self.assertTrue(1 <= retry <= 11, retry)
            status, _, _ = s.get("/healthz")  # not rate-limited
            self.assertEqual(status, 200)
            # a bad request costs nothing and says what is wrong, even when limited
            status, headers, body = s.get("/api/v1/check")
            problem(self, status, headers, body, 400, "target")
            _, _, text = s.get("/metrics")
            self.assertRegex(text.decode(), r'(?m)^mailscope_serve_rejections_total\{reason="rate_limited"\} 1$')

    def test_trusted_clients_are_not_rate_limited(self):
        cfg = st.default_config(limits={"rate_per_minute": 1, "burst": 1,
                                        "trusted_clients": ["127.0.0.0/8"]})
        with st.Serve(PORT_C, cfg, args=["--allow-private"]) as s:
            for i in range(4):
                status, _, _ = s.get("/probe?target=" + st.quote("imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT)))
                self.assertEqual(status, 200)

    def test_global_cap_on_probes(self):
        stall = st.Staller("127.0.0.9")
        try:
            cfg = {"modules": {"default": {"ports": {"imaps": stall.port}, "protocols": ["imap"],
                                           "allowed_ports": [stall.port], "timeout": 30,
                                           "deadline": 30}},
                   "limits": {"max_probes": 2, "rate_per_minute": 0}}
            with st.Serve(PORT_C, cfg, args=["--allow-private"]) as s:
                target = st.quote("imaps://127.0.0.9:%d" % stall.port)
                conns = []
                for i in range(2):
                    c = s.connection()
                    c.request("GET", "/api/v1/check?target=" + target)
                    conns.append(c)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    _, _, text = s.get("/metrics")
                    if re.search(r'(?m)^mailscope_serve_probes_in_flight\{state="running"\} 2$', text.decode()):
                        break
                    time.sleep(0.1)
                status, headers, body = s.get("/api/v1/check?target=" + target)
                doc = problem(self, status, headers, body, 429)
                self.assertEqual(doc["type"], "/problems/busy")
                self.assertIn("retry-after", headers)
                for c in conns:
                    c.close()
        finally:
            stall.close()


class SignInRulesTest(unittest.TestCase):

    def test_https(self):
        certs = os.path.join(ms.TESTENV, "certs")
        tls = (os.path.join(certs, "valid.pem"), os.path.join(certs, "valid.key"))
        if not os.path.exists(tls[0]):
            names = sorted(os.listdir(certs))
            self.fail("no valid.pem in %s: %s" % (certs, names))
        with st.Serve(PORT_D, st.default_config(), args=["--allow-private"], tls=tls) as s:
            status, headers, body = s.get("/healthz")
            self.assertEqual((status, body), (200, b"ok\n"))
            check_security_headers(self, headers, "https /healthz")
            doc = s.json("/api/v1/check", method="POST",
                         body={"target": "imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT),
                               "user": "alice", "password": st.PASSWORD})
            self.assertTrue(doc["endpoints"][0]["auth"]["ok"], doc["endpoints"][0]["auth"])
            self.assertIn("listening on https://", s.log())
            # plain HTTP to the HTTPS port is not served
            raw = socket.create_connection(("127.0.0.1", PORT_D), timeout=10)
            raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                data = raw.recv(100)
            except OSError:
                data = b""
            raw.close()
            self.assertNotIn(b"200 OK", data)

    def test_sign_in_refused_over_plain_http_from_another_host(self):
        """In a private network namespace (unshare -n), serve listens on 198.51.100.1 and a
        client connects from that (non-loopback) address over plain HTTP: credentials are
        refused with 403 before anything is probed; a check without them is fine."""
        out = st.serve_for_another_host(self, """
            def post(body):
                c = connect(timeout=30)
                c.request("POST", "/api/v1/check", body=json.dumps(body),
                          headers={"Content-Type": "application/json"})
                r = c.getresponse()
                return r.status, json.loads(r.read())
            status, doc = post({"target": "192.0.2.1", "user": "alice", "password": "pw-Zq9x"})
            print(status, doc["type"], doc["invalid-params"][0]["name"])
            status, doc = post({"target": "closed.invalid", "module": "nosuch"})
            print(status, doc["invalid-params"][0]["name"])
            p.terminate()
            err = p.communicate(timeout=60)[1].decode()
            print("rc", p.returncode)
            assert "pw-Zq9x" not in err
            assert "ERROR: AddressSanitizer" not in err, err
        """)
        lines = out.split("\n")
        self.assertEqual(lines[0], "403 /problems/sign-in-needs-https password", out)
        self.assertEqual(lines[1], "400 module", out)
        self.assertEqual(lines[2], "rc 0", out)


class ConfigTest(unittest.TestCase):

    def check_config(self, cfg, files=None):
        d = tempfile.mkdtemp(prefix="ms-serve-cfg-")
        for name, text in (files or {}).items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        path = os.path.join(d, "serve.json")
        with open(path, "w") as f:
            f.write(cfg if isinstance(cfg, str) else json.dumps(cfg).replace("@DIR@", d))
        p = subprocess.run([ms.MAILSCOPE, "serve", "--check-config", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60,
                           env=ms.sanitizer_env(dict(os.environ)))
        st.check_clean(p.stderr, "--check-config")
        return p

    def test_valid(self):
        p = self.check_config({
            "listen": ["127.0.0.1:9999", "[::1]:9999"], "allow_private": False,
            "timeout": 5, "deadline": 20, "concurrency": 50, "dns_servers": ["127.0.0.1:53"],
            "limits": {"max_connections": 100, "max_probes": 10, "rate_per_minute": 30,
                       "burst": 5, "trusted_clients": ["10.0.0.0/8", "2001:db8::/32", "::1"],
                       "request_timeout": 5, "max_body_bytes": 4096, "drain_timeout": 60},
            "modules": {"imap": {"protocols": ["imap"], "ports": {"imaps": 993},
                                 "require": ["imaps", "tls>=1.2"], "forbid": "pop3",
                                 "warning": 2, "critical": 5, "cert_warn_days": 21,
                                 "cert_crit_days": 7},
                        "login": {"user": "monitor", "password_file": "@DIR@/pw"}}},
            files={"pw": "secret-Zq\n"})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("valid", p.stdout)
        self.assertIn("module imap: imap, ports 143,993, timeout 5s, deadline 20s, 3 requirements",
                      p.stdout)
        self.assertIn("module login: imap+pop3", p.stdout)
        self.assertIn("signs in as monitor", p.stdout)
        self.assertNotIn("secret-Zq", p.stdout + p.stderr)

    def test_errors_name_the_key(self):
        cases = [
            ("{", ":1:"),
            ("[]", "(top level)"),
            ({"listn": []}, "listn: unknown key"),
            ({"listen": ["localhost:80"]}, "listen[0]"),
            ({"listen": 5}, "listen:"),
            ({"timeout": 0}, "timeout:"),
            ({"timeout": "5"}, "timeout:"),
            ({"concurrency": 0}, "concurrency:"),
            ({"allow_private": "yes"}, "allow_private:"),
            ({"tls": {"cert": "/nonexistent.pem"}}, "certificate and a key"),
            ({"tls": {"cert": "/nonexistent.pem", "key": "/nonexistent.key"}}, "/nonexistent.pem"),
            ({"ca_file": "/nonexistent-ca.pem"}, "nonexistent-ca.pem"),
            ({"limits": {"max_probes": -1}}, "limits.max_probes"),
            ({"limits": {"burst": 0}}, "limits.burst"),
            ({"limits": {"trusted_clients": ["10.0.0.0/33"]}}, "limits.trusted_clients[0]"),
            ({"limits": {"nope": 1}}, "limits.nope: unknown key"),
            ({"modules": []}, "modules:"),
            ({"modules": {"a b": {}}}, "not a module name"),
            ({"modules": {"m": {"ports": {"imaps": 70000}}}}, "modules.m.ports.imaps"),
            ({"modules": {"m": {"ports": {"smtp": 25}}}}, "modules.m.ports.smtp: unknown key"),
            ({"modules": {"m": {"protocols": ["lmtp"]}}}, "modules.m.protocols[0]"),
            ({"modules": {"m": {"require": ["tls>=9"]}}}, "modules.m.require[0]"),
            ({"modules": {"m": {"forbid": "nosuchthing"}}}, "modules.m.forbid"),
            ({"modules": {"m": {"user": "x"}}}, "modules.m: a user needs a password_file"),
            ({"modules": {"m": {"password_file": "/x"}}}, "needs a user"),
            ({"modules": {"m": {"user": "x", "password_file": "/nonexistent-pw"}}},
             "modules.m.password_file"),
            ({"modules": {"m": {"auth_mech": "CRAM-MD5"}}}, "modules.m.auth_mech"),
            ({"modules": {"m": {"allowed_ports": [0]}}}, "modules.m.allowed_ports"),
            ({"modules": {"m": {"timeout": -1}}}, "modules.m.timeout"),
            ({"modules": {"m": {"nope": 1}}}, "modules.m.nope: unknown key"),
        ]
        for cfg, fragment in cases:
            with self.subTest(cfg=cfg):
                p = self.check_config(cfg)
                self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
                self.assertIn(fragment, p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_bad_usage(self):
        for args, fragment in ((["--listen", "nohost"], "--listen"),
                               (["--timeout", "0"], "--timeout"),
                               (["--concurrency", "x"], "--concurrency"),
                               (["--bogus"], "--bogus"), (["mail.example.com"], "no targets"),
                               (["--config", "/nonexistent.json"], "nonexistent.json")):
            p = subprocess.run([ms.MAILSCOPE, "serve"] + args, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60)
            self.assertEqual(p.returncode, 3, args)
            self.assertIn(fragment, p.stderr)

    def test_help(self):
        p = subprocess.run([ms.MAILSCOPE, "serve", "--help"], stdout=subprocess.PIPE, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0)
        for word in ("--listen", "--config", "--check-config", "--allow-private", "--tls-cert",
                     "--tls-key", "--ca-file", "--dns-server", "--timeout", "--deadline",
                     "--concurrency", "Examples:", "/probe", "/api/v1/check", "/metrics"):
            self.assertIn(word, p.stdout)

    def test_two_listen_addresses(self):
        """--listen is repeatable: IPv4 and IPv6 loopback, one process, one loop."""
        try:
            probe = socket.socket(socket.AF_INET6)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            self.skipTest("no IPv6 loopback here")
        with st.Serve(PORT_D, st.default_config(), args=["--listen", "[::1]:%d" % PORT_D]) as s:
            status, _, body = s.get("/healthz")
            self.assertEqual((status, body), (200, b"ok\n"))
            c = http.client.HTTPConnection("::1", PORT_D, timeout=30)
            c.request("GET", "/healthz")
            r = c.getresponse()
            self.assertEqual((r.status, r.read()), (200, b"ok\n"))
            c.close()
            self.assertIn("listening on http://[::1]:%d/" % PORT_D, s.log())
            time.sleep(0.2)
            self.assertTrue(any(l.startswith("::1 - - [") for l in s.access_log()), s.log())

    def test_port_in_use(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", PORT_D))
        s.listen(1)
        try:
            p = subprocess.run([ms.MAILSCOPE, "serve", "--listen", "127.0.0.1:%d" % PORT_D],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 3)
            self.assertIn("cannot listen on 127.0.0.1:%d" % PORT_D, p.stderr)
        finally:
            s.close()


class AccessLogTest(unittest.TestCase):

    def test_common_log_format(self):
        with st.Serve(PORT_D, st.default_config(), args=["--allow-private"]) as s:
            s.get("/healthz")
            s.get("/api/v1/check?target=" + st.quote("alice@srv.test.example"))
            s.get("/api/v1/check?target=%s&token=tok-Zq9" % ms.HOST)
            s.request("POST", "/api/v1/check", body={"target": "bob@srv.test.example",
                                                     "password": "pw-Zq9"})
            time.sleep(0.2)
            lines = s.access_log()
            log = s.log()
        self.assertEqual(len(lines), 4, log)
        for l in lines:
            m = st.CLF.match(l)
            self.assertEqual(m.group(1), "127.0.0.1")
            self.assertEqual(m.group(6), "HTTP/1.1")
        self.assertIn('"GET /healthz HTTP/1.1" 200 3', lines[0])
        self.assertIn("target=<redacted>@srv.test.example", lines[1])  # no user part
        self.assertNotIn("alice", log)
        self.assertIn("token=<redacted>", lines[2])
        self.assertNotIn("tok-Zq9", log)
        self.assertNotIn("pw-Zq9", log)
        self.assertIn('target="<redacted>@srv.test.example"', lines[3])
        self.assertNotIn("bob", log)


class DrainTest(unittest.TestCase):

    def test_sigterm_with_50_probes_in_flight(self):
        """50 probes hang on a silent server; SIGTERM: no new connections, every request
        in flight is answered, exit 0, within the probes' own deadline."""
        stall = st.Staller("127.0.0.9")
        import threading
        try:
            cfg = {"modules": {"default": {"ports": {"imaps": stall.port}, "protocols": ["imap"],
                                           "timeout": 4, "deadline": 6}},
                   "limits": {"rate_per_minute": 0}}
            s = st.Serve(PORT_D, cfg, args=["--allow-private"])
            results = [None] * 50

            def one(i):
                try:
                    status, _, body = s.get("/probe?target=" + st.quote("imaps://127.0.0.9:%d" % stall.port), timeout=120)
                    results[i] = (status, body.decode())
                except Exception as e:  # a cleanly closed connection is allowed
                    results[i] = ("closed", repr(e))

            threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                _, _, text = s.get("/metrics")
                m = re.search(r'(?m)^mailscope_serve_probes_in_flight\{state="running"\} (\d+)$', text.decode())
                if m and int(m.group(1)) == 50:
                    break
                time.sleep(0.1)
            self.assertTrue(m and int(m.group(1)) == 50, text.decode())
            t0 = time.monotonic()
            s.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            self.assertTrue(ms.port_refuses("127.0.0.1", PORT_D), "still accepting after SIGTERM")
            for t in threads:
                t.join(120)
            rc = s.stop()
            elapsed = time.monotonic() - t0
        finally:
            stall.close()
        self.assertEqual(rc, 0, s.log()[-3000:])
        self.assertLess(elapsed, 60, "drain took %.1f s" % elapsed)
        answered = [r for r in results if r and r[0] == 200]
        self.assertTrue(all(r and r[0] in (200, "closed") for r in results), results)
        self.assertGreaterEqual(len(answered), 45, [r for r in results if r[0] != 200][:3])
        for status, body in answered:
            self.assertRegex(body, r"(?m)^probe_success 0$")
        self.assertIn("shutting down (Terminated): 50 probes in flight", s.log())
        self.assertIn("stopped", s.log())

    def stalled(self, n, limits, signals, delay=0.5):
        """n probes hang on a silent server (60 s timeout); send the signals, delay apart.
        Returns (results, exit code, seconds from the first signal to the exit, log)."""
        import threading
        stall = st.Staller("127.0.0.9")
        try:
            cfg = {"modules": {"default": {"ports": {"imaps": stall.port}, "protocols": ["imap"],
                                           "timeout": 60, "deadline": 90}},
                   "limits": dict({"rate_per_minute": 0}, **limits)}
            s = st.Serve(PORT_D, cfg, args=["--allow-private"])
            results = [None] * n

            def one(i):
                try:
                    status, _, body = s.get("/api/v1/check?target=" + st.quote("imaps://127.0.0.9:%d" % stall.port), timeout=120)
                    results[i] = (status, json.loads(body))
                except Exception as e:
                    results[i] = ("closed", repr(e))

            threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                _, _, text = s.get("/metrics")
                if re.search(r'(?m)^mailscope_serve_probes_in_flight\{state="running"\} %d$' % n, text.decode()):
                    break
                time.sleep(0.1)
            t0 = time.monotonic()
            for sig in signals:
                s.proc.send_signal(sig)
                time.sleep(delay)
            for t in threads:
                t.join(120)
            rc = s.stop()
            return results, rc, time.monotonic() - t0, s.log()
        finally:
            stall.close()

    def test_drain_bound_abandons_what_is_left(self):
        """Probes that would run 60 s more: after drain_timeout (2 s) they are abandoned
        and answered 503; exit 0 (and under ASan: nothing leaked)."""
        results, rc, elapsed, log = self.stalled(10, {"drain_timeout": 2}, [signal.SIGTERM])
        self.assertEqual(rc, 0, log[-3000:])
        self.assertLess(elapsed, 30, log[-3000:])
        for r in results:
            self.assertIn(r[0], (503, "closed"), results)
        self.assertTrue(any(r[0] == 503 for r in results), results)
        for status, doc in results:
            if status == 503:
                self.assertEqual(doc["type"], "/problems/shutting-down")

    def test_second_signal_stops_at_once(self):
        results, rc, elapsed, log = self.stalled(10, {}, [signal.SIGTERM, signal.SIGINT])
        self.assertEqual(rc, 0, log[-3000:])
        self.assertLess(elapsed, 30, log[-3000:])
        self.assertIn("again: abandoning 10 probes in flight", log)
        for r in results:
            self.assertIn(r[0], (503, "closed"), results)


if __name__ == "__main__":
    unittest.main(verbosity=2)
