"""POST /api/video/token: the Yoom session decides whose token it is, and nothing else does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlmodel import SQLModel, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

import yoom.api.video_token as video_token
import yoom.db
import yoom.settings
import yoom.video
import yoom.video.base
import yoom.video.stream_provider
from tests.conftest import signed_up
from yoom import accounts
from yoom.models import AuthSession, User
from yoom.settings import SettingsError
from yoom.video import tokens
from yoom.video.turn import turn_credentials

ICE = '[{"urls": "stun:stun.example.org:3478"}]'
TTL = 900


@pytest.fixture
def env(fake, tmp_path, monkeypatch):
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/yoom.db",
        "YOOM_DATA_DIR": str(tmp_path),
        "VIDEO_PROVIDER": "stream",
        "STREAM_API_KEY": fake.api_key,
        "STREAM_API_SECRET": fake.api_secret,
        "STREAM_BASE_URL": fake.base_url,
        "STREAM_TIMEOUT_SECONDS": "0.5",
        "STREAM_MAX_RETRIES": "1",
        "VIDEO_TOKEN_TTL_SECONDS": str(TTL),
        "YOOM_ICE_SERVERS": ICE,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    # Cheap password hashing keeps sign-ups fast here (hashing strength is not what these tests check).
    real_gensalt = accounts.bcrypt.gensalt
    monkeypatch.setattr(accounts.bcrypt, "gensalt", lambda *a, **k: real_gensalt(rounds=4))
    _clear_caches()
    engine = yoom.db.get_engine()
    SQLModel.metadata.create_all(engine)
    yield values
    _clear_caches()
    engine.dispose()


def _clear_caches():
    yoom.settings.get_settings.cache_clear()
    yoom.db.get_engine.cache_clear()
    yoom.video.get_provider.cache_clear()


@pytest.fixture
def client(env):
    app = Starlette(routes=video_token.routes)
    with TestClient(app) as test_client:
        yield test_client
        # The provider (one per process) lives on this client's event loop: close it there.
        if yoom.video.get_provider.cache_info().currsize:
            test_client.portal.call(yoom.video.get_provider().close)


def cookie(session_token: str) -> dict:
    return {"Cookie": f"yoom_session={session_token}"}


def claims_of(body: dict, secret: str) -> dict:
    return jwt.decode(body["token"], secret, algorithms=["HS256"])


def test_anonymous_gets_401_and_no_token(client, fake):
    for headers in ({}, cookie("not-a-session"), {"Authorization": "Bearer nonsense"}):
        response = client.post("/api/video/token", headers=headers)
        assert response.status_code == 401
        assert response.json().keys() == {"error"}
        assert response.headers["cache-control"] == "no-store"
    assert fake.requests == []  # nothing reached Stream


def test_signed_in_user_gets_their_own_token(client, fake):
    signed = signed_up("Ada Lovelace", "ada", "correct horse battery")
    before = datetime.now(UTC)
    response = client.post("/api/video/token", headers=cookie(signed.session_token))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["api_key"] == fake.api_key
    assert body["provider"] == "stream"
    assert body["user"] == {"id": signed.user.id, "name": "Ada Lovelace", "image": None}
    assert "ice_servers" not in body
    claims = claims_of(body, fake.api_secret)
    assert claims["user_id"] == signed.user.id
    assert set(claims) == {"user_id", "iat", "exp"}
    assert claims["exp"] - claims["iat"] == TTL + tokens.CLOCK_SKEW_SECONDS
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert expires_at.tzinfo is not None
    assert abs((expires_at - before).total_seconds() - TTL) < 5
    assert claims["exp"] == int(expires_at.timestamp())
    assert jwt.get_unverified_header(body["token"])["alg"] == "HS256"


def test_bearer_session_works_too(client, fake):
    signed = signed_up("Grace Hopper", "grace", "correct horse battery")
    response = client.post("/api/video/token", headers={"Authorization": f"Bearer {signed.session_token}"})
    assert response.status_code == 200
    assert claims_of(response.json(), fake.api_secret)["user_id"] == signed.user.id


def test_nothing_in_the_request_can_choose_another_user(client, fake):
    ada = signed_up("Ada", "ada", "correct horse battery")
    bob = signed_up("Bob", "bob", "correct horse battery")
    attempts = [
        {"json": {"user_id": bob.user.id}},
        {"json": {"user": {"id": bob.user.id}, "userId": bob.user.id}},
        {"params": {"user_id": bob.user.id}},
        {"headers": {"X-User-Id": bob.user.id, "X-Stream-User": bob.user.id}},
        {"data": {"user_id": bob.user.id}},
    ]
    for extra in attempts:
        headers = {**cookie(ada.session_token), **extra.pop("headers", {})}
        response = client.post("/api/video/token", headers=headers, **extra)
        assert response.status_code == 200
        body = response.json()
        assert claims_of(body, fake.api_secret)["user_id"] == ada.user.id
        assert body["user"]["id"] == ada.user.id
    # and each session gets exactly its own user
    response = client.post("/api/video/token", headers=cookie(bob.session_token), json={"user_id": ada.user.id})
    assert claims_of(response.json(), fake.api_secret)["user_id"] == bob.user.id


def test_expired_session_gets_401(client):
    signed = signed_up("Ada", "ada", "correct horse battery")
    with yoom.db.session_scope() as db:
        for row in db.exec(select(AuthSession).where(AuthSession.user_id == signed.user.id)).all():
            row.expires_at = yoom.db.to_db(datetime.now(UTC) - timedelta(seconds=1))
            db.add(row)
    response = client.post("/api/video/token", headers=cookie(signed.session_token))
    assert response.status_code == 401
    assert "token" not in response.json()


def test_signed_out_session_gets_401(client):
    signed = signed_up("Ada", "ada", "correct horse battery")
    assert client.post("/api/video/token", headers=cookie(signed.session_token)).status_code == 200
    accounts.sign_out(signed.session_token)
    assert client.post("/api/video/token", headers=cookie(signed.session_token)).status_code == 401


def test_a_fresh_token_is_reused_briefly_and_only_for_its_user(client, fake, monkeypatch):
    ada = signed_up("Ada", "ada", "correct horse battery")
    bob = signed_up("Bob", "bob", "correct horse battery")
    first = client.post("/api/video/token", headers=cookie(ada.session_token)).json()
    again = client.post("/api/video/token", headers=cookie(ada.session_token)).json()
    assert again["token"] == first["token"] and again["expires_at"] == first["expires_at"]
    other = client.post("/api/video/token", headers=cookie(bob.session_token)).json()
    assert claims_of(other, fake.api_secret)["user_id"] == bob.user.id
    monkeypatch.setattr(yoom.video.base, "TOKEN_REUSE_SECONDS", 0.0)
    later = client.post("/api/video/token", headers=cookie(ada.session_token)).json()
    assert claims_of(later, fake.api_secret)["user_id"] == ada.user.id
    assert claims_of(later, fake.api_secret)["exp"] >= claims_of(first, fake.api_secret)["exp"]
    assert later["expires_at"] != first["expires_at"]  # minted anew


def test_only_post_is_served(client):
    signed = signed_up("Ada", "ada", "correct horse battery")
    assert client.get("/api/video/token", headers=cookie(signed.session_token)).status_code == 405


def test_user_is_upserted_once_per_name_and_image(client, fake):
    signed = signed_up("Ada", "ada", "correct horse battery")
    for _ in range(3):
        assert client.post("/api/video/token", headers=cookie(signed.session_token)).status_code == 200
    upserts = fake.requests_to("POST", "^/api/v2/users$")
    assert len(upserts) == 1
    assert upserts[0].body["users"][signed.user.id]["name"] == "Ada"
    assert fake.user(signed.user.id)["name"] == "Ada"

    with yoom.db.session_scope() as db:
        user = db.get(User, signed.user.id)
        user.display_name, user.image_url = "Ada King", "https://img.example/ada.png"
        db.add(user)
    for _ in range(2):
        body = client.post("/api/video/token", headers=cookie(signed.session_token)).json()
    assert body["user"] == {"id": signed.user.id, "name": "Ada King", "image": "https://img.example/ada.png"}
    assert len(fake.requests_to("POST", "^/api/v2/users$")) == 2
    stored = fake.user(signed.user.id)
    assert (stored["name"], stored["image"]) == ("Ada King", "https://img.example/ada.png")


def test_a_failed_upsert_does_not_block_the_token_and_is_tried_again_later(client, fake, monkeypatch):
    signed = signed_up("Ada", "ada", "correct horse battery")
    fake.inject(503, None, path="^/api/v2/users$")
    response = client.post("/api/video/token", headers=cookie(signed.session_token))
    assert response.status_code == 200
    assert claims_of(response.json(), fake.api_secret)["user_id"] == signed.user.id
    assert fake.user(signed.user.id) is None
    attempts = len(fake.requests_to("POST", "^/api/v2/users$"))
    assert attempts == 2  # STREAM_MAX_RETRIES=1
    fake.clear_faults()
    # Within the pause after a failure, token requests do not ask Stream again...
    assert client.post("/api/video/token", headers=cookie(signed.session_token)).status_code == 200
    assert len(fake.requests_to("POST", "^/api/v2/users$")) == attempts
    # ...after it, the next one does.
    monkeypatch.setattr(yoom.video.stream_provider, "RETRY_FAILED_UPSERT_AFTER_SECONDS", 0.0)
    assert client.post("/api/video/token", headers=cookie(signed.session_token)).status_code == 200
    assert fake.user(signed.user.id)["name"] == "Ada"


def test_local_provider_answers_include_ice_servers_and_the_upload_limit(client, monkeypatch):
    monkeypatch.setenv("VIDEO_PROVIDER", "local")
    monkeypatch.setenv("YOOM_RECORDING_MAX_MB", "42")
    yoom.settings.get_settings.cache_clear()
    yoom.video.get_provider.cache_clear()
    signed = signed_up("Ada", "ada", "correct horse battery")
    response = client.post("/api/video/token", headers=cookie(signed.session_token))
    assert response.status_code == 200
    body = response.json()
    assert body["provider"] == "local"
    assert body["api_key"] == yoom.video.get_provider().api_key
    assert body["ice_servers"] == [{"urls": "stun:stun.example.org:3478"}]
    assert body["recording_max_bytes"] == 42 * 1024 * 1024
    assert body["user"] == {"id": signed.user.id, "name": "Ada", "image": None}
    secret = yoom.settings.get_settings().local_video_secret
    claims = tokens.verify(secret, body["token"])
    assert claims["user_id"] == signed.user.id
    assert claims["sid"] == accounts.session_id(signed.session_token)  # the socket checks it's still signed in


def test_misconfigured_video_is_a_clear_503(client, monkeypatch):
    def broken():
        raise SettingsError("VIDEO_PROVIDER is 'stream' but STREAM_API_SECRET is not set.")

    monkeypatch.setattr(video_token, "get_provider", broken)
    signed = signed_up("Ada", "ada", "correct horse battery")
    response = client.post("/api/video/token", headers=cookie(signed.session_token))
    assert response.status_code == 503
    assert "STREAM_API_SECRET" in response.json()["error"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost:3001"},  # another port of the same host is another origin
        {"Origin": "null"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain, with no Origin header
        {"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/page"},
    ],
)
def test_a_page_on_another_origin_cannot_get_the_token_with_the_cookie(client, fake, headers):
    signed = signed_up("Ada", "ada", "correct horse battery")
    response = client.post("/api/video/token", headers={**cookie(signed.session_token), **headers})
    assert response.status_code == 403
    assert "token" not in response.json()
    assert "access-control-allow-origin" not in response.headers


def test_yoom_pages_get_the_token(client, fake, monkeypatch):
    signed = signed_up("Ada", "ada", "correct horse battery")
    own = client.post("/api/video/token", headers={**cookie(signed.session_token), "Origin": "http://testserver"})
    assert own.status_code == 200
    dev = client.post("/api/video/token", headers={**cookie(signed.session_token), "Origin": "http://localhost:3000"})
    assert dev.status_code == 200  # `make dev` serves the pages from :3000
    monkeypatch.setenv("YOOM_PUBLIC_URL", "https://meet.example.org")
    yoom.settings.get_settings.cache_clear()
    public = client.post(
        "/api/video/token", headers={**cookie(signed.session_token), "Origin": "https://meet.example.org"}
    )
    assert public.status_code == 200
    gone = client.post("/api/video/token", headers={**cookie(signed.session_token), "Origin": "http://localhost:3000"})
    assert gone.status_code == 403  # with a public address, only it


def test_a_bearer_token_needs_no_origin(client, fake):
    signed = signed_up("Ada", "ada", "correct horse battery")
    headers = {"Authorization": f"Bearer {signed.session_token}", "Origin": "https://tool.example"}
    assert client.post("/api/video/token", headers=headers).status_code == 200


def test_local_provider_hands_each_person_short_lived_turn_credentials_expiring_with_the_token(client, monkeypatch):
    turn_secret = "coturn-static-auth-secret-for-tests"
    monkeypatch.setenv("VIDEO_PROVIDER", "local")
    monkeypatch.setenv("YOOM_TURN_URLS", "turn:127.0.0.1:3478?transport=udp")
    monkeypatch.setenv("YOOM_TURN_SECRET", turn_secret)
    monkeypatch.setenv("YOOM_ICE_TRANSPORT_POLICY", "relay")
    yoom.settings.get_settings.cache_clear()
    yoom.video.get_provider.cache_clear()
    ada = signed_up("Ada", "ada", "correct horse battery")
    bob = signed_up("Bob", "bob", "correct horse battery")
    answers = [client.post("/api/video/token", headers=cookie(person.session_token)).json() for person in (ada, bob)]
    for person, body in zip((ada, bob), answers, strict=True):
        stun, turn = body["ice_servers"]
        assert stun == {"urls": "stun:stun.example.org:3478"}
        assert turn["urls"] == ["turn:127.0.0.1:3478?transport=udp"]
        expiry = int(datetime.fromisoformat(body["expires_at"]).timestamp())
        assert turn["username"] == f"{expiry}:{person.user.id}"
        assert expiry == tokens.verify(yoom.settings.get_settings().local_video_secret, body["token"])["exp"]
        assert turn["credential"] == turn_credentials(turn_secret, person.user.id, expiry).credential
        assert body["ice_transport_policy"] == "relay"
        assert turn_secret not in json.dumps(body)
    assert answers[0]["ice_servers"][1]["credential"] != answers[1]["ice_servers"][1]["credential"]
