"""The lobby, who may join and co-hosts, kept in Yoom's database for either provider (no Reflex import).

The rules are yoom/access_rules.py's; this module stores a meeting's `Access` (its defaults need no row),
the co-hosts the host made, and the lobby: a knock per person and call (pending, admitted, denied). Who may
decide is checked by the caller (yoom/lobby.py). Everything here blocks (SQL): use `asyncio.to_thread`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, delete, func, select

from yoom.access_rules import Access, WhoMayJoin, default_access
from yoom.db import as_utc, session_scope, to_db, utcnow
from yoom.models import CallAccess, CallCoHost, CallKnock
from yoom.video.base import Meeting

# Pending knocks one meeting holds at once: a flood of knockers can't grow the table or the host's list.
MAX_PENDING = 50


class Status(StrEnum):
    PENDING = "pending"
    ADMITTED = "admitted"
    DENIED = "denied"


class LobbyFull(Exception):
    """The meeting's lobby already holds MAX_PENDING people."""


@dataclass(frozen=True)
class Knock:
    user_id: str
    name: str
    is_guest: bool
    status: Status
    knocked_at: datetime


# --- who may join --------------------------------------------------------------------------------


def access_of(meeting: Meeting) -> Access:
    with session_scope() as db:
        row = db.get(CallAccess, meeting.id)
    if row is None:
        return default_access(meeting.kind, meeting.invite_only)
    return Access(WhoMayJoin(row.who_may_join), bool(row.ask_to_join))


def set_access(call_id: str, access: Access, by_user_id: str) -> None:
    with session_scope() as db:
        row = db.get(CallAccess, call_id) or CallAccess(
            call_id=call_id, who_may_join="", updated_by="", updated_at=utcnow()
        )
        row.who_may_join, row.ask_to_join = str(access.who_may_join), access.ask_to_join
        row.updated_by, row.updated_at = by_user_id, to_db(utcnow())
        db.add(row)


def accesses_of(meetings: list[Meeting]) -> dict[str, Access]:
    """Each meeting's access, in one query (the meeting lists' cards)."""
    ids = [m.id for m in meetings]
    rows: dict[str, CallAccess] = {}
    if ids:
        with session_scope() as db:
            rows = {r.call_id: r for r in db.exec(select(CallAccess).where(col(CallAccess.call_id).in_(ids))).all()}
    return {
        m.id: Access(WhoMayJoin(rows[m.id].who_may_join), bool(rows[m.id].ask_to_join))
        if m.id in rows
        else default_access(m.kind, m.invite_only)
        for m in meetings
    }


# --- co-hosts ------------------------------------------------------------------------------------


def co_hosts(call_id: str) -> set[str]:
    with session_scope() as db:
        return set(db.exec(select(CallCoHost.user_id).where(CallCoHost.call_id == call_id)).all())


def make_co_host(call_id: str, user_id: str, by_user_id: str) -> None:
    with session_scope() as db:
        if db.get(CallCoHost, (call_id, user_id)) is None:
            db.add(CallCoHost(call_id=call_id, user_id=user_id, made_by=by_user_id, made_at=to_db(utcnow())))


# --- the lobby -----------------------------------------------------------------------------------


def _knock(row: CallKnock) -> Knock:
    return Knock(row.user_id, row.name, bool(row.is_guest), Status(row.status), as_utc(row.knocked_at))


def status_of(call_id: str, user_id: str) -> Status | None:
    with session_scope() as db:
        row = db.get(CallKnock, (call_id, user_id))
    return Status(row.status) if row is not None else None


def knock(call_id: str, user_id: str, name: str, *, is_guest: bool) -> Status:
    """Ask to join (again): a new or a denied knock becomes pending; an admitted one stays admitted.
    Raises LobbyFull when MAX_PENDING others are already waiting."""
    with session_scope() as db:
        row = db.get(CallKnock, (call_id, user_id))
        if row is not None and row.status == Status.ADMITTED:
            return Status.ADMITTED
        if row is not None and row.status == Status.PENDING:
            return Status.PENDING
        waiting = db.exec(
            select(func.count()).where(CallKnock.call_id == call_id, CallKnock.status == Status.PENDING)
        ).one()
        if waiting >= MAX_PENDING:
            raise LobbyFull(call_id)
        row = row or CallKnock(call_id=call_id, user_id=user_id, name="", status="", knocked_at=utcnow())
        row.name, row.is_guest, row.status = name[:80], is_guest, Status.PENDING
        row.knocked_at, row.decided_by, row.decided_at = to_db(utcnow()), None, None
        db.add(row)
    return Status.PENDING


def decide(call_id: str, user_id: str, admit: bool, by_user_id: str) -> bool:
    """The host's (or a co-host's) answer to a pending knock; False when there is none to answer."""
    with session_scope() as db:
        row = db.get(CallKnock, (call_id, user_id))
        if row is None or row.status != Status.PENDING:
            return False
        row.status = Status.ADMITTED if admit else Status.DENIED
        row.decided_by, row.decided_at = by_user_id, to_db(utcnow())
        db.add(row)
    return True


def admit_again(call_id: str, user_id: str, by_user_id: str) -> None:
    """Someone the host lets back in (after a removal): admitted, whatever they asked before."""
    with session_scope() as db:
        row = db.get(CallKnock, (call_id, user_id))
        if row is not None:
            row.status, row.decided_by, row.decided_at = Status.ADMITTED, by_user_id, to_db(utcnow())
            db.add(row)


def forget(call_id: str, user_id: str) -> None:
    """A removed person's lobby answer goes: coming back means asking again."""
    with session_scope() as db:
        db.exec(delete(CallKnock).where(CallKnock.call_id == call_id, CallKnock.user_id == user_id))


def pending(call_id: str) -> list[Knock]:
    """Who is waiting, first knock first."""
    with session_scope() as db:
        rows = db.exec(
            select(CallKnock)
            .where(CallKnock.call_id == call_id, CallKnock.status == Status.PENDING)
            .order_by(col(CallKnock.knocked_at))
            .limit(MAX_PENDING)
        ).all()
    return [_knock(r) for r in rows]
