#!/usr/bin/env python3
"""The helpdesk page of `mailscope serve` (issue 13), in a real browser and over HTTP.

A headless Chromium (Debian `chromium`), driven over the DevTools protocol with Debian's
python3-websocket:
  A. opens /, fills the form with the test Dovecot's host, submits (the page's script
     streams the endpoints from /check/events), waits for the report, checks the DOM text
     (the verdict lines in the text report's words, "Use these settings", the summary
     table, the endpoints, the timing picture) and saves screenshots (desktop and phone
     width) into build/screenshots/; then the same check with JavaScript disabled (the
     streamed /check page alone);
  B. a fake IMAP server (tests/fake/fakeserver.py) whose greeting and STARTTLS refusal carry
     <script> and <img onerror> payloads: nothing runs (document.title and a global flag
     unchanged, no <img>, one <script>), and the payloads show as text.
Over HTTP (http.client): the security headers (CSP without inline script or style), no
inline script/style/handlers in the markup, /static/, CSRF refusals, the redirect to the
shareable URL, credentials refused in URLs, sign-in from loopback against Dovecot (alice)
with the password absent from the response and the log, the deny list and the rate limit
as HTML pages with their status.

Ports: MS_PAGE_PORT + 0 .. 2 (tests/integration/CMakeLists.txt MS_TEST_PAGE_PORT)."""

import base64
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import urllib.parse

import mstest as ms
import servetest as st

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fake"))
import fakeserver  # noqa: E402  (tests/fake/fakeserver.py, used as a library)

try:
    import websocket  # python3-websocket (Debian)
except ImportError:  # pragma: no cover
    websocket = None

PORT = int(os.environ.get("MS_PAGE_PORT", "10200"))
SCREENSHOTS = os.environ.get("MS_SCREENSHOTS", os.path.join(os.getcwd(), "screenshots"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WAIT = 120  # seconds: a "no hang" bound only (ASan, a busy 2-core machine)


class Chromium:
    """One headless Chromium with one page, over the DevTools protocol."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ms-chromium-")
        args = [CHROMIUM, "--headless=new", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update",
                "--hide-scrollbars", "--mute-audio", "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1", "--window-size=1100,900",
                "--user-data-dir=" + os.path.join(self.dir, "profile"), "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
        self.log = open(os.path.join(self.dir, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        port_file = os.path.join(self.dir, "profile", "DevToolsActivePort")
        deadline = time.monotonic() + 60
        port = None
        while time.monotonic() < deadline and port is None:
            if self.proc.poll() is not None:
                raise AssertionError("chromium exited with %d" % self.proc.returncode)
            try:
                with open(port_file) as f:
                    port = int(f.readline().strip())
            except (OSError, ValueError):
                time.sleep(0.1)
        if port is None:
            self.close()
            raise AssertionError("chromium did not open its DevTools port")
        page = None
        while time.monotonic() < deadline and page is None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/json/list")
            targets = json.loads(c.getresponse().read())
            c.close()
            page = next((t for t in targets if t.get("type") == "page"), None)
            if page is None:
                time.sleep(0.1)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=WAIT,
                                              suppress_origin=True)
        self.next_id = 0
        self.events = []
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, **params):
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise AssertionError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expr, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.eval(expr):
                return
            time.sleep(0.1)
        raise AssertionError("timed out waiting for %s; page text:\n%s"
                             % (expr, self.eval("document.body ? document.body.innerText : ''")))

    def navigate(self, url):
        self.call("Page.navigate", url=url)
        self.wait("document.readyState === 'complete' && location.href === %s" % json.dumps(url))

    def screenshot(self, path, width=1100, mobile=False):
        height = self.eval("Math.ceil(document.documentElement.scrollHeight)")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=max(600, height),
                  deviceScaleFactor=1, mobile=mobile)
        # the layout may change with the width: measure again
        height = self.eval("Math.ceil(document.documentElement.scrollHeight)")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=max(600, height),
                  deviceScaleFactor=1, mobile=mobile)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        self.call("Emulation.clearDeviceMetricsOverride")
        return path

    def console_errors(self):
        return [e for e in self.events if e.get("method") == "Runtime.exceptionThrown"]

    def close(self):
        try:
            if getattr(self, "ws", None):
                try:
                    self.call("Browser.close")
                except Exception:
                    pass
                self.ws.close()
        finally:
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)


def page_config(**modules):
    cfg = st.default_config()
    cfg["limits"] = {"rate_per_minute": 0}
    if modules:
        cfg["modules"] = modules
    return cfg


def text_verdicts():
    """The verdict sentences of the text report (mailscope on the command line)."""
    r = ms.run(["--ca-file", ms.CA, "--ports", ms.PORTS, ms.HOST])
    lines = []
    for line in r.stdout.splitlines():
        if line.startswith("Overall:"):
            break
        if line.startswith(" "):  # a wrapped verdict line goes on
            lines[-1] += " " + line.strip()
        else:
            lines.append(line.split(None, 1)[1])
    return lines


def fetch_form(serve):
    status, headers, body = serve.get("/")
    assert status == 200, body
    m = re.search(rb'name="csrf" value="([^"]+)"', body)
    assert m, body
    return m.group(1).decode()


def post_form(serve, fields, headers=None):
    body = urllib.parse.urlencode(fields)
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or {})
    return serve.request("POST", "/check", body=body, headers=h, timeout=WAIT)


@unittest.skipIf(websocket is None, "python3-websocket is not installed (scripts/deps.sh)")
@unittest.skipIf(not os.path.exists(CHROMIUM), "chromium is not installed (scripts/deps.sh)")
class BrowserTest(unittest.TestCase):
    """A. the page against the test Dovecot."""

    @classmethod
    def setUpClass(cls):
        cls.serve = st.Serve(PORT, page_config(), args=["--allow-private"])
        try:
            cls.browser = Chromium()
        except Exception:
            cls.serve.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        rc = cls.serve.stop()
        assert rc == 0, "exit %d\n%s" % (rc, cls.serve.log()[-3000:])

    def base(self):
        return "http://127.0.0.1:%d" % PORT

    def check_report(self, b):
        """The DOM of a finished report for the test Dovecot."""
        verdicts = b.eval("Array.from(document.querySelectorAll('#report .verdict'))"
                          ".map(e => e.innerText.replace(/\\s+/g, ' ').trim())")
        want = text_verdicts()
        self.assertEqual(len(verdicts), len(want), verdicts)
        for got, words in zip(verdicts, want):
            self.assertEqual(got, "OK " + words)  # the tag, then the text report's words
        self.assertTrue(any(v.startswith("OK IMAP works securely on %d" % ms.IMAPS_PORT)
                            for v in verdicts), verdicts)
        overall = b.eval("document.querySelector('#report .overall').innerText")
        self.assertIn("Overall: OK for " + ms.HOST, overall)

        settings = b.eval("document.getElementById('settings-text').textContent")
        self.assertIn("Incoming mail (IMAP):  server %s  port %d  security SSL/TLS"
                      % (ms.HOST, ms.IMAPS_PORT), settings)
        self.assertIn("Alternative (POP3):    server %s  port %d  security SSL/TLS"
                      % (ms.HOST, ms.POP3S_PORT), settings)

        heads = b.eval("Array.from(document.querySelectorAll('.summary-table thead th'))"
                       ".map(e => e.textContent)")
        self.assertEqual(heads, ["Question", "IMAP", "POP3"])
        rows = b.eval("Object.fromEntries(Array.from(document.querySelectorAll("
                      "'.summary-table tbody tr')).map(tr => [tr.querySelector('th').textContent,"
                      " Array.from(tr.querySelectorAll('td')).map(td => td.textContent)]))")
        self.assertEqual(rows["Secure connection?"], ["yes", "yes"])
        self.assertEqual(rows["Push mail?"][0], "yes")
        self.assertIn("PLAIN", rows["Sign-in methods"][0])

        ids = b.eval("Array.from(document.querySelectorAll('#report details.endpoint summary "
                     "code')).map(e => e.textContent)")
        self.assertEqual(sorted(ids), sorted(ms.standard_endpoints()))
        self.assertGreaterEqual(b.eval("document.querySelectorAll('#report svg.timeline-svg "
                                       "rect').length"), 12)
        self.assertIn("No findings.", b.eval("document.querySelector('#report .findings')"
                                             ".innerText"))
        self.assertEqual(b.eval("document.title"), "mailscope")

    def test_a_form_submit_streams_the_result(self):
        b = self.browser
        b.call("Emulation.setScriptExecutionDisabled", value=False)
        b.navigate(self.base() + "/")
        b.wait("document.getElementById('f-target') !== null")
        self.assertIn("password travels only in this form's POST body",
                      b.eval("document.body.textContent"))
        b.eval("document.getElementById('f-target').value = %s" % json.dumps(ms.HOST))
        b.eval("document.querySelector('button.go').click()")
        b.wait("document.getElementById('report') !== null")
        # the script kept the page and moved it to the shareable address
        self.assertEqual(b.eval("location.pathname + location.search"),
                         "/check?target=" + ms.HOST)
        self.check_report(b)
        # the copy and save buttons are the script's: shown
        self.assertFalse(b.eval("document.querySelector('button.copy').hidden"))
        self.assertFalse(b.eval("document.querySelector('button.download').hidden"))
        self.assertIn("CAPABILITY", b.eval("document.getElementById('transcript-text')"
                                           ".textContent"))
        path = b.screenshot(os.path.join(SCREENSHOTS, "page-result.png"))
        self.assertGreater(os.path.getsize(path), 10000)
        b.eval("document.querySelectorAll('details.endpoint').forEach(d => d.open = true)")
        b.screenshot(os.path.join(SCREENSHOTS, "page-result-phone.png"), width=390, mobile=True)
        self.assertEqual(b.console_errors(), [])
        # /check/events served it, and the log names the target (once the stream ended)
        line = re.compile(r'"GET /check/events\?target=%s HTTP/1.1" 200' % re.escape(ms.HOST))
        deadline = time.monotonic() + 60
        while not line.search(self.serve.log()) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertRegex(self.serve.log(), line)
        # everything the browser asked for was there (CSS, JS, the icon)
        self.assertNotRegex(self.serve.log(), r'" 404 \d+')

    def test_c_sign_in_in_the_browser(self):
        """The sign-in fields (offered: the browser is on loopback) post the form; the
        result page says who signed in, and the password is nowhere in the page or URL."""
        b = self.browser
        b.call("Emulation.setScriptExecutionDisabled", value=False)
        b.navigate(self.base() + "/")
        b.wait("document.getElementById('f-password') !== null")
        b.eval("document.querySelector('details.signin-fields').open = true")
        b.eval("document.getElementById('f-target').value = %s" % json.dumps(ms.HOST))
        b.eval("document.getElementById('f-user').value = 'alice'")
        b.eval("document.getElementById('f-password').value = %s" % json.dumps(st.PASSWORD))
        b.eval("document.querySelector('button.go').click()")
        b.wait("location.pathname === '/check' && document.getElementById('report') !== null")
        self.assertEqual(b.eval("location.search"), "")  # a POST: nothing in the URL
        text = b.eval("document.getElementById('report').innerText")
        self.assertIn("Signed in as alice on imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT), text)
        self.assertIn("alice (for every server above)",
                      b.eval("document.getElementById('settings-text').textContent"))
        self.assertEqual(b.eval("document.getElementById('f-user').value"), "alice")
        self.assertEqual(b.eval("document.getElementById('f-password').value"), "")
        self.assertNotIn(st.PASSWORD, b.eval("document.documentElement.outerHTML"))
        rows = b.eval("Object.fromEntries(Array.from(document.querySelectorAll("
                      "'.summary-table tbody tr')).map(tr => [tr.querySelector('th').textContent,"
                      " Array.from(tr.querySelectorAll('td')).map(td => td.textContent)]))")
        self.assertTrue(rows["Enabled for this account?"][0].startswith("yes"), rows)
        b.screenshot(os.path.join(SCREENSHOTS, "page-signin.png"))

    def test_d_email_address(self):
        b = self.browser
        b.navigate(self.base() + "/check?target=" + urllib.parse.quote("alice@srv.test.example"))
        b.wait("document.getElementById('report') !== null")
        text = b.eval("document.getElementById('report').textContent")
        self.assertIn("Discovery for srv.test.example", text)
        self.assertIn("What mail programs will be told", text)
        b.eval("document.querySelectorAll('#report details').forEach(d => d.open = true)")
        b.screenshot(os.path.join(SCREENSHOTS, "page-email.png"))

    def test_b_without_javascript(self):
        b = self.browser
        b.call("Emulation.setScriptExecutionDisabled", value=True)
        try:
            b.navigate(self.base() + "/check?target=" + ms.HOST)
            b.wait("document.getElementById('report') !== null")
            self.check_report(b)
            # the progress section is hidden once the report is there (CSS only)
            self.assertEqual(b.eval("getComputedStyle(document.getElementById('progress'))"
                                    ".display"), "none")
            self.assertEqual(b.eval("document.querySelectorAll('#live details.endpoint.live')"
                                    ".length"), 4)
            self.assertTrue(b.eval("document.querySelector('button.copy').hidden"))
            b.screenshot(os.path.join(SCREENSHOTS, "page-result-nojs.png"))
        finally:
            b.call("Emulation.setScriptExecutionDisabled", value=False)


HOSTILE = {"connections": 2, "lifetime": 90, "script": [
    {"send": "* OK <script>window.__ms_flag='pwned';document.title='pwned'</script>"
             "<img src=x onerror=\"window.__ms_flag='img';document.title='img'\"> fake IMAP ready\r\n"},
    {"expect": "(?P<tag>\\S+) CAPABILITY", "timeout": 60},
    {"send": "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n{tag} OK done\r\n"},
    {"expect": "(?P<tag>\\S+) STARTTLS", "timeout": 60},
    {"send": "{tag} NO <img src=x onerror=\"window.__ms_flag='refusal'\">"
             "<script>window.__ms_flag='refusal2'</script> TLS is off\r\n"},
    {"branch": [{"expect": "(?P<tag>\\S+) LOGOUT",
                 "then": [{"send": "* BYE bye\r\n{tag} OK\r\n"}]}], "eof_ok": True},
]}


@unittest.skipIf(websocket is None, "python3-websocket is not installed (scripts/deps.sh)")
@unittest.skipIf(not os.path.exists(CHROMIUM), "chromium is not installed (scripts/deps.sh)")
class HostileServerTest(unittest.TestCase):
    """B. a server whose words are markup: shown as text, nothing runs."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ms-page-fake-")
        self.fake = fakeserver.FakeServer(HOSTILE, {}).start()
        cfg = page_config(default={"protocols": ["imap"], "ports": {"imap": self.fake.port}})
        self.serve = st.Serve(PORT + 1, cfg, args=["--allow-private", "--timeout", "5"])
        self.browser = Chromium()

    def tearDown(self):
        self.browser.close()
        rc = self.serve.stop()
        self.fake.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(rc, 0, self.serve.log()[-3000:])

    def nothing_ran(self, b, flag):
        self.assertEqual(b.eval("window.__ms_flag === undefined ? 'unset' : window.__ms_flag"),
                         flag)
        self.assertEqual(b.eval("document.title"), "mailscope")
        self.assertEqual(b.eval("document.querySelectorAll('img, [onerror], [onload]').length"),
                         0)
        self.assertEqual(b.eval("Array.from(document.querySelectorAll('script'))"
                                ".map(s => s.getAttribute('src'))"), ["/static/page.js"])
        greeting = b.eval("Array.from(document.querySelectorAll('#report dt')).filter(d => "
                          "d.textContent === 'greeting').map(d => d.nextSibling.textContent)")
        self.assertEqual(greeting, ["* OK <script>window.__ms_flag='pwned';document.title="
                                    "'pwned'</script><img src=x onerror=\"window.__ms_flag="
                                    "'img';document.title='img'\"> fake IMAP ready"])
        text = b.eval("document.getElementById('report').innerText")
        self.assertIn("<img src=x onerror=\"window.__ms_flag='refusal'\">"
                      "<script>window.__ms_flag='refusal2'</script> TLS is off", text)

    def test_hostile_words_are_text(self):
        b = self.browser
        target = "imap://127.0.0.1:%d" % self.fake.port
        base = "http://127.0.0.1:%d" % (PORT + 1)
        # through the form and the event stream (HTML inserted by the script)
        b.navigate(base + "/")
        b.eval("window.__ms_flag = 'clean'")
        b.eval("document.getElementById('f-target').value = %s" % json.dumps(target))
        b.eval("document.querySelector('button.go').click()")
        b.wait("document.getElementById('report') !== null")
        self.assertIn("CRITICAL", b.eval("document.querySelector('#report .verdict').innerText"))
        self.nothing_ran(b, "clean")
        b.eval("document.querySelectorAll('details.endpoint').forEach(d => d.open = true)")
        self.nothing_ran(b, "clean")  # opening the details runs nothing either
        b.screenshot(os.path.join(SCREENSHOTS, "page-hostile.png"))
        # the streamed page itself (parsed by the browser's HTML parser)
        b.navigate(base + "/check?target=" + urllib.parse.quote(target, safe=""))
        b.wait("document.getElementById('report') !== null")
        self.nothing_ran(b, "unset")
        self.assertEqual(b.console_errors(), [])
        self.assertEqual(self.fake.errors, [])


@unittest.skipIf(websocket is None, "python3-websocket is not installed (scripts/deps.sh)")
@unittest.skipIf(not os.path.exists(CHROMIUM), "chromium is not installed (scripts/deps.sh)")
class BrowserRefusalTest(unittest.TestCase):
    """The script's way when the service says no: a refusal found while checking (the deny
    list) comes as an event and shows in the page; a refusal before the check (the rate
    limit: the event stream's status is 429) sends the browser to the result page, which
    says why with its status."""

    def test_refusals_show_in_the_page(self):
        cfg = st.default_config()
        cfg["limits"] = {"rate_per_minute": 1, "burst": 1}
        with st.Serve(PORT + 2, cfg) as serve:  # no --allow-private
            b = Chromium()
            try:
                base = "http://127.0.0.1:%d" % (PORT + 2)
                for expect in ("Target not allowed", "Too many requests"):
                    b.navigate(base + "/")
                    b.eval("document.getElementById('f-target').value = %s" % json.dumps(ms.HOST))
                    b.eval("document.querySelector('button.go').click()")
                    b.wait("document.querySelector('section.problem') !== null")
                    problem = b.eval("document.querySelector('section.problem').innerText")
                    self.assertIn(expect, problem)
                    if expect == "Target not allowed":
                        self.assertIn("127.0.0.2", problem)  # the address, named
                    self.assertEqual(b.eval("location.pathname + location.search"),
                                     "/check?target=" + ms.HOST)
                self.assertRegex(serve.log(), r'"GET /check\?target=%s HTTP/1.1" 429'
                                 % re.escape(ms.HOST))
            finally:
                b.close()


class HttpTest(unittest.TestCase):
    """The page over HTTP: headers, markup, CSRF, sign-in, refusals."""

    @classmethod
    def setUpClass(cls):
        cls.serve = st.Serve(PORT, page_config(), args=["--allow-private"])

    @classmethod
    def tearDownClass(cls):
        rc = cls.serve.stop()
        assert rc == 0, "exit %d\n%s" % (rc, cls.serve.log()[-3000:])

    def check_headers(self, headers, what):
        csp = headers.get("content-security-policy", "")
        self.assertIn("default-src 'self'", csp, what)
        self.assertIn("frame-ancestors 'none'", csp, what)
        self.assertNotIn("unsafe-inline", csp, what)
        self.assertNotIn("unsafe-eval", csp, what)
        self.assertEqual(headers.get("x-content-type-options"), "nosniff", what)
        self.assertEqual(headers.get("referrer-policy"), "no-referrer", what)

    def check_markup(self, body, what):
        text = body.decode("utf-8")
        self.assertIsNone(re.search(r"<script(?![^>]*\bsrc=)", text), what)
        self.assertNotRegex(text, r"<style", what)
        self.assertNotRegex(text, r"\sstyle=", what)
        self.assertNotRegex(text, r"\son[a-z]+=", what)
        self.assertNotRegex(text, r"(src|href)=\"(https?:)?//", what)  # nothing from elsewhere

    def test_headers_and_markup(self):
        for path in ("/", "/check", "/check?target=" + ms.HOST):
            status, headers, body = self.serve.get(path, timeout=WAIT)
            self.assertEqual(status, 200, path)
            self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
            self.check_headers(headers, path)
            self.check_markup(body, path)
        status, headers, body = self.serve.get("/check?target=" + ms.HOST, timeout=WAIT)
        self.assertIn(b'id="report"', body)
        self.assertIn(b"Use these settings", body)
        self.assertIn(b'<details class="endpoint live" open>', body)

    def test_email_address(self):
        """An e-mail address: discovery and what mail programs will be told are shown too;
        the access log keeps the domain only."""
        target = "alice@srv.test.example"
        status, _, body = self.serve.get("/check?target=" + st.quote(target), timeout=WAIT)
        self.assertEqual(status, 200, body[-2000:])
        self.check_markup(body, target)
        text = body.decode("utf-8")
        self.assertIn("<summary>Discovery for srv.test.example (", text)
        self.assertIn("<code>_imaps._tcp.srv.test.example</code> ok", text)
        self.assertIn("<h2>What mail programs will be told</h2>", text)
        self.assertIn('value="alice@srv.test.example"', text)  # the form, filled in
        self.assertNotIn("alice@", "\n".join(self.serve.access_log()))

    def test_static_files(self):
        for name, ctype, needle in (("page.css", "text/css; charset=utf-8", b"@media"),
                                    ("page.js", "text/javascript; charset=utf-8",
                                     b"EventSource"),
                                    ("favicon.svg", "image/svg+xml", b"<svg")):
            status, headers, body = self.serve.get("/static/" + name)
            self.assertEqual(status, 200, name)
            self.assertEqual(headers["content-type"], ctype)
            self.check_headers(headers, name)
            self.assertIn(needle, body)
            with open(os.path.join(os.path.dirname(__file__), "..", "..", "cmd", "static",
                                   name), "rb") as f:
                self.assertEqual(body, f.read())  # the file, compiled in
        status, _, _ = self.serve.get("/static/nope.js")
        self.assertEqual(status, 404)
        status, _, _ = self.serve.get("/static/../serve.json")
        self.assertIn(status, (400, 404))

    def test_events(self):
        status, headers, body = self.serve.get("/check/events?target=" + ms.HOST, timeout=WAIT)
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/event-stream")
        self.check_headers(headers, "events")
        events = re.findall(rb"^event: (\w+)$", body, re.M)
        self.assertEqual(events, [b"endpoint"] * 4 + [b"report"], body[:2000])
        status, _, body = self.serve.get("/check/events?target=" + ms.HOST + "&password=x")
        self.assertEqual(status, 400)
        self.assertIn(b"never go in a URL", body)

    def test_csrf(self):
        for fields, why in (({"target": ms.HOST}, "no token"),
                            ({"target": ms.HOST, "csrf": "1.abc"}, "a bad token"),
                            ({"target": ms.HOST, "csrf": "0." + "0" * 64}, "an old token")):
            status, headers, body = post_form(self.serve, fields)
            self.assertEqual(status, 403, why)
            self.assertIn(b"The form has expired", body, why)
            self.check_headers(headers, why)
        token = fetch_form(self.serve)
        status, headers, body = post_form(self.serve, {"target": ms.HOST, "csrf": token,
                                                       "protocols": "imap"})
        self.assertEqual(status, 303, body)
        self.assertEqual(headers["location"], "/check?target=%s&protocols=imap" % ms.HOST)
        # a POST that is not a form is refused
        status, _, _ = self.serve.request("POST", "/check", body=json.dumps({"target": ms.HOST}),
                                          headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400)

    def test_credentials_never_in_urls(self):
        for arg in ("password=x", "user=alice"):
            status, _, body = self.serve.get("/check?target=%s&%s" % (ms.HOST, arg))
            self.assertEqual(status, 400, arg)
            self.assertIn(b"never go in a URL", body)

    def test_sign_in_from_loopback(self):
        token = fetch_form(self.serve)
        status, headers, body = post_form(self.serve, {
            "csrf": token, "target": ms.HOST, "user": "alice", "password": st.PASSWORD})
        self.assertEqual(status, 200, body[-3000:])
        text = body.decode("utf-8")
        self.assertIn("Signed in as alice on imaps://%s:%d" % (ms.HOST, ms.IMAPS_PORT), text)
        self.assertIn("User name:             alice (for every server above)",
                      re.sub(r"<[^>]+>", "", text))
        self.assertNotIn(st.PASSWORD, text)
        self.assertNotIn(base64.b64encode(st.PASSWORD.encode()).decode(), text)
        self.assertNotIn("/api/v1/transcript", text)  # no shareable link with sign-in
        # the form comes back with the user, never the password
        self.assertIn('name="user" type="text" maxlength="255" autocomplete="username" '
                      'autocapitalize="none" spellcheck="false" value="alice"', text)
        # the access log line is written once the answer is sent: wait for it
        deadline = time.monotonic() + 60
        post = []
        while not post and time.monotonic() < deadline:
            post = [l for l in self.serve.access_log() if '"POST /check ' in l and " 200 " in l]
            time.sleep(0.05)
        log = self.serve.log()
        self.assertTrue(post, log[-2000:])
        self.assertNotIn(st.PASSWORD, log)
        self.assertNotIn("alice", log)
        self.assertIn(' <redacted> ', post[-1])
        self.assertIn('target="%s"' % ms.HOST, post[-1])
        # a wrong password: the page says so, and shows no password either
        status, _, body = post_form(self.serve, {
            "csrf": token, "target": ms.HOST, "user": "alice", "password": "wrong-" + st.PASSWORD})
        self.assertEqual(status, 200)
        self.assertIn(b"auth.failed", body)
        self.assertNotIn(st.PASSWORD.encode(), body)
        self.assertNotIn(st.PASSWORD, self.serve.log())


class RefusalTest(unittest.TestCase):
    """The service's rules, shown as pages with their status."""

    def test_sign_in_refused_over_plain_http_from_another_host(self):
        """In a private network namespace (unshare -n, as test_serve.py does), serve listens
        on 198.51.100.1 and the client connects from that (non-loopback) address over plain
        HTTP: the form offers no password field and says why; a form that sends one anyway
        is refused (403) before anything is checked, and the password is never logged."""
        out = st.serve_for_another_host(self, """
            def request(method, path, body=None, headers={}):
                c = connect()
                c.request(method, path, body=body, headers=headers)
                r = c.getresponse()
                return r.status, r.read().decode()
            status, form = request("GET", "/")
            print(status, 'type="password"' in form, "offered only over HTTPS" in form)
            token = re.search('name="csrf" value="([^"]+)"', form).group(1)
            body = urllib.parse.urlencode({"csrf": token, "target": "192.0.2.1",
                                           "user": "alice", "password": "pw-Zq9x"})
            status, page = request("POST", "/check", body,
                                   {"Content-Type": "application/x-www-form-urlencoded"})
            print(status, "Sign-in needs HTTPS" in page, "pw-Zq9x" in page)
            p.terminate()
            err = p.communicate(timeout=60)[1].decode()
            print("rc", p.returncode, "pw-Zq9x" in err, "ERROR: AddressSanitizer" in err)
        """, timeout=WAIT)
        self.assertEqual(out.split("\n")[:3],
                         ["200 False True", "403 True False", "rc 0 False False"], out)

    def test_deny_list_and_rate_limit(self):
        cfg = st.default_config()
        cfg["limits"] = {"rate_per_minute": 1, "burst": 1}
        with st.Serve(PORT + 2, cfg) as serve:  # no --allow-private
            status, headers, body = serve.get("/check?target=" + ms.HOST, timeout=WAIT)
            self.assertEqual(status, 403, body[-2000:])
            self.assertIn(b"Target not allowed", body)
            self.assertIn(b"127.0.0.2", body)
            self.assertIn(b'id="check-form"', body)  # the form, to try another
            status, headers, body = serve.get("/check?target=" + ms.HOST, timeout=WAIT)
            self.assertEqual(status, 429, body[-2000:])
            self.assertIn("retry-after", headers)
            self.assertIn(b"Too many requests", body)
            status, _, body = serve.get("/check?target=127.0.0.1")
            self.assertEqual(status, 403)
            self.assertIn(b"loopback", body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
