"""The signaling hub of Yoom's built-in video: rooms of peers that relay WebRTC signals.

Plain Python (no Reflex, no Starlette), implementing docs/rtc-protocol.md. A peer's socket is anything
with `async send(dict)` and `async close(code, reason)` (`Transport`) — a WebSocket in production, a fake
in tests. The hub holds the sockets of its own process; the rosters live in a `Backplane`
(yoom/rtc/backplane.py): in memory for one process, or shared by several processes and hosts.

Concurrency rules:
* Every frame to a peer goes through that peer's own outbox and writer task, so one slow or dead browser
  never holds up the others, and frames to one socket are never sent concurrently.
* A peer's first frame is `welcome`: whatever reaches it earlier waits until the welcome is queued.
* Safe to call from another thread or event loop than the peers' (end_call from a worker thread, say):
  deliveries are handed to each peer's own loop. The lock guarding the hub's own table of local peers is
  never held across an await.
* One seat per person per call: a second connection of the same user replaces the first (`replaced`),
  and the call's host always gets in, even into a full room.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from yoom.rtc.backplane import Backplane, Close, Item, Member, MemoryBackplane, RoomFull
from yoom.rtc.protocol import (
    CLOSE_CALL_ENDED,
    CLOSE_CODES,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    MESSAGES,
    PEER_LEFT_REASONS,
    ErrorCode,
    error_frame,
)

__all__ = ["Hub", "Peer", "RoomFull", "Transport", "get_hub", "set_hub"]

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
HEARTBEAT_TIMEOUT_SECONDS = 10.0
DEFAULT_CAPACITY = 6
OUTBOX_LIMIT = 1000  # frames waiting for one peer before it counts as stalled
SEND_TIMEOUT_SECONDS = 10.0
RATE_PER_SECOND = 50.0  # sustained frames a peer may send; ICE bursts fit in the burst
RATE_BURST = 200.0
MAX_ID_LENGTH = 64


class Transport(Protocol):
    async def send(self, message: dict[str, Any]) -> None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


@dataclass(eq=False)
class Peer:
    """A socket of this process in a call (its roster entry, a `Member`, lives in the backplane)."""

    peer_id: str
    call_id: str
    user: dict[str, Any]
    is_owner: bool
    transport: Transport
    loop: asyncio.AbstractEventLoop
    last_seen: float
    closed: bool = False  # no longer in the room
    sealed: bool = False  # the close item is queued: nothing more goes out
    welcomed: bool = False  # `welcome` is queued; until then deliveries wait in `early`
    early: list[Item] = field(default_factory=list)
    outbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    writer: asyncio.Task | None = None
    watchdog: asyncio.Task | None = None
    tokens: float = RATE_BURST
    tokens_at: float = 0.0
    throttled_notice_at: float = -1e9

    @property
    def user_id(self) -> str:
        return self.user["id"]


def _user_dict(user: Any) -> dict[str, Any]:
    if isinstance(user, Mapping):
        uid, name, image = user.get("id"), user.get("name"), user.get("image")
    else:
        uid, name, image = getattr(user, "id", None), getattr(user, "name", None), getattr(user, "image", None)
    if not isinstance(uid, str) or not uid:
        raise ValueError("a peer needs a user id")
    return {"id": uid, "name": name if isinstance(name, str) and name else uid, "image": image or None}


def _media_frame(member: Member) -> dict[str, Any]:
    return {
        "type": "media",
        "peer_id": member.peer_id,
        "audio": member.audio,
        "video": member.video,
        "screen": member.screen,
    }


MessageHandler = Callable[[Peer, dict[str, Any]], Awaitable[None]]


class Hub:
    def __init__(
        self,
        *,
        capacity: int = DEFAULT_CAPACITY,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT_SECONDS,
        ice_servers: Iterable[Mapping[str, Any]] = (),
        max_frame_bytes: int = MAX_FRAME_BYTES,
        outbox_limit: int = OUTBOX_LIMIT,
        send_timeout: float = SEND_TIMEOUT_SECONDS,
        rate_per_second: float = RATE_PER_SECOND,
        rate_burst: float = RATE_BURST,
        backplane: Backplane | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        if heartbeat_timeout <= 0:
            raise ValueError("heartbeat_timeout must be positive")
        self.capacity = capacity
        self.heartbeat_timeout = heartbeat_timeout
        self.ice_servers = [dict(s) for s in ice_servers]
        self.max_frame_bytes = max_frame_bytes
        self.outbox_limit = outbox_limit
        self.send_timeout = send_timeout
        self.rate_per_second = rate_per_second
        self.rate_burst = rate_burst
        self._clock = clock
        self.backplane: Backplane = backplane or MemoryBackplane()
        self.backplane.attach(self._deliver_here, self._members_gone)
        self._local: dict[str, Peer] = {}  # peer_id → this process's peers
        self._lock = threading.Lock()
        # One handler per message type a browser may send; features add theirs with `on()`.
        self._handlers: dict[str, MessageHandler] = {}
        self.on("ping", self._on_ping)
        self.on("signal", self._on_signal)
        self.on("media", self._on_media)
        self.on("recording", self._on_recording)
        self.on("leave", self._on_leave)

    def on(self, message_type: str, handler: MessageHandler) -> None:
        """Handle browser messages of `message_type` (one handler per type)."""
        self._handlers[message_type] = handler

    # --- inspection -------------------------------------------------------------------------

    def peers(self, call_id: str) -> list[Peer]:
        """This process's peers in the call."""
        with self._lock:
            return [p for p in self._local.values() if p.call_id == call_id and not p.closed]

    async def members(self, call_id: str) -> list[Member]:
        """Everyone in the call, on every instance."""
        return await self.backplane.members(call_id)

    async def room_size(self, call_id: str) -> int:
        return len(await self.backplane.members(call_id))

    async def active_calls(self) -> list[str]:
        return await self.backplane.active_calls()

    # --- joining and leaving ----------------------------------------------------------------

    async def join(
        self, call_id: str, user: Any, transport: Transport, *, is_owner: bool = False, capacity: int | None = None
    ) -> Peer:
        """Add a peer to the call's room; it gets `welcome`, the others `peer-joined`.

        The same user's earlier connection to this call, if any, is replaced (told `replaced`, closed 4409).
        Raises RoomFull when the room already holds `capacity` peers (the hub's, a mesh's size, unless the
        caller says otherwise: a Stream meeting's room channel carries no media) — never for the host."""
        if not isinstance(call_id, str) or not call_id:
            raise ValueError("call_id is required")
        loop = asyncio.get_running_loop()
        now = self._clock()
        peer = Peer(
            peer_id=secrets.token_hex(8),
            call_id=call_id,
            user=_user_dict(user),
            is_owner=bool(is_owner),
            transport=transport,
            loop=loop,
            last_seen=now,
            tokens=self.rate_burst,
            tokens_at=now,
        )
        member = Member(
            peer_id=peer.peer_id,
            call_id=call_id,
            user=dict(peer.user),
            instance_id=self.backplane.instance_id,
            is_owner=peer.is_owner,
        )
        with self._lock:
            self._local[peer.peer_id] = peer  # before the roster: deliveries to it wait for the welcome
        try:
            joined = await self.backplane.join(
                member, capacity=capacity or self.capacity, bypass_capacity=peer.is_owner
            )
        except BaseException:
            with self._lock:
                self._local.pop(peer.peer_id, None)
            raise
        peer.writer = loop.create_task(self._write(peer), name=f"rtc-writer-{peer.peer_id}")
        peer.watchdog = loop.create_task(self._watch(peer), name=f"rtc-watchdog-{peer.peer_id}")
        welcome = {
            "type": "welcome",
            "peer_id": peer.peer_id,
            "user": dict(peer.user),
            "is_owner": peer.is_owner,
            "peers": [m.public() for m in joined.others],
            "ice_servers": [dict(s) for s in self.ice_servers],
        }
        self._in_loop(peer, self._welcome, peer, welcome)
        # Everyone must know when they are being recorded, newcomers included.
        for other in joined.others:
            if other.recording:
                self._post(peer, {"type": "recording", "peer_id": other.peer_id, "active": True})
        if joined.replaced is not None:
            await self._evict(joined.replaced, ErrorCode.REPLACED, "replaced", joined.others)
        announcement = {"type": "peer-joined", "peer": member.public()}
        for other in joined.others:
            await self.backplane.deliver(other, announcement)
        return peer

    async def leave(self, peer: Peer, reason: str = "left") -> bool:
        """Take the peer out of its room and tell the others (`peer-left` with `reason`).

        "left" and "timeout" also close its socket (1000, or 4408 after a `timeout` error);
        "disconnected" means the socket is already gone. Returns False if it had already left."""
        if reason not in PEER_LEFT_REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        if reason == "left":
            close = Close(CLOSE_NORMAL, "left")
        elif reason == "timeout":
            close = Close(CLOSE_CODES[ErrorCode.TIMEOUT], "timeout")
        else:
            close = Close(None)
        error = error_frame(ErrorCode.TIMEOUT, MESSAGES["timeout"]) if reason == "timeout" else None
        return await self._remove(peer, reason, close, error)

    async def refuse(self, peer: Peer, code: str, message: str) -> bool:
        """Remove a peer already admitted with a fatal error (e.g. the call ended while it joined)."""
        close = Close(CLOSE_CODES.get(code, CLOSE_POLICY), str(code))
        return await self._remove(peer, "left", close, error_frame(code, message))

    async def remove_user(self, call_id: str, user_id: str) -> int:
        """The host removed this person: each of their connections is told `removed` and closed (4430),
        the others hear `peer-left` with reason "removed". Returns how many connections went."""
        gone = 0
        for member in await self.backplane.members(call_id):
            if member.user_id == user_id and await self._evict(member, ErrorCode.REMOVED, "removed"):
                gone += 1
        return gone

    async def end_call(self, call_id: str, by: str) -> int:
        """Broadcast `call-ended` to everyone in the call, then close every socket with 4000."""
        members = await self.backplane.end_call(call_id)
        frame = {"type": "call-ended", "by": by}
        for member in members:
            await self.backplane.deliver(member, frame)
            await self.backplane.deliver(member, Close(CLOSE_CALL_ENDED, "call ended"))
        return len(members)

    async def wait_closed(self, peer: Peer, timeout: float = 5.0) -> None:
        """Wait (bounded) until the peer's writer has flushed its last frames and closed."""
        writer = peer.writer
        if writer is None or writer.done():
            return
        if asyncio.get_running_loop() is not peer.loop:
            return
        await asyncio.wait({writer}, timeout=timeout)

    async def _remove(self, peer: Peer, reason: str, close: Close, error: dict[str, Any] | None) -> bool:
        if peer.closed:
            return False
        peer.closed = True
        self._stop_watchdog(peer)
        if error is not None:
            self._post(peer, error)
        self._post(peer, close)
        member = await self.backplane.leave(peer.call_id, peer.peer_id)
        if member is None:
            return False  # taken out by someone else first (replaced, removed, the call ended)
        await self._tell_left(member, reason)
        return True

    async def _evict(self, member: Member, code: ErrorCode, reason: str, others: list[Member] | None = None) -> bool:
        """A member (of any process) out, unless already out: the error, the close, and the others told.
        `others` given: the roster already let it go (a replaced seat) and these are who remain."""
        if others is None and await self.backplane.leave(member.call_id, member.peer_id) is None:
            return False
        await self.backplane.deliver(member, error_frame(code, MESSAGES[reason]))
        await self.backplane.deliver(member, Close(CLOSE_CODES[code], reason))
        await self._tell_left(member, reason, others)
        return True

    async def _tell_left(self, member: Member, reason: str, others: list[Member] | None = None) -> None:
        if others is None:
            others = await self.backplane.members(member.call_id)
        for other in others:
            if other.peer_id == member.peer_id:
                continue
            if member.recording:
                await self.backplane.deliver(other, {"type": "recording", "peer_id": member.peer_id, "active": False})
            await self.backplane.deliver(other, {"type": "peer-left", "peer_id": member.peer_id, "reason": reason})

    def _members_gone(self, call_id: str, members: list[Member]) -> None:
        """Another instance died with these members: tell the rest of the call they left."""

        async def tell() -> None:
            remaining = await self.backplane.members(call_id)
            for member in members:
                await self._tell_left(member, "disconnected", remaining)

        asyncio.get_running_loop().create_task(tell())

    # --- messages from a peer ---------------------------------------------------------------

    async def handle_frame(self, peer: Peer, frame: str | bytes | None) -> None:
        """One frame from the peer's socket: any frame counts as a sign of life."""
        if peer.closed:
            return
        peer.last_seen = self._clock()
        if not self._take_token(peer):
            return
        if not isinstance(frame, str):
            self._bad(peer, "Frames must be JSON text.")
            return
        if len(frame) > self.max_frame_bytes or (
            len(frame) * 4 > self.max_frame_bytes and len(frame.encode("utf-8")) > self.max_frame_bytes
        ):
            self._bad(peer, f"Frame too large (limit {self.max_frame_bytes // 1024} KiB).")
            return
        try:
            message = json.loads(frame)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            self._bad(peer, "Frames must be JSON.")
            return
        if not isinstance(message, dict):
            self._bad(peer, "A frame must be a JSON object with a 'type'.")
            return
        await self._dispatch(peer, message)

    async def handle(self, peer: Peer, message: dict[str, Any]) -> None:
        """One already-decoded message from the peer."""
        if peer.closed:
            return
        peer.last_seen = self._clock()
        if not self._take_token(peer):
            return
        if not isinstance(message, dict):
            self._bad(peer, "A frame must be a JSON object with a 'type'.")
            return
        await self._dispatch(peer, message)

    async def _dispatch(self, peer: Peer, message: dict[str, Any]) -> None:
        kind = message.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is not None:
            await handler(peer, message)
        elif isinstance(kind, str):
            self._bad(peer, f"Unknown message type {kind[:40]!r}.")
        else:
            self._bad(peer, "A frame must be a JSON object with a 'type'.")

    async def _on_ping(self, peer: Peer, _message: dict[str, Any]) -> None:
        self._post(peer, {"type": "pong"})

    async def _on_leave(self, peer: Peer, _message: dict[str, Any]) -> None:
        await self.leave(peer, "left")

    def _take_token(self, peer: Peer) -> bool:
        now = self._clock()
        peer.tokens = min(self.rate_burst, peer.tokens + (now - peer.tokens_at) * self.rate_per_second)
        peer.tokens_at = now
        if peer.tokens >= 1:
            peer.tokens -= 1
            return True
        if now - peer.throttled_notice_at >= 1.0:  # one notice a second, not one per dropped frame
            peer.throttled_notice_at = now
            self._bad(peer, "Too many messages; some were dropped. Slow down.")
        return False

    async def _on_signal(self, peer: Peer, message: dict[str, Any]) -> None:
        target_id = message.get("to")
        data = message.get("data")
        if not isinstance(target_id, str) or not target_id or len(target_id) > MAX_ID_LENGTH:
            self._bad(peer, "A signal needs 'to': the peer_id of its recipient.")
            return
        if not isinstance(data, dict) or not ("sdp" in data or "candidate" in data):
            self._bad(peer, "A signal needs 'data' with an 'sdp' or a 'candidate'.")
            return
        target = None
        if target_id != peer.peer_id:
            target = next((m for m in await self.backplane.members(peer.call_id) if m.peer_id == target_id), None)
        if target is None:
            self._bad(peer, f"No peer {target_id[:MAX_ID_LENGTH]!r} in this call.")
            return
        await self.backplane.deliver(target, {"type": "signal", "from": peer.peer_id, "data": data})

    async def _on_media(self, peer: Peer, message: dict[str, Any]) -> None:
        changes = {}
        for key in ("audio", "video", "screen"):
            if key in message:
                if not isinstance(message[key], bool):
                    self._bad(peer, f"'{key}' must be true or false.")
                    return
                changes[key] = message[key]
        if not changes:
            self._bad(peer, "A media message needs 'audio', 'video' or 'screen'.")
            return
        member = await self.backplane.update(peer.call_id, peer.peer_id, **changes)
        if member is not None:
            await self.broadcast(peer.call_id, _media_frame(member), exclude=peer.peer_id)

    async def _on_recording(self, peer: Peer, message: dict[str, Any]) -> None:
        active = message.get("active")
        if not isinstance(active, bool):
            self._bad(peer, "A recording message needs 'active': true or false.")
            return
        if not peer.is_owner:
            self._post(peer, error_frame(ErrorCode.FORBIDDEN, "Only the meeting's host can record it."))
            return
        if await self.backplane.update(peer.call_id, peer.peer_id, recording=active) is not None:
            frame = {"type": "recording", "peer_id": peer.peer_id, "active": active}
            await self.broadcast(peer.call_id, frame, exclude=peer.peer_id)

    async def broadcast(self, call_id: str, frame: dict[str, Any], *, exclude: str | None = None) -> None:
        """A frame to everyone in the call (but `exclude`), on every instance."""
        for member in await self.backplane.members(call_id):
            if member.peer_id != exclude:
                await self.backplane.deliver(member, frame)

    def send_to(self, peer: Peer, frame: dict[str, Any]) -> None:
        """A frame to one of this process's peers (an answer to something it sent)."""
        self._post(peer, frame)

    def _bad(self, peer: Peer, message: str) -> None:
        self._post(peer, error_frame(ErrorCode.BAD_MESSAGE, message))

    # --- delivery ---------------------------------------------------------------------------

    def _deliver_here(self, member: Member, item: Item) -> None:
        """The backplane's delivery to a member of this process (any thread)."""
        with self._lock:
            peer = self._local.get(member.peer_id)
        if peer is None:
            return  # gone already
        if isinstance(item, Close):
            # Out of the roster by someone else's decision (replaced, removed, ended): stop watching it.
            peer.closed = True
            self._stop_watchdog(peer)
        self._post(peer, item)

    def _in_loop(self, peer: Peer, fn: Callable[..., Any], *args: Any) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is peer.loop:
            fn(*args)
            return
        try:
            peer.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # that loop is closed: the peer is long gone
            pass

    def _post(self, peer: Peer, item: Item) -> None:
        self._in_loop(peer, self._enqueue, peer, item)

    def _welcome(self, peer: Peer, welcome: dict[str, Any]) -> None:
        self._enqueue(peer, welcome, first=True)
        early, peer.early = peer.early, []
        for item in early:
            self._enqueue(peer, item)

    def _enqueue(self, peer: Peer, item: Item, first: bool = False) -> None:
        if peer.sealed:
            return
        if not peer.welcomed and not first:
            peer.early.append(item)
            return
        peer.welcomed = True
        if isinstance(item, Close):
            peer.sealed = True
            peer.outbox.put_nowait(item)
            with self._lock:
                self._local.pop(peer.peer_id, None)
            return
        if peer.outbox.qsize() >= self.outbox_limit:
            log.warning("rtc peer %s stalled (%d frames waiting); dropping it", peer.peer_id, peer.outbox.qsize())
            self._drop_stalled(peer)
            return
        peer.outbox.put_nowait(item)

    def _drop_stalled(self, peer: Peer) -> None:
        """A browser that stopped reading: forget what it didn't read, close it (1008), tell the others."""
        while not peer.outbox.empty():
            peer.outbox.get_nowait()
        peer.closed = True
        self._stop_watchdog(peer)
        self._enqueue(peer, Close(CLOSE_POLICY, "too slow"))
        peer.loop.create_task(self._forget(peer, "disconnected"))

    async def _forget(self, peer: Peer, reason: str) -> None:
        member = await self.backplane.leave(peer.call_id, peer.peer_id)
        if member is not None:
            await self._tell_left(member, reason)

    def _stop_watchdog(self, peer: Peer) -> None:
        task = peer.watchdog
        if task is None or task.done():
            return
        try:
            current = asyncio.current_task()
        except RuntimeError:
            current = None
        if task is not current:
            self._in_loop(peer, task.cancel)

    async def _write(self, peer: Peer) -> None:
        broken = False
        while True:
            item = await peer.outbox.get()
            if isinstance(item, Close):
                if item.code is not None and not broken:
                    try:
                        await asyncio.wait_for(peer.transport.close(item.code, item.reason), self.send_timeout)
                    except Exception:  # already closed by the other side
                        pass
                return
            if broken:
                continue
            try:
                await asyncio.wait_for(peer.transport.send(item), self.send_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                broken = True
                log.info("rtc peer %s: send failed (%s); treating it as disconnected", peer.peer_id, type(exc).__name__)
                await self._remove(peer, "disconnected", Close(None), None)

    async def _watch(self, peer: Peer) -> None:
        try:
            while not peer.closed:
                remaining = peer.last_seen + self.heartbeat_timeout - self._clock()
                if remaining <= 0:
                    await self.leave(peer, "timeout")
                    return
                await asyncio.sleep(remaining)
        except asyncio.CancelledError:
            pass


_hub: Hub | None = None
_hub_lock = threading.Lock()


def get_hub() -> Hub:
    """The process's hub, sized from settings (YOOM_ROOM_CAPACITY, YOOM_ICE_SERVERS), on Redis when
    REFLEX_REDIS_URL is set."""
    global _hub
    with _hub_lock:
        if _hub is None:
            from yoom.rtc.room import RoomFeatures
            from yoom.settings import get_settings

            settings = get_settings()
            backplane = None
            if settings.redis_url:  # several workers or hosts: rosters and delivery through Redis
                from yoom.rtc.redis_backplane import RedisBackplane

                backplane = RedisBackplane(settings.redis_url)
            _hub = Hub(capacity=settings.room_capacity, ice_servers=settings.ice_servers, backplane=backplane)
            RoomFeatures(_hub).install()  # chat, hands, reactions, app messages (yoom/rtc/room.py)
        return _hub


def set_hub(hub: Hub | None) -> None:
    """Replace the process's hub (tests); None makes the next get_hub() build one from settings."""
    global _hub
    with _hub_lock:
        _hub = hub


get_hub.cache_clear = lambda: set_hub(None)  # type: ignore[attr-defined]  # like the other accessors
