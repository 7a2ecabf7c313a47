"""Security of the running app (production build, real server): the session cookie, origins, redirects.

The HTTP and socket checks talk to the real server directly, as a page on another origin would make the
browser do, with the victim's cookie attached.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.browser.helpers import new_account, sign_in, sign_up

EVIL = "https://evil.example"


def session_cookie(page) -> dict:
    [cookie] = [c for c in page.context.cookies() if c["name"] == "yoom_session"]
    return cookie


def test_the_session_cookie_is_httponly_and_page_script_cannot_read_it(page, app_url):
    sign_up(page, app_url)
    cookie = session_cookie(page)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert "yoom_session" not in page.evaluate("() => document.cookie")
    # Nor is it anywhere in what Reflex keeps in the page.
    assert cookie["value"] not in page.content()
    assert cookie["value"] not in page.evaluate("() => JSON.stringify(window.localStorage)")


def test_a_page_on_another_origin_gets_403_and_no_cors_grant(page, app_url):
    sign_up(page, app_url)
    jar = {"yoom_session": session_cookie(page)["value"]}
    with httpx.Client(base_url=app_url, cookies=jar) as http:
        stolen = http.post("/api/video/token", headers={"Origin": EVIL})
        assert stolen.status_code == 403 and "token" not in stolen.text
        assert "access-control-allow-origin" not in stolen.headers
        sibling = http.post("/api/video/token", headers={"Origin": "http://127.0.0.1:1"})  # another port
        assert sibling.status_code == 403 and "access-control-allow-origin" not in sibling.headers
        preflight = http.options("/api/video/token", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in preflight.headers
        # The app's own pages keep working.
        own = http.post("/api/video/token", headers={"Origin": app_url})
        assert own.status_code == 200 and own.json()["token"]


def test_the_event_socket_refuses_a_foreign_origin(app_url):
    parts = urlsplit(app_url)
    url = f"ws://{parts.netloc}/_event/?EIO=4&transport=websocket"

    def handshake(origin: str) -> str:
        # The sync client: Playwright's sync API keeps an event loop busy in this thread.
        with connect(url, origin=origin, open_timeout=10) as ws:
            return ws.recv(timeout=10)

    assert handshake(app_url).startswith("0{")  # engine.io's open packet
    with pytest.raises(InvalidStatus):
        handshake(EVIL)


def test_sign_out_revokes_the_session_and_clears_the_cookie(page, app_url):
    sign_up(page, app_url)
    old = session_cookie(page)["value"]
    page.get_by_test_id("account-menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url("**/sign-in**")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert [c for c in page.context.cookies() if c["name"] == "yoom_session"] == []
    revoked = httpx.post(app_url + "/api/video/token", cookies={"yoom_session": old}, headers={"Origin": app_url})
    assert revoked.status_code == 401


@pytest.mark.parametrize("hostile", ["/%09/evil.example", "//evil.example", "/%5Cevil.example", "https://evil.example"])
def test_sign_in_never_leads_off_the_site(new_page, app_url, hostile):
    account = sign_up(new_page(), app_url, new_account("Ray Redirect"))
    page = new_page()
    page.goto(f"{app_url}/sign-in?next={hostile}")
    sign_in(page, account)
    expect(page.get_by_test_id("hero")).to_be_visible(timeout=20_000)
    assert urlsplit(page.url).netloc == urlsplit(app_url).netloc
    assert re.fullmatch(r"/?", urlsplit(page.url).path)


def test_a_new_sign_in_on_the_same_tab_starts_from_a_fresh_page_state(page, app_url):
    """Reflex keeps a page's state under a token the tab holds: after a sign-out and someone else's sign-in
    in the same tab, nothing of the first person's state may be the second's."""
    first = sign_up(page, app_url, new_account("Fern First"))
    # The hero is drawn before the event socket connects (and the tab's token is saved): the name is not.
    expect(page.get_by_test_id("user-name")).to_have_text("Fern First", timeout=20_000)
    token_before = page.evaluate("() => window.sessionStorage.getItem('token')")
    page.get_by_test_id("account-menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=20_000)
    sign_up(page, app_url, new_account("Sid Second"))
    expect(page.get_by_test_id("user-name")).to_have_text("Sid Second")
    token_after = page.evaluate("() => window.sessionStorage.getItem('token')")
    assert token_before and token_after and token_after != token_before
    assert first.name not in page.content()
