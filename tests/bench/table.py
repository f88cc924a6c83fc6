#!/usr/bin/env python3
"""table.py LATENCY.tsv FLEET.jsonl [ENDPOINTS.tsv] - print run.sh's results as one table.

LATENCY.tsv: rtt_ms, key, label, wall_s, exit (one line per timed run).
FLEET.jsonl: one measure.py object per fleet run (plus server, kind, n, c, summary) or per
openssl s_time run (kind "s_time").
ENDPOINTS.tsv: rtt_ms, mode (probe|signin), endpoint kind, total_ms (from one --json run).
The round-trip bounds are README.md's: 5 RTT for the four endpoints, 6 with sign-in.
"""

import json
import statistics
import sys

BOUND_RTT = {"mailscope": 5, "mailscope_signin": 6, "mailscope_nosys": 5}
ORDER = ["mailscope", "mailscope_signin", "mailscope_nosys", "refused", "openssl_seq", "openssl_par", "nmap",
         "plugins_seq", "plugins_par"]
EXPECTED_FAILURE = {"refused"}  # exits 2 by design (nothing listens there)
# README's per-endpoint lower bounds in round trips (Dovecot 2.3; sign-in on the implicit-TLS one)
ENDPOINT_BOUND = {
    "probe": {"imaps": 3, "imap+starttls": 5, "pop3s": 4, "pop3+stls": 5},
    "signin": {"imaps": 5, "imap+starttls": 5, "pop3s": 6, "pop3+stls": 5},
}
KINDS = ["imaps", "imap+starttls", "pop3s", "pop3+stls"]


def latency(path):
    rows = {}
    labels = {}
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return
    for line in lines:
        rtt, key, label, wall, rc = line.split("\t")
        rows.setdefault(int(float(rtt)), {}).setdefault(key, []).append((float(wall), int(rc)))
        labels[key] = label
    if not rows:
        return
    print()
    print("Latency through latency_proxy.py (median wall time of N runs; RTTs = wall / RTT;")
    print("bound = README's lower bound for the four endpoints: 5 RTT, with sign-in 6 RTT)")
    hdr = f"{'RTT':>6}  {'tool':<52} {'N':>2} {'median':>8} {'RTTs':>5} {'bound':>7} {'/bound':>6} {'/mailscope':>10}"
    print(hdr)
    print("-" * len(hdr))
    for rtt in sorted(rows):
        r = rtt / 1000.0
        by = rows[rtt]
        base = statistics.median(w for w, _ in by["mailscope"]) if "mailscope" in by else None
        where = f"{rtt:>4}ms" if rtt else "direct"
        for key in ORDER + sorted(set(by) - set(ORDER)):
            if key not in by:
                continue
            walls = [w for w, _ in by[key]]
            bad = 0 if key in EXPECTED_FAILURE else sum(1 for _, rc in by[key] if rc != 0)
            med = statistics.median(walls)
            bound = BOUND_RTT.get(key) if r else None
            bound_s = f"{bound * r:6.3f}s" if bound else f"{'-':>7}"
            ratio = f"{med / (bound * r):6.2f}" if bound else f"{'-':>6}"
            rtts = f"{med / r:5.1f}" if r else f"{'-':>5}"
            vs = f"{med / base:9.2f}x" if base and key not in ("mailscope_signin", "refused") else f"{'-':>10}"
            note = f"  ({bad} of {len(walls)} runs exited non-zero)" if bad else ""
            print(f"{where:>6}  {labels[key]:<52} {len(walls):>2} {med:7.3f}s {rtts} {bound_s} {ratio} {vs}{note}")
        print()


def endpoints(path):
    try:
        lines = [l.split("\t") for l in open(path).read().splitlines() if l.strip()]
    except OSError:
        return
    if not lines:
        return
    got = {}
    for rtt, mode, kind, total in lines:
        got[(int(float(rtt)), mode, kind)] = float(total)
    print("Round trips per endpoint (one --json run: the endpoint's total time / RTT; mailscope's")
    print("start-up is not in it) against README's lower bound for that endpoint")
    for rtt in sorted({k[0] for k in got}):
        for mode in ("probe", "signin"):
            cells = []
            for kind in KINDS:
                t = got.get((rtt, mode, kind))
                if t is None:
                    continue
                b = ENDPOINT_BOUND[mode][kind]
                cells.append(f"{kind} {t / rtt:4.2f} (bound {b})")
            label = "probe  " if mode == "probe" else "sign-in"
            print(f"  {rtt:>4}ms {label}  " + ",  ".join(cells))
    print()


def fleets(path):
    try:
        runs = [json.loads(l) for l in open(path) if l.strip()]
    except OSError:
        return
    if not runs:
        return
    floors = [m for m in runs if m["kind"] == "s_time"]
    ms = [m for m in runs if m["kind"] != "s_time"]
    one = next((m for m in ms if m["c"] == 1), None)
    base_rss = one["peak_rss_kb"] if one else 0
    fixed_fds = (one["peak_fds"] - 1) if one else 0

    def cpu(m):
        return m["user_s"] + m["sys_s"]

    floor = None
    print("TLS floor: CPU of openssl s_time -new (one process, sequential handshakes) per connection")
    for f in floors:
        per = cpu(f) / f["n"] * 1000 if f["n"] else float("nan")
        if floor is None and f["n"]:
            floor = per
        print(f"  {f['label']:<52} {f['n']:>6} connections, {cpu(f):5.2f} s CPU: {per:6.3f} ms/connection")
    print()
    print("Fleets: --targets-file, --format jsonl -q >/dev/null, direct on loopback (no proxy)")
    print("in flight = peak open descriptors - fixed ones; KiB/in-flight = (peak RSS - RSS at --concurrency 1) / in flight;")
    print("goal = 10 MiB + 64 KiB x in flight; x floor = CPU per target / s_time's CPU per connection (imaps only)")
    hdr = (f"{'server':<6} {'kind':<6} {'targets':>7} {'conc':>5} {'wall s':>7} {'tgt/s':>6} {'CPU s':>6} "
           f"{'CPU ms/t':>8} {'x floor':>7} {'peakRSS MiB':>11} {'in flight':>9} {'KiB/infl':>8} "
           f"{'goal MiB':>8} {'busy':>5}  result")
    print(hdr)
    print("-" * len(hdr))
    for m in ms:
        n, c = m["n"], m["c"]
        inflight = max(1, m["peak_fds"] - fixed_fds)
        per_t = cpu(m) / n * 1000
        xf = f"{per_t / floor:7.2f}" if floor and m["kind"] == "imaps" else f"{'-':>7}"
        rss = m["peak_rss_kb"]
        kib_infl = (rss - base_rss) / inflight if c > 1 else float("nan")
        goal = 10 * 1024 + 64 * inflight
        over = "" if rss <= goal else " OVER"
        summary = m.get("summary", "").replace("mailscope: ", "")
        print(f"{m['server']:<6} {m['kind']:<6} {n:>7} {c:>5} {m['wall_s']:7.2f} {n / m['wall_s']:6.0f} "
              f"{cpu(m):6.2f} {per_t:8.3f} {xf} {rss / 1024:11.1f} {inflight:>9} "
              f"{kib_infl:8.1f} {goal / 1024:8.1f}{over:<5} {m['machine_busy']:4.0%}  {summary}")
    print()
    keyed = {(m["server"], m["kind"], m["c"], m["n"]): m for m in ms}
    sizes = sorted({m["n"] for m in ms if m["c"] > 1})
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        print(f"Scaling {lo} -> {hi} targets (work x{hi / lo:.0f}): wall, CPU and peak RSS ratios; RSS growth while running")
        for (server, kind, c, n), m in sorted(keyed.items()):
            if n != hi or (server, kind, c, lo) not in keyed:
                continue
            a = keyed[(server, kind, c, lo)]
            s = m["rss_samples_kb"]
            growth = ""
            if len(s) >= 8:
                q1, q4 = s[len(s) // 4], s[-2]
                growth = f", RSS at 1/4 of the run {q1 / 1024:.1f} MiB, at the end {q4 / 1024:.1f} MiB"
            print(f"  {server} {kind:<6} conc {c:>5}: wall x{m['wall_s'] / a['wall_s']:.1f}, "
                  f"CPU x{cpu(m) / cpu(a):.1f}, peak RSS x{m['peak_rss_kb'] / a['peak_rss_kb']:.2f}{growth}")


def main():
    latency(sys.argv[1])
    if len(sys.argv) > 3:
        endpoints(sys.argv[3])
    fleets(sys.argv[2])


if __name__ == "__main__":
    main()
