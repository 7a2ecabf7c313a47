"""Built-in accounts: sign-up, sign-in, sessions and sign-in throttling (no Reflex import).

Why our own module rather than reflex-local-auth: that package stores the browser-chosen Reflex
client token as the session id and checks logins only in the browser. Here the server makes the
session token with `secrets` (256 bits), stores only its SHA-256, expires and revokes it, and
throttles failed sign-ins with growing delays. The browser gets a session only as an HttpOnly cookie
set by an HTTP route: a form's handler hands it a one-time sign-in ticket (`issue_sign_in_ticket`),
the route redeems it (`redeem_sign_in_ticket`). Clerk, when configured, replaces the forms: its users
come in through `upsert_external_user` (same `User` row, the Clerk id as Yoom's id) with short sessions
bound to the Clerk session (`create_session(provider_session_id=…)`, `extend_provider_session`).

Everything here blocks (bcrypt, SQL): callers on an event loop use `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import bcrypt
import sqlalchemy
from sqlmodel import Session, col, delete, select

from yoom.db import as_utc, get_engine, session_scope, to_db, utcnow
from yoom.models import AuthSession, LoginThrottle, SignInTicket, User
from yoom.settings import get_settings
from yoom.video.base import VideoUser, new_personal_room_id

DISPLAY_NAME_MAX = 80
USERNAME_MIN, USERNAME_MAX = 3, 254
PASSWORD_MIN = 8
PASSWORD_MAX_BYTES = 72  # bcrypt's limit: longer passwords are refused, never silently cut
SESSION_TOKEN_BYTES = 32  # 256 bits
SIGN_IN_TICKET_TTL = timedelta(seconds=60)
USERNAME_LOOKUPS_PER_HOUR = 200  # names checked by "Invite people", per person
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# An external provider's user id becomes Yoom's and the video provider's id: Stream takes these characters.
EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CLERK = "clerk"  # User.identity_provider of Clerk's users
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(Exception):
    """A sign-up or sign-in problem; the message is written for the person at the form."""


class TooManyAttempts(AccountError):
    pass


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_token: str


@dataclass(frozen=True)
class Throttle:
    """Growing delays for one kind of key: nothing for the first `free` failures, then `base` seconds,
    doubling with each further failure up to `cap`. Failures are forgotten `forget` after the last one."""

    free: int
    base: float
    cap: float
    forget: timedelta

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.base * 2 ** (failures - self.free), self.cap)


def throttles() -> dict[str, Throttle]:
    """The rules per key kind, from settings.

    Why these: the pair (account, client) is the attacker's own line and slows to a crawl; the client
    (every account from one address) stops credential stuffing; the account across all clients is only
    ever delayed by a few seconds, so a distributed attack can't keep its owner out — the right password
    gets in within YOOM_LOGIN_MAX_DELAY_SECONDS while the guesses slow to one per that many seconds.
    """
    settings = get_settings()
    forget = timedelta(minutes=15)
    return {
        "pair": Throttle(free=3, base=2.0, cap=900.0, forget=forget),
        "client": Throttle(free=settings.login_max_failures * 4, base=1.0, cap=300.0, forget=forget),
        "account": Throttle(
            free=settings.login_max_failures, base=1.0, cap=settings.login_max_delay_seconds, forget=forget
        ),
    }


def normalize_username(raw: str) -> str:
    return (raw or "").strip().lower()


def validate_signup(display_name: str, username: str, password: str) -> tuple[str, str]:
    name = " ".join((display_name or "").split())
    if not name:
        raise AccountError("Enter your name as others should see it.")
    if len(name) > DISPLAY_NAME_MAX:
        raise AccountError(f"Your name can be at most {DISPLAY_NAME_MAX} characters.")
    handle = normalize_username(username)
    if not (USERNAME_MIN <= len(handle) <= USERNAME_MAX):
        raise AccountError(f"Username or email must be {USERNAME_MIN} to {USERNAME_MAX} characters.")
    if "@" in handle:
        if not EMAIL_RE.match(handle):
            raise AccountError("That email address doesn't look right.")
    elif not USERNAME_RE.match(handle) or len(handle) > 40:
        raise AccountError(
            "A username uses letters, digits, '.', '_' or '-' (at most 40 characters), or use your email."
        )
    validate_password(password)
    return name, handle


def validate_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise AccountError(f"Use a password of at least {PASSWORD_MIN} characters.")
    if len(password.encode("utf-8")) > PASSWORD_MAX_BYTES:
        raise AccountError(f"Passwords can be at most {PASSWORD_MAX_BYTES} bytes (about {PASSWORD_MAX_BYTES} letters).")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _wait_text(seconds: float) -> str:
    seconds = max(1, int(seconds + 0.999))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


# --- sign-up ----------------------------------------------------------------------------------


def sign_up(display_name: str, username: str, password: str, client: str | None = None) -> User:
    """A new account (no session: see `issue_sign_in_ticket` / `create_session`). At most
    YOOM_SIGNUPS_PER_HOUR new accounts per client address an hour."""
    name, handle = validate_signup(display_name, username, password)
    if client:
        _take_signup_slot(client)
    password_hash = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode()
    try:
        with session_scope() as db:
            if db.exec(select(User).where(User.username == handle)).first():
                raise AccountError(f"The username {handle!r} is taken. Choose another or sign in.")
            user = User(
                id=uuid.uuid4().hex,
                username=handle,
                display_name=name,
                password_hash=password_hash,
                created_at=to_db(utcnow()),
            )
            db.add(user)
    except sqlalchemy.exc.IntegrityError:
        # Two sign-ups raced for the same name; the unique index decided.
        raise AccountError(f"The username {handle!r} is taken. Choose another or sign in.") from None
    return user


def take_hourly_slots(key: str, limit: int, count: int, message: str) -> None:
    """Count `count` uses of `key` in a rolling hour; refuse (TooManyAttempts, `message` + the wait) past `limit`."""
    now = utcnow()
    with session_scope() as db:
        row = db.get(LoginThrottle, key)
        if row is None or as_utc(row.last_failure_at) + timedelta(hours=1) <= now:
            row = row or LoginThrottle(key=key, last_failure_at=to_db(now))
            row.failures, row.last_failure_at, row.not_before = 0, to_db(now), None
        if row.failures + count > limit:
            wait = (as_utc(row.last_failure_at) + timedelta(hours=1) - now).total_seconds()
            raise TooManyAttempts(f"{message} Try again in {_wait_text(wait)}.")
        row.failures += count
        db.add(row)


def _take_signup_slot(client: str) -> None:
    take_hourly_slots(
        f"signup:{client[:250]}", get_settings().signups_per_hour, 1, "Too many new accounts from your network."
    )


# --- sign-in and its throttling ---------------------------------------------------------------


def _throttle_keys(username: str, client: str | None) -> dict[str, str]:
    keys = {"account": f"account:{username}"}
    if client:
        keys["pair"] = f"pair:{username}|{client[:200]}"
        keys["client"] = f"client:{client[:250]}"
    return keys


def _check_throttle(db: Session, keys: dict[str, str]) -> None:
    """Refuse (cheaply: no bcrypt) an attempt that comes before its keys' delays have passed."""
    now = utcnow()
    wait = 0.0
    for row in db.exec(select(LoginThrottle).where(col(LoginThrottle.key).in_(list(keys.values())))).all():
        not_before = as_utc(row.not_before)
        if not_before and not_before > now:
            wait = max(wait, (not_before - now).total_seconds())
    if wait:
        raise TooManyAttempts(f"Too many failed sign-ins. Try again in {_wait_text(wait)}.")


def _record_failure(keys: dict[str, str]) -> None:
    rules = throttles()
    now = utcnow()
    with session_scope() as db:
        for kind, key in keys.items():
            rule = rules[kind]
            row = db.get(LoginThrottle, key)
            if row is None or as_utc(row.last_failure_at) + rule.forget < now:
                row = row or LoginThrottle(key=key, last_failure_at=to_db(now))
                row.failures = 0
            row.failures += 1
            row.last_failure_at = to_db(now)
            delay = rule.delay(row.failures)
            row.not_before = to_db(now + timedelta(seconds=delay)) if delay else None
            db.add(row)


def _clear_failures(db: Session, keys: dict[str, str]) -> None:
    # The client key stays: a success on one account says nothing about the others tried from there.
    mine = [key for kind, key in keys.items() if kind != "client"]
    db.exec(delete(LoginThrottle).where(col(LoginThrottle.key).in_(mine)))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return bcrypt.hashpw(b"yoom-timing-equaliser", bcrypt.gensalt()).decode()


def sign_in(username: str, password: str, client: str | None = None) -> User:
    """The account for these credentials, or AccountError / TooManyAttempts with words for the form."""
    handle = normalize_username(username)
    if not handle or not isinstance(password, str) or not password:
        raise AccountError("Enter your username or email and your password.")
    if len(handle) > USERNAME_MAX or len(password.encode("utf-8")) > PASSWORD_MAX_BYTES:
        raise AccountError("Wrong username or password.")
    keys = _throttle_keys(handle, client)
    with session_scope() as db:
        _check_throttle(db, keys)
        user = db.exec(select(User).where(User.username == handle)).first()
        stored = user.password_hash if user and user.password_hash else _dummy_hash()
        # Always run bcrypt so an unknown name takes as long as a wrong password.
        ok = bcrypt.checkpw(password.encode("utf-8"), stored.encode())
        if user and user.password_hash and ok:
            _clear_failures(db, keys)
            return user
    _record_failure(keys)
    raise AccountError("Wrong username or password.")


# --- sessions and sign-in tickets -------------------------------------------------------------


def _add_session(
    db: Session, user_id: str, ttl_seconds: int | None = None, provider_session_id: str | None = None
) -> str:
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    now = utcnow()
    db.add(
        AuthSession(
            token_hash=_hash_token(token),
            user_id=user_id,
            created_at=to_db(now),
            expires_at=to_db(now + timedelta(seconds=ttl_seconds or get_settings().session_ttl_seconds)),
            provider_session_id=provider_session_id,
        )
    )
    return token


def create_session(user_id: str, *, ttl_seconds: int | None = None, provider_session_id: str | None = None) -> str:
    """A new session for the user: the token goes into the HttpOnly cookie; only its hash is stored.

    A session made from an identity provider's session (`provider_session_id`, e.g. a Clerk `sid`) gets a
    short `ttl_seconds` that only `extend_provider_session` renews, with a fresh token of that same session."""
    with session_scope() as db:
        return _add_session(db, user_id, ttl_seconds, provider_session_id)


def extend_provider_session(token: str | None, user_id: str, provider_session_id: str, ttl_seconds: int) -> bool:
    """Renew a live session made from `provider_session_id` for `user_id` by `ttl_seconds` from now.
    False (and nothing changed) when the token names no such session: another user, another provider
    session, a local session, expired or revoked."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return False
    now = utcnow()
    with session_scope() as db:
        result = db.exec(
            sqlalchemy.update(AuthSession)
            .where(
                AuthSession.token_hash == _hash_token(token),
                AuthSession.user_id == user_id,
                AuthSession.provider_session_id == provider_session_id,
                AuthSession.expires_at > to_db(now),
            )
            .values(expires_at=to_db(now + timedelta(seconds=ttl_seconds)))
        )
        return result.rowcount == 1


def issue_sign_in_ticket(user_id: str) -> str:
    """A one-time pass (valid SIGN_IN_TICKET_TTL) that `redeem_sign_in_ticket` exchanges for a session."""
    ticket = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    with session_scope() as db:
        db.add(
            SignInTicket(
                ticket_hash=_hash_token(ticket),
                user_id=user_id,
                expires_at=to_db(utcnow() + SIGN_IN_TICKET_TTL),
            )
        )
    return ticket


def redeem_sign_in_ticket(ticket: object) -> SignedIn | None:
    """The user and a new session token for a valid ticket, which is spent; None for anything else."""
    if not isinstance(ticket, str) or not ticket or len(ticket) > 200:
        return None
    ticket_hash = _hash_token(ticket)
    with session_scope() as db:
        row = db.get(SignInTicket, ticket_hash)
        if row is None:
            return None
        # Whoever deletes the row spends the ticket: two redemptions at once can't both win.
        spent = db.exec(delete(SignInTicket).where(SignInTicket.ticket_hash == ticket_hash))
        if spent.rowcount != 1 or as_utc(row.expires_at) <= utcnow():
            return None
        user = db.get(User, row.user_id)
        if user is None:
            return None
        return SignedIn(user=user, session_token=_add_session(db, user.id))


# One indexed join per lookup: this runs on every event and every API request.
_SESSION_USER = (
    sqlalchemy.select(*User.__table__.columns, AuthSession.expires_at.label("_session_expires_at"))
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(AuthSession.token_hash == sqlalchemy.bindparam("token_hash"))
)


def user_for_session(token: str | None) -> User | None:
    """The signed-in user for a session token, or None when missing, unknown, revoked or expired."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    token_hash = _hash_token(token)
    with get_engine().connect() as conn:
        row = conn.execute(_SESSION_USER, {"token_hash": token_hash}).first()
    if row is None:
        return None
    values = dict(row._mapping)
    if as_utc(values.pop("_session_expires_at")) <= utcnow():
        with session_scope() as db:
            db.exec(delete(AuthSession).where(AuthSession.token_hash == token_hash))
        return None
    # One way in at a time: with Clerk on, only Clerk's users; without it, only Yoom's own accounts.
    if (values["identity_provider"] == CLERK) != get_settings().clerk_enabled:
        return None
    return User.model_construct(**values)


def session_id(token: str | None) -> str | None:
    """A session's public name (the hash it is stored under): goes into video tokens, never a credential."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    return _hash_token(token)


def session_alive(session: object) -> bool:
    """Whether the session named by `session_id` exists and has not expired (blocking: SQL)."""
    if not isinstance(session, str) or len(session) != 64:
        return False
    with session_scope() as db:
        row = db.get(AuthSession, session)
        return row is not None and as_utc(row.expires_at) > utcnow()


def sign_out(token: str | None) -> None:
    """Revoke the session on the server: the token never works again."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return
    with session_scope() as db:
        db.exec(delete(AuthSession).where(AuthSession.token_hash == _hash_token(token)))


def purge_expired() -> int:
    """Delete expired sessions and tickets and throttle rows nobody needs; returns how many sessions went."""
    now = to_db(utcnow())
    stale = to_db(utcnow() - timedelta(hours=2))  # longer than every throttle's memory and the sign-up hour
    with session_scope() as db:
        result = db.exec(delete(AuthSession).where(AuthSession.expires_at <= now))
        db.exec(delete(SignInTicket).where(SignInTicket.expires_at <= now))
        db.exec(
            delete(LoginThrottle).where(
                LoginThrottle.last_failure_at < stale,
                sqlalchemy.or_(LoginThrottle.not_before.is_(None), LoginThrottle.not_before < now),
            )
        )
        return result.rowcount or 0


def _free_username(db: Session, user_id: str, wanted: list[str], current: str | None) -> str:
    """The first choice if no other account holds it, else that choice with a suffix from the id, else the
    other choices. An existing account moves only to its first choice (a username renamed in the provider)
    and otherwise keeps the one it has."""

    def free(name: str) -> bool:
        holder = db.exec(select(User.id).where(User.username == name)).first()
        return holder is None or holder == user_id

    if current is not None:
        return wanted[0] if current != wanted[0] and free(wanted[0]) else current
    # The chosen name with a stable suffix reads better than falling back to an email or the id.
    suffixed = f"{wanted[0][: USERNAME_MAX - 7]}-{hashlib.sha256(user_id.encode()).hexdigest()[:6]}"
    last_resort = f"{wanted[0][: USERNAME_MAX - 9]}-{secrets.token_hex(4)}"
    for name in [wanted[0], suffixed, *wanted[1:], last_resort]:
        if free(name):
            return name
    raise AccountError("Yoom could not find a free username for your account. Please try again.")


def upsert_external_user(
    provider: str,
    external_id: str,
    *,
    username: str | None = None,
    email: str | None = None,
    image_url: str | None = None,
) -> User:
    """The Yoom user for someone another identity provider vouches for (the caller verified them).

    The provider's user id is Yoom's id as is — and so the video provider's (Stream) id: meetings and
    recordings made under that id by another app on the same Stream account are this person's here too.
    The name shown is the provider's username, else the id. Yoom's own unique `username` (what "Invite
    people" looks up) is that username, else the email, else the id; when another account already holds it,
    a suffix made from the id keeps it unique. Raises AccountError (words for the person), never a database
    error."""
    if not isinstance(external_id, str) or not EXTERNAL_ID_RE.fullmatch(external_id):
        raise AccountError("Your sign-in provider gave an account id Yoom can't use.")
    shown = " ".join((username or "").split())[:DISPLAY_NAME_MAX] or external_id
    wanted = [normalize_username(username or ""), normalize_username(email or ""), external_id.lower()]
    wanted = [name for name in wanted if USERNAME_MIN <= len(name) <= USERNAME_MAX] or [
        f"{provider}-{external_id.lower()}"
    ]
    image = (
        image_url
        if isinstance(image_url, str) and image_url.startswith("https://") and len(image_url) <= 2048
        else None
    )
    for _attempt in range(3):
        try:
            with session_scope() as db:
                user = db.get(User, external_id)
                if user is not None and user.identity_provider != provider:
                    raise AccountError("This account id already belongs to another Yoom account.")
                handle = _free_username(db, external_id, wanted, user.username if user else None)
                if user is None:
                    user = User(
                        id=external_id,
                        username=handle,
                        display_name=shown,
                        image_url=image,
                        identity_provider=provider,
                        created_at=to_db(utcnow()),
                    )
                else:
                    user.username, user.display_name, user.image_url = handle, shown, image
                db.add(user)
            return user
        except sqlalchemy.exc.IntegrityError:
            # Another sign-in of the same person, or a sign-up taking the same username, won the race:
            # the next round sees its row.
            continue
    raise AccountError("Yoom could not save your account just now. Please try again.")


def get_user(user_id: str) -> User | None:
    with session_scope() as db:
        return db.get(User, user_id)


def users_by_username(usernames, looked_up_by: str | None = None) -> dict[str, User]:
    """The accounts with these usernames (or emails; matched as stored, lower-case), keyed by username.
    Names with no account are simply absent. One query.

    `looked_up_by` (a person typing names into "Invite people") counts every name against
    USERNAME_LOOKUPS_PER_HOUR: answering "no account for …" name by name would otherwise let anyone list
    who has an account here."""
    names = list(dict.fromkeys(normalize_username(n) for n in usernames if isinstance(n, str)))
    names = [n for n in names if n and len(n) <= USERNAME_MAX]
    if not names:
        return {}
    if looked_up_by:
        take_hourly_slots(
            f"lookup:{looked_up_by}", USERNAME_LOOKUPS_PER_HOUR, len(names), "You've looked up a lot of usernames."
        )
    with session_scope() as db:
        return {user.username: user for user in db.exec(select(User).where(User.username.in_(names))).all()}


def reset_personal_room_id(user_id: str) -> str:
    """Give this person's personal room a new random id (their old link stops opening it); returns it.
    Ending the room of the old id is the caller's part (it lives on the video provider)."""
    for _ in range(3):  # a clash of 72 random bits is all but impossible; the unique index decides
        new_id = new_personal_room_id()
        try:
            with session_scope() as db:
                user = db.get(User, user_id)
                if user is None:
                    raise AccountError("Your account wasn't found. Sign in again.")
                user.personal_room_id = new_id
                db.add(user)
            return new_id
        except sqlalchemy.exc.IntegrityError:
            continue
    raise AccountError("A new link couldn't be made just now. Please try again.")


def video_user(user: User) -> VideoUser:
    """The same person on the video provider: same id, name and image."""
    return VideoUser(id=user.id, name=user.display_name, image=user.image_url)


def initials(name: str) -> str:
    parts = [p for p in (name or "").split() if p]
    if not parts:
        return "?"
    letters = parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")
    return letters.upper()
