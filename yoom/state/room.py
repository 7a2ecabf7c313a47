"""The meeting room `/meeting/[call_id]`: which screen to show, and the room's few server actions.

Shared by both video providers: the local mesh screen and Stream's screen read the same vars and
call the same handlers. Every handler looks the signed-in user up on the server again; the rules
(who may enter when, invite-only calls, valid ids and layouts) live in yoom/meeting_rules.py.
"""

from __future__ import annotations

import asyncio
import logging
import re

import reflex as rx

from yoom import accounts, attendance, meeting_rules, meetings, moderation, video
from yoom.db import utcnow
from yoom.meeting_rules import Phase
from yoom.models import User
from yoom.settings import get_settings
from yoom.state.base import AuthState, signed_in
from yoom.video.base import CallEnded, CallKind, CallNotFound, NotCallOwner, VideoError, is_valid_call_id

log = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong with this meeting. Please try again."
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

    async def _removed(self, call_id: str, user: User) -> bool:
        return await asyncio.to_thread(moderation.is_removed, call_id, user.id)

    # --- loading -------------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def load_room(self, user: User):
        self._show_user(user)
        await self._close_stay(user)  # a reloaded page has left the call it was in
        self._reset_room()
        call_id = self._route_call_id()
        if not is_valid_call_id(call_id):
            self.phase = Phase.NOT_FOUND
            return
        personal_flag = meeting_rules.query_flag(self._query_param("personal"))
        provider = video.get_provider()
        self.provider = provider.name
        try:
            meeting = await provider.get_call(call_id)
            if meeting_rules.is_personal_room_of(call_id, user.personal_room_id) and (
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
        self.phase = decision.phase

    @rx.event
    @signed_in
    def retry(self, _user: User):
        return RoomState.load_room

    # --- setup ---------------------------------------------------------------------------------

    @rx.event
    @signed_in
    def set_join_mic_off(self, _user: User, value: bool):
        if isinstance(value, bool):
            self.join_mic_off = value

    @rx.event
    @signed_in
    def set_join_camera_off(self, _user: User, value: bool):
        if isinstance(value, bool):
            self.join_camera_off = value

    @rx.event
    @signed_in
    async def join_meeting(self, user: User):
        call_id = self._current_room()
        if call_id is None or self.phase != Phase.SETUP:
            return RoomState.load_room
        provider = video.get_provider()
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
            if not provider.records_attendance:
                # Who was there, and when, decides who may watch recordings; joining makes nobody a member.
                await self._close_stay(user)
                self._stay_id = await asyncio.to_thread(attendance.open_stay, call_id, user.id, attendance.SOURCE_PAGE)
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

    # --- in the call ---------------------------------------------------------------------------

    async def _close_stay(self, user: User) -> None:
        stay_id, self._stay_id = self._stay_id, 0
        if stay_id:
            try:
                await asyncio.to_thread(attendance.close_stay, stay_id, user_id=user.id)
            except Exception:  # it stays open, counting only up to its bound
                log.exception("closing attendance %s failed", stay_id)

    @rx.event
    @signed_in
    def set_layout(self, _user: User, value: str):
        if meeting_rules.is_valid_layout(value):
            self.layout = value

    @rx.event
    @signed_in
    def toggle_participants(self, _user: User):
        self.show_participants = not self.show_participants

    @rx.event
    @signed_in
    def copy_invite_link(self, _user: User):
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
    @signed_in
    def on_joined(self, _user: User):
        if self.phase == Phase.IN_CALL:
            self.connected = True

    @rx.event
    @signed_in
    async def on_left(self, user: User):
        self.connected = False
        await self._close_stay(user)
        return rx.redirect("/")

    @rx.event
    @signed_in
    async def on_call_ended(self, user: User):
        self.phase = Phase.ENDED
        self.connected = False
        await self._close_stay(user)

    @rx.event
    @signed_in
    async def on_error(self, user: User, message: str):
        self._fail(clean_message(message))
        await self._close_stay(user)

    @rx.event
    @signed_in
    def on_participants_change(self, _user: User, count: int):
        if isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= 1000:
            self.participant_count = count

    @rx.event
    @signed_in
    def on_recording_saved(self, _user: User):
        return rx.toast.success("Recording saved. Find it on the Recordings page.")

    @rx.event
    @signed_in
    def on_recording_error(self, _user: User, message: str):
        return rx.toast.error(clean_message(message))
