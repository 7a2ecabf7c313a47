"""The video-provider interface shared by `stream` and `local` (no Reflex import).

Every method that touches a call takes the acting user's id from the server's session,
never from the browser. Errors a person can meet are `VideoError`s with a `user_message`.
"""

from __future__ import annotations

import abc
import asyncio
import re
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")

CALL_TYPE = "default"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_DESCRIPTION_LENGTH = 200
# A meeting has at most this many members, its host included (Stream's limit for one request).
MAX_MEMBERS = 100
# A start time this far in the past still counts as "now": filling in the form takes a moment.
SCHEDULE_GRACE = timedelta(minutes=5)
# A call id: a UUID for instant and scheduled calls, a random id stored on its owner for a personal room
# (see new_personal_room_id). Stream's rule.
CALL_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# 9 random bytes → 12 URL-safe characters (72 bits): nobody finds a room by trying ids.
PERSONAL_ROOM_ID_BYTES = 9
PERSONAL_ROOM_ID_MIN_LENGTH = 12
# A user id: Yoom's own (hex) or an identity provider's (e.g. Clerk's `user_…`); Stream also allows '@'.
USER_ID_RE = re.compile(r"[@A-Za-z0-9_-]{1,64}")


def is_valid_call_id(value: object) -> bool:
    return isinstance(value, str) and CALL_ID_RE.fullmatch(value) is not None


def is_valid_user_id(value: object) -> bool:
    return isinstance(value, str) and USER_ID_RE.fullmatch(value) is not None


def new_personal_room_id() -> str:
    """A fresh personal-room id: unguessable, and never a UUID, so it can't collide with an instant or
    scheduled meeting (those are UUIDs only)."""
    return secrets.token_urlsafe(PERSONAL_ROOM_ID_BYTES)


def is_personal_room_id(value: object) -> bool:
    """Whether `value` can name a personal room: a call id of at least 12 characters that is not a UUID."""
    return is_valid_call_id(value) and len(value) >= PERSONAL_ROOM_ID_MIN_LENGTH and not _is_canonical_uuid(value)


INVITE_ONLY_MESSAGE = "This meeting is invite-only. Ask the host to invite you."


class CallKind(StrEnum):
    INSTANT = "instant"
    SCHEDULED = "scheduled"
    PERSONAL = "personal"


@dataclass(frozen=True)
class VideoUser:
    id: str
    name: str
    image: str | None = None


@dataclass(frozen=True)
class Meeting:
    """A call as Yoom shows it. Datetimes are timezone-aware UTC."""

    id: str
    created_by: str
    kind: CallKind
    created_at: datetime
    description: str = ""
    starts_at: datetime | None = None
    ended_at: datetime | None = None
    call_type: str = CALL_TYPE
    # Its host and the people invited when it was made (never people who merely joined: see attendance).
    members: tuple[str, ...] = ()
    # Only its creator and its members may enter (members: people invited when it was made).
    invite_only: bool = False
    # The host chose, when scheduling an invite-only meeting, that its invitees may watch its recordings.
    share_recordings: bool = False

    @property
    def cid(self) -> str:
        return f"{self.call_type}:{self.id}"

    def admits(self, user_id: str) -> bool:
        """Whether this person may enter: anyone, unless the call is invite-only; then its creator and members.

        Yoom's server asks this before it shows the setup screen (RoomState) and before the local signaling
        lets a socket in. On Stream, invite-only calls live on a call type of Yoom's own whose permissions
        let only members join (see yoom/video/stream_provider.py), so a user token can't get round it.
        """
        if not self.invite_only:
            return True
        return bool(user_id) and (user_id == self.created_by or user_id in self.members)

    @property
    def has_ended(self) -> bool:
        return self.ended_at is not None


@dataclass(frozen=True)
class Recording:
    call_id: str
    filename: str
    url: str
    start_time: datetime
    end_time: datetime
    id: str = ""
    host_id: str = ""  # who created the recorded meeting: the only one who may delete it


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class UserToken:
    token: str
    api_key: str
    user_id: str
    expires_at: datetime
    call_cids: tuple[str, ...] = field(default_factory=tuple)


class VideoError(Exception):
    """Base of every error the provider layer raises; `user_message` is safe to show on a page."""

    user_message = "Something went wrong with the video service. Please try again."

    def __init__(self, detail: str = "", user_message: str | None = None):
        super().__init__(detail or user_message or self.user_message)
        if user_message:
            self.user_message = user_message


class ProviderUnavailable(VideoError):
    """Unreachable, timed out, 5xx or 429 after the retries that were safe to make."""

    user_message = "The video service can't be reached right now. Please try again in a moment."


class ProviderRejected(VideoError):
    """The provider refused the request (bad key or secret, malformed request, a limit)."""

    user_message = "The video service refused the request. Check Yoom's video settings."


class CallNotFound(VideoError):
    user_message = "That meeting doesn't exist. Check the link or meeting ID."


class CallEnded(VideoError):
    user_message = "This meeting has ended."


class NotCallOwner(VideoError):
    user_message = "Only the person who created this meeting can end it for everyone."


class InvalidRequest(VideoError):
    user_message = "That request isn't valid."


@dataclass(frozen=True)
class CallRequest:
    """A `create_call` request after `validate_call_request`: every provider creates exactly this."""

    creator: VideoUser
    kind: CallKind
    call_id: str  # generated here when the caller gave none
    generated_id: bool  # True: nobody can hold this id yet (a failed create may be cleaned up)
    starts_at: datetime  # aware UTC; "now" for instant meetings and personal rooms
    description: str
    invitees: tuple[VideoUser, ...]  # without the creator, no repeats
    member_ids: tuple[str, ...]  # every member but the creator: the invitees' ids and `member_ids`
    invite_only: bool
    share_recordings: bool  # only ever True for an invite-only meeting


def _is_canonical_uuid(value: object) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def validate_call_request(
    creator: object,
    kind: object,
    *,
    call_id: object = None,
    starts_at: object = None,
    description: object = "",
    member_ids: object = (),
    invitees: object = (),
    invite_only: object = False,
    share_recordings: object = False,
    now: datetime | None = None,
) -> CallRequest:
    """Check and normalise `create_call`'s arguments once, for every provider; raises InvalidRequest
    with words for the page. A personal room's id comes from the caller (the random id stored on its
    owner, never their user id); other calls get a UUID."""
    if not isinstance(creator, VideoUser) or not is_valid_user_id(creator.id):
        raise InvalidRequest("create_call needs the creator", user_message="Sign in to start a meeting.")
    try:
        kind = CallKind(kind)
    except ValueError:
        raise InvalidRequest(
            f"unknown call kind {kind!r}", user_message="That kind of meeting doesn't exist."
        ) from None
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise InvalidRequest("description must be text", user_message="The description must be text.")
    description = " ".join(description.split())
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidRequest(
            "description too long",
            user_message=f"Keep the description to {MAX_DESCRIPTION_LENGTH} characters or fewer.",
        )
    if not isinstance(invite_only, bool):
        raise InvalidRequest("invite_only must be a boolean")
    if invite_only and kind is CallKind.PERSONAL:
        raise InvalidRequest(
            "a personal room can't be invite-only", user_message="A personal room is open to anyone with its link."
        )
    if not isinstance(share_recordings, bool):
        raise InvalidRequest("share_recordings must be a boolean")
    if share_recordings and not invite_only:
        # With an open link anyone could be "invited": only a closed list of people can share recordings.
        raise InvalidRequest(
            "share_recordings without invite_only",
            user_message="Recordings can be shared only with the invitees of an invite-only meeting.",
        )

    now = now or datetime.now(UTC)
    if kind is CallKind.SCHEDULED:
        if starts_at is None:
            raise InvalidRequest(
                "scheduled call without starts_at", user_message="Choose a date and time for the meeting."
            )
        if not isinstance(starts_at, datetime) or starts_at.utcoffset() is None:
            raise InvalidRequest("starts_at must be timezone-aware", user_message="The start time needs a time zone.")
        if starts_at < now - SCHEDULE_GRACE:
            raise InvalidRequest(
                "starts_at in the past", user_message="That time has already passed. Pick a time in the future."
            )
        start = starts_at.astimezone(UTC)
    elif starts_at is not None:
        raise InvalidRequest("only scheduled calls take starts_at")
    else:
        start = now.astimezone(UTC)  # instant calls and personal rooms start when they are made

    generated = False
    if kind is CallKind.PERSONAL:
        # The user id is sent to everyone in a call: as a room id it would let any visitor back in for good.
        if not is_personal_room_id(call_id) or call_id == creator.id:
            raise InvalidRequest(
                f"bad personal room id {call_id!r}", user_message="Your personal room can't be opened."
            )
        new_id = call_id
    elif call_id is None:
        new_id, generated = str(uuid.uuid4()), True
    elif _is_canonical_uuid(call_id):
        # Only UUIDs: a chosen id must never be able to take a personal room's place.
        new_id = call_id
    else:
        raise InvalidRequest(f"bad call id {call_id!r}", user_message="That meeting ID isn't valid.")

    if isinstance(member_ids, (str, bytes)) or isinstance(invitees, (str, bytes, VideoUser)):
        raise InvalidRequest("member_ids and invitees must be lists")
    try:
        member_list, invitee_list = list(member_ids or ()), list(invitees or ())
    except TypeError:
        raise InvalidRequest("member_ids and invitees must be lists") from None
    people: dict[str, VideoUser] = {}
    for invitee in invitee_list:
        if not isinstance(invitee, VideoUser) or not is_valid_user_id(invitee.id):
            raise InvalidRequest(f"bad invitee {invitee!r}", user_message="One of the invited people isn't valid.")
        if invitee.id != creator.id:
            people.setdefault(invitee.id, invitee)
    members: dict[str, None] = {}
    for member_id in [*member_list, *people]:
        if not is_valid_user_id(member_id):
            raise InvalidRequest(f"bad member id {member_id!r}", user_message="One of the invited people isn't valid.")
        if member_id != creator.id:
            members[member_id] = None
    if len(members) + 1 > MAX_MEMBERS:
        raise InvalidRequest("too many members", user_message=f"Invite at most {MAX_MEMBERS - 1} people.")
    return CallRequest(
        creator=creator,
        kind=kind,
        call_id=new_id,
        generated_id=generated,
        starts_at=start,
        description=description,
        invitees=tuple(people.values()),
        member_ids=tuple(members),
        invite_only=invite_only,
        share_recordings=share_recordings,
    )


# A token minted less than this long ago is handed out again (to the same user and session only): minting is
# a measurable share of the token route's time, and the token's `exp` stays within this of now + TTL.
TOKEN_REUSE_SECONDS = 30.0
TOKEN_CACHE_SIZE = 10_000


class VideoProvider(abc.ABC):
    """What Yoom needs from a video backend. Implemented by StreamProvider and LocalProvider."""

    name: str  # "stream" | "local"
    # True when the provider itself writes attendance (the embedded signaling sees every socket come and
    # go); otherwise the meeting page records it when the person joins and leaves.
    records_attendance: bool = False

    def user_token(self, user_id: str, *, session_id: str | None = None) -> UserToken:
        """`mint_user_token`, reused for TOKEN_REUSE_SECONDS per (user, session)."""
        cache: OrderedDict[tuple[str, str | None], tuple[float, UserToken]] = self.__dict__.setdefault(
            "_recent_tokens", OrderedDict()
        )
        key, now = (user_id, session_id), time.monotonic()
        hit = cache.get(key)
        if hit is not None and now - hit[0] < TOKEN_REUSE_SECONDS:
            return hit[1]
        minted = self.mint_user_token(user_id, session_id=session_id)
        cache[key] = (now, minted)
        cache.move_to_end(key)
        if len(cache) > TOKEN_CACHE_SIZE:
            cache.popitem(last=False)
        return minted

    def call_token(self, user_id: str, meeting: Meeting, *, session_id: str | None = None) -> UserToken:
        """The video token for a signed-in person Yoom has let into `meeting` now (the token route asks
        yoom/lobby.py first). Here the person's own user token: a provider whose server checks Yoom's door
        on every connection (the embedded one's `/api/rtc`) needs no more. A provider that can't ask Yoom
        (Stream) returns a token that opens this one call."""
        return self.user_token(user_id, session_id=session_id)

    def needs_upsert(self, user: VideoUser) -> bool:
        """Whether `upsert_user` should run for this user now (a provider with its own copy of users says
        so once per change; the token route then upserts in the background)."""
        return False

    @property
    @abc.abstractmethod
    def api_key(self) -> str:
        """The public key the browser client needs (never the secret)."""

    # --- tokens (pure crypto, no I/O) ---
    @abc.abstractmethod
    def mint_user_token(
        self, user_id: str, ttl_seconds: int | None = None, *, session_id: str | None = None
    ) -> UserToken:
        """A token for exactly this user: HS256, `user_id`, `exp`, `iat` backdated 60 s. `session_id` names the
        Yoom session it was minted for, where the provider can check that session is still alive."""

    @abc.abstractmethod
    def mint_guest_token(self, user_id: str, call_cids: Sequence[str], ttl_seconds: int | None = None) -> UserToken:
        """A token limited to the given calls (`call_cids` claim)."""

    # --- users ---
    @abc.abstractmethod
    async def upsert_user(self, user: VideoUser) -> None:
        """Make the provider's user match Yoom's (id, name, image)."""

    async def upsert_guest(self, user: VideoUser) -> None:
        """Make the provider's guest user (no Yoom account, role `guest` where the provider has roles)."""
        await self.upsert_user(user)

    # --- calls ---
    @abc.abstractmethod
    async def create_call(
        self,
        creator: VideoUser,
        kind: CallKind,
        *,
        call_id: str | None = None,
        starts_at: datetime | None = None,
        description: str = "",
        member_ids: Sequence[str] = (),
        invitees: Sequence[VideoUser] = (),
        invite_only: bool = False,
        share_recordings: bool = False,
    ) -> Meeting:
        """Create a call owned by `creator`. Instant and scheduled calls get a random UUID;
        a personal room's id is the one stored on its owner, passed as `call_id` (`get_or_create` semantics
        for that kind; a room of that id made by someone else is refused).
        `member_ids` and `invitees` (people with their names, for providers that keep their own copy of
        users) become members. `invite_only` lets only the creator and members in (never a personal room);
        `share_recordings` (invite-only only) lets those members watch its recordings.
        On failure nothing is left behind."""

    @abc.abstractmethod
    async def get_call(self, call_id: str) -> Meeting | None:
        """The call, or None when it does not exist."""

    @abc.abstractmethod
    async def add_member(self, call_id: str, user: VideoUser) -> None:
        """Invite `user` to the call: a member lists it among their meetings, may enter it when it is
        invite-only, and may watch its recordings if the host shared them. Joining never makes a member."""

    @abc.abstractmethod
    async def upcoming_calls(
        self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[Meeting]:
        """Not ended, starting in the future; created by the user or with them as member; soonest first."""

    @abc.abstractmethod
    async def previous_calls(
        self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[Meeting]:
        """Ended, or started in the past; the user's as above or attended by them; most recent first."""

    @abc.abstractmethod
    async def end_call(self, call_id: str, by_user_id: str) -> Meeting:
        """End the call for everyone. Raises NotCallOwner unless `by_user_id` created it."""

    @abc.abstractmethod
    async def recordings(
        self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[Recording]:
        """Recordings the user may watch (yoom.meeting_rules.may_watch_recording), newest first, a page at
        a time (`next_cursor` for the next)."""

    async def delete_recording(self, recording_id: str, by_user_id: str) -> None:
        """Delete a recording for good (only its meeting's host). Providers whose recordings Yoom doesn't
        store say so."""
        raise InvalidRequest(
            "this provider keeps its own recordings",
            user_message="Recordings of this video service can't be deleted from Yoom.",
        )

    # --- moderation (the host's, enforced here for every provider) ---
    async def remove_participant(self, call_id: str, by_user_id: str, user_id: str) -> None:
        """The host removes someone: out of the call now, and kept out until `readmit`.
        Raises CallNotFound, NotCallOwner (only the host), InvalidRequest (themselves, a bad id)."""
        from yoom import admission, moderation

        await self._require_host(call_id, by_user_id, "remove people")
        if not is_valid_user_id(user_id):
            raise InvalidRequest(f"bad user id {user_id!r}", user_message="That person isn't in this meeting.")
        if user_id == by_user_id:
            raise InvalidRequest("host removing themselves", user_message="You can't remove yourself. Leave instead.")
        await asyncio.to_thread(moderation.remove, call_id, user_id, by_user_id)
        await asyncio.to_thread(admission.forget, call_id, user_id)  # coming back means asking again
        await self._eject(call_id, user_id)

    async def readmit(self, call_id: str, by_user_id: str, user_id: str) -> bool:
        """Let a removed person back into the call (the host only)."""
        from yoom import moderation

        await self._require_host(call_id, by_user_id, "let people back in")
        if not is_valid_user_id(user_id):
            return False
        return await asyncio.to_thread(moderation.readmit, call_id, user_id)

    async def _require_host(self, call_id: str, by_user_id: str, what: str) -> Meeting:
        meeting = await self.get_call(call_id)
        if meeting is None:
            raise CallNotFound(call_id)
        if meeting.created_by != by_user_id:
            raise NotCallOwner(f"{by_user_id} may not {what} in {call_id}", user_message=f"Only the host can {what}.")
        return meeting

    async def mute_others(self, meeting: Meeting, by_user_id: str, user_ids: Sequence[str]) -> None:  # noqa: B027
        """Mute everyone but `by_user_id` on the provider's side too (Stream: mute_users); the room channel
        has asked their pages already (yoom.lobby.mute_all)."""

    async def _eject(self, call_id: str, user_id: str) -> None:  # noqa: B027  (optional: a provider that can, does)
        """Take the person out of the live call on the provider's side."""

    async def close(self) -> None:  # noqa: B027  (optional hook: most providers hold nothing to release)
        """Release connections (HTTP clients) at shutdown."""
