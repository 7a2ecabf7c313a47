"""Built-in accounts: sign-up, sign-in, sessions and sign-in throttling (no Reflex import).

Why our own module rather than reflex-local-auth: that package stores the browser-chosen Reflex
client token as the session id and checks logins only in the browser. Here the server makes the
session token with `secrets` (256 bits), stores only its SHA-256, expires and revokes it, and
throttles failed sign-ins per account and per client. Another identity provider (Clerk) plugs in
through `upsert_external_user`, which maps its user onto the same `User` row and session.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import bcrypt
import sqlalchemy
from sqlmodel import Session, delete, select

from yoom.db import as_utc, get_engine, session_scope, to_db, utcnow
from yoom.models import AuthSession, LoginThrottle, User
from yoom.settings import get_settings
from yoom.video.base import VideoUser, new_personal_room_id

DISPLAY_NAME_MAX = 80
USERNAME_MIN, USERNAME_MAX = 3, 254
PASSWORD_MIN = 8
PASSWORD_MAX_BYTES = 72  # bcrypt's limit: longer passwords are refused, never silently cut
SESSION_TOKEN_BYTES = 32  # 256 bits
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(Exception):
    """A sign-up or sign-in problem; the message is written for the person at the form."""


class TooManyAttempts(AccountError):
    pass


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_token: str


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


def _new_session(db: Session, user: User) -> str:
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    now = utcnow()
    db.add(
        AuthSession(
            token_hash=_hash_token(token),
            user_id=user.id,
            created_at=to_db(now),
            expires_at=to_db(now + timedelta(seconds=get_settings().session_ttl_seconds)),
        )
    )
    return token


def sign_up(display_name: str, username: str, password: str) -> SignedIn:
    name, handle = validate_signup(display_name, username, password)
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
            db.flush()
            token = _new_session(db, user)
    except sqlalchemy.exc.IntegrityError:
        # Two sign-ups raced for the same name; the unique index decided.
        raise AccountError(f"The username {handle!r} is taken. Choose another or sign in.") from None
    return SignedIn(user=user, session_token=token)


# --- throttling -------------------------------------------------------------------------------


def _throttle_keys(username: str, client: str | None) -> list[str]:
    keys = [f"account:{username}"]
    if client:
        keys.append(f"client:{client[:250]}")
    return keys


def _check_throttle(db: Session, keys: list[str]) -> None:
    now = utcnow()
    for row in db.exec(select(LoginThrottle).where(LoginThrottle.key.in_(keys))).all():
        locked_until = as_utc(row.locked_until)
        if locked_until and locked_until > now:
            wait = int((locked_until - now).total_seconds()) + 1
            minutes = (wait + 59) // 60
            raise TooManyAttempts(
                f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
            )


def _record_failure(keys: list[str]) -> None:
    settings = get_settings()
    now = utcnow()
    window = timedelta(seconds=settings.login_lockout_seconds)
    with session_scope() as db:
        for key in keys:
            row = db.get(LoginThrottle, key)
            if row is None or as_utc(row.window_started_at) + window < now:
                row = row or LoginThrottle(key=key, window_started_at=to_db(now))
                row.failures = 0
                row.window_started_at = to_db(now)
                row.locked_until = None
            row.failures += 1
            # The client limit is wider: several people may share one address.
            limit = settings.login_max_failures * (1 if key.startswith("account:") else 4)
            if row.failures >= limit:
                row.locked_until = to_db(now + window)
            db.add(row)


def _clear_failures(db: Session, username: str) -> None:
    db.exec(delete(LoginThrottle).where(LoginThrottle.key == f"account:{username}"))


_DUMMY_HASH = bcrypt.hashpw(b"yoom-timing-equaliser", bcrypt.gensalt()).decode()


def sign_in(username: str, password: str, client: str | None = None) -> SignedIn:
    handle = normalize_username(username)
    if not handle or not isinstance(password, str) or not password:
        raise AccountError("Enter your username or email and your password.")
    if len(handle) > USERNAME_MAX or len(password.encode("utf-8")) > PASSWORD_MAX_BYTES:
        raise AccountError("Wrong username or password.")
    keys = _throttle_keys(handle, client)
    with session_scope() as db:
        _check_throttle(db, keys)
        user = db.exec(select(User).where(User.username == handle)).first()
        stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
        # Always run bcrypt so an unknown name takes as long as a wrong password.
        ok = bcrypt.checkpw(password.encode("utf-8"), stored.encode())
        if user and user.password_hash and ok:
            _clear_failures(db, handle)
            token = _new_session(db, user)
            return SignedIn(user=user, session_token=token)
    _record_failure(keys)
    raise AccountError("Wrong username or password.")


# --- sessions ---------------------------------------------------------------------------------

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
    return User.model_construct(**values)


def sign_out(token: str | None) -> None:
    """Revoke the session on the server: the token never works again."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return
    with session_scope() as db:
        db.exec(delete(AuthSession).where(AuthSession.token_hash == _hash_token(token)))


def purge_expired() -> int:
    """Delete expired sessions and stale throttle rows; returns how many sessions went."""
    now = to_db(utcnow())
    stale = to_db(utcnow() - timedelta(seconds=get_settings().login_lockout_seconds * 2))
    with session_scope() as db:
        result = db.exec(delete(AuthSession).where(AuthSession.expires_at <= now))
        db.exec(
            delete(LoginThrottle).where(
                LoginThrottle.window_started_at < stale,
                sqlalchemy.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
            )
        )
        return result.rowcount or 0


def upsert_external_user(
    provider: str, external_id: str, display_name: str, image_url: str | None, username: str
) -> SignedIn:
    """Sign in a user vouched for by another identity provider (e.g. Clerk, verified by the caller)."""
    user_id = f"{provider}_{external_id}"[:64]
    with session_scope() as db:
        user = db.get(User, user_id)
        if user is None:
            user = User(
                id=user_id,
                username=normalize_username(username) or user_id,
                display_name=display_name[:DISPLAY_NAME_MAX],
                image_url=image_url,
                identity_provider=provider,
                created_at=to_db(utcnow()),
            )
        else:
            user.display_name, user.image_url = display_name[:DISPLAY_NAME_MAX], image_url
        db.add(user)
        db.flush()
        token = _new_session(db, user)
    return SignedIn(user=user, session_token=token)


def get_user(user_id: str) -> User | None:
    with session_scope() as db:
        return db.get(User, user_id)


def users_by_username(usernames) -> dict[str, User]:
    """The accounts with these usernames (or emails; matched as stored, lower-case), keyed by username.
    Names with no account are simply absent. One query."""
    names = list(dict.fromkeys(normalize_username(n) for n in usernames if isinstance(n, str)))
    names = [n for n in names if n and len(n) <= USERNAME_MAX]
    if not names:
        return {}
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
