"""The signaling hub of Yoom's built-in video: rooms of peers that relay WebRTC signals.

Plain Python (no Reflex, no Starlette), implementing docs/rtc-protocol.md. A peer is anything
with `async send(dict)` and `async close(code, reason)` — a WebSocket in production, a fake in
tests. Every frame to a peer goes through that peer's own outbox and writer task, so one slow or
dead browser never holds up the others, and frames to one socket are never sent concurrently.

The hub lives in one process (`get_hub()`): all sockets of a call must reach the same worker.
It is safe to call from another thread or event loop than the peers' (end_call from a worker
thread, for instance): deliveries are handed to each peer's own loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

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


class RoomFull(Exception):
    def __init__(self, capacity: int):
        super().__init__(f"room is full ({capacity} people)")
        self.capacity = capacity


@dataclass(frozen=True)
class _Close:
    """Outbox sentinel: stop writing; close the transport with `code` unless it is None."""

    code: int | None
    reason: str = ""


@dataclass(eq=False)
class Peer:
    peer_id: str
    call_id: str
    user: dict[str, Any]
    is_owner: bool
    transport: Transport
    loop: asyncio.AbstractEventLoop
    last_seen: float
    audio: bool = False
    video: bool = False
    screen: bool = False
    recording: bool = False
    closed: bool = False  # no longer in the room
    sealed: bool = False  # the close sentinel is queued: nothing more goes out
    outbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    writer: asyncio.Task | None = None
    watchdog: asyncio.Task | None = None
    tokens: float = RATE_BURST
    tokens_at: float = 0.0
    throttled_notice_at: float = -1e9

    def public(self) -> dict[str, Any]:
        return {
            "peer_id": self.peer_id,
            "user": dict(self.user),
            "audio": self.audio,
            "video": self.video,
            "screen": self.screen,
        }

    def media_frame(self) -> dict[str, Any]:
        return {
            "type": "media",
            "peer_id": self.peer_id,
            "audio": self.audio,
            "video": self.video,
            "screen": self.screen,
        }


def _user_dict(user: Any) -> dict[str, Any]:
    if isinstance(user, Mapping):
        uid, name, image = user.get("id"), user.get("name"), user.get("image")
    else:
        uid, name, image = getattr(user, "id", None), getattr(user, "name", None), getattr(user, "image", None)
    if not isinstance(uid, str) or not uid:
        raise ValueError("a peer needs a user id")
    return {"id": uid, "name": name if isinstance(name, str) and name else uid, "image": image or None}


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
        self._rooms: dict[str, dict[str, Peer]] = {}
        self._lock = threading.Lock()  # guards _rooms; never held across an await

    # --- inspection -------------------------------------------------------------------------

    def peers(self, call_id: str) -> list[Peer]:
        with self._lock:
            return list(self._rooms.get(call_id, {}).values())

    def room_size(self, call_id: str) -> int:
        with self._lock:
            return len(self._rooms.get(call_id, {}))

    def active_calls(self) -> list[str]:
        with self._lock:
            return list(self._rooms)

    # --- joining and leaving ----------------------------------------------------------------

    async def join(self, call_id: str, user: Any, transport: Transport, *, is_owner: bool = False) -> Peer:
        """Add a peer to the call's room; it gets `welcome`, the others `peer-joined`.

        Raises RoomFull when the room already holds `capacity` peers (nothing is sent then)."""
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
        with self._lock:
            room = self._rooms.setdefault(call_id, {})
            if len(room) >= self.capacity:
                raise RoomFull(self.capacity)
            others = list(room.values())
            room[peer.peer_id] = peer
        peer.writer = loop.create_task(self._write(peer), name=f"rtc-writer-{peer.peer_id}")
        peer.watchdog = loop.create_task(self._watch(peer), name=f"rtc-watchdog-{peer.peer_id}")
        self._post(
            peer,
            {
                "type": "welcome",
                "peer_id": peer.peer_id,
                "user": dict(peer.user),
                "is_owner": peer.is_owner,
                "peers": [p.public() for p in others],
                "ice_servers": [dict(s) for s in self.ice_servers],
            },
        )
        # Everyone must know when they are being recorded, newcomers included.
        for other in others:
            if other.recording:
                self._post(peer, {"type": "recording", "peer_id": other.peer_id, "active": True})
        joined = {"type": "peer-joined", "peer": peer.public()}
        for other in others:
            self._post(other, joined)
        return peer

    async def leave(self, peer: Peer, reason: str = "left") -> bool:
        """Take the peer out of its room and tell the others (`peer-left` with `reason`).

        "left" and "timeout" also close its socket (1000, or 4408 after a `timeout` error);
        "disconnected" means the socket is already gone. Returns False if it had already left."""
        if reason not in PEER_LEFT_REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        if reason == "left":
            close = _Close(CLOSE_NORMAL, "left")
        elif reason == "timeout":
            close = _Close(CLOSE_CODES[ErrorCode.TIMEOUT], "timeout")
        else:
            close = _Close(None)
        error = error_frame(ErrorCode.TIMEOUT, MESSAGES["timeout"]) if reason == "timeout" else None
        return self._remove(peer, reason, close, error)

    async def refuse(self, peer: Peer, code: str, message: str) -> bool:
        """Remove a peer already admitted with a fatal error (e.g. the call ended while it joined)."""
        close = _Close(CLOSE_CODES.get(code, CLOSE_POLICY), code)
        return self._remove(peer, "left", close, error_frame(code, message))

    def _remove(self, peer: Peer, reason: str, close: _Close, error: dict[str, Any] | None) -> bool:
        with self._lock:
            if peer.closed:
                return False
            peer.closed = True
            room = self._rooms.get(peer.call_id)
            if room is not None and room.get(peer.peer_id) is peer:
                del room[peer.peer_id]
                if not room:
                    del self._rooms[peer.call_id]
            others = list(room.values()) if room else []
        self._stop_watchdog(peer)
        for other in others:
            if peer.recording:
                self._post(other, {"type": "recording", "peer_id": peer.peer_id, "active": False})
            self._post(other, {"type": "peer-left", "peer_id": peer.peer_id, "reason": reason})
        if error is not None:
            self._post(peer, error)
        self._post(peer, close)
        return True

    async def end_call(self, call_id: str, by: str) -> int:
        """Broadcast `call-ended` to everyone in the call, then close every socket with 4000."""
        with self._lock:
            room = self._rooms.pop(call_id, {})
            peers = list(room.values())
            for peer in peers:
                peer.closed = True
        frame = {"type": "call-ended", "by": by}
        for peer in peers:
            self._stop_watchdog(peer)
            self._post(peer, frame)
            self._post(peer, _Close(CLOSE_CALL_ENDED, "call ended"))
        return len(peers)

    async def wait_closed(self, peer: Peer, timeout: float = 5.0) -> None:
        """Wait (bounded) until the peer's writer has flushed its last frames and closed."""
        writer = peer.writer
        if writer is None or writer.done():
            return
        if asyncio.get_running_loop() is not peer.loop:
            return
        await asyncio.wait({writer}, timeout=timeout)

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
        except ValueError:
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
        if kind == "ping":
            self._post(peer, {"type": "pong"})
        elif kind == "signal":
            self._relay(peer, message)
        elif kind == "media":
            self._media(peer, message)
        elif kind == "recording":
            self._recording(peer, message)
        elif kind == "leave":
            await self.leave(peer, "left")
        elif isinstance(kind, str):
            self._bad(peer, f"Unknown message type {kind[:40]!r}.")
        else:
            self._bad(peer, "A frame must be a JSON object with a 'type'.")

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

    def _relay(self, peer: Peer, message: dict[str, Any]) -> None:
        target_id = message.get("to")
        data = message.get("data")
        if not isinstance(target_id, str) or not target_id or len(target_id) > MAX_ID_LENGTH:
            self._bad(peer, "A signal needs 'to': the peer_id of its recipient.")
            return
        if not isinstance(data, dict) or not ("sdp" in data or "candidate" in data):
            self._bad(peer, "A signal needs 'data' with an 'sdp' or a 'candidate'.")
            return
        with self._lock:
            room = self._rooms.get(peer.call_id, {})
            target = room.get(target_id)
        if target is None or target is peer:
            self._bad(peer, f"No peer {target_id[:MAX_ID_LENGTH]!r} in this call.")
            return
        self._post(target, {"type": "signal", "from": peer.peer_id, "data": data})

    def _media(self, peer: Peer, message: dict[str, Any]) -> None:
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
        for key, value in changes.items():
            setattr(peer, key, value)
        self._broadcast(peer, peer.media_frame())

    def _recording(self, peer: Peer, message: dict[str, Any]) -> None:
        active = message.get("active")
        if not isinstance(active, bool):
            self._bad(peer, "A recording message needs 'active': true or false.")
            return
        if not peer.is_owner:
            self._post(peer, error_frame(ErrorCode.FORBIDDEN, "Only the meeting's host can record it."))
            return
        peer.recording = active
        self._broadcast(peer, {"type": "recording", "peer_id": peer.peer_id, "active": active})

    def _broadcast(self, sender: Peer, frame: dict[str, Any]) -> None:
        with self._lock:
            others = [p for p in self._rooms.get(sender.call_id, {}).values() if p is not sender]
        for other in others:
            self._post(other, frame)

    def _bad(self, peer: Peer, message: str) -> None:
        self._post(peer, error_frame(ErrorCode.BAD_MESSAGE, message))

    # --- delivery ---------------------------------------------------------------------------

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

    def _post(self, peer: Peer, item: dict[str, Any] | _Close) -> None:
        self._in_loop(peer, self._enqueue, peer, item)

    def _enqueue(self, peer: Peer, item: dict[str, Any] | _Close) -> None:
        if peer.sealed:
            return
        if isinstance(item, _Close):
            peer.sealed = True
            peer.outbox.put_nowait(item)
            return
        if peer.outbox.qsize() >= self.outbox_limit:
            log.warning("rtc peer %s stalled (%d frames waiting); dropping it", peer.peer_id, peer.outbox.qsize())
            self._drop_stalled(peer)
            return
        peer.outbox.put_nowait(item)

    def _drop_stalled(self, peer: Peer) -> None:
        while not peer.outbox.empty():
            peer.outbox.get_nowait()
        self._remove(peer, "disconnected", _Close(CLOSE_POLICY, "too slow"), None)

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
            if isinstance(item, _Close):
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
                self._remove(peer, "disconnected", _Close(None), None)

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
    """The process's hub, sized from settings (YOOM_ROOM_CAPACITY, YOOM_ICE_SERVERS)."""
    global _hub
    with _hub_lock:
        if _hub is None:
            from yoom.settings import get_settings

            settings = get_settings()
            _hub = Hub(capacity=settings.room_capacity, ice_servers=settings.ice_servers)
        return _hub


def set_hub(hub: Hub | None) -> None:
    """Replace the process's hub (tests); None makes the next get_hub() build one from settings."""
    global _hub
    with _hub_lock:
        _hub = hub


get_hub.cache_clear = lambda: set_hub(None)  # type: ignore[attr-defined]  # like the other accessors
