from datetime import UTC, datetime, timedelta

import pytest

from yoom import meetings
from yoom.meetings import MeetingInputError
from yoom.video.base import CallKind, Meeting

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw,path",
    [
        ("https://meet.example.org/meeting/3f2a-77", "/meeting/3f2a-77"),
        ("http://localhost:3000/meeting/abc_DEF/", "/meeting/abc_DEF"),
        ("https://x.org/meeting/u123?personal=true", "/meeting/u123?personal=true"),
        ("/meeting/abc", "/meeting/abc"),
        ("  9d6c3c1e-2f7a-4d0e-9a57-1b8d0c6f7e21 ", "/meeting/9d6c3c1e-2f7a-4d0e-9a57-1b8d0c6f7e21"),
    ],
)
def test_join_takes_links_paths_and_ids(raw, path):
    assert meetings.parse_join_input(raw) == path


@pytest.mark.parametrize(
    "raw,message",
    [
        ("", "Paste a meeting link"),
        ("   ", "Paste a meeting link"),
        ("https://example.org/somewhere/else", "isn't a meeting link"),
        ("javascript:alert(1)", "isn't a meeting link"),
        ("ftp://example.org/meeting/abc", "http:// or https://"),
        ("meeting id with spaces", "isn't a meeting link"),
        ("/meeting/../../etc", "isn't a meeting link"),
        ("x" * 3000, "too long"),
        (None, "Paste a meeting link"),
    ],
)
def test_join_refuses_anything_else_clearly(raw, message):
    with pytest.raises(MeetingInputError, match=message):
        meetings.parse_join_input(raw)


def test_schedule_converts_the_viewers_local_time_to_utc():
    request = meetings.validate_schedule("Design review", "2026-12-01T09:30", "America/New_York", now=NOW)
    assert request.starts_at == datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    summer = meetings.validate_schedule("Standup", "2027-07-01T09:30", "Europe/Paris", now=NOW)
    assert summer.starts_at == datetime(2027, 7, 1, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "description,when,zone,message",
    [
        ("", "2026-12-01T09:30", "UTC", "Add a description"),
        ("x" * 201, "2026-12-01T09:30", "UTC", "at most 200 characters"),
        ("Review", "", "UTC", "Pick a date and time"),
        ("Review", "tomorrow", "UTC", "isn't valid"),
        ("Review", "2026-11-21T11:00", "UTC", "already passed"),
        ("Review", "2026-12-01T09:30", "Mars/Olympus", "Unknown time zone"),
        ("Review", "2026-12-01T09:30", "", "time zone"),
        ("Review", "2030-01-01T09:30", "UTC", "two years"),
        # Found by fuzzing the event socket: a folder of the zone database, and the end of the calendar.
        ("Review", "2026-12-01T09:30", "America", "Unknown time zone"),
        ("Review", "2026-12-01T09:30", "Etc", "Unknown time zone"),
        ("Review", "9999-12-31T23:59", "America/Los_Angeles", "isn't valid"),
    ],
)
def test_schedule_refuses_bad_input_clearly(description, when, zone, message):
    with pytest.raises(MeetingInputError, match=message):
        meetings.validate_schedule(description, when, zone, now=NOW)


def test_meeting_link_uses_the_base_and_never_undefined():
    assert meetings.meeting_link("https://meet.example.org/", "abc") == "https://meet.example.org/meeting/abc"
    assert (
        meetings.meeting_link("http://localhost:3000", "u1", personal=True)
        == "http://localhost:3000/meeting/u1?personal=true"
    )
    for bad in ("", None, "undefined"):
        with pytest.raises(MeetingInputError, match="YOOM_PUBLIC_URL"):
            meetings.meeting_link(bad, "abc")


def _meeting(**kw):
    base = {
        "id": "m1",
        "created_by": "u1",
        "kind": CallKind.SCHEDULED,
        "created_at": NOW,
        "description": "Plan, review; ship",
        "starts_at": NOW + timedelta(days=1),
    }
    base.update(kw)
    return Meeting(**base)


def test_calendar_file_is_valid_icalendar_in_utc():
    ics = meetings.calendar_file(_meeting(), "https://meet.example.org/meeting/m1", "Ada", now=NOW)
    lines = ics.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and ics.endswith("\r\n")
    assert "DTSTART:20261122T120000Z" in lines
    assert "DTEND:20261122T130000Z" in lines
    assert "SUMMARY:Plan\\, review\\; ship" in lines
    assert "UID:m1@yoom" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = ics.replace("\r\n ", "")
    assert "URL:https://meet.example.org/meeting/m1" in unfolded


def test_meeting_card_shows_local_fields():
    card = meetings.meeting_card(_meeting(), "u1", "http://localhost:3000")
    assert card["title"] == "Plan, review; ship"
    assert card["starts_at"] == "2026-11-22T12:00:00+00:00"
    assert card["link"] == "http://localhost:3000/meeting/m1"
    assert card["is_owner"] == "yes"
    instant = meetings.meeting_card(_meeting(kind=CallKind.INSTANT, description="", starts_at=None), "u2", "http://h")
    assert (
        instant["title"] == "Instant meeting" and instant["starts_at"] == NOW.isoformat() and instant["is_owner"] == ""
    )
