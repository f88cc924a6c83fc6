#!/usr/bin/env python3
"""run_case.py - run one fake-server case against mailscope and check what it reports.

  run_case.py [-q] [--keep] CASE.case

Environment: MAILSCOPE (the binary, default "mailscope"), MS_SCHEMA (report/schema.json;
validated when python3-jsonschema is importable). mailscope gets the runner's environment
without MAILSCOPE_PASSWORD / MAILSCOPE_OAUTH2_TOKEN, plus the case's "env".

The runner is generic; cases are data (see README.md). For each case it generates the
certificates the script needs (a test CA plus CA-signed / expired / wrong-host /
self-signed leaves) into a temporary directory, starts fakeserver.FakeServer in a thread
on an ephemeral 127.0.0.1 port, runs mailscope with --json (and --trace, for the log)
and the case's arguments ({port}, {ca}, {host} substituted), and checks:

  - mailscope exited by itself with a code 0-3 (never a signal), without a sanitizer
    report on stderr, and in time (see "Time checks" below);
  - stdout is exactly one JSON document, valid against the schema, whose status agrees
    with the exit code;
  - the exit code, the endpoint's error code and phase, the findings required (code,
    severity, on the endpoint), the findings that must be absent, and any field checks;
  - a failed endpoint has a finding with its error code (the report names the problem);
  - no secret of the case (expect.secret_absent, and every "env" value whose name says
    PASSWORD, TOKEN or SECRET) appears on stdout or stderr, raw or base64-encoded at any
    alignment (so also inside a SASL PLAIN/XOAUTH2 blob);
  - the fake server ran its script without error (unless the case allows it).

Time checks: they catch a hang, never slowness (speed belongs in tests/bench), so they
must hold under ASan+UBSan on a loaded 2-core machine. The wall time measured is
mailscope's own: from just before its exec to its exit (the certificates and the fake
server are set up before the clock starts). Every case must finish within --deadline +
DEADLINE_MARGIN: the deadline holds whatever the server does. Unless the case says
"deadline_ok" (the deadline is the point, or may end the run), the run must also have
ended by itself: the report's duration_ms (mailscope's clock, from before it arms the
deadline until its last connection closed, so without the exec, ASan's start-up and leak
check, and the wait for a CPU that make up most of a loaded run's wall time) is below
--deadline. A run the deadline ended lasts at least that long, so this catches a session,
a side connection or a LOGOUT stuck until the deadline even when the report looks right.

Exit status: 0 pass, 1 fail, 77 skip (a requirement the machine or the binary lacks: ctest
SKIP_RETURN_CODE).

A case's "protocol" is imap, pop3 or smtp (the server side is only its script). Its
"requires" may name "TLSv1" / "TLSv1.1" (the local OpenSSL must negotiate it) and "smtp"
(the binary must probe SMTP submission: its --help mentions "submission"), so SMTP cases can
wait in the catalogue for the session that runs them.
"""

import base64
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import snapshot  # noqa: E402

SKIP = 77
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer",
                     "ThreadSanitizer", "MemorySanitizer")
STATUS_EXIT = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}
DEFAULT_DEADLINE = 30.0
# What a loaded machine may add to a run that the deadline ends: ASan's start-up and exit
# (leak check), the report, waiting for a CPU, late timers. Observed under ASan with load
# 15-20 on 2 cores: up to 2.1 s past --deadline, and 2.0 s between exec and exit that the
# run's own duration_ms does not contain.
DEADLINE_MARGIN = 5.0
SECRET_ENV = ("MAILSCOPE_PASSWORD", "MAILSCOPE_OAUTH2_TOKEN")
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET", re.I)
PROTOCOLS = ("imap", "pop3", "smtp")


class Failure(Exception):
    pass


def load_case(path):
    with open(path, encoding="utf-8") as f:
        case = json.load(f)
    for key in ("name", "protocol", "args", "server", "expect"):
        if key not in case:
            raise Failure("case %s lacks %r" % (path, key))
    if case["protocol"] not in PROTOCOLS:
        raise Failure("case %s: protocol must be one of %s" % (path, ", ".join(PROTOCOLS)))
    if "max_seconds" in case["expect"]:
        raise Failure("case %s: max_seconds is retired: a time bound here only catches a hang "
                      "(see README.md, Time checks); drop it, and add \"deadline_ok\": true if "
                      "the deadline may end the run" % path)
    return case


def speaks_smtp(mailscope):
    """Does this mailscope probe SMTP submission yet? Its --help says so."""
    if not shutil.which(mailscope):
        raise Failure("mailscope binary %r not found (set MAILSCOPE)" % mailscope)
    try:
        proc = subprocess.run([mailscope, "--help"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    except subprocess.TimeoutExpired:
        raise Failure("mailscope --help hung")
    return b"submission" in proc.stdout


def unmet_requirement(case, mailscope):
    """Why the case cannot run here (a reason to SKIP), or None."""
    for req in case.get("requires", []):
        m = re.fullmatch(r"(TLSv1(?:\.[0-3])?)", req)
        if m:
            if not fakeserver.can_speak(m.group(1)):
                return "this OpenSSL cannot negotiate %s even at @SECLEVEL=0" % req
        elif req == "smtp":
            if not speaks_smtp(mailscope):
                return "this mailscope does not probe SMTP submission yet (--help)"
        else:
            raise Failure("unknown requirement %r" % req)
    return None


def option_value(args, name, default):
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return float(args[i + 1])
        if a.startswith(name + "="):
            return float(a.split("=", 1)[1])
    return default


def check_time(expect, deadline, elapsed, cpu, doc, problems):
    """The time checks (see the module's doc): the deadline held, and unless the case says
    "deadline_ok", the run ended by itself before the deadline could end it."""
    timing = describe_time(elapsed, cpu, doc)
    hard = deadline + DEADLINE_MARGIN
    if elapsed > hard:
        problems.append("took %s; more than --deadline + %.1f s (%.1f s): the deadline did not "
                        "hold" % (timing, DEADLINE_MARGIN, hard))
    duration = doc.get("duration_ms") if isinstance(doc, dict) else None
    if not expect.get("deadline_ok") and isinstance(duration, (int, float)) and \
            duration >= deadline * 1000 - 1:  # - 1: the report rounds
        problems.append("took %s; the run lasted its whole --deadline (%g s) by its own clock, "
                        "so the deadline ended it (a case the deadline may end says "
                        "\"deadline_ok\": true)" % (timing, deadline))


def children_cpu():
    """CPU seconds (user + system) used by the runner's waited-for children so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def describe_time(elapsed, cpu, doc):
    """"0.23 s, CPU 0.05 s, report 45 ms": wall time from exec to exit, mailscope's CPU
    time, and the run's own duration_ms (its probing, without start-up and exit)."""
    text = "%.2f s, CPU %.2f s" % (elapsed, cpu)
    if isinstance(doc, dict) and isinstance(doc.get("duration_ms"), (int, float)):
        text += ", report %.0f ms" % doc["duration_ms"]
    return text


def lookup(doc, path):
    """"endpoints.0.error.code" -> value; raises KeyError when absent. In a list, a part
    KEY=VALUE picks the first object whose KEY is VALUE ("summary.features.id=quota.pop3")."""
    cur = doc
    for part in path.split("."):
        if isinstance(cur, list) and "=" in part:
            key, want = part.split("=", 1)
            hits = [x for x in cur if isinstance(x, dict) and str(x.get(key)) == want]
            if not hits:
                raise KeyError(path)
            cur = hits[0]
        elif isinstance(cur, list):
            cur = cur[int(part)]
        elif isinstance(cur, dict):
            cur = cur[part]
        else:
            raise KeyError(path)
    return cur


def check_field(doc, chk, problems):
    path = chk["path"]
    try:
        value = lookup(doc, path)
    except (KeyError, IndexError, ValueError):
        if "absent" in chk and chk["absent"]:
            return
        problems.append("%s: missing in the report" % path)
        return
    if chk.get("absent"):
        problems.append("%s: should be absent, is %r" % (path, value))
    if "equals" in chk and value != chk["equals"]:
        problems.append("%s: expected %r, got %r" % (path, chk["equals"], value))
    if "not_equals" in chk and value == chk["not_equals"]:
        problems.append("%s: must not be %r" % (path, value))
    if "contains" in chk:
        want = chk["contains"] if isinstance(chk["contains"], list) else [chk["contains"]]
        for w in want:
            if value is None or w not in value:
                problems.append("%s: expected to contain %r, got %s" % (path, w, short(value)))
    if "not_contains" in chk:
        bad = chk["not_contains"] if isinstance(chk["not_contains"], list) else [chk["not_contains"]]
        for b in bad:
            if value is not None and b in value:
                problems.append("%s: must not contain %r, got %s" % (path, b, short(value)))
    if "matches" in chk:
        if not isinstance(value, str) or not re.search(chk["matches"], value):
            problems.append("%s: %s does not match /%s/" % (path, short(value), chk["matches"]))
    if "min_len" in chk and (value is None or len(value) < chk["min_len"]):
        problems.append("%s: expected at least %d items, got %s" %
                        (path, chk["min_len"], None if value is None else len(value)))
    if "max_len" in chk and (value is None or len(value) > chk["max_len"]):
        problems.append("%s: expected at most %d items, got %s" %
                        (path, chk["max_len"], None if value is None else len(value)))
    if "gte" in chk and not (isinstance(value, (int, float)) and value >= chk["gte"]):
        problems.append("%s: expected >= %r, got %r" % (path, chk["gte"], value))
    if "lte" in chk and not (isinstance(value, (int, float)) and value <= chk["lte"]):
        problems.append("%s: expected <= %r, got %r" % (path, chk["lte"], value))


def secret_forms(secret):
    """The strings that betray `secret` in output: itself, and the part of its base64
    encoding that does not depend on the bytes around it, for each of the three alignments
    it can have inside a longer base64 blob (SASL PLAIN "\\0user\\0secret", XOAUTH2, ...)."""
    raw = secret.encode("utf-8")
    forms = {secret: "raw"}
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + raw).decode("ascii")
        # 4-character groups made only of secret bytes: group g covers bytes 3g..3g+2
        first = (k + 2) // 3
        last = (k + len(raw)) // 3  # exclusive
        inner = enc[4 * first:4 * last]
        if len(inner) >= 8:
            forms[inner] = "base64 (offset %d)" % k
    return forms


def check_secrets(secrets, stdout, stderr, problems):
    for secret in secrets:
        if len(secret) < 8:
            problems.append("secret %r is too short to look for (use 8+ distinctive characters)"
                            % secret)
            continue
        for form, kind in secret_forms(secret).items():
            for name, text in (("stdout", stdout), ("stderr", stderr)):
                if form in text:
                    problems.append("a secret appears on %s (%s form %r)" % (name, kind, form))


def short(value, limit=200):
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."


def validate_schema(doc, problems, notes):
    schema_path = os.environ.get("MS_SCHEMA")
    if not schema_path:
        notes.append("schema not checked (MS_SCHEMA unset)")
        return
    try:
        import jsonschema
    except ImportError:
        notes.append("schema not checked (python3-jsonschema missing)")
        return
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema, format_checker=getattr(cls, "FORMAT_CHECKER", None))
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.path))[:5]:
        where = "/".join(str(p) for p in err.path) or "(top)"
        problems.append("schema: %s: %s" % (where, err.message[:300]))


def check_findings(doc, expect, endpoint_id, problems):
    findings = doc.get("findings") or []

    def on_endpoint(f, want):
        ep = want.get("endpoint", "own")
        if ep == "own":
            return f.get("endpoint") == endpoint_id
        return ep == "any" or f.get("endpoint") == ep

    for want in expect.get("findings", []):
        codes = want.get("code_any") or [want["code"]]
        hits = [f for f in findings if f.get("code") in codes and on_endpoint(f, want)]
        if not hits:
            problems.append("finding %s missing (got: %s)" % (
                " or ".join(codes), ", ".join("%s/%s" % (f.get("code"), f.get("severity"))
                                             for f in findings) or "none"))
            continue
        if "severity" in want and not any(f.get("severity") == want["severity"] for f in hits):
            problems.append("finding %s has severity %s, expected %s" % (
                hits[0]["code"], "/".join(sorted({f.get("severity") for f in hits})),
                want["severity"]))
        if "message_matches" in want and not any(
                re.search(want["message_matches"], f.get("message", "")) for f in hits):
            problems.append("finding %s: no message matches /%s/ (got %r)" % (
                hits[0]["code"], want["message_matches"], hits[0].get("message")))
    for code in expect.get("absent", []):
        hits = [f for f in findings if f.get("code") == code]
        if hits:
            problems.append("finding %s must be absent (message: %s)" % (code, hits[0].get("message")))


def run(case_path, quiet=False, keep=False):
    case = load_case(case_path)
    name = case["name"]
    expect = case["expect"]
    mailscope = os.environ.get("MAILSCOPE", "mailscope")

    why = unmet_requirement(case, mailscope)
    if why:
        print("SKIP %s: %s" % (name, why))
        return SKIP

    tmp = tempfile.mkdtemp(prefix="msfake.%s." % name)
    server = None
    problems, notes = [], []
    proc = None
    cmd = []
    elapsed = cpu = 0.0
    try:
        certs = fakeserver.generate_certs(os.path.join(tmp, "certs"),
                                          fakeserver.cert_kinds(case["server"]))
        server = fakeserver.FakeServer(case["server"], certs)
        if case["server"].get("backlog_full") and not server.backlog_blocks():
            print("SKIP %s: a connect to a full listen backlog completes on this kernel" % name)
            return SKIP
        server.start()
        subst = {"{port}": str(server.port), "{ca}": certs["ca"], "{host}": fakeserver.HOST}
        args = []
        for a in case["args"]:
            for k, v in subst.items():
                a = a.replace(k, v)
            args.append(a)
        cmd = [mailscope, "--json"] + (["--trace"] if case.get("trace", True) else []) + args
        deadline = option_value(args, "--deadline", DEFAULT_DEADLINE)
        hard_bound = deadline + DEADLINE_MARGIN
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        env.pop("NO_COLOR", None)
        for var in SECRET_ENV:  # only the case says whether there are credentials
            env.pop(var, None)
        secrets = list(expect.get("secret_absent", []))
        for var, value in case.get("env", {}).items():
            for k, v in subst.items():
                value = value.replace(k, v)
            env[var] = value
            if SECRET_NAME.search(var) and value not in secrets:
                secrets.append(value)
        if not shutil.which(mailscope):
            raise Failure("mailscope binary %r not found (set MAILSCOPE)" % mailscope)
        # The clock covers mailscope's own life only: from just before its exec to its exit.
        cpu0 = children_cpu()
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        try:
            out, err = proc.communicate(timeout=hard_bound + 10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            problems.append("mailscope hung: killed after %.1f s" % (time.monotonic() - t0))
        elapsed = time.monotonic() - t0
        cpu = children_cpu() - cpu0
        server.stop()
        stdout = out.decode("utf-8", errors="replace")
        stderr = err.decode("utf-8", errors="replace")
        snapshot.save("fake-" + name, cmd[1:], stdout)
        rc = proc.returncode

        # --- the invariants every case shares ---
        if rc < 0:
            problems.append("mailscope died of signal %d" % -rc)
        elif rc > 3:
            problems.append("exit code %d is outside 0-3" % rc)
        check_secrets(secrets, stdout, stderr, problems)
        for marker in SANITIZER_MARKERS:
            if marker in stderr:
                problems.append("sanitizer report on stderr (%s)" % marker)
                break
        doc = None
        try:
            doc = json.loads(stdout)
            if not isinstance(doc, dict):
                raise ValueError("not an object")
        except ValueError as e:
            problems.append("stdout is not one JSON document (%s): %r" % (e, stdout[:200]))
        check_time(expect, deadline, elapsed, cpu, doc, problems)
        if doc is not None:
            validate_schema(doc, problems, notes)
            status = doc.get("status")
            if STATUS_EXIT.get(status) != rc and rc >= 0:
                problems.append("status %r does not match exit code %d" % (status, rc))
            eps = doc.get("endpoints") or []
            if len(eps) != 1:
                problems.append("expected one endpoint, got %d" % len(eps))
            ep = eps[0] if eps else {}
            ep_id = ep.get("id")
            error = ep.get("error") or None
            if error:
                codes = {f.get("code") for f in doc.get("findings", []) if f.get("endpoint") == ep_id}
                if error.get("code") not in codes:
                    problems.append("the endpoint failed with %s but no finding names it" %
                                    error.get("code"))
            # --- the case's expectations ---
            if "exit" in expect:
                want = expect["exit"] if isinstance(expect["exit"], list) else [expect["exit"]]
                if rc not in want:
                    problems.append("exit code %d, expected %s" % (rc, " or ".join(map(str, want))))
            if "error" in expect:
                got = error.get("code") if error else None
                want = expect["error"]
                ok = got in want if isinstance(want, list) else got == want
                if not ok:
                    problems.append("endpoint error %s, expected %s%s" % (
                        got, want, " (%s)" % error.get("message") if error else ""))
            if "phase" in expect:
                got = error.get("phase") if error else None
                if got != expect["phase"]:
                    problems.append("failure phase %s, expected %s" % (got, expect["phase"]))
            check_findings(doc, expect, ep_id, problems)
            for chk in expect.get("checks", []):
                check_field(doc, chk, problems)
        if server.errors and not expect.get("server_errors_ok"):
            problems.extend("fake server: %s" % e for e in server.errors)

        verdict = "FAIL" if problems else "PASS"
        print("%s %s (%s, exit %s)" % (verdict, name, describe_time(elapsed, cpu, doc), rc))
        for p in problems:
            print("  - " + p)
        for n in notes:
            print("  note: " + n)
        if problems or not quiet:  # ctest shows it on failure (--output-on-failure) or -V
            print("command: " + " ".join(cmd))
            if doc is not None:
                summary = [(f.get("severity"), f.get("code"), f.get("message"))
                           for f in doc.get("findings", [])]
                print("findings: " + json.dumps(summary, indent=1))
            elif stdout:
                print("stdout (first 2000 chars):\n" + stdout[:2000])
            print("stderr (last 60 lines):")
            print("\n".join(stderr.splitlines()[-60:]))
            print("fake server log:")
            print("\n".join(server.log[-60:]))
        return 1 if problems else 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if server is not None:
            server.stop()
        if keep:
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="Run one fake-server case against mailscope.")
    ap.add_argument("case")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="print only the verdict when the case passes")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    try:
        return run(args.case, args.quiet, args.keep)
    except Failure as e:
        print("FAIL %s: %s" % (args.case, e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
