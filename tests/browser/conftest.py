"""Browser fixtures: Yoom in production mode, and Debian's Chromium driven by Playwright.

One app runs at a time (an app is a production build and a server: two would crowd 2 cores); tests
are ordered by the app they need (tests/conftest.py) so each app starts once.

Every browser context records a Playwright trace. When a test fails, its trace (one per context) and a
screenshot of every page are kept in test-results/<test name>/, named at the end of pytest's report;
open a trace with `.venv/bin/playwright show-trace <trace.zip>`. Passing tests keep nothing.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.browser.harness import ROOT, RunningApp, start_app

RESULTS = ROOT / "test-results"
FAILURE_FOLDERS = pytest.StashKey[list]()

CHROMIUM = os.environ.get("YOOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    # Two fake cameras (fake_device_0 and fake_device_1), so a camera can be switched mid-call; the
    # microphones and speakers are Fake Audio Input/Output 1 and 2 besides the defaults.
    "--use-fake-device-for-media-stream=device-count=2",
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so its fixtures know at teardown whether it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def failed(item) -> bool:
    reports = (getattr(item, f"report_{when}", None) for when in ("setup", "call"))
    return any(report is not None and report.failed for report in reports)


def keep_evidence(item, contexts) -> None:
    """A failed test's traces and screenshots, in test-results/<test name>/."""
    folder = RESULTS / re.sub(r"[^\w.-]+", "_", item.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for c, context in enumerate(contexts, start=1):
        for p, page in enumerate(context.pages, start=1):
            try:
                page.screenshot(path=folder / f"context{c}-page{p}.png", full_page=True, timeout=10_000)
            except Exception as exc:  # a crashed or closed page: the trace still has its last frames
                (folder / f"context{c}-page{p}.txt").write_text(f"no screenshot: {exc}\n")
        context.tracing.stop(path=folder / f"context{c}-trace.zip")
    item.config.stash.setdefault(FAILURE_FOLDERS, []).append(folder)


@pytest.fixture
def new_page(browser, request):
    """Factory: a page in a fresh browser context (its own cookies, a trace recording), closed after the test."""
    contexts = []

    def make(viewport: dict | None = None, **context_options):
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 800},
            permissions=["camera", "microphone", "clipboard-read", "clipboard-write"],
            **context_options,
        )
        context.tracing.start(screenshots=True, snapshots=True, sources=True)
        contexts.append(context)
        return context.new_page()

    yield make
    if failed(request.node):
        keep_evidence(request.node, contexts)
    else:
        for context in contexts:
            context.tracing.stop()
    for context in contexts:
        context.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    folders = config.stash.get(FAILURE_FOLDERS, [])
    if folders:
        terminalreporter.section("Playwright traces and screenshots of failed browser tests")
        for folder in folders:
            terminalreporter.write_line(str(folder))
        terminalreporter.write_line("open a trace: .venv/bin/playwright show-trace <folder>/context1-trace.zip")


@pytest.fixture
def page(new_page):
    return new_page()
