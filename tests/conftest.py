"""Shared fixtures: a throwaway database and data folder per test."""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

ROOT = Path(__file__).resolve().parents[1]
BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


def _run_order(item) -> tuple[int, int]:
    """Unit and integration tests first: Playwright's sync API keeps an event loop running in the main
    thread for as long as the browser is open, which asyncio tests can't share. Then the browser tests,
    grouped by the app they need: the default one, a small-room one, the Stream one, the Clerk one."""
    if BROWSER_TESTS not in Path(str(item.fspath)).parents:
        return (0, 0)
    if item.get_closest_marker("stream_app"):
        return (1, 2)
    if item.get_closest_marker("clerk_app"):
        return (1, 3)
    return (1, 1 if "small_room_url" in item.fixturenames else 0)


def pytest_collection_modifyitems(items):
    items.sort(key=_run_order)
    for item in items:
        if _run_order(item)[0] == 1:
            # Real Chromium and WebRTC on 2 shared cores: one retry for a timing hiccup, never more.
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))


@pytest.fixture(autouse=True)
def _own_accounts_unless_a_test_says_clerk(monkeypatch):
    """Yoom's own accounts in every test, whatever a developer's .env says (an empty value wins over .env);
    a test that wants Clerk sets CLERK_* itself."""
    import yoom.settings

    for name in yoom.settings.CLERK_SETTINGS:
        monkeypatch.setenv(name, "")
    yoom.settings.get_settings.cache_clear()


@pytest.fixture
def yoom_env(tmp_path, monkeypatch):
    """Settings pointed at tmp_path (SQLite, data dir, local provider), caches cleared, tables made."""
    import yoom.clerk
    import yoom.db
    import yoom.settings
    import yoom.video

    for name in (
        "VIDEO_PROVIDER",
        "STREAM_API_KEY",
        "STREAM_API_SECRET",
        "STREAM_BASE_URL",
        "YOOM_PUBLIC_URL",
        "YOOM_LOGIN_MAX_FAILURES",
        "YOOM_LOGIN_MAX_DELAY_SECONDS",
        "YOOM_SESSION_TTL_HOURS",
        "YOOM_SIGNUPS_PER_HOUR",
        "YOOM_TRUSTED_PROXY_HOPS",
        "REFLEX_DB_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/yoom.db")
    monkeypatch.setenv("YOOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIDEO_PROVIDER", "local")
    # bcrypt's cost only slows the suite: hashes made in tests use the cheapest rounds.
    real_gensalt = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda rounds=4, prefix=b"2b": real_gensalt(4, prefix))

    def reset():
        yoom.settings.get_settings.cache_clear()
        yoom.db.get_engine.cache_clear()
        # A test may have replaced get_provider with a fake (which has no cache to clear).
        getattr(yoom.video.get_provider, "cache_clear", lambda: None)()
        yoom.clerk.get_clerk.cache_clear()

    reset()
    engine = yoom.db.get_engine()
    SQLModel.metadata.create_all(engine)
    # Tables from the models, marked as the committed migrations' head (tests/integration/test_migrations.py
    # proves the two agree): the app's start-up migration then finds nothing to do, as on a migrated database.
    with engine.begin() as conn:
        MigrationContext.configure(conn).stamp(ScriptDirectory(str(ROOT / "alembic")), "head")
    yield tmp_path
    yoom.db.get_engine().dispose()
    reset()


def signed_up(display_name: str, username: str, password: str = "password one"):
    """A new account with a session, as the sign-up form and the cookie route make it together:
    returns yoom.accounts.SignedIn (the user and the session token its cookie would hold)."""
    from yoom import accounts

    user = accounts.sign_up(display_name, username, password)
    return accounts.SignedIn(user=user, session_token=accounts.create_session(user.id))


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server on a free loopback port for the whole run (tests/support/redis_server.py)."""
    from tests.support.redis_server import MISSING, REDIS_SERVER, RedisServer

    if not REDIS_SERVER:
        pytest.skip(MISSING)
    server = RedisServer().start()
    yield server
    server.stop()
