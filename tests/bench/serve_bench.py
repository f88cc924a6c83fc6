#!/usr/bin/env python3
"""serve_bench.py - benchmarks of `mailscope serve` (issue 13), by hand, never a ctest test.
Loopback only. Needs root or not; Dovecot and dnsmasq from Debian (scripts/deps.sh).

    tests/bench/serve_bench.py [--mailscope PATH] [--port-base 23000] [--runs 9]
                               [--inflight 1000] [--requests 2000] [--clients 100]

1. Latency: the time per GET /api/v1/check against the CLI's wall time (mailscope --json)
   for the same target (the four endpoints of mail.test.example) through
   latency_proxy.py at 50 ms RTT; medians of --runs each.
2. Memory: RSS of the serve process with --inflight probes in flight (each probe one
   imaps endpoint, and then four endpoints), held by a server that accepts and never
   answers; RSS per in-flight endpoint above the idle RSS.
3. Throughput: requests per second for GET /probe (four endpoints each, then one imaps
   endpoint each) against a
   loopback Dovecot with raised login limits (dovecot_tuned.sh), --clients keep-alive
   connections, --requests in all; CPU seconds of the serve process per probe, next to
   the CLI's CPU per target for the same number of targets (--targets-file, the same
   --concurrency).

Ports (--port-base B): Dovecot B+143/993/110/995, tuned Dovecot B+1143/1993/1110/1995,
proxy B+2143/2993/2110/2995 (on 127.0.0.2), dnsmasq B+53, serve B+180.
"""

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SERVERS = os.path.join(ROOT, "tests", "servers")
HOST = "mail.test.example"


def log(*a):
    print("serve_bench:", *a, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="ms-serve-bench-")
        os.chmod(self.work, 0o755)
        self.certs = os.path.join(self.work, "certs")
        self.ca = os.path.join(self.certs, "ca.pem")
        b = args.port_base
        self.ports = {"imap": b + 143, "imaps": b + 993, "pop3": b + 110, "pop3s": b + 995}
        self.tuned = {"imap": b + 1143, "imaps": b + 1993, "pop3": b + 1110, "pop3s": b + 1995}
        self.proxied = {"imap": b + 2143, "imaps": b + 2993, "pop3": b + 2110, "pop3s": b + 2995}
        self.dns_port = b + 53
        self.serve_port = b + 180
        self.stops = []
        self.serve = None

    # ---- servers ----
    def sh(self, *cmd, env=None):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       env=dict(os.environ, **(env or {})))

    def start_servers(self):
        self.sh("bash", os.path.join(SERVERS, "certs.sh"), self.certs)
        for name, ports, binary in (("dv", self.ports, "/usr/sbin/dovecot"),
                                    ("dvt", self.tuned, os.path.join(HERE, "dovecot_tuned.sh"))):
            d = os.path.join(self.work, name)
            env = {"MS_IMAP_PORT": str(ports["imap"]), "MS_IMAPS_PORT": str(ports["imaps"]),
                   "MS_POP3_PORT": str(ports["pop3"]), "MS_POP3S_PORT": str(ports["pop3s"]),
                   "MS_DOVECOT_BIN": binary}
            self.sh("bash", os.path.join(SERVERS, "dovecot.sh"), "start", d, self.certs, env=env)
            self.stops.append(("bash", os.path.join(SERVERS, "dovecot.sh"), "stop", d))
        d = os.path.join(self.work, "dns")
        self.sh("bash", os.path.join(SERVERS, "dnsmasq.sh"), "start", d, str(self.dns_port))
        self.stops.append(("bash", os.path.join(SERVERS, "dnsmasq.sh"), "stop", d))
        maps = []
        for k in self.ports:
            maps += ["--map", "127.0.0.2:%d=127.0.0.2:%d" % (self.proxied[k], self.ports[k])]
        ready = os.path.join(self.work, "proxy.ready")
        self.proxy = subprocess.Popen([sys.executable, os.path.join(HERE, "latency_proxy.py"),
                                       "--rtt-ms", "50", "--max-seconds", "3600",
                                       "--ready-file", ready] + maps,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(ready):
                break
            time.sleep(0.1)

    def stop_servers(self):
        if self.serve:
            self.stop_serve()
        if getattr(self, "proxy", None):
            self.proxy.terminate()
            self.proxy.wait()
        for cmd in reversed(self.stops):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start_serve(self, modules, concurrency, extra_limits=None):
        cfg = {"concurrency": concurrency,
               "limits": dict({"rate_per_minute": 0, "max_probes": 100000,
                               "max_connections": 20000}, **(extra_limits or {})),
               "modules": modules}
        path = os.path.join(self.work, "serve.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        err = open(os.path.join(self.work, "serve.log"), "wb")
        self.serve = subprocess.Popen(
            [self.args.mailscope, "serve", "--listen", "127.0.0.1:%d" % self.serve_port,
             "--config", path, "--allow-private", "--ca-file", self.ca,
             "--dns-server", "127.0.0.1:%d" % self.dns_port],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        for _ in range(200):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.serve_port, timeout=2):
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("serve did not start")

    def stop_serve(self):
        self.serve.send_signal(signal.SIGTERM)
        self.serve.wait(120)
        self.serve = None

    def get(self, path, timeout=120):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.serve_port, path), timeout=timeout) as r:
            return r.read()

    def serve_cpu(self):
        with open("/proc/%d/stat" % self.serve.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def serve_rss(self):
        with open("/proc/%d/status" % self.serve.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def metrics(self):
        return self.get("/metrics").decode()

    # ---- 1. latency ----
    def latency(self):
        ports = ",".join("%s=%d" % (k, v) for k, v in self.proxied.items())
        cli = [self.args.mailscope, "--json", "--dns-server", "127.0.0.1:%d" % self.dns_port,
               "--ca-file", self.ca, "--ports", ports, HOST]
        self.start_serve({"default": {"ports": self.proxied}}, 400)
        try:
            self.get("/api/v1/check?target=" + HOST)  # warm-up (Dovecot's login processes)
            cli_t, serve_t, serve_probe = [], [], []
            for i in range(self.args.runs):
                t0 = time.monotonic()
                subprocess.run(cli, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                cli_t.append(time.monotonic() - t0)
                t0 = time.monotonic()
                doc = json.loads(self.get("/api/v1/check?target=" + HOST))
                serve_t.append(time.monotonic() - t0)
                serve_probe.append(doc["duration_ms"] / 1000)
        finally:
            self.stop_serve()
        c, s = statistics.median(cli_t), statistics.median(serve_t)
        return {"cli_s": c, "serve_s": s, "serve_probe_s": statistics.median(serve_probe),
                "overhead_pct": (s / c - 1) * 100, "runs": self.args.runs}

    # ---- 2. memory ----
    def memory(self, endpoints_per_probe):
        n = self.args.inflight
        stall = socket.socket()
        stall.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        stall.bind(("127.0.0.2", 0))
        stall.listen(4096)
        sport = stall.getsockname()[1]
        held, stop = [], [False]

        def accept():
            while not stop[0]:
                try:
                    c, _ = stall.accept()
                    held.append(c)
                except OSError:
                    return

        th = threading.Thread(target=accept, daemon=True)
        th.start()
        if endpoints_per_probe == 1:
            module = {"protocols": ["imap"], "ports": {"imaps": sport, "imap": sport},
                      "timeout": 120, "deadline": 180}
            target = "imaps://%s:%d" % (HOST, sport)
        else:
            module = {"ports": {"imaps": sport, "imap": sport + 0, "pop3s": sport, "pop3": sport},
                      "allowed_ports": [sport], "timeout": 120, "deadline": 180}
            target = HOST
        self.start_serve({"default": module}, n * endpoints_per_probe + 10)
        try:
            time.sleep(0.5)
            idle = self.serve_rss()
            socks = []
            req = ("GET /probe?target=%s HTTP/1.1\r\nHost: x\r\n\r\n" % target).encode()
            for i in range(n):
                s = socket.create_connection(("127.0.0.1", self.serve_port))
                s.sendall(req)
                socks.append(s)
            deadline = time.monotonic() + 120
            running = 0
            while time.monotonic() < deadline:
                m = re.search(r'(?m)^mailscope_serve_probes_in_flight\{state="running"\} (\d+)$', self.metrics())
                running = int(m.group(1))
                if running >= n and len(held) >= n * (1 if endpoints_per_probe == 1 else 2):
                    break
                time.sleep(0.2)
            time.sleep(1)
            rss = self.serve_rss()
            for s in socks:
                s.close()
        finally:
            stop[0] = True
            stall.close()
            for c in held:
                c.close()
            self.stop_serve()
        endpoints = n * endpoints_per_probe
        return {"probes": running, "endpoints": endpoints, "idle_mib": idle / 2**20,
                "rss_mib": rss / 2**20,
                "kib_per_endpoint": (rss - idle) / 1024 / endpoints,
                "budget_mib": 10 + endpoints * 64 / 1024}

    # ---- 3. throughput ----
    async def load(self, path, total, clients):
        done = [0]
        statuses = {}

        async def worker():
            r, w = await asyncio.open_connection("127.0.0.1", self.serve_port)
            req = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode()
            while done[0] < total:
                done[0] += 1
                w.write(req)
                await w.drain()
                head = await r.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
                await r.readexactly(length)
                statuses[status] = statuses.get(status, 0) + 1
            w.close()

        await asyncio.gather(*(worker() for _ in range(clients)))
        return statuses

    def throughput(self, single):
        """single: each probe one imaps endpoint; else the four endpoints of a host."""
        total, clients = self.args.requests, self.args.clients
        conc = clients * (1 if single else 4)
        target = "imaps://%s:%d" % (HOST, self.tuned["imaps"]) if single else HOST
        self.start_serve({"default": {"ports": self.tuned, "timeout": 30, "deadline": 60}}, conc)
        try:
            self.get("/probe?target=" + target)
            cpu0, t0 = self.serve_cpu(), time.monotonic()
            statuses = asyncio.run(self.load("/probe?target=" + target, total, clients))
            wall, cpu = time.monotonic() - t0, self.serve_cpu() - cpu0
        finally:
            self.stop_serve()
        targets = os.path.join(self.work, "targets.txt")
        with open(targets, "w") as f:
            f.write((target + "\n") * total)
        ports = ",".join("%s=%d" % (k, v) for k, v in self.tuned.items())
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run([self.args.mailscope, "--dns-server", "127.0.0.1:%d" % self.dns_port,
                        "--ca-file", self.ca, "--ports", ports, "--targets-file", targets,
                        "--concurrency", str(conc), "--format", "jsonl", "-q"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cli_wall = time.monotonic() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        return {"endpoints_per_probe": 1 if single else 4, "requests": total, "clients": clients,
                "statuses": statuses,
                "serve_rps": total / wall, "serve_cpu_ms_per_probe": cpu / total * 1000,
                "cli_targets_per_s": total / cli_wall, "cli_cpu_ms_per_target": cli_cpu / total * 1000,
                "engine_concurrency": conc}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mailscope", default=os.path.join(ROOT, "build", "mailscope"))
    p.add_argument("--port-base", type=int, default=23000)
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--inflight", type=int, default=1000)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--only", choices=["latency", "memory", "throughput"])
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    b = Bench(args)
    results = {}
    try:
        b.start_servers()
        if args.only in (None, "latency"):
            log("latency at 50 ms RTT (%d runs each)" % args.runs)
            results["latency"] = b.latency()
        if args.only in (None, "memory"):
            log("memory with %d probes in flight" % args.inflight)
            results["memory_1"] = b.memory(1)
            results["memory_4"] = b.memory(4)
        if args.only in (None, "throughput"):
            log("throughput: %d /probe requests, %d clients" % (args.requests, args.clients))
            results["throughput_4"] = b.throughput(False)
            results["throughput_1"] = b.throughput(True)
    finally:
        b.stop_servers()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
