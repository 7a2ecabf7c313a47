"""Fuzzing the running app's two sockets: Reflex's `/_event` and the meetings' `/api/rtc`.

Randomly formed input from a seeded RNG (tests/support/fuzzing.py), sent to the production app the
browser tests start (no Chromium needed), signed in with a real session's cookie and signed out. What must
hold, whatever arrives:

* the server stays up: the process runs, /ping answers, a fresh sign-up and sign-in work afterwards, and a
  meeting's other participants keep their sockets (their pings are answered, nobody else is dropped);
* no page sees a traceback, an exception's name, or Python's or the database's own words;
* no answer carries another person's data: a second user with a distinctive name, an invite-only meeting
  with a distinctive description and a recording of it, whose ids the fuzzer sends everywhere.

Sizes: YOOM_FUZZ_EVENTS Reflex events (default 1500; `make bench` sends 10,000) and YOOM_FUZZ_FRAMES
`/api/rtc` frames (default 300); YOOM_FUZZ_SEED replays a run (the seed is printed, and named on failure).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import reflex as rx

from tests.browser.harness import ROOT
from tests.support import reflex_socket as rs
from tests.support.fuzzing import UNHANDLED, Junk, dumps, event_handlers, problems_in
from tests.support.rtc_client import RtcPeer, video_token
from yoom.state.auth_forms import AuthFormState
from yoom.state.base import AuthState
from yoom.state.meetings import MeetingFormState

FUZZ_EVENTS = int(os.environ.get("YOOM_FUZZ_EVENTS") or 1500)
FUZZ_FRAMES = int(os.environ.get("YOOM_FUZZ_FRAMES") or 300)
SEED = int(os.environ.get("YOOM_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
# The fuzzer's failed sign-ins are throttled per client address: it speaks from an address of its own,
# so the throttle it earns never slows the other tests (they come from 127.0.0.1).
FUZZ_HOST = "127.0.0.2"
PASSWORD = "correct horse battery"
BARRIER_EVERY = 100
RTC_FRAMES_PER_SECOND = 45  # under the hub's sustained limit (50/s): frames are read, not dropped
WEBM = b"\x1a\x45\xdf\xa3" + b"\x42\x86\x81\x01" + bytes(200)


def run(coro, timeout: float = 600):
    """Run a coroutine in a thread of its own: Playwright's sync API may hold this thread's event loop.
    (In this thread's context: Reflex keeps its registry of states in a context variable.)"""
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        return pool.submit(contextvars.copy_context().run, asyncio.run, coro).result(timeout)
    finally:
        pool.shutdown(wait=False)


def origin(url: str) -> dict[str, str]:
    return {"Origin": url}


@dataclass
class Person:
    name: str
    username: str
    cookie: str
    user_id: str = ""


@dataclass
class World:
    url: str
    victim: Person
    fuzzer: Person
    victim_call: str  # invite-only, starting in a few minutes (its join window is open)
    description: str
    recording_id: str
    recording_title: str
    fuzzer_call: str

    @property
    def secrets(self) -> list[str]:
        """What the fuzzer must never be shown: the victim's data, and any session token at all."""
        return [self.victim.name, self.description, self.recording_title, self.victim.cookie, self.fuzzer.cookie]

    @property
    def ids(self) -> list[str]:
        return [
            self.victim.user_id,
            self.victim_call,
            self.recording_id,
            f"/api/recordings/{self.recording_id}",
            self.fuzzer.user_id,
            self.fuzzer_call,
        ]


async def _user_id(url: str, cookie: str) -> str:
    async with rs.ReflexSocket(url, cookie=cookie, path="/") as page:
        update = await page.wait_for(lambda u: bool(u.var(AuthState, "user_id")), 30)
        return update.var(AuthState, "user_id")


async def _person(url: str, name: str) -> Person:
    username = f"fz{uuid.uuid4().hex[:12]}"
    cookie = await rs.sign_up(url, name, username, PASSWORD)
    return Person(name, username, cookie, await _user_id(url, cookie))


async def _instant_meeting(url: str, cookie: str) -> str:
    async with rs.ReflexSocket(url, cookie=cookie, path="/") as home:
        mark = home.received
        await home.send(rs.handler(MeetingFormState, "start_instant_meeting"))
        answer = await home.wait_for(lambda u: bool(u.redirects()), 30, since=mark)
    return answer.redirects()[0].split("/meeting/")[1].split("?")[0]


async def _schedule_invite_only(url: str, cookie: str, description: str) -> str:
    """The Schedule Meeting dialog, as the page fills it in: an invite-only meeting in five minutes."""
    when = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    async with rs.ReflexSocket(url, cookie=cookie, path="/") as home:
        for name, payload in [
            ("set_viewer_timezone", {"zone": "UTC"}),
            ("set_schedule_description", {"value": description}),
            ("set_schedule_when", {"value": when}),
            ("set_schedule_invite_only", {"value": True}),
        ]:
            await home.send(rs.handler(MeetingFormState, name), payload)
        mark = home.received
        await home.send(rs.handler(MeetingFormState, "schedule_meeting"))
        answer = await home.wait_for(
            lambda u: bool(u.var(MeetingFormState, "created_id") or u.var(MeetingFormState, "schedule_error")),
            30,
            since=mark,
        )
    assert answer.var(MeetingFormState, "created_id"), answer.var(MeetingFormState, "schedule_error")
    return answer.var(MeetingFormState, "created_id")


async def _build_world(url: str) -> World:
    suffix = uuid.uuid4().hex[:8]
    victim = await _person(url, f"Zebulon Quillfeather {suffix}")
    fuzzer = await _person(url, "Fuzz Tester")
    description = f"Okapi consortium budget {suffix}"
    victim_call = await _schedule_invite_only(url, victim.cookie, description)
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{url}/api/recordings",
            params={
                "call_id": victim_call,
                "started_at": started.isoformat(),
                "ended_at": (started + timedelta(minutes=1)).isoformat(),
            },
            content=WEBM,
            headers={"Content-Type": "video/webm", **origin(url)},
            cookies={"yoom_session": victim.cookie},
        )
    assert response.status_code == 201, response.text
    recording = response.json()
    return World(
        url=url,
        victim=victim,
        fuzzer=fuzzer,
        victim_call=victim_call,
        description=description,
        recording_id=recording["id"],
        recording_title=recording["filename"],
        fuzzer_call=await _instant_meeting(url, fuzzer.cookie),
    )


@pytest.fixture(scope="module")
def world(app_pool) -> World:
    print(f"\nfuzz seed {SEED} (replay: YOOM_FUZZ_SEED={SEED})")
    return run(_build_world(app_pool.get({}).url), 180)


# --- Reflex events ---------------------------------------------------------------------------------


@dataclass
class EventReport:
    sent: int = 0
    raw_packets: int = 0
    aimed: Counter = field(default_factory=Counter)
    frames: int = 0
    reconnects: int = 0
    unhandled: int = 0  # "An error occurred" toasts: Reflex's answer to events it refused
    problems: list[str] = field(default_factory=list)
    recent: list[str] = field(default_factory=list)  # the last events sent, to name in a failure


async def fuzz_events(world: World, count: int, seed: int, cookie: str | None) -> EventReport:
    rng = random.Random(seed)
    junk = Junk(rng, ids=world.ids, secrets=world.secrets)
    targets = event_handlers(rx.State)
    if cookie:
        # Signing out would end the session this run fuzzes with: it is fuzzed signed out instead.
        targets = [t for t in targets if t.name != rs.handler(AuthState, "sign_out")]
    own_paths = [f"/meeting/{world.fuzzer_call}", f"/meeting/{world.fuzzer.user_id}?personal=true"]
    report = EventReport()
    sweep = rng.sample(targets, len(targets))

    def scan(frame: str) -> None:
        report.frames += 1
        for problem in problems_in(frame, world.secrets):
            report.problems.append(f"{problem} after event #{report.sent} (recent: {report.recent[-3:]})")
        if UNHANDLED.search(frame):
            # Reflex refusing a malformed event (an unknown handler, a payload that isn't a dict, a var
            # `setvar` doesn't know): its generic toast, no details. Counted; exceptions inside Yoom's own
            # code are found in the server's log (exceptions_in_yoom_code).
            report.unhandled += 1

    async def open_page() -> rs.ReflexSocket:
        page = rs.ReflexSocket(world.url, cookie=cookie, path="/", local_host=FUZZ_HOST, max_kept=200)
        page.on_frame = scan
        return await page.connect()

    page = await open_page()
    attempts = 0
    try:
        while report.sent < count and attempts < 2 * count:
            attempts += 1
            try:
                if not sweep and rng.random() < 0.03:
                    report.raw_packets += 1
                    report.recent.append("<raw packet>")
                    await page.send_packet(junk.raw_packet())
                    # One may announce a binary attachment, which Socket.IO takes the next message for.
                    await page.send(rs.handler(AuthFormState, "cookie_route_failed"), {"message": ""})
                else:
                    # Every handler once first (in a random order), then at random.
                    aimed, data = junk.event(targets, own_paths, sweep.pop() if sweep else None)
                    report.aimed[aimed] += 1
                    report.recent.append(aimed.rpartition(".")[2])
                    await page.send_event_data(None, encoded=dumps(data))
                report.sent += 1
                del report.recent[:-10]
                if report.sent % BARRIER_EVERY == 0:
                    await page.barrier(timeout=120)
            except (rs.SocketClosed, ConnectionError):
                # Frames past the socket's size limit end the connection (as for a browser): open another.
                report.reconnects += 1
                await page.close()
                page = await open_page()
            except TimeoutError:
                report.problems.append(f"no answer within 120 s after event #{report.sent} ({report.recent[-5:]})")
                await page.close()
                page = await open_page()
        await page.barrier(timeout=120)
    finally:
        await page.close()
    return report


async def _still_serving(url: str) -> None:
    """The app answers and a newcomer can sign up, sign in and get a video token (from 127.0.0.1)."""
    async with httpx.AsyncClient(timeout=30) as http:
        assert (await http.get(f"{url}/ping")).status_code == 200
        username = f"after{uuid.uuid4().hex[:10]}"
        await rs.sign_up(url, "After Fuzz", username, PASSWORD, http=http)
        cookie = await rs.sign_in(url, username, PASSWORD, http=http)
        assert await video_token(url, cookie, http)


def _summary(label: str, report: EventReport, seconds: float) -> str:
    return (
        f"{label}: {report.sent} events ({report.raw_packets} raw packets) to {len(report.aimed)} handlers "
        f"in {seconds:.1f} s, {report.frames} frames back, {report.reconnects} reconnects, "
        f"{report.unhandled} unhandled-exception toasts, {len(report.problems)} problems (seed {SEED})"
    )


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "signed-out"])
def test_fuzzed_events_crash_nothing_show_no_errors_and_leak_nothing(world, local_app, signed_in):
    count = FUZZ_EVENTS * 2 // 3 if signed_in else FUZZ_EVENTS - FUZZ_EVENTS * 2 // 3
    cookie = world.fuzzer.cookie if signed_in else None
    started, log_start = time.monotonic(), log_size(local_app)
    report = run(fuzz_events(world, count, SEED + (0 if signed_in else 1), cookie))
    summary = _summary("signed in" if signed_in else "signed out", report, time.monotonic() - started)
    print(summary)

    assert local_app.process.poll() is None, f"the server died\n{local_app.log_tail()}"
    run(_still_serving(world.url), 120)
    handlers = {t.name for t in event_handlers(rx.State)} - ({rs.handler(AuthState, "sign_out")} if cookie else set())
    assert handlers <= set(report.aimed), f"handlers never fuzzed: {sorted(handlers - set(report.aimed))}"
    assert not report.problems, summary + "\n" + "\n".join(report.problems[:20])
    assert not (raised := exceptions_in_yoom_code(local_app, log_start)), f"{summary}\n" + "\n".join(raised)
    assert not (tokens := session_tokens_in_log(local_app, log_start, world)), f"{summary}\nin the log: {tokens}"


YOOM_CODE = re.compile(re.escape(str(ROOT / "yoom")) + r"/[\w/]+\.py\"?, ?line ?\d+")
EXCEPTION_LINE = re.compile(r"\b(?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception)\b: ?.{0,120}")


def log_size(app) -> int:
    return app.log_path.stat().st_size


def log_since(app, since: int) -> str:
    return app.log_path.read_bytes()[since:].decode(errors="replace")


def session_tokens_in_log(app, since: int, world: World) -> list[str]:
    """Session tokens are secrets for the server's log too (Reflex prints events, headers and all)."""
    text = log_since(app, since).replace("\n", "")
    return [f"{p.name}'s session token" for p in (world.fuzzer, world.victim) if p.cookie in text]


def exceptions_in_yoom_code(app, since: int) -> list[str]:
    """Tracebacks the server logged (after byte `since`) that pass through Yoom's own code: each is an
    exception Yoom raised on some input, a bug even when something caught it. Reflex's own refusals of
    malformed events (unknown handlers, arguments a handler doesn't take) never enter Yoom's code."""
    # Rich wraps long log lines at any character: joined back up, the paths read whole again.
    text = log_since(app, since).replace("\n", "")
    found: dict[str, str] = {}
    for frame in YOOM_CODE.finditer(text):
        error = EXCEPTION_LINE.search(text, frame.end())
        where = frame.group(0).removeprefix(str(ROOT) + "/")
        found.setdefault(f"{where}: {error.group(0) if error else '?'}", "")
    return sorted(found)


# --- /api/rtc frames -----------------------------------------------------------------------------------


async def fuzz_rtc(world: World, frames: int, seed: int) -> dict:
    rng = random.Random(seed)
    junk = Junk(rng, ids=world.ids, secrets=world.secrets)
    url = world.url
    async with httpx.AsyncClient(timeout=30) as http:
        host = await _person(url, "Observer Host")
        guest = await _person(url, "Observer Guest")
        call = await _instant_meeting(url, host.cookie)
        tokens = {p.username: await video_token(url, p.cookie, http) for p in (host, guest, world.victim, world.fuzzer)}
    observers = [await RtcPeer(url, call, tokens[p.username]).join() for p in (host, guest)]
    victim = await RtcPeer(url, world.victim_call, tokens[world.victim.username]).join()
    for peer in [*observers, victim]:
        peer.start_pinging(every=1.0)

    problems: list[str] = []
    closes: Counter = Counter()
    seen = 0

    async def join_fuzzer() -> RtcPeer:
        return await RtcPeer(url, call, tokens[world.fuzzer.username], local_host=FUZZ_HOST).join()

    fuzzer = await join_fuzzer()
    targets = [observers[0].peer_id, observers[1].peer_id, victim.peer_id, fuzzer.peer_id]
    sent = 0
    try:
        while sent < frames:
            if fuzzer.closed:
                closes[fuzzer.close_code] += 1
                if fuzzer.close_code == 1011:
                    problems.append(f"the server failed on frame #{sent} (closed 1011)")
                seen += _check_frames(fuzzer, world, problems)
                fuzzer = await join_fuzzer()
                targets[3] = fuzzer.peer_id
            frame = junk.rtc_frame(targets)
            try:
                await fuzzer.send_raw(frame)
            except Exception:
                fuzzer.closed = True
                continue
            sent += 1
            await asyncio.sleep(1 / RTC_FRAMES_PER_SECOND)
        await asyncio.sleep(0.5)
        seen += _check_frames(fuzzer, world, problems)
        for peer in observers:
            # Undisturbed: still in, answering now, never told of an error, nobody else left.
            assert not peer.closed, f"an observer's socket closed ({peer.close_code}) (seed {seed})"
            await peer.ping()
            others = {p.peer_id for p in observers} | {victim.peer_id}
            left = [f for f in peer.of_type("peer-left") if f.get("peer_id") in others]
            assert not left, f"an observer was told others left: {left} (seed {seed})"
            assert not peer.of_type("error"), f"an observer got errors: {peer.of_type('error')[:3]} (seed {seed})"
            for frame in peer.frames:
                problems.extend(problems_in(str(frame), world.secrets))
        assert not victim.closed and await victim.ping() >= 0
        crossed = [f for f in victim.frames if f.get("type") in ("signal", "media", "peer-joined", "error")]
        assert not crossed, f"frames from another call reached the victim: {crossed[:3]} (seed {seed})"
        # The meeting still takes people in.
        newcomer = await _person(url, "Late Comer")
        async with httpx.AsyncClient(timeout=30) as http:
            late = await RtcPeer(url, call, await video_token(url, newcomer.cookie, http)).join()
        in_room = {p["peer_id"] for p in (late.welcome or {}).get("peers", [])}
        assert {p.peer_id for p in observers} <= in_room
        await late.close()
    finally:
        for peer in [fuzzer, *observers, victim]:
            await peer.close()
    return {"sent": sent, "closes": dict(closes), "problems": problems, "frames_back": seen}


def _check_frames(fuzzer: RtcPeer, world: World, problems: list[str]) -> int:
    for frame in fuzzer.frames:
        problems.extend(problems_in(str(frame), world.secrets))
    count = len(fuzzer.frames)
    fuzzer.frames.clear()
    return count


def test_fuzzed_rtc_frames_leave_a_meeting_and_its_neighbours_undisturbed(world, local_app):
    started, log_start = time.monotonic(), log_size(local_app)
    result = run(fuzz_rtc(world, FUZZ_FRAMES, SEED + 2))
    summary = (
        f"rtc: {result['sent']} frames in {time.monotonic() - started:.1f} s, {result['frames_back']} frames back, "
        f"fuzzer's socket closed {result['closes'] or 'never'}, {len(result['problems'])} problems (seed {SEED})"
    )
    print(summary)
    assert local_app.process.poll() is None, f"the server died\n{local_app.log_tail()}"
    assert httpx.get(world.url + "/ping", timeout=30).status_code == 200
    assert not result["problems"], summary + "\n" + "\n".join(result["problems"][:20])
    assert not (raised := exceptions_in_yoom_code(local_app, log_start)), f"{summary}\n" + "\n".join(raised)
