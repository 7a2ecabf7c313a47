"""A restart of Yoom's server (a deploy) loses no meeting: two pages in an embedded meeting while the server is
stopped and started again on the same port.

Media is peer-to-peer, so it keeps flowing while the server is away: the same RTCPeerConnections keep
decoding frames on both pages, the pages say "Reconnecting…" in plain words (never Reflex's "Cannot connect
to server: websocket error…"), and once the server is back both pages are still in the room, with the same
connections, and signaling works again: a mute reaches the other side and a late joiner connects to both.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import new_account, sign_up
from tests.browser.test_in_call import meeting_of, messages, open_chat, say
from tests.browser.test_local_meeting import assert_video_flows_from, join, open_setup, tile, wait_for_remote_video

OUTAGE_SECONDS = 8
FRAMEWORK_WORDS = ("Cannot connect to server", "websocket error", "Check if server is reachable")

# Video frames decoded so far on each of this page's connections (peer id → frames).
FRAMES_DECODED = """async () => {
  const out = {};
  for (const [peerId, pc] of (window.__yoomPeers || new Map())) {
    let frames = 0;
    (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0; });
    out[peerId] = frames;
  }
  return out;
}"""

KEEP_CONNECTIONS = "() => { window.__keptConnections = [...window.__yoomPeers.values()]; }"
SAME_CONNECTIONS = """() => {
  const now = [...(window.__yoomPeers || new Map()).values()];
  return now.length === window.__keptConnections.length && now.every((pc) => window.__keptConnections.includes(pc));
}"""


def frames(page: Page) -> int:
    """Frames decoded on the page's one connection (fails if it has none, or another than before)."""
    counts = page.evaluate(FRAMES_DECODED)
    assert len(counts) == 1, counts
    return next(iter(counts.values()))


def assert_no_framework_words(page: Page) -> None:
    text = page.inner_text("body")
    for words in FRAMEWORK_WORDS:
        assert words not in text, f"framework error text on the page: {text[:500]!r}"


def test_a_backend_restart_keeps_the_call_and_signaling_comes_back(local_app, new_page):
    app_url = local_app.url
    url, (host, guest) = meeting_of(app_url, new_page, "Rhea Restart", "Gil Deploy")
    for page in (host, guest):
        wait_for_remote_video(page, 1)
        assert_video_flows_from(page, peers=1)
        page.evaluate(KEEP_CONNECTIONS)
    say(guest, "Deploying now")
    open_chat(host)
    expect(messages(host)).to_have_count(1, timeout=10_000)
    expect(messages(host).first).to_contain_text("Deploying now")

    # The deploy: the server goes away for a while.
    local_app.stop_backend()
    stopped_at = time.monotonic()
    last = {page: frames(page) for page in (host, guest)}
    samples = 0
    while time.monotonic() - stopped_at < OUTAGE_SECONDS:
        time.sleep(1.0)
        for page in (host, guest):
            now = frames(page)
            assert now > last[page], f"video stopped {time.monotonic() - stopped_at:.1f}s into the outage"
            last[page] = now
            assert page.evaluate(SAME_CONNECTIONS), "a peer connection was torn down while the server was away"
            expect(page.get_by_test_id("local-in-call")).to_be_visible()
            assert_no_framework_words(page)
        samples += 1
    assert samples >= 3, f"only {samples} samples in the outage"
    for page in (host, guest):
        # Plain words: one notice on screen (the page's; the call's own gives way to it), and the call's
        # live region for screen readers.
        expect(page.locator("[data-call-status=reconnecting]")).to_have_count(1)
        expect(page.get_by_test_id("connection-notice")).to_contain_text("Reconnecting…", timeout=10_000)
        expect(page.locator(".yoom-lm-status")).to_be_hidden()
        expect(page.get_by_test_id("call-announcements")).to_contain_text("Reconnecting…")
        assert_no_framework_words(page)

    restart_seconds = local_app.start_backend()
    back_at = time.monotonic()
    for page in (host, guest):
        expect(page.locator("[data-call-status=joined]")).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("connection-notice")).to_have_count(0, timeout=30_000)
    rejoined_seconds = time.monotonic() - back_at
    for page in (host, guest):
        expect(page.get_by_test_id("meeting-page")).to_have_attribute("data-phase", "in_call")
        expect(page.get_by_test_id("local-setup")).to_have_count(0)
        assert page.evaluate(SAME_CONNECTIONS), "the call was negotiated again instead of kept"
        assert_video_flows_from(page, peers=1)
        expect(page.get_by_test_id("call-announcements")).to_contain_text("Reconnected")
        assert_no_framework_words(page)
    expect(tile(host, "Gil Deploy")).to_be_visible()
    expect(tile(guest, "Rhea Restart")).to_be_visible()
    print(
        f"\noutage {OUTAGE_SECONDS}s, server start {restart_seconds:.1f}s, "
        f"both pages joined again {rejoined_seconds:.1f}s after it answered"
    )

    # What was said before is still there, and chat goes on.
    expect(host.get_by_test_id("chat-panel")).to_be_visible()
    expect(messages(host)).to_have_count(1)
    expect(messages(host).first).to_contain_text("Deploying now")
    say(host, "Welcome back")
    expect(messages(guest)).to_have_count(2, timeout=10_000)
    expect(messages(guest).nth(1)).to_contain_text("Welcome back")

    # Signaling works again: a mute reaches the other side...
    guest.get_by_role("button", name="Toggle microphone").click()
    expect(tile(host, "Gil Deploy").get_by_test_id("muted-indicator")).to_be_visible(timeout=10_000)

    # ...and someone joining after the restart connects to both.
    late = new_page()
    sign_up(late, app_url, new_account("Lia Late"))
    open_setup(late, url)
    join(late)
    wait_for_remote_video(late, 2)
    assert_video_flows_from(late, peers=2)
    for page in (host, guest):
        expect(page.get_by_test_id("participant-tile")).to_have_count(3, timeout=20_000)
        wait_for_remote_video(page, 2)
        assert_video_flows_from(page, peers=2)
    expect(tile(late, "Gil Deploy").get_by_test_id("muted-indicator")).to_be_visible()


@pytest.fixture(autouse=True)
def _no_leftover_outage(local_app):
    """A failed test must not leave the shared app stopped for the tests after it."""
    yield
    if local_app.process.poll() is not None:
        local_app.start_backend()
