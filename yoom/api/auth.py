"""Who is calling an HTTP or WebSocket route: the Yoom session, checked on the server."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from yoom import accounts
from yoom.models import User

SESSION_COOKIE = "yoom_session"


def session_token(conn: HTTPConnection) -> str | None:
    """The session token from `Authorization: Bearer …` or the `yoom_session` cookie."""
    header = conn.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return conn.cookies.get(SESSION_COOKIE) or None


def current_user(conn: HTTPConnection) -> User | None:
    return accounts.user_for_session(session_token(conn))
