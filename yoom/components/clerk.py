"""Reflex wrappers of Clerk's React SDK (`@clerk/clerk-react`, pinned below) and Yoom's bridge to it.

Used only in Clerk mode (CLERK_PUBLISHABLE_KEY and CLERK_SECRET_KEY set), which is decided when the app
is compiled: in local mode none of these components is created, so no page imports Clerk's code.

* `clerk_app_wraps()` — what yoom/yoom.py gives `rx.App(extra_app_wraps=…)`: the bridge's provider
  (assets/clerk_bridge.jsx: Clerk's <ClerkProvider> plus the cookie sync) around every page, the meeting
  page included, so that Yoom's short Clerk-made session is renewed wherever the person is.
* `clerk_session_status(on_change=…)` — reports the bridge's status to Python ("loading", "signed_out",
  "signed_in", "error" and a message), which decides what the sign-in pages show.
* `sign_in`, `sign_up`, `user_button`, `sign_out_button` — Clerk's own components. clerk-js (Clerk's
  hosted script, or CLERK_JS_URL) renders them; they are safe to prerender (empty until it loads).
"""

from __future__ import annotations

from typing import Any, Literal

import reflex as rx
from reflex.event import EventHandler, passthrough_event_spec

from yoom.frontend_packages import CLERK_REACT, CLERK_REACT_PINNED, CLERK_REACT_VERSION  # noqa: F401
from yoom.settings import get_settings

SIGN_IN_URL = "/sign-in"
SIGN_UP_URL = "/sign-up"
APP_WRAP_ORDER = 50  # inside Reflex's error boundary (55), outside the toaster (44)

Routing = Literal["hash", "virtual", "path"]


class YoomClerkProvider(rx.Component):
    """The bridge: <ClerkProvider> and Yoom's cookie sync, around the whole app."""

    library = rx.asset("clerk_bridge.jsx").importable_path
    tag = "YoomClerkProvider"
    lib_dependencies: list[str] = [CLERK_REACT_PINNED]

    publishable_key: rx.Var[str]
    # Where the browser loads clerk-js from; empty for Clerk's own CDN (the Frontend API's host).
    clerk_js_url: rx.Var[str]
    sign_in_url: rx.Var[str]
    sign_up_url: rx.Var[str]
    after_sign_out_url: rx.Var[str]


class ClerkSessionStatus(rx.Component):
    """Renders nothing; reports the bridge's status (on mount and on change)."""

    library = rx.asset("clerk_bridge.jsx").importable_path
    tag = "ClerkSessionStatus"
    lib_dependencies: list[str] = [CLERK_REACT_PINNED]

    on_change: EventHandler[passthrough_event_spec(str, str)]


class ClerkComponent(rx.Component):
    """A named export of @clerk/clerk-react."""

    library = CLERK_REACT
    lib_dependencies: list[str] = [CLERK_REACT_PINNED]


class SignIn(ClerkComponent):
    tag = "SignIn"
    alias = "ClerkSignIn"

    # "hash": Clerk's steps live in the URL's hash, so /sign-in needs no catch-all route.
    routing: rx.Var[Routing]
    sign_up_url: rx.Var[str]
    # Where Clerk goes once signed in: the sign-in page itself, where the bridge sets Yoom's cookie and
    # Python sends the person on (its `next`).
    force_redirect_url: rx.Var[str]
    sign_up_force_redirect_url: rx.Var[str]


class SignUp(ClerkComponent):
    tag = "SignUp"
    alias = "ClerkSignUp"

    routing: rx.Var[Routing]
    sign_in_url: rx.Var[str]
    force_redirect_url: rx.Var[str]
    sign_in_force_redirect_url: rx.Var[str]


class UserButton(ClerkComponent):
    """The signed-in person's avatar: account settings and "Sign out" (Clerk's)."""

    tag = "UserButton"
    alias = "ClerkUserButton"

    show_name: rx.Var[bool]


class SignOutButton(ClerkComponent):
    """Makes its one child sign out of Clerk when clicked."""

    tag = "SignOutButton"
    alias = "ClerkSignOutButton"

    redirect_url: rx.Var[str]


clerk_session_status = ClerkSessionStatus.create
sign_in = SignIn.create
sign_up = SignUp.create
user_button = UserButton.create
sign_out_button = SignOutButton.create


def clerk_provider() -> rx.Component:
    clerk = get_settings().clerk
    assert clerk is not None, "clerk_provider() is for Clerk mode only"
    return YoomClerkProvider.create(
        publishable_key=clerk.publishable_key,
        clerk_js_url=clerk.js_url or "",
        sign_in_url=SIGN_IN_URL,
        sign_up_url=SIGN_UP_URL,
        after_sign_out_url=SIGN_IN_URL,
    )


def clerk_app_wraps() -> dict[tuple[int, str], Any]:
    """`rx.App(extra_app_wraps=…)`: the Clerk provider around every page in Clerk mode, nothing otherwise."""
    if not get_settings().clerk_enabled:
        return {}
    return {(APP_WRAP_ORDER, "YoomClerkProvider"): lambda _stateful: clerk_provider()}
