"""The page decorator: one place that says how a route is registered and guarded.

`@page("/upcoming", "Upcoming meetings", on_load=Calls.load_upcoming)` registers a signed-in page: its
on_load first checks the session on the server (AuthState.check_login → sign-in page and back). The app
module adds every registered page once (yoom/yoom.py); Reflex's own @rx.page would re-add them on each
compile and warn that every page "is being redefined".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from yoom.state.base import AuthState


@dataclass(frozen=True)
class Page:
    render: Callable[[], rx.Component]
    route: str
    title: str
    on_load: list[Any] = field(default_factory=list)


PAGES: list[Page] = []


def page(route: str, title: str, *, on_load: Any = (), signed_in: bool = True) -> Callable:
    """Register the decorated function as the page at `route`, titled "{title} · Yoom"."""
    loads = list(on_load) if isinstance(on_load, list | tuple) else [on_load]
    if signed_in:
        loads.insert(0, AuthState.check_login)

    def register(render: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        PAGES.append(Page(render=render, route=route, title=f"{title} · Yoom", on_load=loads))
        return render

    return register


def add_pages(app: rx.App) -> None:
    for registered in PAGES:
        app.add_page(registered.render, route=registered.route, title=registered.title, on_load=registered.on_load)
