"""In the call: "Copy invite link" and the waiting hint, and a heartbeat that survives throttled timers.

Built-in meetings (provider "local"), two real Chromium pages with fake camera and mic.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.browser.helpers import clear_clipboard, expect_clipboard, new_account, sign_up, start_instant_meeting
from tests.browser.test_local_meeting import join, open_setup, tile

# What a hidden tab's throttling does at its worst, on purpose: every timer the page already has stops
# firing (timer ids are small increasing integers), and new ones never fire. A dedicated worker's own
# timers are untouched (they live in the worker, not in this window).
STOP_PAGE_TIMERS = """() => {
  const top = setTimeout(() => {}, 0);
  for (let id = 0; id <= top + 1000; id++) { clearTimeout(id); clearInterval(id); }
  window.setInterval = () => 0;
  window.setTimeout = () => 0;
  window.__yoomTimersStopped = true;
}"""

PEER_IDS = "() => [...(window.__yoomPeers || new Map()).keys()].sort()"

# The hint's box is centred on the participants view (both measured in the same frame).
HINT_CENTRED = """() => {
  const view = document.querySelector('[data-testid=participants-view]');
  const hint = document.querySelector('[data-testid=waiting-hint] [role=status]');
  if (!view || !hint) return false;
  const v = view.getBoundingClientRect(), h = hint.getBoundingClientRect();
  return h.width > 0 && Math.abs((h.left + h.width / 2) - (v.left + v.width / 2)) < 4
    && Math.abs((h.top + h.height / 2) - (v.top + v.height / 2)) < 4;
}"""


def copy_from_controls(page, expected: str) -> None:
    clear_clipboard(page)
    page.get_by_test_id("call-controls-bar").get_by_role("button", name="Copy invite link").click()
    expect(page.get_by_text("Link copied").first).to_be_visible(timeout=10_000)
    expect_clipboard(page, expected)


def test_copy_invite_link_and_the_waiting_hint(app_url, new_page):
    host, guest = new_page(), new_page()
    sign_up(host, app_url, new_account("Hana Host"))
    sign_up(guest, app_url, new_account("Gus Guest"))
    call_id = start_instant_meeting(host)
    url = f"{app_url}/meeting/{call_id}"

    open_setup(host, url)
    expect(host.get_by_test_id("waiting-hint")).to_have_count(0)  # not on the setup screen
    join(host)
    hint = host.get_by_test_id("waiting-hint")
    expect(hint).to_be_visible(timeout=10_000)
    expect(hint).to_contain_text("Waiting for others to join")
    # The hint sits over my own tile, centred on it.
    host.wait_for_function(HINT_CENTRED, timeout=10_000)

    copy_from_controls(host, url)
    # The hint's own button copies the same link.
    clear_clipboard(host)
    hint.get_by_role("button", name="Copy invite link").click()
    expect_clipboard(host, url)

    open_setup(guest, url)
    join(guest)
    expect(tile(host, "Gus Guest")).to_be_visible(timeout=20_000)
    expect(host.get_by_test_id("waiting-hint")).to_have_count(0, timeout=10_000)
    expect(guest.get_by_test_id("waiting-hint")).to_have_count(0)
    # The guest can invite people too.
    copy_from_controls(guest, url)

    # Alone again: the hint comes back.
    guest.get_by_role("button", name="Leave call").click()
    expect(host.get_by_test_id("waiting-hint")).to_be_visible(timeout=20_000)


def test_personal_room_invite_keeps_the_personal_flag(app_url, new_page):
    host = new_page()
    sign_up(host, app_url, new_account("Pia Personal"))
    host.goto(app_url + "/personal-room")
    # The id comes from the server once the page has loaded: wait for it rather than read an empty field.
    expect(host.get_by_test_id("room-id")).to_have_text(re.compile(r"^[A-Za-z0-9_-]{12}$"), timeout=20_000)
    room_id = host.get_by_test_id("room-id").inner_text()
    host.get_by_role("button", name="Start Meeting").click()
    host.wait_for_url(re.compile(f"/meeting/{room_id}/?\\?personal=true$"), timeout=20_000)
    expect(host.get_by_test_id("local-setup")).to_be_visible(timeout=30_000)
    join(host)
    copy_from_controls(host, f"{app_url}/meeting/{room_id}?personal=true")


def host_and_guest_in_a_call(app_url, new_page, guest_init_script: str | None = None):
    """Hana starts a meeting, Gus joins it; returns both pages and Gus's peer id as Hana sees it."""
    host, guest = new_page(), new_page()
    if guest_init_script:
        guest.add_init_script(guest_init_script)
    sign_up(host, app_url, new_account("Hana Host"))
    sign_up(guest, app_url, new_account("Gus Guest"))
    url = f"{app_url}/meeting/{start_instant_meeting(host)}"
    open_setup(host, url)
    join(host)
    open_setup(guest, url)
    join(guest)
    expect(tile(host, "Gus Guest")).to_be_visible(timeout=20_000)
    host.wait_for_function(f"() => ({PEER_IDS})().length === 1")
    return host, guest, host.evaluate(PEER_IDS)


def test_a_page_whose_timers_are_throttled_stays_in_the_call(app_url, new_page):
    host, guest, guest_on_host = host_and_guest_in_a_call(app_url, new_page)
    assert guest.evaluate("() => window.__yoomCall.signaling.pingTicker.kind") == "worker"

    guest.evaluate(STOP_PAGE_TIMERS)
    # The server drops a socket it hears nothing from for 10 s (docs/rtc-protocol.md).
    time.sleep(15)

    # Still the same person on the same connection: no peer-left, no rejoin.
    assert host.evaluate(PEER_IDS) == guest_on_host
    expect(tile(host, "Gus Guest")).to_be_visible()
    assert guest.evaluate("() => window.__yoomCall.status") == "joined"
    assert guest.evaluate("() => window.__yoomCall.signaling.ws && window.__yoomCall.signaling.ws.readyState") == 1
    assert guest.evaluate("() => window.__yoomTimersStopped") is True


def test_without_workers_the_heartbeat_falls_back_to_a_timer(app_url, new_page):
    host, guest, guest_on_host = host_and_guest_in_a_call(
        app_url, new_page, "window.Worker = function () { throw new Error('workers are disabled here'); };"
    )
    assert guest.evaluate("() => window.__yoomCall.signaling.pingTicker.kind") == "timer"
    time.sleep(12)  # past the server's 10 s heartbeat
    assert host.evaluate(PEER_IDS) == guest_on_host
    assert guest.evaluate("() => window.__yoomCall.status") == "joined"
    # Leaving stops the clock with the socket.
    guest.get_by_role("button", name="Leave call").click()
    guest.wait_for_url(app_url + "/", timeout=20_000)
    expect(tile(host, "Gus Guest")).to_have_count(0, timeout=20_000)
