"""Benchmark: POST /api/video/token on localhost — latency p50/p99 and throughput.

    .venv/bin/python benchmarks/token_route.py [--requests 20000] [--clients 50] [--workers 1]

What it does:
  1. a temp SQLite database with one signed-up user (yoom.accounts.sign_up) and a session;
  2. the fake Stream server (tests/fakestream) so the provider's one-time user upsert has somewhere to go;
  3. the token route served by Granian, `--workers` processes (default one), ASGI, like `reflex run --env prod`;
  4. load from a separate process: keep-alive HTTP/1.1 connections, one per client, each sending
     POST /api/video/token with the session cookie and timing every answer (every answer must be 200 with a
     token). The client is a few lines of raw asyncio so that on this 2-core machine the load generator,
     not the server, costs as little CPU as possible.

Phases: 1 client (unloaded latency), then `--clients` clients as fast as they can (closed loop: throughput,
and latency under saturation = clients / throughput by Little's law), then `--clients` clients paced to a
fixed total rate below saturation (latency at that throughput).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def build_app():
    """Granian's factory target: just the token route, as Yoom mounts it."""
    from starlette.applications import Starlette

    from yoom.api.video_token import routes

    return Starlette(routes=routes)


# --- load generator (runs in its own process) ---------------------------------------------------


async def _client(
    host: str, port: int, cookie: str, count: int, pace: float | None, offset: float, out: list[int], errors: list[str]
):
    reader, writer = await asyncio.open_connection(host, port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = (
        f"POST /api/video/token HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: yoom_session={cookie}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    next_at = loop.time() + offset  # paced clients are spread evenly over one interval: no bursts
    try:
        for _ in range(count):
            if pace:
                next_at += pace
                delay = next_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            started = time.perf_counter_ns()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            out.append(time.perf_counter_ns() - started)
            if status != 200 or b'"token"' not in body:
                errors.append(f"{status} {body[:120]!r}")
    finally:
        writer.close()


async def _phase(host: str, port: int, cookie: str, clients: int, per_client: int, rate: float | None):
    out: list[int] = []
    errors: list[str] = []
    pace = clients / rate if rate else None
    started = time.perf_counter()
    await asyncio.gather(
        *(_client(host, port, cookie, per_client, pace, (pace or 0) * i / clients, out, errors) for i in range(clients))
    )
    return out, errors, time.perf_counter() - started


def _load_process(host: str, port: int, cookie: str, plan: list[tuple], conn) -> None:
    for name, clients, per_client, rate in plan:
        conn.send(("start", name))
        conn.recv()  # the parent has read the server's CPU counters
        out, errors, elapsed = asyncio.run(_phase(host, port, cookie, clients, per_client, rate))
        conn.send(("done", (name, clients, out, errors, elapsed)))
    conn.send(("finished", None))
    conn.close()


def _server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the server and its worker processes."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


# --- orchestration ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def _percentile(sorted_ns: list[int], q: float) -> float:
    index = min(len(sorted_ns) - 1, max(0, round(q / 100 * len(sorted_ns)) - 1))
    return sorted_ns[index] / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20_000, help="requests in the saturation phase")
    parser.add_argument(
        "--rate", type=float, default=500.0, help="total requests/s in the paced phase (below saturation)"
    )
    parser.add_argument("--workers", type=int, default=1, help="Granian worker processes")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()

    from tests.fakestream import FakeStream

    load_before = os.getloadavg()
    tmp = tempfile.TemporaryDirectory(prefix="yoom-bench-")
    fake = FakeStream().start()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp.name}/yoom.db",
        "YOOM_DATA_DIR": tmp.name,
        "VIDEO_PROVIDER": "stream",
        "STREAM_API_KEY": fake.api_key,
        "STREAM_API_SECRET": fake.api_secret,
        "STREAM_BASE_URL": fake.base_url,
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DATABASE_URL",
                "YOOM_DATA_DIR",
                "VIDEO_PROVIDER",
                "STREAM_API_KEY",
                "STREAM_API_SECRET",
                "STREAM_BASE_URL",
            )
        }
    )
    from sqlmodel import SQLModel

    import yoom.db
    from yoom import accounts

    SQLModel.metadata.create_all(yoom.db.get_engine())
    user = accounts.sign_up("Bench Mark", "bench", "benchmark-password")
    signed = accounts.SignedIn(user=user, session_token=accounts.create_session(user.id))

    port = _free_port()
    granian = [
        str(Path(sys.executable).with_name("granian")),
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--factory",
        "--no-ws",
        "--log-level",
        "warning",
        "benchmarks.token_route:build_app",
    ]
    server = subprocess.Popen(granian, cwd=ROOT, env=env)
    try:
        _wait_for(port)
        per_client = max(1, args.requests // args.clients)
        paced_per_client = max(1, int(args.rate * 5 / args.clients))  # about 5 seconds
        plan = [
            ("warm-up", args.clients, 40, None),
            ("1 client, sequential", 1, 2000, None),
            (f"{args.clients} clients, flat out", args.clients, per_client, None),
            (f"{args.clients} clients, paced {args.rate:.0f}/s", args.clients, paced_per_client, args.rate),
        ]
        parent, child = mp.Pipe()
        loader = mp.get_context("spawn").Process(
            target=_load_process, args=("127.0.0.1", port, signed.session_token, plan, child)
        )
        loader.start()
        results, cpu_before = [], 0.0
        while True:
            kind, payload = parent.recv()
            if kind == "start":
                cpu_before = _server_cpu_seconds(server.pid)
                parent.send("go")
            elif kind == "done":
                results.append((*payload, _server_cpu_seconds(server.pid) - cpu_before))
            else:
                break
        loader.join()
    finally:
        server.terminate()
        server.wait(10)
        fake.stop()

    upserts = len(fake.requests_to("POST", "^/api/v2/users$"))
    rows = []
    failed = False
    for name, _clients, out, errors, elapsed, cpu in results:
        if errors:
            failed = True
            print(f"{name}: {len(errors)} bad answers, e.g. {errors[0]}", file=sys.stderr)
        if name == "warm-up":
            continue
        ordered = sorted(out)
        rows.append(
            {
                "phase": name,
                "requests": len(out),
                "p50_ms": _percentile(ordered, 50),
                "p99_ms": _percentile(ordered, 99),
                "mean_ms": statistics.fmean(ordered) / 1e6,
                "tokens_per_s": len(out) / elapsed,
                "server_cpu_us_per_token": cpu / len(out) * 1e6,
            }
        )
    load = os.getloadavg()
    print(
        f"\nPOST /api/video/token — Granian {args.workers} worker{'s' if args.workers > 1 else ''} (ASGI), SQLite "
        f"session lookup, {os.cpu_count()} CPUs, "
        f"load average before/after {load_before[0]:.2f}/{load[0]:.2f}\n"
    )
    print(
        f"| {'phase':<28} | {'requests':>8} | {'p50 ms':>7} | {'p99 ms':>7} | {'mean ms':>7} | {'tokens/s':>8} "
        f"| {'server CPU µs/token':>19} |"
    )
    print(f"|{'-' * 30}|{'-' * 9}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 9}:|{'-' * 20}:|")
    for r in rows:
        print(
            f"| {r['phase']:<28} | {r['requests']:>8} | {r['p50_ms']:>7.2f} | {r['p99_ms']:>7.2f} | "
            f"{r['mean_ms']:>7.2f} | {r['tokens_per_s']:>8.0f} | {r['server_cpu_us_per_token']:>19.0f} |"
        )
    print(f"\nStream user upserts during the run: {upserts} (at most one per worker process: cached per process)")
    if args.json:
        print(json.dumps(rows, indent=1))
    tmp.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
