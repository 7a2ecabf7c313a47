"""Stream Video behind Yoom's `VideoProvider` interface, on the server (no Reflex import).

One `AsyncStream` client (one httpx connection pool) per provider instance; the provider is a process
singleton through `yoom.video.get_provider()`. Every call to Stream goes through `_request`, which maps
the SDK's errors onto Yoom's typed `VideoError`s and retries where that is safe:

* 429 — Stream refused before doing anything: retried for every request (honouring Retry-After).
* connection never made (connect error/timeout, pool timeout) — nothing was sent: retried for every request.
* read timeouts, other transport errors, 5xx, unreadable bodies — the request may have been applied: retried
  only for idempotent requests (GETs; get-or-create, upsert users, query calls, member upsert, mark-ended,
  delete — POSTs whose repetition has the same effect). Then `ProviderUnavailable`.
* 401/403 — `ProviderRejected` naming STREAM_API_KEY / STREAM_API_SECRET. Other 4xx — `ProviderRejected`.
* 404 (or Stream error code 16) — "not found": `None` from `get_call`, `CallNotFound` elsewhere.

The SDK's own retry (`RetryConfig`) is left off on purpose: it only covers GET/HEAD, and stacking two retry
layers would multiply the attempts. Backoff here is exponential with jitter.

Every meeting Yoom makes lives on a call type of Yoom's own, MEMBERS_ONLY_CALL_TYPE, whose grants let only
members in: the role every signed-in user holds (`user`, and `guest`/`anonymous`) has no `read-call`,
`join-call` or `create-call` there, while the call-level roles of members (`call_member`, `host`) and `admin`
keep them. Yoom creates or updates that type through Stream's API once per process, before the first call
that needs it (`_ensure_call_type`). Stream itself then lets in only the host and the invitees (the call's
members) and whoever holds a *call token* from Yoom (`call_token`: a user token whose `call_cids` names the
call, which Stream treats as membership of those calls for as long as it lasts, without adding a member).
Yoom's token route hands one out only once yoom/lobby.py lets the person in now — who may join, the lobby,
removals — so a user token that reaches Stream directly can't read or join a meeting Yoom hasn't let its
holder into. Call tokens last CALL_TOKEN_TTL_SECONDS and the page renews them while in the call; a removed
person is also blocked on Stream. `invite_only` and `share_recordings` are kept in the call's custom data,
and the invitees are the call's members (joining never makes a member: presence is Yoom's attendance,
yoom/attendance.py). Calls made before every meeting moved to Yoom's type stay on `default` (open to any
user token, as they always were) until they end: a personal room reopened after that lands on Yoom's type.

Finding a call by id alone (a meeting link carries no type): the type is remembered for every call this
process created or read (a bounded cache); otherwise Yoom asks for MEMBERS_ONLY_CALL_TYPE first, then
`default`. That order matters: any user token may create a `default` call with any id, so someone who
learned a meeting's id could make a `default` twin of it, but nobody but Yoom's server can create calls on
Yoom's own type: Yoom's meeting always wins.

Recordings live per call on Stream; Yoom lists those yoom.meeting_rules.may_watch_recording allows, using
the attendance Yoom's meeting page wrote down (yoom/state/room.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from getstream import AsyncStream
from getstream.config import RetryConfig
from getstream.exceptions import (
    StreamApiException,
    StreamRateLimitException,
    StreamTransportException,
)
from getstream.models import CallRequest, CallResponse, MemberRequest, SortParamRequest, UserRequest
from getstream.stream import BASE_URL as STREAM_DEFAULT_BASE_URL

from yoom.attendance import AttendanceBook
from yoom.meeting_rules import may_watch_recording
from yoom.settings import WHERE, Settings, SettingsError
from yoom.video import tokens
from yoom.video.base import (
    CALL_TYPE,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    CallKind,
    CallNotFound,
    InvalidRequest,
    Meeting,
    NotCallOwner,
    Page,
    ProviderRejected,
    ProviderUnavailable,
    Recording,
    UserToken,
    VideoError,
    VideoProvider,
    VideoUser,
    is_valid_call_id,
    is_valid_user_id,
    validate_call_request,
)

log = logging.getLogger(__name__)

R = TypeVar("R")

STREAM_NOT_FOUND_CODE = 16  # Stream's "DoesNotExist" API error code
HOST_ROLE = "host"
# The call type of every meeting Yoom makes (see the module docstring). Its name is older than that rule (it
# once held invite-only meetings alone) and stays: the calls already on it must still be found.
MEMBERS_ONLY_CALL_TYPE = "yoom_invite_only"
# A call token's lifetime: the page renews it while in the call, so leaving the lobby's rules (a host
# switching a meeting to invite-only, a sign-out) reaches Stream within this.
CALL_TOKEN_TTL_SECONDS = 600
# Stream's call permissions (OwnCapability) for taking part in a call, and for running it.
_TAKE_PART = ["read-call", "join-call", "create-call", "send-audio", "send-video", "screenshare", "create-reaction"]
_RUN = [
    *_TAKE_PART,
    "end-call",
    "update-call",
    "update-call-member",
    "remove-call-member",
    "mute-users",
    "kick-user",
    "block-users",
    "pin-for-everyone",
    "start-record-call",
    "stop-record-call",
]
# Grants per role on MEMBERS_ONLY_CALL_TYPE. Roles left out would keep Stream's defaults, which let any
# signed-in user in: every role a non-member can hold is listed, with nothing.
MEMBERS_ONLY_GRANTS: dict[str, list[str]] = {
    "user": [],
    "guest": [],
    "anonymous": [],
    "call_member": list(_TAKE_PART),
    HOST_ROLE: list(_RUN),
    "admin": list(_RUN),
}
# Where a call is looked for when its type isn't known: Yoom's own type first (see the module docstring).
LOOKUP_ORDER = (MEMBERS_ONLY_CALL_TYPE, CALL_TYPE)
CALL_TYPE_CACHE_SIZE = 10_000
MEMBERS_LIMIT = 100  # members returned with a call (Stream's maximum)
RECORDING_CONCURRENCY = 8  # parallel list-recordings requests
RECORDING_SCAN_PAGES = 5  # pages of calls read for one page of recordings when calls have none
USER_CACHE_SIZE = 10_000
RETRY_FAILED_UPSERT_AFTER_SECONDS = 30.0  # after a failed upsert, token requests don't ask Stream again at once
IN_FLIGHT_STALE_SECONDS = 120.0  # an upsert that never ran (its client left first) is forgotten
CID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{1,64}$")
CREDENTIALS_MESSAGE = (
    "Stream rejected Yoom's credentials. Check STREAM_API_KEY and STREAM_API_SECRET "
    "(both from the same app in your Stream dashboard) in .env or the environment."
)


class _NotFound(Exception):
    """Internal: Stream answered 404 / DoesNotExist."""


class _Malformed(Exception):
    """Internal: Stream answered 2xx with a body Yoom cannot use."""


def _utc(value: Any, field: str, *, required: bool = False) -> datetime | None:
    if value is None:
        if required:
            raise _Malformed(f"{field} is missing")
        return None
    if not isinstance(value, datetime):
        raise _Malformed(f"{field} is not a timestamp")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _kind(custom: dict, call_id: str, created_by: str, starts_at: datetime | None) -> CallKind:
    try:
        return CallKind(custom.get("kind"))
    except ValueError:
        # A call made outside Yoom (e.g. in Stream's dashboard): infer what it is.
        if call_id == created_by:
            return CallKind.PERSONAL
        return CallKind.SCHEDULED if starts_at is not None else CallKind.INSTANT


def _meeting(call: CallResponse | None, members: Sequence[Any] | None) -> Meeting:
    """Stream's call (SDK model, timestamps already parsed from integer ns) as Yoom's Meeting."""
    if call is None or not isinstance(getattr(call, "id", None), str) or not call.id:
        raise _Malformed("call is missing")
    creator = getattr(call.created_by, "id", None)
    if not isinstance(creator, str) or not creator:
        raise _Malformed("call.created_by is missing")
    custom = call.custom if isinstance(call.custom, dict) else {}
    description = custom.get("description")
    starts_at = _utc(call.starts_at, "starts_at")
    member_ids: list[str] = []
    for member in members or ():
        user_id = getattr(member, "user_id", None)
        if isinstance(user_id, str) and user_id and getattr(member, "deleted_at", None) is None:
            member_ids.append(user_id)
    return Meeting(
        id=call.id,
        created_by=creator,
        kind=_kind(custom, call.id, creator, starts_at),
        created_at=_utc(call.created_at, "created_at", required=True),
        description=description if isinstance(description, str) else "",
        starts_at=starts_at,
        ended_at=_utc(call.ended_at, "ended_at"),
        call_type=call.type if isinstance(call.type, str) and call.type else CALL_TYPE,
        members=tuple(member_ids),
        invite_only=custom.get("invite_only") is True,
        share_recordings=custom.get("invite_only") is True and custom.get("share_recordings") is True,
    )


def _user_filter(user_id: str, attended: Sequence[str] = ()) -> dict:
    """Calls the user created, was invited to (a member), or was in (Yoom's attendance)."""
    mine: list[dict] = [{"created_by_user_id": user_id}, {"members": {"$in": [user_id]}}]
    if attended:
        mine.append({"id": {"$in": list(attended)}})
    return {"$or": mine}


def _check_user_id(user_id: Any) -> str:
    if not is_valid_user_id(user_id):
        raise InvalidRequest(f"invalid user id {user_id!r}")
    return user_id


def _check_call_id(call_id: Any) -> str:
    if not is_valid_call_id(call_id):
        raise CallNotFound(f"invalid call id {call_id!r}")
    return call_id


def _check_limit(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidRequest(f"limit must be a positive whole number, got {limit!r}")
    return min(limit, MAX_PAGE_SIZE)


def _split_cursor(cursor: Any) -> tuple[datetime, str | None]:
    """Yoom's page cursor is "<query time in ms>~<Stream's next>": every page of one listing filters on the
    same "now", so calls do not move between pages as time passes (and Stream's cursor matches its query)."""
    if cursor is None or cursor == "":
        return datetime.now(UTC), None
    if not isinstance(cursor, str) or len(cursor) > 2000 or "~" not in cursor:
        raise InvalidRequest("invalid page cursor")
    stamp, _, stream_next = cursor.partition("~")
    if not stamp.isdigit() or not stream_next:
        raise InvalidRequest("invalid page cursor")
    try:
        at = datetime.fromtimestamp(int(stamp) / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):
        raise InvalidRequest("invalid page cursor") from None
    return at, stream_next


def _join_cursor(at: datetime, stream_next: str | None) -> str | None:
    return f"{int(at.timestamp() * 1000)}~{stream_next}" if stream_next else None


def _bound(record: dict) -> None:
    """Keep a per-user record from growing without end (a flood of new users)."""
    if len(record) > USER_CACHE_SIZE:
        record.clear()


def _never_sent(exc: StreamTransportException) -> bool:
    """True when the request cannot have reached Stream (so repeating it is always safe)."""
    cause = exc.__cause__
    return isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


class StreamProvider(VideoProvider):
    name = "stream"

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        *,
        base_url: str | None = None,
        timeout_seconds: float = 6.0,
        max_retries: int = 2,
        token_ttl_seconds: int = 3600,
        backoff_base_seconds: float = 0.25,
        backoff_max_seconds: float = 4.0,
        attendance: AttendanceBook | None = None,
    ):
        if not api_key:
            raise SettingsError(f"STREAM_API_KEY is not set. {WHERE}")
        if not api_secret:
            raise SettingsError(f"STREAM_API_SECRET is not set. {WHERE}")
        self._api_key = api_key
        self._secret = api_secret
        self._token_ttl = int(token_ttl_seconds)
        self._max_retries = max(0, int(max_retries))
        self._backoff_base = float(backoff_base_seconds)
        self._backoff_max = float(backoff_max_seconds)
        self._timeout = float(timeout_seconds)
        # Created once; its httpx pool is reused by every request of this provider.
        self._client = AsyncStream(
            api_key=api_key,
            api_secret=api_secret,
            base_url=base_url or STREAM_DEFAULT_BASE_URL,
            request_timeout=self._timeout,
            connect_timeout=self._timeout,
            retry=RetryConfig(enabled=False),  # retries live in _request (see module docstring)
        )
        self._video = self._client.video
        # The one record of which users Stream already has as Yoom has them (id → name, image), and of
        # upserts under way or recently failed: token requests and create_call both consult it.
        self._known_users: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        self._upserting: dict[str, float] = {}
        self._upsert_failed: dict[str, float] = {}
        self._attendance = attendance or AttendanceBook()  # Yoom's database by default
        self._call_type_ready = False
        self._call_type_lock = asyncio.Lock()
        self._types: OrderedDict[str, str] = OrderedDict()  # call id -> call type, for calls seen here

    @classmethod
    def from_settings(cls, settings: Settings) -> StreamProvider:
        return cls(
            settings.stream_api_key or "",
            settings.stream_api_secret or "",
            base_url=settings.stream_base_url,
            timeout_seconds=settings.stream_timeout_seconds,
            max_retries=settings.stream_max_retries,
            token_ttl_seconds=settings.video_token_ttl_seconds,
        )

    # --- tokens -------------------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        return self._api_key

    def mint_user_token(
        self, user_id: str, ttl_seconds: int | None = None, *, session_id: str | None = None
    ) -> UserToken:
        # Stream can't ask Yoom whether a session is alive: `session_id` is not written into its tokens.
        _check_user_id(user_id)
        token, expires_at = tokens.mint(self._secret, user_id, ttl_seconds or self._token_ttl)
        return UserToken(token=token, api_key=self._api_key, user_id=user_id, expires_at=expires_at)

    def call_token(self, user_id: str, meeting: Meeting, *, session_id: str | None = None) -> UserToken:
        # Stream knows nothing of Yoom's lobby: on Yoom's call type only a token naming the call lets a
        # non-member in (see the module docstring), so the token route's answer is one.
        return self.mint_guest_token(user_id, [meeting.cid], CALL_TOKEN_TTL_SECONDS)

    def mint_guest_token(self, user_id: str, call_cids: Sequence[str], ttl_seconds: int | None = None) -> UserToken:
        _check_user_id(user_id)
        if isinstance(call_cids, str) or not call_cids:
            raise InvalidRequest("a guest token needs at least one call")
        cids = tuple(dict.fromkeys(call_cids))
        for cid in cids:
            if not isinstance(cid, str) or not CID_RE.match(cid):
                raise InvalidRequest(f"invalid call cid {cid!r}")
        token, expires_at = tokens.mint(self._secret, user_id, ttl_seconds or self._token_ttl, call_cids=cids)
        return UserToken(token=token, api_key=self._api_key, user_id=user_id, expires_at=expires_at, call_cids=cids)

    # --- the one way to talk to Stream --------------------------------------------------------

    def _backoff(self, attempt: int, exc: BaseException | None) -> float:
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None and retry_after.total_seconds() > 0:
            return min(retry_after.total_seconds(), self._backoff_max)
        ceiling = min(self._backoff_max, self._backoff_base * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    async def _request(
        self,
        op: str,
        send: Callable[[], Awaitable[Any]],
        convert: Callable[[Any], R],
        *,
        idempotent: bool,
        retries: int | None = None,
    ) -> R:
        """Send, convert the answer, and map failures (see the module docstring)."""
        max_retries = self._max_retries if retries is None else retries
        attempt = 0
        while True:
            try:
                response = await send()
                try:
                    return convert(response.data)
                except _Malformed:
                    raise
                except (AttributeError, TypeError, KeyError, ValueError) as exc:
                    raise _Malformed(str(exc)) from exc
            except StreamRateLimitException as exc:
                failure: BaseException = exc
                reason = "rate limited (429)"
                retryable = not exc.unrecoverable
            except StreamApiException as exc:
                failure = exc
                status = exc.status_code
                if status < 400:
                    reason = f"unreadable response (HTTP {status})"
                    retryable = idempotent
                elif status in (401, 403):
                    log.error("Stream %s: HTTP %s %s", op, status, exc.message)
                    raise ProviderRejected(
                        f"{CREDENTIALS_MESSAGE} ({exc.message})", user_message=CREDENTIALS_MESSAGE
                    ) from None
                elif status == 404 or exc.code == STREAM_NOT_FOUND_CODE:
                    raise _NotFound(exc.message) from None
                elif status >= 500 or status == 408:
                    reason = f"HTTP {status}"
                    retryable = idempotent
                else:
                    log.warning("Stream refused %s: HTTP %s code %s %s", op, status, exc.code, exc.message)
                    raise ProviderRejected(f"Stream refused {op}: {exc.message or status}") from None
            except StreamTransportException as exc:
                failure = exc
                reason = f"transport error ({exc.error_type})"
                retryable = idempotent or _never_sent(exc)
            except _Malformed as exc:
                failure = exc
                reason = f"unusable response ({exc})"
                retryable = idempotent
            except (AttributeError, TypeError, KeyError, ValueError) as exc:
                # The SDK's model decoding failed on a body it accepted as JSON.
                failure = exc
                reason = f"unusable response ({type(exc).__name__})"
                retryable = idempotent
            if not retryable or attempt >= max_retries:
                log.warning("Stream %s failed after %d attempt(s): %s", op, attempt + 1, reason)
                raise ProviderUnavailable(f"Stream {op}: {reason}") from None
            delay = self._backoff(attempt, failure)
            log.info("Stream %s: %s; retry %d in %.2fs", op, reason, attempt + 1, delay)
            await asyncio.sleep(delay)
            attempt += 1

    # --- users --------------------------------------------------------------------------------

    async def upsert_user(self, user: VideoUser) -> None:
        await self._upsert(user)

    async def upsert_guest(self, user: VideoUser) -> None:
        """A guest of Yoom's is a Stream user with Stream's `guest` role: on Yoom's invite-only call type
        that role has no grant at all, and the guest's token names its one call (`call_cids`)."""
        await self._upsert(user, role="guest")

    async def _upsert(self, user: VideoUser, role: str | None = None) -> None:
        _check_user_id(user.id)
        request = UserRequest(id=user.id, name=user.name or user.id, image=user.image or None, role=role)

        def convert(data: Any) -> None:
            if not isinstance(getattr(data, "users", None), dict) or user.id not in data.users:
                raise _Malformed("upserted user missing from the answer")

        try:
            await self._request(
                "upsert user", lambda: self._client.update_users({user.id: request}), convert, idempotent=True
            )
        except VideoError:
            self._upsert_failed[user.id] = time.monotonic()
            _bound(self._upsert_failed)
            raise
        finally:
            self._upserting.pop(user.id, None)
        self._upsert_failed.pop(user.id, None)
        self._remember_user(user)

    def needs_upsert(self, user: VideoUser) -> bool:
        """Whether Stream lacks this user as they are now and no upsert is under way or just failed;
        True also marks one as under way (the caller then runs `upsert_user`)."""
        if self._known_users.get(user.id) == (user.name, user.image):
            return False
        now = time.monotonic()
        started = self._upserting.get(user.id)
        if started is not None and now - started < IN_FLIGHT_STALE_SECONDS:
            return False
        failed = self._upsert_failed.get(user.id)
        if failed is not None and now - failed < RETRY_FAILED_UPSERT_AFTER_SECONDS:
            return False
        self._upserting[user.id] = now
        _bound(self._upserting)
        return True

    def _remember_user(self, user: VideoUser) -> None:
        self._known_users[user.id] = (user.name, user.image)
        self._known_users.move_to_end(user.id)
        while len(self._known_users) > USER_CACHE_SIZE:
            self._known_users.popitem(last=False)

    async def _ensure_user(self, user: VideoUser) -> None:
        """Upsert unless this process already sent the same id, name and image."""
        if self._known_users.get(user.id) != (user.name, user.image):
            await self.upsert_user(user)

    async def _ensure_users(self, people: Sequence[VideoUser]) -> None:
        """Upsert, in one request, those of `people` this process has not sent as they are now."""
        stale = {p.id: p for p in people if self._known_users.get(p.id) != (p.name, p.image)}
        if not stale:
            return
        requests = {p.id: UserRequest(id=p.id, name=p.name or p.id, image=p.image or None) for p in stale.values()}

        def convert(data: Any) -> None:
            if not isinstance(getattr(data, "users", None), dict) or set(stale) - set(data.users):
                raise _Malformed("upserted users missing from the answer")

        await self._request("upsert users", lambda: self._client.update_users(requests), convert, idempotent=True)
        for person in stale.values():
            self._remember_user(person)

    # --- the invite-only call type -------------------------------------------------------------

    async def _ensure_call_type(self) -> None:
        """Create MEMBERS_ONLY_CALL_TYPE on Stream, or bring its grants back to MEMBERS_ONLY_GRANTS: once per
        process (a failure is tried again on the next call that needs it). Idempotent, so any number of
        processes may do it at once."""
        if self._call_type_ready:
            return
        async with self._call_type_lock:
            if self._call_type_ready:
                return
            try:
                current = await self._request(
                    "get call type",
                    lambda: self._video.get_call_type(MEMBERS_ONLY_CALL_TYPE),
                    lambda data: data.grants if isinstance(data.grants, dict) else {},
                    idempotent=True,
                )
            except _NotFound:
                current = None
            if current is None:
                try:
                    await self._request(
                        "create call type",
                        lambda: self._video.create_call_type(name=MEMBERS_ONLY_CALL_TYPE, grants=MEMBERS_ONLY_GRANTS),
                        lambda data: None,
                        idempotent=False,
                    )
                except (ProviderRejected, _NotFound):
                    # Another process made it meanwhile ("already exists"): set its grants instead.
                    await self._update_call_type()
            elif any(set(current.get(role) or ()) != set(perms) for role, perms in MEMBERS_ONLY_GRANTS.items()):
                log.warning("Stream call type %s had other grants; restoring Yoom's", MEMBERS_ONLY_CALL_TYPE)
                await self._update_call_type()
            self._call_type_ready = True

    async def _update_call_type(self) -> None:
        try:
            await self._request(
                "update call type",
                lambda: self._video.update_call_type(MEMBERS_ONLY_CALL_TYPE, grants=MEMBERS_ONLY_GRANTS),
                lambda data: None,
                idempotent=True,  # setting the same grants again changes nothing
            )
        except _NotFound:
            raise ProviderRejected(f"Stream call type {MEMBERS_ONLY_CALL_TYPE} can't be updated") from None

    def _remember_type(self, meeting: Meeting) -> Meeting:
        self._types[meeting.id] = meeting.call_type
        self._types.move_to_end(meeting.id)
        while len(self._types) > CALL_TYPE_CACHE_SIZE:
            self._types.popitem(last=False)
        return meeting

    # --- calls --------------------------------------------------------------------------------

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
        request = validate_call_request(
            creator,
            kind,
            call_id=call_id,
            starts_at=starts_at,
            description=description,
            member_ids=member_ids,
            invitees=invitees,
            invite_only=invite_only,
            share_recordings=share_recordings,
        )
        kind, call_id, generated_id = request.kind, request.call_id, request.generated_id
        call_type = MEMBERS_ONLY_CALL_TYPE
        members = [MemberRequest(user_id=creator.id, role=HOST_ROLE)]
        members += [MemberRequest(user_id=member_id) for member_id in request.member_ids]

        # Never a meeting on a type that would let in people Yoom's door keeps out.
        await self._ensure_call_type()
        # Stream needs the creator and the invitees to exist first; this is idempotent and leaves no call
        # behind if it fails.
        await self._ensure_user(creator)
        await self._ensure_users(list(request.invitees))

        custom: dict[str, Any] = {"description": request.description, "kind": kind.value}
        if request.invite_only:
            custom["invite_only"] = True
        if request.share_recordings:
            custom["share_recordings"] = True
        data = CallRequest(created_by_id=creator.id, starts_at=request.starts_at, custom=custom, members=members)

        def convert(answer: Any) -> tuple[Meeting, bool]:
            return _meeting(answer.call, answer.members), bool(answer.created)

        try:
            # One request creates the call with its owner, data and members: nothing half-made on failure.
            meeting, created = await self._request(
                "create call",
                lambda: self._video.get_or_create_call(call_type, call_id, members_limit=MEMBERS_LIMIT, data=data),
                convert,
                idempotent=True,  # get-or-create with the same id: a repeat returns the same call
            )
        except _NotFound:
            raise ProviderRejected(f"Stream has no call type {call_type!r}") from None
        except ProviderUnavailable:
            # The request may have been applied before the failure: remove what we may have made.
            # Only for ids generated here (a personal room, or a caller's id, may be someone's existing call).
            if generated_id:
                await self._discard(call_type, call_id)
            raise
        if meeting.created_by != creator.id:
            raise InvalidRequest(
                f"call {call_id} belongs to another user", user_message="That meeting ID is already taken."
            )
        if not created and kind is not CallKind.PERSONAL and not generated_id and meeting.kind is not kind:
            raise InvalidRequest(f"call {call_id} already exists", user_message="That meeting ID is already taken.")
        return self._remember_type(meeting)

    async def _discard(self, call_type: str, call_id: str) -> None:
        """Best effort: hard-delete a call whose creation failed midway (one attempt, errors only logged)."""
        try:
            await self._request(
                "delete failed call",
                lambda: self._video.delete_call(call_type, call_id, hard=True),
                lambda _data: None,
                idempotent=True,
                retries=0,
            )
        except (_NotFound, VideoError) as exc:
            log.warning("could not delete half-created call %s: %s", call_id, exc)

    async def get_call(self, call_id: str) -> Meeting | None:
        try:
            _check_call_id(call_id)
        except CallNotFound:
            return None
        try:
            return await self._fetch(call_id)
        except _NotFound:
            return None

    async def _fetch_typed(self, call_type: str, call_id: str) -> Meeting:
        meeting = await self._request(
            "get call",
            lambda: self._video.get_call(call_type, call_id, members_limit=MEMBERS_LIMIT),
            lambda data: _meeting(data.call, data.members),
            idempotent=True,
        )
        return self._remember_type(meeting)

    async def _fetch(self, call_id: str) -> Meeting:
        """The call of this id on whichever type holds it (see the module docstring); _NotFound if none."""
        known = self._types.get(call_id)
        if known is not None:
            try:
                return await self._fetch_typed(known, call_id)
            except _NotFound:
                self._types.pop(call_id, None)  # deleted since: look again
        await self._ensure_call_type()  # Yoom's type must exist before Stream is asked about calls on it
        for call_type in LOOKUP_ORDER:
            try:
                return await self._fetch_typed(call_type, call_id)
            except _NotFound:
                continue
        raise _NotFound(call_id)

    async def _require(self, call_id: str) -> Meeting:
        _check_call_id(call_id)
        try:
            return await self._fetch(call_id)
        except _NotFound:
            raise CallNotFound(f"no call {call_id}") from None

    async def add_member(self, call_id: str, user: VideoUser) -> None:
        _check_user_id(user.id)
        meeting = await self._require(call_id)
        if user.id in meeting.members:
            return
        await self._ensure_user(user)
        role = HOST_ROLE if user.id == meeting.created_by else None
        try:
            await self._request(
                "add member",
                lambda: self._video.update_call_members(
                    meeting.call_type, call_id, update_members=[MemberRequest(user_id=user.id, role=role)]
                ),
                lambda data: None,
                idempotent=True,  # an upsert of the same member
            )
        except _NotFound:
            raise CallNotFound(f"no call {call_id}") from None

    async def _query(
        self,
        op: str,
        filter_conditions: dict,
        sort: list[SortParamRequest],
        limit: int,
        cursor: str | None,
        at: datetime,
    ) -> Page[Meeting]:
        def convert(data: Any) -> Page[Meeting]:
            if not isinstance(data.calls, list):
                raise _Malformed("calls missing")
            items = [self._remember_type(_meeting(state.call, state.members)) for state in data.calls]
            nxt = data.next if isinstance(data.next, str) and data.next else None
            return Page(items=items, next_cursor=_join_cursor(at, nxt))

        try:
            return await self._request(
                op,
                lambda: self._video.query_calls(
                    limit=limit, next=cursor, sort=sort, filter_conditions=filter_conditions
                ),
                convert,
                idempotent=True,  # a read, though sent as POST
            )
        except _NotFound:
            raise ProviderRejected(f"Stream {op}: not found") from None

    async def upcoming_calls(
        self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[Meeting]:
        _check_user_id(user_id)
        limit = _check_limit(limit)
        at, stream_next = _split_cursor(cursor)
        attended = await self._attendance.attended_call_ids(user_id)
        filters = {
            "$and": [
                {"starts_at": {"$gt": _rfc3339(at)}},
                {"ended_at": {"$exists": False}},
                _user_filter(user_id, attended),
            ]
        }
        sort = [SortParamRequest(field="starts_at", direction=1), SortParamRequest(field="created_at", direction=1)]
        return await self._query("upcoming calls", filters, sort, limit, stream_next, at)

    @staticmethod
    def _previous_filter(user_id: str, at: datetime, attended: Sequence[str] = ()) -> dict:
        return {
            "$and": [
                {"$or": [{"ended_at": {"$exists": True}}, {"starts_at": {"$lt": _rfc3339(at)}}]},
                _user_filter(user_id, attended),
            ]
        }

    _PREVIOUS_SORT = [
        SortParamRequest(field="starts_at", direction=-1),
        SortParamRequest(field="created_at", direction=-1),
    ]

    async def previous_calls(
        self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[Meeting]:
        _check_user_id(user_id)
        limit = _check_limit(limit)
        at, stream_next = _split_cursor(cursor)
        attended = await self._attendance.attended_call_ids(user_id)
        return await self._query(
            "previous calls", self._previous_filter(user_id, at, attended), self._PREVIOUS_SORT, limit, stream_next, at
        )

    async def end_call(self, call_id: str, by_user_id: str) -> Meeting:
        _check_user_id(by_user_id)
        meeting = await self._require(call_id)
        if meeting.created_by != by_user_id:
            raise NotCallOwner(f"{by_user_id} may not end call {call_id} created by {meeting.created_by}")
        if meeting.has_ended:
            return meeting
        try:
            await self._request(
                "end call",
                lambda: self._video.end_call(meeting.call_type, call_id),
                lambda data: None,
                idempotent=True,  # ending an ended call changes nothing
            )
        except _NotFound:
            raise CallNotFound(f"no call {call_id}") from None
        try:
            ended = await self._fetch_typed(meeting.call_type, call_id)
        except (VideoError, _NotFound):
            ended = None
        if ended is None or ended.ended_at is None:
            # The end went through; the read-back did not: report Stream's state as best known.
            return replace(meeting, ended_at=datetime.now(UTC))
        return ended

    async def _eject(self, call_id: str, user_id: str) -> None:
        """Out of Yoom's room channel (chat, hands, reactions) at once, and out of Stream's call: blocked on
        it (a blocked user can't join it again with any token) and kicked from the live session. The
        meeting page and the token route keep them out too (yoom.moderation)."""
        from yoom.rtc.hub import get_hub

        await get_hub().remove_user(call_id, user_id)
        meeting = await self.get_call(call_id)
        if meeting is None:
            return
        try:
            await self._request(
                "block user",
                lambda: self._video.block_user(meeting.call_type, call_id, user_id=user_id),
                lambda data: None,
                idempotent=True,
            )
        except (VideoError, _NotFound) as exc:
            # Yoom's removal stands (the token route and the room channel refuse them); a person Stream
            # doesn't know (never joined its call) has nothing there to block.
            log.warning("Stream block of %s in %s failed: %s", user_id, call_id, exc)
            return
        try:
            await self._request(
                "kick user",
                lambda: self._video.kick_user(meeting.call_type, call_id, user_id=user_id, block=True),
                lambda data: None,
                idempotent=True,
                retries=0,
            )
        except (VideoError, _NotFound) as exc:  # not in the live session: the block is what keeps them out
            log.info("Stream kick of %s in %s: %s", user_id, call_id, exc)

    async def readmit(self, call_id: str, by_user_id: str, user_id: str) -> bool:
        """Let a removed person back in: Yoom's record, then Stream's block lifted."""
        back = await super().readmit(call_id, by_user_id, user_id)
        meeting = await self.get_call(call_id)
        if back and meeting is not None:
            await self._request(
                "unblock user",
                lambda: self._video.unblock_user(meeting.call_type, call_id, user_id=user_id),
                lambda data: None,
                idempotent=True,
            )
        return back

    async def mute_others(self, meeting: Meeting, by_user_id: str, user_ids: Sequence[str]) -> None:
        """Stream's own MuteUsers for their microphones (the SFU mutes them), never the asker's own."""
        user_ids = [uid for uid in dict.fromkeys(user_ids) if uid != by_user_id]
        if not user_ids:
            return
        await self._request(
            "mute users",
            lambda: self._video.mute_users(
                meeting.call_type, meeting.id, audio=True, user_ids=user_ids, muted_by_id=by_user_id
            ),
            lambda data: None,
            idempotent=True,
        )

    # --- recordings ---------------------------------------------------------------------------

    async def recordings(
        self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[Recording]:
        """Recordings live per call on Stream: one page of recordings is those the user may watch
        (yoom.meeting_rules.may_watch_recording) of the next `limit` previous calls that have any (reading
        on through at most RECORDING_SCAN_PAGES pages of calls without one)."""
        _check_user_id(user_id)
        limit = _check_limit(limit)
        at, stream_next = _split_cursor(cursor)
        attended = await self._attendance.attended_call_ids(user_id)
        found: list[Recording] = []
        for _ in range(RECORDING_SCAN_PAGES):
            calls = await self._query(
                "calls with recordings",
                self._previous_filter(user_id, at, attended),
                self._PREVIOUS_SORT,
                limit,
                stream_next,
                at,
            )
            found += await self._watchable_recordings(user_id, calls.items)
            stream_next = _split_cursor(calls.next_cursor)[1] if calls.next_cursor else None
            if found or stream_next is None:
                break
        found.sort(key=lambda r: (r.start_time, r.end_time), reverse=True)
        return Page(items=found, next_cursor=_join_cursor(at, stream_next))

    async def _watchable_recordings(self, user_id: str, calls: Sequence[Meeting]) -> list[Recording]:
        stays = await self._attendance.stays(user_id, [m.id for m in calls])
        now = datetime.now(UTC)
        # Only calls where the rule can let this user see something are asked for their recordings.
        hopeful = [
            m
            for m in calls
            if m.created_by == user_id or stays[m.id] or (m.invite_only and m.share_recordings and user_id in m.members)
        ]
        by_call = {m.id: m for m in hopeful}
        return [
            rec
            for rec in await self._recordings_of(hopeful)
            if may_watch_recording(user_id, by_call[rec.call_id], rec.start_time, rec.end_time, stays[rec.call_id], now)
        ]

    async def _recordings_of(self, calls: Sequence[Meeting]) -> list[Recording]:
        gate = asyncio.Semaphore(RECORDING_CONCURRENCY)

        async def for_call(meeting: Meeting) -> list[Recording]:
            def convert(data: Any) -> list[Recording]:
                if not isinstance(data.recordings, list):
                    raise _Malformed("recordings missing")
                found = []
                for rec in data.recordings:
                    if not isinstance(rec.filename, str) or not isinstance(rec.url, str):
                        raise _Malformed("recording without filename or url")
                    found.append(
                        Recording(
                            call_id=meeting.id,
                            filename=rec.filename,
                            url=rec.url,
                            start_time=_utc(rec.start_time, "start_time", required=True),
                            end_time=_utc(rec.end_time, "end_time", required=True),
                            id=f"{rec.session_id}/{rec.filename}" if rec.session_id else rec.filename,
                            host_id=meeting.created_by,
                        )
                    )
                return found

            async with gate:
                try:
                    return await self._request(
                        "list recordings",
                        lambda: self._video.list_recordings(meeting.call_type, meeting.id),
                        convert,
                        idempotent=True,
                    )
                except _NotFound:
                    return []  # deleted since the query: nothing to show

        results = await asyncio.gather(*(for_call(m) for m in calls))
        return [rec for per_call in results for rec in per_call]

    async def close(self) -> None:
        await self._client.aclose()
