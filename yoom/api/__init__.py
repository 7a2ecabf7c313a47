"""Yoom's own HTTP and WebSocket routes, served beside Reflex's through `api_transformer`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    from yoom.api import auth, health, recordings, rtc, video_token

    return [*auth.routes, *video_token.routes, *rtc.routes, *recordings.routes, *health.routes]


def build_api() -> Starlette:
    return Starlette(routes=routes())
