#!/usr/bin/env python3
"""The test Postfix (tests/servers/postfix.sh) behaves as the SMTP submission tests assume.

This checks the environment, not mailscope: it speaks SMTP with Python's smtplib to the
three listeners on 127.0.0.2 and checks what they offer before and after TLS, that AUTH
comes only after TLS where it must (and before TLS on the weak listener), that the test
accounts sign in through the test Dovecot and a wrong password gets 535 5.7.8, that only a
signed-in client may relay (MAIL/RCPT, then RSET: never DATA, no mail is ever sent), that
the instance listens on exactly its three ports, and that nothing listens on port 25.
"""
# fixtures: ms_postfix

import os
import smtplib
import socket
import ssl
import unittest

import disc_helpers as dh
import mstest as ms

HOST = ms.HOST
ADDR = ms.ADDR_VALID
TIMEOUT = 30
CLIENT_NAME = "client.test.example"
ALICE = ("alice", "canary-pw-7Q2x")
BOB = ("bob", "bob-pw-3Kd9")
OUTSIDE = "<someone@outside.example.org>"
# The EHLO keywords the submission session reads (issue 14), as the listeners offer them;
# Postfix also lists VRFY and ETRN, which these tests ignore.
BASE = ["PIPELINING", "SIZE 26214400", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8",
        "CHUNKING"]
KNOWN = {"STARTTLS", "AUTH", "SIZE", "PIPELINING", "8BITMIME", "SMTPUTF8", "CHUNKING",
         "ENHANCEDSTATUSCODES", "DSN", "REQUIRETLS"}


def tls_context():
    """Verify the certificate against the test CA and the host name mail.test.example."""
    ctx = ssl.create_default_context(cafile=ms.CA)
    ctx.check_hostname = True
    return ctx


class Session(smtplib.SMTP):
    """smtplib with the certificate checked for mail.test.example (we connect by address)."""

    def starttls_verified(self):
        code, msg = self.docmd("STARTTLS")
        if code != 220:
            raise AssertionError("STARTTLS refused: %d %r" % (code, msg))
        self.sock = tls_context().wrap_socket(self.sock, server_hostname=HOST)
        self.file = None
        self.helo_resp = self.ehlo_resp = None
        self.esmtp_features = {}
        self.does_esmtp = False


def connect(port):
    return Session(ADDR, port, local_hostname=CLIENT_NAME, timeout=TIMEOUT)


def connect_implicit(port):
    sock = socket.create_connection((ADDR, port), timeout=TIMEOUT)
    tls = tls_context().wrap_socket(sock, server_hostname=HOST)
    s = Session(local_hostname=CLIENT_NAME, timeout=TIMEOUT)
    s.sock = tls
    s.file = None
    code, msg = s.getreply()
    return s, code, msg


def connect_secure(port):
    """A session inside verified TLS on any listener: implicit TLS on submissions, STARTTLS
    (after a first EHLO) on the others."""
    if port == ms.SUBMISSIONS_PORT:
        return connect_implicit(port)[0]
    s = connect(port)
    s.ehlo(CLIENT_NAME)
    s.starttls_verified()
    return s


def keywords(session):
    """The EHLO reply's keyword lines (after the greeting line), as the server wrote them."""
    code, msg = session.ehlo(CLIENT_NAME)
    if code != 250:
        raise AssertionError("EHLO refused: %d %r" % (code, msg))
    lines = msg.decode("ascii").split("\n")
    if lines[0].split()[0] != HOST:
        raise AssertionError("EHLO reply does not start with the host name: %r" % lines)
    return lines[1:]


def known(lines):
    """The lines whose keyword the submission session reads, in the server's order."""
    return [line for line in lines if line.split()[0].split("=")[0].upper() in KNOWN]


class Listeners(unittest.TestCase):
    maxDiff = None

    def quit(self, s):
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            s.close()

    def greeting(self, code, msg):
        self.assertEqual(code, 220)
        self.assertEqual(msg.decode(), "%s ESMTP Postfix" % HOST)

    def test_submission_starttls(self):
        """587-style: STARTTLS offered, AUTH only after TLS, nothing before TLS but EHLO."""
        s = connect(ms.SUBMISSION_PORT)
        try:
            before = keywords(s)
            self.assertEqual(known(before), BASE[:2] + ["STARTTLS"] + BASE[2:], before)
            self.assertFalse([k for k in before if k.upper().startswith("AUTH")], before)
            # no AUTH and no mail before TLS
            must = (530, b"5.7.0 Must issue a STARTTLS command first")
            self.assertEqual(s.docmd("AUTH", "PLAIN AGFsaWNlAGNhbmFyeS1wdy03UTJ4"), must)
            self.assertEqual(s.docmd("MAIL", "FROM:<alice@test.example>"), must)
            s.starttls_verified()
            after = keywords(s)
            self.assertEqual(known(after), BASE[:2] + ["AUTH PLAIN LOGIN"] + BASE[2:], after)
            self.assertNotIn("STARTTLS", after)
        finally:
            self.quit(s)

    def test_submissions_implicit_tls(self):
        """465-style: TLS from the first byte with the valid certificate, AUTH offered."""
        s, code, msg = connect_implicit(ms.SUBMISSIONS_PORT)
        try:
            self.greeting(code, msg)
            self.assertEqual(s.sock.getpeercert()["subject"][-1], (("commonName", HOST),))
            self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
            caps = keywords(s)
            self.assertEqual(known(caps), BASE[:2] + ["AUTH PLAIN LOGIN"] + BASE[2:], caps)
            self.assertNotIn("STARTTLS", caps)
        finally:
            self.quit(s)

    def test_submissions_plaintext_fails(self):
        """The implicit-TLS port does not speak SMTP in clear text."""
        with socket.create_connection((ADDR, ms.SUBMISSIONS_PORT), timeout=TIMEOUT) as c:
            c.settimeout(3)
            try:
                data = c.recv(100)
            except socket.timeout:
                data = b""
            self.assertFalse(data.startswith(b"220"), data)

    def test_weak_auth_before_tls(self):
        """The weak listener offers AUTH PLAIN LOGIN (and AUTH=) in clear text and accepts it."""
        s = connect(ms.SUBMISSION_WEAK_PORT)
        try:
            before = keywords(s)
            self.assertEqual(known(before), BASE[:2] + ["STARTTLS", "AUTH PLAIN LOGIN",
                                                        "AUTH=PLAIN LOGIN"] + BASE[2:], before)
            s.login(*ALICE)  # in clear text: that is the point of this listener
            self.assertEqual(s.docmd("MAIL", "FROM:<alice@test.example>")[0], 250)
            self.assertEqual(s.docmd("RCPT", "TO:" + OUTSIDE), (250, b"2.1.5 Ok"))
            self.assertEqual(s.rset()[0], 250)
        finally:
            self.quit(s)

    def test_weak_starttls(self):
        """The weak listener still offers STARTTLS; after it, AUTH stays offered."""
        s = connect(ms.SUBMISSION_WEAK_PORT)
        try:
            s.ehlo(CLIENT_NAME)
            s.starttls_verified()
            after = keywords(s)
            self.assertEqual(known(after), BASE[:2] + ["AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN"]
                             + BASE[2:], after)
        finally:
            self.quit(s)

    def test_sign_in_accounts(self):
        """alice and bob sign in on both secure listeners (SASL through the test Dovecot)."""
        for port in (ms.SUBMISSION_PORT, ms.SUBMISSIONS_PORT):
            for user, password in (ALICE, BOB):
                with self.subTest(port=port, user=user):
                    s = connect_secure(port)
                    try:
                        s.ehlo(CLIENT_NAME)
                        self.assertEqual(s.login(user, password),
                                         (235, b"2.7.0 Authentication successful"))
                    finally:
                        self.quit(s)

    def test_sign_in_mechanisms(self):
        """PLAIN with an initial response and LOGIN both work."""
        for mech in ("PLAIN", "LOGIN"):
            with self.subTest(mech=mech):
                s = connect_implicit(ms.SUBMISSIONS_PORT)[0]
                try:
                    s.ehlo(CLIENT_NAME)
                    s.user, s.password = ALICE
                    code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower()),
                                     initial_response_ok=(mech == "PLAIN"))
                    self.assertEqual(code, 235)
                finally:
                    self.quit(s)

    def test_wrong_password(self):
        """A wrong password: 535 5.7.8 on every listener."""
        for port in (ms.SUBMISSION_PORT, ms.SUBMISSIONS_PORT, ms.SUBMISSION_WEAK_PORT):
            with self.subTest(port=port):
                # the weak listener takes the wrong password in clear text
                s = connect(port) if port == ms.SUBMISSION_WEAK_PORT else connect_secure(port)
                try:
                    s.ehlo(CLIENT_NAME)
                    with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                        s.login(ALICE[0], "not-the-password")
                    self.assertEqual(cm.exception.smtp_code, 535)
                    self.assertTrue(cm.exception.smtp_error.startswith(b"5.7.8 "),
                                    cm.exception.smtp_error)
                finally:
                    self.quit(s)

    def test_relay_needs_sign_in(self):
        """Mail to an outside domain: refused without sign-in, accepted with it (then RSET)."""
        for port in (ms.SUBMISSION_PORT, ms.SUBMISSIONS_PORT, ms.SUBMISSION_WEAK_PORT):
            with self.subTest(port=port):
                s = connect_secure(port)
                try:
                    s.ehlo(CLIENT_NAME)
                    self.assertEqual(s.docmd("MAIL", "FROM:<alice@test.example>"),
                                     (250, b"2.1.0 Ok"))
                    self.assertEqual(s.docmd("RCPT", "TO:" + OUTSIDE),
                                     (554, ("5.7.1 %s: Relay access denied" % OUTSIDE).encode()))
                    self.assertEqual(s.rset()[0], 250)
                    s.login(*ALICE)
                    self.assertEqual(s.docmd("MAIL", "FROM:<alice@test.example>"),
                                     (250, b"2.1.0 Ok"))
                    self.assertEqual(s.docmd("RCPT", "TO:" + OUTSIDE), (250, b"2.1.5 Ok"))
                    self.assertEqual(s.rset(), (250, b"2.0.0 Ok"))
                finally:
                    self.quit(s)


# ---- what listens ------------------------------------------------------------------------

def _listeners():
    """(inode, address, port) of every listening TCP socket in this network namespace."""
    out = []
    for path, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            with open(path) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] != "0A":  # TCP_LISTEN
                continue
            addr_hex, port_hex = fields[1].split(":")
            raw = bytes.fromhex(addr_hex)
            # /proc shows each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            out.append((int(fields[9]), socket.inet_ntop(family, raw), int(port_hex, 16)))
    return out


def _socket_inodes(pid):
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _is_loopback_or_any(addr):
    if addr in ("0.0.0.0", "::", "::1"):
        return True
    if addr.startswith("::ffff:"):
        addr = addr[7:]
    return addr.startswith("127.")


class Ports(unittest.TestCase):
    def test_nothing_on_port_25(self):
        """No listener on port 25 of a loopback address: connecting is refused."""
        addrs = ["127.0.0.%d" % i for i in range(1, 11)]
        for addr in addrs:
            with self.subTest(addr=addr):
                with self.assertRaises(ConnectionRefusedError):
                    socket.create_connection((addr, 25), timeout=5).close()
        if socket.has_ipv6:
            try:
                socket.create_connection(("::1", 25), timeout=5).close()
                self.fail("something listens on [::1]:25")
            except ConnectionRefusedError:
                pass
            except OSError as e:  # no IPv6 on loopback at all: nothing can listen there
                self.assertNotIsInstance(e, socket.timeout)
        # and no listening socket on port 25 bound to a loopback or wildcard address
        bad = [(a, p) for _, a, p in _listeners() if p == 25 and _is_loopback_or_any(a)]
        self.assertEqual(bad, [])

    def test_instance_listens_on_its_three_ports_only(self):
        """The master of the test instance holds exactly the three listeners on 127.0.0.2."""
        with open(os.path.join(ms.TESTENV, "postfix", "postfix.pid")) as f:
            pid = int(f.read().strip())
        inodes = _socket_inodes(pid)
        mine = sorted((a, p) for inode, a, p in _listeners() if inode in inodes)
        self.assertEqual(mine, sorted([(ADDR, ms.SUBMISSION_PORT), (ADDR, ms.SUBMISSIONS_PORT),
                                       (ADDR, ms.SUBMISSION_WEAK_PORT)]))


# ---- the discovery zones name these listeners ---------------------------------------------

def setUpModule():
    dh.use_zones()


def tearDownModule():
    dh.stop_zones()


class Zones(unittest.TestCase):
    def dns(self):
        host, port = dh.dns_server().rsplit(":", 1)
        return (host, int(port))

    def test_srv_records_point_at_postfix(self):
        """srv.test.example's submission SRV records name the test Postfix, which answers."""
        self.assertEqual(dh.srv_ports("_submission._tcp.srv.test.example", self.dns()),
                         [ms.SUBMISSION_PORT])
        self.assertEqual(dh.srv_records("_submissions._tcp.srv.test.example", self.dns()),
                         [(ms.SUBMISSIONS_PORT, ms.HOST)])
        s = connect(ms.SUBMISSION_PORT)  # mail.test.example is 127.0.0.2 in the zone
        try:
            self.assertEqual(keywords(s)[:1], ["PIPELINING"])
        finally:
            s.close()

    def test_submission_not_offered(self):
        """nosubmission.test.example: _submission target "." (not offered), _submissions real."""
        not_offered = dh.srv_records("_submission._tcp.nosubmission.test.example", self.dns())
        self.assertEqual([target for _, target in not_offered], ["."])
        self.assertEqual(dh.srv_records("_submissions._tcp.nosubmission.test.example", self.dns()),
                         [(ms.SUBMISSIONS_PORT, ms.HOST)])
        self.assertEqual(dh.srv_ports("_imaps._tcp.nosubmission.test.example", self.dns()),
                         [ms.IMAPS_PORT])


if __name__ == "__main__":
    unittest.main(verbosity=2)
