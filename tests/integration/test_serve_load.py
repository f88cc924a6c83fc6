#!/usr/bin/env python3
"""mailscope serve under load (issue 13): 200 concurrent /probe requests against the test
Dovecot are all answered correctly; 1,000 idle connections do not stop /healthz from
answering. Time bounds only check "no hang", with wide margins (ASan, a busy machine).

Ports: MS_SERVE_PORT + 4 .. 5."""

import re
import resource
import socket
import threading
import time
import unittest

import mstest as ms
import servetest as st

PORT = st.SERVE_PORT + 4
PORT_B = st.SERVE_PORT + 5


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class LoadTest(unittest.TestCase):

    def test_200_concurrent_probes(self):
        cfg = st.default_config(concurrency=100,
                                limits={"rate_per_minute": 0, "max_probes": 500})
        cfg["modules"]["default"].update({"timeout": 30, "deadline": 90})
        raise_fd_limit(2048)
        results = [None] * 200
        with st.Serve(PORT, cfg, args=["--allow-private"]) as s:
            def one(i):
                try:
                    status, _, body = s.get("/probe?module=default&target=" + ms.HOST, timeout=300)
                    results[i] = (status, body.decode())
                except Exception as e:
                    results[i] = (None, repr(e))

            barrier = threading.Barrier(200)
            threads = [threading.Thread(target=lambda i=i: (barrier.wait(), one(i)))
                       for i in range(200)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(600)
            elapsed = time.monotonic() - t0
            _, _, metrics = s.get("/metrics")
        self.assertLess(elapsed, 300, "200 probes took %.0f s" % elapsed)
        bad = [r for r in results if not r or r[0] != 200]
        self.assertEqual(bad, [], "%d of 200 not answered with 200: %s" % (len(bad), bad[:3]))
        for status, text in results:
            self.assertRegex(text, r"(?m)^probe_success 1$")
            series = re.findall(r'(?m)^mailscope_probe_success\{target="mail.test.example",.*\} 1$', text)
            self.assertEqual(len(series), 4, text[:2000])
        metrics = metrics.decode()
        self.assertRegex(metrics, r'(?m)^mailscope_serve_probes_total 200$')
        self.assertRegex(metrics, r'(?m)^mailscope_serve_http_requests_total\{handler="probe",code="200"\} 200$')
        self.assertRegex(metrics, r'(?m)^mailscope_serve_probe_duration_seconds_count 200$')

    def test_1000_idle_connections_do_not_stop_healthz(self):
        limit = raise_fd_limit(4096)
        if limit < 1100:
            self.skipTest("this process may open only %d files" % limit)
        cfg = st.default_config(limits={"request_timeout": 120, "max_connections": 2000})
        idle = []
        with st.Serve(PORT_B, cfg) as s:
            try:
                for i in range(1000):
                    c = socket.create_connection(("127.0.0.1", PORT_B), timeout=30)
                    if i % 3 == 0:
                        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
                    idle.append(c)
                deadline = time.monotonic() + 60
                open_now = 0
                while time.monotonic() < deadline:
                    _, _, text = s.get("/metrics", timeout=30)
                    open_now = int(re.search(r"(?m)^mailscope_serve_http_connections (\d+)$",
                                             text.decode()).group(1))
                    if open_now >= 1000:
                        break
                    time.sleep(0.2)
                self.assertGreaterEqual(open_now, 1000)
                for _ in range(20):
                    t0 = time.monotonic()
                    status, _, body = s.get("/healthz", timeout=30)
                    self.assertEqual((status, body), (200, b"ok\n"))
                    self.assertLess(time.monotonic() - t0, 10)
            finally:
                for c in idle:
                    c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
