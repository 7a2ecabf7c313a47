"""POST /api/auth/clerk against a fake Clerk instance (tests/fakeclerk: real HTTP, a real RSA key pair).

A valid Clerk session token becomes Yoom's session cookie for the user with the Clerk id; fresh tokens of
the same Clerk session extend it; every bad token is refused with 401, a message, no cookie and no user.
The Stream mapping end to end: the Clerk user's upsert to Stream has id = Clerk id, name = username (or the
id), image = the Clerk image URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import jwt
import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

import yoom.clerk
import yoom.settings
import yoom.video
from tests.fakeclerk import FakeClerk, clerk_id
from yoom import accounts
from yoom.api import auth, video_token
from yoom.api import clerk as clerk_route
from yoom.db import as_utc, session_scope
from yoom.models import AuthSession, User

OWN = {"Origin": "http://testserver"}
ROUTE = "/api/auth/clerk"


@pytest.fixture
def clerk():
    with FakeClerk() as fake:
        yield fake


def use_settings(monkeypatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yoom.settings.get_settings.cache_clear()
    yoom.clerk.get_clerk.cache_clear()
    yoom.video.get_provider.cache_clear()


@pytest.fixture
def clerk_env(yoom_env, clerk, monkeypatch):
    use_settings(monkeypatch, **clerk.env())
    clerk_route._profile_read_at.clear()
    yield clerk
    yoom.clerk.get_clerk.cache_clear()


@pytest.fixture
def client(clerk_env):
    app = Starlette(routes=[*auth.routes, *clerk_route.routes, *video_token.routes])
    with TestClient(app) as made:
        yield made
        if yoom.video.get_provider.cache_info().currsize:
            made.portal.call(yoom.video.get_provider().close)


def post_token(client: TestClient, token: object, headers: dict | None = None, cookie: str | None = None):
    cookies = {"yoom_session": cookie} if cookie else None
    return client.post(ROUTE, json={"token": token}, headers={**OWN, **(headers or {})}, cookies=cookies)


def users() -> list[User]:
    with session_scope() as db:
        return db.exec(select(User)).all()


def sessions() -> list[AuthSession]:
    with session_scope() as db:
        return db.exec(select(AuthSession)).all()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict, payload: dict, signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(signature)}"


def valid_claims(clerk: FakeClerk, sub: str) -> dict:
    now = int(time.time())
    return {"azp": "http://testserver", "exp": now + 60, "iat": now, "nbf": now - 10, "iss": clerk.issuer,
            "sid": clerk_id("sess"), "sub": sub}  # fmt: skip


# ---- signing in -----------------------------------------------------------------------------------


def test_a_valid_clerk_token_signs_in_as_the_user_with_the_clerk_id(client, clerk):
    ada = clerk.add_user("ada", email="ada@example.org", image_url="https://img.clerk.com/ada.png")
    sid = clerk.start_session(ada["id"])
    response = post_token(client, clerk.mint(ada["id"], sid))
    assert response.status_code == 200, response.text
    assert response.json() == {"reload": True, "refresh_in": 100}
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith("yoom_session=") and "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    assert "Max-Age=300" in set_cookie  # CLERK_SESSION_TTL_SECONDS, not a week
    user = accounts.user_for_session(response.cookies["yoom_session"])
    assert (user.id, user.display_name, user.username) == (ada["id"], "ada", "ada")
    assert (user.image_url, user.identity_provider) == ("https://img.clerk.com/ada.png", "clerk")
    [session] = sessions()
    assert session.provider_session_id == sid
    # The Backend API was asked with the secret key: the JWKS once, the user once.
    calls = clerk.requests_to("GET", "^/v1/")
    assert [c.path for c in calls] == ["/v1/jwks", f"/v1/users/{ada['id']}"]
    assert all(c.headers["authorization"] == f"Bearer {clerk.secret_key}" for c in calls)


def test_fresh_tokens_of_the_same_clerk_session_extend_the_yoom_session(client, clerk):
    ada = clerk.add_user("ada")
    sid = clerk.start_session(ada["id"])
    first = post_token(client, clerk.mint(ada["id"], sid))
    cookie = first.cookies["yoom_session"]
    [before] = sessions()
    time.sleep(1.1)
    again = post_token(client, clerk.mint(ada["id"], sid), cookie=cookie)
    assert again.status_code == 200 and again.json() == {"reload": False, "refresh_in": 100}
    assert again.cookies["yoom_session"] == cookie  # the same session, so video tokens naming it stay good
    [after] = sessions()
    assert as_utc(after.expires_at) > as_utc(before.expires_at)
    # The profile isn't read from Clerk again at every refresh.
    assert len(clerk.requests_to("GET", "^/v1/users/")) == 1


def test_a_token_of_another_clerk_session_replaces_the_yoom_session(client, clerk):
    ada, grace = clerk.add_user("ada"), clerk.add_user("grace")
    first = post_token(client, clerk.mint(ada["id"], clerk.start_session(ada["id"])))
    old = first.cookies["yoom_session"]
    switched = post_token(client, clerk.mint(grace["id"], clerk.start_session(grace["id"])), cookie=old)
    assert switched.status_code == 200 and switched.json()["reload"] is True
    assert accounts.user_for_session(old) is None  # the old session was revoked, not left behind
    assert accounts.user_for_session(switched.cookies["yoom_session"]).id == grace["id"]
    assert len(sessions()) == 1


def test_a_profile_in_the_token_claims_needs_no_backend_api_call(client, clerk):
    user_id = clerk_id("user")
    token = clerk.mint(user_id, username="lin", image_url="https://img.clerk.com/lin.png")
    response = post_token(client, token)
    assert response.status_code == 200
    user = accounts.user_for_session(response.cookies["yoom_session"])
    assert (user.id, user.display_name, user.image_url) == (user_id, "lin", "https://img.clerk.com/lin.png")
    assert clerk.requests_to("GET", "^/v1/users/") == []


def test_a_user_without_username_is_named_by_clerk_id(client, clerk):
    anon = clerk.add_user(None, email="anon@example.org", image_url=None)
    response = post_token(client, clerk.mint(anon["id"]))
    user = accounts.user_for_session(response.cookies["yoom_session"])
    assert (user.id, user.display_name, user.username, user.image_url) == (
        anon["id"],
        anon["id"],
        "anon@example.org",
        None,
    )


def test_a_username_taken_by_a_local_account_still_signs_in(client, clerk):
    with session_scope() as db:
        db.add(User(id="local1", username="ada", display_name="Ada Local", created_at=datetime.now(UTC)))
    ada = clerk.add_user("ada")
    response = post_token(client, clerk.mint(ada["id"]))
    assert response.status_code == 200
    user = accounts.user_for_session(response.cookies["yoom_session"])
    assert user.id == ada["id"] and user.display_name == "ada" and user.username.startswith("ada-")


def test_clerk_sign_out_ends_the_yoom_session(client, clerk):
    ada = clerk.add_user("ada")
    cookie = post_token(client, clerk.mint(ada["id"])).cookies["yoom_session"]
    out = client.post("/api/auth/sign-out", headers=OWN, cookies={"yoom_session": cookie})
    assert out.status_code == 204 and 'yoom_session=""' in out.headers["set-cookie"]
    assert accounts.user_for_session(cookie) is None
    assert client.post("/api/video/token", headers=OWN, cookies={"yoom_session": cookie}).status_code == 401


def test_a_yoom_session_lapses_when_no_fresh_clerk_token_comes(client, clerk, monkeypatch):
    ada = clerk.add_user("ada")
    cookie = post_token(client, clerk.mint(ada["id"])).cookies["yoom_session"]
    later = datetime.now(UTC).timestamp() + 301
    monkeypatch.setattr(accounts, "utcnow", lambda: datetime.fromtimestamp(later, UTC))
    assert accounts.user_for_session(cookie) is None


def test_local_accounts_cannot_get_in_while_clerk_is_on(client):
    user = accounts.sign_up("Ada Local", "adalocal", "password one")
    local_session = accounts.create_session(user.id)
    answer = client.post("/api/video/token", headers=OWN, cookies={"yoom_session": local_session})
    assert answer.status_code == 401


# ---- what is refused -------------------------------------------------------------------------------


def assert_refused(response, words: str) -> None:
    assert response.status_code == 401, response.text
    assert words in response.json()["error"]
    assert "Traceback" not in response.text
    assert "set-cookie" not in response.headers
    assert users() == [] and sessions() == []


def test_refuses_an_expired_token(client, clerk):
    ada = clerk.add_user("ada")
    token = clerk.mint(ada["id"], exp=int(time.time()) - 30, iat=int(time.time()) - 90, nbf=int(time.time()) - 90)
    assert_refused(post_token(client, token), "expired")


def test_refuses_a_token_not_yet_valid(client, clerk):
    ada = clerk.add_user("ada")
    assert_refused(post_token(client, clerk.mint(ada["id"], nbf=int(time.time()) + 60)), "not valid yet")


def test_refuses_a_token_from_another_issuer(client, clerk):
    ada = clerk.add_user("ada")
    token = clerk.mint(ada["id"], iss="https://evil.clerk.accounts.dev")
    assert_refused(post_token(client, token), "another Clerk instance")


def test_refuses_a_token_made_for_another_site_azp(client, clerk):
    ada = clerk.add_user("ada")
    assert_refused(post_token(client, clerk.mint(ada["id"], azp="https://evil.example")), "another site")
    assert_refused(post_token(client, clerk.mint(ada["id"], azp=None)), "another site")


def test_refuses_alg_none(client, clerk):
    ada = clerk.add_user("ada")
    token = hand_made({"alg": "none", "typ": "JWT", "kid": clerk.key.kid}, valid_claims(clerk, ada["id"]))
    assert_refused(post_token(client, token), "RS256")


def test_refuses_hs256_signed_with_the_public_key(client, clerk):
    ada = clerk.add_user("ada")
    header = {"alg": "HS256", "typ": "JWT", "kid": clerk.key.kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(valid_claims(clerk, ada['id'])).encode())}"
    signature = hmac.new(clerk.key.public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    assert_refused(post_token(client, f"{signing_input}.{b64(signature)}"), "RS256")


def test_refuses_a_tampered_payload(client, clerk):
    ada, grace = clerk.add_user("ada"), clerk.add_user("grace")
    header, _payload, signature = clerk.mint(ada["id"]).split(".")
    forged = b64(json.dumps(valid_claims(clerk, grace["id"])).encode())
    assert_refused(post_token(client, f"{header}.{forged}.{signature}"), "signature")


def test_refuses_an_unknown_key_id(client, clerk):
    ada = clerk.add_user("ada")
    stranger = clerk.rotate_key(publish=False)  # a key this instance's JWKS doesn't list
    assert_refused(post_token(client, clerk.mint(ada["id"], key=stranger)), "key this Clerk instance doesn't have")


def test_refuses_a_token_without_sub(client, clerk):
    assert_refused(post_token(client, clerk.mint("ignored", drop=("sub",))), "'sub'")


def test_refuses_a_token_without_sid(client, clerk):
    ada = clerk.add_user("ada")
    assert_refused(post_token(client, clerk.mint(ada["id"], drop=("sid",))), "'sid'")


def test_refuses_a_sub_stream_cannot_use(client, clerk):
    assert_refused(post_token(client, clerk.mint("user/../admin")), "user id")


@pytest.mark.parametrize("token", [None, "", 42, "not.a.jwt", "x" * 9000, ["list"]])
def test_refuses_what_is_not_a_token(client, token):
    response = post_token(client, token)
    assert response.status_code == 401 and response.json()["error"]
    assert users() == []


def test_a_body_that_is_not_json_is_refused(client):
    response = client.post(ROUTE, content=b"\xff{", headers={**OWN, "Content-Type": "application/json"})
    assert response.status_code == 401 and "token" in response.json()["error"]


def test_a_page_on_another_origin_gets_403(client, clerk):
    ada = clerk.add_user("ada")
    response = post_token(client, clerk.mint(ada["id"]), headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and users() == []


def test_the_route_is_off_without_clerk(yoom_env):
    with TestClient(Starlette(routes=clerk_route.routes)) as plain:
        response = plain.post(ROUTE, json={"token": "x"}, headers=OWN)
    assert response.status_code == 404 and "CLERK_PUBLISHABLE_KEY" in response.json()["error"]


# ---- which sites' tokens are taken -------------------------------------------------------------------


def test_authorized_parties_setting_decides_azp(client, clerk, monkeypatch):
    use_settings(monkeypatch, CLERK_AUTHORIZED_PARTIES="https://meet.example.org,https://app.example.org")
    ada = clerk.add_user("ada")
    assert_refused(post_token(client, clerk.mint(ada["id"])), "another site")  # its own origin isn't listed
    assert post_token(client, clerk.mint(ada["id"], azp="https://app.example.org")).status_code == 200


def test_with_a_public_url_only_that_origin_is_taken(client, clerk, monkeypatch):
    use_settings(monkeypatch, YOOM_PUBLIC_URL="https://meet.example.org")
    ada = clerk.add_user("ada")
    public = {"Origin": "https://meet.example.org"}
    # The Host header is the caller's to choose: with a public address it decides nothing.
    assert_refused(post_token(client, clerk.mint(ada["id"]), headers=public), "another site")
    ok = post_token(client, clerk.mint(ada["id"], azp="https://meet.example.org"), headers=public)
    assert ok.status_code == 200 and "Secure" in ok.headers["set-cookie"]


# ---- keys: the JWKS cache, rotation, CLERK_JWT_KEY ---------------------------------------------------


def test_the_jwks_is_fetched_once_and_again_for_a_new_kid_at_most_every_30_seconds(client, clerk, monkeypatch):
    ada = clerk.add_user("ada")
    for _ in range(3):
        assert post_token(client, clerk.mint(ada["id"])).status_code == 200
    assert len(clerk.requests_to("GET", "^/v1/jwks$")) == 1
    rotated = clerk.rotate_key()  # Clerk rotates: the new key is published
    # Within 30 s of the last fetch, an unknown kid doesn't make Yoom ask again...
    too_soon = post_token(client, clerk.mint(ada["id"], key=rotated))
    assert too_soon.status_code == 401 and "key this Clerk instance doesn't have" in too_soon.json()["error"]
    assert len(clerk.requests_to("GET", "^/v1/jwks$")) == 1
    # ...after it, it does, and the rotated key is taken.
    monkeypatch.setattr(yoom.clerk, "JWKS_MIN_REFRESH_SECONDS", 0)
    assert post_token(client, clerk.mint(ada["id"], key=rotated)).status_code == 200
    assert len(clerk.requests_to("GET", "^/v1/jwks$")) == 2


def test_clerk_jwt_key_verifies_with_no_request_to_clerk(client, clerk, monkeypatch):
    use_settings(monkeypatch, CLERK_JWT_KEY=clerk.key.public_pem.replace("\n", "\\n"))
    clerk.down = True  # the Backend API can't be reached at all
    user_id = clerk_id("user")
    token = clerk.mint(user_id, username="ada", image_url="https://img.clerk.com/ada.png")
    assert post_token(client, token).status_code == 200
    assert clerk.requests == []
    other = clerk.rotate_key()  # with a configured key, no other key is taken
    assert post_token(client, clerk.mint(user_id, key=other, username="ada", image_url=None)).status_code == 401


# ---- Clerk's Backend API failing ---------------------------------------------------------------------


def test_clerk_out_of_reach_is_a_503_that_says_so(client, clerk):
    ada = clerk.add_user("ada")
    clerk.down = True
    response = post_token(client, clerk.mint(ada["id"]))
    assert response.status_code == 503 and "can't reach Clerk" in response.json()["error"]
    assert users() == [] and "set-cookie" not in response.headers


def test_a_wrong_secret_key_is_a_503_naming_the_setting(client, clerk, monkeypatch):
    use_settings(monkeypatch, CLERK_SECRET_KEY="sk_test_wrong")
    ada = clerk.add_user("ada")
    response = post_token(client, clerk.mint(ada["id"]))
    assert response.status_code == 503 and "CLERK_SECRET_KEY" in response.json()["error"]


def test_a_user_deleted_in_clerk_is_refused(client, clerk):
    response = post_token(client, clerk.mint(clerk_id("user")))
    assert_refused(response, "no such account")


# ---- the same person on Stream -----------------------------------------------------------------------


@pytest.fixture
def stream_client(clerk_env, fake, monkeypatch):
    """Clerk sign-in and Stream as the video provider (tests/fakestream)."""
    use_settings(
        monkeypatch,
        VIDEO_PROVIDER="stream",
        STREAM_API_KEY=fake.api_key,
        STREAM_API_SECRET=fake.api_secret,
        STREAM_BASE_URL=fake.base_url,
        STREAM_TIMEOUT_SECONDS="0.5",
        STREAM_MAX_RETRIES="1",
    )
    app = Starlette(routes=[*auth.routes, *clerk_route.routes, *video_token.routes])
    with TestClient(app) as made:
        yield made
        if yoom.video.get_provider.cache_info().currsize:
            made.portal.call(yoom.video.get_provider().close)


@pytest.mark.parametrize("username", ["ada", None])
def test_a_clerk_user_is_the_same_user_on_stream(stream_client, clerk, fake, username):
    person = clerk.add_user(username, image_url="https://img.clerk.com/person.png")
    cookie = post_token(stream_client, clerk.mint(person["id"])).cookies["yoom_session"]
    answer = stream_client.post("/api/video/token", headers=OWN, cookies={"yoom_session": cookie})
    assert answer.status_code == 200
    body = answer.json()
    assert jwt.decode(body["token"], fake.api_secret, algorithms=["HS256"])["user_id"] == person["id"]
    expected = {"id": person["id"], "name": username or person["id"], "image": "https://img.clerk.com/person.png"}
    assert body["user"] == expected
    [upsert] = fake.requests_to("POST", "^/api/v2/users$")
    sent = upsert.body["users"][person["id"]]
    assert {"id": sent["id"], "name": sent["name"], "image": sent["image"]} == expected
    assert fake.user(person["id"])["name"] == expected["name"]
