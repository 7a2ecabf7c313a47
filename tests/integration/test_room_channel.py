"""The room channel through the real routes: chat, history and hands on the embedded provider, and the same
socket admitting Stream meetings (against tests/fakestream) with a room token from the token route."""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial

import pytest
from sqlmodel import SQLModel
from starlette.applications import Starlette
from starlette.testclient import TestClient

import yoom.db
import yoom.settings
import yoom.video
from tests.conftest import signed_up
from tests.integration.local_helpers import expect, expect_close, make_user, open_socket, provider, recv, run, token_for
from yoom import accounts, chat, moderation
from yoom.accounts import video_user
from yoom.rtc.hub import Hub, set_hub
from yoom.rtc.room import RoomFeatures
from yoom.video.base import CallKind


def next_of(ws, kind: str) -> dict:
    """The next frame of `kind`, skipping others (peer-joined, media …)."""
    for _ in range(20):
        frame = recv(ws)
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


# --- embedded provider ------------------------------------------------------------------------------


@pytest.fixture
def people(local_env):
    return {name: make_user(name)[0] for name in ("alice", "bob", "carol")}


@contextmanager
def inside(client, call_id, person):
    with open_socket(client, call_id, token_for(person.id)) as ws:
        yield ws, expect(ws, "welcome")


def test_chat_and_history_through_the_route(client, people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    call = run(client, provider().create_call, video_user(alice), CallKind.INSTANT)
    other = run(client, provider().create_call, video_user(carol), CallKind.INSTANT)
    with inside(client, call.id, alice) as (wa, _), inside(client, call.id, bob) as (wb, _):
        expect(wa, "peer-joined")
        wb.send_json({"type": "chat", "text": "<b>hi</b> https://example.org", "user": {"id": alice.id}})
        for ws in (wa, wb):
            message = next_of(ws, "chat")["message"]
            assert message["text"] == "<b>hi</b> https://example.org" and message["user"]["id"] == bob.id
        with inside(client, other.id, carol) as (wc, _):
            wc.send_json({"type": "chat-history"})
            assert next_of(wc, "chat-history")["messages"] == []  # another meeting's chat is not theirs
        with inside(client, call.id, carol) as (wc, _):  # a late joiner reads what was said
            wc.send_json({"type": "chat-history"})
            (old,) = next_of(wc, "chat-history")["messages"]
            assert old["text"].startswith("<b>hi</b>") and old["user"]["name"] == "Bob"


def test_a_personal_rooms_visitor_reads_only_the_current_openings_chat(client, people):
    from yoom.accounts import get_user

    alice, bob = people["alice"], people["bob"]
    room_id = get_user(alice.id).personal_room_id
    create = partial(provider().create_call, call_id=room_id)
    run(client, create, video_user(alice), CallKind.PERSONAL)
    with inside(client, room_id, alice) as (wa, _):
        wa.send_json({"type": "chat", "text": "last week's secret"})
        next_of(wa, "chat")
    run(client, provider().end_call, room_id, alice.id)
    # Reopened by its owner: a new meeting, whose visitor doesn't read the last one's chat. (A personal
    # room asks to join: the owner lets the visitor in first.)
    from yoom import admission

    admission.knock(room_id, bob.id, "bob", is_guest=False)
    admission.decide(room_id, bob.id, True, alice.id)
    with inside(client, room_id, alice), inside(client, room_id, bob) as (wb, _):
        wb.send_json({"type": "chat-history"})
        assert next_of(wb, "chat-history")["messages"] == []
    assert [m.text for m in chat.history(room_id)] == ["last week's secret"]


def test_the_host_lowers_a_hand_through_the_route(client, people):
    alice, bob = people["alice"], people["bob"]
    call = run(client, provider().create_call, video_user(alice), CallKind.INSTANT)
    with inside(client, call.id, alice) as (wa, _), inside(client, call.id, bob) as (wb, bob_welcome):
        wb.send_json({"type": "hand", "raised": True})
        assert next_of(wa, "hand")["peer_id"] == bob_welcome["peer_id"]
        assert next_of(wb, "hand")["raised"] is True  # everyone sees it, the raiser too
        wa.send_json({"type": "hand", "raised": False, "peer_id": bob_welcome["peer_id"]})
        lowered = next_of(wb, "hand")
        assert lowered["raised"] is False and lowered["peer_id"] == bob_welcome["peer_id"]


# --- Stream -------------------------------------------------------------------------------------------


@pytest.fixture
def stream_env(fake, tmp_path, monkeypatch):
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/yoom.db",
        "YOOM_DATA_DIR": str(tmp_path),
        "VIDEO_PROVIDER": "stream",
        "STREAM_API_KEY": fake.api_key,
        "STREAM_API_SECRET": fake.api_secret,
        "STREAM_BASE_URL": fake.base_url,
        "STREAM_TIMEOUT_SECONDS": "0.5",
        "STREAM_MAX_RETRIES": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    real_gensalt = accounts.bcrypt.gensalt
    monkeypatch.setattr(accounts.bcrypt, "gensalt", lambda *a, **k: real_gensalt(rounds=4))
    yoom.settings.get_settings.cache_clear()
    yoom.db.get_engine.cache_clear()
    yoom.video.get_provider.cache_clear()
    SQLModel.metadata.create_all(yoom.db.get_engine())
    hub = Hub(capacity=2)  # a mesh of two: the Stream room channel isn't bound by it
    RoomFeatures(hub).install()
    set_hub(hub)
    yield values
    set_hub(None)
    yoom.video.get_provider.cache_clear()
    yoom.db.get_engine().dispose()
    yoom.settings.get_settings.cache_clear()
    yoom.db.get_engine.cache_clear()


@pytest.fixture
def stream_client(stream_env):
    from yoom.api import rtc, video_token

    with TestClient(Starlette(routes=[*video_token.routes, *rtc.routes])) as made:
        yield made
        made.portal.call(yoom.video.get_provider().close)


def passes(client, session_token: str) -> dict:
    answer = client.post("/api/video/token", headers={"Cookie": f"yoom_session={session_token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_stream_meetings_share_the_room_channel_with_a_room_token(stream_client, fake):
    people = {name: signed_up(name.title(), name, "password one") for name in ("alice", "bob", "carol", "dan")}
    alice = people["alice"].user
    call = run(stream_client, yoom.video.get_provider().create_call, video_user(alice), CallKind.INSTANT)
    answer = passes(stream_client, people["alice"].session_token)
    assert answer["provider"] == "stream" and answer["room_token"] != answer["token"]
    # Stream's own token (signed with Stream's secret) never opens Yoom's room channel.
    with open_socket(stream_client, call.id, answer["token"]) as ws:
        assert recv(ws)["code"] == "unauthorized" and expect_close(ws)[0] == 4401
    sockets = {}
    with (
        open_socket(stream_client, call.id, answer["room_token"]) as wa,
        open_socket(stream_client, call.id, passes(stream_client, people["bob"].session_token)["room_token"]) as wb,
        open_socket(stream_client, call.id, passes(stream_client, people["carol"].session_token)["room_token"]) as wc,
    ):
        sockets = {"alice": wa, "bob": wb, "carol": wc}
        assert expect(wa, "welcome")["is_owner"] is True
        expect(wb, "welcome")
        assert len(expect(wc, "welcome")["peers"]) == 2  # three on a hub whose mesh holds two
        wc.send_json({"type": "chat", "text": "hello from Stream"})
        for ws in sockets.values():
            assert next_of(ws, "chat")["message"]["user"]["id"] == people["carol"].user.id
        wb.send_json({"type": "reaction", "emoji": "👏"})
        assert next_of(wa, "reaction")["emoji"] == "👏"
        # The host removes carol: out of the room channel at once, and the others are told.
        run(stream_client, yoom.video.get_provider().remove_participant, call.id, alice.id, people["carol"].user.id)
        assert next_of(wc, "error")["code"] == "removed" and expect_close(wc)[0] == 4430
        assert next_of(wa, "peer-left")["reason"] == "removed"
    # The meeting page's rules hold at the socket on Stream too: removed people stay out …
    moderation.remove(call.id, people["dan"].user.id, alice.id)
    dan = passes(stream_client, people["dan"].session_token)["room_token"]
    with open_socket(stream_client, call.id, dan) as ws:
        assert recv(ws)["code"] == "removed" and expect_close(ws)[0] == 4430
    # … and nobody gets into an ended meeting.
    run(stream_client, yoom.video.get_provider().end_call, call.id, alice.id)
    with open_socket(stream_client, call.id, passes(stream_client, people["bob"].session_token)["room_token"]) as ws:
        assert recv(ws)["code"] == "ended" and expect_close(ws)[0] == 4410


def test_stream_invite_only_meetings_refuse_the_uninvited_at_the_room_channel(stream_client, fake):
    alice = signed_up("Alice", "alice", "password one")
    bob = signed_up("Bob", "bob", "password one")
    eve = signed_up("Eve", "eve", "password one")
    create = partial(yoom.video.get_provider().create_call, invitees=[video_user(bob.user)], invite_only=True)
    call = run(stream_client, create, video_user(alice.user), CallKind.INSTANT)
    with open_socket(stream_client, call.id, passes(stream_client, eve.session_token)["room_token"]) as ws:
        assert recv(ws)["code"] == "forbidden" and expect_close(ws)[0] == 4403
    with open_socket(stream_client, call.id, passes(stream_client, bob.session_token)["room_token"]) as ws:
        assert expect(ws, "welcome")["user"]["id"] == bob.user.id
    # Signing out ends the room token's use too.
    token = passes(stream_client, bob.session_token)["room_token"]
    accounts.sign_out(bob.session_token)
    with open_socket(stream_client, call.id, token) as ws:
        assert recv(ws)["code"] == "unauthorized" and expect_close(ws)[0] == 4401
