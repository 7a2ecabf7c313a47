"""POST /api/guests — join one meeting as a guest: `{call_id, name}` → the HttpOnly `yoom_guest` cookie.

From Yoom's own pages only (Origin checked like every cookie route). Only for a meeting whose host lets
anyone with the link in (yoom/access_rules.py); the name is validated (yoom/guests.py) and guest joins are
limited per client address. Nothing is stored for a refused request. The guest's video token comes from
the token route, scoped to that meeting.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from yoom import accounts, guests, lobby
from yoom.access_rules import Entry
from yoom.api.auth import NO_STORE, client_address, current_user, forbidden_origin, json_body, same_origin
from yoom.video import get_provider
from yoom.video.base import VideoError, is_valid_call_id

log = logging.getLogger(__name__)

MAX_GUEST_BODY = 64 * 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=NO_STORE)


async def create_guest(request: Request) -> JSONResponse:
    if not same_origin(request):
        return forbidden_origin()
    # Roomier than other cookie routes: a pasted 10,000-character name gets words about its length.
    body = await json_body(request, max_bytes=MAX_GUEST_BODY)
    call_id, name = body.get("call_id"), body.get("name")
    if not is_valid_call_id(call_id):
        return _error(400, "That meeting link isn't valid.")
    try:
        guests.validate_name(name)
    except guests.GuestError as exc:
        return _error(400, str(exc))
    try:
        if await asyncio.to_thread(current_user, request) is not None:
            return _error(409, "You're signed in: join with your account.")
        meeting = await get_provider().get_call(call_id)
        if meeting is None or meeting.has_ended:
            return _error(404, "That meeting doesn't exist or has ended. Check the link.")
        at_door = await lobby.door(meeting, guests.GUEST_ID_PREFIX, is_guest=True)
        if at_door.entry in (Entry.SIGN_IN, Entry.NOT_ALLOWED):
            return _error(403, "This meeting is for people with a Yoom account. Sign in to join.")
        made = await asyncio.to_thread(guests.create, call_id, name, client_address(request))
    except guests.GuestError as exc:
        return _error(400, str(exc))
    except accounts.TooManyAttempts as exc:
        return _error(429, str(exc))
    except VideoError as exc:
        return _error(503, exc.user_message)
    except Exception:
        log.exception("creating a guest failed")
        return _error(503, "Yoom can't let you in as a guest right now. Please try again in a moment.")
    response = JSONResponse({"id": made.guest.id, "name": made.guest.name}, status_code=201, headers=NO_STORE)
    secure = request.url.scheme == "https"
    response.set_cookie(
        guests.GUEST_COOKIE,
        made.token,
        max_age=int(guests.GUEST_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return response


async def end_guest(request: Request) -> JSONResponse:
    """The guest leaves for good: their pass ends and the cookie is cleared."""
    if not same_origin(request):
        return forbidden_origin()
    await asyncio.to_thread(guests.end, request.cookies.get(guests.GUEST_COOKIE))
    response = JSONResponse({}, status_code=200, headers=NO_STORE)
    response.delete_cookie(guests.GUEST_COOKIE, path="/", httponly=True, samesite="lax")
    return response


routes = [
    Route("/api/guests", create_guest, methods=["POST"]),
    Route("/api/guests/leave", end_guest, methods=["POST"]),
]
