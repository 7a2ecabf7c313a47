"""Attendance intervals (yoom/attendance.py) and personal-room ids, on a temp SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yoom import attendance
from yoom.video.base import CallKind, InvalidRequest, VideoUser, new_personal_room_id, validate_call_request

T0 = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def people(yoom_env):
    from yoom.accounts import sign_up

    return {name: sign_up(name.title(), name, "password123") for name in ("ann", "ben")}


def test_a_stay_opens_closes_once_and_is_read_per_call(people):
    ann = people["ann"]
    first = attendance.open_stay("call-1", ann.id, attendance.SOURCE_RTC, at=T0)
    attendance.open_stay("call-2", ann.id, attendance.SOURCE_PAGE, at=T0 + timedelta(hours=1))
    assert attendance.close_stay(first, at=T0 + timedelta(minutes=5)) is True
    assert attendance.close_stay(first, at=T0 + timedelta(hours=9)) is False  # closed stays stay closed
    assert attendance.close_stay(first + 1, user_id=people["ben"].id) is False  # not ben's to close
    found = attendance.stays(ann.id, ["call-1", "call-2", "call-3"])
    assert [(s.joined_at, s.left_at) for s in found["call-1"]] == [(T0, T0 + timedelta(minutes=5))]
    assert [s.left_at for s in found["call-2"]] == [None] and found["call-3"] == []
    assert attendance.stays(people["ben"].id, ["call-1"]) == {"call-1": []}
    assert attendance.attended_call_ids(ann.id) == ["call-2", "call-1"]  # most recent first
    assert attendance.attended_call_ids(ann.id, limit=1) == ["call-2"]
    with pytest.raises(ValueError):
        attendance.open_stay("call-1", ann.id, "browser-said-so")


def test_start_up_closes_only_the_stays_of_sockets_that_died_with_the_process(people):
    ann, ben = people["ann"], people["ben"]
    socket = attendance.open_stay("call-1", ann.id, attendance.SOURCE_RTC, at=T0)
    page = attendance.open_stay("call-2", ben.id, attendance.SOURCE_PAGE, at=T0)
    assert attendance.close_open_stays(attendance.SOURCE_RTC, at=T0 + timedelta(hours=1)) == 1
    assert attendance.stays(ann.id, ["call-1"])["call-1"][0].left_at == T0 + timedelta(hours=1)
    # A Stream call goes on in the browser across a restart of Yoom: its stay stays open (and bounded).
    assert attendance.stays(ben.id, ["call-2"])["call-2"][0].left_at is None
    assert attendance.close_stay(socket) is False and attendance.close_stay(page) is True


def test_the_app_closes_stays_left_open_when_it_starts(yoom_env, people):
    """Start-up (the app's lifespan task), in a process of its own: what a restart after a crash does."""
    joined = datetime.now(UTC) - timedelta(hours=1)
    stay = attendance.open_stay("call-1", people["ann"].id, attendance.SOURCE_RTC, at=joined)
    script = textwrap.dedent(
        """
        import asyncio
        from yoom.yoom import housekeeping

        async def main():
            async with housekeeping():
                pass

        asyncio.run(main())
        """
    )
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"], "YOOM_DATA_DIR": str(yoom_env)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    [closed] = attendance.stays(people["ann"].id, ["call-1"])["call-1"]
    assert closed.left_at is not None and closed.left_at > joined
    assert attendance.close_stay(stay) is False


# --- personal room ids ---------------------------------------------------------------------------


def test_personal_room_ids_are_random_and_never_a_meeting_id():
    made = {new_personal_room_id() for _ in range(200)}
    assert len(made) == 200
    for room_id in made:
        assert len(room_id) == 12 and set(room_id) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
        with pytest.raises(ValueError):
            uuid.UUID(room_id)


def test_a_personal_room_takes_the_id_the_caller_gives_never_the_user_id():
    owner = VideoUser(id="a" * 32, name="Ann")
    room_id = new_personal_room_id()
    request = validate_call_request(owner, CallKind.PERSONAL, call_id=room_id)
    assert request.call_id == room_id and not request.generated_id
    for bad in (None, owner.id, str(uuid.uuid4()), "short", "has space in it", "x" * 65):
        with pytest.raises(InvalidRequest) as refused:
            validate_call_request(owner, CallKind.PERSONAL, call_id=bad)
        assert refused.value.user_message == "Your personal room can't be opened."
    # Instant and scheduled meetings still only ever take UUIDs: a personal id can't name one.
    with pytest.raises(InvalidRequest):
        validate_call_request(owner, CallKind.INSTANT, call_id=room_id)


def test_every_account_has_its_own_room_id_and_a_reset_replaces_it(people):
    from yoom.accounts import get_user, reset_personal_room_id, user_for_session

    ann, ben = people["ann"], people["ben"]
    assert ann.personal_room_id != ben.personal_room_id
    assert get_user(ann.id).personal_room_id == ann.personal_room_id
    new_id = reset_personal_room_id(ann.id)
    assert new_id != ann.personal_room_id and get_user(ann.id).personal_room_id == new_id
    from yoom.accounts import create_session

    assert user_for_session(create_session(ann.id)).personal_room_id == new_id
