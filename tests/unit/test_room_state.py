"""RoomState without a browser: a fake provider and a fake signed-in user, handlers called directly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from reflex.route import get_route_args

from yoom import video
from yoom.db import utcnow
from yoom.models import User
from yoom.state import room as room_module
from yoom.state.room import GENERIC_ERROR, RoomState
from yoom.video.base import (
    CallKind,
    Meeting,
    NotCallOwner,
    ProviderUnavailable,
)

HOST = User(id="a" * 32, username="host", display_name="Hana Host", created_at=datetime(2030, 1, 1))
GUEST = User(id="b" * 32, username="guest", display_name="Gus Guest", created_at=datetime(2030, 1, 1))
CALL_ID = "1f0e6a3c-2b1d-4c4e-9f00-0123456789ab"

# What the app does when it registers /meeting/[call_id]: `call_id` becomes a var of the root state.
rx.State.setup_dynamic_args(get_route_args("/meeting/[call_id]"))

pytestmark = pytest.mark.asyncio


class FakeProvider:
    name = "local"
    records_attendance = True  # the embedded signaling writes attendance; Stream's page does it itself

    def __init__(self):
        self.calls: dict[str, Meeting] = {}
        self.members: list[tuple[str, str]] = []
        self.created: list[tuple[str, CallKind, str | None]] = []
        self.ended: list[tuple[str, str]] = []
        self.fail_with: Exception | None = None

    def add(self, **kw) -> Meeting:
        base = {
            "id": CALL_ID,
            "created_by": HOST.id,
            "kind": CallKind.INSTANT,
            "created_at": utcnow(),
            "description": "Stand-up",
        }
        base.update(kw)
        m = Meeting(**base)
        self.calls[m.id] = m
        return m

    def _maybe_fail(self):
        if self.fail_with is not None:
            raise self.fail_with

    async def get_call(self, call_id):
        self._maybe_fail()
        return self.calls.get(call_id)

    async def create_call(self, creator, kind, *, call_id=None, starts_at=None, description="", member_ids=()):
        self._maybe_fail()
        self.created.append((creator.id, kind, call_id))
        return self.add(
            id=call_id,
            created_by=creator.id,
            kind=kind,
            description=description,
        )

    async def add_member(self, call_id, user):
        self._maybe_fail()
        self.members.append((call_id, user.id))

    async def end_call(self, call_id, by_user_id):
        self._maybe_fail()
        m = self.calls[call_id]
        if m.created_by != by_user_id:
            raise NotCallOwner()
        self.ended.append((call_id, by_user_id))
        ended = Meeting(**{**m.__dict__, "ended_at": utcnow()})
        self.calls[call_id] = ended
        return ended


@pytest.fixture
def provider(monkeypatch, yoom_env):
    """A fake provider; removals (yoom.moderation) live in the temp database of `yoom_env`."""
    fake = FakeProvider()
    monkeypatch.setattr(video, "get_provider", lambda: fake)
    return fake


async def _nobody(self):
    return None


def make_state(monkeypatch, user: User | None, call_id: str = CALL_ID, query: str = "") -> RoomState:
    async def signed_in_user(self):
        return user

    monkeypatch.setattr(RoomState, "_signed_in_user", signed_in_user)
    state = RoomState(_reflex_internal_init=True)
    params = {"call_id": call_id}
    if query:
        key, _, value = query.partition("=")
        params[key] = value
    state.router = RouterData.from_router_data(
        {
            "pathname": "/meeting/[call_id]",
            "asPath": f"/meeting/{call_id}" + (f"?{query}" if query else ""),
            "query": params,
            "headers": {"origin": "http://localhost:3000"},
        }
    )
    return state


def redirect_target(event) -> str:
    assert isinstance(event, rx.event.EventSpec), event
    args = {str(k): v for k, v in event.args}
    return json.loads(str(args["path"]))


async def test_signed_out_is_sent_to_sign_in(monkeypatch, provider):
    provider.add()
    state = make_state(monkeypatch, None)
    event = await state.load_room()
    assert "/sign-in?next=" in redirect_target(event)
    assert "meeting" in redirect_target(event)
    assert state.phase == "loading"  # nothing was loaded for nobody


async def test_open_call_goes_to_setup(monkeypatch, provider):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    assert await state.load_room() is None
    assert state.phase == "setup"
    assert state.room_id == CALL_ID
    assert state.description == "Stand-up"
    assert state.is_owner is False
    assert state.is_personal is False


async def test_a_page_still_in_the_call_stays_in_it_when_reflex_reconnects(monkeypatch, provider):
    """A server restart: Reflex's socket comes back and the page's on_load runs again. The engine's word that
    this page never left the call (sessionStorage, read with the hydrate) keeps it in the call."""
    provider.add()
    state = make_state(monkeypatch, GUEST)
    state.in_call_here = CALL_ID
    await state.load_room()
    assert state.phase == "in_call"
    assert state.room_id == CALL_ID


async def test_the_in_call_word_skips_no_rule(monkeypatch, provider):
    """A reload clears the word (setup again); for another call, an ended call or a signed-out page it counts
    for nothing."""
    provider.add()
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    assert state.phase == "setup"
    state.in_call_here = "another-call"
    await state.load_room()
    assert state.phase == "setup"
    signed_out = make_state(monkeypatch, None)
    signed_out.in_call_here = CALL_ID
    await signed_out.load_room()
    assert signed_out.phase == "loading"
    provider.add(ended_at=utcnow() - timedelta(minutes=1))
    ended = make_state(monkeypatch, GUEST)
    ended.in_call_here = CALL_ID
    await ended.load_room()
    assert ended.phase == "ended"


async def test_the_in_call_word_gets_nobody_past_the_lobby(monkeypatch, provider):
    from yoom import admission
    from yoom.access_rules import Access, WhoMayJoin

    provider.add()
    admission.set_access(CALL_ID, Access(WhoMayJoin.SIGNED_IN, True), HOST.id)
    state = make_state(monkeypatch, GUEST)
    state.in_call_here = CALL_ID
    await state.load_room()
    assert state.phase == "setup" and state.must_ask  # "Ask to join", as for anyone not let in yet


async def test_host_is_owner(monkeypatch, provider):
    provider.add()
    state = make_state(monkeypatch, HOST)
    await state.load_room()
    assert state.phase == "setup" and state.is_owner is True


@pytest.mark.parametrize("bad", ["..", "a b", "x" * 65, "abc%2F", "<script>"])
async def test_malformed_call_id_is_not_found_without_asking_the_provider(monkeypatch, provider, bad):
    provider.fail_with = AssertionError("provider must not be called")
    state = make_state(monkeypatch, GUEST, call_id=bad)
    await state.load_room()
    assert state.phase == "not_found"
    assert state.room_id == ""


async def test_unknown_call_is_not_found(monkeypatch, provider):
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    assert state.phase == "not_found"
    assert provider.created == []


async def test_ended_call(monkeypatch, provider):
    provider.add(ended_at=utcnow() - timedelta(minutes=5))
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    assert state.phase == "ended"


async def test_scheduled_call_not_started_for_guest_but_host_may_start(monkeypatch, provider):
    starts = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    provider.add(kind=CallKind.SCHEDULED, starts_at=starts)
    guest = make_state(monkeypatch, GUEST)
    await guest.load_room()
    assert guest.phase == "not_started"
    assert guest.starts_at_iso == starts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    host = make_state(monkeypatch, HOST)
    await host.load_room()
    assert host.phase == "setup"


async def test_scheduled_call_opens_ten_minutes_early(monkeypatch, provider):
    provider.add(kind=CallKind.SCHEDULED, starts_at=utcnow() + timedelta(minutes=9))
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    assert state.phase == "setup"


async def test_own_personal_room_is_created_on_first_visit(monkeypatch, provider):
    room_id = HOST.personal_room_id
    state = make_state(monkeypatch, HOST, call_id=room_id, query="personal=true")
    await state.load_room()
    assert provider.created == [(HOST.id, CallKind.PERSONAL, room_id)]
    assert state.phase == "setup"
    assert state.is_owner and state.is_personal


async def test_the_owners_user_id_opens_no_room(monkeypatch, provider):
    # The user id reaches everyone in a call: it must never name (or start) the owner's room.
    state = make_state(monkeypatch, HOST, call_id=HOST.id, query="personal=true")
    await state.load_room()
    assert provider.created == []
    assert state.phase == "not_found"


async def test_own_ended_personal_room_is_reopened(monkeypatch, provider):
    room_id = HOST.personal_room_id
    provider.add(id=room_id, kind=CallKind.PERSONAL, ended_at=utcnow() - timedelta(days=1))
    state = make_state(monkeypatch, HOST, call_id=room_id)
    await state.load_room()
    assert provider.created == [(HOST.id, CallKind.PERSONAL, room_id)]
    assert state.phase == "setup"


async def test_a_room_whose_link_its_owner_reset_stays_ended_even_for_them(monkeypatch, provider):
    old_id = "old-room-id-1234"  # not HOST.personal_room_id any more
    provider.add(id=old_id, kind=CallKind.PERSONAL, ended_at=utcnow() - timedelta(minutes=1))
    state = make_state(monkeypatch, HOST, call_id=old_id, query="personal=true")
    await state.load_room()
    assert provider.created == []
    assert state.phase == "ended"


async def test_someone_elses_ended_personal_room_stays_ended(monkeypatch, provider):
    room_id = HOST.personal_room_id
    provider.add(id=room_id, kind=CallKind.PERSONAL, ended_at=utcnow() - timedelta(days=1))
    state = make_state(monkeypatch, GUEST, call_id=room_id)
    await state.load_room()
    assert provider.created == []
    assert state.phase == "ended"


async def test_someone_elses_missing_personal_room_is_not_created(monkeypatch, provider):
    state = make_state(monkeypatch, GUEST, call_id=HOST.personal_room_id, query="personal=true")
    await state.load_room()
    assert provider.created == []
    assert state.phase == "not_found"


async def test_personal_link_flag(monkeypatch, provider):
    provider.add()
    state = make_state(monkeypatch, HOST, query="personal=true")
    await state.load_room()
    assert state.is_personal is True
    plain = make_state(monkeypatch, HOST, query="personal=nope")
    await plain.load_room()
    assert plain.is_personal is False


async def test_provider_unavailable_is_an_error_state_with_retry(monkeypatch, provider):
    provider.add()
    provider.fail_with = ProviderUnavailable("connect timeout to 10.0.0.1")
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    assert state.phase == "error"
    assert state.error_message == ProviderUnavailable.user_message
    assert "10.0.0.1" not in state.error_message
    provider.fail_with = None
    event = await state.retry()
    assert event is RoomState.load_room
    await state.load_room()
    assert state.phase == "setup" and state.error_message == ""


async def test_unexpected_exception_shows_generic_message(monkeypatch, provider):
    provider.fail_with = RuntimeError("KeyError: 'secret' at line 12")
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    assert state.phase == "error"
    assert state.error_message == GENERIC_ERROR


async def test_join_enters_the_call_without_making_a_member(monkeypatch, provider):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    await state.join_meeting()
    assert state.phase == "in_call"
    assert provider.members == []  # joining once used to make a permanent member (who saw every recording)
    await state.on_joined()
    assert state.connected is True


class FakeAttendance:
    """yoom.attendance's open_stay / close_stay, in memory."""

    def __init__(self):
        self.stays: dict[int, dict] = {}

    def open_stay(self, call_id, user_id, source):
        stay_id = len(self.stays) + 1
        self.stays[stay_id] = {"call_id": call_id, "user_id": user_id, "source": source, "open": True}
        return stay_id

    def close_stay(self, stay_id, *, user_id=None):
        stay = self.stays.get(stay_id)
        if stay and stay["open"] and user_id in (None, stay["user_id"]):
            stay["open"] = False
            return True
        return False

    def open_ones(self):
        return [(s["call_id"], s["user_id"]) for s in self.stays.values() if s["open"]]


@pytest.fixture
def book(monkeypatch, provider):
    """The page writes attendance (as on Stream, where no Yoom socket sees people come and go)."""
    fake = FakeAttendance()
    monkeypatch.setattr(room_module.attendance, "open_stay", fake.open_stay)
    monkeypatch.setattr(room_module.attendance, "close_stay", fake.close_stay)
    provider.records_attendance = False
    return fake


@pytest.mark.parametrize("leaving", ["on_left", "on_call_ended", "on_error", "load_room"])
async def test_on_stream_the_page_writes_down_when_the_person_was_in_the_call(monkeypatch, provider, book, leaving):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    assert book.stays == {}  # the setup screen is not the call
    await state.join_meeting()
    assert state.phase == "in_call" and book.open_ones() == [(CALL_ID, GUEST.id)]
    handler = getattr(state, leaving)
    await (handler("lost") if leaving == "on_error" else handler())
    assert book.open_ones() == [] and len(book.stays) == 1
    assert [s["source"] for s in book.stays.values()] == ["page"]


async def test_a_second_join_from_the_same_page_closes_the_first_stay(monkeypatch, provider, book):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    await state.join_meeting()
    state.phase = "setup"  # e.g. after "Try again"
    await state.join_meeting()
    assert len(book.stays) == 2 and book.open_ones() == [(CALL_ID, GUEST.id)]


async def test_the_embedded_provider_leaves_attendance_to_its_signaling(monkeypatch, provider, book):
    provider.records_attendance = True
    provider.add()
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    await state.join_meeting()
    assert state.phase == "in_call" and book.stays == {}


async def test_join_after_the_call_ended_shows_ended(monkeypatch, provider):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    provider.add(ended_at=utcnow())
    await state.join_meeting()
    assert state.phase == "ended"
    assert provider.members == []


async def test_invite_only_call_shows_not_allowed_to_a_stranger_and_reveals_nothing(monkeypatch, provider):
    provider.add(invite_only=True, members=(HOST.id,), kind=CallKind.SCHEDULED, starts_at=utcnow() + timedelta(days=1))
    state = make_state(monkeypatch, GUEST)
    assert await state.load_room() is None
    assert state.phase == "not_allowed"
    assert state.description == "" and state.starts_at_iso == "" and state.is_owner is False
    host = make_state(monkeypatch, HOST)
    await host.load_room()
    assert host.phase == "setup" and host.description == "Stand-up"


async def test_join_checks_the_invite_again(monkeypatch, provider):
    provider.add(members=(HOST.id,))
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    assert state.phase == "setup"
    provider.add(members=(HOST.id,), invite_only=True)  # made invite-only after the page loaded
    await state.join_meeting()
    assert state.phase == "not_allowed" and state.description == ""
    assert provider.members == []


async def test_join_requires_a_loaded_setup_screen(monkeypatch, provider):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    # Not loaded yet: join reloads instead of entering.
    assert await state.join_meeting() is RoomState.load_room
    assert state.phase == "loading"
    assert provider.members == []


async def test_join_signed_out(monkeypatch, provider):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    monkeypatch.setattr(RoomState, "_signed_in_user", _nobody)
    event = await state.join_meeting()
    assert "/sign-in" in redirect_target(event)
    assert state.phase == "setup"
    assert provider.members == []


async def test_end_call_for_everyone_by_owner(monkeypatch, provider):
    provider.add()
    state = make_state(monkeypatch, HOST)
    await state.load_room()
    await state.join_meeting()
    await state.end_call_for_everyone()
    assert provider.ended == [(CALL_ID, HOST.id)]
    assert state.phase == "ended"


async def test_end_call_for_everyone_refused_for_guest(monkeypatch, provider):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    await state.join_meeting()
    state.is_owner = True  # a tampered browser copy changes nothing: the provider decides
    event = await state.end_call_for_everyone()
    assert provider.ended == []
    assert state.phase == "in_call"
    assert NotCallOwner.user_message in str(event)


async def test_personal_room_is_not_ended(monkeypatch, provider):
    state = make_state(monkeypatch, HOST, call_id=HOST.personal_room_id)
    await state.load_room()
    assert state.is_personal  # by its kind, even without ?personal=true
    await state.join_meeting()
    await state.end_call_for_everyone()
    assert provider.ended == []
    assert state.phase == "in_call"


async def test_layout_and_setup_toggles_validate(monkeypatch, provider):
    state = make_state(monkeypatch, GUEST)
    await state.set_layout("grid")
    assert state.layout == "grid"
    await state.set_layout("speaker-right")
    assert state.layout == "speaker-right"
    await state.set_layout("sideways")
    await state.set_layout(None)
    assert state.layout == "speaker-right"
    await state.toggle_participants()
    assert state.show_participants is True
    await state.toggle_participants()
    assert state.show_participants is False
    await state.set_join_mic_off(True)
    await state.set_join_camera_off(True)
    assert state.join_mic_off and state.join_camera_off
    await state.set_join_mic_off("false")  # not a bool: ignored
    assert state.join_mic_off is True


async def test_toggles_signed_out_redirect(monkeypatch, provider):
    state = make_state(monkeypatch, None)
    assert "/sign-in" in redirect_target(await state.set_layout("grid"))
    assert state.layout == RoomState.get_fields()["layout"].default
    assert "/sign-in" in redirect_target(await state.toggle_participants())
    assert state.show_participants is False


async def test_browser_events(monkeypatch, provider):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    await state.join_meeting()
    await state.on_participants_change(3)
    assert state.participant_count == 3
    await state.on_participants_change(-1)
    await state.on_participants_change("7")
    assert state.participant_count == 3
    await state.on_call_ended()
    assert state.phase == "ended"
    await state.on_error("The meeting is full (6 people).")
    assert state.phase == "error" and state.error_message == "The meeting is full (6 people)."
    await state.on_error("line1\nline2\x00" + "x" * 1000)
    assert "\n" not in state.error_message and "\x00" not in state.error_message
    assert len(state.error_message) <= room_module.ERROR_MESSAGE_MAX
    await state.on_error({"stack": "boom"})
    assert state.error_message == GENERIC_ERROR
    assert redirect_target(await state.on_left()) == "/"
    assert "Recording saved" in str(await state.on_recording_saved())


# --- the invite link ("Copy invite link" in the call) -------------------------------------------------


@pytest.fixture
def public_url(monkeypatch, tmp_path):
    """Pin the settings the base URL comes from (a developer's .env must not change these tests)."""
    from yoom.settings import load_settings
    from yoom.state import base as base_module

    def use(url: str | None):
        env = {"YOOM_DATA_DIR": str(tmp_path), "VIDEO_PROVIDER": "local"}
        if url:
            env["YOOM_PUBLIC_URL"] = url
        settings = load_settings(env)
        monkeypatch.setattr(base_module, "get_settings", lambda: settings)

    use(None)
    return use


def copied_text(events) -> str:
    """What a handler's returned events put on the clipboard (and check it also says "Link copied")."""
    assert isinstance(events, list) and len(events) == 2, events
    clipboard, toast = (str(e) for e in events)
    assert "Link copied" in toast
    assert "clipboard" in clipboard.lower()
    return clipboard


async def test_invite_link_uses_the_browser_origin_without_a_public_url(monkeypatch, provider, public_url):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    assert state.invite_link == f"http://localhost:3000/meeting/{CALL_ID}"
    await state.join_meeting()
    assert state.phase == "in_call"
    assert f'"http://localhost:3000/meeting/{CALL_ID}"' in copied_text(await state.copy_invite_link())


async def test_invite_link_prefers_the_public_url(monkeypatch, provider, public_url):
    public_url("https://meet.example.test/")
    provider.add()
    state = make_state(monkeypatch, HOST)
    await state.load_room()
    assert state.invite_link == f"https://meet.example.test/meeting/{CALL_ID}"
    assert f'"https://meet.example.test/meeting/{CALL_ID}"' in copied_text(await state.copy_invite_link())


async def test_invite_link_of_a_personal_room_keeps_the_flag(monkeypatch, provider, public_url):
    # The owner opening their own personal room (created on the way), and a guest following the link.
    room_id = HOST.personal_room_id
    owner = make_state(monkeypatch, HOST, call_id=room_id, query="personal=true")
    await owner.load_room()
    assert owner.phase == "setup" and owner.is_personal is True
    assert owner.invite_link == f"http://localhost:3000/meeting/{room_id}?personal=true"
    guest = make_state(monkeypatch, GUEST, call_id=room_id, query="personal=true")
    await guest.load_room()
    assert guest.invite_link == f"http://localhost:3000/meeting/{room_id}?personal=true"
    # A personal room is personal by its kind too, whatever the link said.
    plain = make_state(monkeypatch, GUEST, call_id=room_id)
    await plain.load_room()
    assert plain.invite_link.endswith(f"/meeting/{room_id}?personal=true")


async def test_no_invite_link_where_nothing_may_be_revealed(monkeypatch, provider, public_url):
    unknown = make_state(monkeypatch, GUEST)
    await unknown.load_room()
    assert unknown.phase == "not_found" and unknown.invite_link == ""
    assert "no longer open" in str(await unknown.copy_invite_link())
    provider.add(invite_only=True)
    stranger = make_state(monkeypatch, GUEST)
    await stranger.load_room()
    assert stranger.phase == "not_allowed" and stranger.invite_link == ""
    assert "no longer open" in str(await stranger.copy_invite_link())


async def test_invite_link_without_a_known_address(monkeypatch, provider, public_url):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    state.router = RouterData.from_router_data(
        {
            "pathname": "/meeting/[call_id]",
            "asPath": f"/meeting/{CALL_ID}",
            "query": {"call_id": CALL_ID},
            "headers": {},
        }
    )
    await state.load_room()
    assert state.phase == "setup" and state.invite_link == ""
    assert "YOOM_PUBLIC_URL" in str(await state.copy_invite_link())


async def test_copy_invite_link_signed_out(monkeypatch, provider, public_url):
    provider.add()
    state = make_state(monkeypatch, GUEST)
    await state.load_room()
    monkeypatch.setattr(RoomState, "_signed_in_user", _nobody)
    assert "/sign-in" in redirect_target(await state.copy_invite_link())


async def test_the_page_opens_the_call_on_its_own_type_and_tells_a_stranger_nothing(monkeypatch, provider):
    provider.add(invite_only=True, members=(HOST.id, GUEST.id), call_type="yoom_invite_only")
    guest = make_state(monkeypatch, GUEST)
    await guest.load_room()
    assert guest.phase == "setup" and guest.call_type == "yoom_invite_only"
    stranger = make_state(monkeypatch, User(id="c" * 32, username="c", display_name="C", created_at=utcnow()))
    await stranger.load_room()
    assert stranger.phase == "not_allowed" and stranger.call_type == "default"
