#!/usr/bin/env python3
"""Hostile web servers for the autoconfig / Autodiscover fetches (issue 16): behaviour no
real server shows, played by a small HTTP(S) server of the standard library on 127.0.0.1:
a huge body, an XML bomb, a redirect loop, a slow drip past the deadline, TLS failures.

The names are pinned with --resolve (autoconfig.acfake.test.example -> 127.0.0.1); the
test dnsmasq answers the rest (acfake.test.example has no records). mailscope is told the
server's ports with --ports https=...,http=...
"""

import http.server
import os
import socket
import socketserver
import ssl
import threading
import time
import unittest

import disc_helpers as dh
import mstest as ms

DOMAIN = "acfake.test.example"
AC_HOST = "autoconfig." + DOMAIN
WEB_CERT = os.path.join(ms.CERTS, "web.pem")
WEB_KEY = os.path.join(ms.CERTS, "web.key")
WRONG_CERT = os.path.join(ms.CERTS, "wronghost.pem")
WRONG_KEY = os.path.join(ms.CERTS, "wronghost.key")

GOOD = ('<clientConfig version="1.1"><emailProvider id="x"><incomingServer type="imap">'
        '<hostname>%s</hostname><port>%d</port><socketType>SSL</socketType>'
        '</incomingServer></emailProvider></clientConfig>' % (ms.HOST, ms.IMAPS_PORT))
BOMB = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        + "".join(' <!ENTITY lol%d "%s">\n' % (i, ("&lol%s;" % (i - 1 if i > 1 else "")) * 10)
                  for i in range(1, 10))
        + ']>\n<clientConfig>&lol9;</clientConfig>\n')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.do_GET()

    def do_GET(self):
        mode = self.server.mode
        self.server.requests.append((self.command, self.path))
        if mode == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            try:
                chunk = b"<a>" + b"x" * 65536
                for _ in range(800):
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif mode == "huge_chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(800):
                    data = b"<a>" + b"x" * 65536
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            except OSError:
                pass
        elif mode == "bomb":
            self.reply(200, BOMB.encode())
        elif mode == "loop":
            other = "/b" if self.path.startswith("/mail") or self.path == "/a" else "/a"
            self.send_response(302)
            self.send_header("Location", "https://%s%s" % (AC_HOST, other))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "downgrade":
            self.send_response(301)
            self.send_header("Location", "http://%s/mail/config-v1.1.xml" % AC_HOST)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            end = time.monotonic() + 30
            try:
                while time.monotonic() < end and not self.server.stop.is_set():
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass
        else:
            self.reply(200, GOOD.encode())

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode, cert=None, garbage=False):
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = mode
        self.requests = []
        self.stop = threading.Event()
        self.garbage = garbage
        if cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*cert)
            self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.garbage:
            try:
                sock.sendall(b"this is not TLS\r\n" * 4)
            except OSError:
                pass
        return sock, addr

    def handle_error(self, request, client_address):
        pass  # a client that gives up (as mailscope must) is not an error here

    @property
    def port(self):
        return self.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.shutdown()
        self.server_close()


def setUpModule():
    dh.use_zones()


def tearDownModule():
    dh.stop_zones()


def fetch(https_server, http_server=None, extra=(), timeout=None):
    ports = "%s,https=%d" % (ms.PORTS, https_server.port)
    if http_server:
        ports += ",http=%d" % http_server.port
    else:
        ports += ",http=%d" % dh._free_port()
    args = ["--ports", ports, "--resolve", "%s:127.0.0.1" % AC_HOST, "--protocols", "imap"]
    t0 = time.monotonic()
    r = dh.disc_json(args + list(extra) + ["alice@" + DOMAIN], timeout=timeout)
    r.wall = time.monotonic() - t0
    return r, {s["method"]: s for s in r.json["autoconfig"]["sources"]}


class Hostile(unittest.TestCase):
    def test_baseline(self):
        """The fake server itself serves a good file: the harness works."""
        with Server("good", (WEB_CERT, WEB_KEY)) as srv:
            r, s = fetch(srv)
        self.assertEqual(s["autoconfig"]["outcome"], "settings", r.describe())
        self.assertEqual(s["autoconfig"]["settings"][0]["check"], "works")

    def test_huge_body(self):
        for mode in ("huge", "huge_chunked"):
            with self.subTest(mode=mode), Server(mode, (WEB_CERT, WEB_KEY)) as srv:
                r, s = fetch(srv)
                self.assertEqual(s["autoconfig"]["outcome"], "failed", r.describe())
                self.assertEqual(s["autoconfig"]["failure"], "too_large")
                self.assertEqual(s["autoconfig"]["settings"], [])

    def test_xml_bomb(self):
        with Server("bomb", (WEB_CERT, WEB_KEY)) as srv:
            r, s = fetch(srv)
        self.assertEqual(s["autoconfig"]["outcome"], "invalid", r.describe())
        self.assertIn("DOCTYPE", s["autoconfig"]["message"])
        self.assertEqual(s["autoconfig"]["error_line"], 2)
        f = ms.findings(r.json, "autoconfig.invalid")
        self.assertEqual(len(f), 1)

    def test_redirect_loop(self):
        with Server("loop", (WEB_CERT, WEB_KEY)) as srv:
            r, s = fetch(srv)
            n = len(srv.requests)
        self.assertEqual(s["autoconfig"]["outcome"], "redirect_refused", r.describe())
        self.assertIn("loop", s["autoconfig"]["message"])
        self.assertLessEqual(n, 12)  # bounded, whatever the server does

    def test_https_to_http_redirect_refused(self):
        with Server("downgrade", (WEB_CERT, WEB_KEY)) as srv:
            r, s = fetch(srv)
        self.assertEqual(s["autoconfig"]["outcome"], "redirect_refused", r.describe())
        self.assertIn("https to plain http", s["autoconfig"]["message"])

    def test_slow_drip_past_the_deadline(self):
        with Server("drip", (WEB_CERT, WEB_KEY)) as srv:
            r, s = fetch(srv, extra=["--deadline", "3"], timeout=60)
        self.assertEqual(s["autoconfig"]["outcome"], "failed", r.describe())
        self.assertEqual(s["autoconfig"]["failure"], "timeout")
        self.assertIn("deadline", s["autoconfig"]["message"])
        # no hang: the deadline holds (a wide margin for a busy machine under ASan)
        self.assertLess(r.wall, 20, r.describe())

    def test_tls_failures(self):
        with Server("good", (WRONG_CERT, WRONG_KEY)) as srv:
            r, s = fetch(srv)
        a = s["autoconfig"]
        self.assertEqual((a["outcome"], a["failure"]), ("failed", "certificate"), r.describe())
        self.assertTrue(a["certificate_problem"])
        self.assertEqual(a["settings"], [])
        with Server("good", None, garbage=True) as srv:
            r, s = fetch(srv)
        a = s["autoconfig"]
        self.assertEqual((a["outcome"], a["failure"]), ("failed", "tls"), r.describe())
        self.assertIsNone(r.json["autoconfig"]["thunderbird"])

    def test_http_fallback_when_https_fails(self):
        """https fails the certificate; http serves the file: Thunderbird would take it."""
        with Server("good", (WRONG_CERT, WRONG_KEY)) as bad, Server("good") as plain:
            r, s = fetch(bad, plain)
        self.assertEqual(s["autoconfig_http"]["outcome"], "settings", r.describe())
        self.assertEqual(r.json["autoconfig"]["thunderbird"], "autoconfig_http")
        self.assertEqual(len(ms.findings(r.json, "autoconfig.insecure")), 1)


if __name__ == "__main__":
    ms.main()
