#!/usr/bin/env python3
"""Discovery when the resolver, not the domain, is broken (issue 11): every DNS question
fails, so the report must blame the resolver (dns.error / dns.timeout naming it), not say
"none of the candidates resolves" as if the domain had no servers.

A small DNS responder on loopback (UDP and TCP, standard library) plays the broken
resolver: it answers REFUSED, or SERVFAIL, or sets TC (truncated) on UDP and closes every
TCP connection at once. No real resolver refuses on demand, hence this fake."""
import json
import socket
import struct
import threading
import unittest

import cmdtest as ct


class BrokenResolver:
    """mode: "refused" | "servfail" | "truncate" (TC over UDP, TCP closed)."""

    def __init__(self, mode):
        self.mode = mode
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(16)
        self.stop = False
        self.asked = 0
        self.threads = [threading.Thread(target=self.serve_udp, daemon=True),
                        threading.Thread(target=self.serve_tcp, daemon=True)]

    def answer(self, query):
        ident, flags = struct.unpack("!HH", query[:4])
        rcode = {"refused": 5, "servfail": 2}.get(self.mode, 0)
        tc = 0x0200 if self.mode == "truncate" else 0
        # QR, the query's opcode and RD, RA, TC, the rcode; the question echoed, no answers
        out_flags = 0x8000 | (flags & 0x7900) | 0x0080 | tc | rcode
        qd = struct.unpack("!H", query[4:6])[0]
        return struct.pack("!HHHHHH", ident, out_flags, qd, 0, 0, 0) + query[12:]

    def serve_udp(self):
        self.udp.settimeout(0.2)
        while not self.stop:
            try:
                data, peer = self.udp.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(data) >= 12:
                self.asked += 1
                self.udp.sendto(self.answer(data), peer)

    def serve_tcp(self):
        self.tcp.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.mode == "truncate":
                conn.close()  # the TCP fallback goes nowhere
                continue
            try:
                conn.settimeout(1)
                n = struct.unpack("!H", conn.recv(2))[0]
                data = conn.recv(n)
                reply = self.answer(data)
                conn.sendall(struct.pack("!H", len(reply)) + reply)
            except (OSError, struct.error):
                pass
            conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop = True
        for t in self.threads:
            t.join(2)
        self.udp.close()
        self.tcp.close()


class AllQuestionsFail(unittest.TestCase):
    def discover(self, mode):
        with BrokenResolver(mode) as dns:
            r = ct.run(["--json", "--timeout", "2", "--deadline", "10", "--dns-server",
                        "127.0.0.1:%d" % dns.port, "alice@broken-resolver.example"])
            self.assertGreater(dns.asked, 0, "mailscope asked the resolver")
        return r

    def check_blames_resolver(self, mode, code):
        r = self.discover(mode)
        self.assertEqual(r.rc, 2, r.describe())
        doc = json.loads(r.stdout)
        found = [f for f in doc["findings"] if f["code"] == code and f["endpoint"] is None]
        self.assertEqual(len(found), 1, [f["code"] for f in doc["findings"]])
        f = found[0]
        self.assertEqual(f["severity"], "critical")
        self.assertIn("127.0.0.1:", f["message"], "the message names the resolver")
        self.assertIn("broken-resolver.example", f["message"])
        self.assertRegex(f["remedy"], r"--dns-server|resolver")
        self.assertEqual(doc["discovery"]["resolver"].split(":")[0], "127.0.0.1")
        for u in [x for x in doc["findings"] if x["code"] == "proto.unavailable"]:
            self.assertIn("because DNS", u["message"], "no blame on the domain")
            self.assertNotIn("candidates resolves", u["message"])
            self.assertIn(code, u["remedy"])
        return f

    def test_refused(self):
        # c-ares reports a REFUSED from every server as "Could not contact DNS servers"
        f = self.check_blames_resolver("refused", "dns.error")
        self.assertIn("DNS failed: all", f["message"])

    def test_servfail(self):
        self.check_blames_resolver("servfail", "dns.error")

    def test_truncated_and_tcp_closed(self):
        self.check_blames_resolver("truncate", "dns.error")


if __name__ == "__main__":
    unittest.main(verbosity=2)
