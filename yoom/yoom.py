"""The Reflex app: theme, pages (registered by importing yoom.pages) and Yoom's own API routes."""

import asyncio
import contextlib
import gc
import logging
import sys

import reflex as rx

import yoom.pages  # noqa: F401  (each page module registers itself with yoom.pages.registry)
from yoom import accounts, attendance, event_socket, guests, migrations, recording_uploads, styles
from yoom.api import build_api
from yoom.api.auth import socket_origin_allowed
from yoom.components.clerk import clerk_app_wraps
from yoom.components.connection import connection_notice
from yoom.components.toaster import lazy_toaster
from yoom.db import get_engine
from yoom.loop_monitor import get_monitor
from yoom.pages.registry import add_pages
from yoom.settings import get_settings
from yoom.video import get_provider

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 3600
FINALISE_EVERY_SECONDS = 15


@contextlib.asynccontextmanager
async def housekeeping():
    """Migrate the database at start (a bare `reflex run` works on a fresh clone); close attendance left
    open by a previous run; purge expired sessions hourly; save recordings whose upload went quiet (a closed
    tab, a crash) from the parts that arrived; watch how late the event loop runs (GET /api/health); close
    the provider's HTTP client at shutdown."""
    try:
        await asyncio.to_thread(migrations.upgrade, get_engine())
    except migrations.MigrationError as problem:
        print(f"\nYoom can't start: {problem}\n", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        # The embedded signaling's sockets lived in the process that wrote these stays: it is gone.
        closed = await asyncio.to_thread(attendance.close_open_stays, attendance.SOURCE_RTC)
        if closed:
            log.info("closed %d attendance interval(s) left open by the previous run", closed)
    except Exception:
        log.exception("closing attendance left open by the previous run failed")
    # Everything loaded so far (the app, its pages and states, every module: ~140,000 objects) lives as long
    # as the process. Out of the collector's sight, a full collection walks only what came later (the
    # clients' states): it stopped the event loop for 90-150 ms each time, now for 20-50 ms under load.
    gc.collect()
    gc.freeze()

    async def purge_forever():
        while True:
            try:
                await asyncio.to_thread(accounts.purge_expired)
                await asyncio.to_thread(guests.purge_expired)
            except Exception:
                log.exception("purging expired sessions failed")
            await asyncio.sleep(PURGE_EVERY_SECONDS)

    async def finalise_forever():
        settings = get_settings()
        while True:
            await asyncio.sleep(min(FINALISE_EVERY_SECONDS, settings.recording_idle_seconds))
            if settings.video_provider != "local":
                return  # recordings are Stream's own there
            try:
                await asyncio.to_thread(
                    recording_uploads.finalise_idle, settings.recordings_dir, settings.recording_idle_seconds
                )
            except Exception:
                log.exception("finalising quiet recording uploads failed")

    tasks = [
        asyncio.create_task(purge_forever()),
        asyncio.create_task(finalise_forever()),
        asyncio.create_task(get_monitor().run()),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await get_provider().close()


app = rx.App(
    style=styles.base_style,
    head_components=[
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
        rx.el.style(styles.root_css()),
    ],
    api_transformer=build_api(),
    # Clerk mode: Clerk's provider and Yoom's cookie bridge around every page (nothing in local mode).
    extra_app_wraps=clerk_app_wraps(),
    toaster=lazy_toaster(),
)
# Reflex's own overlay says "Cannot connect to server: websocket error…": ours says "Reconnecting…".
# (An app wrap gets the page as its children: a fragment, so the notice sits beside it, not around it.)
app.app_wraps[(5, "Overlay")] = lambda stateful: rx.fragment(connection_notice()) if stateful else None
add_pages(app)
app.register_lifespan_task(housekeeping)
# The event socket obeys the same origin rule as the HTTP routes: a page on another origin (a sibling
# subdomain, another port) must not drive a signed-in person's session.
app.sio.eio.cors_allowed_origins = socket_origin_allowed
# Only valid text reaches the states: a lone UTF-16 surrogate in a packet becomes U+FFFD; and no log line
# shows a session cookie (yoom/event_socket.py).
event_socket.install(app.sio)
event_socket.redact_session_cookies()
