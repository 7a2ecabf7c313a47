"""Meeting rules shared by the pages: links, join input, scheduling, calendar files (no Reflex import)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yoom.video.base import MAX_DESCRIPTION_LENGTH, SCHEDULE_GRACE, Meeting, is_valid_call_id

MEETING_PATH_RE = re.compile(r"^/meeting/([A-Za-z0-9_-]{1,64})/?$")
MAX_JOIN_INPUT = 2000
MAX_SCHEDULE_AHEAD = timedelta(days=366 * 2)
DEFAULT_MEETING_MINUTES = 60


class MeetingInputError(ValueError):
    """Input a person typed that can't be used; the message says what to do."""


def meeting_path(call_id: str, personal: bool = False) -> str:
    return f"/meeting/{call_id}" + ("?personal=true" if personal else "")


def meeting_link(base_url: str | None, call_id: str, personal: bool = False) -> str:
    """The absolute link to a meeting: the configured public URL, else the address the browser used."""
    base = (base_url or "").rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise MeetingInputError("Yoom doesn't know its own address: set YOOM_PUBLIC_URL in .env.")
    return base + meeting_path(call_id, personal)


def parse_join_input(raw: object) -> str:
    """A meeting link, a /meeting/… path or a bare meeting ID → the path to open."""
    if not isinstance(raw, str) or not raw.strip():
        raise MeetingInputError("Paste a meeting link or type a meeting ID.")
    text = raw.strip()
    if len(text) > MAX_JOIN_INPUT:
        raise MeetingInputError("That link is too long to be a Yoom meeting link.")
    if is_valid_call_id(text):
        return meeting_path(text)
    parts = urlsplit(text if "://" in text or text.startswith("/") else "")
    if "://" in text and parts.scheme not in ("http", "https"):
        raise MeetingInputError("A meeting link starts with http:// or https://.")
    match = MEETING_PATH_RE.match(parts.path or "")
    if not match:
        raise MeetingInputError(
            "That isn't a meeting link or ID. A link looks like https://…/meeting/<id>; an ID is letters, digits, '-' or '_'."
        )
    personal = "personal=true" in (parts.query or "")
    return meeting_path(match.group(1), personal)


def viewer_zone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name or len(name) > 64:
        raise MeetingInputError("Your browser didn't tell us its time zone. Reload the page and try again.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the zone database ("America")
        raise MeetingInputError(f"Unknown time zone {name!r}. Reload the page and try again.") from None


@dataclass(frozen=True)
class ScheduleRequest:
    description: str
    starts_at: datetime  # aware UTC


def validate_schedule(
    description: object, local_datetime: object, zone_name: object, now: datetime | None = None
) -> ScheduleRequest:
    """Validate the Schedule Meeting form: a description and a future time in the viewer's zone."""
    text = " ".join(description.split()) if isinstance(description, str) else ""
    if not text:
        raise MeetingInputError("Add a description so people know what the meeting is about.")
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise MeetingInputError(
            f"The description can be at most {MAX_DESCRIPTION_LENGTH} characters (it has {len(text)})."
        )
    if not isinstance(local_datetime, str) or not local_datetime.strip():
        raise MeetingInputError("Pick a date and time for the meeting.")
    try:
        naive = datetime.fromisoformat(local_datetime.strip())
    except ValueError:
        raise MeetingInputError("That date and time isn't valid. Pick one with the picker.") from None
    if naive.tzinfo is not None:
        raise MeetingInputError("That date and time isn't valid. Pick one with the picker.")
    zone = viewer_zone(zone_name)
    try:
        starts_at = naive.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:  # 9999-12-31 23:59 west of UTC is past the last date Python knows
        raise MeetingInputError("That date and time isn't valid. Pick one with the picker.") from None
    now = now or datetime.now(UTC)
    if starts_at < now - SCHEDULE_GRACE:
        raise MeetingInputError("That time has already passed. Pick a time in the future.")
    if starts_at > now + MAX_SCHEDULE_AHEAD:
        raise MeetingInputError("Meetings can be scheduled at most two years ahead.")
    return ScheduleRequest(description=text, starts_at=starts_at)


def _ics_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_file(meeting: Meeting, link: str, organizer_name: str, now: datetime | None = None) -> str:
    """An iCalendar (RFC 5545) event for the meeting, times in UTC."""
    start = meeting.starts_at or meeting.created_at
    end = start + timedelta(minutes=DEFAULT_MEETING_MINUTES)
    title = meeting.description or f"{organizer_name}'s Yoom meeting"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Yoom//Meetings//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{meeting.id}@yoom",
        f"DTSTAMP:{_ics_time(now or datetime.now(UTC))}",
        f"DTSTART:{_ics_time(start)}",
        f"DTEND:{_ics_time(end)}",
        f"SUMMARY:{_ics_escape(title)}",
        f"DESCRIPTION:{_ics_escape(f'Join the Yoom meeting: {link}')}",
        f"URL:{link}",
        f"LOCATION:{_ics_escape(link)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    # RFC 5545: lines end in CRLF and fold at 75 octets.
    folded = []
    for line in lines:
        while len(line.encode()) > 75:
            cut = 75
            while len(line[:cut].encode()) > 75:
                cut -= 1
            folded.append(line[:cut])
            line = " " + line[cut:]
        folded.append(line)
    return "\r\n".join(folded) + "\r\n"


def meeting_card(meeting: Meeting, viewer_id: str, base_url: str, access: str = "") -> dict[str, str]:
    """What a meeting list shows for one meeting (all strings, for the page)."""
    when = meeting.starts_at or meeting.created_at
    return {
        "id": meeting.id,
        "title": meeting.description or ("Personal Room" if meeting.kind.value == "personal" else "Instant meeting"),
        "starts_at": when.astimezone(UTC).isoformat(),
        "ended_at": meeting.ended_at.astimezone(UTC).isoformat() if meeting.ended_at else "",
        "link": meeting_link(base_url, meeting.id, personal=meeting.kind.value == "personal"),
        "path": meeting_path(meeting.id, personal=meeting.kind.value == "personal"),
        "is_owner": "yes" if meeting.created_by == viewer_id else "",
        "kind": meeting.kind.value,
        "access": access,  # who may join (yoom.access_rules.Access.summary)
    }
