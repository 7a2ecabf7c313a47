"""POST /api/video/token — a video token for the signed-in Yoom user, and nobody else.

The caller is identified only by the Yoom session (Bearer header or `yoom_session` cookie), checked on
the server; nothing in the request body or other headers can choose the user. Works for both providers:
the answer is `{token, api_key, user: {id, name, image}, provider, expires_at}`, plus `ice_servers` for the
local provider.

The user is upserted on the provider (same id, name and image) at most once per process for each
(provider, user, name, image): after the response is sent, as a background task, so a token never waits on
Stream. If that upsert fails it is tried again on a later token request (after a short pause, so an outage
does not turn every token request into another call to Stream).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import OrderedDict

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from yoom.api.auth import current_user
from yoom.settings import SettingsError, get_settings
from yoom.video import get_provider
from yoom.video.base import UserToken, VideoError, VideoProvider, VideoUser

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}
SYNCED_CACHE_SIZE = 10_000
RETRY_FAILED_UPSERT_AFTER_SECONDS = 30.0  # after a failed upsert, don't ask again on every token request
IN_FLIGHT_STALE_SECONDS = 120.0  # an upsert that never ran (client gone before the response) is forgotten
# A token minted less than this long ago is handed out again (to the same user only): minting is a
# measurable share of the route's time, and the token's `exp` stays within this of now + TTL.
TOKEN_REUSE_SECONDS = 30.0

UserKey = tuple[str, str, "str | None"]

# Per provider instance (a test or a settings change builds a new one): users already upserted / being upserted.
_synced: weakref.WeakKeyDictionary[VideoProvider, OrderedDict[UserKey, None]] = weakref.WeakKeyDictionary()
_in_flight: weakref.WeakKeyDictionary[VideoProvider, dict[UserKey, float]] = weakref.WeakKeyDictionary()
_failed: weakref.WeakKeyDictionary[VideoProvider, dict[UserKey, float]] = weakref.WeakKeyDictionary()
_minted: weakref.WeakKeyDictionary[VideoProvider, OrderedDict[str, tuple[float, UserToken]]] = (
    weakref.WeakKeyDictionary()
)


def _token_for(provider: VideoProvider, user_id: str) -> UserToken:
    cache = _minted.get(provider)
    if cache is None:
        cache = _minted.setdefault(provider, OrderedDict())
    now = time.monotonic()
    hit = cache.get(user_id)
    if hit is not None and now - hit[0] < TOKEN_REUSE_SECONDS:
        return hit[1]
    minted = provider.mint_user_token(user_id)
    cache[user_id] = (now, minted)
    cache.move_to_end(user_id)
    if len(cache) > SYNCED_CACHE_SIZE:
        cache.popitem(last=False)
    return minted


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={**NO_STORE, **(headers or {})})


def _needs_sync(provider: VideoProvider, key: UserKey) -> bool:
    synced = _synced.get(provider)
    if synced is not None and key in synced:
        return False
    now = time.monotonic()
    in_flight = _in_flight.setdefault(provider, {})
    if key in in_flight and now - in_flight[key] < IN_FLIGHT_STALE_SECONDS:
        return False
    failed = _failed.get(provider)
    if failed and key in failed:
        if now - failed[key] < RETRY_FAILED_UPSERT_AFTER_SECONDS:
            return False
        del failed[key]
    in_flight[key] = now
    if len(in_flight) > SYNCED_CACHE_SIZE:
        in_flight.clear()
    return True


async def _sync_user(provider: VideoProvider, user: VideoUser) -> None:
    key: UserKey = (user.id, user.name, user.image)
    try:
        await provider.upsert_user(user)
    except Exception as exc:  # a background task: report, remember, never raise
        if isinstance(exc, VideoError):
            log.warning("could not upsert video user %s on %s: %s", user.id, provider.name, exc)
        else:
            log.exception("upserting video user %s failed", user.id)
        failed = _failed.setdefault(provider, {})
        failed[key] = time.monotonic()
        if len(failed) > SYNCED_CACHE_SIZE:
            failed.clear()
    else:
        synced = _synced.setdefault(provider, OrderedDict())
        synced[key] = None
        while len(synced) > SYNCED_CACHE_SIZE:
            synced.popitem(last=False)
    finally:
        _in_flight.get(provider, {}).pop(key, None)


async def token_endpoint(request: Request) -> JSONResponse:
    try:
        user = current_user(request)
    except Exception:
        log.exception("session lookup failed")
        return _error(503, "Yoom can't check your sign-in right now. Please try again in a moment.")
    if user is None:
        return _error(401, "Sign in to join a meeting.", {"WWW-Authenticate": 'Bearer realm="yoom"'})

    try:
        provider = get_provider()
        minted = _token_for(provider, user.id)
    except VideoError as exc:
        log.warning("minting a video token for %s failed: %s", user.id, exc)
        return _error(503, exc.user_message)
    except SettingsError as exc:  # written for people: names the variable and where to set it
        log.error("video provider misconfigured: %s", exc)
        return _error(503, f"Video isn't set up correctly on this server. {exc}")
    except Exception:
        log.exception("video provider unavailable")
        return _error(503, VideoError.user_message)

    video_user = VideoUser(id=user.id, name=user.display_name, image=user.image_url)
    body = {
        "token": minted.token,
        "api_key": minted.api_key,
        "user": {"id": video_user.id, "name": video_user.name, "image": video_user.image},
        "provider": provider.name,
        "expires_at": minted.expires_at.isoformat(),
    }
    if provider.name == "local":
        settings = get_settings()
        body["ice_servers"] = settings.ice_servers
        body["recording_max_bytes"] = settings.recording_max_bytes
    key: UserKey = (video_user.id, video_user.name, video_user.image)
    background = BackgroundTask(_sync_user, provider, video_user) if _needs_sync(provider, key) else None
    return JSONResponse(body, headers=NO_STORE, background=background)


routes = [Route("/api/video/token", token_endpoint, methods=["POST"])]
