"""Fixtures for integration tests: the fake Stream server and a StreamProvider pointed at it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_asyncio

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakestream import FakeStream  # noqa: E402
from yoom.video.stream_provider import StreamProvider  # noqa: E402

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
    options = dict(
        base_url=fake.base_url,
        timeout_seconds=CLIENT_TIMEOUT,
        max_retries=MAX_RETRIES,
        backoff_base_seconds=0.01,
        backoff_max_seconds=0.05,
    )
    options.update(overrides)
    api_key = options.pop("api_key", fake.api_key)
    api_secret = options.pop("api_secret", fake.api_secret)
    return StreamProvider(api_key, api_secret, **options)


@pytest_asyncio.fixture
async def provider(fake):
    made = make_provider(fake)
    try:
        yield made
    finally:
        await made.close()
