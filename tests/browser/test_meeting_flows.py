"""Meeting flows on the embedded provider: new, schedule, join, upcoming, previous, recordings, personal room."""

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.helpers import clear_clipboard, expect_clipboard, new_account, sign_up, start_instant_meeting

UUID_PATH = re.compile(r"/meeting/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/?$")


def test_home_cards_open_their_dialogs_and_pages(page, app_url):
    sign_up(page, app_url)
    for card, title in (
        ("card-new", "Start an Instant Meeting"),
        ("card-join", "Type the link here"),
        ("card-schedule", "Create Meeting"),
    ):
        page.get_by_test_id(card).click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text(title)
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
    page.get_by_test_id("card-recordings").click()
    page.wait_for_url(re.compile(r"/recordings/?$"))
    expect(page.get_by_role("heading", name="Recordings", exact=True)).to_be_visible()


def test_new_meeting_creates_a_call_and_opens_it(page, app_url):
    sign_up(page, app_url)
    meeting_id = start_instant_meeting(page)
    assert UUID_PATH.search(page.url), page.url
    # It really exists: it lists among the user's previous meetings (started now).
    page.goto(app_url + "/previous")
    card = page.get_by_test_id("meeting-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Instant meeting")
    clear_clipboard(page)
    page.get_by_role("button", name="Copy Link").click()
    expect(page.get_by_text("Link copied")).to_be_visible()
    expect_clipboard(page, f"{app_url}/meeting/{meeting_id}")


def _schedule(page, description: str, when_local: str):
    page.get_by_test_id("card-schedule").click()
    page.get_by_label("Add a description").fill(description)
    page.get_by_label("Select date and time (your local time)").fill(when_local)
    page.get_by_role("button", name="Schedule Meeting").click()


def _schedule_again(page, description: str, when_local: str) -> None:
    """Correct the form after an error. Editing clears the error, which shrinks the dialog and moves its
    button: press it once the error is gone and the button stands still."""
    page.get_by_label("Add a description").fill(description)
    page.get_by_label("Select date and time (your local time)").fill(when_local)
    expect(page.get_by_role("alert")).to_have_count(0)
    page.get_by_role("button", name="Schedule Meeting").click()


def test_schedule_refuses_bad_input_and_creates_nothing(page, app_url):
    sign_up(page, app_url)
    future = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    _schedule(page, "", future)
    expect(page.get_by_role("alert")).to_contain_text("Add a description")
    _schedule_again(page, "Retro", "2020-01-01T10:00")
    expect(page.get_by_role("alert")).to_contain_text("already passed")
    _schedule_again(page, "x" * 210, future)
    expect(page.get_by_role("alert")).to_contain_text("at most 200 characters")
    _schedule_again(page, "Retro", "")
    expect(page.get_by_role("alert")).to_contain_text("Pick a date and time")
    page.goto(app_url + "/upcoming")
    expect(page.get_by_text("No upcoming meetings")).to_be_visible()


def test_schedule_in_the_viewers_zone_copy_link_calendar_and_upcoming(new_page, app_url):
    zone = "America/New_York"
    page = new_page(timezone_id=zone, accept_downloads=True)
    sign_up(page, app_url)
    day = (datetime.now(ZoneInfo(zone)) + timedelta(days=3)).date()
    _schedule(page, "Quarterly planning", f"{day.isoformat()}T09:30")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Meeting Created")
    expect(dialog).to_contain_text("at 9:30 AM")
    link = page.get_by_test_id("created-link").inner_text()
    assert re.fullmatch(re.escape(app_url) + r"/meeting/[0-9a-f-]{36}", link), link
    assert re.search(r"/$|/\?", page.url) or page.url.rstrip("/") == app_url  # scheduling never jumps in
    clear_clipboard(page)
    dialog.get_by_role("button", name="Copy Meeting Link").click()
    expect(page.get_by_text("Link copied")).to_be_visible()
    expect_clipboard(page, link)
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="Add to calendar").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics")
    ics = Path(download.path()).read_text()
    starts_utc = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))
    assert f"DTSTART:{starts_utc:%Y%m%dT%H%M%S}Z" in ics
    assert "SUMMARY:Quarterly planning" in ics
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("next-meeting")).to_contain_text("9:30 AM")

    page.goto(app_url + "/upcoming")
    card = page.get_by_test_id("meeting-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Quarterly planning")
    expect(card).to_contain_text("9:30 AM")
    clear_clipboard(page)
    card.get_by_role("button", name="Copy Link").click()
    expect_clipboard(page, link)
    card.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(re.escape(link.replace(app_url, "")) + "/?$"))


def test_a_user_sees_only_their_own_meetings(new_page, app_url):
    ada = new_page()
    sign_up(ada, app_url, new_account("Ada"))
    _schedule(ada, "Ada's private sync", (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    expect(ada.get_by_role("dialog")).to_contain_text("Meeting Created")
    bob = new_page()
    sign_up(bob, app_url, new_account("Bob"))
    bob.goto(app_url + "/upcoming")
    expect(bob.get_by_text("No upcoming meetings")).to_be_visible()
    expect(bob.get_by_test_id("next-meeting")).to_have_count(0)


def test_join_takes_a_link_a_path_or_an_id(page, app_url):
    sign_up(page, app_url)
    target = "3b8f2a9c-1d2e-4f50-8a6b-7c9d0e1f2a3b"
    for typed in (f"{app_url}/meeting/{target}", f"/meeting/{target}", target):
        page.goto(app_url + "/")
        page.get_by_test_id("card-join").click()
        page.get_by_label("Meeting link or ID").fill(typed)
        page.get_by_role("button", name="Join Meeting").click()
        page.wait_for_url(re.compile(f"/meeting/{target}/?$"))
    page.goto(app_url + "/")
    page.get_by_test_id("card-join").click()
    page.get_by_label("Meeting link or ID").fill("https://example.org/not/a/meeting")
    page.get_by_role("button", name="Join Meeting").click()
    expect(page.get_by_role("alert")).to_contain_text("isn't a meeting link")
    assert "/meeting/" not in page.url


def test_recordings_empty_state(page, app_url):
    sign_up(page, app_url)
    page.goto(app_url + "/recordings")
    expect(page.get_by_text("No recordings")).to_be_visible()


def test_personal_room(page, app_url, new_page):
    account = sign_up(page, app_url, new_account("Katherine Johnson"))
    page.goto(app_url + "/personal-room")
    expect(page.get_by_test_id("room-topic")).to_have_text("Katherine Johnson's Meeting Room")
    expect(page.get_by_test_id("room-id")).to_have_text(re.compile(r"^[A-Za-z0-9_-]{12}$"), timeout=20_000)
    room_id = page.get_by_test_id("room-id").inner_text()
    # A random id of its own: not the user id every participant sees, not a meeting's UUID.
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", room_id), room_id
    expect(page.get_by_test_id("room-link")).to_have_text(f"{app_url}/meeting/{room_id}?personal=true")
    clear_clipboard(page)
    page.get_by_role("button", name="Copy Invitation").click()
    expect(page.get_by_text("Link copied")).to_be_visible()
    expect_clipboard(page, f"{app_url}/meeting/{room_id}?personal=true")
    page.get_by_role("button", name="Start Meeting").click()
    page.wait_for_url(re.compile(f"/meeting/{room_id}/?\\?personal=true$"))
    assert account.username

    # Reset link: after confirming, a new id and link on the page; the old link no longer opens the room.
    page.goto(app_url + "/personal-room")
    expect(page.get_by_test_id("room-id")).to_have_text(room_id)
    page.get_by_role("button", name="Reset link").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("The old link stops working")
    confirm.get_by_role("button", name="Reset link").click()
    expect(page.get_by_text("New link ready")).to_be_visible(timeout=20_000)
    expect(page.get_by_test_id("room-id")).not_to_have_text(room_id)
    new_id = page.get_by_test_id("room-id").inner_text()
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", new_id), new_id
    expect(page.get_by_test_id("room-link")).to_have_text(f"{app_url}/meeting/{new_id}?personal=true")
    page.reload()
    expect(page.get_by_test_id("room-id")).to_have_text(new_id)  # stored, not just shown
    visitor = new_page()
    sign_up(visitor, app_url, new_account("Vic Visitor"))
    visitor.goto(f"{app_url}/meeting/{room_id}?personal=true")
    expect(visitor.get_by_test_id("meeting-page")).to_have_attribute("data-phase", "ended", timeout=20_000)
    page.goto(f"{app_url}/meeting/{room_id}?personal=true")  # not even for its owner
    expect(page.get_by_test_id("meeting-page")).to_have_attribute("data-phase", "ended", timeout=20_000)
