"""Rules of the meeting room that do not depend on Reflex: which screen a person sees.

The room page (yoom/state/room.py) asks `room_phase` what to show for a call and a person, and
uses the small validators here for every argument that comes from the browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from yoom.video.base import CallKind, Meeting

# Guests may come in this long before a scheduled start (the host can start any time).
EARLY_JOIN = timedelta(minutes=10)


class Layout(StrEnum):
    """How the call's tiles are arranged (the value is what the page and the browser components see)."""

    GRID = "grid"
    SPEAKER_LEFT = "speaker-left"  # the speaker large on the left, the others in a bar on the right
    SPEAKER_RIGHT = "speaker-right"

    @property
    def label(self) -> str:
        return {"grid": "Grid", "speaker-left": "Speaker left", "speaker-right": "Speaker right"}[self.value]


DEFAULT_LAYOUT = Layout.SPEAKER_LEFT


class Phase(StrEnum):
    """Which screen the meeting page shows."""

    LOADING = "loading"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    NOT_STARTED = "not_started"
    ENDED = "ended"
    REMOVED = "removed"
    SETUP = "setup"
    IN_CALL = "in_call"
    ERROR = "error"


# The Schedule dialog's "Invite people": usernames or emails of Yoom accounts.
MAX_INVITEES = 50
MAX_INVITEE_LENGTH = 254  # yoom.accounts.USERNAME_MAX
MAX_NAMES_IN_MESSAGE = 10
_INVITE_SEPARATORS = re.compile(r"[\s,;]+")

_TRUE_WORDS = {"1", "true", "yes", "on"}


def is_valid_layout(value: object) -> bool:
    return isinstance(value, str) and value in Layout._value2member_map_


def query_flag(value: object) -> bool:
    """`?personal=true` (or 1/yes/on, any case) → True; anything else, including a list, → False."""
    return isinstance(value, str) and value.strip().lower() in _TRUE_WORDS


def is_personal_room_of(call_id: str, user_id: str) -> bool:
    """A personal room's id is its owner's user id."""
    return bool(call_id) and call_id == user_id


@dataclass(frozen=True)
class RoomDecision:
    phase: Phase  # never LOADING, IN_CALL or ERROR: those follow from what the page does next
    starts_at: datetime | None = None  # set for not_started: when the meeting is scheduled


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


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


def room_phase(meeting: Meeting | None, user_id: str, now: datetime, *, removed: bool = False) -> RoomDecision:
    """`removed`: the host removed this person from the meeting (yoom.moderation)."""
    if meeting is None:
        return RoomDecision(Phase.NOT_FOUND)
    # Before anything else about the call: someone not invited learns neither its time nor whether it ended.
    if not meeting.admits(user_id):
        return RoomDecision(Phase.NOT_ALLOWED)
    if meeting.has_ended:
        return RoomDecision(Phase.ENDED)
    if removed and meeting.created_by != user_id:
        return RoomDecision(Phase.REMOVED)
    if not can_enter_at(meeting, user_id, now):
        return RoomDecision(Phase.NOT_STARTED, starts_at=_aware(meeting.starts_at))
    return RoomDecision(Phase.SETUP)


def is_personal_meeting(meeting: Meeting | None, personal_flag: bool) -> bool:
    """Personal rooms are never ended for everyone: by their kind, or by a `?personal=true` link."""
    return personal_flag or (meeting is not None and meeting.kind == CallKind.PERSONAL)


def utc_iso(value: datetime | None) -> str:
    """An ISO 8601 UTC timestamp ending in Z (what the browser's moment parses as UTC)."""
    if value is None:
        return ""
    value = _aware(value).astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class InviteListError(ValueError):
    """The "Invite people" field can't be used as typed; the message says why."""


def parse_invitees(raw: object) -> list[str]:
    """Usernames or emails separated by commas, semicolons or spaces → distinct, lower-cased, in order."""
    if raw is None or raw == "":
        return []
    if not isinstance(raw, str):
        raise InviteListError("List the people to invite as usernames or emails, separated by commas.")
    names = list(dict.fromkeys(name.lower() for name in _INVITE_SEPARATORS.split(raw) if name))
    too_long = [name for name in names if len(name) > MAX_INVITEE_LENGTH]
    if too_long:
        raise InviteListError(f"{too_long[0][:40]}… is too long to be a username or email.")
    if len(names) > MAX_INVITEES:
        raise InviteListError(f"Invite at most {MAX_INVITEES} people (the list has {len(names)}).")
    return names


def unknown_invitees_message(unknown: list[str]) -> str:
    """ "No Yoom account for: x, y" (a long list is cut, with how many more)."""
    shown = ", ".join(unknown[:MAX_NAMES_IN_MESSAGE])
    more = len(unknown) - MAX_NAMES_IN_MESSAGE
    return f"No Yoom account for: {shown}" + (f" and {more} more" if more > 0 else "")
