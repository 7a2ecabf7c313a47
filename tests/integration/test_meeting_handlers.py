"""The meeting-flow handlers (Home's dialogs, the lists, recordings, personal room) on BOTH real providers:
the local one on a temp database and Stream through the unmodified SDK against the fake Stream server.
Users are real accounts; the handlers find them from the session token on the server."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from tests.conftest import signed_up
from tests.fakestream import FakeStream
from yoom import accounts
from yoom.state.meetings import CallListState, MeetingFormState, PersonalRoomState, RecordingsState
from yoom.video import get_provider

ORIGIN = "http://localhost:3000"


@pytest.fixture(params=["local", "stream"])
def provider_name(request, yoom_env, monkeypatch):
    import yoom.settings
    import yoom.video

    if request.param == "stream":
        fake = FakeStream().start()
        request.addfinalizer(fake.stop)
        monkeypatch.setenv("VIDEO_PROVIDER", "stream")
        monkeypatch.setenv("STREAM_API_KEY", fake.api_key)
        monkeypatch.setenv("STREAM_API_SECRET", fake.api_secret)
        monkeypatch.setenv("STREAM_BASE_URL", fake.base_url)
        monkeypatch.setenv("STREAM_TIMEOUT_SECONDS", "2")
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


def headers_for(signed_in) -> dict[str, str]:
    """The event socket's handshake headers: the HttpOnly session cookie is how handlers know the user."""
    headers = {"origin": ORIGIN}
    if signed_in:
        headers["cookie"] = f"theme=dark; yoom_session={signed_in.session_token}"
    return headers


def state_for(cls, signed_in, path="/"):
    state = cls(_reflex_internal_init=True)
    state.router = RouterData.from_router_data(
        {"pathname": path, "asPath": path, "query": {}, "headers": headers_for(signed_in)}
    )
    return state


async def run(handler_result):
    """Collect what a handler returns or yields."""
    if hasattr(handler_result, "__aiter__"):
        return [event async for event in handler_result]
    if hasattr(handler_result, "__await__"):
        return await handler_result
    return handler_result


def redirects(events) -> list[str]:
    found = []
    for event in events if isinstance(events, list) else [events]:
        if isinstance(event, rx.event.EventSpec) and event.handler.fn.__qualname__.endswith("redirect"):
            args = {str(k): v for k, v in event.args}
            found.append(json.loads(str(args["path"])))
    return found


def future_local(days=2, zone="Europe/Paris"):
    from zoneinfo import ZoneInfo

    return (datetime.now(ZoneInfo(zone)) + timedelta(days=days)).replace(second=0, microsecond=0)


async def test_instant_meeting_is_created_for_the_signed_in_user(ada, provider_name):
    form = state_for(MeetingFormState, ada)
    events = await run(form.start_instant_meeting())
    [path] = redirects(events)
    call_id = path.removeprefix("/meeting/")
    meeting = await get_provider().get_call(call_id)
    assert meeting is not None and meeting.created_by == ada.user.id


async def test_anonymous_handlers_create_nothing(provider_name):
    form = state_for(MeetingFormState, None)
    events = await run(form.start_instant_meeting())
    assert redirects(events) == ["/sign-in?next=%2F"]
    form.schedule_description, form.schedule_when, form.viewer_timezone = (
        "x",
        future_local().strftime("%Y-%m-%dT%H:%M"),
        "UTC",
    )
    await run(form.schedule_meeting())
    assert form.created_id == ""


async def test_schedule_stores_utc_and_lists_in_upcoming(ada, bob, provider_name):
    form = state_for(MeetingFormState, ada)
    await form.set_viewer_timezone("Europe/Paris")
    local = future_local()
    await form.set_schedule_description("  Board   review ")
    await form.set_schedule_when(local.strftime("%Y-%m-%dT%H:%M"))
    events = await run(form.schedule_meeting())
    assert redirects(events) == []  # scheduling never jumps into the meeting
    assert form.schedule_error == "" and form.dialog == "created"
    assert form.created_link == f"{ORIGIN}/meeting/{form.created_id}"
    meeting = await get_provider().get_call(form.created_id)
    assert meeting.description == "Board review"
    assert meeting.starts_at == local.astimezone(UTC)

    upcoming = state_for(CallListState, ada)
    await run(upcoming.load_upcoming())
    assert [item["id"] for item in upcoming.items] == [form.created_id]
    assert upcoming.items[0]["starts_at"] == local.astimezone(UTC).isoformat()
    copied = await upcoming.copy_link(form.created_link)
    assert copied is not None
    assert await upcoming.copy_link("https://evil.example/phish") is None

    others = state_for(CallListState, bob)
    await run(others.load_upcoming())
    assert others.items == [] and others.error == ""

    home = state_for(MeetingFormState, ada)
    await run(home.load_home())
    assert home.next_meeting_iso == local.astimezone(UTC).isoformat()


async def test_schedule_refusals_create_nothing(ada, provider_name):
    form = state_for(MeetingFormState, ada)
    await form.set_viewer_timezone("UTC")
    await form.set_schedule_description("Past")
    await form.set_schedule_when("2020-01-01T10:00")
    await run(form.schedule_meeting())
    assert "already passed" in form.schedule_error
    await form.set_schedule_description("y" * 201)
    await form.set_schedule_when(future_local().strftime("%Y-%m-%dT%H:%M"))
    await run(form.schedule_meeting())
    assert "at most 200" in form.schedule_error
    upcoming = state_for(CallListState, ada)
    await run(upcoming.load_upcoming())
    assert upcoming.items == []


async def test_upcoming_pages_and_previous_lists_ended(ada, provider_name):
    provider = get_provider()
    from yoom.accounts import video_user
    from yoom.video.base import CallKind

    starts = datetime.now(UTC) + timedelta(days=1)
    made = [
        await provider.create_call(
            video_user(ada.user),
            CallKind.SCHEDULED,
            starts_at=starts + timedelta(hours=i),
            description=f"Meeting {i:02d}",
        )
        for i in range(23)
    ]
    lists = state_for(CallListState, ada)
    await run(lists.load_upcoming())
    assert len(lists.items) == 20 and lists.cursor
    await run(lists.load_more())
    assert [item["title"] for item in lists.items] == [f"Meeting {i:02d}" for i in range(23)]
    assert lists.cursor == ""

    instant = await provider.create_call(video_user(ada.user), CallKind.INSTANT)
    await provider.end_call(instant.id, ada.user.id)
    previous = state_for(CallListState, ada)
    await run(previous.load_previous())
    assert [item["id"] for item in previous.items] == [instant.id]
    assert previous.items[0]["ended_at"]
    assert made[0].id not in [item["id"] for item in previous.items]


async def test_join_validates_on_the_server(ada, provider_name):
    form = state_for(MeetingFormState, ada)
    await form.set_join_input(f"{ORIGIN}/meeting/abc-123")
    assert redirects(await run(form.join_meeting())) == ["/meeting/abc-123"]
    await form.set_join_input("not a link at all")
    assert redirects(await run(form.join_meeting()) or []) == []
    assert "isn't a meeting link" in form.join_error


async def test_personal_room_has_a_random_id_and_its_link_can_be_reset(ada, bob, provider_name):
    room = state_for(PersonalRoomState, ada)
    await room.load_room()
    room_id = room.room_id
    # Not the user id (which everyone in a call sees), nor a meeting id: unguessable, and stored on the account.
    assert room_id != ada.user.id and len(room_id) >= 12
    with pytest.raises(ValueError):
        uuid.UUID(room_id)
    assert accounts.get_user(ada.user.id).personal_room_id == room_id
    assert room.invite_link == f"{ORIGIN}/meeting/{room_id}?personal=true"
    events = await run(room.start_room())
    assert redirects(events) == [f"/meeting/{room_id}?personal=true"]
    meeting = await get_provider().get_call(room_id)
    assert meeting.created_by == ada.user.id and meeting.kind.value == "personal"
    assert await get_provider().get_call(ada.user.id) is None  # nothing answers to the user id
    # Starting it again reuses the same room.
    await run(room.start_room())
    assert (await get_provider().get_call(room_id)).created_by == ada.user.id
    # Bob's visit made him no member: he may come back only while the link is the same.
    visitor = _room_for(bob, room_id)
    await visitor.load_room()
    assert visitor.phase == "setup"

    # "Reset link": a new id, shown on the page; the old room is ended and stays closed, even for Ada.
    await run(room.reset_link())
    new_id = room.room_id
    assert new_id != room_id and room.invite_link == f"{ORIGIN}/meeting/{new_id}?personal=true"
    assert accounts.get_user(ada.user.id).personal_room_id == new_id
    assert (await get_provider().get_call(room_id)).has_ended
    for person in (bob, ada):
        old = _room_for(person, room_id)
        await old.load_room()
        assert old.phase == "ended"
    events = await run(room.start_room())
    assert redirects(events) == [f"/meeting/{new_id}?personal=true"]
    assert not (await get_provider().get_call(new_id)).has_ended


async def test_reset_link_signed_out_changes_nothing(ada, provider_name):
    room = state_for(PersonalRoomState, None)
    before = accounts.get_user(ada.user.id).personal_room_id
    events = await run(room.reset_link())
    assert redirects(events) == ["/sign-in?next=%2F"]
    assert accounts.get_user(ada.user.id).personal_room_id == before


async def test_recordings_list_only_the_users_calls(ada, bob, provider_name, request):
    from yoom.accounts import video_user
    from yoom.video.base import CallKind

    meeting = await get_provider().create_call(video_user(ada.user), CallKind.INSTANT)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    if provider_name == "stream":
        request.node.fake.add_recording(
            meeting.id, "standup.mp4", start_time=start, end_time=start + timedelta(minutes=20)
        )
    else:
        from yoom.db import session_scope
        from yoom.models import LocalRecording

        with session_scope() as db:
            db.add(
                LocalRecording(
                    id="rec1",
                    call_id=meeting.id,
                    created_by=ada.user.id,
                    filename="standup.webm",
                    stored_name="rec1.webm",
                    content_type="video/webm",
                    size_bytes=10,
                    start_time=start,
                    end_time=start + timedelta(minutes=20),
                    created_at=start,
                )
            )
    mine = state_for(RecordingsState, ada)
    await run(mine.load_recordings())
    assert len(mine.recordings) == 1
    assert mine.recordings[0]["title"].startswith("standup")
    expected = "/api/recordings/rec1" if provider_name == "local" else "https://"
    assert mine.recordings[0]["url"].startswith(expected)
    await mine.play(mine.recordings[0]["url"])
    assert mine.playing_url == mine.recordings[0]["url"]
    await mine.play("https://evil.example/x.mp4")
    assert mine.playing_url == mine.recordings[0]["url"]
    theirs = state_for(RecordingsState, bob)
    await run(theirs.load_recordings())
    assert theirs.recordings == [] and theirs.error == ""


async def test_provider_failure_becomes_an_error_with_retry(ada, provider_name, request, monkeypatch):
    if provider_name == "stream":
        request.node.fake.inject(500, times=20)
    else:
        from yoom.video.base import ProviderUnavailable

        async def down(*_a, **_k):
            raise ProviderUnavailable("db down")

        monkeypatch.setattr(get_provider(), "upcoming_calls", down)
    lists = state_for(CallListState, ada)
    await run(lists.load_upcoming())
    assert lists.error == "The video service can't be reached right now. Please try again in a moment."
    assert lists.loading is False


# --- invite-only meetings -------------------------------------------------------------------------


def _room_for(signed_in, call_id: str):
    """RoomState for /meeting/{call_id}, signed in as `signed_in` (the app registers the dynamic route)."""
    from reflex.route import get_route_args

    from yoom.state.room import RoomState

    rx.State.setup_dynamic_args(get_route_args("/meeting/[call_id]"))
    state = RoomState(_reflex_internal_init=True)
    state.router = RouterData.from_router_data(
        {
            "pathname": "/meeting/[call_id]",
            "asPath": f"/meeting/{call_id}",
            "query": {"call_id": call_id},
            "headers": headers_for(signed_in),
        }
    )
    return state


async def _schedule_form(signed_in, invitees: str, invite_only: bool, description: str = "Board review"):
    form = state_for(MeetingFormState, signed_in)
    await form.set_viewer_timezone("Europe/Paris")
    await form.set_schedule_description(description)
    await form.set_schedule_when(future_local().strftime("%Y-%m-%dT%H:%M"))
    await form.set_schedule_invitees(invitees)
    await form.set_schedule_invite_only(invite_only)
    return form


async def _upcoming_ids(signed_in) -> list[str]:
    lists = state_for(CallListState, signed_in)
    await run(lists.load_upcoming())
    assert lists.error == ""
    return [item["id"] for item in lists.items]


async def test_unknown_invitees_are_named_and_nothing_is_created(ada, bob, provider_name, request):
    form = await _schedule_form(ada, "bob, ghost  nobody@example.com,ghost", invite_only=True)
    await run(form.schedule_meeting())
    assert form.schedule_error == "No Yoom account for: ghost, nobody@example.com"
    assert form.created_id == "" and form.dialog != "created" and form.busy is False
    await form.set_schedule_invitees(" ".join(f"user{i}" for i in range(51)))
    await run(form.schedule_meeting())
    assert form.schedule_error == "Invite at most 50 people (the list has 51)."
    assert await _upcoming_ids(ada) == [] and await _upcoming_ids(bob) == []
    if provider_name == "stream":
        assert request.node.fake.call_count == 0


async def test_invitees_list_it_and_a_stranger_is_not_allowed(ada, bob, provider_name):
    carol = signed_up("Carol Shaw", "carol@example.com", "river raid 1982")
    dave = signed_up("Dave Cutler", "dave", "windows nt 3.1")
    form = await _schedule_form(ada, "BOB; carol@example.com ada", invite_only=True, description="Secret roadmap")
    await run(form.schedule_meeting())
    assert form.schedule_error == "" and form.dialog == "created"
    assert form.created_invite_only is True and form.created_invited_count == 2
    assert form.schedule_invitees == "" and form.schedule_invite_only is False  # the form is fresh again
    meeting = await get_provider().get_call(form.created_id)
    assert meeting.invite_only is True
    assert set(meeting.members) == {ada.user.id, bob.user.id, carol.user.id}
    for invited in (ada, bob, carol):
        assert await _upcoming_ids(invited) == [form.created_id]
    assert await _upcoming_ids(dave) == []

    stranger = _room_for(dave, form.created_id)
    await stranger.load_room()
    assert stranger.phase == "not_allowed"
    # Nothing about the meeting reaches a page that may not see it.
    assert stranger.description == "" and stranger.starts_at_iso == "" and stranger.is_owner is False
    host = _room_for(ada, form.created_id)
    await host.load_room()
    assert host.phase == "setup" and host.description == "Secret roadmap" and host.is_owner is True
    guest = _room_for(bob, form.created_id)
    await guest.load_room()
    assert guest.phase == "not_started" and guest.starts_at_iso  # allowed in, just early


async def test_join_checks_the_invite_again_and_only_invitees_become_members(ada, bob, provider_name):
    from yoom.accounts import video_user
    from yoom.video.base import CallKind

    dave = signed_up("Dave Cutler", "dave", "windows nt 3.1")
    meeting = await get_provider().create_call(
        video_user(ada.user), CallKind.INSTANT, invitees=[video_user(bob.user)], invite_only=True
    )
    invited = _room_for(bob, meeting.id)
    await invited.load_room()
    assert invited.phase == "setup"
    await invited.join_meeting()
    assert invited.phase == "in_call"

    stranger = _room_for(dave, meeting.id)
    await stranger.load_room()
    assert stranger.phase == "not_allowed"
    stranger.phase = "setup"  # a stale or tampered page asks to join anyway
    stranger.room_id = meeting.id
    await stranger.join_meeting()
    assert stranger.phase == "not_allowed"
    assert dave.user.id not in (await get_provider().get_call(meeting.id)).members


async def test_an_invite_list_without_invite_only_keeps_the_link_open(ada, bob, provider_name):
    dave = signed_up("Dave Cutler", "dave", "windows nt 3.1")
    form = await _schedule_form(ada, "bob", invite_only=False)
    await run(form.schedule_meeting())
    assert form.schedule_error == "" and form.created_invite_only is False and form.created_invited_count == 1
    assert await _upcoming_ids(bob) == [form.created_id]  # invited people always see it
    assert await _upcoming_ids(dave) == []
    anyone = _room_for(dave, form.created_id)
    await anyone.load_room()
    assert anyone.phase == "not_started"  # not refused: anyone with the link may come in at the time


# --- shared recordings, attendance on the page, deleting ------------------------------------------


async def test_share_recordings_is_a_choice_of_invite_only_meetings(ada, bob, provider_name):
    form = await _schedule_form(ada, "bob", invite_only=True)
    await form.set_schedule_share_recordings(True)
    await run(form.schedule_meeting())
    assert form.schedule_error == "" and form.created_share_recordings is True
    assert form.schedule_share_recordings is False  # the form is fresh again
    assert (await get_provider().get_call(form.created_id)).share_recordings is True
    # Switched on, then invite-only switched off: an open link can't share recordings with "invitees".
    open_form = await _schedule_form(ada, "bob", invite_only=False)
    await open_form.set_schedule_share_recordings(True)
    await run(open_form.schedule_meeting())
    assert open_form.schedule_error == "" and open_form.created_share_recordings is False
    assert (await get_provider().get_call(open_form.created_id)).share_recordings is False
    # By default nothing is shared.
    default_form = await _schedule_form(ada, "bob", invite_only=True)
    await run(default_form.schedule_meeting())
    assert (await get_provider().get_call(default_form.created_id)).share_recordings is False


def _add_recording(provider_name, request, meeting, host, start, end, name):
    if provider_name == "stream":
        request.node.fake.add_recording(meeting.id, name, start_time=start, end_time=end, call_type=meeting.call_type)
        return
    from yoom.db import session_scope
    from yoom.models import LocalRecording

    with session_scope() as db:
        db.add(
            LocalRecording(
                id=uuid.uuid4().hex,
                call_id=meeting.id,
                created_by=host.id,
                filename=name,
                stored_name=f"{uuid.uuid4().hex}.webm",
                content_type="video/webm",
                size_bytes=10,
                start_time=start,
                end_time=end,
                created_at=end,
            )
        )


async def _recording_titles(signed_in) -> list[str]:
    listing = state_for(RecordingsState, signed_in)
    await run(listing.load_recordings())
    assert listing.error == ""
    return sorted(r["title"] for r in listing.recordings)


async def test_on_stream_joining_from_the_page_is_what_shows_a_recording(ada, bob, provider_name, request):
    if provider_name != "stream":
        pytest.skip("the embedded provider's attendance is written by its signaling (test_rtc_route)")
    from yoom.accounts import video_user
    from yoom.video.base import CallKind

    meeting = await get_provider().create_call(video_user(ada.user), CallKind.INSTANT)
    room = _room_for(bob, meeting.id)
    await room.load_room()
    await room.join_meeting()
    assert room.phase == "in_call"
    assert bob.user.id not in (await get_provider().get_call(meeting.id)).members  # no member for joining
    assert [c["id"] for c in await _previous_items(bob)] == [meeting.id]  # listed from attendance
    now = datetime.now(UTC)
    _add_recording(
        provider_name, request, meeting, ada.user, now - timedelta(hours=2), now - timedelta(hours=1), "before.mp4"
    )
    _add_recording(provider_name, request, meeting, ada.user, now - timedelta(seconds=1), now, "while.mp4")
    await room.on_left()
    later = datetime.now(UTC) + timedelta(seconds=1)
    _add_recording(provider_name, request, meeting, ada.user, later, later + timedelta(minutes=5), "after.mp4")
    assert await _recording_titles(bob) == ["while.mp4"]
    assert await _recording_titles(ada) == ["after.mp4", "before.mp4", "while.mp4"]


async def _previous_items(signed_in):
    lists = state_for(CallListState, signed_in)
    await run(lists.load_previous())
    return lists.items


async def test_invitees_of_a_shared_meeting_see_its_recordings_others_do_not(ada, bob, provider_name, request):
    carol = signed_up("Carol Shaw", "carol", "river raid 1982")
    form = await _schedule_form(ada, "bob, carol", invite_only=True)
    await form.set_schedule_share_recordings(True)
    await run(form.schedule_meeting())
    shared = await get_provider().get_call(form.created_id)
    private_form = await _schedule_form(ada, "bob", invite_only=True, description="Private")
    await run(private_form.schedule_meeting())
    private = await get_provider().get_call(private_form.created_id)
    start = datetime.now(UTC) - timedelta(hours=1)
    for meeting, name in ((shared, "shared.mp4"), (private, "private.mp4")):
        _add_recording(provider_name, request, meeting, ada.user, start, start + timedelta(minutes=5), name)
    if provider_name == "stream":  # recordings list from previous meetings: make these started
        for meeting in (shared, private):
            request.node.fake.set_call_times(meeting.id, call_type="yoom_invite_only", starts_at=start)
    else:
        from yoom.db import session_scope
        from yoom.models import LocalCall

        with session_scope() as db:
            for meeting in (shared, private):
                row = db.get(LocalCall, meeting.id)
                row.starts_at = start
                db.add(row)
    assert await _recording_titles(bob) == ["shared.mp4"]
    assert await _recording_titles(carol) == ["shared.mp4"]
    assert await _recording_titles(ada) == ["private.mp4", "shared.mp4"]
    dave = signed_up("Dave Cutler", "dave", "windows nt 3.1")
    assert await _recording_titles(dave) == []


async def test_the_host_deletes_a_recording_after_confirming(ada, bob, provider_name, request, yoom_env):
    from yoom import attendance
    from yoom.accounts import video_user
    from yoom.video.base import CallKind

    meeting = await get_provider().create_call(video_user(ada.user), CallKind.INSTANT)
    start = datetime.now(UTC) - timedelta(minutes=30)
    _add_recording(provider_name, request, meeting, ada.user, start, start + timedelta(minutes=5), "standup.webm")
    attendance.open_stay(meeting.id, bob.user.id, attendance.SOURCE_PAGE, at=start)
    host = state_for(RecordingsState, ada)
    await run(host.load_recordings())
    guest = state_for(RecordingsState, bob)
    await run(guest.load_recordings())
    [shown] = guest.recordings
    assert shown["can_delete"] == ""  # bob may watch it (he was there), not delete it
    await guest.ask_delete(shown["id"])
    assert guest.confirm_delete_id == ""
    [mine] = host.recordings
    if provider_name == "stream":
        assert mine["can_delete"] == ""  # Stream keeps its own recordings
        return
    assert mine["can_delete"] == "yes"
    guest.confirm_delete_id = mine["id"]  # a tampered page asks anyway: the provider refuses
    events = await run(guest.confirm_delete())
    assert "Only the meeting's host" in str(events) and len(await _recording_titles(ada)) == 1

    await host.ask_delete(mine["id"])
    assert host.confirm_delete_id == mine["id"] and host.confirm_delete_title == "standup.webm"
    await host.on_confirm_delete_change(False)  # Cancel
    assert host.confirm_delete_id == "" and len(await _recording_titles(ada)) == 1
    await host.ask_delete(mine["id"])
    events = await run(host.confirm_delete())
    assert "Recording deleted" in str(events)
    assert host.recordings == [] and host.confirm_delete_id == ""
    assert await _recording_titles(ada) == [] and await _recording_titles(bob) == []


async def test_the_host_removes_someone_and_their_page_says_so(ada, bob, provider_name):
    from yoom.accounts import video_user
    from yoom.video.base import CallKind

    meeting = await get_provider().create_call(video_user(ada.user), CallKind.INSTANT)
    guest = _room_for(bob, meeting.id)
    await guest.load_room()
    assert guest.phase == "setup"
    # Only the host may remove; the guest trying gets told so, and nothing changes.
    assert "Only the host" in str(await guest.remove_participant(ada.user.id))
    host = _room_for(ada, meeting.id)
    await host.load_room()
    assert "Removed" in str(await host.remove_participant(bob.user.id))
    assert "can't remove yourself" in str(await host.remove_participant(ada.user.id))
    await guest.load_room()
    assert guest.phase == "removed"
    await guest.join_meeting()
    assert guest.phase == "removed"
    await host.load_room()
    assert host.phase == "setup"  # the host is never removed
    assert await get_provider().readmit(meeting.id, ada.user.id, bob.user.id) is True
    await guest.load_room()
    assert guest.phase == "setup"


async def test_a_handler_called_with_arguments_it_doesnt_take_does_nothing(ada, bob, provider_name):
    """Only a hand-made event sends these (found by fuzzing the event socket): ignored, nobody is looked
    up, and the signed-in user can't be swapped for another through the payload."""
    form = state_for(MeetingFormState, ada)
    await run(form.set_join_input(value="abc"))
    assert form.join_input == "abc"
    for kwargs in ({}, {"value": "x", "user": bob.user}, {"value": "x", "_user": bob.user}, {"value": "x", "n": 1}):
        assert await run(form.set_join_input(**kwargs)) is None
    assert form.join_input == "abc"
    assert await run(form.start_instant_meeting(user=bob.user)) == []
    assert (await get_provider().upcoming_calls(bob.user.id)).items == []
