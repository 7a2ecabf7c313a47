"""Benchmark: how many signed-in people one Yoom backend holds — memory and event latency per session count,
and the signaling hub's CPU for many small meetings.

    .venv/bin/python benchmarks/sessions.py [--sessions 100,500,1000] [--rooms 200] [--peers 5]
                                            [--seconds 20] [--workers 1] [--redis redis://127.0.0.1:6379/0]

What it does:
  1. starts Yoom in production mode (tests/browser/harness.py: Granian, `--workers` processes, a fresh SQLite
     database); with `--redis`, Reflex's state and the hub's rosters live in that Redis;
  2. makes 20 accounts (bcrypt at its real cost) and as many sessions as the largest step needs, straight in
     the app's database — what thousands of sign-ins would have left there, without spending minutes on bcrypt;
  3. sessions phase, from a separate process: for each step, opens that many home-page tabs — Reflex's event
     socket (Socket.IO over one WebSocket, tests/support/reflex_socket.py) with the session cookie, hydrated
     on "/" like a page load, so each runs the home page's on-load handlers and holds its state — then for
     `--seconds` sends "open the New meeting dialog" from a random tab 20 times a second and times each to
     its state update; reads the backend's RSS (every process in the app's group: Granian and its workers);
  4. rooms phase: `--rooms` embedded meetings of `--peers` participants each, every participant's
     `/api/rtc` socket pinging every 3 s like the browser's worker; reports the backend's CPU for the
     signaling alone and the ping round trips.

Prints one table per phase. On this 2-core machine the load generator shares the CPUs with the backend: its
own CPU share is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "benchmark password"
ACCOUNTS = 20
CONNECTING_AT_ONCE = 25  # tabs opening at the same moment (a page load each)
EVENTS_PER_SECOND = 20.0
EVENT_TIMEOUT = 30.0


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def _ms(values: list[float], pct: float) -> str:
    value = _percentile(values, pct)
    return "—" if value != value else f"{value * 1000:.1f}"


# --- the app's processes ------------------------------------------------------------------------


def _tree(pid: int):
    import psutil

    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _rss_mib(pid: int) -> float:
    total = 0
    for proc in _tree(pid):
        try:
            total += proc.memory_info().rss
        except Exception:  # (a process that just ended)
            continue
    return total / 2**20


def _cpu_seconds(pid: int) -> float:
    total = 0.0
    for proc in _tree(pid):
        try:
            times = proc.cpu_times()
        except Exception:
            continue
        total += times.user + times.system
    return total


# --- load generator (own process) ---------------------------------------------------------------


def _tabs_process(url: str, cookies: list[str], steps: list[int], seconds: float, conn) -> None:
    """Opens home-page tabs up to each step's count, then times events from random tabs; reports per step."""
    import psutil

    from tests.support import reflex_socket as rs
    from yoom.state.meetings import MeetingFormState

    me = psutil.Process()

    async def open_tab(i: int, gate: asyncio.Semaphore, failures: list[str]):
        async with gate:
            tab = rs.ReflexSocket(url, cookie=cookies[i % len(cookies)], path="/", max_kept=4, connect_timeout=60)
            try:
                await tab.connect()
                await tab.barrier(timeout=60)
            except Exception as exc:  # (counted and shown, never hidden)
                failures.append(f"{type(exc).__name__}: {exc}"[:200])
                return None
            return tab

    async def click(tab, dialog: str, latencies: list[float], timeouts: list[str]) -> None:
        mark, sent = tab.received, time.perf_counter()
        try:
            await tab.send(rs.handler(MeetingFormState, "open_dialog"), {"name": dialog})
            await tab.wait_for(lambda u: u.has_var(MeetingFormState, "dialog"), EVENT_TIMEOUT, since=mark)
        except Exception as exc:  # (a timeout or a closed tab: counted)
            timeouts.append(type(exc).__name__)
            return
        latencies.append(time.perf_counter() - sent)

    async def run():
        tabs: list = []
        gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
        for step in steps:
            failures: list[str] = []
            opened_at = time.perf_counter()
            new = await asyncio.gather(*(open_tab(i, gate, failures) for i in range(len(tabs), step)))
            tabs.extend(t for t in new if t is not None)
            opening = time.perf_counter() - opened_at
            conn.send(("opened", {"step": step, "open": len(tabs), "failures": failures, "seconds": opening}))
            conn.recv()  # the parent has read the server's counters
            cpu_before = sum(me.cpu_times()[:2])
            latencies: list[float] = []
            timeouts: list[str] = []
            pending: set[asyncio.Task] = set()
            deadline = time.monotonic() + seconds
            dialogs = ("new", "join")
            n = 0
            while time.monotonic() < deadline:
                live = [t for t in tabs if not t.closed]
                if live:
                    n += 1
                    task = asyncio.create_task(click(random.choice(live), dialogs[n % 2], latencies, timeouts))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                await asyncio.sleep(1 / EVENTS_PER_SECOND)
            await asyncio.gather(*pending)
            closed = sum(1 for t in tabs if t.closed)
            conn.send(
                (
                    "measured",
                    {
                        "latencies": latencies,
                        "timeouts": len(timeouts),
                        "closed": closed,
                        "generator_cpu": (sum(me.cpu_times()[:2]) - cpu_before) / seconds,
                    },
                )
            )
        await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)

    asyncio.run(run())
    conn.send(("finished", None))


def _rooms_process(url: str, rooms: list[str], tokens: list[str], seconds: float, conn) -> None:
    """Every participant of every room joins `/api/rtc` and pings every 3 s; reports round trips and drops."""
    import psutil

    from tests.support.rtc_client import PING_EVERY_SECONDS, RtcPeer

    me = psutil.Process()

    async def run():
        peers: list[RtcPeer] = []
        failures: list[str] = []
        gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

        async def join(call_id: str, token: str, offset: float):
            async with gate:
                peer = RtcPeer(url, call_id, token)
                try:
                    await peer.join(timeout=60)
                except Exception as exc:
                    failures.append(f"{type(exc).__name__}: {exc}"[:200])
                    return
            peer.start_pinging(offset=offset)
            peers.append(peer)

        count = len(rooms) * len(tokens)
        await asyncio.gather(
            *(
                join(call_id, token, PING_EVERY_SECONDS * (r * len(tokens) + p) / count)
                for r, call_id in enumerate(rooms)
                for p, token in enumerate(tokens)
            )
        )
        await asyncio.sleep(PING_EVERY_SECONDS)  # every peer's first ping answered before counting
        conn.send(("joined", {"peers": len(peers), "failures": failures}))
        conn.recv()
        cpu_before = sum(me.cpu_times()[:2])
        marks = [len(p.rtts) for p in peers]
        await asyncio.sleep(seconds)
        rtts = [rtt for p, mark in zip(peers, marks, strict=True) for rtt in p.rtts[mark:]]
        generator_cpu = (sum(me.cpu_times()[:2]) - cpu_before) / seconds
        dropped = sum(1 for p in peers if p.closed)
        left = sum(len(p.of_type("peer-left")) for p in peers)
        conn.send(("measured", {"rtts": rtts, "dropped": dropped, "left": left, "generator_cpu": generator_cpu}))
        await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)

    asyncio.run(run())


# --- set-up in the app's database ---------------------------------------------------------------


def _accounts_and_sessions(run_id: str, sessions: int) -> tuple[list, list[str]]:
    from yoom import accounts

    users = [accounts.sign_up(f"Benchmark {i}", f"bench{run_id}n{i}", PASSWORD) for i in range(min(ACCOUNTS, sessions))]
    cookies = [accounts.create_session(users[i % len(users)].id) for i in range(sessions)]
    return users, cookies


async def _rooms(users: list, rooms: int) -> list[str]:
    from yoom.accounts import video_user
    from yoom.video import get_provider
    from yoom.video.base import CallKind

    provider = get_provider()
    hosts = [video_user(u) for u in users]
    calls = []
    for r in range(rooms):
        meeting = await provider.create_call(hosts[r % len(hosts)], CallKind.INSTANT)
        calls.append(meeting.id)
    return calls


async def _tokens(url: str, cookies: list[str]) -> list[str]:
    import httpx

    from tests.support.rtc_client import video_token

    async with httpx.AsyncClient(timeout=60) as http:
        return [await video_token(url, cookie, http) for cookie in cookies]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="100,500,1000", help="comma-separated steps of open home-page tabs")
    parser.add_argument("--rooms", type=int, default=200, help="embedded meetings for the signaling phase (0: skip)")
    parser.add_argument("--peers", type=int, default=5, help="participants per meeting")
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring time per step")
    parser.add_argument("--workers", type=int, default=1, help="backend worker processes (more need --redis)")
    parser.add_argument("--redis", default="", help="REFLEX_REDIS_URL for the backend (state and the hub)")
    args = parser.parse_args()
    steps = sorted({int(s) for s in args.sessions.split(",") if s.strip()})
    if args.peers > ACCOUNTS:
        parser.error(f"--peers at most {ACCOUNTS}")

    from tests.browser.harness import start_app

    overrides = {"GRANIAN_WORKERS": str(args.workers)}
    if args.redis:
        overrides.update({"REFLEX_REDIS_URL": args.redis, "YOOM_LOCAL_VIDEO_SECRET": uuid.uuid4().hex * 2})
    print("starting Yoom in production mode (a production build: a minute or two)…", flush=True)
    app = start_app(overrides)
    os.environ.update(app.env)  # the yoom imports below use the app's own database and settings
    run_id = uuid.uuid4().hex[:6]
    ctx = mp.get_context("spawn")
    pid = app.process.pid
    load_before = os.getloadavg()
    session_rows, room_rows = [], None
    try:
        users, cookies = _accounts_and_sessions(run_id, max(steps, default=1))
        idle_rss = _rss_mib(pid)
        end, child = ctx.Pipe()
        tabs = ctx.Process(target=_tabs_process, args=(app.url, cookies, steps, args.seconds, child), daemon=True)
        tabs.start()
        for _ in steps:
            kind, opened = end.recv()
            assert kind == "opened", kind
            time.sleep(2)  # let the page loads' work settle before measuring
            rss, cpu_before = _rss_mib(pid), _cpu_seconds(pid)
            end.send("go")
            kind, measured = end.recv()
            assert kind == "measured", kind
            cpu = (_cpu_seconds(pid) - cpu_before) / args.seconds
            session_rows.append((opened, measured, rss, max(rss, _rss_mib(pid)), cpu))
            print(f"  {opened['open']} tabs measured", flush=True)
        end.recv()
        tabs.join(60)

        if args.rooms:
            rooms = asyncio.run(_rooms(users, args.rooms))
            tokens = asyncio.run(_tokens(app.url, cookies[: args.peers]))
            end, child = ctx.Pipe()
            peers = ctx.Process(target=_rooms_process, args=(app.url, rooms, tokens, args.seconds, child), daemon=True)
            peers.start()
            kind, joined = end.recv()
            assert kind == "joined", kind
            rss, cpu_before = _rss_mib(pid), _cpu_seconds(pid)
            end.send("go")
            kind, measured = end.recv()
            cpu = (_cpu_seconds(pid) - cpu_before) / args.seconds
            room_rows = (joined, measured, rss, cpu)
            peers.join(60)
    finally:
        app.stop()
    load_after = os.getloadavg()

    where = f"{args.workers} worker{'s' if args.workers > 1 else ''}" + (" + Redis" if args.redis else "")
    print(
        f"\nSigned-in home-page tabs on one Yoom backend ({where}, SQLite); {os.cpu_count()} CPUs shared with the "
        f"load generator; load average before/after {load_before[0]:.2f}/{load_after[0]:.2f}; backend RSS with no "
        f"tab open: {idle_rss:.0f} MiB\n"
    )
    print(
        "| tabs open | opening them s | failed to open | backend RSS MiB | RSS per tab KiB | event p50 ms "
        "| event p99 ms | events timed | timed out | tabs dropped | backend CPU | generator CPU |"
    )
    print("| --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |")
    for opened, measured, _rss, peak, cpu in session_rows:
        lat = measured["latencies"]
        per_tab = (peak - idle_rss) * 1024 / max(1, opened["open"])
        print(
            f"| {opened['open']} | {opened['seconds']:.1f} | {len(opened['failures'])} | {peak:.0f} | {per_tab:.0f} "
            f"| {_ms(lat, 50)} | {_ms(lat, 99)} | {len(lat)} | {measured['timeouts']} | {measured['closed']} "
            f"| {cpu * 100:.0f} % | {measured['generator_cpu'] * 100:.0f} % |"
        )
    for opened, *_ in session_rows:
        if opened["failures"]:
            print(f"first failures at {opened['step']} tabs:", *opened["failures"][:3], sep="\n  ")
    if room_rows:
        joined, measured, rss, cpu = room_rows
        rtts = measured["rtts"]
        print(
            f"\nSignaling: {args.rooms} embedded meetings × {args.peers} participants, every `/api/rtc` socket "
            f"pinging every 3 s ({where})\n"
        )
        print(
            "| peers joined | failed to join | pings | RTT p50 ms | RTT p99 ms | backend CPU | backend RSS MiB "
            "| dropped | generator CPU |"
        )
        print("| --: | --: | --: | --: | --: | --: | --: | --: | --: |")
        print(
            f"| {joined['peers']} | {len(joined['failures'])} | {len(rtts)} | {_ms(rtts, 50)} | {_ms(rtts, 99)} "
            f"| {cpu * 100:.1f} % | {rss:.0f} | {measured['dropped'] + measured['left']} "
            f"| {measured['generator_cpu'] * 100:.0f} % |"
        )
        if joined["failures"]:
            print("first failures:", *joined["failures"][:3], sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
