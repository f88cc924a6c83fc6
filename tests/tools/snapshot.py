#!/usr/bin/env python3
"""Report snapshots: compare mailscope's reports between two builds, byte for byte.

A refactoring that must not change what users see (issue 12: "reports byte-identical
before and after") is checked by running the fake-server catalogue and the integration
scripts with MS_SNAPSHOT_DIR set: the runners (tests/fake/run_case.py,
tests/integration/mstest.py) call save() with every mailscope invocation's arguments and
stdout. Then

    python3 tests/tools/snapshot.py compare OLD_DIR NEW_DIR

normalises what legitimately differs between two runs (timings, ephemeral ports,
per-run certificates and their dates, temporary paths) and prints every report that
still differs. Exit 0: identical.
"""
import difflib
import hashlib
import json
import os
import re
import sys
import threading

_lock = threading.Lock()
_counts = {}


def _norm_args(args):
    out = []
    for a in args:
        a = re.sub(r"/tmp/[^ ,:]*", "/TMP", str(a))
        a = re.sub(r"(?<![\d.])\d{5}(?!\d)", "PORT", a)
        out.append(a)
    return out


def save(suite, args, stdout):
    """Record one invocation's stdout under MS_SNAPSHOT_DIR (no-op when unset)."""
    base = os.environ.get("MS_SNAPSHOT_DIR")
    if not base:
        return
    norm = _norm_args(args)
    key = hashlib.sha1(json.dumps([suite] + norm).encode()).hexdigest()[:12]
    with _lock:
        n = _counts.get(key, 0)
        _counts[key] = n + 1
    os.makedirs(base, exist_ok=True)
    path = os.path.join(base, "%s-%s-%d" % (suite, key, n))
    with open(path + ".args", "w") as f:
        f.write(" ".join(norm) + "\n")
    with open(path + ".out", "w") as f:
        f.write(stdout)


# Fields whose values differ from run to run by nature.
_VOLATILE_KEYS = {"duration_ms", "started_at", "connect_ms", "total", "resolve", "connect",
                  "tls", "greeting", "sha256_fingerprint", "not_before", "not_after",
                  "not_before_epoch", "not_after_epoch", "days_left"}


def _norm_json(doc):
    if isinstance(doc, dict):
        return {k: ("*" if (k in _VOLATILE_KEYS and not isinstance(v, (dict, list))) or
                    (k == "port" and isinstance(v, int) and v >= 30000) else _norm_json(v))
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [_norm_json(v) for v in doc]
    if isinstance(doc, str):
        return _norm_text(doc)
    return doc


def _norm_text(s):
    s = re.sub(r"(?<![\w.])\d+(\.\d+)? ?(ms|s)\b", "T", s)
    s = re.sub(r"(?<![\w.])\d+\.\d+$", "T", s)
    s = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "DATE", s)
    s = re.sub(r"\b\d{4}-\d\d-\d\d\b", "DATE", s)
    s = re.sub(r"\b\d\d:\d\d:\d\d\b", "TIME", s)
    s = re.sub(r"[0-9A-F]{2}(:[0-9A-F]{2}){31}", "FP", s)
    s = re.sub(r"(?<![\d.])\d{5}(?!\d)", "PORT", s)
    s = re.sub(r"in \d+ days?|\d+ days? ago", "N days", s)
    s = re.sub(r"/tmp/\S*", "/TMP", s)
    s = re.sub(r"\[ *\d+\.\d+\]", "[T]", s)
    return s


def normalise(text):
    lines = []
    for chunk in text.splitlines():
        try:
            doc = json.loads(chunk)
            lines.append(json.dumps(_norm_json(doc), indent=1, sort_keys=False))
            continue
        except ValueError:
            pass
        lines.append(_norm_text(chunk))
    joined = "\n".join(lines)
    try:  # a whole (multi-line) JSON document
        return json.dumps(_norm_json(json.loads(text)), indent=1)
    except ValueError:
        return joined


def compare(old, new):
    names = sorted(set(f[:-4] for f in os.listdir(old) if f.endswith(".out")) |
                   set(f[:-4] for f in os.listdir(new) if f.endswith(".out")))
    differ = missing = 0
    for n in names:
        a, b = os.path.join(old, n + ".out"), os.path.join(new, n + ".out")
        if not (os.path.exists(a) and os.path.exists(b)):
            missing += 1
            print("only in %s: %s" % (old if os.path.exists(a) else new, n))
            continue
        args = open(os.path.join(old, n + ".args")).read().strip()
        x, y = normalise(open(a).read()), normalise(open(b).read())
        if "--targets-file" in args:  # fleets finish in any order
            x, y = "\n".join(sorted(x.splitlines())), "\n".join(sorted(y.splitlines()))
        if x != y:
            differ += 1
            print("=== %s: %s" % (n, args))
            sys.stdout.writelines(list(difflib.unified_diff(
                x.splitlines(True), y.splitlines(True), "old", "new", n=2))[:80])
    print("%d reports compared, %d differ, %d unmatched" % (len(names) - missing, differ, missing))
    return 1 if differ or missing else 0


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "compare":
        sys.exit(__doc__)
    sys.exit(compare(sys.argv[2], sys.argv[3]))
