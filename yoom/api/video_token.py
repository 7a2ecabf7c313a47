"""POST /api/video/token — a video token for the signed-in Yoom user, and nobody else.

The caller is identified only by the Yoom session (Bearer header or the HttpOnly `yoom_session` cookie,
from Yoom's own pages only), checked on the server; nothing in the request body or other headers can
choose the user. Works for both providers: the answer is `{token, room_token, api_key, user: {id, name, image},
provider, expires_at, guest}`, plus `ice_servers`, `ice_transport_policy` and `recording_max_bytes` for the local
provider, whose token also names the session (`sid`) so that signing out ends its meetings' passes. With
YOOM_TURN_SECRET, `ice_servers` carries this person's own TURN credentials, valid as long as the token.

`room_token` opens the room channel (`/api/rtc/{call_id}`: chat, hands, reactions; the mesh's signaling on
the embedded provider). It is signed with Yoom's own secret and bound to the session (`sid`) on both
providers — on the embedded one it is the video token itself; on Stream, a second token that Stream never
sees (and a Stream token never opens the room channel).

The body may name the meeting the token is for (`{"call_id": …}`, never in the URL): then the person gets
none until they may be in it now (yoom/lobby.py's rule: removals, who may join, the lobby) — 403 with words —
and then the provider's `call_token`: on Stream, a token that opens that one call for minutes (Stream can't
ask Yoom who is admitted; a token naming no call opens no Yoom meeting there).
A guest (the HttpOnly `yoom_guest` cookie, yoom/guests.py, no session) must name their own meeting and
gets a token scoped to it (`call_cids`) that lasts minutes (renewed by the page while in the call).

A provider that keeps its own copy of users (Stream) is told about the user after the response is sent,
as a background task, when it says it needs to (`VideoProvider.needs_upsert`): a token never waits on
Stream, and the provider keeps the one record of who is already upserted.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from yoom import accounts, guests, lobby
from yoom.api.auth import current_user, forbidden_origin, json_body, same_origin, session_token, uses_cookie
from yoom.settings import SettingsError, get_settings
from yoom.video import get_provider, tokens, turn
from yoom.video.base import Meeting, VideoError, VideoProvider, VideoUser, is_valid_call_id

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={**NO_STORE, **(headers or {})})


async def _upsert_quietly(provider: VideoProvider, user: VideoUser, guest: bool = False) -> None:
    """A background task: report, never raise (the provider remembers the failure and pauses retries)."""
    try:
        await (provider.upsert_guest(user) if guest else provider.upsert_user(user))
    except VideoError as exc:
        log.warning("could not upsert video user %s on %s: %s", user.id, provider.name, exc)
    except Exception:
        log.exception("upserting video user %s failed", user.id)


async def _requested_call(request: Request) -> str | JSONResponse | None:
    """The meeting the token is for: `{"call_id": …}` in the body (never the URL), or None for none."""
    body = await json_body(request)
    call_id = body.get("call_id")
    if call_id is None:
        return None
    if not is_valid_call_id(call_id):
        return _error(400, "That meeting ID isn't valid.")
    return call_id


async def _door(provider: VideoProvider, call_id: str, person_id: str, *, is_guest: bool) -> Meeting | JSONResponse:
    """The meeting when this person may be in it now; else 403 (or 404) with words: the lobby, who may
    join, removals."""
    meeting = await provider.get_call(call_id)
    words = await lobby.refusal(meeting, person_id, is_guest=is_guest)
    if meeting is None:
        return _error(404, words)
    return meeting if words is None else _error(403, words)


async def _guest_token(request: Request, call_id: str | None) -> JSONResponse:
    """A guest's token: for their one call only (`call_cids`), short-lived, once they are let in."""
    try:
        guest = await asyncio.to_thread(guests.guest_for_token, request.cookies.get(guests.GUEST_COOKIE))
    except Exception:
        log.exception("guest lookup failed")
        return _error(503, "Yoom can't check your guest pass right now. Please try again in a moment.")
    if guest is None:
        return _error(401, "Sign in, or open the meeting's link again to join as a guest.")
    if call_id != guest.call_id:
        return _error(403, "Your guest pass is for another meeting.")
    try:
        provider = get_provider()
        meeting = await _door(provider, call_id, guest.id, is_guest=True)
        if isinstance(meeting, JSONResponse):
            return meeting
        ttl = guests.GUEST_TOKEN_TTL_SECONDS
        minted = provider.mint_guest_token(guest.id, [meeting.cid], ttl)
        room_token = minted.token
        if provider.name != "local":
            room_token, _ = tokens.mint(get_settings().local_video_secret, guest.id, ttl, call_cids=[meeting.cid])
    except VideoError as exc:
        log.warning("minting a guest token for %s failed: %s", guest.id, exc)
        return _error(503, exc.user_message)
    except Exception:
        log.exception("guest token failed")
        return _error(503, VideoError.user_message)
    video_user = guests.video_user(guest)
    return _answer(provider, minted, room_token, video_user, guest=True)


def _answer(provider: VideoProvider, minted, room_token: str, video_user: VideoUser, *, guest: bool) -> JSONResponse:
    body = {
        "token": minted.token,
        "room_token": room_token,
        "api_key": minted.api_key,
        "user": {"id": video_user.id, "name": video_user.name, "image": video_user.image},
        "provider": provider.name,
        "expires_at": minted.expires_at.isoformat(),
        "guest": guest,
    }
    if provider.name == "local":
        settings = get_settings()
        # This person's own TURN credentials (YOOM_TURN_SECRET), expiring with the token they come with.
        body["ice_servers"] = turn.ice_servers(
            settings.ice_servers,
            settings.turn_urls,
            settings.turn_secret,
            video_user.id,
            int(minted.expires_at.timestamp()),
        )
        body["ice_transport_policy"] = settings.ice_transport_policy
        body["recording_max_bytes"] = settings.recording_max_bytes
    needs = provider.needs_upsert(video_user)
    background = BackgroundTask(_upsert_quietly, provider, video_user, guest) if needs else None
    return JSONResponse(body, headers=NO_STORE, background=background)


async def token_endpoint(request: Request) -> JSONResponse:
    if uses_cookie(request) and not same_origin(request):
        return forbidden_origin()
    call_id = await _requested_call(request)
    if isinstance(call_id, JSONResponse):
        return call_id
    try:
        user = await asyncio.to_thread(current_user, request)
    except Exception:
        log.exception("session lookup failed")
        return _error(503, "Yoom can't check your sign-in right now. Please try again in a moment.")
    if user is None and uses_cookie(request) and request.cookies.get(guests.GUEST_COOKIE):
        return await _guest_token(request, call_id)
    if user is None:
        return _error(401, "Sign in to join a meeting.", {"WWW-Authenticate": 'Bearer realm="yoom"'})

    try:
        provider = get_provider()
        sid = accounts.session_id(session_token(request))
        if call_id is None:
            minted = provider.user_token(user.id, session_id=sid)
        else:
            meeting = await _door(provider, call_id, user.id, is_guest=False)
            if isinstance(meeting, JSONResponse):
                return meeting
            minted = provider.call_token(user.id, meeting, session_id=sid)
        if provider.name == "local":
            room_token = minted.token
        else:
            settings = get_settings()
            room_token, _ = tokens.mint(
                settings.local_video_secret, user.id, settings.video_token_ttl_seconds, session_id=sid
            )
    except VideoError as exc:
        log.warning("minting a video token for %s failed: %s", user.id, exc)
        return _error(503, exc.user_message)
    except SettingsError as exc:  # written for people: names the variable and where to set it
        log.error("video provider misconfigured: %s", exc)
        return _error(503, f"Video isn't set up correctly on this server. {exc}")
    except Exception:
        log.exception("video provider unavailable")
        return _error(503, VideoError.user_message)

    return _answer(provider, minted, room_token, accounts.video_user(user), guest=False)


routes = [Route("/api/video/token", token_endpoint, methods=["POST"])]
