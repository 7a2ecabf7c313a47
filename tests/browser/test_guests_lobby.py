"""Guests, the lobby and the host's moderation in Chromium, on the embedded provider: three pages (the host,
a guest without an account, a signed-in person), each its own browser context, in one app."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import new_account, sign_up
from tests.browser.test_local_meeting import (
    assert_video_flows_from,
    join,
    open_setup,
    tile,
    wait_for_remote_video,
)


def start_meeting(page: Page, *, guests: bool = False, ask: bool = False) -> str:
    """From Home: New Meeting with who may join chosen, → Start Meeting; returns the meeting id."""
    page.get_by_test_id("card-new").click()
    if guests:
        page.get_by_test_id("new-allow-guests").click()
        expect(page.get_by_test_id("new-allow-guests")).to_be_checked()
    if ask:
        page.get_by_test_id("new-ask-to-join").click()
        expect(page.get_by_test_id("new-ask-to-join")).to_be_checked()
    page.get_by_role("button", name="Start Meeting").click()
    page.wait_for_url("**/meeting/**", timeout=20_000)
    return page.url.rstrip("/").split("/meeting/")[1].split("?")[0]


def join_as_guest(page: Page, url: str, name: str) -> None:
    page.goto(url)
    expect(page.get_by_test_id("meeting-guest")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_test_id("guest-name").fill(name)
    page.get_by_test_id("join-as-guest").click()
    expect(page.get_by_test_id("local-setup")).to_be_visible(timeout=30_000)


def ask_to_join(page: Page) -> None:
    button = page.get_by_test_id("join-meeting")
    expect(button).to_have_text("Ask to join")
    button.click()
    expect(page.get_by_test_id("meeting-lobby")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Waiting for the host to let you in")).to_be_visible()


def knock_row(host: Page, name: str):
    return host.get_by_test_id("knock").filter(has=host.get_by_test_id("knock-name").get_by_text(name, exact=True))


def test_a_guest_joins_an_open_meeting_by_link_and_both_see_each_others_video(app_url, new_page):
    host, guest = new_page(), new_page()
    sign_up(host, app_url, new_account("Hana Host"))
    call_id = start_meeting(host, guests=True)
    url = f"{app_url}/meeting/{call_id}"
    open_setup(host, url)
    expect(host.get_by_test_id("room-access")).to_have_text("Anyone with the link (guests too)")
    join(host)

    # A name that is too long, or markup, is no trouble: refused with words, or shown as typed text.
    guest.goto(url)
    expect(guest.get_by_test_id("meeting-guest")).to_be_visible(timeout=30_000)
    expect(guest.get_by_test_id("access-summary")).to_contain_text("Anyone with the link")
    guest.get_by_test_id("guest-name").fill("   ")
    guest.get_by_test_id("join-as-guest").click()
    expect(guest.get_by_test_id("guest-error")).to_have_text("Type your name to join.")
    name = "<b>Gia</b>"
    join_as_guest(guest, url, name)
    join(guest)

    for page in (host, guest):
        wait_for_remote_video(page, 1)
        assert_video_flows_from(page, peers=1)
    # Shown to the others as a guest, the markup as plain text.
    expect(tile(host, f"{name} (guest)")).to_be_visible(timeout=20_000)
    expect(host.get_by_text(f"{name} (guest)", exact=True)).to_be_visible()  # as typed, not bold "Gia"

    # The guest sees only the room: the lists and recordings ask for an account.
    guest.goto(f"{app_url}/upcoming")
    expect(guest.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)
    expect(guest).to_have_url(re.compile(r"/sign-in\?next=%2Fupcoming"))


def test_a_knocker_is_admitted_by_the_host_and_another_denied(app_url, new_page):
    host, guest, member = new_page(), new_page(), new_page()
    sign_up(host, app_url, new_account("Hana Host"))
    sign_up(member, app_url, new_account("Dee Member"))
    call_id = start_meeting(host, guests=True, ask=True)
    url = f"{app_url}/meeting/{call_id}"
    open_setup(host, url)

    # The guest knocks while the host is still on the setup screen: told that nobody can let them in yet.
    join_as_guest(guest, url, "Kim")
    ask_to_join(guest)
    expect(guest.get_by_test_id("lobby-host-status")).to_contain_text("isn't in the meeting yet")

    join(host)
    expect(guest.get_by_test_id("lobby-host-status")).to_have_text("The host knows you're here.", timeout=10_000)
    expect(knock_row(host, "Kim")).to_be_visible(timeout=10_000)

    # The signed-in person knocks too, and the host sees it in real time.
    open_setup(member, url)
    expect(member.get_by_test_id("room-access")).to_have_text("Anyone with the link (guests too) · ask to join")
    ask_to_join(member)
    expect(knock_row(host, "Dee Member")).to_be_visible(timeout=10_000)

    knock_row(host, "Kim").get_by_test_id("admit").click()
    expect(guest.get_by_test_id("local-in-call")).to_be_visible(timeout=20_000)
    for page in (host, guest):
        wait_for_remote_video(page, 1)
    expect(tile(host, "Kim (guest)")).to_be_visible(timeout=20_000)

    knock_row(host, "Dee Member").get_by_test_id("deny").click()
    expect(member.get_by_test_id("meeting-denied")).to_be_visible(timeout=10_000)
    expect(member.get_by_text("The host didn't let you in")).to_be_visible()
    expect(host.get_by_test_id("knock")).to_have_count(0)
    # Reloading doesn't get past the answer.
    member.reload()
    expect(member.get_by_test_id("meeting-denied")).to_be_visible(timeout=30_000)


def test_the_host_removes_a_participant_who_then_cannot_rejoin(app_url, new_page):
    host, member = new_page(), new_page()
    sign_up(host, app_url, new_account("Hana Host"))
    sign_up(member, app_url, new_account("Rae Removed"))
    call_id = start_meeting(host)
    url = f"{app_url}/meeting/{call_id}"
    open_setup(host, url)
    join(host)
    open_setup(member, url)
    join(member)
    wait_for_remote_video(host, 1)

    # Ask everyone to mute: the participant's microphone goes off.
    expect(member.get_by_test_id("toggle-mic")).to_have_attribute("aria-pressed", "true")
    host.get_by_test_id("moderation-toggle").click()
    panel = host.get_by_test_id("moderation-panel")
    expect(panel.get_by_test_id("access-summary")).to_have_text("Signed-in people only")
    panel.get_by_test_id("mute-everyone").click()
    expect(member.get_by_test_id("toggle-mic")).to_have_attribute("aria-pressed", "false", timeout=10_000)

    row = panel.get_by_test_id("person").filter(has_text="Rae Removed")
    row.get_by_test_id("remove-person").click()
    expect(member.get_by_text("The host removed you from this meeting.")).to_be_visible(timeout=10_000)
    expect(tile(host, "Rae Removed")).to_have_count(0, timeout=20_000)

    # Coming back by the link is refused, until the host lets them in again.
    member.goto(url)
    expect(member.get_by_test_id("meeting-removed")).to_be_visible(timeout=30_000)
    member.get_by_test_id("ask-back").click()
    expect(member.get_by_test_id("meeting-lobby")).to_be_visible(timeout=20_000)
    knock_row(host, "Rae Removed").get_by_test_id("admit").click()
    expect(member.get_by_test_id("local-in-call")).to_be_visible(timeout=20_000)
    expect(tile(host, "Rae Removed")).to_be_visible(timeout=20_000)
