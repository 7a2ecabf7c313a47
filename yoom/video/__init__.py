"""The process's video provider, chosen by settings (VIDEO_PROVIDER, or Stream keys present)."""

from __future__ import annotations

from functools import lru_cache

from yoom.settings import Settings, get_settings
from yoom.video.base import VideoProvider


def build_provider(settings: Settings) -> VideoProvider:
    if settings.video_provider == "stream":
        from yoom.video.stream_provider import StreamProvider

        return StreamProvider.from_settings(settings)
    from yoom.video.local_provider import LocalProvider

    return LocalProvider.from_settings(settings)


@lru_cache(maxsize=1)
def get_provider() -> VideoProvider:
    """One provider (and so one HTTP client) per process, not per request."""
    return build_provider(get_settings())
