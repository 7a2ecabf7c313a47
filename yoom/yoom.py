"""The Reflex app: theme, pages (registered by importing yoom.pages) and Yoom's own API routes."""

import asyncio
import contextlib
import gc
import logging
import sys

import reflex as rx

import yoom.pages  # noqa: F401  (each page module registers itself with yoom.pages.registry)
from yoom import accounts, event_socket, migrations, styles
from yoom.api import build_api
from yoom.api.auth import socket_origin_allowed
from yoom.db import get_engine
from yoom.loop_monitor import get_monitor
from yoom.pages.registry import add_pages
from yoom.video import get_provider

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 3600


@contextlib.asynccontextmanager
async def housekeeping():
    """Migrate the database at start (a bare `reflex run` works on a fresh clone); purge expired sessions
    hourly; watch how late the event loop runs (GET /api/health); close the provider's HTTP client at
    shutdown."""
    try:
        await asyncio.to_thread(migrations.upgrade, get_engine())
    except migrations.MigrationError as problem:
        print(f"\nYoom can't start: {problem}\n", file=sys.stderr)
        raise SystemExit(2) from None
    # Everything loaded so far (the app, its pages and states, every module: ~140,000 objects) lives as long
    # as the process. Out of the collector's sight, a full collection walks only what came later (the
    # clients' states): it stopped the event loop for 90-150 ms each time, now for 20-50 ms under load.
    gc.collect()
    gc.freeze()

    async def purge_forever():
        while True:
            try:
                await asyncio.to_thread(accounts.purge_expired)
            except Exception:
                log.exception("purging expired sessions failed")
            await asyncio.sleep(PURGE_EVERY_SECONDS)

    tasks = [asyncio.create_task(purge_forever()), asyncio.create_task(get_monitor().run())]
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
)
add_pages(app)
app.register_lifespan_task(housekeeping)
# The event socket obeys the same origin rule as the HTTP routes: a page on another origin (a sibling
# subdomain, another port) must not drive a signed-in person's session.
app.sio.eio.cors_allowed_origins = socket_origin_allowed
# Only valid text reaches the states: a lone UTF-16 surrogate in a packet becomes U+FFFD; and no log line
# shows a session cookie (yoom/event_socket.py).
event_socket.install(app.sio)
event_socket.redact_session_cookies()
