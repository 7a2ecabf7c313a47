"""The Clerk wrappers (yoom/components/clerk.py), the Clerk pages and ClerkState, without a browser.

What the browser does with them is covered by tests/browser/test_clerk.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import reflex as rx
from reflex.istate.data import RouterData

import yoom.accounts
import yoom.settings
from tests.fakeclerk import publishable_key
from yoom.components import clerk as ck
from yoom.components.clerk_auth import clerk_account_menu, clerk_sign_in_page, clerk_sign_up_page
from yoom.state.auth_forms import CLERK_ONLY, AuthFormState
from yoom.state.clerk import ClerkState

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = ROOT / "assets" / "clerk_bridge.jsx"


@pytest.fixture
def clerk_on(yoom_env, monkeypatch):
    monkeypatch.setenv("CLERK_PUBLISHABLE_KEY", publishable_key())
    monkeypatch.setenv("CLERK_SECRET_KEY", "sk_test_unit")
    monkeypatch.setenv("CLERK_JS_URL", "http://127.0.0.1:9/clerk.browser.js")
    yoom.settings.get_settings.cache_clear()


def rendered(component: rx.Component) -> str:
    return json.dumps(component.render())


def imports_of(component: rx.Component) -> set[str]:
    return set(component._get_all_imports())


def test_clerk_react_is_pinned_to_one_exact_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", ck.CLERK_REACT_VERSION)
    for cls in (ck.YoomClerkProvider, ck.ClerkSessionStatus, ck.SignIn, ck.SignUp, ck.UserButton, ck.SignOutButton):
        assert cls.lib_dependencies == [f"@clerk/clerk-react@{ck.CLERK_REACT_VERSION}"], cls


def test_local_mode_has_no_clerk_app_wrap(yoom_env):
    assert ck.clerk_app_wraps() == {}


def test_clerk_mode_wraps_the_app_in_the_bridges_provider(clerk_on):
    [(key, make)] = ck.clerk_app_wraps().items()
    assert key == (ck.APP_WRAP_ORDER, "YoomClerkProvider")
    provider = make(True)
    assert isinstance(provider, ck.YoomClerkProvider)
    text = rendered(provider)
    assert publishable_key() in text and "http://127.0.0.1:9/clerk.browser.js" in text
    # The secret key never reaches a page.
    assert "sk_test_unit" not in text
    assert any("clerk_bridge.jsx" in lib for lib in imports_of(provider))


def test_the_bridge_posts_to_the_routes_python_serves():
    source = BRIDGE.read_text()
    assert 'SYNC_PATH = "/api/auth/clerk"' in source and 'SIGN_OUT_PATH = "/api/auth/sign-out"' in source
    assert "getToken()" in source and 'credentials: "include"' in source
    # The token travels in a POST body, never in a URL.
    assert "?token" not in source and "token=" not in source


def test_the_sign_in_pages_show_clerks_components_and_python_decides_when(clerk_on):
    sign_in_text = rendered(clerk_sign_in_page())
    assert "ClerkSignIn" in sign_in_text and "ClerkSessionStatus" in sign_in_text
    assert 'routing:\\"hash\\"' in sign_in_text  # Clerk's steps in the hash: no catch-all route needed
    assert "Signing you in" in sign_in_text and "Use another account" in sign_in_text
    assert "ClerkSignUp" in rendered(clerk_sign_up_page())
    account = rendered(clerk_account_menu())
    assert "ClerkUserButton" in account and "user-name" in account


def state_at(path: str) -> ClerkState:
    state = ClerkState(_reflex_internal_init=True)
    state.router = RouterData.from_router_data({"pathname": path, "asPath": path, "query": {}, "headers": {}})
    return state


def test_status_changed_takes_only_known_statuses_and_short_messages():
    state = state_at("/sign-in")
    state.status_changed("signed_in", "")
    assert state.clerk_status == "signed_in" and state.clerk_error == ""
    state.status_changed("error", "x" * 1000)
    assert state.clerk_status == "error" and len(state.clerk_error) == 300
    for status, message in (("admin", ""), (None, ""), (7, "m"), ("error", None)):
        state.status_changed(status, message)
    assert state.clerk_status == "error" and state.clerk_error == ""


def test_a_failed_renewal_elsewhere_is_a_toast_not_a_page():
    assert state_at("/sign-in").status_changed("error", "Yoom can't reach Clerk") is None
    toast = state_at("/upcoming").status_changed("error", "Yoom can't reach Clerk")
    assert toast is not None and "Yoom can't reach Clerk" in str(toast)


async def test_yooms_own_forms_refuse_in_clerk_mode(clerk_on):
    state = AuthFormState(_reflex_internal_init=True)
    state.router = RouterData.from_router_data(
        {"pathname": "/sign-in", "asPath": "/sign-in", "query": {}, "headers": {}}
    )
    updates = [u async for u in state.sign_up({"display_name": "Ada", "username": "ada", "password": "password one"})]
    assert updates == [] and state.error == CLERK_ONLY
    assert yoom.accounts.users_by_username(["ada"]) == {}
