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


async def test_recording_access_and_personal_rooms_on_postgres(postgres_env):
    from yoom import accounts, attendance
    from yoom.db import get_engine
    from yoom.video import get_provider
    from yoom.video.base import CallKind
    from yoom.video.local_provider import QuotaExceeded

    columns = {c["name"] for c in sqlalchemy.inspect(get_engine()).get_columns("yoom_user")}
    assert "personal_room_id" in columns
    host = accounts.sign_up("Hal Host", "hal", "password one")
    guest = accounts.sign_up("Gil Guest", "gil", "password two")
    assert host.personal_room_id and host.personal_room_id != guest.personal_room_id
    provider = get_provider()
    room = await provider.create_call(accounts.video_user(host), CallKind.PERSONAL, call_id=host.personal_room_id)
    assert room.id == host.personal_room_id
    new_id = accounts.reset_personal_room_id(host.id)
    assert accounts.get_user(host.id).personal_room_id == new_id != room.id

    meeting = await provider.create_call(
        accounts.video_user(host), CallKind.INSTANT, invitees=[accounts.video_user(guest)], invite_only=True
    )
    start = datetime.now(UTC) - timedelta(hours=1)
    stay = attendance.open_stay(meeting.id, guest.id, attendance.SOURCE_RTC, at=start)
    attendance.close_stay(stay, at=start + timedelta(minutes=10))
    assert attendance.attended_call_ids(guest.id) == [meeting.id]
    assert attendance.close_open_stays(attendance.SOURCE_RTC) == 0

    async def record(at, size, quota=None):
        return await provider.add_recording(
            meeting.id,
            host.id,
            recording_id=uuid.uuid4().hex,
            filename="r.webm",
            stored_name=f"{uuid.uuid4().hex}.webm",
            content_type="video/webm",
            size_bytes=size,
            start_time=at,
            end_time=at + timedelta(minutes=1),
            quota_bytes=quota,
        )

    seen = await record(start + timedelta(minutes=5), 10, quota=100)  # under the row lock
    missed = await record(start + timedelta(minutes=30), 10)
    with pytest.raises(QuotaExceeded):
        await record(start, 90, quota=100)
    assert [r.id for r in (await provider.recordings(guest.id)).items] == [seen.id]
    assert {r.id for r in (await provider.recordings(host.id)).items} == {seen.id, missed.id}
    assert await provider.recording_for_user(missed.id, guest.id) is None
