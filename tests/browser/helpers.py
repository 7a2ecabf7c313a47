"""Things a person does over and over in the browser tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from playwright.sync_api import Page, expect

PASSWORD = "correct horse battery"


@dataclass
class Account:
    name: str
    username: str
    password: str = PASSWORD


def new_account(name: str = "Ada Lovelace") -> Account:
    return Account(name=name, username=f"user{uuid.uuid4().hex[:10]}")


def sign_up(page: Page, base_url: str, account: Account | None = None) -> Account:
    account = account or new_account()
    page.goto(base_url + "/sign-up")
    page.get_by_label("Your name").fill(account.name)
    page.get_by_label("Username or email").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("hero")).to_be_visible(timeout=20_000)
    return account


def sign_in(page: Page, account: Account) -> None:
    page.get_by_label("Username or email").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()


def start_instant_meeting(page: Page) -> str:
    """From Home: New Meeting → Start Meeting; returns the meeting id from the URL."""
    page.get_by_test_id("card-new").click()
    page.get_by_role("button", name="Start Meeting").click()
    page.wait_for_url("**/meeting/**", timeout=20_000)
    return page.url.rstrip("/").split("/meeting/")[1].split("?")[0]


def clear_clipboard(page: Page) -> None:
    page.evaluate("navigator.clipboard.writeText('')")


def expect_clipboard(page: Page, text: str) -> None:
    """Writing the clipboard is asynchronous (the toast may come first): wait for it to hold `text`."""
    page.wait_for_function("async (text) => (await navigator.clipboard.readText()) === text", arg=text, timeout=10_000)
