"""The Stream meeting room in Chromium: Yoom with VIDEO_PROVIDER=stream, against local fakes of Stream.

* Server side: tests/fakestream (Yoom's server creates and reads calls there, through STREAM_BASE_URL).
* Client side: tests/browser/fake_stream_client.py, the coordinator API the browser's SDK talks to
  (the client's `baseURL`, through STREAM_CLIENT_BASE_URL). It can be switched off — its port closed — to
  put Stream out of reach.

What is shown: the page asks Yoom's token route for the signed-in user's token (and the SDK uses it,
and gets a fresh one when it expires); the home page downloads none of the SDK, the meeting page does;
the setup screen shows the fake camera; a call ended elsewhere moves the page to "ended"; with Stream
out of reach, or a join that fails, the error state with a retry appears within seconds. Guests and the
lobby: people who must ask wait without a Stream connection, and Stream opens the call to them only once
the host lets them in; denied and removed people stay out.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime

import jwt
import pytest
from playwright.sync_api import Page, expect

from tests.browser.fake_stream_client import FakeStreamClientAPI
from tests.browser.helpers import new_account, sign_up, start_instant_meeting
from tests.fakestream import FakeStream

pytestmark = [pytest.mark.browser, pytest.mark.stream_app]

TOKEN_ROUTE = "/api/video/token"
# Strings that only the Stream SDK's code and styles contain.
SDK_JS_MARKERS = ("StreamVideoClient", "@stream-io/video-react-sdk")
SDK_CSS_MARKER = ".str-video__"
ERROR_WITHIN_MS = 12_000  # the bridge gives up after 8 s; the page must say so well within this
MEETING_TYPE = "yoom_invite_only"  # Stream's type for every meeting Yoom makes (yoom/video/stream_provider.py)


@pytest.fixture(scope="module")
def stream_fakes():
    server = FakeStream().start()
    client = FakeStreamClientAPI(server).start()
    try:
        yield server, client
    finally:
        client.stop()
        server.stop()
    assert server.violations == [], server.violations


@pytest.fixture
def stream_app(app_pool, stream_fakes):
    server, client = stream_fakes
    return app_pool.get(
        {
            "VIDEO_PROVIDER": "stream",
            "STREAM_API_KEY": server.api_key,
            "STREAM_API_SECRET": server.api_secret,
            "STREAM_BASE_URL": server.base_url,
            "STREAM_CLIENT_BASE_URL": client.base_url,
        }
    )


def user_id_of(app, username: str) -> str:
    with sqlite3.connect(app.data_dir / "yoom.db") as db:
        row = db.execute("SELECT id FROM yoom_user WHERE username = ?", (username.lower(),)).fetchone()
    assert row, f"no user {username} in the app's database"
    return row[0]


def is_token_request(request) -> bool:
    return request.method == "POST" and request.url.split("?")[0].endswith(TOKEN_ROUTE)


def preview_video(page: Page):
    return page.locator("video.str-video__video-preview")


def expect_camera_playing(page: Page, timeout: int = 20_000) -> None:
    video = preview_video(page)
    expect(video).to_be_visible(timeout=timeout)
    page.wait_for_function(
        """() => { const v = document.querySelector('video.str-video__video-preview');
                   return v && v.videoWidth > 0 && v.readyState >= 2 && !v.paused
                          && v.srcObject && v.srcObject.getVideoTracks().some(t => t.readyState === 'live'); }""",
        timeout=timeout,
    )


def expect_preview_playing(page: Page, timeout: int = 20_000) -> None:
    """The knocker's own camera preview (no Stream involved) shows live frames."""
    expect(page.get_by_test_id("camera-preview-video")).to_be_visible(timeout=timeout)
    page.wait_for_function(
        """() => { const v = document.querySelector('[data-testid="camera-preview-video"]');
                   return v && v.videoWidth > 0 && v.readyState >= 2 && !v.paused; }""",
        timeout=timeout,
    )


# ---- the token route ---------------------------------------------------------------------------


def test_meeting_page_asks_the_token_route_for_the_signed_in_users_token(page, stream_app, stream_fakes):
    server, client = stream_fakes
    account = sign_up(page, stream_app.url, new_account("Stella Stream"))
    with page.expect_response(lambda r: is_token_request(r.request), timeout=30_000) as answer:
        call_id = start_instant_meeting(page)
    response = answer.value
    assert response.status == 200
    # The request names the meeting (the token is refused until the person may be in it), never the user.
    assert json.loads(response.request.post_data) == {"call_id": call_id}
    body = response.json()
    user_id = user_id_of(stream_app, account.username)
    claims = jwt.decode(body["token"], server.api_secret, algorithms=["HS256"])
    assert claims["user_id"] == user_id
    assert claims["call_cids"] == [f"{MEETING_TYPE}:{call_id}"]  # a call token: it opens this meeting alone
    assert body["user"]["id"] == user_id and body["user"]["name"] == "Stella Stream"
    assert body["api_key"] == server.api_key and body["provider"] == "stream"
    # The SDK connected to "Stream" with exactly that token, for that user, and loaded this call.
    expect_camera_playing(page)
    accepted = [a for a in client.auth_attempts if a["message"]["token"] == body["token"]]
    assert accepted and accepted[0]["verdict"] == "ok"
    assert accepted[0]["message"]["user_details"]["id"] == user_id
    watching = [c for c in client.live_connections() if c.user_id == user_id]
    assert watching and f"{MEETING_TYPE}:{call_id}" in watching[0].watching


def test_an_expired_token_is_replaced_from_the_token_route_without_reload(page, stream_app, stream_fakes):
    server, client = stream_fakes
    account = sign_up(page, stream_app.url)
    start_instant_meeting(page)
    expect_camera_playing(page)
    user_id = user_id_of(stream_app, account.username)
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    answers = []
    page.on("response", lambda r: answers.append(r) if is_token_request(r.request) else None)

    assert client.expire_tokens() >= 1  # Stream: "token expired" (code 40), and it refuses that token after
    # The SDK asks Yoom's token route again, from the page, and reconnects once it has a token Stream
    # accepts. (The route may hand the same token back for a short while — it reuses a token minted
    # moments ago — so this can take up to that reuse window.)
    started = time.monotonic()
    fresh = None
    while fresh is None:
        assert time.monotonic() - started < 60, "the SDK did not reconnect with a fresh token"
        page.wait_for_timeout(250)
        for answer in answers:
            token = answer.json()["token"]
            if token not in client.expired_tokens and any(
                a["message"]["token"] == token and a["verdict"] == "ok" for a in client.auth_attempts
            ):
                fresh = token
    assert answers and all(a.status == 200 for a in answers)
    assert jwt.decode(fresh, server.api_secret, algorithms=["HS256"])["user_id"] == user_id
    assert navigations == []  # no reload
    expect_camera_playing(page, timeout=5_000)
    print(f"\nreconnected with a fresh token {time.monotonic() - started:.1f} s after it expired")


# ---- bundle splitting ----------------------------------------------------------------------------


def test_home_page_loads_no_stream_chunk_but_the_meeting_page_does(new_page, stream_app):
    signup_page = new_page()
    sign_up(signup_page, stream_app.url)
    page = signup_page.context.new_page()  # same cookies, fresh page: only what "/" itself downloads
    downloaded: dict[str, bytes] = {}

    def collect(response):
        if response.request.resource_type in ("script", "stylesheet") or response.url.endswith((".js", ".css")):
            try:
                downloaded[response.url] = response.body()
            except Exception:  # a redirect or aborted request has no body
                pass

    page.on("response", collect)
    page.goto(stream_app.url + "/")
    expect(page.get_by_test_id("hero")).to_be_visible(timeout=20_000)
    page.wait_for_load_state("networkidle")
    home = dict(downloaded)
    assert any(url.endswith(".js") for url in home), "no scripts seen: the check would prove nothing"
    for url, body in home.items():
        for marker in SDK_JS_MARKERS:
            assert marker.encode() not in body, f"the home page downloaded Stream's SDK in {url}"
        assert SDK_CSS_MARKER.encode() not in body, f"the home page downloaded Stream's CSS in {url}"

    start_instant_meeting(page)
    expect_camera_playing(page)
    page.wait_for_load_state("networkidle")
    meeting = {url: body for url, body in downloaded.items() if url not in home}
    assert any(all(m.encode() in body for m in SDK_JS_MARKERS) for body in meeting.values()), list(meeting)
    assert any(SDK_CSS_MARKER.encode() in body for url, body in meeting.items() if url.endswith(".css"))
    home_kb = sum(len(b) for u, b in home.items() if u.endswith(".js")) / 1024
    meeting_kb = sum(len(b) for u, b in meeting.items() if u.endswith(".js")) / 1024
    print(f"\nJS downloaded: home {home_kb:.0f} KB; meeting page adds {meeting_kb:.0f} KB")


# ---- the setup screen ----------------------------------------------------------------------------


def test_setup_screen_shows_the_fake_camera_and_joins_muted(page, stream_app):
    sign_up(page, stream_app.url)
    start_instant_meeting(page)
    setup = page.get_by_test_id("stream-setup")
    expect(setup.get_by_role("heading", name="Setup")).to_be_visible(timeout=20_000)
    expect_camera_playing(page)
    expect(setup.get_by_role("button", name="Join meeting")).to_be_visible()
    # The SDK's device settings are there (its own menu button).
    expect(page.locator(".str-video__device-settings__button, .str-video__menu-toggle").first).to_be_visible()
    page.get_by_text("Join with mic and camera off").click()
    expect(preview_video(page)).to_have_count(0, timeout=10_000)
    expect(setup.get_by_text("Video is disabled")).to_be_visible()
    page.get_by_text("Join with mic and camera off").click()
    expect_camera_playing(page, timeout=10_000)


def test_a_call_ended_by_its_host_moves_the_setup_screen_to_ended(page, stream_app, stream_fakes):
    server, client = stream_fakes
    sign_up(page, stream_app.url)
    call_id = start_instant_meeting(page)
    expect_camera_playing(page)
    # The host ends it on the server (what "End call for everyone" does through the provider).
    server.set_call_times(call_id, ended_at=datetime.now(UTC))
    expect(page.get_by_test_id("meeting-ended")).to_be_visible(timeout=10_000)
    expect(page.get_by_text("This meeting was ended by the host")).to_be_visible()
    # The Stream client was let go: its camera stopped and its connection closed.
    expect(preview_video(page)).to_have_count(0)
    deadline = time.monotonic() + 10
    while any(f"{MEETING_TYPE}:{call_id}" in c.watching for c in client.live_connections()):
        assert time.monotonic() < deadline, "the SDK stayed connected after the call ended"
        page.wait_for_timeout(250)


# ---- in the call ---------------------------------------------------------------------------------


def test_in_call_controls_layouts_participants_and_end_call_for_everyone(new_page, stream_app, stream_fakes):
    """The in-call screen while the SDK is joining (the fake has no media server, so joins are held),
    and "End call for everyone": only the creator has it, and it ends the call for the guest too."""
    server, client = stream_fakes
    host, guest = new_page(), new_page()
    sign_up(host, stream_app.url, new_account("Hana Host"))
    call_id = start_instant_meeting(host)
    expect_camera_playing(host)
    sign_up(guest, stream_app.url, new_account("Gus Guest"))
    guest.goto(f"{stream_app.url}/meeting/{call_id}")
    expect_camera_playing(guest)

    client.hold_joins()
    try:
        host.get_by_role("button", name="Join meeting").click()
        guest.get_by_role("button", name="Join meeting").click()
        screen = host.get_by_test_id("stream-in-call")
        expect(screen).to_be_visible(timeout=10_000)
        expect(screen.locator(".str-video__call-controls")).to_be_visible()  # the SDK's CallControls
        expect(screen.get_by_test_id("stats-button")).to_be_visible()  # the SDK's CallStatsButton

        # Layouts: speaker left (the default) puts the participants bar right; speaker right, left.
        expect(screen.locator(".str-video__speaker-layout--variant-right")).to_have_count(1)
        for item, selector in (
            ("Grid", ".str-video__paginated-grid-layout"),
            ("Speaker right", ".str-video__speaker-layout--variant-left"),
            ("Speaker left", ".str-video__speaker-layout--variant-right"),
        ):
            host.get_by_test_id("layout-switcher").click()
            host.get_by_role("menuitem", name=item).click()
            expect(host.get_by_role("menu")).to_have_count(0)
            expect(screen.locator(selector)).to_have_count(1)

        # Participants: our toggle opens the SDK's list, the SDK's close button shuts it.
        host.get_by_test_id("participants-toggle").click()
        participants = screen.locator(".str-video__participant-list")
        expect(participants).to_be_visible()
        participants.locator(".str-video__participant-list-header__close-button").click()
        expect(participants).to_have_count(0)

        # Only the creator may end the call for everyone.
        expect(guest.get_by_test_id("stream-in-call")).to_be_visible(timeout=10_000)
        expect(guest.get_by_test_id("end-call-for-everyone")).to_have_count(0)
        host.get_by_test_id("end-call-for-everyone").click()
        host.get_by_test_id("confirm-end-call").click()
        expect(host.get_by_test_id("meeting-ended")).to_be_visible(timeout=10_000)
        expect(guest.get_by_test_id("meeting-ended")).to_be_visible(timeout=10_000)
    finally:
        client.release_joins()
    assert server.call(call_id, MEETING_TYPE)["ended_at"] is not None
    assert server.requests_to("POST", rf"/video/call/{MEETING_TYPE}/{call_id}/mark_ended$")


def test_chat_hands_and_claps_on_stream_ride_yooms_room_channel(new_page, stream_app, stream_fakes):
    """On Stream the page opens Yoom's room channel too (no media on it): chat both ways, a raised hand the
    host lowers, the clap control, the shortcuts list — while Stream's own join is held."""
    _server, client = stream_fakes
    host, guest = new_page(), new_page()
    sign_up(host, stream_app.url, new_account("Hana Host"))
    call_id = start_instant_meeting(host)
    expect_camera_playing(host)
    sign_up(guest, stream_app.url, new_account("Gus Guest"))
    guest.goto(f"{stream_app.url}/meeting/{call_id}")
    expect_camera_playing(guest)
    client.hold_joins()
    try:
        for page in (host, guest):
            page.get_by_role("button", name="Join meeting").click()
            expect(page.get_by_test_id("stream-in-call")).to_be_visible(timeout=10_000)
        guest.get_by_test_id("chat-toggle").click()
        guest.get_by_test_id("chat-input").fill("<b>hello</b> from Stream")
        guest.get_by_test_id("chat-input").press("Enter")
        expect(host.get_by_test_id("chat-unread")).to_have_text("1", timeout=10_000)
        host.get_by_test_id("chat-toggle").click()
        expect(host.get_by_test_id("chat-message")).to_contain_text("<b>hello</b> from Stream")
        host.get_by_test_id("chat-input").fill("Hi Gus")
        host.get_by_test_id("chat-input").press("Enter")
        expect(guest.get_by_test_id("chat-message")).to_have_count(2, timeout=10_000)

        guest.get_by_test_id("chat-input").blur()
        guest.keyboard.press("h")
        host.get_by_test_id("participants-toggle").click()
        raised = host.get_by_test_id("raised-hand")
        expect(raised).to_contain_text("Gus Guest", timeout=10_000)
        host.get_by_role("button", name="Lower Gus Guest's hand").click()
        expect(raised).to_have_count(0, timeout=10_000)
        expect(guest.get_by_role("button", name="Raise hand")).to_be_visible()

        guest.get_by_test_id("clap-button").click()
        expect(host.get_by_test_id("clap-count")).to_have_text("1", timeout=10_000)
        guest.keyboard.press("Shift+?")
        expect(guest.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    finally:
        client.release_joins()


# ---- failures: never an endless spinner ----------------------------------------------------------


def test_stream_out_of_reach_shows_the_error_state_with_retry(page, stream_app, stream_fakes):
    _, client = stream_fakes
    sign_up(page, stream_app.url)
    port = client.port
    client.stop()  # the client API's port is closed: Stream is out of reach
    try:
        page.get_by_test_id("card-new").click()
        page.get_by_role("button", name="Start Meeting").click()
        page.wait_for_url("**/meeting/**", timeout=20_000)
        started = time.monotonic()
        error = page.get_by_test_id("meeting-error")
        expect(error).to_be_visible(timeout=ERROR_WITHIN_MS)
        waited = time.monotonic() - started
        assert waited < ERROR_WITHIN_MS / 1000
        expect(error.get_by_role("alert")).to_contain_text("video service")
        retry = error.get_by_role("button", name="Try again")
        expect(retry).to_be_visible()
        expect(preview_video(page)).to_have_count(0)
        print(f"\nerror state after {waited:.1f} s")
        # Stream is back: Retry opens the setup screen with the camera, no reload.
        client.start(port)
        clicked = time.monotonic()
        retry.click()
        expect_camera_playing(page)
        print(f"setup screen {time.monotonic() - clicked:.1f} s after Retry")
    finally:
        if not client.running:
            client.start(port)


def test_a_join_that_fails_shows_the_error_state_not_a_spinner(page, stream_app, stream_fakes):
    _, client = stream_fakes
    sign_up(page, stream_app.url)
    call_id = start_instant_meeting(page)
    expect_camera_playing(page)
    page.get_by_role("button", name="Join meeting").click()
    # The fake has no media server (SFU): Stream answers the join with 503, the SDK retries, then gives up.
    error = page.get_by_test_id("meeting-error")
    expect(error).to_be_visible(timeout=20_000)
    expect(error.get_by_role("button", name="Try again")).to_be_visible()
    joins = [
        r
        for r in client.requests
        if r["path"] == f"/video/call/{MEETING_TYPE}/{call_id}/join" and r["method"] == "POST"
    ]
    assert joins, "the SDK never asked to join"


# ---- guests and the lobby ------------------------------------------------------------------------


def test_on_stream_a_guest_is_admitted_from_the_lobby_and_a_signed_in_knocker_denied(
    new_page, stream_app, stream_fakes
):
    """Three pages on Stream: the host in the call (joins held: the fake has no media server), a guest
    by link and a signed-in person, both asking to join. Stream itself opens the call to a knocker only
    once the host lets them in (the token route's call token); until then their page waits without it."""
    from tests.browser.test_guests_lobby import ask_to_join, knock_row, start_meeting

    server, client = stream_fakes
    host, guest, member = new_page(), new_page(), new_page()
    sign_up(host, stream_app.url, new_account("Hana Host"))
    sign_up(member, stream_app.url, new_account("Dee Member"))
    call_id = start_meeting(host, guests=True, ask=True)
    url, cid = f"{stream_app.url}/meeting/{call_id}", f"{MEETING_TYPE}:{call_id}"
    expect_camera_playing(host)

    # The guest, by link with a name: their own camera and words saying they will be let in, then the
    # lobby, told that the host isn't there yet (the host is still on the setup screen). Previews are
    # checked before the host's join is held: while the fake holds one, other pages get no frames from
    # Chromium's fake camera (seen here; real people have cameras of their own).
    guest.goto(url)
    expect(guest.get_by_test_id("meeting-guest")).to_be_visible(timeout=30_000)
    guest.get_by_test_id("guest-name").fill("Kim")
    guest.get_by_test_id("join-as-guest").click()
    expect(guest.get_by_test_id("stream-knock-setup")).to_be_visible(timeout=30_000)
    expect(guest.get_by_test_id("knock-note")).to_contain_text("The host is asked to let you in")
    expect_preview_playing(guest)
    ask_to_join(guest)
    expect(guest.get_by_test_id("lobby-host-status")).to_contain_text("isn't in the meeting yet")

    # The signed-in person: the same, choosing to join with camera and mic off.
    member.goto(url)
    expect(member.get_by_test_id("stream-knock-setup")).to_be_visible(timeout=30_000)
    expect_preview_playing(member)
    member.get_by_test_id("join-muted").click()
    expect(member.get_by_test_id("knock-camera-preview")).to_have_text("Your camera is off.")
    ask_to_join(member)

    client.hold_joins()
    try:
        host.get_by_role("button", name="Join meeting").click()
        expect(host.get_by_test_id("stream-in-call")).to_be_visible(timeout=10_000)
        expect(guest.get_by_test_id("lobby-host-status")).to_have_text("The host knows you're here.", timeout=10_000)
        kim = knock_row(host, "Kim")
        expect(kim).to_be_visible(timeout=10_000)
        expect(kim.get_by_text("guest", exact=True)).to_be_visible()
        expect(knock_row(host, "Dee Member")).to_be_visible(timeout=10_000)
        # Nobody waiting has loaded the call at Stream: only the host's page has.
        assert {c.user_details.get("name") for c in client.live_connections() if cid in c.watching} == {"Hana Host"}

        with guest.expect_response(lambda r: is_token_request(r.request), timeout=20_000) as answer:
            kim.get_by_test_id("admit").click()
        expect(guest.get_by_test_id("stream-in-call")).to_be_visible(timeout=20_000)
        token = answer.value.json()
        assert token["guest"] is True and token["user"]["name"] == "Kim (guest)"
        claims = jwt.decode(token["token"], server.api_secret, algorithms=["HS256"])
        assert claims["call_cids"] == [cid]  # opens this meeting at Stream, and nothing else
        expect_watching(client, token["user"]["id"], cid)

        knock_row(host, "Dee Member").get_by_test_id("deny").click()
        expect(member.get_by_test_id("meeting-denied")).to_be_visible(timeout=10_000)
        expect(host.get_by_test_id("knock")).to_have_count(0)
        member.reload()
        expect(member.get_by_test_id("meeting-denied")).to_be_visible(timeout=30_000)

        # The host removes the guest: out of the call, blocked at Stream, and the link doesn't bring them back.
        host.get_by_test_id("moderation-toggle").click()
        panel = host.get_by_test_id("moderation-panel")
        panel.get_by_test_id("person").filter(has_text="Kim").get_by_test_id("remove-person").click()
        removed = guest.get_by_test_id("meeting-error-message")
        expect(removed).to_have_text("The host removed you from this meeting.", timeout=10_000)
        expect(host.get_by_text("Removed from the meeting.", exact=False)).to_be_visible(timeout=10_000)  # all done
        assert server.moderation(call_id)["blocked"] == [token["user"]["id"]]
        # Stream refusing the blocked guest (before or after the room channel says so) doesn't put its words there.
        expect(removed).to_have_text("The host removed you from this meeting.")
        guest.goto(url)
        expect(guest.get_by_test_id("meeting-removed")).to_be_visible(timeout=30_000)
    finally:
        client.release_joins()


def expect_watching(client: FakeStreamClientAPI, user_id: str, cid: str, timeout: float = 10.0) -> None:
    """Wait until this user's Stream connection has loaded (watches) the call."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c.user_id == user_id and cid in c.watching for c in client.live_connections()):
            return
        time.sleep(0.1)
    raise AssertionError(f"{user_id} never loaded {cid} at Stream")
