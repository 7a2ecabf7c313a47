"""The meeting room `/meeting/[call_id]`: which screen to show, and the room's few server actions.

Shared by both video providers: the local mesh screen and Stream's screen read the same vars and
call the same handlers. Every handler looks the signed-in user up on the server again; the rules
(who may enter when, invite-only calls, valid ids and layouts) live in yoom/meeting_rules.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from urllib.parse import quote

import reflex as rx

from yoom import accounts, admission, attendance, guests, lobby, meeting_rules, meetings, moderation, video
from yoom.access_rules import Action, Entry, may
from yoom.db import utcnow
from yoom.meeting_rules import Phase
from yoom.models import Guest, User
from yoom.rtc.protocol import IN_CALL_KEY
from yoom.settings import get_settings
from yoom.state.base import SIGN_IN_ROUTE, AuthState, cookie_route_script, in_room, signed_in
from yoom.video.base import CallEnded, CallKind, CallNotFound, NotCallOwner, VideoError, is_valid_call_id

log = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong with this meeting. Please try again."
LOBBY_POLL_SECONDS = 1.0
LOBBY_WAIT_SECONDS = 30 * 60
ERROR_MESSAGE_MAX = 300
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")


def clean_message(message: object) -> str:
    """A message from the browser, made safe to show: text only, one line, bounded; else a generic one."""
    if not isinstance(message, str):
        return GENERIC_ERROR
    text = " ".join(_CONTROL_CHARS.sub(" ", message).split())
    if not text:
        return GENERIC_ERROR
    if len(text) > ERROR_MESSAGE_MAX:
        text = text[: ERROR_MESSAGE_MAX - 1].rstrip() + "…"
    return text


def guest_join_script(call_id: str, name: str) -> str:
    """POST /api/guests from the page (it sets the HttpOnly guest cookie), then load the meeting afresh."""
    return cookie_route_script("/api/guests", {"call_id": call_id, "name": name}, f"/meeting/{call_id}")


class RoomState(AuthState):
    phase: str = Phase.LOADING
    error_message: str = ""
    # The call this state was loaded for (validated); the components connect to this id.
    room_id: str = ""
    description: str = ""
    starts_at_iso: str = ""
    is_owner: bool = False
    is_personal: bool = False
    layout: str = meeting_rules.DEFAULT_LAYOUT
    show_participants: bool = False
    join_mic_off: bool = False
    join_camera_off: bool = False
    participant_count: int = 0
    connected: bool = False
    # The absolute link to this meeting (YOOM_PUBLIC_URL, else the browser's origin), for "Copy invite link".
    invite_link: str = ""
    provider: str = get_settings().video_provider
    # The Stream call type of this meeting (invite-only meetings have Yoom's own), for the browser's SDK.
    call_type: str = "default"
    # This tab's open attendance stay (providers that don't record it themselves: Stream), 0 when none.
    _stay_id: int = 0
    # Guests (yoom/guests.py): this page's person has no account, only a pass for this meeting.
    is_guest: bool = False
    guest_name: str = ""
    guest_error: str = ""
    guest_joining: bool = False
    # Who may join and the lobby (yoom/access_rules.py), as the room shows them.
    access_summary: str = ""
    who_may_join: str = ""
    ask_to_join: bool = False
    # Join goes through the lobby: the button says "Ask to join".
    must_ask: bool = False
    # In the lobby: whether the host (or a co-host) is in the call to let people in.
    host_present: bool = False
    # The host or a co-host: sees the lobby and the moderation panel.
    can_admit: bool = False
    # The browser's word that this page is in this call (the embedded engine writes it while joined): when
    # Reflex's socket comes back after a server restart, the page stays in the call instead of going back
    # to setup. Only a hint — the room's rules are checked again, and the room channel checks its own.
    in_call_here: str = rx.SessionStorage("", name=IN_CALL_KEY)

    # --- helpers -------------------------------------------------------------------------------

    def _route_call_id(self) -> str:
        value = getattr(self, "call_id", "")
        return value if isinstance(value, str) else ""

    def _query_param(self, name: str) -> object:
        try:
            return self.router.url.query_parameters.get(name)
        except AttributeError:
            return None

    def _fail(self, message: str) -> None:
        self.phase = Phase.ERROR
        self.error_message = message
        self.connected = False

    def _reset_room(self) -> None:
        self.phase = Phase.LOADING
        self.error_message = ""
        self.room_id = ""
        self.description = ""
        self.starts_at_iso = ""
        self.is_owner = False
        self.is_personal = False
        self.participant_count = 0
        self.connected = False
        self.invite_link = ""
        self.call_type = "default"
        self.guest_error = ""
        self.guest_joining = False
        self.access_summary = self.who_may_join = ""
        self.ask_to_join = self.must_ask = self.host_present = self.can_admit = False

    def _invite_link_for(self, call_id: str) -> str:
        try:
            return meetings.meeting_link(self._base_url(), call_id, personal=self.is_personal)
        except meetings.MeetingInputError as exc:
            log.warning("no invite link for meeting %s: %s", call_id, exc)
            return ""

    def _current_room(self) -> str | None:
        """The validated id of the room this page shows, or None when the page moved elsewhere."""
        call_id = self._route_call_id()
        if not is_valid_call_id(call_id) or call_id != self.room_id:
            return None
        return call_id

    async def _removed(self, call_id: str, user: User | Guest) -> bool:
        return await asyncio.to_thread(moderation.is_removed, call_id, user.id)

    def _show_person(self, person: User | Guest | None) -> None:
        if isinstance(person, Guest):
            self._show_user(None)
            self.is_guest, self.guest_name = True, person.name
            self.user_id, self.user_name = person.id, guests.display_name(person.name)
        else:
            self._show_user(person)
            self.is_guest = False

    def _sign_in_link(self) -> str:
        here = self.router.url.path or "/"
        if self.router.url.query:
            here += "?" + self.router.url.query
        return f"{SIGN_IN_ROUTE}?next={quote(here, safe='')}"

    async def _at_door(self, meeting, person: User | Guest) -> Phase:
        """After meeting_rules said SETUP: who may join and the lobby (yoom/lobby.py)."""
        door = await lobby.door(meeting, person.id, is_guest=isinstance(person, Guest))
        self.access_summary = door.access.summary
        self.who_may_join, self.ask_to_join = str(door.access.who_may_join), door.access.ask_to_join
        self.can_admit = may(door.role, Action.ADMIT)
        self.must_ask = door.entry is Entry.LOBBY
        if door.entry is Entry.SIGN_IN:
            return Phase.SIGN_IN
        if door.entry is Entry.NOT_ALLOWED:
            return Phase.NOT_ALLOWED
        if door.entry is Entry.DENIED:
            return Phase.DENIED
        if door.entry is Entry.LOBBY and door.knock_status == "pending":
            return Phase.LOBBY  # asked already (a reload): back to waiting
        return Phase.SETUP

    # --- loading -------------------------------------------------------------------------------

    @rx.event
    @in_room(anyone=True)
    async def load_room(self, user: User | Guest | None):
        call_id = self._route_call_id()
        if isinstance(user, Guest) and user.call_id != call_id:
            user = None  # a guest pass is for one meeting only
        self._show_person(user)
        if user is not None:
            await self._close_stay(user)  # a reloaded page has left the call it was in
        self._reset_room()
        if not is_valid_call_id(call_id):
            self.phase = Phase.NOT_FOUND
            return
        personal_flag = meeting_rules.query_flag(self._query_param("personal"))
        provider = video.get_provider()
        self.provider = provider.name
        still_in_call = self.in_call_here == call_id and user is not None
        if user is None:
            return await self._load_for_visitor(provider, call_id, personal_flag)
        try:
            meeting = await provider.get_call(call_id)
            if meeting_rules.is_personal_room_of(call_id, getattr(user, "personal_room_id", None)) and (
                meeting is None or meeting.has_ended
            ):
                # The owner opening their personal room starts it (get-or-create; reopens it if ended).
                meeting = await provider.create_call(accounts.video_user(user), CallKind.PERSONAL, call_id=call_id)
        except VideoError as exc:
            log.warning("loading meeting %s failed: %s", call_id, exc)
            self._fail(exc.user_message)
            return
        except Exception:  # never a traceback on the page
            log.exception("loading meeting %s failed", call_id)
            self._fail(GENERIC_ERROR)
            return

        decision = meeting_rules.room_phase(meeting, user.id, utcnow(), removed=await self._removed(call_id, user))
        self.room_id = call_id
        if decision.phase == Phase.NOT_ALLOWED:
            # An invite-only call, and this person isn't invited: nothing about it reaches the page.
            self.phase = decision.phase
            return
        if meeting is not None:
            self.description = meeting.description or ""
            self.starts_at_iso = meeting_rules.utc_iso(meeting.starts_at)
            self.is_owner = meeting.created_by == user.id
            self.call_type = meeting.call_type
        self.is_personal = meeting_rules.is_personal_meeting(meeting, personal_flag)
        if meeting is not None:
            self.invite_link = self._invite_link_for(call_id)
        phase = decision.phase
        if phase == Phase.SETUP:
            phase = await self._at_door(meeting, user)
        if phase == Phase.SETUP and still_in_call and not self.must_ask:
            # Reflex's socket came back (a server restart) to a page that never left the call.
            await self._enter(provider, call_id, user)
            phase = Phase.IN_CALL
        self.phase = phase
        if phase == Phase.LOBBY:
            return RoomState.wait_in_lobby

    async def _load_for_visitor(self, provider, call_id: str, personal_flag: bool):
        """Nobody signed in: the meeting's guest screen ("Your name", "Join as guest", "Sign in") when its
        host lets anyone with the link in; else "Sign in to join". Nothing else about it is shown."""
        try:
            meeting = await provider.get_call(call_id)
        except VideoError as exc:
            self._fail(exc.user_message)
            return
        except Exception:
            log.exception("loading meeting %s failed", call_id)
            self._fail(GENERIC_ERROR)
            return
        door = None if meeting is None else await lobby.door(meeting, guests.GUEST_ID_PREFIX, is_guest=True)
        if door is None or meeting.has_ended or door.entry in (Entry.SIGN_IN, Entry.NOT_ALLOWED):
            # As before guests: whether it exists, ended or is invite-only is for signed-in people to learn.
            return self._redirect_to_sign_in()
        self.room_id = call_id
        self.is_personal = meeting_rules.is_personal_meeting(meeting, personal_flag)
        self.description = meeting.description or ""
        self.access_summary = door.access.summary
        self.phase = Phase.GUEST

    @rx.event
    @in_room(anyone=True)
    def retry(self, _user: User | Guest | None):
        return RoomState.load_room

    @rx.event
    @in_room(anyone=True)
    def go_sign_in(self, _user: User | Guest | None):
        return rx.redirect(self._sign_in_link())

    @rx.event
    @in_room(anyone=True)
    def set_guest_name(self, _user: User | Guest | None, value: str):
        if isinstance(value, str):
            self.guest_name = value[:200]
            self.guest_error = ""

    @rx.event
    @in_room(anyone=True)
    def join_as_guest(self, user: User | Guest | None, form: dict):
        """POST the name to /api/guests from the page (the route sets the HttpOnly cookie), then reload."""
        call_id = self._current_room()
        if call_id is None or self.phase != Phase.GUEST:
            return RoomState.load_room
        if user is not None and not isinstance(user, Guest):
            return RoomState.load_room  # signed in meanwhile: join with the account
        name = form.get("name") if isinstance(form, dict) else None
        try:
            name = guests.validate_name(name)
        except guests.GuestError as exc:
            self.guest_error = str(exc)
            return
        self.guest_error = ""
        self.guest_joining = True
        return rx.call_script(guest_join_script(call_id, name), callback=RoomState.guest_join_failed)

    @rx.event
    @in_room(anyone=True)
    def guest_join_failed(self, _user: User | Guest | None, message: str):
        self.guest_joining = False
        if isinstance(message, str) and message:
            self.guest_error = clean_message(message)

    # --- setup ---------------------------------------------------------------------------------

    @rx.event
    @in_room
    def set_join_mic_off(self, _user: User | Guest, value: bool):
        if isinstance(value, bool):
            self.join_mic_off = value

    @rx.event
    @in_room
    def set_join_camera_off(self, _user: User | Guest, value: bool):
        if isinstance(value, bool):
            self.join_camera_off = value

    @rx.event
    @in_room
    async def join_meeting(self, user: User | Guest):
        call_id = self._current_room()
        if call_id is None or self.phase != Phase.SETUP:
            return RoomState.load_room
        provider = video.get_provider()
        is_guest = isinstance(user, Guest)
        if is_guest and user.call_id != call_id:
            return RoomState.load_room
        try:
            meeting = await provider.get_call(call_id)
            removed = await self._removed(call_id, user)
            decision = meeting_rules.room_phase(meeting, user.id, utcnow(), removed=removed)
            if decision.phase != Phase.SETUP:
                self.phase = decision.phase
                if decision.phase == Phase.NOT_ALLOWED:
                    self.description = self.starts_at_iso = ""
                    self.is_owner = False
                if decision.starts_at is not None:
                    self.starts_at_iso = meeting_rules.utc_iso(decision.starts_at)
                return
            phase = await self._at_door(meeting, user)
            if phase == Phase.SETUP and self.must_ask:
                name = user.name if is_guest else user.display_name
                await lobby.knock(meeting, user.id, name, is_guest=is_guest)
                self.phase = Phase.LOBBY
                return RoomState.wait_in_lobby
            if phase != Phase.SETUP:
                self.phase = phase
                return RoomState.wait_in_lobby if phase == Phase.LOBBY else None
            await self._enter(provider, call_id, user)
        except admission.LobbyFull:
            self._fail("Too many people are waiting to join this meeting. Try again in a few minutes.")
            return
        except CallEnded:
            self.phase = Phase.ENDED
            return
        except CallNotFound:
            self.phase = Phase.NOT_FOUND
            return
        except VideoError as exc:
            log.warning("joining meeting %s failed: %s", call_id, exc)
            self._fail(exc.user_message)
            return
        except Exception:
            log.exception("joining meeting %s failed", call_id)
            self._fail(GENERIC_ERROR)
            return
        self.phase = Phase.IN_CALL

    async def _enter(self, provider, call_id: str, user: User | Guest) -> None:
        if not provider.records_attendance and not isinstance(user, Guest):
            # Who was there, and when, decides who may watch recordings; joining makes nobody a member.
            await self._close_stay(user)
            self._stay_id = await asyncio.to_thread(attendance.open_stay, call_id, user.id, attendance.SOURCE_PAGE)

    @rx.event(background=True)
    async def wait_in_lobby(self):
        """In the lobby: until the host answers (then straight into the call, or the refusal), checking once a
        second, and saying whether a host is there to answer. Bounded: LOBBY_WAIT_SECONDS."""
        async with self:
            call_id, person = self._current_room(), await self._person(True)
            if call_id is None or self.phase != Phase.LOBBY or person is None:
                return
        provider = video.get_provider()
        deadline = time.monotonic() + LOBBY_WAIT_SECONDS
        while time.monotonic() < deadline:
            try:
                meeting = await provider.get_call(call_id)
                status = await asyncio.to_thread(admission.status_of, call_id, person.id)
                present = meeting is not None and await lobby.host_present(meeting)
            except Exception:
                log.exception("waiting in the lobby of %s failed", call_id)
                meeting, status, present = None, None, False
            async with self:
                if self._current_room() != call_id or self.phase != Phase.LOBBY:
                    return
                self.host_present = present
                if meeting is None or meeting.has_ended:
                    self.phase = Phase.ENDED if meeting is not None else Phase.NOT_FOUND
                    return
                if status is admission.Status.DENIED:
                    self.phase = Phase.DENIED
                    return
                if status is admission.Status.ADMITTED:
                    self.must_ask = False
                    try:
                        await self._enter(provider, call_id, person)
                    except Exception:
                        log.exception("opening attendance in %s failed", call_id)
                    self.phase = Phase.IN_CALL
                    return
            await asyncio.sleep(LOBBY_POLL_SECONDS)
        async with self:
            if self._current_room() == call_id and self.phase == Phase.LOBBY:
                self._fail("Nobody let you in for a long while. Try again, or ask the host.")

    @rx.event
    @in_room
    async def ask_to_come_back(self, user: User | Guest):
        """Removed: ask the host to be let back in (the lobby's knock; only the host can say yes)."""
        call_id = self._current_room()
        if call_id is None or self.phase != Phase.REMOVED:
            return RoomState.load_room
        try:
            meeting = await video.get_provider().get_call(call_id)
            if meeting is None or meeting.has_ended:
                return RoomState.load_room
            name = user.name if isinstance(user, Guest) else user.display_name
            await lobby.knock(meeting, user.id, name, is_guest=isinstance(user, Guest))
        except admission.LobbyFull:
            return rx.toast.error("Too many people are waiting to join this meeting. Try again in a few minutes.")
        except Exception:
            log.exception("asking back into %s failed", call_id)
            return rx.toast.error(GENERIC_ERROR)
        self.phase = Phase.LOBBY
        return RoomState.wait_in_lobby

    @rx.event
    @in_room
    async def leave_lobby(self, user: User | Guest):
        call_id = self._current_room()
        if call_id is not None and self.phase == Phase.LOBBY:
            await asyncio.to_thread(admission.forget, call_id, user.id)
        return rx.redirect("/" if not isinstance(user, Guest) else f"/meeting/{call_id or ''}")

    # --- in the call ---------------------------------------------------------------------------

    async def _close_stay(self, user: User) -> None:
        stay_id, self._stay_id = self._stay_id, 0
        if stay_id:
            try:
                await asyncio.to_thread(attendance.close_stay, stay_id, user_id=user.id)
            except Exception:  # it stays open, counting only up to its bound
                log.exception("closing attendance %s failed", stay_id)

    @rx.event
    @in_room
    def set_layout(self, _user: User | Guest, value: str):
        if meeting_rules.is_valid_layout(value):
            self.layout = value

    @rx.event
    @in_room
    def toggle_participants(self, _user: User | Guest):
        self.show_participants = not self.show_participants

    @rx.event
    @in_room
    def copy_invite_link(self, _user: User | Guest):
        """Copy the meeting's absolute link (personal rooms keep `?personal=true`) and say so."""
        if self._current_room() is None or self.phase not in (Phase.SETUP, Phase.IN_CALL):
            return rx.toast.error("This meeting is no longer open on this page.")
        if not self.invite_link:
            return rx.toast.error("Yoom doesn't know its own address: set YOOM_PUBLIC_URL in .env.")
        return [rx.set_clipboard(self.invite_link), rx.toast.success("Link copied")]

    @rx.event
    @signed_in
    async def end_call_for_everyone(self, user: User):
        call_id = self._current_room()
        if call_id is None:
            return rx.toast.error("This meeting is no longer open on this page.")
        if self.is_personal:
            return rx.toast.error("A personal room stays open: leave it instead.")
        try:
            await video.get_provider().end_call(call_id, user.id)
        except NotCallOwner as exc:
            return rx.toast.error(exc.user_message)
        except CallEnded:
            pass
        except CallNotFound as exc:
            return rx.toast.error(exc.user_message)
        except VideoError as exc:
            log.warning("ending meeting %s failed: %s", call_id, exc)
            return rx.toast.error(exc.user_message)
        except Exception:
            log.exception("ending meeting %s failed", call_id)
            return rx.toast.error(GENERIC_ERROR)
        self.phase = Phase.ENDED
        self.connected = False

    @rx.event
    @signed_in
    async def remove_participant(self, user: User, user_id: str):
        """The host removes someone: out now, and kept out of this meeting until let back in."""
        call_id = self._current_room()
        if call_id is None or not isinstance(user_id, str):
            return rx.toast.error("This meeting is no longer open on this page.")
        try:
            await video.get_provider().remove_participant(call_id, user.id, user_id)
        except VideoError as exc:
            return rx.toast.error(exc.user_message)
        except Exception:
            log.exception("removing %s from meeting %s failed", user_id, call_id)
            return rx.toast.error(GENERIC_ERROR)
        return rx.toast.success("Removed from the meeting. They can't come back unless you let them.")

    @rx.event
    @in_room
    def on_joined(self, _user: User | Guest):
        if self.phase == Phase.IN_CALL:
            self.connected = True

    @rx.event
    @in_room
    async def on_left(self, user: User | Guest):
        self.connected = False
        await self._close_stay(user)
        return rx.redirect("/")

    @rx.event
    @in_room
    async def on_call_ended(self, user: User | Guest):
        self.phase = Phase.ENDED
        self.connected = False
        await self._close_stay(user)

    @rx.event
    @in_room
    async def on_error(self, user: User | Guest, message: str):
        self._fail(clean_message(message))
        await self._close_stay(user)

    @rx.event
    @in_room
    def on_participants_change(self, _user: User | Guest, count: int):
        if isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= 1000:
            self.participant_count = count

    @rx.event
    @in_room
    def on_recording_saved(self, _user: User | Guest):
        return rx.toast.success("Recording saved. Find it on the Recordings page.")

    @rx.event
    @in_room
    def on_recording_error(self, _user: User | Guest, message: str):
        return rx.toast.error(clean_message(message))
