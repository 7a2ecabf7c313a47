"""Foundation in the browser: accounts, the shell, the clock, the phone drawer."""

import re

from playwright.sync_api import expect

from tests.browser.helpers import new_account, sign_in, sign_up


def test_sign_up_shows_the_users_name_on_home(page, app_url):
    account = sign_up(page, app_url, new_account("Grace Hopper"))
    expect(page.get_by_test_id("user-name")).to_have_text("Grace Hopper")
    expect(page).to_have_title(re.compile("Home"))
    # Initials avatar (no picture uploaded).
    expect(page.get_by_test_id("account-menu")).to_contain_text("GH")
    assert account.username


def test_sign_out_then_protected_page_returns_after_sign_in(page, app_url):
    account = sign_up(page, app_url)
    page.get_by_test_id("account-menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url("**/sign-in**")
    page.goto(app_url + "/upcoming")
    page.wait_for_url(re.compile(r"/sign-in/?\?next=%2Fupcoming"))
    sign_in(page, account)
    page.wait_for_url(re.compile(r"/upcoming/?$"))
    expect(page.get_by_role("heading", name="Upcoming Meetings", exact=True)).to_be_visible()


def test_wrong_password_shows_a_clear_error(page, app_url, new_page):
    account = sign_up(page, app_url)
    other = new_page()
    other.goto(app_url + "/sign-in")
    other.get_by_label("Username or email").fill(account.username)
    other.get_by_label("Password").fill("not the password")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(other).to_have_url(re.compile("/sign-in"))


def test_duplicate_username_shows_a_clear_error(page, app_url, new_page):
    account = sign_up(page, app_url)
    other = new_page()
    other.goto(app_url + "/sign-up")
    other.get_by_label("Your name").fill("Someone Else")
    other.get_by_label("Username or email").fill(account.username.upper())
    other.get_by_label("Password").fill("another password")
    other.get_by_role("button", name="Create account").click()
    expect(other.get_by_role("alert")).to_contain_text("is taken")


def test_the_clock_ticks_in_the_browser(page, app_url):
    sign_up(page, app_url)
    clock = page.get_by_test_id("clock-time")
    expect(clock).to_have_text(re.compile(r"^\d{1,2}:\d{2} (AM|PM)$"))
    expect(page.get_by_test_id("clock-date")).to_have_text(re.compile(r"^[A-Z][a-z]+day, [A-Z][a-z]+ \d{1,2}, \d{4}$"))
    # The clock is driven by the browser: jump the page's clock a minute on and the time changes
    # with no reload.
    before = clock.inner_text()
    page.clock.install()
    page.clock.fast_forward("01:05")
    expect(clock).not_to_have_text(before, timeout=5000)


def test_phone_width_drawer_opens_and_navigates(new_page, app_url):
    phone = new_page(viewport={"width": 390, "height": 844})
    sign_up(phone, app_url)
    expect(phone.get_by_test_id("sidebar")).to_be_hidden()
    phone.get_by_role("button", name="Open navigation").click()
    drawer = phone.get_by_role("dialog", name="Navigation")
    expect(drawer).to_be_visible()
    drawer.get_by_role("link", name="Previous").click()
    phone.wait_for_url(re.compile(r"/previous/?$"))
    expect(phone.get_by_role("heading", name="Previous Meetings", exact=True)).to_be_visible()
    expect(phone).to_have_title(re.compile("Previous"))
