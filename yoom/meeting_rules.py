"""Rules of the meeting room that do not depend on Reflex: which screen a person sees.

The room page (yoom/state/room.py) asks `room_phase` what to show for a call and a person, and
uses the small validators here for every argument that comes from the browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from yoom.video.base import CallKind, Meeting

# A meeting id is a UUID (hex, with or without dashes) or, for a personal room, its owner's user id.
CALL_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Guests may come in this long before a scheduled start (the host can start any time).
EARLY_JOIN = timedelta(minutes=10)

LAYOUTS = ("grid", "speaker-left", "speaker-right")
DEFAULT_LAYOUT = "speaker-left"

PHASES = ("loading", "not_found", "not_started", "ended", "setup", "in_call", "error")

_TRUE_WORDS = {"1", "true", "yes", "on"}


def is_valid_call_id(value: object) -> bool:
    return isinstance(value, str) and bool(CALL_ID_RE.fullmatch(value))


def is_valid_layout(value: object) -> bool:
    return isinstance(value, str) and value in LAYOUTS


def query_flag(value: object) -> bool:
    """`?personal=true` (or 1/yes/on, any case) → True; anything else, including a list, → False."""
    return isinstance(value, str) and value.strip().lower() in _TRUE_WORDS


def is_personal_room_of(call_id: str, user_id: str) -> bool:
    """A personal room's id is its owner's user id."""
    return bool(call_id) and call_id == user_id


@dataclass(frozen=True)
class RoomDecision:
    phase: str  # one of PHASES except loading/in_call/error
    starts_at: datetime | None = None  # set for not_started: when the meeting is scheduled


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def can_enter_at(meeting: Meeting, user_id: str, now: datetime) -> bool:
    """Whether the person may go to the setup screen now.

    As in Zoom: the host may start their meeting at any time; everyone else may come in from
    EARLY_JOIN before the scheduled start (a meeting with no start time is open now).
    """
    if meeting.created_by == user_id:
        return True
    if meeting.starts_at is None:
        return True
    return _aware(now) >= _aware(meeting.starts_at) - EARLY_JOIN


def room_phase(meeting: Meeting | None, user_id: str, now: datetime) -> RoomDecision:
    if meeting is None:
        return RoomDecision("not_found")
    if meeting.has_ended:
        return RoomDecision("ended")
    if not can_enter_at(meeting, user_id, now):
        return RoomDecision("not_started", starts_at=_aware(meeting.starts_at))
    return RoomDecision("setup")


def is_personal_meeting(meeting: Meeting | None, personal_flag: bool) -> bool:
    """Personal rooms are never ended for everyone: by their kind, or by a `?personal=true` link."""
    return personal_flag or (meeting is not None and meeting.kind == CallKind.PERSONAL)


def utc_iso(value: datetime | None) -> str:
    """An ISO 8601 UTC timestamp ending in Z (what the browser's moment parses as UTC)."""
    if value is None:
        return ""
    value = _aware(value).astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
