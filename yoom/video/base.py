"""The video-provider interface shared by `stream` and `local` (no Reflex import).

Every method that touches a call takes the acting user's id from the server's session,
never from the browser. Errors a person can meet are `VideoError`s with a `user_message`.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Generic, Sequence, TypeVar

T = TypeVar("T")

CALL_TYPE = "default"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_DESCRIPTION_LENGTH = 200
# A call id: a UUID for instant and scheduled calls, the owner's user id for a personal room. Stream's rule.
CALL_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_valid_call_id(value: object) -> bool:
    return isinstance(value, str) and CALL_ID_RE.fullmatch(value) is not None
INVITE_ONLY_MESSAGE = "This meeting is invite-only. Ask the host to invite you."


class CallKind(str, Enum):
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
    members: tuple[str, ...] = ()
    # Only its creator and its members may enter (members: people invited when it was made).
    invite_only: bool = False

    @property
    def cid(self) -> str:
        return f"{self.call_type}:{self.id}"

    def admits(self, user_id: str) -> bool:
        """Whether this person may enter: anyone, unless the call is invite-only; then its creator and members.

        Yoom's server asks this before it shows the setup screen (RoomState) and before the local signaling
        lets a socket in. On Stream, a user token could still reach the call through Stream's own API: hard
        enforcement there belongs to the call type's permissions (see yoom/video/stream_provider.py).
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


class VideoProvider(abc.ABC):
    """What Yoom needs from a video backend. Implemented by StreamProvider and LocalProvider."""

    name: str  # "stream" | "local"

    @property
    @abc.abstractmethod
    def api_key(self) -> str:
        """The public key the browser client needs (never the secret)."""

    # --- tokens (pure crypto, no I/O) ---
    @abc.abstractmethod
    def mint_user_token(self, user_id: str, ttl_seconds: int | None = None) -> UserToken:
        """A token for exactly this user: HS256, `user_id`, `exp`, `iat` backdated 60 s."""

    @abc.abstractmethod
    def mint_guest_token(self, user_id: str, call_cids: Sequence[str], ttl_seconds: int | None = None) -> UserToken:
        """A token limited to the given calls (`call_cids` claim)."""

    # --- users ---
    @abc.abstractmethod
    async def upsert_user(self, user: VideoUser) -> None:
        """Make the provider's user match Yoom's (id, name, image)."""

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
    ) -> Meeting:
        """Create a call owned by `creator`. Instant and scheduled calls get a random UUID;
        a personal room's id is the owner's user id (`get_or_create` semantics for that kind).
        `member_ids` and `invitees` (people with their names, for providers that keep their own copy of
        users) become members. `invite_only` lets only the creator and members in (never a personal room).
        On failure nothing is left behind."""

    @abc.abstractmethod
    async def get_call(self, call_id: str) -> Meeting | None:
        """The call, or None when it does not exist."""

    @abc.abstractmethod
    async def add_member(self, call_id: str, user: VideoUser) -> None:
        """Record that `user` belongs to the call (joined or invited), so it lists among their meetings."""

    @abc.abstractmethod
    async def upcoming_calls(self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> Page[Meeting]:
        """Not ended, starting in the future; created by the user or with them as member; soonest first."""

    @abc.abstractmethod
    async def previous_calls(self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> Page[Meeting]:
        """Ended, or started in the past; the user's as above; most recent first."""

    @abc.abstractmethod
    async def end_call(self, call_id: str, by_user_id: str) -> Meeting:
        """End the call for everyone. Raises NotCallOwner unless `by_user_id` created it."""

    @abc.abstractmethod
    async def recordings(self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE) -> list[Recording]:
        """Recordings of the user's calls, newest first (fetched concurrently per call)."""

    async def close(self) -> None:
        """Release connections (HTTP clients) at shutdown."""
