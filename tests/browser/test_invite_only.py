"""Invite-only meetings in the browser (embedded provider): the host invites one person; only they get in."""

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from tests.browser.helpers import new_account, sign_up

INVITE_ONLY_MESSAGE = "This meeting is invite-only. Ask the host to invite you."


def test_invite_only_meeting_admits_the_invitee_and_turns_a_stranger_away(new_page, app_url):
    host = new_page()
    sign_up(host, app_url, new_account("Hedy Lamarr"))
    bob = new_page()
    bob_account = sign_up(bob, app_url, new_account("Bob Kahn"))
    stranger = new_page()
    sign_up(stranger, app_url, new_account("Carl Stranger"))

    # Starting in a few minutes: upcoming, and open to its invitees (10 minutes early).
    soon = (datetime.now() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    host.get_by_test_id("card-schedule").click()
    dialog = host.get_by_role("dialog")
    dialog.get_by_label("Add a description").fill("Frequency hopping review")
    dialog.get_by_label("Select date and time (your local time)").fill(soon)
    dialog.get_by_label("Invite people").fill(f"{bob_account.username}, nobody-{bob_account.username}")
    switch = dialog.get_by_role("switch", name="Invite only")
    switch.click()
    expect(switch).to_be_checked()
    expect(dialog.get_by_test_id("invite-only-hint")).to_have_text("Only you and the people you invite can join.")
    # Only an invite-only meeting can share its recordings with the invitees; off unless chosen.
    share = dialog.get_by_role("switch", name="Share recordings with invitees")
    expect(share).not_to_be_checked()
    share.click()
    expect(dialog.get_by_test_id("share-recordings-hint")).to_contain_text("Everyone you invite can watch")
    dialog.get_by_role("button", name="Schedule Meeting").click()
    expect(dialog.get_by_role("alert")).to_have_text(f"No Yoom account for: nobody-{bob_account.username}")

    dialog.get_by_label("Invite people").fill(bob_account.username.upper())
    # The edit clears the error; the dialog shrinks and its button moves: press it once it stands still.
    expect(dialog.get_by_role("alert")).to_have_count(0)
    dialog.get_by_role("button", name="Schedule Meeting").click()
    expect(dialog).to_contain_text("Meeting Created", timeout=15_000)
    expect(dialog.get_by_test_id("created-invite-only")).to_be_visible()
    expect(dialog.get_by_test_id("created-share-recordings")).to_be_visible()
    expect(dialog.get_by_test_id("created-invited")).to_contain_text("1 invited")
    link = dialog.get_by_test_id("created-link").inner_text()
    assert re.fullmatch(re.escape(app_url) + r"/meeting/[0-9a-f-]{36}", link), link

    # The invitee finds it among their upcoming meetings and gets to the setup screen.
    bob.goto(app_url + "/upcoming")
    card = bob.get_by_test_id("meeting-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Frequency hopping review")
    card.get_by_role("button", name="Start").click()
    bob.wait_for_url(re.compile(re.escape(link.replace(app_url, "")) + "/?$"))
    expect(bob.get_by_test_id("local-setup")).to_be_visible(timeout=20_000)
    expect(bob.get_by_test_id("join-meeting")).to_be_visible()

    # Someone with the link but no invitation: the not-allowed state, nothing about the meeting, Back to Home.
    stranger.goto(app_url + "/upcoming")
    expect(stranger.get_by_text("No upcoming meetings")).to_be_visible()
    stranger.goto(link)
    not_allowed = stranger.get_by_test_id("meeting-not-allowed")
    expect(not_allowed).to_be_visible(timeout=20_000)
    expect(stranger.get_by_test_id("not-allowed-message")).to_have_text(INVITE_ONLY_MESSAGE)
    expect(stranger.get_by_test_id("meeting-page")).to_have_attribute("data-phase", "not_allowed")
    expect(stranger.get_by_text("Frequency hopping review")).to_have_count(0)
    expect(stranger.get_by_test_id("local-setup")).to_have_count(0)
    stranger.get_by_role("button", name="Back to Home").click()
    expect(stranger.get_by_test_id("hero")).to_be_visible(timeout=20_000)
    assert stranger.url.rstrip("/") == app_url
