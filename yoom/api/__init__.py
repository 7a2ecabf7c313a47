"""Yoom's own HTTP and WebSocket routes, served beside Reflex's through `api_transformer`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    from yoom.api import auth, clerk, guests, health, recording_parts, recordings, rtc, video_token

    return [
        *auth.routes,
        *clerk.routes,
        *video_token.routes,
        *guests.routes,
        *rtc.routes,
        *recording_parts.routes,  # before /api/recordings/{id}, which would also match their paths
        *recordings.routes,
        *health.routes,
    ]


def build_api() -> Starlette:
    return Starlette(routes=routes())
