"""Yoom's tables. Migrations live in alembic/ (`reflex db makemigrations` after a change here).

Datetimes are aware UTC (sqlmodel's UTCDateTime columns; yoom.db.to_db / as_utc).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy
from sqlmodel import Field, SQLModel

from yoom.video.base import new_personal_room_id


class User(SQLModel, table=True):
    __tablename__ = "yoom_user"

    id: str = Field(primary_key=True, max_length=64)
    username: str = Field(index=True, unique=True, max_length=254)
    display_name: str = Field(max_length=80)
    # Empty for accounts of an external identity provider (e.g. Clerk), which never sign in here.
    password_hash: str = Field(default="", max_length=255)
    image_url: str | None = Field(default=None, max_length=2048)
    identity_provider: str = Field(default="local", max_length=32)
    created_at: datetime
    # The id of this person's personal room: random (the user id is sent to everyone in a call, so it
    # can't name a room), replaced by "Reset link" on /personal-room.
    personal_room_id: str = Field(default_factory=new_personal_room_id, unique=True, index=True, max_length=64)


class AuthSession(SQLModel, table=True):
    """A signed-in browser. Only a hash of the token is stored: a leaked table signs no one in."""

    __tablename__ = "yoom_auth_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="yoom_user.id", index=True, max_length=64)
    created_at: datetime
    expires_at: datetime = Field(index=True)
    # The identity provider's session this one was made from (a Clerk `sid`): only a token of that same
    # session extends it, so it can't outlive the provider's session by more than its short lifetime.
    provider_session_id: str | None = Field(default=None, max_length=128)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins (and sign-ups) counted per key: "account:<username>", "pair:<username>|<client>",
    "client:<address>", "signup:<address>". Failures cost growing delays (`not_before`), never a lock-out."""

    __tablename__ = "yoom_login_throttle"

    key: str = Field(primary_key=True, max_length=300)
    failures: int = 0
    last_failure_at: datetime
    not_before: datetime | None = None


class SignInTicket(SQLModel, table=True):
    """A one-time, short-lived pass from a sign-in form to the cookie route (`POST /api/auth/session`), which
    turns it into a session and an HttpOnly cookie: page JavaScript never holds a session token."""

    __tablename__ = "yoom_sign_in_ticket"

    ticket_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="yoom_user.id", index=True, max_length=64)
    expires_at: datetime = Field(index=True)


class LocalCall(SQLModel, table=True):
    """A meeting of the embedded (local) video provider."""

    __tablename__ = "yoom_local_call"

    id: str = Field(primary_key=True, max_length=64)
    call_type: str = Field(default="default", max_length=32)
    kind: str = Field(max_length=16)  # instant | scheduled | personal
    created_by: str = Field(foreign_key="yoom_user.id", index=True, max_length=64)
    description: str = Field(default="", max_length=500)
    starts_at: datetime | None = Field(default=None, index=True)
    created_at: datetime
    ended_at: datetime | None = Field(default=None, index=True)
    ended_by: str | None = Field(default=None, max_length=64)
    # Only the creator and the members (yoom_local_call_member) may enter.
    invite_only: bool = Field(default=False, sa_column_kwargs={"server_default": sqlalchemy.false()})
    # Invite-only only: the members may watch its recordings too (the host chose so when scheduling).
    share_recordings: bool = Field(default=False, sa_column_kwargs={"server_default": sqlalchemy.false()})


class LocalCallMember(SQLModel, table=True):
    """Who belongs to a local call: its creator (role host) and the people invited (role member).
    Joining doesn't make a member: who was there, and when, is in yoom_call_attendance."""

    __tablename__ = "yoom_local_call_member"

    call_id: str = Field(foreign_key="yoom_local_call.id", primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="yoom_user.id", primary_key=True, index=True, max_length=64)
    role: str = Field(default="member", max_length=16)  # host | member
    created_at: datetime


class LocalRecording(SQLModel, table=True):
    """A meeting recorded in the browser and uploaded to Yoom's server."""

    __tablename__ = "yoom_local_recording"

    id: str = Field(primary_key=True, max_length=64)
    call_id: str = Field(foreign_key="yoom_local_call.id", index=True, max_length=64)
    # Whose storage quota it counts against: the meeting's host, who uploaded it.
    created_by: str = Field(foreign_key="yoom_user.id", index=True, max_length=64)
    filename: str = Field(max_length=255)
    stored_name: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int
    start_time: datetime
    end_time: datetime
    created_at: datetime


class CallRemoval(SQLModel, table=True):
    """Someone the host removed from a meeting (either provider): they can't come back into it until the
    host lets them. Not a foreign key to yoom_local_call: Stream's calls live at Stream."""

    __tablename__ = "yoom_call_removal"

    call_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=64)
    removed_by: str = Field(max_length=64)
    removed_at: datetime


class CallAttendance(SQLModel, table=True):
    """One stay of a person in a call (either provider): from joining to leaving. Who may watch a recording
    follows from these (yoom.meeting_rules.may_watch_recording). `left_at` is None while they are there;
    an interval nobody closed counts only up to a bound (yoom.meeting_rules.MAX_OPEN_ATTENDANCE)."""

    __tablename__ = "yoom_call_attendance"
    __table_args__ = (sqlalchemy.Index("ix_yoom_call_attendance_user_call", "user_id", "call_id"),)

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key: Stream's calls live on Stream, not in yoom_local_call.
    call_id: str = Field(index=True, max_length=64)
    user_id: str = Field(foreign_key="yoom_user.id", max_length=64)
    # "rtc": a socket of the embedded signaling in this process (closed at start-up after a crash);
    # "page": the meeting page said so (Stream; the browser may still be in the call across a restart).
    source: str = Field(max_length=8)
    joined_at: datetime
    left_at: datetime | None = Field(default=None, index=True)


class ChatMessage(SQLModel, table=True):
    """One chat message sent in a meeting (either provider) through the room channel (yoom/rtc/room.py).
    Read only through the room channel, by the people it admits into the meeting (yoom/chat.py says who
    and how far back). Not a foreign key to yoom_local_call: Stream's calls live at Stream; the sender may
    be a guest without an account, so neither to yoom_user."""

    __tablename__ = "yoom_chat_message"
    __table_args__ = (sqlalchemy.Index("ix_yoom_chat_message_call_sent", "call_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    # The name shown when it was sent (a guest has no account to look it up in later).
    user_name: str = Field(max_length=80)
    text: str = Field(max_length=2000)
    sent_at: datetime


class RecordingUpload(SQLModel, table=True):
    """A recording arriving in parts while the meeting is recorded (yoom/api/recording_parts.py). The parts
    are appended, in order, to one file in the recordings folder; when the recorder says it is done, or it
    stops sending (a closed tab, a crash, a lost network), what arrived becomes a recording
    (yoom/recording_uploads.py)."""

    __tablename__ = "yoom_recording_upload"

    id: str = Field(primary_key=True, max_length=64)
    call_id: str = Field(foreign_key="yoom_local_call.id", index=True, max_length=64)
    created_by: str = Field(foreign_key="yoom_user.id", index=True, max_length=64)
    content_type: str = Field(max_length=100)
    started_at: datetime
    parts: int = 0
    size_bytes: int = 0
    # When the last part arrived: an upload quiet for long enough is finalised from what it has.
    last_part_at: datetime = Field(index=True)


class CallAccess(SQLModel, table=True):
    """Who may join a meeting and whether they ask first (either provider; yoom/access_rules.py). No row:
    the defaults for the meeting's kind (access_rules.default_access). Not a foreign key to
    yoom_local_call: Stream's calls live at Stream."""

    __tablename__ = "yoom_call_access"

    call_id: str = Field(primary_key=True, max_length=64)
    who_may_join: str = Field(max_length=16)  # access_rules.WhoMayJoin
    ask_to_join: bool = False
    updated_by: str = Field(max_length=64)
    updated_at: datetime


class CallCoHost(SQLModel, table=True):
    """Someone the host made co-host of a meeting: they let people in from the lobby too."""

    __tablename__ = "yoom_call_cohost"

    call_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=64)
    made_by: str = Field(max_length=64)
    made_at: datetime


class CallKnock(SQLModel, table=True):
    """A person asking to join a meeting with a lobby, and the host's answer (yoom/admission.py)."""

    __tablename__ = "yoom_call_knock"

    call_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=64)
    # The name the host sees (a guest's chosen name, else the account's), kept as typed: shown as text.
    name: str = Field(max_length=80)
    is_guest: bool = False
    status: str = Field(max_length=16)  # admission.Status
    knocked_at: datetime = Field(index=True)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = None


class Guest(SQLModel, table=True):
    """Someone without an account who joined one meeting by its link (yoom/guests.py). Only a hash of the
    `yoom_guest` cookie's token is stored; the guest exists for that one call and a few hours."""

    __tablename__ = "yoom_guest"

    id: str = Field(primary_key=True, max_length=64)  # "guest-…": never a Yoom or Clerk user id
    token_hash: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=80)
    call_id: str = Field(index=True, max_length=64)
    created_at: datetime
    expires_at: datetime = Field(index=True)
