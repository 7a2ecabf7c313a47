"""Accessibility in Chromium: axe-core on every route and state, the keyboard alone, and the call's live region.

axe-core is the npm package `make setup` installs (pinned in the Makefile) into .tools/; each check injects
it into the page as it stands and runs its default rules (WCAG 2.x A and AA, and best practices). A
critical or serious violation fails the test; moderate and minor ones are printed (the README lists the
ones left, with the reason). Every route's results are also written to test-results/accessibility.txt.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import ROOT
from tests.browser.helpers import new_account, sign_up, start_instant_meeting
from tests.browser.test_guests_lobby import ask_to_join, join_as_guest, knock_row, start_meeting
from tests.browser.test_local_meeting import join, open_setup
from tests.browser.test_stream_room import stream_app, stream_fakes  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

AXE = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("critical", "serious")
RESULTS = ROOT / "test-results" / "accessibility.txt"

RUN_AXE = """
async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " — " + (n.failureSummary || "").split("\\n").slice(1).join(" ")),
    count: v.nodes.length,
  }));
}
"""


@pytest.fixture(scope="module")
def results():
    lines: list[str] = []
    yield lines
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as out:
        out.write("\n".join(lines) + "\n")


def audit(page: Page, route: str, results: list[str]) -> None:
    """axe on the page as it is now: no critical or serious violation."""
    assert AXE.exists(), f"axe-core is missing at {AXE}: run `make setup`"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    # Colours are read as drawn: wait for a dialog's fade-in (and any other animation) to end.
    page.wait_for_function(
        "() => document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)"
    )
    violations = page.evaluate(RUN_AXE)
    counts = {impact: sum(v["count"] for v in violations if v["impact"] == impact) for impact in FAILING_IMPACTS}
    others = [f"{v['id']} ({v['impact']}, {v['count']})" for v in violations if v["impact"] not in FAILING_IMPACTS]
    results.append(
        f"{route:<34} critical {counts['critical']}  serious {counts['serious']}  others: {', '.join(others) or 'none'}"
    )
    print(results[-1])
    bad = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert not bad, f"{route}: " + "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in bad
    )


def dialog(page: Page):
    return page.get_by_role("dialog")


def test_signed_out_pages(page, app_url, results):
    page.goto(app_url + "/sign-in")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=20_000)
    audit(page, "sign-in", results)
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("button", name="Create account")).to_be_visible(timeout=20_000)
    audit(page, "sign-up", results)
    # The form's error, in its callout.
    page.get_by_label("Your name").fill("Ada")
    page.get_by_label("Username or email").fill("ada" + new_account().username)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_be_visible(timeout=20_000)
    audit(page, "sign-up (with an error)", results)


def test_home_dialogs_lists_and_meeting_states(new_page, app_url, results):
    page = new_page()
    sign_up(page, app_url, new_account("Alma Access"))
    expect(page.get_by_test_id("clock-time")).to_be_visible()
    audit(page, "home", results)

    for card, title in (("card-new", "Start an Instant Meeting"), ("card-join", "Type the link here")):
        page.get_by_test_id(card).click()
        expect(dialog(page)).to_contain_text(title)
        audit(page, f"home, dialog “{title}”", results)
        page.keyboard.press("Escape")
        expect(dialog(page)).to_have_count(0)

    page.get_by_test_id("card-schedule").click()
    expect(dialog(page)).to_contain_text("Create Meeting")
    audit(page, "home, dialog “Create Meeting”", results)
    when = (datetime.now() + timedelta(days=2)).replace(hour=10, minute=0)
    page.get_by_label("Add a description").fill("Accessibility review")
    page.get_by_label("Select date and time (your local time)").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("switch", name="Invite only").click()
    page.get_by_role("button", name="Schedule Meeting").click()
    created = page.get_by_test_id("created-link")
    expect(created).to_have_text(re.compile(r"/meeting/[0-9a-f-]{36}$"), timeout=15_000)
    audit(page, "home, dialog “Meeting Created”", results)
    link = created.inner_text()
    page.keyboard.press("Escape")

    for path, heading in (
        ("/upcoming", "Upcoming Meetings"),
        ("/previous", "Previous Meetings"),
        ("/recordings", "Recordings"),
        ("/personal-room", "Personal Meeting Room"),
    ):
        page.goto(app_url + path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible(timeout=20_000)
        page.wait_for_load_state("networkidle")
        audit(page, path, results)

    page.goto(app_url + "/meeting/00000000-0000-4000-8000-000000000000")
    expect(page.get_by_test_id("meeting-not-found")).to_be_visible(timeout=20_000)
    audit(page, "meeting: not found", results)

    # Someone else with the invite-only link, and (its host aside) nobody may join before it opens.
    stranger = new_page()
    sign_up(stranger, app_url, new_account("Stan Stranger"))
    stranger.goto(link)
    expect(stranger.get_by_test_id("meeting-not-allowed")).to_be_visible(timeout=20_000)
    audit(stranger, "meeting: not invited", results)

    page.goto(app_url + "/")
    page.get_by_test_id("card-schedule").click()
    page.get_by_label("Add a description").fill("Open to all, later")
    page.get_by_label("Select date and time (your local time)").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule Meeting").click()
    expect(page.get_by_test_id("created-link")).to_have_text(re.compile(r"/meeting/[0-9a-f-]{36}$"), timeout=15_000)
    open_link = page.get_by_test_id("created-link").inner_text()
    stranger.goto(open_link)
    expect(stranger.get_by_test_id("meeting-not-started")).to_be_visible(timeout=20_000)
    audit(stranger, "meeting: not started yet", results)


def test_setup_call_live_region_and_ended(new_page, app_url, results):
    host = new_page()
    sign_up(host, app_url, new_account("Hedy Host"))
    url = app_url + "/meeting/" + start_instant_meeting(host)
    expect(host.get_by_test_id("local-setup")).to_be_visible(timeout=20_000)
    expect(host.locator("video").first).to_be_visible(timeout=20_000)
    audit(host, "meeting: setup (embedded)", results)
    host.get_by_test_id("join-meeting").click()
    expect(host.get_by_role("button", name="Leave call")).to_be_visible(timeout=20_000)
    expect(host.get_by_role("heading", level=1)).to_have_count(1)
    audit(host, "meeting: in call (embedded)", results)

    # Someone joins, then leaves: the call says so to screen readers, politely.
    announcements = host.get_by_test_id("call-announcements")
    expect(announcements).to_have_attribute("aria-live", "polite")
    guest = new_page()
    sign_up(guest, app_url, new_account("Gil Guest"))
    guest.goto(url)
    guest.get_by_test_id("join-meeting").click()
    expect(guest.get_by_role("button", name="Leave call")).to_be_visible(timeout=20_000)
    expect(announcements).to_contain_text("Gil Guest joined", timeout=20_000)
    host.get_by_test_id("participants-toggle").click()
    expect(host.get_by_test_id("participants-panel")).to_be_visible()
    audit(host, "meeting: in call, participants open", results)
    guest.get_by_role("button", name="Leave call").click()
    expect(announcements).to_contain_text("Gil Guest left", timeout=20_000)

    host.get_by_test_id("end-call-for-everyone").click()
    expect(host.get_by_test_id("confirm-end-call")).to_be_visible()
    audit(host, "meeting: end call for everyone?", results)
    host.get_by_test_id("confirm-end-call").click()
    expect(host.get_by_test_id("meeting-ended")).to_be_visible(timeout=15_000)
    audit(host, "meeting: ended", results)


def test_guest_lobby_and_moderation_screens(new_page, app_url, results):
    host, guest, member = new_page(), new_page(), new_page()
    sign_up(host, app_url, new_account("Hal Host"))
    sign_up(member, app_url, new_account("Mo Member"))
    url = f"{app_url}/meeting/{start_meeting(host, guests=True, ask=True)}"
    open_setup(host, url)

    guest.goto(url)
    expect(guest.get_by_test_id("meeting-guest")).to_be_visible(timeout=30_000)
    audit(guest, "meeting: signed out, join as guest", results)
    join_as_guest(guest, url, "Gus")
    audit(guest, "meeting: guest setup", results)
    ask_to_join(guest)
    audit(guest, "meeting: lobby (no host yet)", results)

    join(host)
    expect(knock_row(host, "Gus")).to_be_visible(timeout=10_000)
    audit(host, "meeting: in call, someone knocks", results)
    knock_row(host, "Gus").get_by_test_id("deny").click()
    expect(guest.get_by_test_id("meeting-denied")).to_be_visible(timeout=10_000)
    audit(guest, "meeting: not let in", results)

    open_setup(member, url)
    ask_to_join(member)
    knock_row(host, "Mo Member").get_by_test_id("admit").click()
    expect(member.get_by_test_id("local-in-call")).to_be_visible(timeout=20_000)
    host.get_by_test_id("moderation-toggle").click()
    panel = host.get_by_test_id("moderation-panel")
    expect(panel.get_by_test_id("person").filter(has_text="Mo Member")).to_be_visible(timeout=20_000)
    audit(host, "meeting: in call, moderation open", results)
    panel.get_by_test_id("person").filter(has_text="Mo Member").get_by_test_id("remove-person").click()
    expect(member.get_by_text("The host removed you from this meeting.")).to_be_visible(timeout=10_000)
    member.goto(url)
    expect(member.get_by_test_id("meeting-removed")).to_be_visible(timeout=30_000)
    audit(member, "meeting: removed", results)


def has_focus_ring(page: Page) -> bool:
    return page.evaluate(
        """() => {
             const e = document.activeElement;
             if (!e || e === document.body) return false;
             const s = getComputedStyle(e);
             const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
             return outline || (s.boxShadow && s.boxShadow !== 'none');
           }"""
    )


def tab_to(page: Page, name: str, limit: int = 40) -> None:
    """Tab forward until the focused control's accessible name is `name`, and check its focus ring."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; return e ? (e.getAttribute('aria-label') || e.innerText || '').trim() : ''; }"
        )
        if focused.startswith(name):
            assert has_focus_ring(page), f"“{name}” has no visible focus ring"
            return
    raise AssertionError(f"“{name}” can't be reached with Tab")


def test_start_and_join_a_meeting_with_the_keyboard_alone(page, app_url):
    sign_up(page, app_url, new_account("Kim Keys"))
    expect(page.get_by_test_id("clock-time")).to_be_visible()
    tab_to(page, "New Meeting")
    page.keyboard.press("Enter")
    expect(dialog(page)).to_contain_text("Start an Instant Meeting")
    tab_to(page, "Start Meeting")
    page.keyboard.press("Enter")
    page.wait_for_url("**/meeting/**", timeout=20_000)
    expect(page.get_by_test_id("local-setup")).to_be_visible(timeout=20_000)
    tab_to(page, "Join meeting")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Leave call")).to_be_visible(timeout=20_000)
    tab_to(page, "Toggle microphone")
    page.keyboard.press("Space")
    expect(page.get_by_test_id("muted-indicator").first).to_be_visible(timeout=10_000)


@pytest.mark.stream_app
def test_stream_setup_call_and_error(page, stream_app, stream_fakes, results):  # noqa: F811
    sign_up(page, stream_app.url, new_account("Sol Stream"))
    start_instant_meeting(page)
    expect(page.get_by_test_id("stream-setup")).to_be_visible(timeout=20_000)
    expect(page.locator("video.str-video__video-preview")).to_be_visible(timeout=20_000)
    audit(page, "meeting: setup (Stream)", results)
    page.get_by_test_id("join-meeting").click()
    expect(page.get_by_test_id("stream-in-call")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    audit(page, "meeting: in call (Stream)", results)

    # Stream out of reach: the error state, with its retry.
    _, client = stream_fakes
    port = client.port
    page.goto(stream_app.url + "/")
    client.stop()
    try:
        start_instant_meeting(page)
        expect(page.get_by_test_id("meeting-error")).to_be_visible(timeout=20_000)
        audit(page, "meeting: video service unreachable", results)
    finally:
        client.start(port)


@pytest.mark.stream_app
def test_stream_setup_of_someone_who_must_ask(new_page, stream_app, stream_fakes, results):  # noqa: F811
    from tests.browser.test_guests_lobby import start_meeting

    host, member = new_page(), new_page()
    sign_up(host, stream_app.url, new_account("Hana Host"))
    call_id = start_meeting(host, ask=True)
    sign_up(member, stream_app.url, new_account("Kit Knocker"))
    member.goto(f"{stream_app.url}/meeting/{call_id}")
    expect(member.get_by_test_id("stream-knock-setup")).to_be_visible(timeout=30_000)
    expect(member.get_by_test_id("join-meeting")).to_have_text("Ask to join")
    from tests.browser.test_stream_room import expect_preview_playing

    expect_preview_playing(member)
    audit(member, "meeting: ask to join (Stream)", results)
