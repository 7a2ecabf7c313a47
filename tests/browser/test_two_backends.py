"""Two Yoom backends sharing one real redis-server and one database, as two hosts behind a load balancer.

One production build, served by two backend processes on their own ports (tests/browser/serve_built.py),
both with REFLEX_REDIS_URL and the same YOOM_LOCAL_VIDEO_SECRET, on PostgreSQL when YOOM_TEST_POSTGRES_URL
is set (`bash .ci/run` sets it) and else on one SQLite file. In front, a small load balancer on the port
the build was made for: it sends each browser to the backend its `yoom_backend` cookie names — every request
and WebSocket of a page, its Reflex events and its room channel — and to the other one when that one
doesn't answer, as a real balancer's health check would.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import threading
import time
import uuid
from dataclasses import replace

import pytest
import sqlalchemy
from playwright.sync_api import Page, expect

from tests.browser.harness import free_port, start_app
from tests.browser.test_local_meeting import assert_video_flows_from, everyone_joins, tile, wait_for_remote_video

POSTGRES = os.environ.get("YOOM_TEST_POSTGRES_URL", "")
_COOKIE = re.compile(rb"(?im)^cookie:[^\r\n]*\byoom_backend=(\w+)")
_REQUEST_LINE = re.compile(rb"^[A-Z]+ (\S+)")


class CookieBalancer:
    """Forwards each connection to the backend its `yoom_backend` cookie names, failing over to the others;
    remembers which backend took which path (the first request of each connection)."""

    def __init__(self, port: int, backends: dict[str, int]):
        self.port, self.backends = port, backends
        self.served: list[tuple[str, str, str]] = []  # (asked for, served by, path)
        self.loop = asyncio.new_event_loop()
        self._server = None

    def start(self) -> CookieBalancer:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self._server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        assert ready.wait(10)
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            pipes = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pipes:
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def paths(self, asked: str, served: str, prefix: str) -> int:
        return sum(1 for a, s, p in list(self.served) if a == asked and s == served and p.startswith(prefix))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        match = _COOKIE.search(head)
        asked = match.group(1).decode() if match else "a"
        order = [asked, *(name for name in self.backends if name != asked)]
        for name in order:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.backends[name])
                break
            except OSError:
                continue
        else:
            writer.close()
            return
        path = _REQUEST_LINE.match(head)
        self.served.append((asked, name, path.group(1).decode() if path else ""))
        up_writer.write(head)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    if not POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp('shared') / 'yoom.db'}"
        return
    name = f"yoom_two_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    yield sqlalchemy.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def two_backends(redis_server, database_url):
    """(balancer URL, backend A, backend B, the balancer)."""
    built = start_app(
        {
            "REFLEX_REDIS_URL": redis_server.url,
            "YOOM_LOCAL_VIDEO_SECRET": "two-backends-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "DATABASE_URL": database_url,
            "GRANIAN_WORKERS": "1",
        }
    )
    built.stop_backend()  # its port is the build's: the balancer takes it
    a, b = (
        replace(built, port=port, url=f"http://localhost:{port}", log_path=built.data_dir / f"backend-{name}.log")
        for name, port in (("a", free_port()), ("b", free_port()))
    )
    a.start_backend()
    b.start_backend()
    balancer = CookieBalancer(built.port, {"a": a.port, "b": b.port}).start()
    yield built.url, a, b, balancer
    balancer.stop()
    for backend in (a, b):
        backend.stop_backend()


def on_backend(page: Page, url: str, name: str) -> Page:
    page.context.add_cookies([{"name": "yoom_backend", "value": name, "url": url}])
    return page


def in_one_call(url: str, new_page, host_name: str, guest_name: str) -> tuple[Page, Page]:
    """The host signs up on backend A, the guest on B; both join the host's new meeting and see each other."""
    host, guest = on_backend(new_page(), url, "a"), on_backend(new_page(), url, "b")
    everyone_joins(url, (host, host_name), (guest, guest_name))
    for page in (host, guest):
        wait_for_remote_video(page, 1)
    return host, guest


def test_people_on_two_backends_see_each_other_and_the_end_reaches_both(two_backends, new_page):
    url, _a, _b, balancer = two_backends
    host, guest = in_one_call(url, new_page, "Ana on A", "Ben on B")
    for page in (host, guest):
        assert_video_flows_from(page, peers=1)
    # Each page's events and room channel went to its own backend.
    for name in ("a", "b"):
        assert balancer.paths(name, name, "/_event") >= 1
        assert balancer.paths(name, name, "/api/rtc/") >= 1
        assert balancer.paths(name, {"a": "b", "b": "a"}[name], "/") == 0  # no failover

    host.get_by_test_id("end-call-for-everyone").click()
    host.get_by_test_id("confirm-end-call").click()
    expect(host.get_by_test_id("meeting-ended")).to_be_visible(timeout=15_000)
    expect(guest.get_by_test_id("meeting-ended")).to_be_visible(timeout=15_000)


def test_a_backend_killed_mid_call_its_people_carry_on_through_the_other(two_backends, new_page):
    url, _a, b, balancer = two_backends
    host, guest = in_one_call(url, new_page, "Ida on A", "Kai on B")
    rtc_via_a_before = balancer.paths("b", "a", "/api/rtc/")

    os.killpg(b.process.pid, signal.SIGKILL)  # no goodbye: its sockets just vanish
    killed = time.monotonic()
    try:
        # The guest's room channel finds the surviving backend by itself, and media never stopped.
        while balancer.paths("b", "a", "/api/rtc/") == rtc_via_a_before:
            assert time.monotonic() < killed + 15, "the guest's room channel never came back through backend A"
            time.sleep(0.25)
        expect(guest.locator("[data-call-status=joined]")).to_be_visible(timeout=15_000)
        print(f"\nthe guest was signaling through backend A {time.monotonic() - killed:.1f} s after B was killed")
        for page in (host, guest):
            assert_video_flows_from(page, peers=1)
        # Signaling works across the survivor: the guest's mute reaches the host.
        guest.get_by_test_id("toggle-mic").click()
        expect(tile(host, "Kai on B").get_by_test_id("muted-indicator")).to_be_visible(timeout=15_000)
    finally:
        b.start_backend()  # for the next test in this module, whatever happened here


def test_redis_stopped_mid_meeting_loses_no_meeting_and_no_page_shows_framework_errors(
    two_backends, redis_server, new_page
):
    url, _a, _b, _balancer = two_backends
    host, guest = in_one_call(url, new_page, "Oda on A", "Pim on B")

    redis_server.stop()
    try:
        time.sleep(5)
        for page in (host, guest):
            assert_video_flows_from(page, peers=1)  # media is peer-to-peer: Redis carries none of it
            text = page.inner_text("body")
            assert "Traceback" not in text and "websocket error" not in text, text[:500]
    finally:
        redis_server.start()
    # Nothing in the database was lost: the meeting is still there to join, from either backend.
    for page in (host, guest):
        page.reload()
        expect(page.get_by_test_id("meeting-page")).to_have_attribute(
            "data-phase", re.compile(r"^(setup|in_call)$"), timeout=30_000
        )
