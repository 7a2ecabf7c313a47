"""Yoom on PostgreSQL: the committed migrations, accounts and the local provider on a real server.

Runs when YOOM_TEST_POSTGRES_URL names a server where that role may create databases (bash .ci/run
installs and starts one); elsewhere it is skipped and says how to run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy

from tests.conftest import signed_up

ROOT = Path(__file__).resolve().parents[2]
SERVER_URL = os.environ.get("YOOM_TEST_POSTGRES_URL", "")

pytestmark = pytest.mark.skipif(
    not SERVER_URL, reason="set YOOM_TEST_POSTGRES_URL=postgresql://user:pass@host/postgres to test on PostgreSQL"
)


@pytest.fixture
def postgres_env(tmp_path, monkeypatch):
    import yoom.db
    import yoom.settings
    import yoom.video

    name = f"yoom_test_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = sqlalchemy.make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "YOOM_DATA_DIR": str(tmp_path),
        "VIDEO_PROVIDER": "local",
        "STREAM_API_KEY": "",
        "STREAM_API_SECRET": "",
    }
    migrate = subprocess.run(
        [str(Path(sys.executable).parent / "reflex"), "db", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    for key in ("DATABASE_URL", "YOOM_DATA_DIR", "VIDEO_PROVIDER"):
        monkeypatch.setenv(key, env[key])
    yoom.settings.get_settings.cache_clear()
    yoom.db.get_engine.cache_clear()
    yoom.video.get_provider.cache_clear()
    yield url
    yoom.db.get_engine().dispose()
    yoom.settings.get_settings.cache_clear()
    yoom.db.get_engine.cache_clear()
    yoom.video.get_provider.cache_clear()
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


async def test_migrations_accounts_and_meetings_on_postgres(postgres_env):
    from yoom import accounts
    from yoom.db import get_engine
    from yoom.video import get_provider
    from yoom.video.base import CallKind

    assert get_engine().dialect.name == "postgresql"
    tables = set(sqlalchemy.inspect(get_engine()).get_table_names())
    assert {"yoom_user", "yoom_auth_session", "yoom_local_call", "alembic_version"} <= tables

    signed = signed_up("Pat Postgres", "pat", "password one")
    assert accounts.user_for_session(signed.session_token).display_name == "Pat Postgres"
    with pytest.raises(accounts.AccountError, match="is taken"):
        accounts.sign_up("Other", "PAT", "password two")
    accounts.sign_out(signed.session_token)
    assert accounts.user_for_session(signed.session_token) is None

    provider = get_provider()
    host = accounts.video_user(signed.user)
    starts = datetime.now(UTC) + timedelta(days=1)
    scheduled = await provider.create_call(host, CallKind.SCHEDULED, starts_at=starts, description="On Postgres")
    upcoming = await provider.upcoming_calls(signed.user.id)
    assert [m.id for m in upcoming.items] == [scheduled.id]
    assert upcoming.items[0].starts_at == starts.replace(microsecond=starts.microsecond)
    instant = await provider.create_call(host, CallKind.INSTANT)
    await provider.end_call(instant.id, signed.user.id)
    previous = await provider.previous_calls(signed.user.id)
    assert [m.id for m in previous.items] == [instant.id]
