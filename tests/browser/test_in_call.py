"""Inside an embedded meeting, in Chromium: chat (both ways, history for a late joiner, hostile text),
raised hands in order and the host lowering one, reactions, the clap control written in Python, a camera
switched mid-call, keyboard shortcuts, and a recording whose page is killed midway."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import new_account, sign_up
from tests.browser.test_local_meeting import (
    INBOUND_VIDEO_BYTES,
    everyone_joins,
    join,
    open_setup,
    tile,
    wait_for_remote_video,
)

pytestmark = pytest.mark.browser


def meeting_of(app_url: str, new_page, *names: str) -> tuple[str, list[Page]]:
    """The first person starts a meeting; everyone joins it, in order."""
    pages = [new_page() for _ in names]
    return everyone_joins(app_url, *zip(pages, names, strict=True)), pages


def open_chat(page: Page) -> None:
    if page.get_by_test_id("chat-panel").count() == 0:
        page.get_by_test_id("chat-toggle").click()
    expect(page.get_by_test_id("chat-panel")).to_be_visible()


def say(page: Page, text: str) -> None:
    open_chat(page)
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-input").press("Enter")


def messages(page: Page):
    return page.get_by_test_id("chat-message")


def test_chat_both_ways_with_history_for_a_late_joiner_and_hostile_text(app_url, new_page):
    url, (host, guest) = meeting_of(app_url, new_page, "Hana Host", "Gus Guest")
    hostile = '<img src=x onerror="window.__pwned=1"> see https://example.org/x?y=1 or javascript:alert(1)'
    say(guest, hostile)
    # The host's panel is closed: a badge counts the message.
    expect(host.get_by_test_id("chat-unread")).to_have_text("1", timeout=10_000)
    open_chat(host)
    expect(host.get_by_test_id("chat-unread")).to_have_count(0)
    message = messages(host).first
    expect(message).to_contain_text("Gus Guest")
    expect(message).to_contain_text('<img src=x onerror="window.__pwned=1"> see')
    expect(message.locator("img")).to_have_count(0)  # shown as text, never markup
    link = message.get_by_role("link", name="https://example.org/x?y=1")
    expect(link).to_have_attribute("href", "https://example.org/x?y=1")
    expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    expect(link).to_have_attribute("rel", re.compile(r"\bnoreferrer\b"))
    expect(message.get_by_role("link")).to_have_count(1)  # javascript: is no link
    expect(message).to_contain_text(re.compile(r"\d{1,2}:\d{2} [AP]M"))  # the viewer's local time
    assert host.evaluate("() => window.__pwned") is None
    say(host, "Welcome, Gus!")
    expect(messages(guest)).to_have_count(2, timeout=10_000)
    expect(messages(guest).nth(1)).to_contain_text("Welcome, Gus!")

    # Someone who joins late reads what was said before.
    late = new_page()
    sign_up(late, app_url, new_account("Lou Late"))
    open_setup(late, url)
    join(late)
    open_chat(late)
    expect(messages(late)).to_have_count(2, timeout=10_000)
    expect(messages(late).first).to_contain_text("see https://example.org/x?y=1")
    expect(late.get_by_test_id("chat-unread")).to_have_count(0)

    # Typing an "m" in the box mutes nobody.
    open_chat(guest)
    for n in range(3):
        guest.get_by_test_id("chat-input").fill(f"m{n}")
        guest.get_by_test_id("chat-input").press("Enter")
    expect(messages(host)).to_have_count(5, timeout=10_000)
    expect(tile(host, "Gus Guest").get_by_test_id("muted-indicator")).to_have_count(0)
    # A flood straight from the page's console is cut to the rate limit, with words for the sender.
    guest.evaluate("() => { for (let i = 0; i < 1000; i++) window.yoomRoom.chat('spam ' + i); }")
    expect(guest.get_by_test_id("chat-notice")).to_contain_text("too fast", timeout=10_000)
    host.wait_for_timeout(1000)
    assert messages(host).count() <= 5 + 5  # at most the burst got through
    assert (
        host.evaluate("() => window.__yoomCall.status") == "joined"
        and guest.evaluate("() => window.__yoomCall.status") == "joined"
    )
    guest.get_by_test_id("chat-input").evaluate("(el) => el.removeAttribute('maxlength')")
    guest.get_by_test_id("chat-input").fill("x" * 2001)
    guest.get_by_test_id("chat-input").press("Enter")
    expect(guest.get_by_test_id("chat-notice")).to_contain_text("2,000 characters")


def test_hands_in_raise_order_the_host_lowers_one_reactions_and_claps(app_url, new_page):
    _url, (host, second, third) = meeting_of(app_url, new_page, "Ada Host", "Bo Second", "Cy Third")
    wait_for_remote_video(host, 2)
    third.keyboard.press("h")  # the shortcut
    expect(host.get_by_test_id("hand-raised")).to_have_count(1, timeout=10_000)
    second.get_by_test_id("hand-toggle").click()
    expect(second.get_by_role("button", name="Lower hand")).to_be_visible(timeout=10_000)
    expect(tile(host, "Cy Third").get_by_test_id("hand-raised")).to_contain_text("1", timeout=10_000)
    expect(tile(host, "Bo Second").get_by_test_id("hand-raised")).to_contain_text("2")
    host.get_by_test_id("participants-toggle").click()
    raised = host.get_by_test_id("raised-hand")
    expect(raised).to_have_count(2)
    expect(raised.nth(0)).to_contain_text("Cy Third")
    expect(raised.nth(1)).to_contain_text("Bo Second")
    # Only the host can lower someone else's: second has no such button.
    second.get_by_test_id("participants-toggle").click()
    expect(second.get_by_test_id("raised-hand")).to_have_count(2)
    expect(second.get_by_role("button", name="Lower Cy Third's hand")).to_have_count(0)
    host.get_by_role("button", name="Lower Cy Third's hand").click()
    expect(tile(host, "Cy Third").get_by_test_id("hand-raised")).to_have_count(0, timeout=10_000)
    expect(tile(third, "Cy Third").get_by_test_id("hand-raised")).to_have_count(0)
    expect(tile(second, "Bo Second").get_by_test_id("hand-raised")).to_contain_text("1")
    host.get_by_test_id("lower-all-hands").click()
    expect(host.get_by_test_id("raised-hands")).to_have_count(0, timeout=10_000)

    # A reaction floats over its sender's tile for everyone.
    third.get_by_test_id("reactions-toggle").click()
    third.get_by_role("button", name="React 🎉").click()
    expect(tile(host, "Cy Third").get_by_test_id("reaction")).to_have_text("🎉", timeout=10_000)
    expect(tile(second, "Cy Third").get_by_test_id("reaction")).to_have_text("🎉")

    # The clap control, written in Python only, reaches everyone (its sender too).
    second.get_by_test_id("clap-button").click()
    second.get_by_test_id("clap-button").click()
    for page in (host, second, third):
        expect(page.get_by_test_id("clap-count")).to_have_text("2", timeout=10_000)


SENT_VIDEO = """() => {
  const pc = [...window.__yoomPeers.values()][0];
  const sender = pc.getSenders().find((s) => s.track && s.track.kind === 'video');
  return sender ? sender.track.label : null;
}"""

FRAMES_DECODED = """async () => {
  let frames = 0;
  for (const pc of window.__yoomPeers.values()) {
    (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded; });
  }
  return frames;
}"""


def test_a_camera_switched_mid_call_keeps_video_flowing(app_url, new_page):
    _url, (host, guest) = meeting_of(app_url, new_page, "Vera Viewer", "Cam Switcher")
    wait_for_remote_video(host, 1)
    guest.wait_for_function(f"() => ({SENT_VIDEO})() === 'fake_device_0'", timeout=10_000)
    guest.get_by_test_id("devices-toggle").click()
    expect(guest.get_by_label("Speaker")).to_be_visible()  # setSinkId: Chromium has it
    guest.get_by_label("Camera", exact=True).select_option(label="fake_device_1")
    guest.get_by_label("Speaker").select_option(label="Fake Audio Output 1")
    guest.wait_for_function(f"() => ({SENT_VIDEO})() === 'fake_device_1'", timeout=10_000)
    # The same connection carries the new camera (replaceTrack): frames keep arriving at the host.
    frames = host.evaluate(FRAMES_DECODED)
    host.wait_for_function(f"async () => (await ({FRAMES_DECODED})()) > {frames} + 30", timeout=20_000)
    before = host.evaluate(INBOUND_VIDEO_BYTES)
    host.wait_for_function(
        f"async (b) => {{ const now = await ({INBOUND_VIDEO_BYTES})(); return Object.keys(b).every((k) => now[k] > b[k] + 2000); }}",
        arg=before,
        timeout=15_000,
    )
    expect(tile(host, "Cam Switcher").locator(".yoom-lm-avatar")).to_have_count(0)
    assert guest.evaluate(
        "() => [...document.querySelectorAll('[data-testid=remote-video]')].every(v => v.sinkId !== '')"
    )


def test_keyboard_shortcuts_and_their_list(app_url, new_page):
    _url, (host, guest) = meeting_of(app_url, new_page, "Kim Keys", "Lee Listener")
    wait_for_remote_video(host, 1)
    guest.keyboard.press("Shift+?")
    dialog = guest.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    for key in ("M", "V", "H", "C", "P", "?"):
        expect(dialog.locator("dt", has_text=re.compile(f"^{re.escape(key)}$"))).to_have_count(1)
    guest.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    guest.keyboard.press("m")
    expect(tile(host, "Lee Listener").get_by_test_id("muted-indicator")).to_be_visible(timeout=10_000)
    guest.keyboard.press("v")
    expect(tile(host, "Lee Listener").locator(".yoom-lm-avatar")).to_be_visible(timeout=10_000)
    guest.keyboard.press("c")
    expect(guest.get_by_test_id("chat-panel")).to_be_visible()
    guest.get_by_test_id("chat-input").type("mvhp?")  # typing: no shortcut fires
    expect(guest.get_by_test_id("chat-input")).to_have_value("mvhp?")
    expect(tile(host, "Lee Listener").get_by_test_id("hand-raised")).to_have_count(0)
    expect(guest.get_by_test_id("participants-panel")).to_have_count(0)
    expect(guest.get_by_role("dialog")).to_have_count(0)
    guest.get_by_test_id("chat-input").blur()
    guest.keyboard.press("p")
    expect(guest.get_by_test_id("participants-panel")).to_be_visible()
    guest.keyboard.press("m")
    expect(tile(host, "Lee Listener").get_by_test_id("muted-indicator")).to_have_count(0, timeout=10_000)


def test_a_recording_whose_page_is_killed_is_on_recordings_playable_and_seekable(app_url, new_page):
    _url, (host, guest) = meeting_of(app_url, new_page, "Rex Recorder", "Pia Present")
    wait_for_remote_video(host, 1)
    stored = []  # what the server said it holds after each part

    def on_part(response):
        if re.search(r"/uploads/[0-9a-f]+/parts/", response.url) and response.status == 200:
            stored.append(response.json()["size_bytes"])

    host.on("response", on_part)
    host.get_by_role("button", name="Start recording").click()
    expect(guest.get_by_test_id("recording-indicator")).to_be_visible(timeout=10_000)
    deadline = time.monotonic() + 45
    while len(stored) < 2:  # two parts (one every 10 s) reached the server
        assert time.monotonic() < deadline, f"parts stored: {stored}"
        host.wait_for_timeout(500)
    host.close()  # the tab is gone at once: no unload handler, no last part, no "complete"
    expect(guest.get_by_test_id("recording-indicator")).to_have_count(0, timeout=15_000)

    # The host comes back: once the upload has been quiet long enough, the recording is on Recordings.
    back = host.context.new_page()
    started = time.monotonic()
    card = back.get_by_test_id("recording-card")
    while True:
        back.goto(app_url + "/recordings")
        try:
            expect(card).to_have_count(1, timeout=8_000)
            break
        except AssertionError:
            assert time.monotonic() - started < 90, "the killed recording never showed up on Recordings"
    card.get_by_role("button", name="Play").click()
    back.wait_for_function(
        """() => { const v = document.querySelector('[data-testid=recording-player]');
                   return v && v.readyState >= 1 && v.duration > 0; }""",
        timeout=20_000,
    )
    player = "document.querySelector('[data-testid=recording-player]')"
    duration = back.evaluate(f"() => {player}.duration")
    # Everything up to the last part that arrived: its bytes (plus the index the server adds), a known length.
    size = back.evaluate(
        f"async () => Number((await fetch({player}.currentSrc, {{method: 'HEAD', credentials: 'include'}}))"
        ".headers.get('content-length'))"
    )
    assert stored[-1] <= size <= stored[-1] + 16 * 1024, (stored, size)
    assert 2 < duration < 60, duration
    back.evaluate(f"(t) => {{ const v = {player}; v.pause(); v.currentTime = t; }}", duration / 2)
    back.wait_for_function(
        f"""(t) => {{ const v = {player};
                    return !v.seeking && Math.abs(v.currentTime - t) < 1 && v.readyState >= 2; }}""",
        arg=duration / 2,
        timeout=20_000,
    )
    assert back.evaluate(f"() => {player}.error") is None
