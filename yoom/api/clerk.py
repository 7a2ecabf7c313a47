"""POST /api/auth/clerk — a Clerk session token in, Yoom's session cookie out (Clerk mode only).

The page's bridge (assets/clerk_bridge.jsx) posts `{"token": "<Clerk session token>"}` when Clerk reports a
signed-in session, and again with a fresh token every `refresh_in` seconds while the page is open. The token
is verified here (yoom.clerk); then:

* the cookie already holds a live Yoom session of this Clerk session (same user, same `sid`): it is
  extended by CLERK_SESSION_TTL_SECONDS → 200 {"reload": false, "refresh_in": …};
* otherwise the user's profile is read (from the token, or Clerk's Backend API), the Yoom user upserted
  under the Clerk user id, a session bound to the `sid` created (any other session the cookie held is
  revoked) and the cookie set → 200 {"reload": true, …}: the page reloads so that Reflex's event socket
  reconnects with the cookie.

So a Yoom session made from Clerk lasts CLERK_SESSION_TTL_SECONDS past the last fresh token: once the
Clerk session ends (sign-out, revoked, expired), no fresh token comes and the Yoom session lapses within
that time, if the bridge hasn't ended it at once through POST /api/auth/sign-out.

Refusals are 401 {"error": "…why…"} with no cookie and no user created; Clerk out of reach is a 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from yoom import accounts
from yoom.api.auth import SESSION_COOKIE, forbidden_origin, own_origin, same_origin, set_session_cookie
from yoom.clerk import ClerkError, ClerkProfile, ClerkUnavailable, InvalidToken, SessionClaims, UnknownUser, get_clerk
from yoom.settings import DEV_FRONTEND_ORIGINS, Settings, get_settings

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}
MAX_BODY = 16 * 1024  # a session token with custom claims stays well under this
PROFILE_REFRESH_SECONDS = 600  # while signed in, Clerk's copy of a profile is read again at most this often
_profile_read_at: dict[str, float] = {}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=NO_STORE)


def authorized_parties(request: Request, settings: Settings) -> list[str]:
    """Origins whose Clerk tokens Yoom takes (`azp`): CLERK_AUTHORIZED_PARTIES, else YOOM_PUBLIC_URL's,
    else the address this request came to and the development frontend."""
    if settings.clerk and settings.clerk.authorized_parties:
        return list(settings.clerk.authorized_parties)
    if settings.public_origin:
        return [settings.public_origin]
    return [own_origin(request), *DEV_FRONTEND_ORIGINS]


async def _token_from_body(request: Request) -> object:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    return data.get("token") if isinstance(data, dict) else None


async def _profile(claims: SessionClaims) -> ClerkProfile:
    return claims.profile() or await get_clerk().fetch_user(claims.user_id)


async def _save_profile(claims: SessionClaims) -> accounts.User:
    profile = await _profile(claims)
    user = await asyncio.to_thread(
        accounts.upsert_external_user,
        accounts.CLERK,
        claims.user_id,
        username=profile.username,
        email=profile.email,
        image_url=profile.image_url,
    )
    if len(_profile_read_at) > 50_000:
        _profile_read_at.clear()
    _profile_read_at[claims.user_id] = time.monotonic()
    return user


async def _refresh_profile_quietly(claims: SessionClaims) -> None:
    """A background task: a renamed Clerk user is renamed here too, without delaying the answer."""
    try:
        await _save_profile(claims)
    except Exception as exc:
        log.warning("refreshing the profile of Clerk user %s failed: %s", claims.user_id, exc)


def _signed_in(request: Request, token: str, *, reload: bool, background: BackgroundTask | None = None):
    clerk = get_settings().clerk
    response = JSONResponse(
        {"reload": reload, "refresh_in": clerk.refresh_seconds}, headers=NO_STORE, background=background
    )
    set_session_cookie(response, request, token, max_age=clerk.session_ttl_seconds)
    return response


async def clerk_session(request: Request) -> JSONResponse:
    settings = get_settings()
    if settings.clerk is None:
        return _error(404, "Clerk sign-in is off on this Yoom (CLERK_PUBLISHABLE_KEY and CLERK_SECRET_KEY unset).")
    if not same_origin(request):
        return forbidden_origin()
    token = await _token_from_body(request)
    try:
        claims = await get_clerk().verify(token, authorized_parties(request, settings))
    except InvalidToken as exc:
        log.info("refused a Clerk token: %s", exc)
        return _error(401, str(exc))
    except ClerkUnavailable as exc:
        return _error(503, str(exc))

    ttl = settings.clerk.session_ttl_seconds
    current = request.cookies.get(SESSION_COOKIE)
    try:
        if current and await asyncio.to_thread(
            accounts.extend_provider_session, current, claims.user_id, claims.session_id, ttl
        ):
            due = time.monotonic() - _profile_read_at.get(claims.user_id, float("-inf")) > PROFILE_REFRESH_SECONDS
            background = BackgroundTask(_refresh_profile_quietly, claims) if due else None
            return _signed_in(request, current, reload=False, background=background)
        user = await _save_profile(claims)
        session = await asyncio.to_thread(
            accounts.create_session, user.id, ttl_seconds=ttl, provider_session_id=claims.session_id
        )
        if current:
            # Another person, or another Clerk session, signed in in this browser: the old session ends.
            await asyncio.to_thread(accounts.sign_out, current)
    except UnknownUser as exc:
        return _error(401, str(exc))
    except ClerkUnavailable as exc:
        return _error(503, str(exc))
    except (ClerkError, accounts.AccountError) as exc:
        return _error(409, str(exc))
    except Exception:
        log.exception("signing in Clerk user %s failed", claims.user_id)
        return _error(503, "Yoom can't sign you in right now. Please try again in a moment.")
    return _signed_in(request, session, reload=True)


routes = [Route("/api/auth/clerk", clerk_session, methods=["POST"])]
