"""POST /api/video/token — a video token for the signed-in Yoom user, and nobody else.

The caller is identified only by the Yoom session (Bearer header or `yoom_session` cookie), checked on
the server; nothing in the request body or other headers can choose the user. Works for both providers:
the answer is `{token, api_key, user: {id, name, image}, provider, expires_at}`, plus `ice_servers` for the
local provider.

The user is upserted on the provider (same id, name and image) at most once per process for each
(provider, user, name, image): after the response is sent, as a background task, so a token never waits on
Stream. If that upsert fails it is simply tried again on the user's next token request.
"""

from __future__ import annotations

import logging
import weakref
from collections import OrderedDict

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from yoom.api.auth import current_user
from yoom.settings import SettingsError, get_settings
from yoom.video import get_provider
from yoom.video.base import VideoError, VideoProvider, VideoUser

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}
SYNCED_CACHE_SIZE = 10_000

UserKey = tuple[str, str, "str | None"]

# Per provider instance (a test or a settings change builds a new one): users already upserted / being upserted.
_synced: "weakref.WeakKeyDictionary[VideoProvider, OrderedDict[UserKey, None]]" = weakref.WeakKeyDictionary()
_in_flight: "weakref.WeakKeyDictionary[VideoProvider, set[UserKey]]" = weakref.WeakKeyDictionary()


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={**NO_STORE, **(headers or {})})


def _needs_sync(provider: VideoProvider, key: UserKey) -> bool:
    synced = _synced.get(provider)
    if synced is not None and key in synced:
        return False
    in_flight = _in_flight.setdefault(provider, set())
    if key in in_flight:
        return False
    in_flight.add(key)
    return True


async def _sync_user(provider: VideoProvider, user: VideoUser) -> None:
    key: UserKey = (user.id, user.name, user.image)
    try:
        await provider.upsert_user(user)
    except VideoError as exc:
        log.warning("could not upsert video user %s on %s: %s", user.id, provider.name, exc)
    except Exception:  # never let a background task's error go unreported
        log.exception("upserting video user %s failed", user.id)
    else:
        synced = _synced.setdefault(provider, OrderedDict())
        synced[key] = None
        while len(synced) > SYNCED_CACHE_SIZE:
            synced.popitem(last=False)
    finally:
        _in_flight.get(provider, set()).discard(key)


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
        minted = provider.mint_user_token(user.id)
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
        body["ice_servers"] = get_settings().ice_servers
    key: UserKey = (video_user.id, video_user.name, video_user.image)
    background = BackgroundTask(_sync_user, provider, video_user) if _needs_sync(provider, key) else None
    return JSONResponse(body, headers=NO_STORE, background=background)


routes = [Route("/api/video/token", token_endpoint, methods=["POST"])]
