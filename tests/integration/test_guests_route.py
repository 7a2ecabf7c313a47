"""Guests and the lobby at Yoom's routes, on both providers (Stream through tests/fakestream): POST /api/guests,
the token route (`call_id` in the body) and the room channel's admission."""

from __future__ import annotations

import json

import jwt
import pytest
from sqlmodel import SQLModel, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

import yoom.db
import yoom.settings
import yoom.video
from tests.conftest import signed_up
from tests.integration.local_helpers import expect, expect_close, open_socket, run
from yoom import accounts, admission, guests, moderation
from yoom.access_rules import Access, WhoMayJoin
from yoom.models import Guest
from yoom.rtc.hub import set_hub
from yoom.video.base import CallKind

EVIL = {"Origin": "https://evil.example"}


@pytest.fixture(params=["local", "stream"])
def env(request, fake, tmp_path, monkeypatch):
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/yoom.db",
        "YOOM_DATA_DIR": str(tmp_path),
        "VIDEO_PROVIDER": request.param,
        "STREAM_API_KEY": fake.api_key,
        "STREAM_API_SECRET": fake.api_secret,
        "STREAM_BASE_URL": fake.base_url,
        "STREAM_TIMEOUT_SECONDS": "0.5",
        "STREAM_MAX_RETRIES": "1",
    }
    for name in ("YOOM_TRUSTED_PROXY_HOPS", "YOOM_PUBLIC_URL", "YOOM_ROOM_CAPACITY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    real_gensalt = accounts.bcrypt.gensalt
    monkeypatch.setattr(accounts.bcrypt, "gensalt", lambda *a, **k: real_gensalt(rounds=4))
    _clear()
    SQLModel.metadata.create_all(yoom.db.get_engine())
    set_hub(None)
    yield request.param
    set_hub(None)
    _clear()


def _clear():
    yoom.settings.get_settings.cache_clear()
    yoom.db.get_engine.cache_clear()
    yoom.video.get_provider.cache_clear()


@pytest.fixture
def client(env):
    from yoom.api import guests as guests_route
    from yoom.api import recordings, rtc, video_token

    app = Starlette(routes=[*guests_route.routes, *video_token.routes, *rtc.routes, *recordings.routes])
    with TestClient(app) as made:
        yield made
        if yoom.video.get_provider.cache_info().currsize:
            made.portal.call(yoom.video.get_provider().close)


@pytest.fixture
def host():
    return signed_up("Hana Host", "hana")


def new_meeting(client, host, access: Access | None = None, kind=CallKind.INSTANT):
    provider = yoom.video.get_provider()
    meeting = run(client, provider.create_call, accounts.video_user(host.user), kind)
    if access is not None:
        admission.set_access(meeting.id, access, host.user.id)
    return meeting


def join_as_guest(client, call_id: str, name: str = "Ada", **headers):
    return client.post("/api/guests", json={"call_id": call_id, "name": name}, headers=headers)


def guest_token(client, call_id, cookie: str | None = None):
    headers = {"Cookie": f"yoom_guest={cookie}"} if cookie else {}
    return client.post("/api/video/token", content=json.dumps({"call_id": call_id}), headers=headers)


def stored_guests() -> list[Guest]:
    with yoom.db.session_scope() as db:
        return list(db.exec(select(Guest)).all())


def test_a_guest_gets_a_short_token_for_that_one_call(client, host, fake, env):
    meeting = new_meeting(client, host, Access(WhoMayJoin.ANYONE, False))
    other = new_meeting(client, host, Access(WhoMayJoin.ANYONE, False))
    made = join_as_guest(client, meeting.id, "  Ada   Lovelace ")
    assert made.status_code == 201, made.text
    set_cookie = made.headers["set-cookie"]
    assert "yoom_guest=" in set_cookie and "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    pass_ = client.cookies.get("yoom_guest")
    client.cookies.clear()

    answer = guest_token(client, meeting.id, pass_)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["guest"] is True and body["user"]["name"] == "Ada Lovelace (guest)"
    secret = fake.api_secret if env == "stream" else yoom.settings.get_settings().local_video_secret
    claims = jwt.decode(body["token"], secret, algorithms=["HS256"])
    assert claims["user_id"] == body["user"]["id"] and claims["call_cids"] == [meeting.cid]
    assert claims["exp"] - claims["iat"] <= guests.GUEST_TOKEN_TTL_SECONDS + 60  # short-lived
    if env == "stream":
        assert fake.user(body["user"]["id"])["role"] == "guest"  # a guest user at Stream
        # What Stream lets the guest do with it: this call, not the other one.
        guest_id, cids = body["user"]["id"], claims["call_cids"]
        assert "join-call" in fake.capabilities(meeting.call_type, meeting.id, guest_id, cids)
        assert "join-call" not in fake.capabilities(other.call_type, other.id, guest_id, cids)

    # Another meeting, or none named: no token.
    wrong = guest_token(client, other.id, pass_)
    assert wrong.status_code == 403 and "another meeting" in wrong.json()["error"]
    nameless = client.post("/api/video/token", headers={"Cookie": f"yoom_guest={pass_}"})
    assert nameless.status_code == 403

    # The room token opens the room channel of this call only.
    with open_socket(client, meeting.id, body["room_token"]) as ws:
        assert expect(ws, "welcome")["user"]["name"] == "Ada Lovelace (guest)"
    with open_socket(client, other.id, body["room_token"]) as ws:
        code, frames = expect_close(ws)
        assert code == 4401 and "different meeting" in frames[0]["message"]


def test_a_guest_calling_member_only_routes_is_refused(client, host):
    meeting = new_meeting(client, host, Access(WhoMayJoin.ANYONE, False))
    assert join_as_guest(client, meeting.id).status_code == 201
    # The guest cookie is no session: recordings and their listing ask for an account.
    assert client.get("/api/recordings/anything").status_code in (401, 404)
    upload = client.post(f"/api/recordings?call_id={meeting.id}", content=b"\x1a\x45\xdf\xa3")
    assert upload.status_code == 401


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [("x" * 10_000, 400, "40 characters"), ("\x07bell", 400, "control"), ("", 400, "Type your name")],
)
def test_hostile_names_are_refused_and_nothing_is_stored(client, host, name, status, words):
    meeting = new_meeting(client, host, Access(WhoMayJoin.ANYONE, False))
    answer = join_as_guest(client, meeting.id, name)
    assert answer.status_code == status and words in answer.json()["error"]
    assert stored_guests() == [] and "yoom_guest" not in client.cookies


def test_guests_only_where_the_host_lets_them_from_yooms_pages_and_not_too_many(client, host):
    closed = new_meeting(client, host)  # the default: signed-in people only
    refused = join_as_guest(client, closed.id)
    assert refused.status_code == 403 and "Sign in" in refused.json()["error"]
    assert join_as_guest(client, "not a call id!").status_code == 400
    assert join_as_guest(client, "c0ffee00-0000-4000-8000-00000000dead").status_code == 404
    open_ = new_meeting(client, host, Access(WhoMayJoin.ANYONE, False))
    assert join_as_guest(client, open_.id, **EVIL).status_code == 403
    assert stored_guests() == []
    for n in range(guests.GUESTS_PER_HOUR):
        assert join_as_guest(client, open_.id, f"Guest {n}").status_code == 201
    flood = join_as_guest(client, open_.id, "One more")
    assert flood.status_code == 429 and "Too many guests" in flood.json()["error"]
    assert len(stored_guests()) == guests.GUESTS_PER_HOUR


def test_the_lobby_holds_the_token_and_the_room_channel_until_admitted(client, host):
    meeting = new_meeting(client, host, Access(WhoMayJoin.SIGNED_IN, True))
    bob = signed_up("Bob", "bob")
    cookie = {"Cookie": f"yoom_session={bob.session_token}"}

    def token():
        return client.post("/api/video/token", content=json.dumps({"call_id": meeting.id}), headers=cookie)

    waiting = token()
    assert waiting.status_code == 403 and "hasn't let you in" in waiting.json()["error"]
    # A token minted without naming the call still meets the lobby at the room channel.
    plain = client.post("/api/video/token", headers=cookie).json()
    with open_socket(client, meeting.id, plain["room_token"]) as ws:
        assert expect_close(ws)[0] == 4423
    # The host gets in at once.
    host_cookie = {"Cookie": f"yoom_session={host.session_token}"}
    assert client.post("/api/video/token", content=json.dumps({"call_id": meeting.id}), headers=host_cookie).is_success

    admission.knock(meeting.id, bob.user.id, "Bob", is_guest=False)
    assert token().status_code == 403
    admission.decide(meeting.id, bob.user.id, True, host.user.id)
    assert token().status_code == 200
    with open_socket(client, meeting.id, plain["room_token"]) as ws:
        expect(ws, "welcome")

    # Removed: no token until let back in.
    moderation.remove(meeting.id, bob.user.id, host.user.id)
    removed = token()
    assert removed.status_code == 403 and "removed you" in removed.json()["error"]

    carol = signed_up("Carol", "carol")
    admission.knock(meeting.id, carol.user.id, "Carol", is_guest=False)
    admission.decide(meeting.id, carol.user.id, False, host.user.id)
    denied = client.post(
        "/api/video/token",
        content=json.dumps({"call_id": meeting.id}),
        headers={"Cookie": f"yoom_session={carol.session_token}"},
    )
    assert denied.status_code == 403 and "didn't let you in" in denied.json()["error"]
    bad = client.post("/api/video/token", content=json.dumps({"call_id": "../etc"}), headers=cookie)
    assert bad.status_code == 400


@pytest.mark.parametrize("env", ["stream"], indirect=True)
def test_on_stream_a_knockers_tokens_open_the_call_at_stream_only_once_let_in(client, host, fake, env):
    """Stream can't ask Yoom who is in the lobby: it must refuse a knocker by itself, whatever token they
    hold, until Yoom's token route hands them a call token for the meeting."""
    from yoom.video.stream_provider import CALL_TOKEN_TTL_SECONDS

    meeting = new_meeting(client, host, Access(WhoMayJoin.SIGNED_IN, True))
    bob = signed_up("Bob", "bob")
    cookie = {"Cookie": f"yoom_session={bob.session_token}"}

    def at_stream(answer) -> set[str]:
        """What Stream lets the holder of this token-route answer do in the meeting."""
        claims = jwt.decode(answer.json()["token"], fake.api_secret, algorithms=["HS256"])
        return fake.capabilities(meeting.call_type, meeting.id, claims["user_id"], claims.get("call_cids", ()))

    def token(headers=cookie):
        return client.post("/api/video/token", content=json.dumps({"call_id": meeting.id}), headers=headers)

    # Bob's token naming no meeting reaches Stream directly: Stream refuses him the call, even its details.
    plain = client.post("/api/video/token", headers=cookie)
    assert plain.status_code == 200
    assert not {"read-call", "join-call"} & at_stream(plain)
    admission.knock(meeting.id, bob.user.id, "Bob", is_guest=False)
    assert token().status_code == 403

    admission.decide(meeting.id, bob.user.id, True, host.user.id)
    let_in = token()
    assert let_in.status_code == 200
    claims = jwt.decode(let_in.json()["token"], fake.api_secret, algorithms=["HS256"])
    assert claims["call_cids"] == [meeting.cid] and claims["exp"] - claims["iat"] <= CALL_TOKEN_TTL_SECONDS + 60
    assert {"read-call", "join-call", "send-audio", "send-video"} <= at_stream(let_in)
    assert "end-call" not in at_stream(let_in)  # a participant's token, not the host's powers
    host_answer = token({"Cookie": f"yoom_session={host.session_token}"})
    assert {"join-call", "end-call", "mute-users"} <= at_stream(host_answer)

    # Removed: Stream blocks him, so even the call token he still holds opens nothing there.
    run(client, yoom.video.get_provider().remove_participant, meeting.id, host.user.id, bob.user.id)
    assert at_stream(let_in) == set()
    assert token().status_code == 403
