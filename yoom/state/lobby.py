"""The host's side of the lobby and moderation, on both providers: who is waiting (with Admit and Deny),
who is in the call (Remove, Make co-host), "Ask everyone to mute", and who may join.

Every action is checked on the server by yoom/lobby.py against yoom/access_rules.py's table (the host, or a
co-host where the table says so); the lists are read from the server, never taken from the browser. The
page hears of a knock through the room channel (an app message "lobby"), which only makes it read the
lobby again.
"""

from __future__ import annotations

import logging

import reflex as rx

from yoom import guests, lobby, video
from yoom.access_rules import Action, may, parse_access
from yoom.meeting_rules import Phase
from yoom.models import Guest, User
from yoom.state.base import in_room, signed_in
from yoom.state.room import GENERIC_ERROR, RoomState
from yoom.video.base import Meeting, VideoError, is_valid_user_id

log = logging.getLogger(__name__)

MAX_LISTED = 100


class LobbyState(RoomState):
    # Waiting to join: [{user_id, name, kind}] (kind: "guest" | "account"), first knock first.
    knocks: list[dict[str, str]] = []
    # In the call now (the room channel's roster): [{user_id, name, role}]
    people: list[dict[str, str]] = []
    show_moderation: bool = False
    _seen: list[str] = []

    async def _meeting(self) -> Meeting | None:
        call_id = self._current_room()
        if call_id is None or self.phase != Phase.IN_CALL:
            return None
        return await video.get_provider().get_call(call_id)

    async def _refresh(self, user: User) -> list:
        """Read the lobby and the roster again; a toast for each new knock."""
        meeting = await self._meeting()
        if meeting is None:
            return []
        try:
            waiting = await lobby.pending(meeting, user.id)
        except VideoError:
            self.knocks, self.people = [], []
            return []
        hosts = {meeting.created_by} | await lobby.co_host_ids(meeting)
        members = await lobby.members(meeting)
        self.knocks = [
            {"user_id": k.user_id, "name": k.name, "kind": "guest" if k.is_guest else "account"} for k in waiting
        ]
        self.people = [
            {
                "user_id": m.user_id,
                "name": str(m.user.get("name") or "")[:80],
                "role": "host"
                if m.user_id == meeting.created_by
                else "co-host"
                if m.user_id in hosts
                else "guest"
                if guests.is_guest_id(m.user_id)
                else "",
            }
            for m in {m.user_id: m for m in members}.values()
        ][:MAX_LISTED]
        new = [k for k in waiting if k.user_id not in self._seen]
        self._seen = [k.user_id for k in waiting]
        return [rx.toast.info(f"{k.name} is asking to join") for k in new[:3]]

    @rx.event
    @in_room
    async def on_room_message(self, user: User | Guest, message: dict):
        if isinstance(user, Guest) or not isinstance(message, dict) or message.get("type") != lobby.LOBBY_MESSAGE:
            return None
        if not self.can_admit:
            # Only hosts are sent these: perhaps the host just made me co-host (the server says whether).
            meeting = await self._meeting()
            if meeting is None or not may(await lobby.role(meeting, user.id, is_guest=False), Action.ADMIT):
                return None
            self.can_admit = True
        return await self._refresh(user)

    @rx.event
    @in_room
    async def refresh_lobby(self, user: User | Guest):
        if isinstance(user, Guest) or not self.can_admit:
            return None
        return await self._refresh(user)

    @rx.event
    @signed_in
    async def toggle_moderation(self, user: User):
        self.show_moderation = not self.show_moderation
        if self.show_moderation:
            return await self._refresh(user)
        return None

    async def _act(self, user: User, action, done: str | None = None):
        meeting = await self._meeting()
        if meeting is None:
            return rx.toast.error("This meeting is no longer open on this page.")
        try:
            result = await action(meeting)
        except VideoError as exc:
            return rx.toast.error(exc.user_message)
        except Exception:
            log.exception("a host action in %s failed", meeting.id)
            return rx.toast.error(GENERIC_ERROR)
        updates = await self._refresh(user)
        message = done(result) if callable(done) else done
        return [*updates, rx.toast.success(message)] if message else updates

    @rx.event
    @signed_in
    async def admit(self, user: User, user_id: str):
        if not is_valid_user_id(user_id):
            return None
        return await self._act(
            user,
            lambda m: lobby.decide(m, user.id, user_id, True, video.get_provider()),
            lambda ok: "Let in." if ok else "They're no longer waiting.",
        )

    @rx.event
    @signed_in
    async def deny(self, user: User, user_id: str):
        if not is_valid_user_id(user_id):
            return None
        return await self._act(
            user,
            lambda m: lobby.decide(m, user.id, user_id, False),
            lambda ok: "Turned away." if ok else "They're no longer waiting.",
        )

    @rx.event
    @signed_in
    async def make_co_host(self, user: User, user_id: str):
        if not is_valid_user_id(user_id):
            return None
        return await self._act(
            user, lambda m: lobby.make_co_host(m, user.id, user_id), "Co-host: they can let people in now."
        )

    @rx.event
    @signed_in
    async def remove(self, user: User, user_id: str):
        if not is_valid_user_id(user_id):
            return None
        provider = video.get_provider()
        return await self._act(
            user,
            lambda m: provider.remove_participant(m.id, user.id, user_id),
            "Removed from the meeting. They can't come back unless you let them.",
        )

    @rx.event
    @signed_in
    async def mute_everyone(self, user: User):
        provider = video.get_provider()
        return await self._act(
            user,
            lambda m: lobby.mute_all(provider, m, user.id),
            lambda n: f"Asked {n} {'person' if n == 1 else 'people'} to mute.",
        )

    async def _set_access(self, user: User, who_may_join: object, ask_to_join: object):
        access = parse_access(who_may_join, ask_to_join)
        if access is None:
            return rx.toast.error("Choose who may join from the list.")

        async def change(meeting: Meeting):
            await lobby.set_access(meeting, user.id, access)
            self.who_may_join, self.ask_to_join = str(access.who_may_join), access.ask_to_join
            self.access_summary = access.summary

        return await self._act(user, change, "Saved: " + access.summary)

    @rx.event
    @signed_in
    async def set_who_may_join(self, user: User, value: str):
        return await self._set_access(user, value, self.ask_to_join)

    @rx.event
    @signed_in
    async def set_ask_to_join(self, user: User, value: bool):
        return await self._set_access(user, self.who_may_join, value)
