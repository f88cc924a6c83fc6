#!/usr/bin/env python3
"""mailscope serve with a real Prometheus (Debian's `prometheus`), using the configurations
shipped in docs/examples/prometheus/ (only addresses, intervals and targets substituted):
blackbox-style relabeling scrapes /probe and Prometheus's HTTP API returns probe_success per
target; then scale-out: two serve instances and two Prometheus servers, each keeping its
share of the targets with hashmod relabeling: every target is scraped by exactly one of them.

Ports: MS_SERVE_PORT + 6 .. 8, MS_PROMETHEUS_PORT + 0 .. 1."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import mstest as ms
import servetest as st

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
EXAMPLES = os.environ.get("MS_EXAMPLES") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "examples")
PROM_DIR = os.path.join(EXAMPLES, "prometheus")


def serve_config():
    cfg = st.default_config(limits={"trusted_clients": ["127.0.0.1"]})
    return cfg


def render_config(name, serve_addresses, dest):
    """A shipped Prometheus config, made to run here: short intervals, test addresses."""
    with open(os.path.join(PROM_DIR, name)) as f:
        text = f.read()
    for old, new in serve_addresses.items():
        assert old in text, "%s no longer mentions %s" % (name, old)
        text = text.replace(old, new)
    for old, new in (("scrape_interval: 1m", "scrape_interval: 2s"),
                     ("scrape_timeout: 30s", "scrape_timeout: 2s"),
                     ("evaluation_interval: 1m", "evaluation_interval: 2s")):
        assert old in text, "%s no longer says %s" % (name, old)
        text = text.replace(old, new)
    os.makedirs(dest, exist_ok=True)
    path = os.path.join(dest, "prometheus.yml")
    with open(path, "w") as f:
        f.write(text)
    shutil.copy(os.path.join(PROM_DIR, "mailscope-alerts.yml"), dest)
    return path


class Prometheus:
    def __init__(self, config, port):
        self.port = port
        self.dir = os.path.dirname(config)
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise AssertionError("prometheus did not get ready:\n" + self.text())

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def api(self, path, **params):
        url = "http://127.0.0.1:%d/api/v1/%s?%s" % (self.port, path, urllib.parse.urlencode(params))
        with urllib.request.urlopen(url, timeout=30) as r:
            doc = json.load(r)
        assert doc["status"] == "success", doc
        return doc["data"]

    def query(self, q):
        return self.api("query", query=q)["result"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def write_targets(dest, targets):
    with open(os.path.join(dest, "mailscope-targets.json"), "w") as f:
        json.dump([{"targets": targets, "labels": {"team": "mail"}}], f)


def wait_for(fn, what, timeout=180):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError("%s: not seen within %d s (last: %r)" % (what, timeout, last))


@unittest.skipUnless(os.path.exists(PROMETHEUS), "prometheus is not installed (scripts/deps.sh)")
class PrometheusTest(unittest.TestCase):

    def test_scrape_probe_with_blackbox_relabeling(self):
        port = st.SERVE_PORT + 6
        targets = {"mail.test.example": "1", "expired.test.example": "0",
                   "closed.test.example": "0",
                   "imaps://mail.test.example:%d" % ms.IMAPS_PORT: "1"}
        d = tempfile.mkdtemp(prefix="ms-prom-")
        config = render_config("prometheus.yml", {"127.0.0.1:11995": "127.0.0.1:%d" % port}, d)
        write_targets(d, list(targets))
        with st.Serve(port, serve_config(), args=["--allow-private"]) as s:
            prom = Prometheus(config, st.PROMETHEUS_PORT)
            try:
                def all_scraped():
                    got = {r["metric"]["instance"]: r["value"][1]
                           for r in prom.query('probe_success{job="mailscope"}')}
                    return got if set(got) == set(targets) else None

                got = wait_for(all_scraped, "probe_success for every target")
                self.assertEqual(got, targets)
                rows = prom.query('mailscope_cert_not_after_timestamp_seconds{instance="expired.test.example"}')
                self.assertTrue(rows)
                self.assertLess(float(rows[0]["value"][1]), time.time())
                self.assertEqual(rows[0]["metric"]["team"], "mail")
                findings = prom.query('mailscope_finding{instance="expired.test.example",code="tls.cert_expired"}')
                self.assertTrue(findings)
                up = wait_for(lambda: prom.query('up{job="mailscope_serve"} == 1'),
                              "the daemon's own /metrics scraped")
                self.assertEqual(len(up), 1)
                wait_for(lambda: prom.query(
                    'mailscope_serve_http_requests_total{handler="probe",code="200"} >= 4'),
                    "the daemon's count of /probe answers")
                groups = prom.api("rules")["groups"]
                names = {r["name"] for g in groups for r in g["rules"]}
                self.assertEqual(names, {"MailProbeFailing", "MailCertificateExpiringSoon",
                                         "MailCertificateExpiring", "MailLoginFailing",
                                         "MailscopeServeDown"})
            finally:
                prom.stop()
        for line in s.access_log():
            if "/probe" in line:
                self.assertIn("module=default", line)
                self.assertRegex(line, r'" 200 \d+$')

    def test_two_shards_scrape_every_target_exactly_once(self):
        targets = ["mail.test.example", "expired.test.example", "soon.test.example",
                   "selfsigned.test.example", "wronghost.test.example", "notls.test.example",
                   "closed.test.example", "imaps://mail.test.example:%d" % ms.IMAPS_PORT,
                   "pop3s://mail.test.example:%d" % ms.POP3S_PORT,
                   "imap://mail.test.example:%d" % ms.IMAP_PORT]
        ports = (st.SERVE_PORT + 7, st.SERVE_PORT + 8)
        serves, proms = [], []
        try:
            for i in (0, 1):
                serves.append(st.Serve(ports[i], serve_config(), args=["--allow-private"]))
            for i in (0, 1):
                d = tempfile.mkdtemp(prefix="ms-prom-shard%d-" % i)
                config = render_config(
                    "prometheus-shard-%d.yml" % i,
                    {"mailscope-%d.example.net:11995" % i: "127.0.0.1:%d" % ports[i]}, d)
                write_targets(d, targets)
                proms.append(Prometheus(config, st.PROMETHEUS_PORT + i))

            def shares():
                got = [{r["metric"]["instance"] for r in p.query('probe_success{job="mailscope"}')}
                       for p in proms]
                return got if len(got[0] | got[1]) == len(targets) else None

            share = wait_for(shares, "every target scraped by one of the two Prometheus servers")
            time.sleep(5)  # a few more scrape rounds: nobody picks up the other's targets
            share = shares()
            self.assertEqual(share[0] | share[1], set(targets))
            self.assertEqual(share[0] & share[1], set(), share)
            self.assertTrue(share[0] and share[1], share)
            for i in (0, 1):
                rows = proms[i].query('count(probe_success{job="mailscope"})')
                self.assertEqual(int(rows[0]["value"][1]), len(share[i]))
        finally:
            for p in proms:
                p.stop()
            rcs = [s.stop() for s in serves]
        self.assertEqual(rcs, [0, 0])
        # each serve instance probed exactly its shard's targets
        for i in (0, 1):
            probed = set()
            for line in serves[i].access_log():
                m = st.CLF.match(line)
                if m and m.group(5).startswith("/probe?"):
                    q = urllib.parse.parse_qs(urllib.parse.urlparse(m.group(5)).query)
                    probed.add(q["target"][0])
            self.assertEqual(probed, share[i], "serve %d probed %s" % (i, probed))


@unittest.skipUnless(shutil.which("promtool") or os.path.exists("/usr/bin/promtool"),
                     "promtool is not installed")
class ShippedConfigTest(unittest.TestCase):

    def test_serve_example_config_is_valid(self):
        d = tempfile.mkdtemp(prefix="ms-serve-example-")
        with open(os.path.join(EXAMPLES, "serve.json")) as f:
            text = f.read()
        pw = os.path.join(d, "monitor.password")
        with open(pw, "w") as f:
            f.write("not-a-real-password\n")
        assert "/etc/mailscope/monitor.password" in text
        text = text.replace("/etc/mailscope/monitor.password", pw)
        path = os.path.join(d, "serve.json")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([ms.MAILSCOPE, "serve", "--check-config", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                           env=ms.sanitizer_env(dict(os.environ)))
        st.check_clean(p.stderr, "--check-config")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("module login", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
