"""Fixtures for integration tests: the fake Stream server and a StreamProvider pointed at it."""

from __future__ import annotations

import pytest
import pytest_asyncio
from starlette.testclient import TestClient

from tests.fakestream import FakeStream
from tests.integration.local_helpers import build_app
from yoom.rtc.hub import Hub, set_hub
from yoom.video.stream_provider import StreamProvider

CLIENT_TIMEOUT = 0.3  # seconds; the fake's "timeout" fault sleeps longer than this
MAX_RETRIES = 2


@pytest.fixture
def fake():
    server = FakeStream().start()
    try:
        yield server
    finally:
        server.stop()
    # The fake checks its own answers against Stream's response schemas.
    assert server.violations == [], server.violations


def make_provider(fake: FakeStream, **overrides) -> StreamProvider:
    options = {
        "base_url": fake.base_url,
        "timeout_seconds": CLIENT_TIMEOUT,
        "max_retries": MAX_RETRIES,
        "backoff_base_seconds": 0.01,
        "backoff_max_seconds": 0.05,
    }
    options.update(overrides)
    api_key = options.pop("api_key", fake.api_key)
    api_secret = options.pop("api_secret", fake.api_secret)
    return StreamProvider(api_key, api_secret, **options)


@pytest_asyncio.fixture
async def provider(fake, yoom_env):
    """A StreamProvider on the fake, with Yoom's database (attendance) on a temp SQLite file."""
    made = make_provider(fake)
    try:
        yield made
    finally:
        await made.close()


# --- the local provider's routes (test_rtc_route, test_recordings_route) ---


@pytest.fixture
def local_env(yoom_env, monkeypatch):
    """The shared `yoom_env` (temp database and data folder, local provider, cheap bcrypt) with default room
    and upload limits, and no hub left over from another test."""
    import yoom.settings

    monkeypatch.delenv("YOOM_ROOM_CAPACITY", raising=False)
    monkeypatch.delenv("YOOM_RECORDING_MAX_MB", raising=False)
    yoom.settings.get_settings.cache_clear()
    set_hub(None)
    yield yoom_env
    set_hub(None)


@pytest.fixture
def hub(local_env):
    """The process hub the route uses, with the room features as get_hub() installs them; replace it with
    set_hub(Hub(...)) for other limits."""
    from yoom.rtc.room import RoomFeatures

    made = Hub()
    RoomFeatures(made).install()
    set_hub(made)
    return made


@pytest.fixture
def client(local_env, hub):
    # As a context manager, every connection shares one event loop, as in a real server.
    with TestClient(build_app()) as made:
        yield made
