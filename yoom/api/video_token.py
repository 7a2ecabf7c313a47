"""POST /api/video/token — a video token for the signed-in Yoom user, and nobody else.

The caller is identified only by the Yoom session (Bearer header or the HttpOnly `yoom_session` cookie,
from Yoom's own pages only), checked on the server; nothing in the request body or other headers can
choose the user. Works for both providers: the answer is `{token, room_token, api_key, user: {id, name, image},
provider, expires_at}`, plus `ice_servers` and `recording_max_bytes` for the local provider, whose token
also names the session (`sid`) so that signing out ends its meetings' passes.

`room_token` opens the room channel (`/api/rtc/{call_id}`: chat, hands, reactions; the mesh's signaling on
the embedded provider). It is signed with Yoom's own secret and bound to the session (`sid`) on both
providers — on the embedded one it is the video token itself; on Stream, a second token that Stream never
sees (and a Stream token never opens the room channel).

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

from yoom import accounts
from yoom.api.auth import current_user, forbidden_origin, same_origin, session_token, uses_cookie
from yoom.settings import SettingsError, get_settings
from yoom.video import get_provider, tokens
from yoom.video.base import VideoError, VideoProvider, VideoUser

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={**NO_STORE, **(headers or {})})


async def _upsert_quietly(provider: VideoProvider, user: VideoUser) -> None:
    """A background task: report, never raise (the provider remembers the failure and pauses retries)."""
    try:
        await provider.upsert_user(user)
    except VideoError as exc:
        log.warning("could not upsert video user %s on %s: %s", user.id, provider.name, exc)
    except Exception:
        log.exception("upserting video user %s failed", user.id)


async def token_endpoint(request: Request) -> JSONResponse:
    if uses_cookie(request) and not same_origin(request):
        return forbidden_origin()
    try:
        user = await asyncio.to_thread(current_user, request)
    except Exception:
        log.exception("session lookup failed")
        return _error(503, "Yoom can't check your sign-in right now. Please try again in a moment.")
    if user is None:
        return _error(401, "Sign in to join a meeting.", {"WWW-Authenticate": 'Bearer realm="yoom"'})

    try:
        provider = get_provider()
        sid = accounts.session_id(session_token(request))
        minted = provider.user_token(user.id, session_id=sid)
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

    video_user = accounts.video_user(user)
    body = {
        "token": minted.token,
        "room_token": room_token,
        "api_key": minted.api_key,
        "user": {"id": video_user.id, "name": video_user.name, "image": video_user.image},
        "provider": provider.name,
        "expires_at": minted.expires_at.isoformat(),
    }
    if provider.name == "local":
        settings = get_settings()
        body["ice_servers"] = settings.ice_servers
        body["recording_max_bytes"] = settings.recording_max_bytes
    background = BackgroundTask(_upsert_quietly, provider, video_user) if provider.needs_upsert(video_user) else None
    return JSONResponse(body, headers=NO_STORE, background=background)


routes = [Route("/api/video/token", token_endpoint, methods=["POST"])]
