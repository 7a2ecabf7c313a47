"""The lobby and the host's moderation through the meeting page's Reflex handlers, on both providers
(Stream through tests/fakestream): forged admissions, guests at member-only handlers, removal (Stream's
block and kick), ask-everyone-to-mute (the room channel's frame; Stream's MuteUsers), co-hosts."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from reflex.route import get_route_args

from tests.conftest import signed_up
from tests.fakestream import FakeStream
from tests.integration.test_meeting_handlers import ORIGIN, redirects, run
from yoom import accounts, admission, guests, moderation
from yoom.access_rules import Access, WhoMayJoin
from yoom.meeting_rules import Phase
from yoom.rtc.hub import Hub, set_hub
from yoom.state.lobby import LobbyState
from yoom.state.meetings import CallListState, MeetingFormState
from yoom.state.room import RoomState
from yoom.video import get_provider
from yoom.video.base import CallKind

# What the app does when it registers /meeting/[call_id]: `call_id` becomes a var of the root state.
rx.State.setup_dynamic_args(get_route_args("/meeting/[call_id]"))


@pytest.fixture(params=["local", "stream"])
def provider_name(request, yoom_env, monkeypatch):
    import yoom.settings
    import yoom.video

    if request.param == "stream":
        fake = FakeStream().start()
        request.addfinalizer(fake.stop)
        for name, value in {
            "VIDEO_PROVIDER": "stream",
            "STREAM_API_KEY": fake.api_key,
            "STREAM_API_SECRET": fake.api_secret,
            "STREAM_BASE_URL": fake.base_url,
            "STREAM_TIMEOUT_SECONDS": "2",
        }.items():
            monkeypatch.setenv(name, value)
        request.node.fake = fake
    yoom.settings.get_settings.cache_clear()
    yoom.video.get_provider.cache_clear()
    return request.param


@pytest.fixture
def ada(provider_name):
    return signed_up("Ada Lovelace", "ada", "analytical engine")


@pytest.fixture
def bob(provider_name):
    return signed_up("Bob Babbage", "bob", "difference engine")


class Socket:
    """A room-channel peer's transport: what the hub sent it."""

    def __init__(self):
        self.frames: list[dict] = []

    async def send(self, message):
        self.frames.append(message)

    async def close(self, code, reason=""):
        self.frames.append({"closed": code})


@pytest.fixture
def hub(provider_name):
    made = Hub()
    set_hub(made)
    yield made
    set_hub(None)


def state_for(cls, call_id: str, *, session=None, guest_token: str | None = None, phase: str | None = None):
    cookies = []
    if session is not None:
        cookies.append(f"yoom_session={session.session_token}")
    if guest_token is not None:
        cookies.append(f"yoom_guest={guest_token}")
    state = cls(_reflex_internal_init=True)
    path = f"/meeting/{call_id}"
    state.router = RouterData.from_router_data(
        {
            "pathname": "/meeting/[call_id]",
            "asPath": path,
            "query": {"call_id": call_id},
            "headers": {"origin": ORIGIN, "cookie": "; ".join(cookies)},
        }
    )
    if phase is not None:
        state.phase, state.room_id = phase, call_id
    return state


def toasts(events) -> str:
    """What the handler's toasts say (the text of the events it returned)."""
    return " | ".join(str(event) for event in (events if isinstance(events, list) else [events]) if event is not None)


async def meeting_of(host, access: Access | None = None):
    meeting = await get_provider().create_call(accounts.video_user(host.user), CallKind.INSTANT)
    if access is not None:
        admission.set_access(meeting.id, access, host.user.id)
    return meeting


async def test_a_guest_is_not_a_member_of_yoom(ada, hub, provider_name):
    meeting = await meeting_of(ada, Access(WhoMayJoin.ANYONE, False))
    made = guests.create(meeting.id, "Gus", "198.51.100.3")
    # Member-only handlers send the guest to sign in and do nothing.
    form = state_for(MeetingFormState, meeting.id, guest_token=made.token)
    assert redirects(await run(form.start_instant_meeting()))[0].startswith("/sign-in")
    lists = state_for(CallListState, meeting.id, guest_token=made.token)
    assert redirects(await run(lists.load_upcoming()))[0].startswith("/sign-in")
    admission.knock(meeting.id, "someone", "Someone", is_guest=False)
    lobby_state = state_for(LobbyState, meeting.id, guest_token=made.token, phase=Phase.IN_CALL)
    assert redirects(await run(lobby_state.admit("someone")))[0].startswith("/sign-in")
    assert admission.status_of(meeting.id, "someone") is admission.Status.PENDING
    # The room itself is theirs: the setup screen, as a guest.
    room = state_for(RoomState, meeting.id, guest_token=made.token)
    await run(room.load_room())
    assert room.phase == Phase.SETUP and room.is_guest and room.user_name == "Gus (guest)"
    # A guest pass for this meeting is no pass for another.
    other = await meeting_of(ada, Access(WhoMayJoin.ANYONE, False))
    elsewhere = state_for(RoomState, other.id, guest_token=made.token)
    await run(elsewhere.load_room())
    assert elsewhere.phase == Phase.GUEST and not elsewhere.is_guest


async def test_a_guest_knocks_and_the_host_lets_them_in(ada, hub, provider_name):
    meeting = await meeting_of(ada, Access(WhoMayJoin.ANYONE, True))
    made = guests.create(meeting.id, "<i>Kim</i>", "198.51.100.3")
    room = state_for(RoomState, meeting.id, guest_token=made.token)
    await run(room.load_room())
    assert room.phase == Phase.SETUP and room.must_ask
    host_socket = Socket()
    await hub.join(meeting.id, {"id": ada.user.id, "name": "Ada"}, host_socket, is_owner=True)
    await run(room.join_meeting())
    assert room.phase == Phase.LOBBY
    host = state_for(LobbyState, meeting.id, session=ada, phase=Phase.IN_CALL)
    host.can_admit = True
    events = await run(host.refresh_lobby())
    assert host.knocks == [{"user_id": made.guest.id, "name": "<i>Kim</i>", "kind": "guest"}]
    assert "<i>Kim</i> is asking to join" in toasts(events)
    await run(host.admit(made.guest.id))
    assert admission.status_of(meeting.id, made.guest.id) is admission.Status.ADMITTED and host.knocks == []
    # The host's page heard of the knock and of the answer on the room channel.
    assert sum(1 for f in host_socket.frames if f.get("name") == "lobby") >= 2


async def test_forged_admissions_are_refused(ada, bob, hub, provider_name):
    meeting = await meeting_of(ada, Access(WhoMayJoin.SIGNED_IN, True))
    carol = signed_up("Carol", "carol", "password three")
    admission.knock(meeting.id, carol.user.id, "Carol", is_guest=False)
    # Bob isn't the host (whatever his page says about itself).
    forger = state_for(LobbyState, meeting.id, session=bob, phase=Phase.IN_CALL)
    forger.can_admit = forger.is_owner = True
    assert "Only the host can let people in" in toasts(await run(forger.admit(carol.user.id)))
    assert "Only the host can remove" in toasts(await run(forger.remove(ada.user.id)))
    assert "Only the host can make someone co-host" in toasts(await run(forger.make_co_host(bob.user.id)))
    assert "Only the host can change who may join" in toasts(await run(forger.set_who_may_join("anyone")))
    assert admission.status_of(meeting.id, carol.user.id) is admission.Status.PENDING
    assert admission.access_of(meeting).who_may_join is WhoMayJoin.SIGNED_IN
    assert not moderation.is_removed(meeting.id, ada.user.id)
    # Junk arguments do nothing.
    host = state_for(LobbyState, meeting.id, session=ada, phase=Phase.IN_CALL)
    for junk in (None, 42, "x" * 500, "bad id!", ["u"]):
        await run(host.admit(junk))
    assert "Choose who may join from the list." in toasts(await run(host.set_who_may_join("everyone")))
    assert admission.pending(meeting.id)[0].user_id == carol.user.id


async def test_remove_mute_co_host_and_let_back_in(ada, bob, hub, provider_name, request):
    provider = get_provider()
    meeting = await meeting_of(ada)
    await provider.upsert_user(accounts.video_user(ada.user))
    await provider.upsert_user(accounts.video_user(bob.user))
    bob_socket = Socket()
    await hub.join(meeting.id, {"id": ada.user.id, "name": "Ada"}, Socket(), is_owner=True)
    await hub.join(meeting.id, {"id": bob.user.id, "name": "Bob"}, bob_socket)
    host = state_for(LobbyState, meeting.id, session=ada, phase=Phase.IN_CALL)
    host.can_admit = host.is_owner = True

    assert "Asked 1 person to mute." in toasts(await run(host.mute_everyone()))
    assert {"type": "mute-request"} in bob_socket.frames
    await run(host.make_co_host(bob.user.id))
    assert admission.co_hosts(meeting.id) == {bob.user.id}
    await run(host.toggle_moderation())
    assert {p["user_id"]: p["role"] for p in host.people} == {ada.user.id: "host", bob.user.id: "co-host"}

    await run(host.remove(bob.user.id))
    assert moderation.is_removed(meeting.id, bob.user.id)
    assert {"closed": 4430} in bob_socket.frames
    fake = getattr(request.node, "fake", None)
    if fake is not None:  # Stream: muted, blocked and kicked through Stream's own API
        done = fake.moderation(meeting.id)
        assert done["mutes"] == [{"user_ids": [bob.user.id], "audio": True, "muted_by_id": ada.user.id}]
        assert done["blocked"] == [bob.user.id] and done["kicks"][0]["user_id"] == bob.user.id
        assert fake.capabilities(meeting.call_type, meeting.id, bob.user.id) == set()

    # Bob asks to be let back in; the host admits him: the removal (and Stream's block) is lifted.
    room = state_for(RoomState, meeting.id, session=bob)
    await run(room.load_room())
    assert room.phase == Phase.REMOVED
    await run(room.ask_to_come_back())
    assert room.phase == Phase.LOBBY
    await run(host.admit(bob.user.id))
    assert not moderation.is_removed(meeting.id, bob.user.id)
    assert admission.status_of(meeting.id, bob.user.id) is admission.Status.ADMITTED
    if fake is not None:
        assert fake.moderation(meeting.id)["blocked"] == []


async def test_the_host_changes_who_may_join_from_the_room(ada, hub, provider_name):
    meeting = await meeting_of(ada)
    host = state_for(LobbyState, meeting.id, session=ada, phase=Phase.IN_CALL)
    host.who_may_join, host.ask_to_join = "signed_in", False
    await run(host.set_who_may_join("anyone"))
    await run(host.set_ask_to_join(True))
    assert admission.access_of(meeting) == Access(WhoMayJoin.ANYONE, True)
    assert host.access_summary == "Anyone with the link (guests too) · ask to join"
    closed = await get_provider().create_call(accounts.video_user(ada.user), CallKind.INSTANT, invite_only=True)
    keeper = state_for(LobbyState, closed.id, session=ada, phase=Phase.IN_CALL)
    keeper.who_may_join, keeper.ask_to_join = "invite_only", False
    assert "stays invite-only" in toasts(await run(keeper.set_who_may_join("anyone")))
    assert admission.access_of(closed).who_may_join is WhoMayJoin.INVITE_ONLY
