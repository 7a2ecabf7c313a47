"""In-call chat: what a message may hold, where it is kept, who may read it back (no Reflex import).

Messages travel over the room channel (`/api/rtc/{call_id}`, yoom/rtc/room.py), on both providers, and are
kept in Yoom's own database with the meeting (`yoom_chat_message`).

The history rule (what someone who joins late sees):
* Only people the room channel admits into the meeting get it: the same admission as the meeting itself
  (invite-only, removed people, ended, the join window) — they are in it now, and the server writes their
  presence down (yoom/attendance.py). There is no other way to read a meeting's chat: no route, no page.
* They get the meeting's messages from its start; for a personal room, from its current opening (it is
  reused for unrelated meetings: next week's visitor must not read this week's chat).
* The chat goes with the meeting: `delete_call` removes it (a personal room's old chat when its link is
  reset), and nothing else ever shows it.

Every function here blocks on the database: call them through `ChatStore`, which runs them in a thread.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy
from sqlmodel import col, delete, select

from yoom.db import as_utc, session_scope, to_db, utcnow
from yoom.models import ChatMessage

MAX_TEXT = 2000  # characters of one message
MAX_NAME = 80
HISTORY_LIMIT = 500  # messages a late joiner gets (the latest)
# Control characters other than newline and tab are dropped: they can't be shown and can fool a reader.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_BLANK_LINES = re.compile(r"\n{3,}")


# A web address in a message: shown as a link only for http and https (never javascript:, data: …).
_LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def link_parts(text: str) -> list[dict[str, str]]:
    """A message as pieces to show: `{"text", "href"}`, `href` empty for plain text. React renders every
    piece as text, so nothing in a message is ever markup; links open with rel="noopener noreferrer"."""
    parts: list[dict[str, str]] = []
    position = 0
    for match in _LINK.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        start, end = match.start(), match.start() + len(url)
        if len(url) <= len("https://"):
            continue
        if start > position:
            parts.append({"text": text[position:start], "href": ""})
        parts.append({"text": url, "href": url})
        position = end
    if position < len(text):
        parts.append({"text": text[position:], "href": ""})
    return parts


class ChatRefused(ValueError):
    """A message that can't be sent; the text says why, for the sender."""


def clean_text(raw: object) -> str:
    """The text of a message as it will be kept and shown; raises ChatRefused with words for the sender."""
    if not isinstance(raw, str):
        raise ChatRefused("A chat message must be text.")
    if len(raw) > MAX_TEXT * 4:  # far too long to be worth cleaning
        raise ChatRefused(f"Messages can be at most {MAX_TEXT:,} characters.")
    text = _CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if not text:
        raise ChatRefused("Type a message first.")
    if len(text) > MAX_TEXT:
        raise ChatRefused(f"Messages can be at most {MAX_TEXT:,} characters (this one has {len(text):,}).")
    return text


@dataclass(frozen=True)
class Message:
    id: int
    call_id: str
    user_id: str
    user_name: str
    text: str
    sent_at: datetime

    def to_json(self) -> dict[str, Any]:
        """What the room channel sends: plain data, the time as ISO 8601 UTC (shown in the viewer's zone)."""
        return {
            "id": self.id,
            "user": {"id": self.user_id, "name": self.user_name},
            "text": self.text,
            "sent_at": self.sent_at.isoformat().replace("+00:00", "Z"),
        }


def _message(row: ChatMessage) -> Message:
    return Message(
        id=int(row.id or 0),
        call_id=row.call_id,
        user_id=row.user_id,
        user_name=row.user_name,
        text=row.text,
        sent_at=as_utc(row.sent_at),
    )


def add(
    call_id: str,
    user_id: str,
    user_name: str,
    text: str,
    *,
    at: datetime | None = None,
    engine: sqlalchemy.Engine | None = None,
) -> Message:
    """Keep one message (its text already through `clean_text`)."""
    row = ChatMessage(
        call_id=call_id,
        user_id=user_id,
        user_name=(user_name or user_id)[:MAX_NAME],
        text=text[:MAX_TEXT],
        sent_at=to_db(at or utcnow()),
    )
    with session_scope(engine) as db:
        db.add(row)
        db.flush()
        return _message(row)


def history(
    call_id: str,
    *,
    since: datetime | None = None,
    limit: int = HISTORY_LIMIT,
    engine: sqlalchemy.Engine | None = None,
) -> list[Message]:
    """The latest `limit` messages of the call (sent at or after `since`), oldest first."""
    statement = select(ChatMessage).where(col(ChatMessage.call_id) == call_id)
    if since is not None:
        statement = statement.where(col(ChatMessage.sent_at) >= to_db(since))
    statement = statement.order_by(col(ChatMessage.id).desc()).limit(max(0, limit))
    with session_scope(engine) as db:
        rows = db.exec(statement).all()
    return [_message(row) for row in reversed(rows)]


def delete_call(call_id: str, *, engine: sqlalchemy.Engine | None = None) -> int:
    """The meeting's chat goes with it. Returns how many messages were deleted."""
    with session_scope(engine) as db:
        return db.exec(delete(ChatMessage).where(col(ChatMessage.call_id) == call_id)).rowcount or 0


class ChatStore:
    """The functions above for async code: each runs in a worker thread, never on the event loop."""

    def __init__(self, engine: sqlalchemy.Engine | None = None):
        self._engine = engine  # None: the app's database

    async def add(self, call_id: str, user_id: str, user_name: str, text: str) -> Message:
        return await asyncio.to_thread(add, call_id, user_id, user_name, text, engine=self._engine)

    async def history(self, call_id: str, since: datetime | None = None) -> list[Message]:
        return await asyncio.to_thread(history, call_id, since=since, engine=self._engine)

    async def delete_call(self, call_id: str) -> int:
        return await asyncio.to_thread(delete_call, call_id, engine=self._engine)
