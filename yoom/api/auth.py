"""Who is calling an HTTP or WebSocket route, from where, and the session cookie's two routes.

The session lives in an HttpOnly, SameSite=Lax cookie (`yoom_session`) that only these routes set and
clear, so page JavaScript never holds it:

POST /api/auth/session   {"ticket": "…"} → 204 + Set-Cookie. The ticket comes from a sign-in form's
                         handler (yoom.accounts.issue_sign_in_ticket), is spent here and lives 60 s.
POST /api/auth/sign-out  → 204, the session revoked on the server and the cookie cleared.

Every route that acts on the cookie checks that the request comes from Yoom's own pages
(`same_origin`): a page on another origin — a sibling subdomain, another port — gets 403.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from yoom import accounts, guests
from yoom.models import User
from yoom.settings import get_settings

log = logging.getLogger(__name__)

SESSION_COOKIE = "yoom_session"
FOREIGN_ORIGIN = "This request didn't come from Yoom's own pages."
NO_STORE = {"Cache-Control": "no-store"}
MAX_BODY = 4096


def session_token_from_cookie_header(header: str | None) -> str | None:
    """The session token in a raw `Cookie:` header (Reflex hands handlers the event socket's headers)."""
    if not header or not isinstance(header, str):
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed header from some other app on the same host: no session
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel and morsel.value else None


def guest_token_from_cookie_header(header: str | None) -> str | None:
    """The guest pass (`yoom_guest`, yoom/guests.py) in a raw `Cookie:` header."""
    if not header or not isinstance(header, str):
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:
        return None
    morsel = jar.get(guests.GUEST_COOKIE)
    return morsel.value if morsel and morsel.value else None


def session_token(conn: HTTPConnection) -> str | None:
    """The session token from `Authorization: Bearer …` or the `yoom_session` cookie."""
    header = conn.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return conn.cookies.get(SESSION_COOKIE) or None


def uses_cookie(conn: HTTPConnection) -> bool:
    """A browser's cookie, not an explicit Bearer header (which another site can't make a browser send)."""
    return not conn.headers.get("authorization", "").lower().startswith("bearer ")


def current_user(conn: HTTPConnection) -> User | None:
    """Blocking (SQL): call it through asyncio.to_thread from a route."""
    return accounts.user_for_session(session_token(conn))


def client_address(conn: HTTPConnection) -> str:
    """The caller's address: the socket's peer, or the X-Forwarded-For entry added by the outermost of
    YOOM_TRUSTED_PROXY_HOPS trusted proxies (the rest of that header is the client's to invent)."""
    peer = conn.client.host if conn.client else ""
    hops = get_settings().trusted_proxy_hops
    if hops:
        forwarded = [part.strip() for part in conn.headers.get("x-forwarded-for", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return peer or "unknown"


def _own_origin(conn: HTTPConnection) -> str:
    scheme = conn.url.scheme
    if get_settings().trusted_proxy_hops:
        scheme = conn.headers.get("x-forwarded-proto", scheme).split(",")[0].strip() or scheme
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return f"{scheme}://{conn.headers.get('host', '')}"


def own_origin(conn: HTTPConnection) -> str:
    """The origin the request was addressed to (behind trusted proxies, the scheme they saw)."""
    return _own_origin(conn)


def origin_allowed(origin: str | None, own_origin: str) -> bool:
    """Yoom's pages: the request's own origin, YOOM_PUBLIC_URL's, or (no public URL) the dev frontend's."""
    if not origin or origin == "null":
        return False
    return origin == own_origin or origin in get_settings().allowed_origins


def same_origin(conn: HTTPConnection) -> bool:
    """Whether a cookie-carrying request comes from Yoom's own pages.

    Browsers send Origin with every POST, CORS request and WebSocket. A GET without it (a <video src>)
    is judged by Sec-Fetch-Site, then by its Referer; following a link (a top-level navigation) is fine:
    the page that held the link can't read what loads. A request with none of these headers comes from
    no browser page (curl, a server), which can't borrow anyone's cookie."""
    origin = conn.headers.get("origin")
    own = _own_origin(conn)
    if origin is not None:
        return origin_allowed(origin, own)
    site = conn.headers.get("sec-fetch-site")
    if site in (None, "same-origin", "none"):
        return True
    if conn.scope.get("method") == "GET" and conn.headers.get("sec-fetch-mode") == "navigate":
        return True
    referer = urlsplit(conn.headers.get("referer", ""))
    return bool(referer.scheme) and origin_allowed(f"{referer.scheme}://{referer.netloc}", own)


def socket_origin_allowed(origin: str | None, environ: dict) -> bool:
    """The same rule for Reflex's event socket (engine.io's `cors_allowed_origins` callable)."""
    if origin is None:
        return True  # not a browser
    scheme = environ.get("wsgi.url_scheme", "http")
    if get_settings().trusted_proxy_hops:
        scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip() or scheme
    return origin_allowed(origin, f"{scheme}://{environ.get('HTTP_HOST', '')}")


def forbidden_origin() -> JSONResponse:
    return JSONResponse({"error": FOREIGN_ORIGIN}, status_code=403, headers=NO_STORE)


def set_session_cookie(response: Response, conn: HTTPConnection, token: str, max_age: int | None = None) -> None:
    settings = get_settings()
    secure = conn.url.scheme in ("https", "wss") or (settings.public_url or "").startswith("https://")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age or settings.session_ttl_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


async def json_body(request: Request, max_bytes: int = MAX_BODY) -> dict:
    """A small JSON object body (at most `max_bytes`), or {} for anything else."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return {}
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def start_session(request: Request) -> Response:
    """Exchange a sign-in ticket for the session cookie."""
    if not same_origin(request):
        return forbidden_origin()
    ticket = (await json_body(request)).get("ticket")
    try:
        signed_in = await asyncio.to_thread(accounts.redeem_sign_in_ticket, ticket)
    except Exception:
        log.exception("redeeming a sign-in ticket failed")
        return JSONResponse(
            {"error": "Yoom can't sign you in right now. Please try again in a moment."},
            status_code=503,
            headers=NO_STORE,
        )
    if signed_in is None:
        return JSONResponse(
            {"error": "That sign-in took too long or was already used. Sign in again."},
            status_code=401,
            headers=NO_STORE,
        )
    response = Response(status_code=204, headers=NO_STORE)
    set_session_cookie(response, request, signed_in.session_token)
    return response


async def end_session(request: Request) -> Response:
    """Sign out: the session is revoked on the server and the cookie cleared."""
    if not same_origin(request):
        return forbidden_origin()
    token = session_token(request)
    if token:
        await asyncio.to_thread(accounts.sign_out, token)
    response = Response(status_code=204, headers=NO_STORE)
    clear_session_cookie(response)
    return response


routes = [
    Route("/api/auth/session", start_session, methods=["POST"]),
    Route("/api/auth/sign-out", end_session, methods=["POST"]),
]
