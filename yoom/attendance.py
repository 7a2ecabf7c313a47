"""Who was in which call, and when: attendance intervals in Yoom's own database (no Reflex import).

Recordings are shown to the people who were in the meeting while it was recording
(yoom.meeting_rules.may_watch_recording), so presence is written down by the server, never taken from
the browser's word about the past:

* embedded provider: the signaling route (yoom/api/rtc.py) opens a stay when it admits a socket and
  closes it when the peer leaves, disconnects, times out or the call ends. Those sockets live in this
  process, so stays it left open when the process died are closed at the next start (`close_open_stays`);
* Stream: the meeting page (yoom/state/room.py) opens one when the person joins and closes it when they
  leave, the call ends or the page fails. A tab that vanishes without a word leaves its stay open: such
  a stay counts only up to yoom.meeting_rules.MAX_OPEN_ATTENDANCE (and the call's end).

Every function here blocks on the database: call them from a worker thread (`asyncio.to_thread`) or
through `AttendanceBook`, which does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy
from sqlmodel import Session, col, select, update

from yoom.db import as_utc, session_scope, to_db, utcnow
from yoom.meeting_rules import Attendance
from yoom.models import CallAttendance

SOURCE_RTC = "rtc"  # a socket of the embedded signaling hub, in this process
SOURCE_PAGE = "page"  # the meeting page (Stream: the browser holds the connection)
SOURCES = (SOURCE_RTC, SOURCE_PAGE)
# "Previous meetings" on Stream lists at most this many meetings someone only attended (Stream's `$in`).
ATTENDED_LISTING_LIMIT = 100


def open_stay(
    call_id: str, user_id: str, source: str, *, at: datetime | None = None, engine: sqlalchemy.Engine | None = None
) -> int:
    """Write down that `user_id` is in `call_id` from now (or `at`); returns the stay's id."""
    if source not in SOURCES:
        raise ValueError(f"unknown attendance source {source!r}")
    with session_scope(engine) as db:
        row = CallAttendance(call_id=call_id, user_id=user_id, source=source, joined_at=to_db(at or utcnow()))
        db.add(row)
        db.flush()
        return int(row.id)


def close_stay(
    stay_id: int,
    *,
    user_id: str | None = None,
    at: datetime | None = None,
    engine: sqlalchemy.Engine | None = None,
) -> bool:
    """Close one stay (of `user_id`, when given) if it is still open; False when there was nothing to close."""
    statement = update(CallAttendance).where(col(CallAttendance.id) == stay_id, col(CallAttendance.left_at).is_(None))
    if user_id is not None:
        statement = statement.where(col(CallAttendance.user_id) == user_id)
    with session_scope(engine) as db:
        result = db.exec(statement.values(left_at=to_db(at or utcnow())))
        return bool(result.rowcount)


def close_open_stays(source: str, *, at: datetime | None = None, engine: sqlalchemy.Engine | None = None) -> int:
    """Close every stay of `source` still open (at start-up: the sockets they stood for died with the
    process that held them). Returns how many were closed."""
    statement = (
        update(CallAttendance)
        .where(col(CallAttendance.source) == source, col(CallAttendance.left_at).is_(None))
        .values(left_at=to_db(at or utcnow()))
    )
    with session_scope(engine) as db:
        return db.exec(statement).rowcount or 0


def stays(
    user_id: str, call_ids: Sequence[str], *, engine: sqlalchemy.Engine | None = None
) -> dict[str, list[Attendance]]:
    """This person's stays in each of these calls (calls they never attended map to [])."""
    with session_scope(engine) as db:
        return stays_in(db, user_id, call_ids)


def stays_in(db: Session, user_id: str, call_ids: Sequence[str]) -> dict[str, list[Attendance]]:
    """`stays` inside a session the caller already holds."""
    found: dict[str, list[Attendance]] = {call_id: [] for call_id in call_ids}
    if not found or not user_id:
        return found
    statement = select(CallAttendance).where(
        col(CallAttendance.user_id) == user_id, col(CallAttendance.call_id).in_(list(found))
    )
    for row in db.exec(statement).all():
        found[row.call_id].append(Attendance(joined_at=as_utc(row.joined_at), left_at=as_utc(row.left_at)))
    return found


def attended_call_ids(
    user_id: str, *, limit: int = ATTENDED_LISTING_LIMIT, engine: sqlalchemy.Engine | None = None
) -> list[str]:
    """The calls this person was in, most recently joined first (distinct, at most `limit`)."""
    latest = sqlalchemy.func.max(CallAttendance.joined_at)
    statement = (
        select(CallAttendance.call_id)
        .where(col(CallAttendance.user_id) == user_id)
        .group_by(CallAttendance.call_id)
        .order_by(latest.desc(), col(CallAttendance.call_id))
        .limit(limit)
    )
    with session_scope(engine) as db:
        return list(db.exec(statement).all())


class AttendanceBook:
    """The functions above for async code: each runs in a worker thread, never on the event loop."""

    def __init__(self, engine: sqlalchemy.Engine | None = None):
        self._engine = engine  # None: the app's database (yoom.db.get_engine())

    async def open_stay(self, call_id: str, user_id: str, source: str) -> int:
        return await asyncio.to_thread(open_stay, call_id, user_id, source, engine=self._engine)

    async def close_stay(self, stay_id: int, *, user_id: str | None = None) -> bool:
        return await asyncio.to_thread(close_stay, stay_id, user_id=user_id, engine=self._engine)

    async def stays(self, user_id: str, call_ids: Sequence[str]) -> dict[str, list[Attendance]]:
        return await asyncio.to_thread(stays, user_id, list(call_ids), engine=self._engine)

    async def attended_call_ids(self, user_id: str, limit: int = ATTENDED_LISTING_LIMIT) -> list[str]:
        return await asyncio.to_thread(attended_call_ids, user_id, limit=limit, engine=self._engine)
