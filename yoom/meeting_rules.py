"""Rules of the meeting room that do not depend on Reflex: which screen a person sees, and who may
watch a meeting's recordings.

The room page (yoom/state/room.py) asks `room_phase` what to show for a call and a person, and
uses the small validators here for every argument that comes from the browser. Both video providers
and the recording download route ask `may_watch_recording`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
    GUEST = "guest"  # signed out, at a meeting that lets guests in: "Your name", "Join as guest", "Sign in"
    SIGN_IN = "sign_in"  # signed out (or a guest) at a meeting for people with an account
    LOBBY = "lobby"  # asked to join: waiting for the host
    DENIED = "denied"  # asked to join: the host said no
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


def is_personal_room_of(call_id: str, personal_room_id: str | None) -> bool:
    """Whether `call_id` is the personal room whose id is stored on a person (`User.personal_room_id`).
    A room id that person has since reset is no longer theirs to open."""
    return bool(call_id) and call_id == personal_room_id


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


# --- recordings ---------------------------------------------------------------------------------

# An attendance interval nobody closed (a tab that vanished without a word, a crashed server) counts as
# lasting at most this long: it can never reach recordings made long after the person left.
MAX_OPEN_ATTENDANCE = timedelta(hours=24)


@dataclass(frozen=True)
class Attendance:
    """One stay of a person in a call, as Yoom's server saw it (yoom_call_attendance)."""

    joined_at: datetime
    left_at: datetime | None = None  # None: not closed (still there, or nobody said they left)

    def end(self, now: datetime, call_ended_at: datetime | None = None) -> datetime:
        """When the stay ended, or the latest it can have ended when it was never closed."""
        if self.left_at is not None:
            return _aware(self.left_at)
        bound = min(_aware(now), _aware(self.joined_at) + MAX_OPEN_ATTENDANCE)
        return min(bound, _aware(call_ended_at)) if call_ended_at is not None else bound


def may_watch_recording(
    user_id: str,
    meeting: Meeting,
    start: datetime,
    end: datetime,
    attendance: Iterable[Attendance],
    now: datetime,
) -> bool:
    """Who may watch a recording of `meeting` made from `start` to `end`, as in Zoom or Meet:

    * the meeting's host;
    * anyone who was in the meeting while it was recording (a stay that overlaps [start, end]);
    * the invitees (members) of an invite-only meeting whose host chose to share its recordings.

    Nobody else: not people invited to an open meeting, not people who were there before or after the
    recording, not visitors of a personal room at another time. `attendance` is this user's stays in this
    meeting."""
    if not user_id or not isinstance(user_id, str):
        return False
    if user_id == meeting.created_by:
        return True
    if meeting.invite_only and meeting.share_recordings and user_id in meeting.members:
        return True
    start, end = _aware(start), _aware(end)
    for stay in attendance:
        joined, left = _aware(stay.joined_at), stay.end(now, meeting.ended_at)
        if (joined < end and left > start) if start < end else (joined <= start <= left):
            return True
    return False
