"""Who may join and who may do what (yoom/access_rules.py): pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from yoom.access_rules import (
    PERMISSIONS,
    Access,
    Action,
    Entry,
    Role,
    WhoMayJoin,
    check_access_change,
    default_access,
    entry,
    may,
    parse_access,
    role_of,
)
from yoom.video.base import CallKind, Meeting

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def meeting(kind=CallKind.INSTANT, invite_only=False, members=("host", "ivy")) -> Meeting:
    return Meeting(id="m1", created_by="host", kind=kind, created_at=NOW, members=members, invite_only=invite_only)


def test_defaults_instant_and_scheduled_for_signed_in_people_without_a_lobby_the_personal_room_asks():
    assert default_access(CallKind.INSTANT) == Access(WhoMayJoin.SIGNED_IN, False)
    assert default_access(CallKind.SCHEDULED) == Access(WhoMayJoin.SIGNED_IN, False)
    assert default_access(CallKind.PERSONAL) == Access(WhoMayJoin.SIGNED_IN, True)
    assert default_access(CallKind.SCHEDULED, invite_only=True) == Access(WhoMayJoin.INVITE_ONLY, False)


def test_roles_a_guest_is_only_ever_a_guest():
    m = meeting()
    assert role_of(m, "host", is_guest=False) is Role.HOST
    assert role_of(m, "cora", is_guest=False, co_hosts={"cora"}) is Role.CO_HOST
    assert role_of(m, "ivy", is_guest=False) is Role.INVITEE
    assert role_of(m, "sam", is_guest=False) is Role.SIGNED_IN
    # A guest claiming the host's id (or a co-host's) gets nothing of theirs.
    assert role_of(m, "host", is_guest=True, co_hosts={"host"}) is Role.GUEST


@pytest.mark.parametrize(
    ("who", "ask", "role", "status", "expected"),
    [
        (WhoMayJoin.ANYONE, False, Role.GUEST, None, Entry.IN),
        (WhoMayJoin.SIGNED_IN, False, Role.GUEST, None, Entry.SIGN_IN),
        (WhoMayJoin.SIGNED_IN, False, Role.SIGNED_IN, None, Entry.IN),
        (WhoMayJoin.INVITE_ONLY, False, Role.SIGNED_IN, None, Entry.NOT_ALLOWED),
        (WhoMayJoin.INVITE_ONLY, False, Role.INVITEE, None, Entry.IN),
        (WhoMayJoin.INVITE_ONLY, True, Role.GUEST, "admitted", Entry.SIGN_IN),  # an answer can't beat the list
        (WhoMayJoin.ANYONE, True, Role.GUEST, None, Entry.LOBBY),
        (WhoMayJoin.ANYONE, True, Role.GUEST, "pending", Entry.LOBBY),
        (WhoMayJoin.ANYONE, True, Role.GUEST, "admitted", Entry.IN),
        (WhoMayJoin.ANYONE, True, Role.GUEST, "denied", Entry.DENIED),
        (WhoMayJoin.SIGNED_IN, True, Role.SIGNED_IN, None, Entry.LOBBY),
        (WhoMayJoin.SIGNED_IN, True, Role.INVITEE, None, Entry.IN),  # invitees skip the lobby
        (WhoMayJoin.SIGNED_IN, True, Role.CO_HOST, None, Entry.IN),
        (WhoMayJoin.INVITE_ONLY, True, Role.HOST, "denied", Entry.IN),  # the host always
    ],
)
def test_entry(who, ask, role, status, expected):
    assert entry(Access(who, ask), role, status) is expected


def test_the_permission_table():
    assert may(Role.HOST, Action.REMOVE) and not may(Role.CO_HOST, Action.REMOVE)
    assert may(Role.CO_HOST, Action.ADMIT) and may(Role.CO_HOST, Action.MUTE_ALL)
    assert not may(Role.CO_HOST, Action.MAKE_CO_HOST) and not may(Role.CO_HOST, Action.CHANGE_ACCESS)
    for action in (Action.ADMIT, Action.REMOVE, Action.MUTE_ALL, Action.MAKE_CO_HOST, Action.USE_YOOM):
        assert not may(Role.GUEST, action), action
        assert not may(Role.SIGNED_IN, action) or action is Action.USE_YOOM
    assert may(Role.GUEST, Action.TAKE_PART)
    assert set(PERMISSIONS) == set(Action)  # every action has its row


def test_access_from_the_browser_is_checked():
    assert parse_access("anyone", True) == Access(WhoMayJoin.ANYONE, True)
    for who, ask in [("everyone", False), (None, False), ("anyone", "yes"), (["anyone"], True), ("anyone", 1)]:
        assert parse_access(who, ask) is None


def test_an_invite_only_meeting_stays_invite_only_and_a_personal_room_never_becomes_one():
    closed = meeting(invite_only=True)
    assert "stays invite-only" in check_access_change(closed, Access(WhoMayJoin.ANYONE, False))
    assert check_access_change(closed, Access(WhoMayJoin.INVITE_ONLY, True)) is None
    personal = meeting(kind=CallKind.PERSONAL)
    assert check_access_change(personal, Access(WhoMayJoin.INVITE_ONLY, False)) is not None
    assert check_access_change(personal, Access(WhoMayJoin.ANYONE, True)) is None
    assert Access(WhoMayJoin.ANYONE, True).summary == "Anyone with the link (guests too) · ask to join"
