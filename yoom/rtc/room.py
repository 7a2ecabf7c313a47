"""What people do in a meeting besides sending media: chat, raised hands, reactions, and the messages of
controls written in Python (`app`). Hub handlers (`Hub.on`), the same on both providers: the room channel
is Yoom's own socket, `/api/rtc/{call_id}` (docs/rtc-protocol.md), also on Stream, where it carries
nothing else.

Plain Python (no Reflex, no Starlette). The server decides everything a browser can't be trusted with:
who sent a message (the socket's peer — a `from`, `user` or `call_id` in the frame is never read), when
(the server's clock), whether it may (only the host lowers someone else's hand), what it may hold (a
fixed set of reactions, bounded texts and payloads, namespaced app messages that are relayed as data and
never executed), and how often (a token bucket per person and kind, on top of the hub's per-socket one).
What it refuses is answered `{"type": "refused", "for": kind, "message": words for people}`.

State lives where the hub keeps it: the raised hand is a `Member` field (`hand_raised_at`, through
`backplane.update`), so it reaches every process; chat is in Yoom's database (yoom/chat.py); the rate
limits are this process's (the socket of a person lives in one process).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yoom.chat import ChatRefused, ChatStore, clean_text
from yoom.rtc.hub import Hub, Peer

# The reactions anyone can send (validated here; the browser offers the same set, from `client_room()`).
REACTIONS = ("👍", "👏", "😂", "❤️", "🎉", "😮")
# Custom messages of Python-written controls: a short lower-case name, a small JSON payload.
APP_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
MAX_APP_PAYLOAD = 2048  # bytes of the payload as JSON
BUCKET_CACHE = 10_000  # (call, person, kind) buckets kept; the oldest are forgotten


@dataclass(frozen=True)
class Limit:
    burst: float  # how many at once
    per_second: float  # then how many a second
    message: str  # what the sender reads when over it


LIMITS: dict[str, Limit] = {
    "chat": Limit(5, 1.0, "You're sending messages too fast. Wait a few seconds and try again."),
    "reaction": Limit(5, 2.0, "Too many reactions at once. Wait a moment."),
    "hand": Limit(10, 1.0, "You're raising and lowering your hand too fast. Wait a moment."),
    "app": Limit(10, 5.0, "Too many messages from this control. Wait a moment."),
    "chat-history": Limit(3, 0.2, "The chat history was just sent. Wait a moment."),
}


def client_room() -> dict[str, Any]:
    """What the browser needs to offer the same choices the server accepts (the bridges' `room` prop)."""
    return {"reactions": list(REACTIONS), "maxChat": 2000, "appName": APP_NAME.pattern}


# The features installed on each hub: the route finds them to send a newcomer the chat so far.
_installed: weakref.WeakKeyDictionary[Hub, RoomFeatures] = weakref.WeakKeyDictionary()


def features_of(hub: Hub) -> RoomFeatures | None:
    return _installed.get(hub)


def _user(peer: Peer) -> dict[str, Any]:
    return {"id": peer.user["id"], "name": peer.user.get("name") or peer.user["id"]}


class RoomFeatures:
    """Installs the handlers on a hub: `RoomFeatures(hub).install()` (get_hub() does it for the app's hub)."""

    def __init__(
        self,
        hub: Hub,
        chat: ChatStore | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        limits: dict[str, Limit] | None = None,
    ):
        self.hub = hub
        self.chat = chat or ChatStore()
        self._clock = clock
        self._wall = wall_clock
        self.limits = {**LIMITS, **(limits or {})}
        self._buckets: OrderedDict[tuple[str, str, str], tuple[float, float]] = OrderedDict()
        # One lock per call while a message is written and broadcast: everyone sees the order the database has.
        self._chat_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # Where each admitted peer's chat history starts (the route says, at admission: yoom/chat.py's rule).
        self._history_since: weakref.WeakKeyDictionary[Peer, datetime | None] = weakref.WeakKeyDictionary()

    def install(self) -> RoomFeatures:
        _installed[self.hub] = self
        self.hub.on("chat", self.on_chat)
        self.hub.on("hand", self.on_hand)
        self.hub.on("reaction", self.on_reaction)
        self.hub.on("app", self.on_app)
        self.hub.on("chat-history", self.on_history)
        return self

    # --- admission (the route calls this) ----------------------------------------------------

    def admitted(self, peer: Peer, chat_since: datetime | None) -> None:
        """The room channel admitted this peer into the meeting: its chat history starts at `chat_since`
        (None: the meeting's first message)."""
        self._history_since[peer] = chat_since

    async def send_history(self, peer: Peer, since: datetime | None = None) -> None:
        """The meeting's chat so far, to a peer in it (yoom/chat.py's rule)."""
        messages = await self.chat.history(peer.call_id, since)
        self.hub.send_to(peer, {"type": "chat-history", "messages": [m.to_json() for m in messages]})

    # --- handlers -----------------------------------------------------------------------------

    async def on_chat(self, peer: Peer, message: dict[str, Any]) -> None:
        try:
            text = clean_text(message.get("text"))
        except ChatRefused as refused:
            return self._refuse(peer, "chat", str(refused))
        if not self._allow(peer, "chat"):
            return
        lock = self._chat_locks.get(peer.call_id)
        if lock is None:
            lock = self._chat_locks[peer.call_id] = asyncio.Lock()
        async with lock:
            try:
                kept = await self.chat.add(peer.call_id, peer.user_id, peer.user.get("name") or "", text)
            except Exception:
                return self._refuse(peer, "chat", "Your message couldn't be sent. Try again.")
            frame = kept.to_json()
            frame["peer_id"] = peer.peer_id
            await self.hub.broadcast(peer.call_id, {"type": "chat", "message": frame})

    async def on_history(self, peer: Peer, _message: dict[str, Any]) -> None:
        """`{"type": "chat-history"}`: the browser asks once it is in (again after a reconnect)."""
        if not self._allow(peer, "chat-history"):
            return
        try:
            await self.send_history(peer, self._history_since.get(peer))
        except Exception:
            self._refuse(peer, "chat-history", "The chat history couldn't be loaded. It will be retried.")

    async def on_hand(self, peer: Peer, message: dict[str, Any]) -> None:
        raised = message.get("raised")
        if not isinstance(raised, bool):
            return self._refuse(peer, "hand", "Say whether the hand goes up or down ('raised': true or false).")
        target = message.get("peer_id", peer.peer_id)
        everyone = message.get("all") is True
        if everyone or target != peer.peer_id:
            # Someone else's hand (or everyone's): only the host, and only down.
            if not peer.is_owner:
                return self._refuse(peer, "hand", "Only the host can lower someone else's hand.")
            if raised:
                return self._refuse(peer, "hand", "Only the person themselves can raise their hand.")
        if not self._allow(peer, "hand"):
            return
        members = await self.hub.members(peer.call_id)
        if everyone:
            chosen = [m for m in members if m.hand_raised_at is not None]
        else:
            chosen = [m for m in members if m.peer_id == target]
            if not chosen:
                return self._refuse(peer, "hand", "That person isn't in this meeting any more.")
        for member in chosen:
            if raised and member.hand_raised_at is not None:
                continue  # already up: keeps its place in the queue
            at = self._wall() if raised else None
            if (member.hand_raised_at is None) == (at is None):
                continue  # already down
            updated = await self.hub.backplane.update(peer.call_id, member.peer_id, hand_raised_at=at)
            if updated is not None:
                frame = {"type": "hand", "peer_id": member.peer_id, "raised": raised, "at": at, "by": peer.peer_id}
                await self.hub.broadcast(peer.call_id, frame)

    async def on_reaction(self, peer: Peer, message: dict[str, Any]) -> None:
        emoji = message.get("emoji")
        if not isinstance(emoji, str) or emoji not in REACTIONS:
            return self._refuse(peer, "reaction", "That reaction isn't one Yoom offers.")
        if not self._allow(peer, "reaction"):
            return
        frame = {"type": "reaction", "peer_id": peer.peer_id, "user": _user(peer), "emoji": emoji}
        await self.hub.broadcast(peer.call_id, frame)

    async def on_app(self, peer: Peer, message: dict[str, Any]) -> None:
        """A custom control's message, relayed to everyone in the call (the sender too) as data."""
        name = message.get("name")
        if not isinstance(name, str) or not APP_NAME.fullmatch(name):
            return self._refuse(peer, "app", "A room message needs a 'name' of lower-case letters, digits and '-'.")
        payload = message.get("payload")
        try:
            size = len(json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8"))
        except (TypeError, ValueError):
            return self._refuse(peer, "app", "A room message's payload must be plain JSON.")
        if size > MAX_APP_PAYLOAD:
            return self._refuse(peer, "app", f"A room message's payload can be at most {MAX_APP_PAYLOAD} bytes.")
        if not self._allow(peer, "app"):
            return
        sender = {"peer_id": peer.peer_id, "user": _user(peer), "is_host": peer.is_owner}
        await self.hub.broadcast(peer.call_id, {"type": "app", "name": name, "from": sender, "payload": payload})

    # --- limits and refusals ------------------------------------------------------------------

    def _allow(self, peer: Peer, kind: str) -> bool:
        """A token from this person's bucket for `kind` in this call; a refusal (and False) when empty."""
        limit = self.limits[kind]
        key = (peer.call_id, peer.user_id, kind)
        now = self._clock()
        tokens, at = self._buckets.pop(key, (limit.burst, now))
        tokens = min(limit.burst, tokens + (now - at) * limit.per_second)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > BUCKET_CACHE:
            self._buckets.popitem(last=False)
        if not allowed:
            self._refuse(peer, kind, limit.message)
        return allowed

    def _refuse(self, peer: Peer, kind: str, words: str) -> None:
        self.hub.send_to(peer, {"type": "refused", "for": kind, "message": words})
