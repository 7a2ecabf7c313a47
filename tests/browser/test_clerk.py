"""Clerk mode in Chromium: Yoom with CLERK_* set, against a fake Clerk instance (tests/fakeclerk).

* Yoom's server verifies session tokens with the fake's keys (its JWKS) and reads users from its Backend
  API (CLERK_API_URL → the fake).
* The browser loads a stand-in for Clerk's hosted clerk-js (CLERK_JS_URL → tests/fakeclerk/clerk.browser.js)
  that @clerk/clerk-react drives as it drives the real one: it mounts Clerk's sign-in form and UserButton,
  hands out session tokens from the fake's Frontend API through getToken(), and signs out through
  setActive({session: null}) — the code paths of Yoom's bridge (assets/clerk_bridge.jsx).

Shown here: a signed-out visit to / gets Clerk's sign-in; a Clerk user lands on Home under their name,
starts a meeting, and the video token is theirs by Clerk id; the bridge keeps Yoom's short session fresh;
signing out of Clerk (here, or elsewhere) ends Yoom's session; in local mode no page downloads Clerk.
"""

from __future__ import annotations

import re
import sqlite3
import uuid

import jwt
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import sign_up, start_instant_meeting
from tests.fakeclerk import FakeClerk

pytestmark = [pytest.mark.browser]

SYNC_ROUTE = "/api/auth/clerk"
TOKEN_ROUTE = "/api/video/token"
CLERK_CODE_MARKERS = ("@clerk/clerk-react", "/api/auth/clerk")
SESSION_TTL = 60  # the shortest allowed: the bridge re-posts every 20 s


@pytest.fixture(scope="module")
def fake_clerk():
    with FakeClerk() as fake:
        yield fake


@pytest.fixture
def clerk_app(app_pool, fake_clerk):
    return app_pool.get(fake_clerk.env(CLERK_JS_URL=fake_clerk.js_url, CLERK_SESSION_TTL_SECONDS=str(SESSION_TTL)))


def is_post(response, path: str) -> bool:
    return response.request.method == "POST" and response.url.split("?")[0].endswith(path)


def sign_in_with_clerk(page: Page, app_url: str, fake: FakeClerk, username: str | None = None) -> dict:
    """A new Clerk user, signed in through Clerk's sign-in on /sign-in; returns the fake's user."""
    user = fake.add_user(username or f"clerk{uuid.uuid4().hex[:8]}", image_url="https://img.clerk.com/avatar.png")
    page.goto(app_url + "/")
    page.wait_for_url(re.compile(r"/sign-in/?\?next=%2F"))
    form = page.get_by_role("form", name="Sign in with Clerk")
    expect(form).to_be_visible(timeout=20_000)
    form.get_by_label("Email address or username").fill(user["username"])
    form.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("hero")).to_be_visible(timeout=20_000)
    return user


def yoom_user_ids(app) -> list[str]:
    with sqlite3.connect(app.data_dir / "yoom.db") as db:
        return [row[0] for row in db.execute("SELECT id FROM yoom_user")]


def token_route_status(page: Page, app_url: str) -> int:
    """What the token route says to this browser's cookie now."""
    return page.request.post(app_url + TOKEN_ROUTE, headers={"Origin": app_url}).status


@pytest.mark.clerk_app
def test_a_clerk_user_signs_in_lands_on_home_and_meets_as_the_clerk_id(page, clerk_app, fake_clerk):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(clerk_app.url + "/")
    page.wait_for_url(re.compile(r"/sign-in/?\?next=%2F"))
    # Clerk's sign-in, mounted by clerk-js into clerk-react's <SignIn/>; none of Yoom's own forms.
    expect(page.locator('[data-clerk-component="SignIn"]')).to_be_visible(timeout=20_000)
    expect(page.get_by_label("Password")).to_have_count(0)

    user = sign_in_with_clerk(page, clerk_app.url, fake_clerk)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_test_id("user-name")).to_have_text(user["username"])
    expect(page.get_by_role("button", name="Open user button")).to_be_visible()  # Clerk's UserButton
    expect(page.get_by_role("button", name="Account menu")).to_have_count(0)  # not Yoom's own
    assert user["id"] in yoom_user_ids(clerk_app)

    with page.expect_response(lambda r: is_post(r, TOKEN_ROUTE), timeout=30_000) as answer:
        start_instant_meeting(page)
    body = answer.value.json()
    assert answer.value.status == 200
    secret = (clerk_app.data_dir / "local_video_secret").read_text().strip()
    claims = jwt.decode(body["token"], secret, algorithms=["HS256"])
    assert claims["user_id"] == user["id"]
    assert body["user"] == {"id": user["id"], "name": user["username"], "image": "https://img.clerk.com/avatar.png"}
    expect(page.get_by_role("button", name="Join meeting")).to_be_visible(timeout=20_000)
    assert errors == []


@pytest.mark.clerk_app
def test_a_new_clerk_account_from_sign_up_lands_on_home(page, clerk_app, fake_clerk):
    username = f"new{uuid.uuid4().hex[:8]}"
    page.goto(clerk_app.url + "/sign-up")
    form = page.get_by_role("form", name="Sign up with Clerk")
    expect(form).to_be_visible(timeout=20_000)
    form.get_by_label("Username").fill(username)
    form.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("hero")).to_be_visible(timeout=20_000)
    expect(page.get_by_test_id("user-name")).to_have_text(username)
    assert fake_clerk.user_by_username(username)["id"] in yoom_user_ids(clerk_app)


@pytest.mark.clerk_app
def test_when_yoom_cannot_reach_clerk_the_sign_in_page_says_so_and_recovers(page, clerk_app, fake_clerk):
    user = fake_clerk.add_user(f"clerk{uuid.uuid4().hex[:8]}")
    fake_clerk.down = True  # Clerk's Backend API fails; its Frontend API (the browser's side) still works
    try:
        page.goto(clerk_app.url + "/sign-in")
        form = page.get_by_role("form", name="Sign in with Clerk")
        expect(form).to_be_visible(timeout=20_000)
        form.get_by_label("Email address or username").fill(user["username"])
        form.get_by_role("button", name="Continue").click()
        expect(page.get_by_test_id("clerk-error")).to_contain_text("can't reach Clerk", timeout=20_000)
        assert "Traceback" not in page.content()
        assert user["id"] not in yoom_user_ids(clerk_app)
    finally:
        fake_clerk.down = False
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_test_id("hero")).to_be_visible(timeout=20_000)


@pytest.mark.clerk_app
def test_the_bridge_keeps_the_yoom_session_fresh_with_new_clerk_tokens(page, clerk_app, fake_clerk):
    sign_in_with_clerk(page, clerk_app.url, fake_clerk)
    first_cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "yoom_session")
    # Within the refresh interval (a third of CLERK_SESSION_TTL_SECONDS) a fresh token is posted...
    with page.expect_response(lambda r: is_post(r, SYNC_ROUTE), timeout=(SESSION_TTL // 3 + 15) * 1000) as later:
        pass
    assert later.value.status == 200 and later.value.json() == {"reload": False, "refresh_in": SESSION_TTL // 3}
    # ...and extends the same session: no reload, the same cookie.
    assert next(c["value"] for c in page.context.cookies() if c["name"] == "yoom_session") == first_cookie
    expect(page.get_by_test_id("hero")).to_be_visible()
    assert token_route_status(page, clerk_app.url) == 200


@pytest.mark.clerk_app
def test_signing_out_with_clerks_user_button_ends_the_yoom_session(page, clerk_app, fake_clerk):
    user = sign_in_with_clerk(page, clerk_app.url, fake_clerk)
    assert token_route_status(page, clerk_app.url) == 200
    page.get_by_role("button", name="Open user button").click()
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/auth/sign-out")):
        page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url(re.compile(r"/sign-in/?$"))
    expect(page.get_by_role("form", name="Sign in with Clerk")).to_be_visible(timeout=20_000)
    assert token_route_status(page, clerk_app.url) == 401
    assert fake_clerk.active_sessions(user["id"]) == []


@pytest.mark.clerk_app
def test_a_clerk_session_ended_elsewhere_signs_yoom_out(page, clerk_app, fake_clerk):
    user = sign_in_with_clerk(page, clerk_app.url, fake_clerk)
    page.goto(clerk_app.url + "/upcoming")
    expect(page.get_by_role("heading", name="Upcoming Meetings", exact=True)).to_be_visible(timeout=20_000)
    [session] = fake_clerk.active_sessions(user["id"])
    fake_clerk.end_session(session["id"])  # e.g. revoked in Clerk's dashboard, or signed out on another site
    page.wait_for_url(re.compile(r"/sign-in/?\?next=%2Fupcoming"), timeout=20_000)
    assert token_route_status(page, clerk_app.url) == 401


def downloaded_scripts(page: Page) -> list[str]:
    """The URLs of the scripts the page has downloaded so far (module chunks included)."""
    return page.evaluate(
        "() => performance.getEntriesByType('resource').filter(e => e.initiatorType === 'script'"
        " || e.name.endsWith('.js')).map(e => e.name)"
    )


def clerk_code_in(page: Page, urls: list[str]) -> list[str]:
    found = []
    for url in dict.fromkeys(urls):
        text = page.request.get(url).text()
        found += [f"{marker} in {url}" for marker in CLERK_CODE_MARKERS if marker in text]
    return found


@pytest.mark.clerk_app
def test_clerk_mode_pages_download_the_bridge(page, clerk_app):
    page.goto(clerk_app.url + "/sign-in")
    expect(page.locator('[data-clerk-component="SignIn"]')).to_be_visible(timeout=20_000)
    assert clerk_code_in(page, downloaded_scripts(page))  # the markers below do mean Clerk's code


def test_local_mode_pages_download_no_clerk_code(page, app_url):
    page.goto(app_url + "/sign-in")
    expect(page.get_by_label("Password")).to_be_visible()
    urls = downloaded_scripts(page)
    sign_up(page, app_url)
    page.wait_for_load_state("networkidle")
    urls += downloaded_scripts(page)
    assert len(urls) > 3, urls
    assert clerk_code_in(page, urls) == []
