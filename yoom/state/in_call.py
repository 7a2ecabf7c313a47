"""What the meeting page shows of the room channel (yoom/rtc/room.py): chat, raised hands, notices, the
keyboard shortcuts' panels. Both providers' bridges report through the same event triggers
(on_chat, on_hands, on_room_notice, on_shortcut), so this state and the panels it drives are shared.

The browser's reports are checked like any argument: shapes, types and sizes, and at most so many kept.
What Python sends into the room goes through `yoom.components.room_messages` (the bridge's
`window.yoomRoom`), and the room channel checks it again on the server: the sender, the host's rights,
the limits.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import reflex as rx

from yoom import chat
from yoom.meeting_rules import Phase
from yoom.models import Guest, User
from yoom.state.base import in_room
from yoom.state.room import RoomState

MAX_KEPT = 500  # messages shown (the newest)
MAX_BATCH = 600
SHORTCUT_ACTIONS = ("chat", "participants", "help")


@dataclasses.dataclass
class LinkPart:
    text: str = ""
    href: str = ""


@dataclasses.dataclass
class ChatItem:
    id: int = 0
    name: str = ""
    sent_at: str = ""
    mine: bool = False
    parts: list[LinkPart] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class HandItem:
    peer_id: str = ""
    name: str = ""
    place: int = 0
    mine: bool = False


def _short(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _chat_item(raw: object) -> ChatItem | None:
    if not isinstance(raw, dict):
        return None
    message_id, name, text, sent_at = raw.get("id"), raw.get("name"), raw.get("text"), raw.get("sent_at")
    if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id < 0:
        return None
    name, sent_at = _short(name, chat.MAX_NAME), _short(sent_at, 40)
    if name is None or sent_at is None or not isinstance(text, str) or len(text) > chat.MAX_TEXT:
        return None
    parts = [LinkPart(**part) for part in chat.link_parts(text)]
    return ChatItem(id=message_id, name=name, sent_at=sent_at, mine=raw.get("mine") is True, parts=parts)


class InCallState(RoomState):
    show_chat: bool = False
    messages: list[ChatItem] = []
    unread: int = 0
    # Why the last message wasn't sent (the server's words, or ours), shown in the chat panel.
    chat_notice: str = ""
    hands: list[HandItem] = []
    my_hand_raised: bool = False
    show_shortcuts: bool = False

    @rx.event
    @in_room(anyone=True)
    def clear_room(self, _user: User | Guest | None):
        """A page (re)loading a room starts with nothing of the last one (the meeting page's on_load) — unless
        it never left the call (load_room kept it there: Reflex's socket came back after a server restart)."""
        if self.phase == Phase.IN_CALL:
            return
        self.show_chat = False
        self.messages = []
        self.unread = 0
        self.chat_notice = ""
        self.hands = []
        self.my_hand_raised = False
        self.show_shortcuts = False

    # --- from the bridges --------------------------------------------------------------------

    @rx.event
    @in_room
    def on_chat(self, _user: User | Guest, batch: list):
        if not isinstance(batch, list) or len(batch) > MAX_BATCH:
            return
        known = {m.id for m in self.messages}
        fresh = []
        for raw in batch:
            item = _chat_item(raw)
            if item is not None and item.id not in known:
                known.add(item.id)
                fresh.append(item)
                if not self.show_chat and not item.mine and not (isinstance(raw, dict) and raw.get("history") is True):
                    self.unread += 1
        if fresh:
            self.messages = sorted(self.messages + fresh, key=lambda m: m.id)[-MAX_KEPT:]

    @rx.event
    @in_room
    def on_hands(self, _user: User | Guest, raised: list):
        if not isinstance(raised, list):
            return
        hands = []
        for raw in raised[:1000]:
            if not isinstance(raw, dict):
                continue
            peer_id, name = _short(raw.get("peer_id"), 64), _short(raw.get("name"), chat.MAX_NAME)
            if peer_id and name is not None:
                hands.append(HandItem(peer_id=peer_id, name=name, place=len(hands) + 1, mine=raw.get("mine") is True))
        self.hands = hands
        self.my_hand_raised = any(h.mine for h in hands)

    @rx.event
    @in_room
    def on_room_notice(self, _user: User | Guest, notice: dict):
        """The server refused something of mine, or a device changed: the chat panel or a toast says so."""
        if not isinstance(notice, dict):
            return
        words = _short(notice.get("message"), 300)
        if not words:
            return
        if notice.get("for") == "chat":
            self.chat_notice = words
            return
        return rx.toast.info(words) if notice.get("for") == "device" else rx.toast.error(words)

    @rx.event
    @in_room
    def on_shortcut(self, _user: User | Guest, action: str):
        if action == "chat":
            return InCallState.toggle_chat
        if action == "participants":
            return RoomState.toggle_participants
        if action == "help":
            self.show_shortcuts = True

    # --- the panels --------------------------------------------------------------------------

    @rx.event
    @in_room
    def toggle_chat(self, _user: User | Guest):
        self.show_chat = not self.show_chat
        if self.show_chat:
            self.unread = 0

    @rx.event
    @in_room
    def set_show_shortcuts(self, _user: User | Guest, value: bool):
        if isinstance(value, bool):
            self.show_shortcuts = value

    @rx.event
    @in_room
    def send_chat(self, _user: User | Guest, form: dict):
        """The chat box: checked here for words at once (the server checks again), then into the room."""
        text = form.get("text") if isinstance(form, dict) else None
        try:
            text = chat.clean_text(text)
        except chat.ChatRefused as refused:
            self.chat_notice = str(refused)
            return
        self.chat_notice = ""
        return rx.call_script(
            f"!!(window.yoomRoom && window.yoomRoom.chat({json.dumps(text)}))", callback=InCallState.chat_sent
        )

    @rx.event
    @in_room
    def chat_sent(self, _user: User | Guest, went: Any):
        if went is not True:
            self.chat_notice = "Not connected to the meeting right now: your message wasn't sent. Try again."

    @rx.event
    @in_room
    def lower_hand(self, _user: User | Guest, peer_id: str):
        """The host lowers someone's hand ("*": everyone's); the room channel checks they are the host."""
        if not self.is_owner or not isinstance(peer_id, str) or not 0 < len(peer_id) <= 64:
            return
        return rx.call_script(f"window.yoomRoom && window.yoomRoom.lowerHand({json.dumps(peer_id)})")
