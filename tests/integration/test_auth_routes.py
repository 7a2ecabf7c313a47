"""The session cookie's routes (yoom/api/auth.py) and what the state layer reads from the event socket."""

from __future__ import annotations

import pytest
from reflex.istate.data import RouterData
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import yoom.settings
from tests.conftest import signed_up
from yoom import accounts
from yoom.api import auth

OWN = {"Origin": "http://testserver"}


@pytest.fixture
def client(yoom_env):
    async def whoami(request: Request):
        return PlainTextResponse(auth.client_address(request))

    app = Starlette(routes=[*auth.routes, Route("/whoami", whoami)])
    with TestClient(app) as made:
        yield made


def ticket_for(name: str = "ada") -> tuple[str, str]:
    user = accounts.sign_up(name.title(), name, "password one")
    return user.id, accounts.issue_sign_in_ticket(user.id)


def test_a_ticket_becomes_an_httponly_lax_session_cookie_once(client):
    user_id, ticket = ticket_for()
    response = client.post("/api/auth/session", json={"ticket": ticket}, headers=OWN)
    assert response.status_code == 204
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith("yoom_session=")
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # plain http on localhost
    token = response.cookies["yoom_session"]
    assert accounts.user_for_session(token).id == user_id
    again = client.post("/api/auth/session", json={"ticket": ticket}, headers=OWN)
    assert again.status_code == 401 and "set-cookie" not in again.headers
    assert "Sign in again" in again.json()["error"]


def test_the_cookie_is_secure_behind_an_https_public_address(client, monkeypatch):
    monkeypatch.setenv("YOOM_PUBLIC_URL", "https://meet.example.org")
    yoom.settings.get_settings.cache_clear()
    _, ticket = ticket_for()
    response = client.post("/api/auth/session", json={"ticket": ticket}, headers={"Origin": "https://meet.example.org"})
    assert response.status_code == 204 and "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize("body", [{}, {"ticket": 7}, {"ticket": "nope"}, {"ticket": "x" * 5000}, ["ticket"]])
def test_bad_tickets_get_401_and_no_cookie(client, body):
    response = client.post("/api/auth/session", json=body, headers=OWN)
    assert response.status_code == 401 and "set-cookie" not in response.headers


def test_a_foreign_page_can_neither_sign_someone_in_nor_out(client):
    _, ticket = ticket_for()
    evil = {"Origin": "https://evil.example"}
    assert client.post("/api/auth/session", json={"ticket": ticket}, headers=evil).status_code == 403
    # The ticket wasn't spent by the refused request.
    assert client.post("/api/auth/session", json={"ticket": ticket}, headers=OWN).status_code == 204
    token = client.cookies["yoom_session"]
    assert client.post("/api/auth/sign-out", headers=evil).status_code == 403
    assert accounts.user_for_session(token) is not None


def test_sign_out_revokes_the_session_and_clears_the_cookie(client):
    signed = signed_up("Ada", "ada")
    client.cookies.set("yoom_session", signed.session_token)
    response = client.post("/api/auth/sign-out", headers=OWN)
    assert response.status_code == 204
    assert 'yoom_session=""' in response.headers["set-cookie"] and "Max-Age=0" in response.headers["set-cookie"]
    assert accounts.user_for_session(signed.session_token) is None


def test_the_client_address_comes_from_x_forwarded_for_only_through_trusted_hops(client, monkeypatch):
    spoofed = {"X-Forwarded-For": "1.2.3.4, 203.0.113.7"}
    assert client.get("/whoami", headers=spoofed).text == "testclient"  # no trusted proxy: the socket's peer
    monkeypatch.setenv("YOOM_TRUSTED_PROXY_HOPS", "1")
    yoom.settings.get_settings.cache_clear()
    # One proxy: it appended the address it saw last; what the client wrote before that is not believed.
    assert client.get("/whoami", headers=spoofed).text == "203.0.113.7"
    monkeypatch.setenv("YOOM_TRUSTED_PROXY_HOPS", "2")
    yoom.settings.get_settings.cache_clear()
    assert client.get("/whoami", headers=spoofed).text == "1.2.3.4"
    assert client.get("/whoami", headers={"X-Forwarded-For": "9.9.9.9"}).text == "testclient"  # too short


async def test_handlers_read_the_session_from_the_sockets_cookie_and_keep_it_out_of_state(yoom_env):
    from yoom.state.meetings import PersonalRoomState

    signed = signed_up("Ada", "ada")
    state = PersonalRoomState(_reflex_internal_init=True)
    state.router = RouterData.from_router_data(
        {
            "pathname": "/personal-room",
            "asPath": "/personal-room",
            "query": {},
            "headers": {"cookie": f"other=1; yoom_session={signed.session_token}", "origin": "http://localhost"},
        }
    )
    assert (await state._signed_in_user()).id == signed.user.id
    await state.check_login()
    assert state.user_name == "Ada"
    # Nothing the browser receives (the state's serialised vars, router included) carries the token.
    assert signed.session_token not in repr(state.dict())
    assert signed.session_token not in repr(state.get_delta())


def test_cookie_header_parsing_survives_junk():
    assert auth.session_token_from_cookie_header(None) is None
    assert auth.session_token_from_cookie_header("") is None
    assert auth.session_token_from_cookie_header('a="unterminated; yoom_session=abc') in (None, "abc")
    assert auth.session_token_from_cookie_header("yoom_session=abc; other=x") == "abc"
    assert auth.session_token_from_cookie_header("yoom_session=") is None
