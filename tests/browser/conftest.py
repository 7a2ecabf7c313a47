"""Browser fixtures: Yoom in production mode, and Debian's Chromium driven by Playwright.

One app runs at a time (an app is a production build and a server: two would crowd 2 cores); tests
are ordered by the app they need (tests/conftest.py) so each app starts once.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.harness import RunningApp, start_app

CHROMIUM = os.environ.get("YOOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


class AppPool:
    """Keeps one app running; asking for one with other settings stops the current one first."""

    def __init__(self) -> None:
        self.current: RunningApp | None = None

    def get(self, overrides: dict[str, str]) -> RunningApp:
        if self.current and self.current.overrides == overrides and self.current.process.poll() is None:
            return self.current
        self.close()
        self.current = start_app(overrides)
        return self.current

    def close(self) -> None:
        if self.current:
            self.current.stop()
            self.current = None


@pytest.fixture(scope="session")
def app_pool():
    pool = AppPool()
    yield pool
    pool.close()


@pytest.fixture
def local_app(app_pool) -> RunningApp:
    """Yoom on its embedded default (local provider)."""
    return app_pool.get({})


@pytest.fixture
def app_url(local_app) -> str:
    return local_app.url


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `apt-get install chromium` (bash .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Factory: a page in a fresh browser context (its own cookies), closed after the test."""
    contexts = []

    def make(viewport: dict | None = None, **context_options):
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 800},
            permissions=["camera", "microphone", "clipboard-read", "clipboard-write"],
            **context_options,
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
