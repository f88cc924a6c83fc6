#!/usr/bin/env python3
"""report/schema.json is a valid JSON Schema that pins the names the issue fixes.
(Every report the other integration tests see is validated against it as well.)"""

import json
import unittest

import mstest as ms


class Schema(unittest.TestCase):
    def test_schema_is_valid(self):
        ms.validator()  # loads it and runs check_schema

    def test_required_top_level(self):
        with open(ms.SCHEMA) as f:
            schema = json.load(f)
        req = set(schema.get("required", []))
        for k in ("mailscope", "schema_version", "target", "status", "duration_ms", "endpoints", "findings"):
            self.assertIn(k, req, "schema should require top-level %r" % k)

    def test_rejects_garbage(self):
        v = ms.validator()
        self.assertFalse(v.is_valid({}))
        self.assertFalse(v.is_valid({"status": "fine"}))

    def test_report_of_failed_and_good_runs_validate(self):
        ms.probe_json(["imaps://127.0.0.1:1"])
        ms.probe_json(ms.valid_args(extra=("--protocols", "pop3")))


if __name__ == "__main__":
    ms.main()
