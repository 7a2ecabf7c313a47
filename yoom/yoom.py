"""The Reflex app: theme, pages (registered by importing yoom.pages) and Yoom's own API routes."""

import asyncio
import contextlib
import logging

import reflex as rx

import yoom.pages  # noqa: F401  (registers every page)
from yoom import accounts, attendance, styles
from yoom.api import build_api
from yoom.video import get_provider

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 3600


@contextlib.asynccontextmanager
async def housekeeping():
    """Close attendance left open by a previous run; purge expired sessions hourly; close the provider's
    HTTP client at shutdown."""
    try:
        # The embedded signaling's sockets lived in the process that wrote these stays: it is gone.
        closed = await asyncio.to_thread(attendance.close_open_stays, attendance.SOURCE_RTC)
        if closed:
            log.info("closed %d attendance interval(s) left open by the previous run", closed)
    except Exception:
        log.exception("closing attendance left open by the previous run failed")

    async def purge_forever():
        while True:
            try:
                await asyncio.to_thread(accounts.purge_expired)
            except Exception:
                log.exception("purging expired sessions failed")
            await asyncio.sleep(PURGE_EVERY_SECONDS)

    task = asyncio.create_task(purge_forever())
    try:
        yield
    finally:
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
app.register_lifespan_task(housekeeping)
