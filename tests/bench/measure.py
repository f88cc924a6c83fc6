#!/usr/bin/env python3
"""measure.py - run one command and report what it cost, as one JSON object.

    measure.py [--json FILE] [--interval S] -- COMMAND [ARG...]

Reports (to FILE, or to stderr):
  wall_s            wall-clock time from fork to exit
  user_s, sys_s     CPU time of the command and its waited-for children (wait4 rusage)
  peak_rss_kb       peak resident set size of the command: the highest VmHWM sampled from
                    /proc (ru_maxrss would not do: Linux carries the high-water mark of
                    the forked Python child across exec, about 10 MiB, into it)
  ru_maxrss_kb      ru_maxrss all the same
  rss_samples_kb    VmRSS sampled every --interval seconds (default 0.05; 0 = no sampling,
                    just wait): shows whether
                    memory keeps growing while targets finish or plateaus
  peak_fds          most file descriptors open at once (sampled): for mailscope, the
                    endpoints in flight (one socket each) plus a handful of fixed ones
  base_fds          descriptors open at the first sample (before any endpoint started)
  machine_busy      share of the machine's CPU time that was busy during the run (all
                    processes, from /proc/stat; 1.0 = every core busy): tells whether a
                    throughput number was bound by the CPU (the server's or the client's)
  exit              the command's exit status (negative: killed by that signal)
The command's stdin/stdout/stderr are the caller's. Standard library only.
"""

import json
import os
import sys
import time


def cpu_totals():
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    vals = [int(x) for x in parts]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return sum(vals), idle


def rss_kb(pid):
    """(VmRSS, VmHWM) of pid in KiB, or (None, None)."""
    rss = hwm = None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def exec_done(pid, cmd):
    """True once the child runs the command (not the forked copy of this script)."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip() == os.path.basename(cmd[0])[:15]
    except OSError:
        return False


def nfds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def main():
    argv = sys.argv[1:]
    out = None
    interval = 0.05
    while argv and argv[0] != "--":
        if argv[0] == "--json":
            out = argv[1]
            argv = argv[2:]
        elif argv[0] == "--interval":
            interval = float(argv[1])
            argv = argv[2:]
        else:
            sys.exit(f"measure.py: unknown option {argv[0]}")
    if not argv or argv[0] != "--" or len(argv) < 2:
        sys.exit("usage: measure.py [--json FILE] [--interval S] -- COMMAND [ARG...]")
    cmd = argv[1:]

    tot0, idle0 = cpu_totals()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    samples = []
    peak_hwm = 0
    peak_fds = 0
    base_fds = None
    while True:
        if interval <= 0:  # no sampling: block, for the most precise wall time
            wpid, status, ru = os.wait4(pid, 0)
            break
        wpid, status, ru = os.wait4(pid, os.WNOHANG)
        if wpid == pid:
            break
        r, h = rss_kb(pid)
        n = nfds(pid)
        if r is not None and exec_done(pid, cmd):
            samples.append(r)
            peak_hwm = max(peak_hwm, h or 0)
        if n is not None and samples:
            if base_fds is None:
                base_fds = n
            peak_fds = max(peak_fds, n)
        time.sleep(interval)
    wall = time.monotonic() - t0
    tot1, idle1 = cpu_totals()
    busy = 1.0 - (idle1 - idle0) / max(1, tot1 - tot0)
    rc = os.waitstatus_to_exitcode(status)
    res = {
        "cmd": cmd,
        "wall_s": round(wall, 4),
        "user_s": round(ru.ru_utime, 4),
        "sys_s": round(ru.ru_stime, 4),
        "peak_rss_kb": peak_hwm or ru.ru_maxrss,
        "ru_maxrss_kb": ru.ru_maxrss,
        "rss_samples_kb": samples,
        "peak_fds": peak_fds,
        "base_fds": base_fds,
        "machine_busy": round(busy, 3),
        "exit": rc,
    }
    text = json.dumps(res)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")
    else:
        print(text, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
