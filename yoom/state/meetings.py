"""Home's dialogs (new, join, schedule), the meeting lists, recordings and the personal room.

Thin: every handler finds the user on the server, validates its arguments, and calls the
provider or yoom.meetings for the real work.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from yoom import accounts, admission, chat, meeting_rules, meetings, recording_uploads
from yoom.access_rules import Access, WhoMayJoin, default_access
from yoom.accounts import video_user
from yoom.meetings import MeetingInputError
from yoom.models import User
from yoom.settings import get_settings
from yoom.state.base import AuthState, signed_in
from yoom.video import get_provider
from yoom.video.base import (
    CallKind,
    CallNotFound,
    Meeting,
    NotCallOwner,
    VideoError,
    is_personal_room_id,
    is_valid_call_id,
)

log = logging.getLogger(__name__)

DIALOGS = ("", "new", "join", "schedule", "created")
MAX_FIELD = 4000  # hard cap on anything typed, before the real validation
UNEXPECTED = "Something went wrong on our side. Please try again."


def _text(value: object) -> str:
    return value[:MAX_FIELD] if isinstance(value, str) else ""


class MeetingFormState(AuthState):
    viewer_timezone: str = ""
    next_meeting_iso: str = ""
    dialog: str = ""
    busy: bool = False
    schedule_description: str = ""
    schedule_when: str = ""
    schedule_invite_only: bool = False
    schedule_share_recordings: bool = False
    schedule_invitees: str = ""
    # Who may join besides invite-only (yoom/access_rules.py), for New Meeting and Schedule alike.
    allow_guests: bool = False
    ask_to_join: bool = False
    schedule_error: str = ""
    join_input: str = ""
    join_error: str = ""
    created_id: str = ""
    created_link: str = ""
    created_starts_iso: str = ""
    created_invite_only: bool = False
    created_share_recordings: bool = False
    created_invited_count: int = 0

    @rx.event
    @signed_in
    def set_viewer_timezone(self, _user: User, zone: str):
        try:
            meetings.viewer_zone(zone)
        except MeetingInputError:
            return
        self.viewer_timezone = zone

    @rx.event
    @signed_in
    def detect_timezone(self, _user: User):
        """Ask the browser for its IANA zone: scheduled times are entered in the viewer's own zone."""
        return rx.call_script(
            "Intl.DateTimeFormat().resolvedOptions().timeZone", callback=MeetingFormState.set_viewer_timezone
        )

    @rx.event
    @signed_in
    async def load_home(self, user: User):
        """The start of the viewer's next upcoming meeting, from the provider (hidden when none)."""
        try:
            page = await get_provider().upcoming_calls(user.id, limit=1)
        except VideoError:
            self.next_meeting_iso = ""
            return
        first = page.items[0] if page.items else None
        self.next_meeting_iso = first.starts_at.isoformat() if first and first.starts_at else ""

    @rx.event
    @signed_in
    def open_dialog(self, _user: User, name: str):
        if name not in DIALOGS:
            return
        self.dialog = name
        self.schedule_error = self.join_error = ""

    @rx.event
    @signed_in
    def on_dialog_open_change(self, _user: User, is_open: bool):
        if not is_open and not self.busy:
            self.dialog = ""

    @rx.event
    @signed_in
    def set_schedule_description(self, _user: User, value: str):
        self.schedule_description = _text(value)
        self.schedule_error = ""

    @rx.event
    @signed_in
    def set_schedule_when(self, _user: User, value: str):
        self.schedule_when = _text(value)[:64]
        self.schedule_error = ""

    @rx.event
    @signed_in
    def set_schedule_invite_only(self, _user: User, value: bool):
        if isinstance(value, bool):
            self.schedule_invite_only = value
        self.schedule_error = ""

    @rx.event
    @signed_in
    def set_allow_guests(self, _user: User, value: bool):
        if isinstance(value, bool):
            self.allow_guests = value

    @rx.event
    @signed_in
    def set_ask_to_join(self, _user: User, value: bool):
        if isinstance(value, bool):
            self.ask_to_join = value

    def _access(self, invite_only: bool) -> Access:
        if invite_only:
            return Access(WhoMayJoin.INVITE_ONLY, bool(self.ask_to_join))
        return Access(WhoMayJoin.ANYONE if self.allow_guests else WhoMayJoin.SIGNED_IN, bool(self.ask_to_join))

    @rx.event
    @signed_in
    def set_schedule_share_recordings(self, _user: User, value: bool):
        if isinstance(value, bool):
            self.schedule_share_recordings = value
        self.schedule_error = ""

    @rx.event
    @signed_in
    def set_schedule_invitees(self, _user: User, value: str):
        self.schedule_invitees = _text(value)
        self.schedule_error = ""

    @rx.event
    @signed_in
    def set_join_input(self, _user: User, value: str):
        self.join_input = _text(value)
        self.join_error = ""

    @rx.event
    @signed_in
    async def start_instant_meeting(self, user: User):
        if self.busy:
            return
        self.busy = True
        yield
        meeting, problem = await _create_call(user, CallKind.INSTANT)
        if not problem:
            problem = await _keep_access(meeting, self._access(False), user)
        self.busy = False
        if problem:
            yield rx.toast.error(problem)
            return
        self.allow_guests = self.ask_to_join = False
        self.dialog = ""
        yield rx.redirect(meetings.meeting_path(meeting.id))

    @rx.event
    @signed_in
    async def schedule_meeting(self, user: User):
        if self.busy:
            return
        try:
            request = meetings.validate_schedule(self.schedule_description, self.schedule_when, self.viewer_timezone)
            names = meeting_rules.parse_invitees(self.schedule_invitees)
        except (MeetingInputError, meeting_rules.InviteListError) as exc:
            self.schedule_error = str(exc)
            return
        invite_only = bool(self.schedule_invite_only)
        # Shared with invitees only when there is a closed list of them (the switch shows under invite-only).
        share_recordings = invite_only and bool(self.schedule_share_recordings)
        self.busy = True
        yield
        try:
            # Every invitee must be a Yoom account; otherwise nothing is created.
            found = await asyncio.to_thread(accounts.users_by_username, names, user.id) if names else {}
            unknown = [name for name in names if name not in found]
            if unknown:
                self.schedule_error = meeting_rules.unknown_invitees_message(unknown)
                self.busy = False
                return
            invitees = [video_user(found[name]) for name in names if found[name].id != user.id]
            meeting = await get_provider().create_call(
                video_user(user),
                CallKind.SCHEDULED,
                starts_at=request.starts_at,
                description=request.description,
                invitees=invitees,
                invite_only=invite_only,
                share_recordings=share_recordings,
            )
            link = meetings.meeting_link(self._base_url(), meeting.id)
            problem = await _keep_access(meeting, self._access(invite_only), user)
            if problem:
                raise VideoError(problem, user_message=problem)
        except (VideoError, MeetingInputError, accounts.AccountError) as exc:
            self.schedule_error = getattr(exc, "user_message", None) or str(exc)
            self.busy = False
            return
        except Exception:
            log.exception("scheduling a meeting failed")
            self.schedule_error = UNEXPECTED
            self.busy = False
            return
        self.busy = False
        self.created_id = meeting.id
        self.created_link = link
        self.created_starts_iso = request.starts_at.isoformat()
        self.created_invite_only = meeting.invite_only
        self.created_share_recordings = meeting.share_recordings
        self.created_invited_count = len(invitees)
        self.schedule_description = self.schedule_when = self.schedule_invitees = ""
        self.schedule_invite_only = self.schedule_share_recordings = False
        self.allow_guests = self.ask_to_join = False
        self.dialog = "created"
        if not self.next_meeting_iso or request.starts_at.isoformat() < self.next_meeting_iso:
            self.next_meeting_iso = request.starts_at.isoformat()

    @rx.event
    @signed_in
    async def join_meeting(self, user: User):
        try:
            path = meetings.parse_join_input(self.join_input)
        except MeetingInputError as exc:
            self.join_error = str(exc)
            return
        self.dialog = ""
        self.join_input = ""
        return rx.redirect(path)

    @rx.event
    @signed_in
    def copy_created_link(self, _user: User):
        if not self.created_link:
            return
        return [rx.set_clipboard(self.created_link), rx.toast.success("Link copied")]

    @rx.event
    @signed_in
    async def download_calendar(self, user: User):
        if not is_valid_call_id(self.created_id):
            return
        try:
            meeting = await get_provider().get_call(self.created_id)
        except VideoError as exc:
            return rx.toast.error(exc.user_message)
        if meeting is None:
            return rx.toast.error("That meeting no longer exists.")
        ics = meetings.calendar_file(meeting, meetings.meeting_link(self._base_url(), meeting.id), user.display_name)
        return rx.download(data=ics, filename=f"yoom-meeting-{meeting.id[:8]}.ics", mime_type="text/calendar")


async def _create_call(user, kind: CallKind, **options) -> tuple[Meeting | None, str]:
    """Create a call for `user`; on failure, (None, a message for the page)."""
    try:
        return await get_provider().create_call(video_user(user), kind, **options), ""
    except VideoError as exc:
        return None, exc.user_message
    except Exception:
        log.exception("creating a %s meeting failed", kind.value)
        return None, UNEXPECTED


async def _keep_access(meeting: Meeting, access: Access, user) -> str:
    """Store who may join when it isn't the kind's default; a message for the page if it can't be."""
    if access == default_access(meeting.kind, meeting.invite_only):
        return ""
    try:
        await asyncio.to_thread(admission.set_access, meeting.id, access, user.id)
    except Exception:
        log.exception("storing who may join %s failed", meeting.id)
        return "The meeting was made, but who may join couldn't be saved: change it from inside the room."
    return ""


class _PagedState(AuthState):
    """A list the page loads 20 at a time ("Load more"), with loading, empty and error-with-retry states."""

    cursor: str = ""
    loading: bool = False
    loading_more: bool = False
    error: str = ""

    async def _next_page(self, user: User, cursor: str | None):
        """(items for the page, next cursor) for this list; raises VideoError."""
        raise NotImplementedError

    def _keep(self, items: list, more: bool) -> None:
        raise NotImplementedError

    async def _load(self, user: User, more: bool, what: str):
        if more and (not self.cursor or self.loading_more or self.loading):
            return
        if not more:
            self._keep([], more=False)
            self.cursor, self.error, self.loading = "", "", True
        else:
            self.loading_more = True
        yield
        try:
            items, next_cursor = await self._next_page(user, self.cursor or None)
        except VideoError as exc:
            self.error = exc.user_message
        except Exception:
            log.exception("listing %s failed", what)
            self.error = UNEXPECTED
        else:
            self._keep(items, more)
            self.cursor = next_cursor or ""
        self.loading = self.loading_more = False


class CallListState(_PagedState):
    """Upcoming or Previous meetings, loaded page by page."""

    which: str = ""
    items: list[dict[str, str]] = []

    async def _next_page(self, user: User, cursor: str | None):
        provider = get_provider()
        fetch = provider.upcoming_calls if self.which == "upcoming" else provider.previous_calls
        page = await fetch(user.id, cursor=cursor)
        access = await asyncio.to_thread(admission.accesses_of, page.items)
        cards = [meetings.meeting_card(m, user.id, self._base_url(), access[m.id].summary) for m in page.items]
        return cards, page.next_cursor

    def _keep(self, items: list, more: bool) -> None:
        self.items = self.items + items if more else items

    @rx.event
    @signed_in
    async def load_upcoming(self, user: User):
        self.which = "upcoming"
        async for update in self._load(user, more=False, what="upcoming meetings"):
            yield update

    @rx.event
    @signed_in
    async def load_previous(self, user: User):
        self.which = "previous"
        async for update in self._load(user, more=False, what="previous meetings"):
            yield update

    @rx.event
    @signed_in
    async def load_more(self, user: User):
        if self.which:
            async for update in self._load(user, more=True, what=f"{self.which} meetings"):
                yield update

    @rx.event
    @signed_in
    async def retry(self, user: User):
        self.which = self.which or "upcoming"
        async for update in self._load(user, more=False, what=f"{self.which} meetings"):
            yield update

    @rx.event
    @signed_in
    def copy_link(self, _user: User, link: str):
        if not isinstance(link, str):
            return
        # Only links Yoom itself listed are copied: the page can't plant arbitrary text.
        if not any(item["link"] == link for item in self.items):
            return
        return [rx.set_clipboard(link), rx.toast.success("Link copied")]


class RecordingsState(_PagedState):
    """Every recording the viewer may watch, newest first, page by page; played on the page. The host of
    a meeting may delete its recordings (embedded provider: that frees their storage quota)."""

    recordings: list[dict[str, str]] = []
    playing_url: str = ""
    playing_title: str = ""
    # The recording waiting for "Delete" to be confirmed ("" when no confirmation is open).
    confirm_delete_id: str = ""
    confirm_delete_title: str = ""
    deleting: bool = False

    async def _next_page(self, user: User, cursor: str | None):
        provider = get_provider()
        page = await provider.recordings(user.id, cursor=cursor)
        deletable = provider.name == "local"  # Yoom stores only the embedded provider's recordings
        # Local recordings are `/api/...` paths: the page resolves them against the backend's address.
        return [
            {
                "id": r.id or f"{r.call_id}-{r.start_time.isoformat()}",
                "title": r.filename,
                "start_time": r.start_time.isoformat(),
                "end_time": r.end_time.isoformat(),
                "url": r.url,
                "can_delete": "yes" if deletable and r.id and r.host_id == user.id else "",
            }
            for r in page.items
        ], page.next_cursor

    def _keep(self, items: list, more: bool) -> None:
        self.recordings = self.recordings + items if more else items

    @rx.event
    @signed_in
    async def load_recordings(self, user: User):
        self.playing_url = ""
        self.confirm_delete_id = self.confirm_delete_title = ""
        settings = get_settings()
        if settings.video_provider == "local":
            # The host coming back: a recording whose upload stopped (a closed tab, a crash) is saved now
            # from the parts that arrived, so it is on this page (yoom/recording_uploads.py).
            try:
                await asyncio.to_thread(
                    recording_uploads.finalise_idle,
                    settings.recordings_dir,
                    settings.recording_idle_seconds,
                    user_id=user.id,
                )
            except Exception:
                log.exception("finalising the quiet recording uploads of %s failed", user.id)
        async for update in self._load(user, more=False, what="recordings"):
            yield update

    @rx.event
    @signed_in
    async def load_more(self, user: User):
        async for update in self._load(user, more=True, what="recordings"):
            yield update

    @rx.event
    @signed_in
    def play(self, _user: User, url: str):
        match = next((r for r in self.recordings if r["url"] == url), None)
        if match is None:
            return
        self.playing_url, self.playing_title = match["url"], match["title"]

    @rx.event
    @signed_in
    def close_player(self, _user: User, is_open: bool = False):
        if not is_open:
            self.playing_url = ""

    @rx.event
    @signed_in
    def ask_delete(self, _user: User, recording_id: str):
        """Open the confirmation for one of the listed recordings this viewer may delete."""
        match = next((r for r in self.recordings if r["id"] == recording_id and r["can_delete"]), None)
        if match is None or self.deleting:
            return
        self.confirm_delete_id, self.confirm_delete_title = match["id"], match["title"]

    @rx.event
    @signed_in
    def on_confirm_delete_change(self, _user: User, is_open: bool):
        if not is_open and not self.deleting:
            self.confirm_delete_id = self.confirm_delete_title = ""

    @rx.event
    @signed_in
    async def confirm_delete(self, user: User):
        recording_id = self.confirm_delete_id
        if not recording_id or self.deleting:
            return
        self.deleting = True
        yield
        try:
            # The provider checks again that this user is the meeting's host: the page's list is no proof.
            await get_provider().delete_recording(recording_id, user.id)
        except VideoError as exc:
            self.deleting = False
            yield rx.toast.error(exc.user_message)
            return
        except Exception:
            log.exception("deleting recording %s failed", recording_id)
            self.deleting = False
            yield rx.toast.error(UNEXPECTED)
            return
        self.deleting = False
        self.recordings = [r for r in self.recordings if r["id"] != recording_id]
        if self.playing_url and not any(r["url"] == self.playing_url for r in self.recordings):
            self.playing_url = ""
        self.confirm_delete_id = self.confirm_delete_title = ""
        yield rx.toast.success("Recording deleted.")


class PersonalRoomState(AuthState):
    room_id: str = ""
    invite_link: str = ""
    starting: bool = False
    confirm_reset: bool = False
    resetting: bool = False

    async def _room_id(self, user: User) -> str:
        """The id stored on the user; an account that somehow has none gets one now."""
        if is_personal_room_id(user.personal_room_id):
            return user.personal_room_id
        return await asyncio.to_thread(accounts.reset_personal_room_id, user.id)

    def _show_room(self, room_id: str) -> None:
        self.room_id = room_id
        self.invite_link = meetings.meeting_link(self._base_url(), room_id, personal=True)

    @rx.event
    @signed_in
    async def load_room(self, user: User):
        self.confirm_reset = False
        try:
            self._show_room(await self._room_id(user))
        except (accounts.AccountError, MeetingInputError) as exc:
            return rx.toast.error(str(exc))

    @rx.event
    @signed_in
    async def start_room(self, user: User):
        self.starting = True
        yield
        # create_call for a personal room is get-or-create (and reopens an ended room).
        meeting, problem = await _create_call(user, CallKind.PERSONAL, call_id=await self._room_id(user))
        self.starting = False
        if problem:
            yield rx.toast.error(problem)
            return
        yield rx.redirect(meetings.meeting_path(meeting.id, personal=True))

    @rx.event
    @signed_in
    async def copy_invitation(self, user: User):
        room_id = await self._room_id(user)
        return [
            rx.set_clipboard(meetings.meeting_link(self._base_url(), room_id, personal=True)),
            rx.toast.success("Link copied"),
        ]

    @rx.event
    @signed_in
    def set_confirm_reset(self, _user: User, is_open: bool):
        if isinstance(is_open, bool) and not self.resetting:
            self.confirm_reset = is_open

    @rx.event
    @signed_in
    async def reset_link(self, user: User):
        """A new room id: the old link stops working (its room is ended, everyone in it leaves)."""
        if self.resetting:
            return
        self.resetting = True
        yield
        old = user.personal_room_id
        try:
            if is_personal_room_id(old):
                try:
                    await get_provider().end_call(old, user.id)
                except (CallNotFound, NotCallOwner):
                    pass  # never started (or not theirs to end): nothing to close
            new_id = await asyncio.to_thread(accounts.reset_personal_room_id, user.id)
            if is_personal_room_id(old):
                # That room is gone for good, and its chat with it (yoom/chat.py).
                await asyncio.to_thread(chat.delete_call, old)
        except VideoError as exc:
            self.resetting = False
            yield rx.toast.error(exc.user_message)
            return
        except accounts.AccountError as exc:
            self.resetting = False
            yield rx.toast.error(str(exc))
            return
        except Exception:
            log.exception("resetting the personal room of %s failed", user.id)
            self.resetting = False
            yield rx.toast.error(UNEXPECTED)
            return
        self.resetting = False
        self.confirm_reset = False
        try:
            self._show_room(new_id)
        except MeetingInputError as exc:
            self.room_id, self.invite_link = new_id, ""
            yield rx.toast.error(str(exc))
            return
        yield rx.toast.success("New link ready. The old link no longer works.")
