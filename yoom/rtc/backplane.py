"""Where the signaling hub keeps its rooms: who is in which call, and how a frame reaches a member.

The hub (yoom/rtc/hub.py) holds the sockets of its own process; a `Backplane` holds the roster of every
call and carries frames to members wherever their socket lives. `MemoryBackplane` is the default: one
process, rosters in memory, delivery straight to the hub. A backplane over Redis (several workers and
hosts) implements the same contract, and the same hub test suite runs against both.

Contract — what every backplane guarantees:
* `join` is atomic per call: it frees the joining user's seat if they already hold one (a second tab or
  device replaces the first), then checks capacity (unless the member may bypass it — the host always
  gets in), then adds the member; two joins racing for the last place can't both win.
* Members are plain data (`Member`, JSON-able): the backplane never holds a socket.
* `deliver(member, item)` reaches the hub of the member's instance, which hands it to that member's
  socket. Items are frames (`dict`) or `Close(code, reason)`. Per member, items arrive in the order sent.
* Delivery callbacks run on the instance's event loop or any thread: the hub hops to each peer's loop.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol


@dataclass(frozen=True)
class Member:
    """One connection in a call's roster."""

    peer_id: str
    call_id: str
    user: dict[str, Any]  # {id, name, image}
    instance_id: str  # the process holding its socket
    is_owner: bool = False
    audio: bool = False
    video: bool = False
    screen: bool = False
    recording: bool = False
    joined_at: float = field(default_factory=time.time)
    # When this person raised their hand (wall-clock seconds, the server's), None when it is down: the
    # order hands were raised in is the order they are shown in (yoom/rtc/room.py).
    hand_raised_at: float | None = None

    @property
    def user_id(self) -> str:
        return self.user["id"]

    def public(self) -> dict[str, Any]:
        """What other participants learn about this member (`peers` in welcome, `peer` in peer-joined)."""
        return {
            "peer_id": self.peer_id,
            "user": dict(self.user),
            "audio": self.audio,
            "video": self.video,
            "screen": self.screen,
            "hand_raised_at": self.hand_raised_at,
        }

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Member:
        known = cls.__dataclass_fields__
        # A member written by an older version lacks newer fields (their defaults apply); one written by a
        # newer version may carry fields this one doesn't know (ignored), while processes are upgraded.
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Close:
    """Delivery item: after the frames before it, close the member's socket with `code` (None: it is gone)."""

    code: int | None
    reason: str = ""


Item = dict[str, Any] | Close


class RoomFull(Exception):
    def __init__(self, capacity: int):
        super().__init__(f"room is full ({capacity} people)")
        self.capacity = capacity


@dataclass(frozen=True)
class Joined:
    others: list[Member]  # already in the call, in joining order (not counting `replaced`)
    replaced: Member | None  # the same user's previous connection, now out of the roster


Deliver = Callable[[Member, Item], None]
MembersGone = Callable[[str, list[Member]], None]


class Backplane(Protocol):
    instance_id: str

    def attach(self, deliver: Deliver, members_gone: MembersGone) -> None:
        """The hub's callbacks: `deliver` an item to a member of this instance; `members_gone(call_id,
        members)` when another instance died with members (the hub tells the rest of the call)."""

    async def join(self, member: Member, *, capacity: int, bypass_capacity: bool = False) -> Joined: ...

    async def leave(self, call_id: str, peer_id: str) -> Member | None:
        """Take a member out of the roster; None if it was already out (someone else took it out first)."""

    async def members(self, call_id: str) -> list[Member]: ...

    async def update(self, call_id: str, peer_id: str, **changes: Any) -> Member | None: ...

    async def end_call(self, call_id: str) -> list[Member]:
        """Empty the call's roster at once; returns who was in it."""

    async def deliver(self, member: Member, item: Item) -> None: ...

    async def active_calls(self) -> list[str]: ...

    async def close(self) -> None: ...


def new_instance_id() -> str:
    return secrets.token_hex(6)


class MemoryBackplane:
    """Rosters in this process's memory. Thread-safe (a lock never held across an await)."""

    def __init__(self, instance_id: str | None = None):
        self.instance_id = instance_id or new_instance_id()
        self._rooms: dict[str, dict[str, Member]] = {}
        self._lock = threading.Lock()
        self._deliver: Deliver | None = None

    def attach(self, deliver: Deliver, members_gone: MembersGone) -> None:
        self._deliver = deliver  # one process: no other instance can die under us

    async def join(self, member: Member, *, capacity: int, bypass_capacity: bool = False) -> Joined:
        with self._lock:
            room = self._rooms.setdefault(member.call_id, {})
            replaced = next((m for m in room.values() if m.user_id == member.user_id), None)
            if replaced is not None:
                del room[replaced.peer_id]
            if len(room) >= capacity and not bypass_capacity:
                if replaced is not None:  # nothing changes when the newcomer is refused
                    room[replaced.peer_id] = replaced
                elif not room:
                    del self._rooms[member.call_id]
                raise RoomFull(capacity)
            others = list(room.values())
            room[member.peer_id] = member
        return Joined(others=others, replaced=replaced)

    async def leave(self, call_id: str, peer_id: str) -> Member | None:
        with self._lock:
            room = self._rooms.get(call_id)
            gone = room.pop(peer_id, None) if room is not None else None
            if room is not None and not room:
                del self._rooms[call_id]
            return gone

    async def members(self, call_id: str) -> list[Member]:
        with self._lock:
            return list(self._rooms.get(call_id, {}).values())

    async def update(self, call_id: str, peer_id: str, **changes: Any) -> Member | None:
        with self._lock:
            room = self._rooms.get(call_id, {})
            current = room.get(peer_id)
            if current is None:
                return None
            room[peer_id] = updated = replace(current, **changes)
            return updated

    async def end_call(self, call_id: str) -> list[Member]:
        with self._lock:
            return list(self._rooms.pop(call_id, {}).values())

    async def deliver(self, member: Member, item: Item) -> None:
        if self._deliver is not None:
            self._deliver(member, item)

    async def active_calls(self) -> list[str]:
        with self._lock:
            return list(self._rooms)

    async def close(self) -> None:
        pass
