"""The host's word on who may be in a meeting: people removed from it stay out until let back in.

Provider-neutral records in Yoom's own database (no Reflex import). Who may remove — the host — is
checked by the caller (`VideoProvider.remove_participant`); the embedded provider's socket and the
meeting page both refuse removed people.
"""

from __future__ import annotations

from sqlmodel import col, delete, select

from yoom.db import session_scope, to_db, utcnow
from yoom.models import CallRemoval


def remove(call_id: str, user_id: str, by_user_id: str) -> None:
    with session_scope() as db:
        if db.get(CallRemoval, (call_id, user_id)) is None:
            db.add(CallRemoval(call_id=call_id, user_id=user_id, removed_by=by_user_id, removed_at=to_db(utcnow())))


def readmit(call_id: str, user_id: str) -> bool:
    """Let a removed person back in; False if they weren't removed."""
    with session_scope() as db:
        return (
            db.exec(delete(CallRemoval).where(CallRemoval.call_id == call_id, CallRemoval.user_id == user_id))
        ).rowcount == 1


def is_removed(call_id: str, user_id: str) -> bool:
    with session_scope() as db:
        return db.get(CallRemoval, (call_id, user_id)) is not None


def removed_from(call_id: str) -> list[str]:
    """Who is out of the call, earliest removal first."""
    with session_scope() as db:
        rows = db.exec(
            select(CallRemoval.user_id).where(CallRemoval.call_id == call_id).order_by(col(CallRemoval.removed_at))
        ).all()
    return list(rows)
