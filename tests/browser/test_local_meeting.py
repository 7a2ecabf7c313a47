"""Yoom's built-in meetings in Chromium: real peer-to-peer WebRTC between pages with fake camera and mic.

Each page is a separate browser context (its own account and cookies). Media is checked twice over:
the remote <video> element reports a frame size, and the RTCPeerConnection's inbound-rtp video bytes
keep growing (the bridge exposes its connections as `window.__yoomPeers`, a Map peer_id → RTCPeerConnection).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import new_account, sign_up, start_instant_meeting

MEDIA_TIMEOUT_MS = 30_000

PLAYING_REMOTE_VIDEOS = """() => [...document.querySelectorAll('[data-testid=remote-video]')]
    .filter(v => v.videoWidth > 0 && v.videoHeight > 0).length"""

INBOUND_VIDEO_BYTES = """async () => {
  const out = {};
  for (const [peerId, pc] of (window.__yoomPeers || new Map())) {
    const stats = await pc.getStats();
    let bytes = 0;
    stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') bytes += s.bytesReceived; });
    out[peerId] = bytes;
  }
  return out;
}"""

INBOUND_AUDIO_BYTES = """async () => {
  let bytes = 0;
  for (const pc of (window.__yoomPeers || new Map()).values()) {
    (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') bytes += s.bytesReceived; });
  }
  return bytes;
}"""

SENT_AUDIO_LABEL = """() => {
  const pc = [...window.__yoomPeers.values()][0];
  const sender = pc.getSenders().find((s) => s.track && s.track.kind === 'audio');
  return sender ? sender.track.label : null;
}"""

NO_PEERS = "() => !window.__yoomPeers || window.__yoomPeers.size === 0"

MARK_JOIN_CLICK = """() => document.addEventListener('click', (e) => {
  if (e.target.closest('[data-testid=join-meeting]')) window.__joinClickAt = performance.now();
}, true)"""


# The speaker's big tile sits on the named side of the bar of the others.
SPEAKER_SIDE = """(side) => {
  const main = document.querySelector('.yoom-lm-main');
  const bar = document.querySelector('.yoom-lm-bar');
  if (!main || !bar) return false;
  const m = main.getBoundingClientRect(), b = bar.getBoundingClientRect();
  return side === 'left' ? m.right <= b.left : b.right <= m.left;
}"""

# The elements matching the selector are one column, each below the one before (no overlap).
STACKED = """(selector) => {
  const boxes = [...document.querySelectorAll(selector)].map((e) => e.getBoundingClientRect());
  return boxes.length >= 2 && boxes.slice(1).every((box, i) =>
    Math.abs(box.left - boxes[i].left) < 1 && box.top >= boxes[i].bottom - 1);
}"""


def open_setup(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_test_id("local-setup")).to_be_visible(timeout=30_000)
    # The camera preview is live before joining.
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=local-preview]'); return v && v.videoWidth > 0; }",
        timeout=MEDIA_TIMEOUT_MS,
    )


def join(page: Page) -> None:
    page.evaluate(MARK_JOIN_CLICK)
    page.get_by_test_id("join-meeting").click()
    expect(page.get_by_test_id("local-in-call")).to_be_visible(timeout=20_000)
    expect(page.locator("[data-call-status=joined]")).to_be_visible(timeout=20_000)


def everyone_joins(app_url: str, *people: tuple[Page, str]) -> str:
    """Each page signs up with its name; the first starts an instant meeting and everyone joins it, in
    order. Returns the meeting's URL."""
    for page, name in people:
        sign_up(page, app_url, new_account(name))
    url = f"{app_url}/meeting/{start_instant_meeting(people[0][0])}"
    for page, _ in people:
        open_setup(page, url)
        join(page)
    return url


def wait_for_remote_video(page: Page, count: int) -> None:
    page.wait_for_function(f"() => ({PLAYING_REMOTE_VIDEOS})() >= {count}", timeout=MEDIA_TIMEOUT_MS)


def assert_video_flows_from(page: Page, peers: int) -> None:
    """One connection per other person, and every one of them keeps receiving video."""
    page.wait_for_function(f"() => (window.__yoomPeers || new Map()).size === {peers}", timeout=10_000)
    before = page.evaluate(INBOUND_VIDEO_BYTES)
    deadline = time.monotonic() + 15
    while True:
        time.sleep(0.5)
        after = page.evaluate(INBOUND_VIDEO_BYTES)
        grown = {p: after.get(p, 0) - before[p] for p in before}
        if all(delta > 2000 for delta in grown.values()):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"inbound video did not grow on every connection: {before} -> {after}")


def join_to_first_frame_ms(page: Page) -> float:
    return page.evaluate("() => window.__yoomFirstRemoteFrameAt - window.__joinClickAt")


def tile(page: Page, name: str):
    return page.locator(f'[data-testid=participant-tile][data-participant-name="{name}"]')


def choose_layout(page: Page, layout: str) -> None:
    """Pick a layout from the menu, as a person would: open it, click, and see it close and the tiles move.

    Radix animates the menu closed; a click on the trigger while it closes is lost, so the next choice
    waits until the menu is gone and the trigger says it's collapsed."""
    trigger = page.get_by_test_id("layout-switcher")
    expect(trigger).to_have_attribute("aria-expanded", "false")
    trigger.click()
    expect(page.get_by_role("menu")).to_be_visible()
    page.get_by_test_id(f"layout-{layout}").click()
    expect(page.get_by_role("menu")).to_have_count(0)
    expect(trigger).to_have_attribute("aria-expanded", "false")
    expect(page.locator(f"[data-layout={layout}]")).to_have_count(1)


def end_call_for_everyone(page: Page) -> None:
    page.get_by_test_id("end-call-for-everyone").click()
    page.get_by_test_id("confirm-end-call").click()


def test_two_people_see_each_other_and_the_host_ends_the_call(app_url, new_page):
    host, guest = new_page(), new_page()
    sign_up(host, app_url, new_account("Hana Host"))
    sign_up(guest, app_url, new_account("Gus Guest"))
    call_id = start_instant_meeting(host)
    assert re.fullmatch(r"[0-9a-f-]{36}", call_id)
    url = f"{app_url}/meeting/{call_id}"

    open_setup(host, url)
    join(host)
    open_setup(guest, url)
    # Device choice on the setup screen carries into the call.
    guest.get_by_label("Microphone", exact=True).select_option(label="Fake Audio Input 1")
    join(guest)

    for page in (host, guest):
        wait_for_remote_video(page, 1)
        assert_video_flows_from(page, peers=1)
    guest.wait_for_function(f"() => ({SENT_AUDIO_LABEL})() === 'Fake Audio Input 1'", timeout=10_000)
    host.wait_for_function(f"async () => (await ({INBOUND_AUDIO_BYTES})()) > 0", timeout=10_000)
    audio_before = host.evaluate(INBOUND_AUDIO_BYTES)
    host.wait_for_function(f"async (before) => (await ({INBOUND_AUDIO_BYTES})()) > before", arg=audio_before)
    print(
        f"\njoin click → first remote frame: guest {join_to_first_frame_ms(guest):.0f} ms "
        f"(host joined first and waited: {join_to_first_frame_ms(host):.0f} ms)"
    )

    # Names on the tiles; only the creator can end the call or record.
    expect(tile(host, "Gus Guest")).to_be_visible()
    expect(tile(guest, "Hana Host")).to_be_visible()
    expect(host.get_by_test_id("end-call-for-everyone")).to_be_visible()
    expect(host.get_by_role("button", name="Start recording")).to_be_visible()
    expect(guest.get_by_test_id("end-call-for-everyone")).to_have_count(0)
    expect(guest.get_by_role("button", name="Start recording")).to_have_count(0)

    # Mic and camera toggles reach the other side.
    guest.get_by_role("button", name="Toggle microphone").click()
    expect(tile(host, "Gus Guest").get_by_test_id("muted-indicator")).to_be_visible(timeout=10_000)
    guest.get_by_role("button", name="Toggle camera").click()
    expect(tile(host, "Gus Guest").locator(".yoom-lm-avatar")).to_be_visible(timeout=10_000)
    host.get_by_test_id("participants-toggle").click()
    row = host.get_by_test_id("participant-row").filter(has_text="Gus Guest")
    expect(row.get_by_label("Muted")).to_be_visible()
    expect(row.get_by_label("Camera off")).to_be_visible()

    end_call_for_everyone(host)
    expect(guest.get_by_test_id("meeting-ended")).to_be_visible(timeout=15_000)
    expect(guest.get_by_role("heading", name="This meeting was ended by the host")).to_be_visible()
    expect(host.get_by_test_id("meeting-ended")).to_be_visible(timeout=15_000)
    # The guest's connection is gone, and coming back shows the ended state, not the room.
    guest.wait_for_function(NO_PEERS, timeout=10_000)
    guest.goto(url)
    expect(guest.get_by_test_id("meeting-ended")).to_be_visible(timeout=20_000)
    guest.get_by_test_id("back-home").click()
    expect(guest.get_by_test_id("hero")).to_be_visible(timeout=20_000)


def test_three_people_mesh_layouts_phone_width_and_leave(app_url, new_page):
    host = new_page()
    second = new_page()
    phone = new_page(viewport={"width": 390, "height": 844})
    everyone_joins(app_url, (host, "Ada Host"), (second, "Bo Second"), (phone, "Cy Phone"))
    for page in (host, second, phone):
        wait_for_remote_video(page, 2)
        assert_video_flows_from(page, peers=2)
        expect(page.get_by_test_id("participant-tile")).to_have_count(3)

    # Layouts: grid and both speaker layouts, all three people in each, the speaker on the chosen side.
    for layout in ("grid", "speaker-right", "speaker-left"):
        choose_layout(host, layout)
        expect(host.locator(f"[data-layout={layout}] [data-testid=participant-tile]")).to_have_count(3)
        if layout != "grid":
            host.wait_for_function(SPEAKER_SIDE, arg=layout.removeprefix("speaker-"))

    # Phone width: nothing wider than the screen, the tiles stacked, the controls reachable.
    expect(phone.locator("[data-layout=speaker-left] [data-testid=participant-tile]")).to_have_count(3)
    phone.wait_for_function("() => document.documentElement.scrollWidth <= 390")
    phone.wait_for_function(STACKED, arg=".yoom-lm-main [data-testid=participant-tile], .yoom-lm-bar")
    expect(phone.get_by_role("button", name="Leave call")).to_be_in_viewport()
    choose_layout(phone, "grid")
    expect(phone.locator("[data-layout=grid] [data-testid=participant-tile]")).to_have_count(3)
    phone.wait_for_function(STACKED, arg="[data-layout=grid] [data-testid=participant-tile]")

    # Someone leaves: they land on Home, the others see two tiles within seconds.
    phone.get_by_role("button", name="Leave call").click()
    expect(phone.get_by_test_id("hero")).to_be_visible(timeout=20_000)
    for page in (host, second):
        expect(page.get_by_test_id("participant-tile")).to_have_count(2, timeout=10_000)
        expect(tile(page, "Cy Phone")).to_have_count(0)
        assert_video_flows_from(page, peers=1)


def test_join_muted_and_record_then_play_on_recordings(app_url, new_page):
    host, guest = new_page(), new_page()
    sign_up(host, app_url, new_account("Rita Recorder"))
    sign_up(guest, app_url, new_account("Quinn Quiet"))
    url = f"{app_url}/meeting/{start_instant_meeting(host)}"

    open_setup(host, url)
    join(host)
    open_setup(guest, url)
    guest.get_by_test_id("join-muted").click()
    expect(guest.get_by_text("Camera is off")).to_be_visible(timeout=10_000)
    join(guest)
    wait_for_remote_video(guest, 1)
    expect(tile(host, "Quinn Quiet").get_by_test_id("muted-indicator")).to_be_visible(timeout=15_000)
    expect(tile(host, "Quinn Quiet").locator(".yoom-lm-avatar")).to_be_visible()

    host.get_by_role("button", name="Start recording").click()
    expect(guest.get_by_test_id("recording-indicator")).to_be_visible(timeout=10_000)
    expect(host.get_by_role("button", name="Stop recording")).to_be_visible()
    time.sleep(4)
    host.get_by_role("button", name="Stop recording").click()
    expect(host.get_by_text("Recording saved")).to_be_visible(timeout=30_000)
    expect(guest.get_by_test_id("recording-indicator")).to_have_count(0, timeout=10_000)

    host.get_by_role("button", name="Leave call").click()
    expect(host.get_by_test_id("hero")).to_be_visible(timeout=20_000)
    host.goto(app_url + "/recordings")
    card = host.get_by_test_id("recording-card")
    expect(card).to_have_count(1, timeout=20_000)
    card.get_by_role("button", name="Play").click()
    player = host.get_by_test_id("recording-player")
    expect(player).to_be_visible()
    host.wait_for_function(
        """() => { const v = document.querySelector('[data-testid=recording-player]');
                   return v && v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0.2; }""",
        timeout=20_000,
    )
    assert host.evaluate("() => document.querySelector('[data-testid=recording-player]').error") is None
    host.get_by_role("dialog").get_by_role("button", name="Close").click()

    # The guest was there while it recorded: it is theirs to watch, not to delete.
    guest.get_by_role("button", name="Leave call").click()
    expect(guest.get_by_test_id("hero")).to_be_visible(timeout=20_000)
    guest.goto(app_url + "/recordings")
    guest_card = guest.get_by_test_id("recording-card")
    expect(guest_card).to_have_count(1, timeout=20_000)
    expect(guest_card.get_by_role("button", name="Play")).to_be_visible()
    expect(guest_card.get_by_role("button", name="Delete")).to_have_count(0)
    # Someone who was never in the meeting sees nothing.
    stranger = new_page()
    sign_up(stranger, app_url, new_account("Stan Stranger"))
    stranger.goto(app_url + "/recordings")
    expect(stranger.get_by_text("No recordings")).to_be_visible(timeout=20_000)

    # The host deletes it, after confirming; then it is gone for everyone.
    card.get_by_role("button", name="Delete").click()
    confirm = host.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Delete this recording?")
    confirm.get_by_role("button", name="Cancel").click()
    expect(card).to_have_count(1)
    card.get_by_role("button", name="Delete").click()
    host.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(host.get_by_text("Recording deleted.")).to_be_visible(timeout=20_000)
    expect(host.get_by_text("No recordings")).to_be_visible()
    guest.reload()
    expect(guest.get_by_text("No recordings")).to_be_visible(timeout=20_000)


def test_scheduled_meeting_not_started_for_guests_in_their_local_time(app_url, new_page):
    host = new_page(timezone_id="America/New_York")
    guest = new_page(timezone_id="Asia/Tokyo")
    sign_up(host, app_url, new_account("Sam Scheduler"))
    sign_up(guest, app_url, new_account("Tomo Early"))
    day = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=3)).date()
    host.get_by_test_id("card-schedule").click()
    host.get_by_label("Add a description").fill("Design review")
    host.get_by_label("Select date and time (your local time)").fill(f"{day.isoformat()}T09:30")
    host.get_by_role("button", name="Schedule Meeting").click()
    created = host.get_by_test_id("created-link")
    expect(created).to_have_text(re.compile(r"/meeting/[0-9a-f-]{36}$"))
    link = created.inner_text()

    guest.goto(link)
    expect(guest.get_by_test_id("meeting-not-started")).to_be_visible(timeout=20_000)
    starts = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ZoneInfo("America/New_York"))
    tokyo = starts.astimezone(ZoneInfo("Asia/Tokyo"))
    expected = f"{tokyo:%A, %B} {tokyo.day}, {tokyo.year} at {tokyo.hour % 12 or 12}:{tokyo:%M} {tokyo:%p}"
    expect(guest.get_by_test_id("scheduled-for")).to_have_text(f"Scheduled for {expected}")
    guest.get_by_test_id("check-again").click()
    expect(guest.get_by_test_id("meeting-not-started")).to_be_visible()
    expect(guest.get_by_test_id("local-setup")).to_have_count(0)

    # The host may start early, as in Zoom.
    host.goto(link)
    expect(host.get_by_test_id("local-setup")).to_be_visible(timeout=20_000)
    expect(host.get_by_text("Design review")).to_be_visible()


def test_home_page_loads_no_meeting_engine_but_the_meeting_page_does(app_url, new_page):
    """The engine (assets/local_meeting/) and its stylesheet are a chunk of their own, fetched by the
    meeting page only; its CSS speaks in the page's design tokens."""
    signup_page = new_page()
    sign_up(signup_page, app_url)
    page = signup_page.context.new_page()  # same cookies, fresh page: only what "/" itself downloads
    downloaded: dict[str, bytes] = {}

    def collect(response):
        if response.url.endswith((".js", ".css")):
            try:
                downloaded[response.url] = response.body()
            except Exception:  # a redirect or aborted request has no body
                pass

    page.on("response", collect)
    page.goto(app_url + "/")
    expect(page.get_by_test_id("hero")).to_be_visible(timeout=20_000)
    page.wait_for_load_state("networkidle")
    home = dict(downloaded)
    assert any(url.endswith(".js") for url in home), "no scripts seen: the check would prove nothing"
    for url, body in home.items():
        assert b"__yoomPeers" not in body and b".yoom-lm-" not in body, f"the home page downloaded the engine: {url}"

    open_setup(page, f"{app_url}/meeting/{start_instant_meeting(page)}")
    page.wait_for_load_state("networkidle")
    meeting = {url: body for url, body in downloaded.items() if url not in home}
    assert any(b"__yoomPeers" in body for url, body in meeting.items() if url.endswith(".js")), list(meeting)
    (css,) = [body for url, body in meeting.items() if url.endswith(".css") and b".yoom-lm-tile" in body]
    assert b"var(--yoom-dark-3)" in css
    assert not re.search(rb"#[0-9a-fA-F]{3,8}\b", css), "a colour that is not a design token"


def test_unknown_and_malformed_meeting_ids(app_url, page):
    sign_up(page, app_url)
    for call_id in ("00000000-0000-4000-8000-000000000000", "not%20an%20id"):
        page.goto(f"{app_url}/meeting/{call_id}")
        expect(page.get_by_test_id("meeting-not-found")).to_be_visible(timeout=20_000)
        expect(page.get_by_test_id("back-home")).to_be_visible()


def test_signed_out_visitor_is_sent_to_sign_in_and_back(app_url, new_page):
    host = new_page()
    sign_up(host, app_url)
    url = f"{app_url}/meeting/{start_instant_meeting(host)}"
    visitor = new_page()
    visitor.goto(url)
    visitor.wait_for_url(re.compile(r"/sign-in/?\?next=%2Fmeeting%2F"), timeout=20_000)
    expect(visitor.get_by_test_id("local-setup")).to_have_count(0)


def test_screen_share_and_a_dropped_connection_recovers(app_url, new_page):
    host, guest = new_page(), new_page()
    everyone_joins(app_url, (host, "Sia Sharer"), (guest, "Will Watcher"))
    wait_for_remote_video(guest, 1)

    # Screen share replaces the camera on the same connection (no renegotiation).
    host.get_by_role("button", name="Share screen").click()
    shared = guest.locator(".yoom-lm-screen [data-testid=remote-video]")
    expect(shared).to_have_count(1, timeout=15_000)
    guest.wait_for_function(
        "() => { const v = document.querySelector('.yoom-lm-screen [data-testid=remote-video]'); return v && v.videoWidth > 0; }",
        timeout=MEDIA_TIMEOUT_MS,
    )
    host.get_by_role("button", name="Share screen").click()
    expect(shared).to_have_count(0, timeout=15_000)

    # The guest's signaling socket drops: the guest joins again by itself and media flows again.
    before = host.evaluate("() => [...window.__yoomPeers.keys()]")
    guest.evaluate("() => window.__yoomCall.signaling.ws.close()")
    host.wait_for_function(
        "(old) => { const ids = [...window.__yoomPeers.keys()]; return ids.length === 1 && ids[0] !== old[0]; }",
        arg=before,
        timeout=20_000,
    )
    for page in (host, guest):
        wait_for_remote_video(page, 1)
        assert_video_flows_from(page, peers=1)
    expect(host.get_by_test_id("participant-tile")).to_have_count(2)


@pytest.fixture
def small_room_url(app_pool) -> str:
    """The app with rooms of two, so a third person meets a full room (the default is six)."""
    return app_pool.get({"YOOM_ROOM_CAPACITY": "2"}).url


def test_a_full_room_turns_the_next_person_away_with_a_clear_message(small_room_url, new_page):
    host, guest, late = new_page(), new_page(), new_page()
    url = everyone_joins(small_room_url, (host, "Fay Full"), (guest, "Gil Second"))
    wait_for_remote_video(host, 1)
    sign_up(late, small_room_url, new_account("Lou Late"))

    open_setup(late, url)
    late.get_by_test_id("join-meeting").click()
    expect(late.get_by_test_id("meeting-error")).to_be_visible(timeout=20_000)
    expect(late.get_by_test_id("meeting-error-message")).to_contain_text("full")
    late.wait_for_function(NO_PEERS, timeout=10_000)
    # The two inside are undisturbed.
    expect(host.get_by_test_id("participant-tile")).to_have_count(2)
    assert_video_flows_from(host, peers=1)

    # Once someone leaves, "Try again" gets the late person in.
    guest.get_by_role("button", name="Leave call").click()
    expect(guest.get_by_test_id("hero")).to_be_visible(timeout=20_000)
    late.get_by_test_id("retry").click()
    expect(late.get_by_test_id("local-setup")).to_be_visible(timeout=20_000)
    late.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=local-preview]'); return v && v.videoWidth > 0; }",
        timeout=MEDIA_TIMEOUT_MS,
    )
    join(late)
    wait_for_remote_video(late, 1)
    assert_video_flows_from(late, peers=1)
