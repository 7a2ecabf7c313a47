"""Guests (yoom/guests.py) and the lobby's records (yoom/admission.py) on a real SQLite database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from yoom import accounts, admission, guests
from yoom.access_rules import Access, WhoMayJoin
from yoom.db import session_scope, utcnow
from yoom.models import CallKnock, Guest
from yoom.video.base import CallKind, Meeting

CALL = "c0ffee00-0000-4000-8000-000000000001"


@pytest.fixture(autouse=True)
def _db(yoom_env):
    return yoom_env


def stored_guests() -> list[Guest]:
    with session_scope() as db:
        return list(db.exec(select(Guest)).all())


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "Type your name"),
        ("   \t ", "Type your name"),
        ("x" * 41, "40 characters"),
        ("x" * 10_000, "40 characters"),
        ("Ada\x00Lovelace", "control or invisible"),
        ("Ada\u202eevil", "control or invisible"),
        ("Zero\u200bwidth", "control or invisible"),
        (None, "Type your name"),
        (["Ada"], "Type your name"),
    ],
)
def test_bad_names_are_refused_with_words_and_nothing_is_stored(raw, words):
    with pytest.raises(guests.GuestError, match=words):
        guests.create(CALL, raw, "198.51.100.1")
    assert stored_guests() == []


def test_a_name_is_trimmed_and_markup_kept_as_text():
    made = guests.create(CALL, "  <img src=x onerror=alert(1)>  Ada  ", "198.51.100.1")
    assert made.guest.name == "<img src=x onerror=alert(1)> Ada"
    assert guests.display_name(made.guest.name).endswith("(guest)")
    assert guests.is_guest_id(made.guest.id)
    # Only a hash of the cookie's token is stored; the token finds the guest, nothing else does.
    assert made.token not in made.guest.token_hash
    assert guests.guest_for_token(made.token).id == made.guest.id
    assert guests.guest_for_token(made.token + "x") is None
    assert guests.guest_for_token("") is None and guests.guest_for_token("a" * 10_000) is None


def test_guest_joins_are_throttled_per_client_address():
    for n in range(guests.GUESTS_PER_HOUR):
        guests.create(CALL, f"Guest {n}", "198.51.100.7")
    with pytest.raises(accounts.TooManyAttempts, match="Too many guests"):
        guests.create(CALL, "One too many", "198.51.100.7")
    assert len(stored_guests()) == guests.GUESTS_PER_HOUR
    guests.create(CALL, "Another network", "203.0.113.5")  # other addresses are not held up


def test_an_expired_guest_pass_opens_nothing():
    made = guests.create(CALL, "Ada", "198.51.100.1")
    with session_scope() as db:
        row = db.get(Guest, made.guest.id)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
    assert guests.guest_for_token(made.token) is None
    assert guests.get(made.guest.id) is None
    assert guests.purge_expired() == 1


def test_knock_admit_deny_and_answers_that_stick():
    assert admission.knock(CALL, "u1", "Una", is_guest=False) is admission.Status.PENDING
    assert admission.knock(CALL, "u1", "Una", is_guest=False) is admission.Status.PENDING  # once
    assert [k.user_id for k in admission.pending(CALL)] == ["u1"]
    assert admission.decide(CALL, "u1", True, "host") is True
    assert admission.status_of(CALL, "u1") is admission.Status.ADMITTED
    assert admission.knock(CALL, "u1", "Una", is_guest=False) is admission.Status.ADMITTED
    admission.knock(CALL, "u2", "Dee", is_guest=True)
    assert admission.decide(CALL, "u2", False, "host") is True
    assert admission.status_of(CALL, "u2") is admission.Status.DENIED
    # An answer for someone who isn't waiting (a forged admission) changes nothing.
    assert admission.decide(CALL, "nobody", True, "host") is False
    assert admission.decide(CALL, "u2", True, "host") is False
    assert admission.status_of(CALL, "nobody") is None
    assert admission.pending(CALL) == []


def test_a_knock_flood_is_bounded():
    for n in range(admission.MAX_PENDING):
        admission.knock(CALL, f"g{n}", f"Guest {n}", is_guest=True)
    with pytest.raises(admission.LobbyFull):
        admission.knock(CALL, "late", "Late", is_guest=True)
    with session_scope() as db:
        assert len(db.exec(select(CallKnock)).all()) == admission.MAX_PENDING
    assert len(admission.pending(CALL)) == admission.MAX_PENDING


def test_access_is_stored_per_meeting_with_defaults_for_the_rest():
    instant = Meeting(id=CALL, created_by="host", kind=CallKind.INSTANT, created_at=utcnow())
    room = Meeting(id="room12345678", created_by="host", kind=CallKind.PERSONAL, created_at=utcnow())
    assert admission.access_of(instant) == Access(WhoMayJoin.SIGNED_IN, False)
    assert admission.access_of(room) == Access(WhoMayJoin.SIGNED_IN, True)
    admission.set_access(CALL, Access(WhoMayJoin.ANYONE, True), "host")
    assert admission.access_of(instant) == Access(WhoMayJoin.ANYONE, True)
    assert admission.accesses_of([instant, room]) == {
        CALL: Access(WhoMayJoin.ANYONE, True),
        "room12345678": Access(WhoMayJoin.SIGNED_IN, True),
    }
    admission.make_co_host(CALL, "cora", "host")
    admission.make_co_host(CALL, "cora", "host")
    assert admission.co_hosts(CALL) == {"cora"}
