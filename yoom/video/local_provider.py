"""The embedded (local) video provider: calls, members and recordings in Yoom's own database.

No account anywhere: meetings are peer-to-peer WebRTC, signaled by yoom.rtc (docs/rtc-protocol.md),
and this module is the same `VideoProvider` interface the Stream provider implements.
Blocking database work runs in a worker thread so the event loop (which also carries the
signaling sockets) never waits on it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlmodel import Session, and_, col, delete, or_, select

from yoom.attendance import stays_in
from yoom.db import as_utc, session_scope, to_db, utcnow
from yoom.meeting_rules import may_watch_recording
from yoom.models import CallAttendance, LocalCall, LocalCallMember, LocalRecording, User
from yoom.settings import Settings
from yoom.video import tokens
from yoom.video.base import (
    CALL_TYPE,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    CallEnded,
    CallKind,
    CallNotFound,
    InvalidRequest,
    Meeting,
    NotCallOwner,
    Page,
    Recording,
    UserToken,
    VideoProvider,
    VideoUser,
    is_valid_call_id,
    validate_call_request,
)

log = logging.getLogger(__name__)

API_KEY = "local"
# Recordings read per round while filling a page (most candidates usually pass the rule).
RECORDING_SCAN_BATCH = 100
MB = 1024 * 1024


class QuotaExceeded(InvalidRequest):
    """The upload would take its uploader past their recording storage quota."""

    def __init__(self, used_bytes: int, quota_bytes: int):
        super().__init__(
            f"quota {quota_bytes} exceeded ({used_bytes} used)", user_message=quota_message(used_bytes, quota_bytes)
        )
        self.used_bytes = used_bytes
        self.quota_bytes = quota_bytes


def quota_message(used_bytes: int, quota_bytes: int) -> str:
    return (
        f"Your recordings use {_mb(used_bytes)} of your {_mb(quota_bytes)} storage, so this one doesn't fit. "
        "Deleting old recordings on the Recordings page frees space."
    )


def _mb(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size >= 10 * MB else f"{size / MB:,.1f} MB"


def recording_url(recording_id: str) -> str:
    return f"/api/recordings/{recording_id}"


def _members(db: Session, call_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Member ids per call, the host first then in order of joining."""
    if not call_ids:
        return {}
    rows = db.exec(
        select(LocalCallMember)
        .where(col(LocalCallMember.call_id).in_(list(call_ids)))
        .order_by(LocalCallMember.created_at, LocalCallMember.user_id)
    ).all()
    by_call: dict[str, list[LocalCallMember]] = {cid: [] for cid in call_ids}
    for row in rows:
        by_call[row.call_id].append(row)
    return {
        cid: tuple(m.user_id for m in sorted(items, key=lambda m: m.role != "host")) for cid, items in by_call.items()
    }


def _meeting(row: LocalCall, members: tuple[str, ...] = ()) -> Meeting:
    invite_only = bool(row.invite_only)
    return Meeting(
        id=row.id,
        created_by=row.created_by,
        kind=CallKind(row.kind),
        created_at=as_utc(row.created_at),
        description=row.description or "",
        starts_at=as_utc(row.starts_at),
        ended_at=as_utc(row.ended_at),
        call_type=row.call_type,
        members=members,
        invite_only=invite_only,
        share_recordings=invite_only and bool(row.share_recordings),
    )


def _recording(row: LocalRecording, host_id: str = "") -> Recording:
    return Recording(
        id=row.id,
        call_id=row.call_id,
        filename=row.filename,
        url=recording_url(row.id),
        start_time=as_utc(row.start_time),
        end_time=as_utc(row.end_time),
        host_id=host_id,
    )


def _member_of(user_id: str):
    return select(LocalCallMember.call_id).where(LocalCallMember.user_id == user_id)


def _attended_by(user_id: str):
    return select(CallAttendance.call_id).where(CallAttendance.user_id == user_id)


def _visible_to(user_id: str):
    """Calls the user created, was invited to, or was in (listed only: being listed grants nothing)."""
    return or_(
        LocalCall.created_by == user_id,
        col(LocalCall.id).in_(_member_of(user_id)),
        col(LocalCall.id).in_(_attended_by(user_id)),
    )


def _may_hold_recordings_for(user_id: str):
    """Calls whose recordings this user *might* watch: a superset of `may_watch_recording`, to narrow the
    query; the rule itself decides each recording."""
    return or_(
        LocalCall.created_by == user_id,
        col(LocalCall.id).in_(_attended_by(user_id)),
        and_(
            col(LocalCall.invite_only).is_(True),
            col(LocalCall.share_recordings).is_(True),
            col(LocalCall.id).in_(_member_of(user_id)),
        ),
    )


def _watchable(db: Session, user_id: str, pairs: list[tuple[LocalRecording, LocalCall]], now: datetime) -> list[bool]:
    """For each (recording, its call): may this user watch it (yoom.meeting_rules.may_watch_recording)."""
    call_ids = list({call.id for _, call in pairs})
    members = _members(db, call_ids)
    attendance = stays_in(db, user_id, call_ids)
    return [
        may_watch_recording(
            user_id,
            _meeting(call, members[call.id]),
            as_utc(recording.start_time),
            as_utc(recording.end_time),
            attendance[call.id],
            now,
        )
        for recording, call in pairs
    ]


def _encode_cursor(listing: str, starts_at: datetime, call_id: str) -> str:
    raw = json.dumps({"l": listing, "s": to_db(starts_at).isoformat(), "i": call_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(listing: str, cursor: str) -> tuple[datetime, str]:
    bad = InvalidRequest(
        f"bad cursor {cursor[:40]!r}", user_message="That page of meetings is no longer available. Reload the list."
    )
    if not isinstance(cursor, str) or len(cursor) > 400:
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["l"] != listing or not is_valid_call_id(data["i"]):
            raise ValueError("wrong listing")
        starts_at = datetime.fromisoformat(data["s"])
    except (ValueError, TypeError, KeyError):
        raise bad from None
    return to_db(starts_at), data["i"]


def _page_size(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise InvalidRequest(f"limit {limit!r}", user_message="That page size isn't valid.")
    return max(1, min(limit, MAX_PAGE_SIZE))


class LocalProvider(VideoProvider):
    name = "local"

    records_attendance = True  # the signaling route sees every socket come and go (yoom/api/rtc.py)

    def __init__(
        self,
        secret: str,
        *,
        token_ttl_seconds: int = 3600,
        engine: sqlalchemy.Engine | None = None,
        hub: Any = None,
        clock: Callable[[], datetime] = utcnow,
        recordings_dir: Path | None = None,
    ):
        if not secret:
            raise ValueError("the local provider needs a signing secret")
        self._secret = secret
        self._token_ttl = token_ttl_seconds
        self._engine = engine  # None: yoom.db.get_engine(), the app's database
        self._hub = hub  # None: yoom.rtc.get_hub(), the process's signaling hub
        self._clock = clock
        self._recordings_dir = recordings_dir  # None: Settings.recordings_dir

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> LocalProvider:
        return cls(
            settings.local_video_secret,
            token_ttl_seconds=settings.video_token_ttl_seconds,
            recordings_dir=settings.recordings_dir,
            **kwargs,
        )

    @property
    def recordings_dir(self) -> Path:
        """Where uploaded recordings are stored (one file per recording, named by the server)."""
        if self._recordings_dir is not None:
            return self._recordings_dir
        from yoom.settings import get_settings

        return get_settings().recordings_dir

    @property
    def api_key(self) -> str:
        return API_KEY

    def _db(self):
        return session_scope(self._engine)

    def _now(self) -> datetime:
        return as_utc(self._clock())

    def _signaling_hub(self):
        if self._hub is not None:
            return self._hub
        from yoom.rtc.hub import get_hub

        return get_hub()

    # --- tokens -----------------------------------------------------------------------------

    def mint_user_token(
        self, user_id: str, ttl_seconds: int | None = None, *, session_id: str | None = None
    ) -> UserToken:
        token, expires_at = tokens.mint(self._secret, user_id, ttl_seconds or self._token_ttl, session_id=session_id)
        return UserToken(token=token, api_key=API_KEY, user_id=user_id, expires_at=expires_at)

    def mint_guest_token(self, user_id: str, call_cids: Sequence[str], ttl_seconds: int | None = None) -> UserToken:
        cids = tuple(call_cids or ())
        if not cids:
            raise InvalidRequest("a guest token needs call_cids", user_message="A guest link must name its meeting.")
        for cid in cids:
            call_type, _, call_id = cid.partition(":") if isinstance(cid, str) else ("", "", "")
            if call_type != CALL_TYPE or not is_valid_call_id(call_id):
                raise InvalidRequest(f"bad call cid {cid!r}", user_message="That meeting link isn't valid.")
        token, expires_at = tokens.mint(self._secret, user_id, ttl_seconds or self._token_ttl, cids)
        return UserToken(token=token, api_key=API_KEY, user_id=user_id, expires_at=expires_at, call_cids=cids)

    def verify_token(self, token: str) -> dict[str, Any]:
        """The claims of a token this provider minted; raises tokens.TokenInvalid otherwise."""
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise tokens.TokenInvalid("missing token")
        return tokens.verify(self._secret, token)

    # --- users ------------------------------------------------------------------------------

    async def upsert_user(self, user: VideoUser) -> None:
        """Local calls point at Yoom's own user rows, so the video user *is* the Yoom user:
        there is no second copy to bring up to date. Only the argument is checked."""
        if not isinstance(user, VideoUser) or not user.id:
            raise InvalidRequest("upsert_user needs a VideoUser with an id")

    # --- calls ------------------------------------------------------------------------------

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
        now = self._now()
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
            now=now,
        )
        kind, new_id, members, description = request.kind, request.call_id, request.member_ids, request.description
        start, invite_only, share = request.starts_at, request.invite_only, request.share_recordings

        def create() -> Meeting:
            with self._db() as db:
                owner = db.get(User, creator.id)
                if owner is None:
                    raise InvalidRequest(
                        "creator is not a Yoom user", user_message="Your account wasn't found. Sign in again."
                    )
                if kind is CallKind.PERSONAL and owner.personal_room_id != new_id:
                    # Only the id stored on the owner opens as their room: an old, reset one stays closed.
                    raise InvalidRequest(
                        f"{new_id} is not {creator.id}'s personal room",
                        user_message="This personal room link has changed. Open your room from Personal Room.",
                    )
                if members:
                    known = set(db.exec(select(User.id).where(col(User.id).in_(members))).all())
                    if len(known) != len(members):
                        raise InvalidRequest(
                            "unknown member ids",
                            user_message="Some of the people you invited don't have a Yoom account.",
                        )
                existing = db.get(LocalCall, new_id)
                if existing is not None:
                    if (
                        kind is not CallKind.PERSONAL
                        or existing.kind != CallKind.PERSONAL.value
                        or existing.created_by != creator.id
                    ):
                        raise InvalidRequest("call id taken", user_message="A meeting with that ID already exists.")
                    if existing.ended_at is not None:  # a personal room is reusable: starting it reopens it
                        existing.ended_at = None
                        existing.ended_by = None
                        existing.starts_at = to_db(now)
                    if description:
                        existing.description = description
                    db.add(existing)
                    row = existing
                else:
                    row = LocalCall(
                        id=new_id,
                        call_type=CALL_TYPE,
                        kind=kind.value,
                        created_by=creator.id,
                        description=description,
                        starts_at=to_db(start),
                        created_at=to_db(now),
                        invite_only=invite_only,
                        share_recordings=share,
                    )
                    db.add(row)
                    db.flush()
                    db.add(LocalCallMember(call_id=new_id, user_id=creator.id, role="host", created_at=to_db(now)))
                for member_id in members:
                    if db.get(LocalCallMember, (new_id, member_id)) is None:
                        db.add(LocalCallMember(call_id=new_id, user_id=member_id, role="member", created_at=to_db(now)))
                db.flush()
                return _meeting(row, _members(db, [new_id])[new_id])

        try:
            return await asyncio.to_thread(create)
        except sqlalchemy.exc.IntegrityError:
            if kind is CallKind.PERSONAL:  # two tabs opened the room at once: the other one made it
                return await asyncio.to_thread(create)
            raise InvalidRequest("call id taken", user_message="A meeting with that ID already exists.") from None

    async def get_call(self, call_id: str) -> Meeting | None:
        if not is_valid_call_id(call_id):
            return None

        def get() -> Meeting | None:
            with self._db() as db:
                row = db.get(LocalCall, call_id)
                return None if row is None else _meeting(row, _members(db, [call_id])[call_id])

        return await asyncio.to_thread(get)

    async def add_member(self, call_id: str, user: VideoUser) -> None:
        if not is_valid_call_id(call_id):
            raise CallNotFound(f"bad call id {call_id!r}")
        if not isinstance(user, VideoUser) or not user.id:
            raise InvalidRequest("add_member needs a user")

        def add() -> None:
            with self._db() as db:
                if db.get(LocalCall, call_id) is None:
                    raise CallNotFound(call_id)
                if db.get(User, user.id) is None:
                    raise InvalidRequest(
                        f"{user.id} is not a Yoom user", user_message="That person doesn't have a Yoom account."
                    )
                if db.get(LocalCallMember, (call_id, user.id)) is None:
                    db.add(
                        LocalCallMember(call_id=call_id, user_id=user.id, role="member", created_at=to_db(self._now()))
                    )

        try:
            await asyncio.to_thread(add)
        except sqlalchemy.exc.IntegrityError:
            pass  # added at the same moment by another connection of the same person: already a member

    async def upcoming_calls(
        self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[Meeting]:
        return await self._list("upcoming", user_id, limit, cursor)

    async def previous_calls(
        self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[Meeting]:
        return await self._list("previous", user_id, limit, cursor)

    async def _list(self, listing: str, user_id: str, limit: int, cursor: str | None) -> Page[Meeting]:
        if not isinstance(user_id, str) or not user_id:
            raise InvalidRequest("user_id required", user_message="Sign in to see your meetings.")
        size = _page_size(limit)
        after = _decode_cursor(listing, cursor) if cursor else None
        now = to_db(self._now())

        def query() -> Page[Meeting]:
            statement = select(LocalCall).where(_visible_to(user_id), col(LocalCall.starts_at).is_not(None))
            if listing == "upcoming":
                statement = statement.where(col(LocalCall.ended_at).is_(None), col(LocalCall.starts_at) > now)
                if after:
                    statement = statement.where(
                        or_(
                            col(LocalCall.starts_at) > after[0],
                            and_(col(LocalCall.starts_at) == after[0], col(LocalCall.id) > after[1]),
                        )
                    )
                statement = statement.order_by(col(LocalCall.starts_at).asc(), col(LocalCall.id).asc())
            else:
                statement = statement.where(or_(col(LocalCall.ended_at).is_not(None), col(LocalCall.starts_at) <= now))
                if after:
                    statement = statement.where(
                        or_(
                            col(LocalCall.starts_at) < after[0],
                            and_(col(LocalCall.starts_at) == after[0], col(LocalCall.id) < after[1]),
                        )
                    )
                statement = statement.order_by(col(LocalCall.starts_at).desc(), col(LocalCall.id).desc())
            with self._db() as db:
                rows = list(db.exec(statement.limit(size + 1)).all())
                more = len(rows) > size
                rows = rows[:size]
                members = _members(db, [r.id for r in rows])
                items = [_meeting(r, members[r.id]) for r in rows]
            next_cursor = _encode_cursor(listing, rows[-1].starts_at, rows[-1].id) if more else None
            return Page(items=items, next_cursor=next_cursor)

        return await asyncio.to_thread(query)

    async def end_call(self, call_id: str, by_user_id: str) -> Meeting:
        if not is_valid_call_id(call_id):
            raise CallNotFound(f"bad call id {call_id!r}")

        def end() -> Meeting:
            with self._db() as db:
                row = db.get(LocalCall, call_id)
                if row is None:
                    raise CallNotFound(call_id)
                if row.created_by != by_user_id:
                    raise NotCallOwner(f"{by_user_id} did not create {call_id}")
                if row.ended_at is None:
                    row.ended_at = to_db(self._now())
                    row.ended_by = by_user_id
                    db.add(row)
                return _meeting(row, _members(db, [call_id])[call_id])

        meeting = await asyncio.to_thread(end)
        # The database says "ended" before anyone is told, so a socket that joins meanwhile is refused.
        await self._signaling_hub().end_call(call_id, by_user_id)
        return meeting

    async def _eject(self, call_id: str, user_id: str) -> None:
        await self._signaling_hub().remove_user(call_id, user_id)

    async def reopen_call(self, call_id: str, by_user_id: str) -> Meeting:
        """Open an ended personal room again (only its owner, and only while it is their current room:
        after "Reset link" the old one stays closed; other meetings stay ended)."""
        if not is_valid_call_id(call_id):
            raise CallNotFound(f"bad call id {call_id!r}")

        def reopen() -> Meeting:
            with self._db() as db:
                row = db.get(LocalCall, call_id)
                if row is None:
                    raise CallNotFound(call_id)
                if row.created_by != by_user_id:
                    raise NotCallOwner(
                        f"{by_user_id} did not create {call_id}",
                        user_message="Only the room's owner can open it again.",
                    )
                if row.kind != CallKind.PERSONAL.value:
                    if row.ended_at is not None:
                        raise CallEnded(call_id, user_message="This meeting has ended. Start a new one instead.")
                elif row.ended_at is not None:
                    owner = db.get(User, by_user_id)
                    if owner is None or owner.personal_room_id != call_id:
                        raise CallEnded(call_id, user_message="This personal room link was reset: it no longer opens.")
                    row.ended_at = None
                    row.ended_by = None
                    row.starts_at = to_db(self._now())
                    db.add(row)
                return _meeting(row, _members(db, [call_id])[call_id])

        return await asyncio.to_thread(reopen)

    # --- recordings -------------------------------------------------------------------------

    async def recordings(
        self, user_id: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[Recording]:
        if not isinstance(user_id, str) or not user_id:
            raise InvalidRequest("user_id required", user_message="Sign in to see your recordings.")
        size = _page_size(limit)
        after = _decode_cursor("recordings", cursor) if cursor else None
        now = self._now()

        def query() -> Page[Recording]:
            base = (
                select(LocalRecording, LocalCall)
                .join(LocalCall, col(LocalRecording.call_id) == col(LocalCall.id))
                .where(_may_hold_recordings_for(user_id))
                .order_by(col(LocalRecording.start_time).desc(), col(LocalRecording.id).desc())
            )
            kept: list[tuple[LocalRecording, LocalCall]] = []
            position = after
            with self._db() as db:
                # Read candidates newest first until the page (and one more, to know there is a next page)
                # is full of recordings the rule lets this user watch, or there are no more.
                while len(kept) <= size:
                    statement = base
                    if position:
                        statement = statement.where(
                            or_(
                                col(LocalRecording.start_time) < position[0],
                                and_(
                                    col(LocalRecording.start_time) == position[0], col(LocalRecording.id) < position[1]
                                ),
                            )
                        )
                    batch = [tuple(pair) for pair in db.exec(statement.limit(RECORDING_SCAN_BATCH)).all()]
                    for pair, allowed in zip(batch, _watchable(db, user_id, batch, now), strict=True):
                        if allowed:
                            kept.append(pair)
                    if len(batch) < RECORDING_SCAN_BATCH:
                        break
                    last = batch[-1][0]
                    position = (to_db(last.start_time), last.id)
            more = len(kept) > size
            kept = kept[:size]
            next_cursor = _encode_cursor("recordings", kept[-1][0].start_time, kept[-1][0].id) if more else None
            return Page(items=[_recording(rec, call.created_by) for rec, call in kept], next_cursor=next_cursor)

        return await asyncio.to_thread(query)

    async def add_recording(
        self,
        call_id: str,
        by_user_id: str,
        *,
        recording_id: str,
        filename: str,
        stored_name: str,
        content_type: str,
        size_bytes: int,
        start_time: datetime,
        end_time: datetime,
        quota_bytes: int | None = None,
    ) -> Recording:
        """Record an uploaded file (already stored) as a recording of the call; only its creator may.
        With `quota_bytes`, raises QuotaExceeded when the uploader's recordings would then take more."""

        def add() -> Recording:
            with self._db() as db:
                call = db.get(LocalCall, call_id)
                if call is None:
                    raise CallNotFound(call_id)
                if call.created_by != by_user_id:
                    raise NotCallOwner(by_user_id, user_message="Only the meeting's host can upload its recording.")
                if quota_bytes is not None:
                    # One upload at a time per person on PostgreSQL (SQLite writes one at a time anyway), so
                    # two at once can't both fit in the same remaining space.
                    db.exec(select(User.id).where(User.id == by_user_id).with_for_update()).first()
                    used = _usage(db, by_user_id)
                    if used + size_bytes > quota_bytes:
                        raise QuotaExceeded(used, quota_bytes)
                row = LocalRecording(
                    id=recording_id,
                    call_id=call_id,
                    created_by=by_user_id,
                    filename=filename,
                    stored_name=stored_name,
                    content_type=content_type,
                    size_bytes=size_bytes,
                    start_time=to_db(start_time),
                    end_time=to_db(end_time),
                    created_at=to_db(self._now()),
                )
                db.add(row)
                db.flush()
                return _recording(row, call.created_by)

        return await asyncio.to_thread(add)

    async def recording_usage(self, user_id: str) -> int:
        """Bytes of recordings stored for this person (what counts against their quota)."""

        def usage() -> int:
            with self._db() as db:
                return _usage(db, user_id)

        return await asyncio.to_thread(usage)

    async def recording_for_user(self, recording_id: str, user_id: str) -> LocalRecording | None:
        """The recording's row if the rule (yoom.meeting_rules.may_watch_recording) lets the user watch it,
        else None (whether it exists or not)."""
        if not isinstance(recording_id, str) or not is_valid_call_id(recording_id) or not user_id:
            return None
        now = self._now()

        def get() -> LocalRecording | None:
            statement = (
                select(LocalRecording, LocalCall)
                .join(LocalCall, col(LocalRecording.call_id) == col(LocalCall.id))
                .where(LocalRecording.id == recording_id)
            )
            with self._db() as db:
                pair = db.exec(statement).first()
                if pair is None or not _watchable(db, user_id, [tuple(pair)], now)[0]:
                    return None
                return pair[0]

        return await asyncio.to_thread(get)

    async def delete_recording(self, recording_id: str, by_user_id: str) -> None:
        """Delete a recording's row and its file; only the host of its meeting may. Raises InvalidRequest
        ("doesn't exist") when this user can't see such a recording, NotCallOwner when they may watch it but
        aren't the host."""
        missing = InvalidRequest(
            f"no recording {recording_id!r}", user_message="That recording doesn't exist any more."
        )
        if not isinstance(recording_id, str) or not is_valid_call_id(recording_id):
            raise missing
        now = self._now()

        def remove() -> str:
            statement = (
                select(LocalRecording, LocalCall)
                .join(LocalCall, col(LocalRecording.call_id) == col(LocalCall.id))
                .where(LocalRecording.id == recording_id)
            )
            with self._db() as db:
                pair = db.exec(statement).first()
                if pair is None or not _watchable(db, by_user_id, [tuple(pair)], now)[0]:
                    raise missing  # someone who may not see it learns nothing about it
                recording, call = pair
                if call.created_by != by_user_id:
                    raise NotCallOwner(by_user_id, user_message="Only the meeting's host can delete its recording.")
                db.exec(delete(LocalRecording).where(LocalRecording.id == recording_id))
                return recording.stored_name

        stored_name = await asyncio.to_thread(remove)
        # The row is gone first: a file that can't be removed now is an orphan, never a broken listing.
        path = self.recordings_dir / stored_name
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except OSError as exc:
            log.warning("recording %s: could not remove %s: %s", recording_id, path, exc)


def _usage(db: Session, user_id: str) -> int:
    total = db.exec(
        select(sqlalchemy.func.coalesce(sqlalchemy.func.sum(LocalRecording.size_bytes), 0)).where(
            LocalRecording.created_by == user_id
        )
    ).one()
    return int(total)
