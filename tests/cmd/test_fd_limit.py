#!/usr/bin/env python3
"""A fleet under a low descriptor limit (ulimit -n): the in-flight bound is sized to the
limit and a descriptor shortage is back-pressure, never a result."""

import json
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cmdtest  # noqa: E402

SUMMARY_RE = re.compile(r"^mailscope: (\d+) targets?: (\d+) ok, (\d+) warning, (\d+) critical, (\d+) unknown$",
                        re.M)


class DescriptorLimit(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ms-cmd-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def fleet(self, ulimit, n=500, extra=()):
        with cmdtest.Listener("imap") as srv:
            lines = ["imap://127.0.0.1:%d" % srv.port] * n
            path = cmdtest.write(os.path.join(self.tmp, "targets"), "\n".join(lines) + "\n")
            r = cmdtest.run(["--format", "jsonl", "--concurrency", "200", "--timeout", "20", "--deadline", "60"]
                            + list(extra) + ["--targets-file", path], shell=ulimit, timeout=240)
        docs = [json.loads(l) for l in r.out.splitlines()]
        return r, docs

    def check(self, r, docs, n=500):
        self.assertEqual(len(docs), n, r.describe())
        internal = [d["target"] for d in docs
                    if any(f["code"] == "internal.error" for f in d["findings"])
                    or any((e.get("error") or {}).get("code") == "internal.error" for e in d["endpoints"])]
        self.assertEqual(internal, [], "internal.error for %d targets:\n%s" % (len(internal), r.describe()))
        self.assertNotIn("Too many open files", r.stdout + r.stderr)
        # every target reached the server and was judged on what it said (no STARTTLS)
        for d in docs:
            self.assertEqual(d["status"], "critical", d["findings"])
            self.assertIn("starttls.not_offered", [f["code"] for f in d["findings"]], d["target"])
        found = SUMMARY_RE.findall(r.stderr)
        self.assertEqual(found, [(str(n), "0", "0", str(n), "0")], r.stderr)

    def test_hard_limit_40(self):
        """ulimit -n 40 sets the hard limit too: nothing to raise, the bound must fit."""
        r, docs = self.fleet("ulimit -n 40")
        self.assertEqual(r.rc, 2, r.describe())
        self.check(r, docs)
        # (40 - 16 reserved) / 6 per endpoint
        self.assertIn("mailscope: 4 endpoints in flight at most (not 200): the limit of 40 open files", r.stderr)

    def test_soft_limit_raised_to_hard(self):
        """ulimit -Sn 40 with a higher hard limit: the soft limit is raised at start."""
        r, docs = self.fleet("ulimit -Hn 4096; ulimit -Sn 40")
        self.assertEqual(r.rc, 2, r.describe())
        self.check(r, docs)
        self.assertNotIn("in flight at most", r.stderr)  # 4096 descriptors are plenty for 200

    def test_injection_test_under_the_limit(self):
        """--injection-test doubles the connections per STARTTLS endpoint."""
        r, docs = self.fleet("ulimit -n 40", n=100, extra=["--injection-test"])
        self.check(r, docs, n=100)


    def test_one_target_with_more_endpoints_than_descriptors(self):
        """One run is always admitted, whatever its size: 40 endpoints at once under 24
        descriptors. Those that find none wait for one (back-pressure), none fails."""
        with cmdtest.Listener("imap", count=40) as srv:
            targets = ["imap://127.0.0.1:%d" % p for p in srv.ports]
            r = cmdtest.run(["--json", "--timeout", "20", "--deadline", "60"] + targets, shell="ulimit -n 24",
                            timeout=120)
        doc = json.loads(r.out)
        self.assertEqual(r.rc, 2, r.describe())
        self.assertEqual(len(doc["endpoints"]), 40)
        errors = sorted({(e.get("error") or {}).get("code") for e in doc["endpoints"]} - {None})
        self.assertNotIn("internal.error", [f["code"] for f in doc["findings"]], r.describe())
        self.assertNotIn("Too many open files", r.stdout + r.stderr)
        for e in doc["endpoints"]:
            self.assertEqual((e.get("error") or {}).get("code"), "starttls.not_offered", e)


if __name__ == "__main__":
    unittest.main()
