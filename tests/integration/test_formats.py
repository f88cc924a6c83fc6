#!/usr/bin/env python3
"""Health checks and fleets (issue 6) against the test Dovecot: --format nagios (status line,
perfdata in the Monitoring Plugins grammar, thresholds, exit codes), --format prometheus
(promtool, and read back through a real prometheus-node-exporter textfile collector on
loopback), --format jsonl, --targets-file with 200 targets (every result once, bounded
memory, worst exit code, summary line, stdin, comments, per-line user=, progress line),
and --require / --forbid end to end."""

import json
import os
import pty
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import mstest as ms

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
NODE_EXPORTER = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"

PORT_OF = {"imap": ms.IMAP_PORT, "imaps": ms.IMAPS_PORT, "pop3": ms.POP3_PORT, "pop3s": ms.POP3S_PORT}
SCHEMES = ("imap", "imaps", "pop3", "pop3s")
STATUS_WORDS = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
STATUS_NAMES = ("ok", "warning", "critical", "unknown")
VALID_ITEMS = ("imap", "pop3", "imaps", "imap+starttls", "pop3s", "pop3+stls", "login", "imap:",
               "pop3:", "tls>=1.2", "cert-days>=") + ms.FEATURE_IDS
SUMMARY_RE = re.compile(r"^mailscope: (\d+) targets?: (\d+) ok, (\d+) warning, (\d+) critical, "
                        r"(\d+) unknown$", re.M)


def is_sanitized():
    """True when the binary under test is an ASan build (its memory use is not comparable)."""
    try:
        with open(ms.MAILSCOPE, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def ms_env(extra=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.pop("MAILSCOPE_PASSWORD", None)
    if extra:
        e.update(extra)
    return ms.sanitizer_env(e)


def check_no_sanitizer(stderr, what):
    for m in ms.SANITIZER_MARKERS:
        if m in stderr:
            raise AssertionError("sanitizer report in stderr of %s:\n%s" % (what, stderr[-4000:]))


def valid(extra=(), addr=ms.ADDR_VALID):
    return ms.valid_args(addr=addr, extra=extra)


def url(scheme, host, port=None):
    return "%s://%s:%d" % (scheme, host, port or PORT_OF[scheme])


# ---- Monitoring Plugins output ---------------------------------------------------------

# https://www.monitoring-plugins.org/doc/guidelines.html#AEN201 : 'label'=value[UOM];[warn];[crit];[min];[max]
# warn and crit are ranges ([@][start:][end], start may be ~), min and max plain numbers.
_NUM = r"-?(?:\d+(?:\.\d*)?|\.\d+)"
_RANGE = r"@?(?:(?:~|%s):)?(?:%s)?" % (_NUM, _NUM)
_LABEL = r"(?:'(?:[^'=]|'')+'|[^'= ][^= ]*)"
_UOM = r"(?:s|ms|us|%|B|KB|MB|TB|c)?"
PERF_RE = re.compile(r"^(%s)=(%s)(%s)(?:;(%s)(?:;(%s)(?:;(%s)?(?:;(%s)?)?)?)?)?$"
                     % (_LABEL, _NUM, _UOM, _RANGE, _RANGE, _NUM, _NUM))
STATUS_LINE_RE = re.compile(r"^MAILSCOPE (OK|WARNING|CRITICAL|UNKNOWN) - (.+?) \|( .+)$")
FINDING_LINE_RE = re.compile(r"^(CRITICAL|WARNING|INFO) ([a-z0-9]+\.[a-z0-9_]+)(?: (\S+))?: (.+)$")
ENDPOINT_LINE_RE = re.compile(r"^(OK|WARNING|CRITICAL|UNKNOWN) ((?:imaps?|pop3s?)://\S+)"
                              r"(?: \(([0-9a-f.:]+)\))?(?: (TLSv1(?:\.[0-3])?))?$")


def parse_nagios(test, out):
    """(status word, text, {label: (value, uom, warn, crit, min, max)}, long output lines),
    checking the structure strictly."""
    lines = out.split("\n")
    test.assertEqual(lines[-1], "", "the output must end with a newline: %r" % out[-200:])
    lines = lines[:-1]
    test.assertTrue(lines, "no output")
    m = STATUS_LINE_RE.match(lines[0])
    test.assertIsNotNone(m, "status line does not match 'MAILSCOPE STATE - text | perfdata': %r" % lines[0])
    test.assertEqual(lines[0].count("|"), 1, "one '|' on the status line: %r" % lines[0])
    perf = {}
    items = m.group(3)[1:].split(" ")
    for item in items:
        pm = PERF_RE.match(item)
        test.assertIsNotNone(pm, "perfdata item %r is not 'label'=value[UOM];[warn];[crit];[min];[max]" % item)
        label = pm.group(1)
        if label.startswith("'"):
            label = label[1:-1].replace("''", "'")
        test.assertNotIn(label, perf, "perfdata label %r twice" % label)
        perf[label] = (float(pm.group(2)), pm.group(3), pm.group(4) or "", pm.group(5) or "",
                       pm.group(6) or "", pm.group(7) or "")
    for line in lines[1:]:
        test.assertNotIn("|", line, "'|' in the long output starts perfdata: %r" % line)
        test.assertTrue(FINDING_LINE_RE.match(line) or ENDPOINT_LINE_RE.match(line),
                        "long output line of an unknown form: %r" % line)
    return m.group(1), m.group(2), perf, lines[1:]


def label_for(scheme, port):
    return "%s_%d" % (scheme, port)


class Nagios(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.json_run = ms.probe_json(valid())
        cls.doc = cls.json_run.json
        cls.run_ = ms.run(["--format", "nagios"] + valid())

    def nagios(self, extra=(), addr=ms.ADDR_VALID, rc=None):
        r = ms.run(["--format", "nagios"] + valid(extra, addr))
        if rc is not None:
            self.assertEqual(r.rc, rc, r.describe())
        state, text, perf, long_ = parse_nagios(self, r.stdout)
        self.assertEqual(STATUS_WORDS.index(state), r.rc, "status word and exit code disagree:\n" + r.describe())
        self.assertEqual(r.stderr, "", r.describe())
        return r, state, text, perf, long_

    def test_ok_status_line(self):
        r = self.run_
        self.assertEqual(r.rc, 0, r.describe())
        state, text, perf, long_ = parse_nagios(self, r.stdout)
        self.assertEqual(state, "OK")
        self.assertTrue(r.stdout.startswith("MAILSCOPE OK - "))
        self.assertIn("IMAP works securely on %d (implicit TLS) and %d (STARTTLS)" % (ms.IMAPS_PORT, ms.IMAP_PORT), text)
        self.assertIn("POP3 works securely on %d (implicit TLS) and %d (STARTTLS)" % (ms.POP3S_PORT, ms.POP3_PORT), text)
        self.assertNotIn("\n", text)

    def test_perfdata_fields(self):
        state, text, perf, long_ = parse_nagios(self, self.run_.stdout)
        eps = ms.endpoints_by_id(self.doc)
        want = {"duration"}
        for scheme in SCHEMES:
            want.add(label_for(scheme, PORT_OF[scheme]) + "_time")
            want.add(label_for(scheme, PORT_OF[scheme]) + "_cert_days")
        self.assertEqual(set(perf), want)
        for scheme in SCHEMES:
            base = label_for(scheme, PORT_OF[scheme])
            with self.subTest(endpoint=base):
                value, uom, warn, crit, mn, mx = perf[base + "_time"]
                self.assertEqual(uom, "s")
                self.assertGreater(value, 0)
                self.assertLess(value, 10)
                self.assertEqual((warn, crit, mn, mx), ("", "", "0", ""), "no -w/-c given: empty thresholds, min 0")
                days = eps[url(scheme, ms.HOST)]["tls"]["certificate"]["days_left"]
                value, uom, warn, crit, mn, mx = perf[base + "_cert_days"]
                self.assertEqual(value, days)
                self.assertGreater(value, 700)
                self.assertEqual(uom, "")
                self.assertEqual(warn, "14", "--cert-warn-days defaults to 14")
                self.assertEqual(crit, "", "no --cert-crit-days: no critical threshold (not 0)")
        value, uom, warn, crit, mn, mx = perf["duration"]
        self.assertEqual(uom, "s")
        for scheme in SCHEMES:
            self.assertLessEqual(perf[label_for(scheme, PORT_OF[scheme]) + "_time"][0], value + 0.002)

    def test_long_output(self):
        state, text, perf, long_ = parse_nagios(self, self.run_.stdout)
        eps = [ENDPOINT_LINE_RE.match(l) for l in long_]
        eps = {m.group(2): m for m in eps if m}
        self.assertEqual(set(eps), set(ms.standard_endpoints()))
        for id_, m in eps.items():
            self.assertEqual(m.group(1), "OK")
            self.assertEqual(m.group(3), ms.ADDR_VALID)
            self.assertEqual(m.group(4), ms.endpoints_by_id(self.doc)[id_]["tls"]["version"])
        self.assertEqual([l for l in long_ if FINDING_LINE_RE.match(l) and not l.startswith("INFO")], [])

    def test_thresholds_in_perfdata(self):
        r, state, text, perf, long_ = self.nagios(["-w", "20", "-c", "29.5", "--cert-warn-days", "30",
                                                  "--cert-crit-days", "7"], rc=0)
        self.assertEqual(state, "OK")
        for scheme in SCHEMES:
            base = label_for(scheme, PORT_OF[scheme])
            self.assertEqual(perf[base + "_time"][2:], ("20", "29.5", "0", ""))
            self.assertEqual(perf[base + "_cert_days"][2:4], ("30", "7"))
        self.assertEqual(perf["duration"][2:4], ("", ""))

    def test_tiny_warning_threshold(self):
        r, state, text, perf, long_ = self.nagios(["-w", "0.000001"], rc=1)
        self.assertEqual(state, "WARNING")
        self.assertRegex(text, r"^\S+ took \d+\.\d{3} s, over the warning threshold")
        self.assertIn("(+3 more)", text)
        for scheme in SCHEMES:
            self.assertEqual(perf[label_for(scheme, PORT_OF[scheme]) + "_time"][2], "0.000001",
                             "a threshold is written as a plain decimal number")
        slow = {FINDING_LINE_RE.match(l).group(3) for l in long_
                if l.startswith("WARNING perf.response_time ")}
        self.assertEqual(slow, set(ms.standard_endpoints()))
        for l in long_:
            m = ENDPOINT_LINE_RE.match(l)
            if m:
                self.assertEqual(m.group(1), "WARNING", "a slow endpoint's own status: %r" % l)

    def test_tiny_critical_threshold(self):
        r, state, text, perf, long_ = self.nagios(["-w", "0.0000005", "-c", "0.000001"], rc=2)
        self.assertEqual(state, "CRITICAL")
        self.assertIn("over the critical threshold of", text)
        crit = [l for l in long_ if l.startswith("CRITICAL perf.response_time ")]
        self.assertEqual(len(crit), 4, long_)
        self.assertEqual([l for l in long_ if l.startswith("WARNING perf.response_time")], [],
                         "one finding per slow endpoint, the worse one")
        for scheme in SCHEMES:
            self.assertEqual(perf[label_for(scheme, PORT_OF[scheme]) + "_time"][2:4], ("0.0000005", "0.000001"))
        for l in long_:
            m = ENDPOINT_LINE_RE.match(l)
            if m:
                self.assertEqual(m.group(1), "CRITICAL", "a slow endpoint's own status: %r" % l)

    def test_cert_days_expiring_soon(self):
        # the certificate of 127.0.0.6 expires in 5 days (4 after the day turns)
        r, state, text, perf, long_ = self.nagios(addr=ms.ADDR_SOON, rc=1)
        self.assertEqual(state, "WARNING")
        for scheme in SCHEMES:
            value, uom, warn, crit, mn, mx = perf[label_for(scheme, PORT_OF[scheme]) + "_cert_days"]
            self.assertIn(value, (4, 5))
            self.assertEqual((warn, crit), ("14", ""))
        soon = [l for l in long_ if l.startswith("WARNING tls.cert_expires_soon ")]
        self.assertEqual(len(soon), 4, long_)
        # --cert-crit-days 7 makes it critical
        r, state, text, perf, long_ = self.nagios(["--cert-crit-days", "7"], addr=ms.ADDR_SOON, rc=2)
        self.assertEqual(state, "CRITICAL")
        self.assertEqual(len([l for l in long_ if l.startswith("CRITICAL tls.cert_expires_soon ")]), 4, long_)
        self.assertEqual(perf[label_for("imaps", ms.IMAPS_PORT) + "_cert_days"][2:4], ("14", "7"))
        # --cert-warn-days 3: five days are fine; 0 turns the warning off
        r, state, text, perf, long_ = self.nagios(["--cert-warn-days", "3"], addr=ms.ADDR_SOON, rc=0)
        self.assertEqual(perf[label_for("pop3s", ms.POP3S_PORT) + "_cert_days"][2:4], ("3", ""))
        r, state, text, perf, long_ = self.nagios(["--cert-warn-days", "0"], addr=ms.ADDR_SOON, rc=0)
        self.assertEqual(perf[label_for("pop3s", ms.POP3S_PORT) + "_cert_days"][2:4], ("", ""))

    def test_critical_expired(self):
        r, state, text, perf, long_ = self.nagios(addr=ms.ADDR_EXPIRED, rc=2)
        self.assertEqual(state, "CRITICAL")
        self.assertIn("(+", text)
        self.assertTrue(any(l.startswith("CRITICAL tls.cert_expired ") for l in long_), long_)
        for scheme in SCHEMES:
            self.assertLess(perf[label_for(scheme, PORT_OF[scheme]) + "_cert_days"][0], 0)

    def test_no_tls_no_cert_days(self):
        r, state, text, perf, long_ = self.nagios(addr=ms.ADDR_NOTLS, rc=2)
        self.assertFalse([k for k in perf if k.endswith("_cert_days")], perf)
        self.assertEqual(len([k for k in perf if k.endswith("_time")]), 4)

    def test_unknown_is_3(self):
        r = ms.run(["--format", "nagios", "-w", "fast"] + valid())
        self.assertEqual(r.rc, 3, r.describe())
        # a monitoring system shows only stdout: the reason is there too, as a status line
        self.assertRegex(r.stdout, r"^MAILSCOPE UNKNOWN - --warning [^\n|]+\n$")
        self.assertIn("--warning", r.stderr.splitlines()[0])
        r = ms.run(["--format", "nagios", "--cert-crit-days", "-1"] + valid())
        self.assertEqual(r.rc, 3, r.describe())

    def test_forbid_in_status_line(self):
        r, state, text, perf, long_ = self.nagios(["--forbid", "pop3"], rc=2)
        self.assertTrue(text.startswith("Forbidden, but present: pop3."), text)
        self.assertIn("CRITICAL forbid.present: Forbidden, but present: pop3.", long_)


# ---- Prometheus --------------------------------------------------------------------------

_SERIES_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_prom(text, prefix="mailscope_"):
    """{name: [(labels, value)]}, {name: type}, {name: help} of the series named PREFIX*."""
    series, types, helps = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            if name.startswith(prefix):
                if name in types:
                    raise AssertionError("TYPE of %s twice" % name)
                types[name] = typ
            continue
        if line.startswith("# HELP "):
            _, _, name, h = line.split(" ", 3)
            if name.startswith(prefix):
                helps[name] = h
            continue
        if not line or line.startswith("#"):
            continue
        m = _SERIES_RE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        name, labels_text, value = m.groups()
        if not name.startswith(prefix):
            continue
        labels = {}
        pos = 0
        labels_text = labels_text or ""
        while pos < len(labels_text):
            lm = _LABEL_RE.match(labels_text, pos)
            if not lm:
                raise AssertionError("bad labels in %r" % line)
            labels[lm.group(1)] = re.sub(r"\\(.)", lambda x: "\n" if x.group(1) == "n" else x.group(1), lm.group(2))
            pos = lm.end()
        series.setdefault(name, []).append((labels, float(value)))
    return series, types, helps


def key(labels, *names):
    return tuple(labels.get(n) for n in names)


ENDPOINT_LABELS = ("target", "protocol", "port", "security")
REQUIRED_FAMILIES = ("mailscope_probe_success", "mailscope_probe_duration_seconds",
                     "mailscope_probe_phase_duration_seconds", "mailscope_tls_version_info",
                     "mailscope_cert_not_after_timestamp_seconds", "mailscope_capability")


def promtool_check(test, text):
    if not os.path.exists(PROMTOOL):
        raise AssertionError("promtool not found (Debian package prometheus; scripts/deps.sh installs it)")
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    test.assertEqual(p.returncode, 0, "promtool check metrics failed:\n%s\n--- input:\n%s" % (p.stdout, text[:3000]))
    test.assertEqual(p.stdout.strip(), "", "promtool has remarks:\n" + p.stdout)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Prometheus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env = {"MAILSCOPE_PASSWORD": ms.ALICE_PASSWORD}
        cls.json_run = ms.probe_json(valid(["--user", ms.ALICE]), env=env)
        cls.doc = cls.json_run.json
        cls.run_ = ms.run(["--format", "prometheus"] + valid(["--user", ms.ALICE]), env=env)
        cls.series, cls.types, cls.helps = parse_prom(cls.run_.stdout)

    def endpoint_key(self, e):
        return (ms.HOST, e["protocol"], str(e["port"]), e["security"])

    def test_exit_code_and_promtool(self):
        self.assertEqual(self.run_.rc, 0, self.run_.describe())
        self.assertEqual(self.run_.stderr, "")
        self.assertNotIn(ms.ALICE_PASSWORD, self.run_.stdout)
        promtool_check(self, self.run_.stdout)

    def test_families_typed_and_helped(self):
        for fam in REQUIRED_FAMILIES + ("mailscope_login_success",):
            with self.subTest(family=fam):
                self.assertIn(fam, self.series, "family %s missing" % fam)
                self.assertEqual(self.types.get(fam), "gauge")
                self.assertTrue(self.helps.get(fam))
        self.assertEqual(set(self.types), set(self.series), "a TYPE without series or series without TYPE")
        # each family once, as one block
        names = [l.split(" ")[2] for l in self.run_.stdout.splitlines() if l.startswith("# TYPE ")]
        self.assertEqual(len(names), len(set(names)))

    def test_labels_and_no_duplicates(self):
        for fam, samples in self.series.items():
            seen = set()
            for labels, value in samples:
                ident = tuple(sorted(labels.items()))
                self.assertNotIn(ident, seen, "duplicate series %s%s" % (fam, labels))
                seen.add(ident)
                if fam in ("mailscope_status", "mailscope_finding"):
                    continue
                if fam in ("mailscope_feature", "mailscope_feature_value"):
                    # about the account per protocol, not about one endpoint
                    self.assertEqual(labels["target"], ms.HOST)
                    self.assertIn(labels["protocol"], ("imap", "pop3"))
                    self.assertIn(labels["feature"], ms.FEATURE_IDS)
                    continue
                for n in ENDPOINT_LABELS:
                    self.assertIn(n, labels, "%s without label %s" % (fam, n))
                self.assertEqual(labels["target"], ms.HOST)
                self.assertIn(labels["protocol"], ("imap", "pop3"))
                self.assertIn(labels["security"], ("implicit", "starttls"))
                self.assertIn(int(labels["port"]), PORT_OF.values())

    def test_features_match_the_json_summary(self):
        """mailscope_feature is the summary's answer (1 yes, 0 no; unknown and n/a left out);
        mailscope_feature_value its number in base units."""
        got = {(l["protocol"], l["feature"]): v for l, v in self.series.get("mailscope_feature", [])}
        values = {(l["protocol"], l["feature"]): (v, l["unit"])
                  for l, v in self.series.get("mailscope_feature_value", [])}
        self.assertTrue(got, "no mailscope_feature series")
        for f in self.doc["summary"]["features"]:
            for p in ("imap", "pop3"):
                a = f[p]
                with self.subTest(feature=f["id"], protocol=p):
                    if a["answer"] in ("yes", "no"):
                        self.assertEqual(float(got[(p, f["id"])]), 1.0 if a["answer"] == "yes" else 0.0)
                    else:
                        self.assertNotIn((p, f["id"]), got)
                    if a["answer"] == "yes" and isinstance(a["value"], int):
                        scale = {"days": 86400, "KiB": 1024}.get(a["unit"], 1)
                        v, unit = values[(p, f["id"])]
                        self.assertEqual(float(v), a["value"] * scale)
                        self.assertIn(unit, ("seconds", "bytes", "folders"))

    def test_values_match_the_json_report(self):
        s = self.series
        eps = {self.endpoint_key(e): e for e in self.doc["endpoints"]}
        self.assertEqual(len(eps), 4)

        def by_endpoint(fam):
            out = {}
            for labels, v in s.get(fam, []):
                out.setdefault(key(labels, *ENDPOINT_LABELS), []).append((labels, v))
            return out

        success = by_endpoint("mailscope_probe_success")
        duration = by_endpoint("mailscope_probe_duration_seconds")
        phases = by_endpoint("mailscope_probe_phase_duration_seconds")
        tls = by_endpoint("mailscope_tls_version_info")
        not_after = by_endpoint("mailscope_cert_not_after_timestamp_seconds")
        caps = by_endpoint("mailscope_capability")
        login = by_endpoint("mailscope_login_success")
        _, cert_end = ms.openssl_dates(os.path.join(ms.CERTS, "valid.pem"))
        self.assertEqual(set(success), set(eps))
        for k, e in eps.items():
            with self.subTest(endpoint=e["id"]):
                self.assertEqual([v for _, v in success[k]], [1.0])
                self.assertEqual(len(duration[k]), 1)
                self.assertGreater(duration[k][0][1], 0)
                self.assertLess(duration[k][0][1], 10)
                got = {l["phase"]: v for l, v in phases[k]}
                self.assertEqual(set(got), {"resolve", "connect", "tls", "greeting"})
                for ph, v in got.items():
                    self.assertGreaterEqual(v, 0)
                    self.assertLessEqual(v, duration[k][0][1] + 0.001, ph)
                self.assertGreater(got["tls"], 0)
                self.assertEqual([(l["version"], v) for l, v in tls[k]], [(e["tls"]["version"], 1.0)])
                self.assertEqual([v for _, v in not_after[k]], [cert_end.timestamp()])
                self.assertEqual(sorted(l["capability"] for l, v in caps[k]),
                                 sorted(set(e["capabilities"]["after_tls"])))
                self.assertTrue(all(v == 1.0 for _, v in caps[k]))
                if e["auth"] is not None and e["auth"].get("attempted"):
                    self.assertEqual([v for _, v in login[k]], [1.0 if e["auth"]["ok"] else 0.0])
                else:
                    self.assertNotIn(k, login)
        signed = {k[1] for k, v in login.items() if v[0][1] == 1.0}
        self.assertEqual(signed, {"imap", "pop3"}, "alice signs in once per protocol")
        self.assertEqual(s["mailscope_status"], [({"target": ms.HOST}, 0.0)])

    def test_capabilities_as_the_server_sends_them(self):
        want_imap = ms.oracle_caps(ms.ADDR_VALID, ms.IMAPS_PORT, "imap", "implicit")[1]
        want_pop3 = ms.oracle_caps(ms.ADDR_VALID, ms.POP3S_PORT, "pop3", "implicit")[1]
        got = {}
        for labels, v in self.series["mailscope_capability"]:
            got.setdefault((labels["protocol"], labels["port"]), set()).add(labels["capability"])
        self.assertEqual(got[("imap", str(ms.IMAPS_PORT))], set(want_imap))
        self.assertEqual(got[("pop3", str(ms.POP3S_PORT))], set(want_pop3))
        self.assertIn("IDLE", got[("imap", str(ms.IMAP_PORT))])
        self.assertIn("UIDL", got[("pop3", str(ms.POP3_PORT))])

    def test_no_login_series_without_sign_in(self):
        r = ms.run(["--format", "prometheus"] + valid())
        self.assertEqual(r.rc, 0, r.describe())
        series, _, _ = parse_prom(r.stdout)
        self.assertNotIn("mailscope_login_success", series)
        for fam in REQUIRED_FAMILIES:
            self.assertIn(fam, series)

    def test_findings_and_status(self):
        r = ms.run(["--format", "prometheus"] + valid(addr=ms.ADDR_SOON))
        self.assertEqual(r.rc, 1, r.describe())
        promtool_check(self, r.stdout)
        series, _, _ = parse_prom(r.stdout)
        soon = [(l, v) for l, v in series["mailscope_finding"] if l["code"] == "tls.cert_expires_soon"]
        self.assertEqual(sorted(l["endpoint"] for l, v in soon), sorted(ms.standard_endpoints()))
        for l, v in soon:
            self.assertEqual(l["severity"], "warning")
            self.assertEqual(l["target"], ms.HOST)
            self.assertEqual(v, 1.0)
        self.assertEqual(series["mailscope_status"], [({"target": ms.HOST}, 1.0)])
        # a failed requirement is a finding without an endpoint
        r = ms.run(["--format", "prometheus", "--forbid", "pop3"] + valid())
        self.assertEqual(r.rc, 2, r.describe())
        promtool_check(self, r.stdout)
        series, _, _ = parse_prom(r.stdout)
        self.assertIn(({"target": ms.HOST, "endpoint": "", "code": "forbid.present", "severity": "critical"}, 1.0),
                      series["mailscope_finding"])
        self.assertEqual(series["mailscope_status"], [({"target": ms.HOST}, 2.0)])

    def test_failed_endpoints(self):
        r = ms.run(["--format", "prometheus"] + valid(addr=ms.ADDR_NOTLS))
        self.assertEqual(r.rc, 2, r.describe())
        promtool_check(self, r.stdout)
        series, _, _ = parse_prom(r.stdout)
        self.assertEqual(sorted(v for _, v in series["mailscope_probe_success"]), [0.0] * 4)
        self.assertNotIn("mailscope_tls_version_info", series)
        self.assertNotIn("mailscope_cert_not_after_timestamp_seconds", series)

    def test_many_targets_one_exposition(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "targets")
            targets = [url("imaps", ms.HOST), url("pop3s", "soon.test.example"), url("imap", "closed.test.example")]
            with open(path, "w") as f:
                f.write("\n".join(targets) + "\n")
            r = ms.run(["--format", "prometheus", "--ca-file", ms.CA, "--targets-file", path])
        self.assertEqual(r.rc, 2, r.describe())
        promtool_check(self, r.stdout)
        series, types, _ = parse_prom(r.stdout)
        self.assertEqual(sorted(l["target"] for l, v in series["mailscope_status"]), sorted(targets))
        self.assertEqual({l["target"]: v for l, v in series["mailscope_probe_success"]},
                         {targets[0]: 1.0, targets[1]: 1.0, targets[2]: 0.0})

    def test_repeated_target_listed_once(self):
        """A target on two lines would repeat every series (an invalid exposition): the
        first result stays, the repeat is left out and stderr says so."""
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "targets")
            targets = [url("imaps", ms.HOST), url("pop3s", ms.HOST), url("imaps", ms.HOST)]
            with open(path, "w") as f:
                f.write("\n".join(targets) + "\n")
            r = ms.run(["--format", "prometheus", "--ca-file", ms.CA, "--targets-file", path])
        self.assertEqual(r.rc, 0, r.describe())
        promtool_check(self, r.stdout)
        series, _, _ = parse_prom(r.stdout)
        self.assertEqual(sorted(l["target"] for l, v in series["mailscope_status"]),
                         sorted(set(targets)))
        self.assertRegex(r.stderr, r"1 line repeated a target listed before")
        self.assertRegex(r.stderr, r"3 targets: 3 ok")


class NodeExporter(unittest.TestCase):
    """The README's recipe: mailscope --format prometheus > dir/mailscope.prom.tmp, renamed to
    dir/mailscope.prom, read by node_exporter's textfile collector."""

    def setUp(self):
        if not os.path.exists(NODE_EXPORTER):
            raise AssertionError("prometheus-node-exporter not found (scripts/deps.sh installs it)")
        self.dir = tempfile.mkdtemp(prefix="ms-textfile-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.log = open(os.path.join(self.dir, "node-exporter.log"), "w+")
        self.addCleanup(self.log.close)
        self.proc = None
        for attempt in range(3):
            self.port = free_port()
            self.proc = subprocess.Popen(
                [NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % self.port,
                 "--collector.disable-defaults", "--collector.textfile",
                 "--collector.textfile.directory=" + self.dir],
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
            if self.wait_ready():
                return
            self.stop()
        self.fail("prometheus-node-exporter did not start:\n" + self.log_text())

    def tearDown(self):
        self.stop()

    def stop(self):
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)

    def log_text(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()[-3000:]

    def wait_ready(self):
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                self.fetch()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def fetch(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port, timeout=5) as resp:
            if resp.status != 200:
                raise OSError("HTTP %d" % resp.status)
            return resp.read().decode()

    def install(self, text):
        tmp = os.path.join(self.dir, "mailscope.prom.tmp")  # not *.prom: never read half-written
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, os.path.join(self.dir, "mailscope.prom"))

    def scrape_ok(self, text):
        m = re.search(r"^node_textfile_scrape_error (\S+)$", text, re.M)
        self.assertIsNotNone(m, "node_textfile_scrape_error missing:\n" + text[:2000])
        self.assertEqual(float(m.group(1)), 0.0, "the textfile collector rejected mailscope.prom:\n" + self.log_text())

    def test_series_read_back_over_http(self):
        env = {"MAILSCOPE_PASSWORD": ms.ALICE_PASSWORD}
        r = ms.run(["--format", "prometheus"] + valid(["--user", ms.ALICE]), env=env)
        self.assertEqual(r.rc, 0, r.describe())
        local, _, _ = parse_prom(r.stdout)
        self.install(r.stdout)
        text = self.fetch()
        self.scrape_ok(text)
        self.assertRegex(text, r'node_textfile_mtime_seconds\{file="[^"]*mailscope\.prom"\} ')
        remote, types, _ = parse_prom(text)
        for fam in REQUIRED_FAMILIES + ("mailscope_login_success", "mailscope_status"):
            with self.subTest(family=fam):
                self.assertIn(fam, remote)
                self.assertEqual(types.get(fam), "gauge")
                want = sorted((tuple(sorted(l.items())), v) for l, v in local[fam])
                got = sorted((tuple(sorted(l.items())), v) for l, v in remote[fam])
                self.assertEqual(got, want)
        ok = {key(l, *ENDPOINT_LABELS): v for l, v in remote["mailscope_probe_success"]}
        self.assertEqual(ok, {(ms.HOST, p, str(port), sec): 1.0 for (p, port, sec) in ms.standard_endpoints().values()})
        _, cert_end = ms.openssl_dates(os.path.join(ms.CERTS, "valid.pem"))
        self.assertEqual({v for l, v in remote["mailscope_cert_not_after_timestamp_seconds"]}, {cert_end.timestamp()})

        # the next run replaces the file atomically: the collector sees the new values
        r = ms.run(["--format", "prometheus", "--forbid", "pop3"] + valid())
        self.assertEqual(r.rc, 2, r.describe())
        self.install(r.stdout)
        text = self.fetch()
        self.scrape_ok(text)
        remote, _, _ = parse_prom(text)
        self.assertEqual(remote["mailscope_status"], [({"target": ms.HOST}, 2.0)])
        self.assertNotIn("mailscope_login_success", remote)
        self.assertIn("forbid.present", {l["code"] for l, v in remote["mailscope_finding"]})


# ---- JSON lines and many targets --------------------------------------------------------

def write_targets(lines):
    fd, path = tempfile.mkstemp(prefix="ms-targets-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    return path


def jsonl_docs(test, r):
    docs = []
    for n, line in enumerate(r.stdout.split("\n")[:-1], 1):
        try:
            doc = json.loads(line)
        except ValueError as e:
            raise AssertionError("line %d is not one JSON object (%s): %r" % (n, e, line[:300]))
        test.assertIsInstance(doc, dict)
        ms.validate(doc, r)
        docs.append(doc)
    test.assertTrue(r.stdout == "" or r.stdout.endswith("\n"))
    return docs


def summary_counts(test, stderr):
    found = SUMMARY_RE.findall(stderr)
    test.assertEqual(len(found), 1, "one summary line on stderr:\n" + stderr[-2000:])
    total, ok, warning, critical, unknown = (int(x) for x in found[0])
    test.assertEqual(total, ok + warning + critical + unknown)
    return {"ok": ok, "warning": warning, "critical": critical, "unknown": unknown}


def run_measured(args, stdin_path=None, env=None, timeout=120):
    """Run mailscope; (rc, stdout, stderr, peak RSS in KiB of that process alone)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        stdin = open(stdin_path) if stdin_path else subprocess.DEVNULL
        try:
            p = subprocess.Popen([ms.MAILSCOPE, "--dns-server", ms.DNS_SERVER] + list(args),
                                 stdin=stdin, stdout=out, stderr=err, env=ms_env(env))
        finally:
            if stdin_path:
                stdin.close()
        end = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > end:
                p.kill()
                pid, status, usage = os.wait4(p.pid, 0)
                raise AssertionError("mailscope did not finish in %d s" % timeout)
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        o, e = out.read(), err.read()
    check_no_sanitizer(e, " ".join(args))
    if p.returncode < 0 or p.returncode in (86, 87):
        raise AssertionError("mailscope crashed (rc %d):\n%s" % (p.returncode, e[-3000:]))
    return p.returncode, o, e, usage.ru_maxrss


class Fleet(unittest.TestCase):
    """200 targets against the loopback servers in one run."""

    NAME_HOSTS = {  # host -> status of each of its endpoints (URL targets are required)
        "mail.test.example": "ok", "soon.test.example": "warning", "expired.test.example": "critical",
        "selfsigned.test.example": "critical", "wronghost.test.example": "critical",
        "closed.test.example": "critical", "notls.test.example": "critical",
    }
    # by address: 127.0.0.2's and .6's certificates name their address; the others fail
    IP_HOSTS = {"127.0.0.%d" % i: {2: "ok", 6: "warning"}.get(i, "critical") for i in range(2, 11)}

    @classmethod
    def setUpClass(cls):
        rnd = random.Random(6)
        expect = {}   # target -> (status, user or None)
        for ip, st in cls.IP_HOSTS.items():
            for scheme in SCHEMES:
                expect[url(scheme, ip)] = (st, None)
        expect[ms.HOST] = ("ok", None)                         # a bare host: four endpoints
        expect["soon.test.example"] = ("warning", None)
        expect[url("imaps", ms.HOST)] = ("ok", ms.ALICE)       # per-line sign-in
        expect[url("pop3s", ms.HOST)] = ("ok", ms.ALICE)
        expect[url("imap", ms.HOST)] = ("ok", ms.ALICE)
        expect[url("pop3s", "soon.test.example")] = ("warning", ms.ALICE)
        # fill up to 200 with URL targets on the named hosts, spelled in different cases
        # (distinct lines, same servers)
        names = sorted(cls.NAME_HOSTS)
        n = 0
        while len(expect) < 200:
            host = names[n % len(names)]
            scheme = SCHEMES[(n // len(names)) % 4]
            variant = n // (4 * len(names)) + 1
            spelled = "".join(c.upper() if c.isalpha() and (variant >> (i % 7)) & 1 else c
                              for i, c in enumerate(host))
            t = url(scheme, spelled)
            if t not in expect:
                expect[t] = (cls.NAME_HOSTS[host], None)
            n += 1
        cls.expect = expect
        lines = []
        for t in rnd.sample(sorted(expect), len(expect)):
            user = expect[t][1]
            line = t if not user else "%s user=%s" % (t, user)
            r = rnd.random()
            if r < 0.1:
                line = "  \t" + line                       # leading blanks
            elif r < 0.2:
                line = line + "   # trailing comment"
            lines.append(line)
            if rnd.random() < 0.08:
                lines.append(rnd.choice(["", "# a comment line", "   ", "#imaps://not.a.target.example"]))
        cls.lines = ["# mailscope fleet test", ""] + lines + ["", "# end"]
        cls.path = write_targets(cls.lines)
        t0 = time.monotonic()
        cls.rc, cls.stdout, cls.stderr, cls.maxrss_kib = run_measured(
            ["--format", "jsonl", "--concurrency", "20", "--ports", ms.PORTS, "--ca-file", ms.CA,
             "--timeout", "10", "--targets-file", cls.path],
            env={"MAILSCOPE_PASSWORD": ms.ALICE_PASSWORD})
        cls.elapsed = time.monotonic() - t0

    @classmethod
    def tearDownClass(cls):
        os.unlink(cls.path)

    def setUp(self):
        class R:
            pass
        self.r = R()
        self.r.rc, self.r.stdout, self.r.stderr = self.rc, self.stdout, self.stderr
        self.r.describe = lambda: "rc=%d\nstderr:\n%s" % (self.rc, self.stderr[-3000:])

    def docs(self):
        if not hasattr(Fleet, "_docs"):
            Fleet._docs = jsonl_docs(self, self.r)
        return Fleet._docs

    def test_every_target_exactly_once(self):
        docs = self.docs()
        targets = [d["target"] for d in docs]
        dupes = sorted({t for t in targets if targets.count(t) > 1})
        self.assertEqual(dupes, [], "targets reported more than once")
        self.assertEqual(sorted(targets), sorted(self.expect), "missing: %s; unexpected: %s" % (
            sorted(set(self.expect) - set(targets))[:10], sorted(set(targets) - set(self.expect))[:10]))
        self.assertEqual(len(docs), 200)

    def test_each_result_belongs_to_its_target(self):
        for d in self.docs():
            t = d["target"]
            status, user = self.expect[t]
            with self.subTest(target=t):
                self.assertEqual(d["status"], status, [f["code"] for f in d["findings"]])
                self.assertEqual(d["user"], user)
                if "://" in t:
                    self.assertEqual([e["id"].lower() for e in d["endpoints"]], [t.lower()])
                else:
                    self.assertEqual(len(d["endpoints"]), 4)
                    self.assertEqual({e["host"] for e in d["endpoints"]}, {t})
                if user:
                    signed = [e for e in d["endpoints"] if e["auth"] and e["auth"].get("attempted")]
                    self.assertEqual(len(signed), 1, d["endpoints"])
                    self.assertIs(signed[0]["auth"]["ok"], True)
                else:
                    self.assertFalse([e for e in d["endpoints"] if e["auth"] and e["auth"].get("attempted")])

    def test_exit_code_is_the_worst(self):
        self.assertEqual(self.rc, 2, self.r.describe())

    def test_summary_line(self):
        counts = summary_counts(self, self.stderr)
        want = {s: 0 for s in STATUS_NAMES}
        for st, _ in self.expect.values():
            want[st] += 1
        self.assertEqual(counts, want)
        self.assertEqual(self.stderr.strip().splitlines()[-1], SUMMARY_RE.search(self.stderr).group(0),
                         "the summary is the last line")

    def test_no_progress_line_when_piped(self):
        self.assertNotIn("\r", self.stderr)
        self.assertNotIn("\x1b[", self.stderr)
        self.assertNotRegex(self.stderr, r"\d+/\d+ done")

    def test_no_secret_anywhere(self):
        self.assertNotIn(ms.ALICE_PASSWORD, self.stdout)
        self.assertNotIn(ms.ALICE_PASSWORD, self.stderr)

    def test_bounded_memory(self):
        limit = 64 * 1024
        if is_sanitized():
            limit = 512 * 1024  # ASan's shadow memory and quarantine: a different scale
        self.assertLess(self.maxrss_kib, limit, "peak RSS %.1f MiB for 200 targets" % (self.maxrss_kib / 1024))

    def test_memory_does_not_grow_with_targets(self):
        """Finished results are written and freed: 10 targets and 200 cost about the same."""
        if is_sanitized():
            self.skipTest("ASan's quarantine keeps freed memory: RSS does not show reuse")
        path = write_targets([l for l in self.lines if "://" in l][:10])
        try:
            rc, out, err, small = run_measured(
                ["--format", "jsonl", "--concurrency", "20", "--ports", ms.PORTS, "--ca-file", ms.CA,
                 "--targets-file", path], env={"MAILSCOPE_PASSWORD": ms.ALICE_PASSWORD})
        finally:
            os.unlink(path)
        self.assertEqual(len(out.splitlines()), 10)
        self.assertLess(self.maxrss_kib - small, 16 * 1024,
                        "peak RSS: %d KiB for 10 targets, %d KiB for 200" % (small, self.maxrss_kib))

    def test_finishes_in_time(self):
        """No hang: 21 s seen under ASan on a busy 2-core machine; a slot that stalled a
        10-s timeout in each of the 10 waves would take 100 s. (Speed: tests/bench.)"""
        print("\nfleet: 200 targets with --concurrency 20 took %.1f s" % self.elapsed)
        self.assertLess(self.elapsed, 90, "200 targets with --concurrency 20 took %.1f s" % self.elapsed)


class Targets(unittest.TestCase):
    """Smaller targets-file runs: exit codes, stdin, user=, bad lines, progress line, -q."""

    def fleet(self, lines, extra=(), env=None, stdin=False, rc=None):
        path = write_targets(lines)
        try:
            args = ["--format", "jsonl", "--ca-file", ms.CA, "--ports", ms.PORTS] + list(extra)
            if stdin:
                with open(path) as f:
                    r = ms.run(args + ["--targets-file", "-"], env=env, stdin=f)
            else:
                r = ms.run(args + ["--targets-file", path], env=env)
        finally:
            os.unlink(path)
        if rc is not None:
            self.assertEqual(r.rc, rc, r.describe())
        return r, jsonl_docs(self, r)

    def test_exit_codes(self):
        r, docs = self.fleet([url("imaps", ms.HOST), url("pop3", ms.HOST)], rc=0)
        self.assertEqual(summary_counts(self, r.stderr), {"ok": 2, "warning": 0, "critical": 0, "unknown": 0})
        r, docs = self.fleet([url("imaps", ms.HOST), url("pop3s", "soon.test.example")], rc=1)
        self.assertEqual(summary_counts(self, r.stderr), {"ok": 1, "warning": 1, "critical": 0, "unknown": 0})
        r, docs = self.fleet([url("pop3s", "soon.test.example"), url("imaps", "closed.test.example"),
                              url("imaps", ms.HOST)], rc=2)
        self.assertEqual(summary_counts(self, r.stderr), {"ok": 1, "warning": 1, "critical": 1, "unknown": 0})
        # a line that is not a target is that line's UNKNOWN, and the others still run
        r, docs = self.fleet([url("imaps", ms.HOST), url("imaps", ms.HOST) + " color=blue"], rc=3)
        self.assertEqual(len(docs), 1)
        self.assertRegex(r.stderr, r"targets file line 2: .*color=blue")
        self.assertEqual(summary_counts(self, r.stderr), {"ok": 1, "warning": 0, "critical": 0, "unknown": 1})

    def test_stdin_comments_and_blank_lines(self):
        lines = ["# first a comment", "", "   ", url("imaps", ms.HOST) + "  # why", "\t# indented comment",
                 url("pop3s", ms.HOST), "", "# " + url("imap", "closed.test.example")]
        r, docs = self.fleet(lines, stdin=True, rc=0)
        self.assertEqual(sorted(d["target"] for d in docs), sorted([url("imaps", ms.HOST), url("pop3s", ms.HOST)]))
        self.assertEqual(summary_counts(self, r.stderr)["ok"], 2)

    def test_per_line_user(self):
        env = {"MAILSCOPE_PASSWORD": ms.ALICE_PASSWORD}
        lines = [url("imaps", ms.HOST) + " user=" + ms.ALICE, url("pop3s", ms.HOST),
                 url("pop3s", ms.HOST).replace("mail.", "MAIL.") + " user=" + ms.ALICE]
        r, docs = self.fleet(lines, env=env, rc=0)
        by = {d["target"]: d for d in docs}
        imap = by[url("imaps", ms.HOST)]
        self.assertEqual(imap["user"], ms.ALICE)
        self.assertIs(imap["endpoints"][0]["auth"]["ok"], True)
        folders = {f["name"] for f in imap["endpoints"][0]["account"]["folders"]}
        self.assertLessEqual(set(ms.ALICE_FOLDERS), folders)
        self.assertIsNone(by[url("pop3s", ms.HOST)]["user"])
        pop = by[url("pop3s", ms.HOST).replace("mail.", "MAIL.")]
        self.assertEqual(pop["user"], ms.ALICE)
        self.assertIs(pop["endpoints"][0]["auth"]["ok"], True)
        self.assertNotIn(ms.ALICE_PASSWORD, r.stdout + r.stderr)
        # --require login holds per target: the line without user= is not met
        r, docs = self.fleet(lines, extra=["--require", "login"], env=env, rc=2)
        status = {d["target"]: d["status"] for d in docs}
        self.assertEqual(status[url("imaps", ms.HOST)], "ok")
        self.assertEqual(status[url("pop3s", ms.HOST)], "critical")

    def test_results_written_as_each_finishes(self):
        """A target that hangs (a port that accepts and never speaks) must not hold back the
        lines of targets that are done."""
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        self.addCleanup(silent.close)
        slow = "imaps://127.0.0.1:%d" % silent.getsockname()[1]
        path = write_targets([slow, url("imaps", ms.HOST), url("pop3s", ms.HOST)])
        self.addCleanup(os.unlink, path)
        args = [ms.MAILSCOPE, "--dns-server", ms.DNS_SERVER, "--format", "jsonl", "--ca-file", ms.CA,
                "--timeout", "2", "--targets-file", path]
        lines = self.stream(args)
        self.assertEqual(len(lines), 3, lines)
        first, last = lines[0], lines[-1]
        self.assertNotEqual(json.loads(first[1])["target"], slow)
        self.assertEqual(json.loads(last[1])["target"], slow)
        self.assertGreater(last[0] - first[0], 1.0, "the finished targets' lines came only at the end")
        for _, line in lines:
            ms.validate(json.loads(line))

    def test_results_written_as_each_finishes_from_stdin(self):
        """The same with --targets-file - fed by a slow producer (cat list | ... | mailscope):
        a target that is done is written before the next line arrives."""
        args = [ms.MAILSCOPE, "--dns-server", ms.DNS_SERVER, "--format", "jsonl", "--ca-file", ms.CA,
                "--targets-file", "-"]
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=ms_env())
        try:
            p.stdin.write((url("imaps", ms.HOST) + "\n").encode())
            p.stdin.flush()
            ready, _, _ = select.select([p.stdout], [], [], 20)  # a stalled loop never answers
            got_first = bool(ready)
            first = p.stdout.readline() if ready else b""
            p.stdin.write((url("pop3s", ms.HOST) + "\n").encode())
            p.stdin.close()
            rest = p.stdout.read()
            err = p.stderr.read()
            p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check_no_sanitizer(err.decode(), "stdin stream")
        lines = [l for l in (first + rest).decode().splitlines() if l]
        self.assertEqual(len(lines), 2)
        self.assertEqual(p.returncode, 0, err.decode())
        self.assertTrue(got_first, "no result within 20 s while stdin stayed open: reading the next "
                                   "target blocks the event loop (the probe in flight stalls, and "
                                   "its timings grow by the producer's pauses)")
        self.assertEqual(json.loads(first)["target"], url("imaps", ms.HOST))

    def stream(self, args, timeout=60):
        """[(time, line)] of stdout, stamped as each line arrives."""
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=ms_env())
        out = []
        buf = b""
        end = time.monotonic() + timeout
        try:
            while time.monotonic() < end:
                ready, _, _ = select.select([p.stdout], [], [], 0.5)
                if ready:
                    chunk = os.read(p.stdout.fileno(), 65536)
                    if not chunk:
                        break
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        out.append((time.monotonic(), line.decode()))
            p.wait(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        err = p.stderr.read().decode()
        p.stderr.close()
        p.stdout.close()
        check_no_sanitizer(err, " ".join(args))
        return out

    def on_tty(self, extra=()):
        """Run a small fleet with stderr on a pseudo-terminal; (rc, stderr text)."""
        path = write_targets([url("imaps", ms.HOST), url("pop3s", ms.HOST), url("imap", "closed.test.example")])
        self.addCleanup(os.unlink, path)
        master, slave = pty.openpty()
        with tempfile.TemporaryFile() as out:
            p = subprocess.Popen([ms.MAILSCOPE, "--dns-server", ms.DNS_SERVER, "--format", "jsonl",
                                  "--ca-file", ms.CA, "--targets-file", path] + list(extra),
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=slave, env=ms_env())
            os.close(slave)
            data = b""
            end = time.monotonic() + 60
            try:
                while time.monotonic() < end:
                    ready, _, _ = select.select([master], [], [], 0.5)
                    if ready:
                        try:
                            chunk = os.read(master, 65536)
                        except OSError:  # EIO: the child closed the terminal
                            break
                        if not chunk:
                            break
                        data += chunk
                    elif p.poll() is not None:
                        break
                p.wait(timeout=10)
            finally:
                os.close(master)
                if p.poll() is None:
                    p.kill()
                    p.wait()
            out.seek(0)
            self.assertEqual(len(out.read().splitlines()), 3)
        text = data.decode("utf-8", "replace")
        check_no_sanitizer(text, "tty run")
        return p.returncode, text

    def test_progress_line_on_a_terminal(self):
        rc, text = self.on_tty()
        self.assertEqual(rc, 2, text)
        self.assertIn("\r\x1b[K", text)
        self.assertRegex(text, r"3/3 done, 1 failing, [\d.]+/s")
        self.assertRegex(text, r"1/3 done")
        self.assertRegex(text, r"mailscope: 3 targets: 2 ok, 0 warning, 1 critical, 0 unknown")

    def test_quiet_on_a_terminal(self):
        for flag in ("-q", "--quiet"):
            rc, text = self.on_tty([flag])
            self.assertEqual(rc, 2, text)
            self.assertNotIn("\x1b[", text)
            self.assertNotRegex(text, r"\d+/\d+ done")
            self.assertRegex(text, r"mailscope: 3 targets: 2 ok, 0 warning, 1 critical, 0 unknown")


class JsonLines(unittest.TestCase):
    def test_one_object_per_target(self):
        targets = [ms.HOST, url("pop3s", "soon.test.example"), url("imaps", "expired.test.example")]
        path = write_targets(targets)
        self.addCleanup(os.unlink, path)
        r = ms.run(["--format", "jsonl", "--ca-file", ms.CA, "--ports", ms.PORTS, "--targets-file", path])
        self.assertEqual(r.rc, 2, r.describe())
        docs = jsonl_docs(self, r)
        self.assertEqual(len(r.stdout.splitlines()), 3)
        by = {d["target"]: d for d in docs}
        self.assertEqual(sorted(by), sorted(targets))
        self.assertEqual(by[ms.HOST]["status"], "ok")
        self.assertEqual(len(by[ms.HOST]["endpoints"]), 4)
        self.assertEqual(by[targets[1]]["status"], "warning")
        self.assertEqual([f["code"] for f in by[targets[1]]["findings"] if f["severity"] != "info"],
                         ["tls.cert_expires_soon"])
        self.assertEqual(by[targets[2]]["status"], "critical")
        self.assertIn("tls.cert_expired", ms.codes(by[targets[2]]))

    def test_single_target_is_one_line(self):
        r = ms.run(["--format", "jsonl"] + valid())
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(r.stdout.count("\n"), 1)
        docs = jsonl_docs(self, r)
        # the same report as --json, on one line
        j = ms.probe_json(valid()).json
        self.assertEqual(sorted(docs[0]), sorted(j))
        self.assertEqual(sorted(e["id"] for e in docs[0]["endpoints"]), sorted(e["id"] for e in j["endpoints"]))


# ---- --require / --forbid end to end ----------------------------------------------------

class Requirements(unittest.TestCase):
    def test_require_met(self):
        r = ms.probe_json(valid(["--require", "imap:IDLE,pop3:UIDL,tls>=1.2"]))
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(ms.findings(r.json, "require.unmet"), [])
        r = ms.probe_json(valid(["--require", "imap,pop3", "--require", "imaps,imap+starttls,pop3s,pop3+stls",
                                 "--require", "cert-days>=21,push_mail,leave_mail_on_server",
                                 "--forbid", "tls<1.2,auth.plaintext_login_allowed"]))
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(r.json["status"], "ok")

    def test_forbid_pop3(self):
        r = ms.probe_json(valid(["--forbid", "pop3"]))
        self.assertEqual(r.rc, 2, r.describe())
        self.assertEqual(r.json["status"], "critical")
        f = ms.findings(r.json, "forbid.present")
        self.assertEqual(len(f), 1, r.json["findings"])
        self.assertEqual(f[0]["severity"], "critical")
        self.assertIsNone(f[0]["endpoint"])
        self.assertIn("pop3", f[0]["message"])
        self.assertIn("--forbid", f[0]["remedy"])
        self.assertEqual(r.json["findings"][0]["code"], "forbid.present", "worst first")
        # --protocols imap: POP3 is not looked at, so it is not present
        r = ms.probe_json(valid(["--protocols", "imap", "--forbid", "pop3"]))
        self.assertEqual(r.rc, 0, r.describe())

    def test_require_unmet(self):
        r = ms.probe_json(valid(["--require", "imap:AUTH=XOAUTH2,cert-days>=100000,login"]))
        self.assertEqual(r.rc, 2, r.describe())
        msgs = [f["message"] for f in ms.findings(r.json, "require.unmet")]
        self.assertEqual(len(msgs), 3, msgs)
        for item in ("imap:AUTH=XOAUTH2", "cert-days>=100000", "login"):
            self.assertTrue(any(item in m for m in msgs), (item, msgs))
        r = ms.probe_json(valid(["--require", "cert-days>=21"], addr=ms.ADDR_SOON))
        self.assertEqual(r.rc, 2, r.describe())
        self.assertEqual(len(ms.findings(r.json, "require.unmet")), 1)

    def test_login_requirements(self):
        env = {"MAILSCOPE_PASSWORD": ms.ALICE_PASSWORD}
        r = ms.probe_json(valid(["--user", ms.ALICE, "--require", "login,quota,server_folders"]), env=env)
        self.assertEqual(r.rc, 0, r.describe())
        r = ms.probe_json(valid(["--user", ms.ALICE, "--forbid", "login"]), env=env)
        self.assertEqual(r.rc, 2, r.describe())
        self.assertEqual(len(ms.findings(r.json, "forbid.present")), 1)
        # imaponly may not use POP3: one sign-in works, so --forbid login still finds it
        env = {"MAILSCOPE_PASSWORD": ms.IMAPONLY_PASSWORD}
        r = ms.probe_json(valid(["--user", ms.IMAPONLY, "--forbid", "login", "--require", "login"]), env=env)
        self.assertEqual(r.rc, 2, r.describe())
        self.assertEqual(len(ms.findings(r.json, "forbid.present")), 1)
        self.assertEqual(len(ms.findings(r.json, "require.unmet")), 1)

    def test_unknown_item_is_a_usage_error(self):
        for opt in ("--require", "--forbid"):
            with self.subTest(option=opt):
                r = ms.run([opt, "imap,bogus-item"] + valid())
                self.assertEqual(r.rc, 3, r.describe())
                self.assertEqual(r.stdout, "")
                lines = r.stderr.splitlines()
                self.assertEqual(len(lines), 2, "one line, then the --help hint:\n" + r.stderr)
                self.assertTrue(lines[0].startswith("mailscope: %s: unknown item 'bogus-item'" % opt), lines[0])
                missing = [v for v in VALID_ITEMS if v not in lines[0]]
                self.assertEqual(missing, [], "the message does not list every valid item: " + lines[0])
                self.assertIn("--help", lines[1])
        r = ms.run(["--require", ""] + valid())
        self.assertEqual(r.rc, 3, r.describe())
        r = ms.run(["--require", "tls>=1.4"] + valid())
        self.assertEqual(r.rc, 3, r.describe())
        self.assertIn("1.0, 1.1, 1.2, 1.3", r.stderr)

    def test_with_thresholds_in_json(self):
        r = ms.probe_json(valid(["-c", "0.000001"]))
        self.assertEqual(r.rc, 2, r.describe())
        slow = ms.findings(r.json, "perf.response_time", "critical")
        self.assertEqual(sorted(f["endpoint"] for f in slow), sorted(ms.standard_endpoints()))
        for e in r.json["endpoints"]:
            self.assertEqual(e["status"], "critical", "%s is over the critical threshold" % e["id"])


if __name__ == "__main__":
    ms.main()
