"""Yoom's own HTTP and WebSocket routes, served beside Reflex's through `api_transformer`."""

from __future__ import annotations

import importlib

from starlette.applications import Starlette
from starlette.routing import BaseRoute

ROUTE_MODULES = ("video_token", "rtc", "recordings")


def routes() -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for name in ROUTE_MODULES:
        try:  # TEMPORARY while the route modules are being written
            module = importlib.import_module(f"yoom.api.{name}")
        except ModuleNotFoundError:
            continue
        found.extend(module.routes)
    return found


def build_api() -> Starlette:
    return Starlette(routes=routes())
