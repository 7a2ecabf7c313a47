"""Helpers for the local provider's route tests (their fixtures live in conftest.py): the routes in a
Starlette app, fast sign-ups, and WebSocket helpers that never block forever."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def build_app() -> Starlette:
    from yoom.api import recording_parts, recordings, rtc

    return Starlette(routes=[*rtc.routes, *recording_parts.routes, *recordings.routes])


def make_user(name: str):
    """A real account with a session (yoom.accounts): returns (User, session token)."""
    from tests.conftest import signed_up

    signed = signed_up(name.title(), name, "password123")
    return signed.user, signed.session_token


def provider():
    from yoom.video import get_provider

    return get_provider()


def token_for(user_id: str, **kwargs) -> str:
    """A video token as the token route mints it: for a live session of the user (none if there's no
    such account, as for a token whose session was signed out)."""
    from yoom import accounts

    session = None
    if accounts.get_user(user_id) is not None:
        session = accounts.session_id(accounts.create_session(user_id))
    return provider().mint_user_token(user_id, session_id=session, **kwargs).token


@contextmanager
def open_socket(client: TestClient, call_id: str, token: str | None):
    """The signaling socket of `call_id`, authenticated as the browser does: the token in the first frame."""
    with client.websocket_connect(f"/api/rtc/{call_id}") as ws:
        if token is not None:
            ws.send_text(json.dumps({"type": "auth", "token": token}))
        yield ws


def run(client: TestClient, fn, *args):
    """Run a coroutine function on the app's own event loop (where the hub's peers live)."""
    return client.portal.call(fn, *args)


def recv(ws, timeout: float = 10.0) -> dict[str, Any]:
    """The next frame as JSON; raises WebSocketDisconnect if the server closed; fails after `timeout`."""

    async def get():
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()

    message = ws.portal.call(get)
    ws._raise_on_close(message)
    return json.loads(message["text"])


def expect(ws, type_: str, timeout: float = 10.0) -> dict[str, Any]:
    frame = recv(ws, timeout)
    assert frame["type"] == type_, f"expected {type_}, got {frame}"
    return frame


def expect_close(ws, timeout: float = 10.0) -> tuple[int, list[dict[str, Any]]]:
    """Read until the server closes: (close code, frames received before it)."""
    frames = []
    try:
        while True:
            frames.append(recv(ws, timeout))
    except WebSocketDisconnect as closed:
        return closed.code, frames


def no_frame(ws, wait: float = 0.2) -> None:
    try:
        frame = recv(ws, wait)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected frame {frame}")
