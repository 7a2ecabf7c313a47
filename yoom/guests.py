"""Guests: people without an account who join one meeting by its link (no Reflex import).

A guest is made by `POST /api/guests` (yoom/api/guests.py) for one call: a random id (`guest-…`, never a
Yoom or Clerk user id), the name they typed, and a random token in the HttpOnly `yoom_guest` cookie, of
which only a hash is stored. It lasts GUEST_TTL; its video tokens are scoped to that call alone
(`call_cids`) and short-lived. Guest joins are limited per client address (GUESTS_PER_HOUR, on the same
rolling-hour counters as sign-ups, yoom/accounts.py).

Everything here blocks (SQL): callers on an event loop use `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, delete, select

from yoom import accounts
from yoom.db import as_utc, session_scope, to_db, utcnow
from yoom.models import Guest
from yoom.video.base import VideoUser, is_valid_call_id

GUEST_COOKIE = "yoom_guest"
GUEST_TTL = timedelta(hours=12)
GUEST_TOKEN_TTL_SECONDS = 600  # a guest's video token: renewed by the page while in the call
GUESTS_PER_HOUR = 20  # guest joins per client address
NAME_MIN, NAME_MAX = 1, 40
GUEST_ID_PREFIX = "guest-"
_GUEST_ID = re.compile(r"guest-[0-9a-f]{20}")


class GuestError(ValueError):
    """Why someone can't join as a guest; the message is written for them."""


def validate_name(raw: object) -> str:
    """A guest's name: 1–40 characters after trimming, no control or invisible format characters. Markup
    is kept as typed (every page shows it as text, never as HTML)."""
    if not isinstance(raw, str):
        raise GuestError("Type your name to join.")
    if len(raw) > 1000:
        raise GuestError(f"Keep your name to {NAME_MAX} characters or fewer.")
    name = " ".join(raw.split())
    if len(name) < NAME_MIN:
        raise GuestError("Type your name to join.")
    if len(name) > NAME_MAX:
        raise GuestError(f"Keep your name to {NAME_MAX} characters or fewer.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        raise GuestError("Your name can't contain control or invisible characters.")
    return name


def is_guest_id(value: object) -> bool:
    return isinstance(value, str) and _GUEST_ID.fullmatch(value) is not None


def display_name(name: str) -> str:
    """How the others see a guest: their name, marked as a guest."""
    return f"{name} (guest)"


def video_user(guest: Guest) -> VideoUser:
    return VideoUser(id=guest.id, name=display_name(guest.name))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewGuest:
    guest: Guest
    token: str  # for the cookie only


def create(call_id: str, raw_name: object, client: str) -> NewGuest:
    """A guest for `call_id`; raises GuestError (a bad name) or accounts.TooManyAttempts (the throttle)."""
    if not is_valid_call_id(call_id):
        raise GuestError("That meeting link isn't valid.")
    name = validate_name(raw_name)
    accounts.take_hourly_slots(
        f"guest:{client[:250]}", GUESTS_PER_HOUR, 1, "Too many guests have joined from your network."
    )
    token = secrets.token_urlsafe(32)
    now = utcnow()
    guest = Guest(
        id=GUEST_ID_PREFIX + secrets.token_hex(10),
        token_hash=_hash(token),
        name=name,
        call_id=call_id,
        created_at=to_db(now),
        expires_at=to_db(now + GUEST_TTL),
    )
    with session_scope() as db:
        db.add(guest)
    return NewGuest(guest, token)


def guest_for_token(token: str | None) -> Guest | None:
    """The live guest behind a `yoom_guest` cookie, or None."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    with session_scope() as db:
        guest = db.exec(select(Guest).where(Guest.token_hash == _hash(token))).first()
    if guest is None or as_utc(guest.expires_at) <= utcnow():
        return None
    return guest


def get(guest_id: str) -> Guest | None:
    """A live guest by id (the room channel names the guest by the id in its token)."""
    if not is_guest_id(guest_id):
        return None
    with session_scope() as db:
        guest = db.get(Guest, guest_id)
    if guest is None or as_utc(guest.expires_at) <= utcnow():
        return None
    return guest


def end(token: str | None) -> None:
    """The guest leaves for good (their cookie is cleared too)."""
    if token and isinstance(token, str) and len(token) <= 200:
        with session_scope() as db:
            db.exec(delete(Guest).where(Guest.token_hash == _hash(token)))


def purge_expired() -> int:
    with session_scope() as db:
        return db.exec(delete(Guest).where(col(Guest.expires_at) <= to_db(utcnow()))).rowcount
