from datetime import UTC, datetime, timedelta, timezone

import pytest

from yoom import meeting_rules as rules
from yoom.video.base import CallKind, Meeting, is_valid_call_id

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
HOST, GUEST = "a" * 32, "b" * 32


def meeting(**kw) -> Meeting:
    base = {
        "id": "1f0e6a3c-2b1d-4c4e-9f00-0123456789ab",
        "created_by": HOST,
        "kind": CallKind.INSTANT,
        "created_at": NOW,
    }
    base.update(kw)
    return Meeting(**base)


@pytest.mark.parametrize(
    "value",
    ["1f0e6a3c-2b1d-4c4e-9f00-0123456789ab", "1f0e6a3c2b1d4c4e9f000123456789ab", "clerk_user_2abcDEF", "x", "a" * 64],
)
def test_valid_call_ids(value):
    assert is_valid_call_id(value)


@pytest.mark.parametrize(
    "value",
    ["", "a" * 65, "../etc/passwd", "abc def", "abc/def", "abc?x=1", "ab%2F", "é", "abc\n", None, 12, ["abc"]],
)
def test_invalid_call_ids(value):
    assert not is_valid_call_id(value)


def test_layout_whitelist():
    for layout in ("grid", "speaker-left", "speaker-right"):
        assert rules.is_valid_layout(layout)
    for layout in ("", "Grid", "speaker", "speaker-top", None, 1):
        assert not rules.is_valid_layout(layout)
    assert rules.DEFAULT_LAYOUT in list(rules.Layout)
    assert [layout.value for layout in rules.Layout] == ["grid", "speaker-left", "speaker-right"]


@pytest.mark.parametrize(
    "value,expected",
    [
        ("true", True),
        ("True", True),
        ("1", True),
        (" yes ", True),
        ("false", False),
        ("", False),
        (None, False),
        (["true"], False),
    ],
)
def test_query_flag(value, expected):
    assert rules.query_flag(value) is expected


def test_missing_call_is_not_found():
    assert rules.room_phase(None, GUEST, NOW).phase == "not_found"


def test_ended_call_is_ended_for_everyone():
    ended = meeting(ended_at=NOW - timedelta(minutes=1))
    assert rules.room_phase(ended, HOST, NOW).phase == "ended"
    assert rules.room_phase(ended, GUEST, NOW).phase == "ended"


def test_instant_call_is_open():
    assert rules.room_phase(meeting(), GUEST, NOW).phase == "setup"


def test_guest_waits_for_a_scheduled_call_until_ten_minutes_before():
    starts = NOW + timedelta(hours=2)
    scheduled = meeting(kind=CallKind.SCHEDULED, starts_at=starts)
    decision = rules.room_phase(scheduled, GUEST, NOW)
    assert decision.phase == "not_started"
    assert decision.starts_at == starts
    # 10 minutes before: open; 10 minutes and a second before: still waiting.
    assert rules.room_phase(scheduled, GUEST, starts - timedelta(minutes=10)).phase == "setup"
    assert rules.room_phase(scheduled, GUEST, starts - timedelta(minutes=10, seconds=1)).phase == "not_started"
    # After the start it stays open.
    assert rules.room_phase(scheduled, GUEST, starts + timedelta(hours=5)).phase == "setup"


def test_host_may_start_early():
    scheduled = meeting(kind=CallKind.SCHEDULED, starts_at=NOW + timedelta(days=3))
    assert rules.room_phase(scheduled, HOST, NOW).phase == "setup"


def test_naive_datetimes_are_taken_as_utc():
    scheduled = meeting(kind=CallKind.SCHEDULED, starts_at=datetime(2030, 5, 1, 12, 5))
    assert rules.room_phase(scheduled, GUEST, NOW).phase == "setup"
    assert rules.room_phase(scheduled, GUEST, NOW - timedelta(minutes=30)).phase == "not_started"


def test_personal_rules():
    room = "Zq3-k9_xY2Lm"
    assert rules.is_personal_room_of(room, room)  # the id stored on its owner
    assert not rules.is_personal_room_of(HOST, room)  # their user id is not their room
    assert not rules.is_personal_room_of(room, "an-older-room-id")
    assert not rules.is_personal_room_of("", "")
    assert not rules.is_personal_room_of("", None)
    assert rules.is_personal_meeting(meeting(kind=CallKind.PERSONAL), False)
    assert rules.is_personal_meeting(meeting(), True)
    assert not rules.is_personal_meeting(meeting(), False)
    assert not rules.is_personal_meeting(None, False)


def test_utc_iso():
    assert rules.utc_iso(None) == ""
    assert rules.utc_iso(datetime(2030, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))) == "2030-05-01T12:30:00Z"
    assert rules.utc_iso(datetime(2030, 5, 1, 12, 30)) == "2030-05-01T12:30:00Z"


# --- invite-only ---------------------------------------------------------------------------------


def test_invite_only_admits_the_creator_and_members_only():
    closed = meeting(invite_only=True, members=(HOST, "m" * 32))
    assert rules.room_phase(closed, HOST, NOW).phase == "setup"
    assert rules.room_phase(closed, "m" * 32, NOW).phase == "setup"
    assert rules.room_phase(closed, GUEST, NOW).phase == "not_allowed"
    assert rules.room_phase(closed, "", NOW).phase == "not_allowed"
    assert rules.room_phase(meeting(members=(HOST,)), GUEST, NOW).phase == "setup"  # open calls stay open
    assert "not_allowed" in list(rules.Phase)


def test_not_allowed_comes_before_ended_and_not_started():
    """Someone not invited learns neither that it ended nor when it starts."""
    ended = meeting(invite_only=True, ended_at=NOW)
    assert rules.room_phase(ended, GUEST, NOW) == rules.RoomDecision("not_allowed")
    later = meeting(invite_only=True, kind=CallKind.SCHEDULED, starts_at=NOW + timedelta(days=1), members=(HOST, GUEST))
    assert rules.room_phase(later, GUEST, NOW).phase == "not_started"
    assert rules.room_phase(later, "c" * 32, NOW) == rules.RoomDecision("not_allowed")


@pytest.mark.parametrize(
    "raw,names",
    [
        ("", []),
        (None, []),
        ("bob", ["bob"]),
        ("  Bob, carol@Example.com;dave\n\teve ", ["bob", "carol@example.com", "dave", "eve"]),
        ("bob,,bob BOB", ["bob"]),
        (",  ;", []),
    ],
)
def test_parse_invitees(raw, names):
    assert rules.parse_invitees(raw) == names


def test_parse_invitees_refusals():
    assert len(rules.parse_invitees(" ".join(f"u{i}" for i in range(50)))) == 50
    with pytest.raises(rules.InviteListError, match="at most 50 people"):
        rules.parse_invitees(" ".join(f"u{i}" for i in range(51)))
    with pytest.raises(rules.InviteListError, match="too long"):
        rules.parse_invitees("x" * 255)
    with pytest.raises(rules.InviteListError):
        rules.parse_invitees(["bob"])


def test_unknown_invitees_message():
    assert rules.unknown_invitees_message(["x", "y"]) == "No Yoom account for: x, y"
    many = rules.unknown_invitees_message([f"u{i}" for i in range(13)])
    assert many.startswith("No Yoom account for: u0, u1") and many.endswith("u9 and 3 more")


# --- who may watch a recording -------------------------------------------------------------------

REC_START, REC_END = NOW - timedelta(hours=2), NOW - timedelta(hours=1)


def stay(start_minutes: int, end_minutes: int | None) -> rules.Attendance:
    """A stay from/to so many minutes after the recording started (None: never closed)."""
    left = None if end_minutes is None else REC_START + timedelta(minutes=end_minutes)
    return rules.Attendance(joined_at=REC_START + timedelta(minutes=start_minutes), left_at=left)


def may_watch(user, stays=(), **kw) -> bool:
    return rules.may_watch_recording(user, meeting(**kw), REC_START, REC_END, list(stays), NOW)


def test_the_host_may_always_watch():
    assert may_watch(HOST)
    assert may_watch(HOST, kind=CallKind.PERSONAL)


@pytest.mark.parametrize(
    ("stays", "allowed"),
    [
        ([stay(-30, 10)], True),  # came before, left while it recorded
        ([stay(50, 90)], True),  # came while it recorded
        ([stay(10, 20)], True),  # a moment in the middle
        ([stay(-90, -10)], False),  # left before it started
        ([stay(61, 120)], False),  # came after it stopped
        ([stay(-90, -10), stay(70, 80)], False),
        ([stay(-90, -10), stay(30, 31)], True),  # the second visit counts
        ([stay(-10, None)], True),  # never closed: still there as far as anyone knows
        ([], False),
    ],
)
def test_people_who_were_there_while_it_recorded(stays, allowed):
    assert may_watch(GUEST, stays) is allowed


def test_an_unclosed_stay_counts_only_up_to_its_bound_and_the_call_s_end():
    long_ago = rules.Attendance(joined_at=REC_START - rules.MAX_OPEN_ATTENDANCE - timedelta(minutes=1))
    assert not may_watch(GUEST, [long_ago])  # a tab that vanished a day before the recording
    assert long_ago.end(NOW) == long_ago.joined_at + rules.MAX_OPEN_ATTENDANCE
    before_end = rules.Attendance(joined_at=REC_START - timedelta(hours=3))
    assert may_watch(GUEST, [before_end])
    assert not may_watch(GUEST, [before_end], ended_at=REC_START - timedelta(minutes=1))
    assert rules.Attendance(joined_at=NOW - timedelta(minutes=5)).end(NOW) == NOW


def test_invitees_only_when_an_invite_only_meeting_shares_its_recordings():
    invited = {"members": (HOST, GUEST)}
    assert may_watch(GUEST, invite_only=True, share_recordings=True, **invited)
    assert not may_watch(GUEST, invite_only=True, share_recordings=False, **invited)
    assert not may_watch(GUEST, invite_only=False, share_recordings=True, **invited)  # an open link has no list
    assert not may_watch(GUEST, **invited)  # a member of an open meeting
    assert not may_watch("c" * 32, invite_only=True, share_recordings=True, **invited)


def test_a_personal_room_visit_reaches_only_recordings_made_during_it():
    room = {"kind": CallKind.PERSONAL, "id": "Zq3-k9_xY2Lm"}
    assert not may_watch(GUEST, [stay(-600, -300)], **room)
    assert may_watch(GUEST, [stay(5, 6)], **room)


def test_nobody_and_zero_length_recordings():
    assert not may_watch("")
    assert not rules.may_watch_recording(None, meeting(), REC_START, REC_END, [], NOW)
    at = REC_START + timedelta(minutes=5)
    assert rules.may_watch_recording(GUEST, meeting(), at, at, [stay(0, 10)], NOW)
    assert not rules.may_watch_recording(GUEST, meeting(), at, at, [stay(6, 10)], NOW)
