#!/usr/bin/env python3
"""latency_proxy.py - a TCP forwarder on loopback that makes every round trip cost RTT.

    latency_proxy.py [--rtt-ms MS] [--max-seconds S] [--ready-file F]
                     --map LADDR:LPORT=TADDR:TPORT[,rtt=MS] [--map ...]

This kernel has no netem, so the benchmarks (tests/bench/run.sh) put this proxy between
the client and the test Dovecot. Each --map listens on LADDR:LPORT and forwards every
accepted connection to TADDR:TPORT; --rtt-ms (default 50) or the map's own rtt= sets
the round-trip time of that map. Both addresses must be loopback (127.0.0.0/8 or ::1).

How the delay is applied (RTT = R):
  * every chunk read from one side is written to the other side R/2 after it was read,
    in order: each direction has a FIFO queue of (release time, bytes) and one writer
    that waits for the release time of the chunk at the head. Release times only grow,
    so chunks that arrive close together leave close together: the delay is added
    once per crossing, never once per chunk (nothing serialises).
  * the TCP handshake: the client's connect() to the proxy completes at once on
    loopback, so the proxy reproduces the handshake's cost instead. On a real network
    the SYN reaches the server at R/2, the client may send at R (after the SYN-ACK) and
    the server accepts when the ACK arrives at 1.5R, then greets at once (arriving at 2R).
    Here: the proxy connects to the target at t0 + 1.5R (t0 = accept time) and releases
    client data no earlier than t0 + 1.5R, i.e. as if the client had sent it at R, the
    earliest it could have. A server greeting thus reaches the client at 2R and a TLS
    ClientHello sent at once gets its answer at 2R: exactly the real network's timing.
  * a close (EOF) travels like data: half-close after the queued bytes, R/2 later.
  * TCP_NODELAY on every socket, so Nagle adds nothing of its own.

The proxy stops by itself after --max-seconds (default 900), and on SIGTERM/SIGINT.
When every listener is bound it writes "ready" to --ready-file (if given) and stdout.
Standard library only.
"""

import argparse
import asyncio
import ipaddress
import signal
import socket
import sys

CHUNK = 65536


def loopback(addr):
    try:
        return ipaddress.ip_address(addr).is_loopback
    except ValueError:
        return False


def parse_hostport(text):
    if text.startswith("["):  # [::1]:port
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"bad address {text!r} (want ADDR:PORT)")
    return host, int(port)


def parse_map(text, default_rtt):
    rtt = default_rtt
    spec, _, opts = text.partition(",")
    if opts:
        key, _, val = opts.partition("=")
        if key != "rtt":
            raise ValueError(f"unknown option {key!r} in --map {text!r}")
        rtt = float(val)
    left, sep, right = spec.partition("=")
    if not sep:
        raise ValueError(f"bad --map {text!r} (want LADDR:LPORT=TADDR:TPORT[,rtt=MS])")
    laddr, lport = parse_hostport(left)
    taddr, tport = parse_hostport(right)
    for a in (laddr, taddr):
        if not loopback(a):
            raise ValueError(f"{a} is not a loopback address")
    return laddr, lport, taddr, tport, rtt / 1000.0


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class Pipe:
    """One direction: a reader that timestamps chunks, a writer that releases them."""

    def __init__(self, loop, half, not_before):
        self.loop = loop
        self.half = half
        self.not_before = not_before
        self.queue = asyncio.Queue()

    async def read_from(self, reader):
        try:
            while True:
                data = await reader.read(CHUNK)
                now = self.loop.time()
                self.queue.put_nowait((max(now + self.half, self.not_before), data))
                if not data:
                    return
        except (ConnectionError, OSError):
            self.queue.put_nowait((self.loop.time(), None))  # reset: pass it on now

    async def write_to(self, writer_fut):
        writer = await writer_fut
        if writer is None:
            return
        while True:
            release, data = await self.queue.get()
            wait = release - self.loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:  # reset on the other side
                writer.transport.abort()
                return
            try:
                if not data:  # EOF: half-close
                    if writer.can_write_eof():
                        writer.write_eof()
                    await writer.drain()
                    return
                writer.write(data)
                await writer.drain()
            except (ConnectionError, OSError):
                return


async def handle(client_reader, client_writer, taddr, tport, rtt, stats):
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    half = rtt / 2.0
    accept_at = t0 + 1.5 * rtt  # when the server would accept on a real network
    stats["connections"] += 1
    stats["open"] += 1
    nodelay(client_writer)
    upstream = loop.create_future()  # the server-side writer, or None if refused
    client_side = loop.create_future()
    client_side.set_result(client_writer)
    up = Pipe(loop, half, accept_at)  # client -> server
    down = Pipe(loop, half, 0.0)  # server -> client
    tasks = [
        asyncio.ensure_future(up.read_from(client_reader)),
        asyncio.ensure_future(up.write_to(upstream)),
    ]
    try:
        await asyncio.sleep(max(0.0, accept_at - loop.time()))
        try:
            server_reader, server_writer = await asyncio.open_connection(taddr, tport)
        except OSError:
            upstream.set_result(None)
            client_writer.transport.abort()  # refused: the client sees a reset
        else:
            nodelay(server_writer)
            upstream.set_result(server_writer)
            tasks.append(asyncio.ensure_future(down.read_from(server_reader)))
            tasks.append(asyncio.ensure_future(down.write_to(client_side)))
        await asyncio.gather(*tasks, return_exceptions=True)
    except asyncio.CancelledError:  # the proxy is stopping
        for t in tasks:
            t.cancel()
    finally:
        stats["open"] -= 1
        client_writer.close()
        if upstream.done() and upstream.result() is not None:
            upstream.result().close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rtt-ms", type=float, default=50.0)
    ap.add_argument("--max-seconds", type=float, default=900.0)
    ap.add_argument("--ready-file")
    ap.add_argument("--map", action="append", required=True)
    args = ap.parse_args()
    try:
        maps = [parse_map(m, args.rtt_ms) for m in args.map]
    except ValueError as e:
        ap.error(str(e))

    stats = {"connections": 0, "open": 0}
    servers = []
    for laddr, lport, taddr, tport, rtt in maps:

        def cb(r, w, taddr=taddr, tport=tport, rtt=rtt):
            return handle(r, w, taddr, tport, rtt, stats)

        servers.append(await asyncio.start_server(cb, laddr, lport, reuse_address=True, backlog=4096))

    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    loop.call_later(args.max_seconds, lambda: stop.done() or stop.set_result(None))

    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("ready\n")
    print("ready", flush=True)
    await stop
    for s in servers:
        s.close()
    print(f"latency_proxy: {stats['connections']} connections, {stats['open']} still open at the end",
          file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
