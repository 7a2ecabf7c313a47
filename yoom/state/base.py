"""The signed-in user, found on the server from the session cookie on every event.

Substates (meetings, room) inherit `signed_in_user()` and must call it in each handler that
touches user data: the browser's copy of `user_id` is for display only and never trusted.
"""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from yoom import accounts
from yoom.api.auth import SESSION_COOKIE
from yoom.models import User
from yoom.settings import get_settings

SIGN_IN_ROUTE = "/sign-in"


def safe_next_path(raw: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not raw or not isinstance(raw, str) or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    if raw.startswith(("/sign-in", "/sign-up")):
        return "/"
    return raw[:2000]


class AuthState(rx.State):
    session_token: str = rx.Cookie(
        "",
        name=SESSION_COOKIE,
        path="/",
        max_age=get_settings().session_ttl_seconds,
        same_site="lax",
        secure=bool(get_settings().public_url and get_settings().public_url.startswith("https")),
    )
    user_id: str = ""
    user_name: str = ""
    user_username: str = ""
    user_image: str = ""
    video_provider: str = get_settings().video_provider

    @rx.var
    def user_initials(self) -> str:
        return accounts.initials(self.user_name)

    @rx.var
    def is_signed_in(self) -> bool:
        return bool(self.user_id)

    def signed_in_user(self) -> User | None:
        """The user behind this browser's session cookie, looked up on the server now."""
        return accounts.user_for_session(self.session_token)

    def _show_user(self, user: User | None) -> None:
        self.user_id = user.id if user else ""
        self.user_name = user.display_name if user else ""
        self.user_username = user.username if user else ""
        self.user_image = (user.image_url or "") if user else ""

    def _base_url(self) -> str:
        """Where links to Yoom point: YOOM_PUBLIC_URL when set, else the address this browser used."""
        return get_settings().public_url or self.router.url.origin

    def _redirect_to_sign_in(self):
        here = self.router.url.path or "/"
        if self.router.url.query:
            here += "?" + self.router.url.query
        return rx.redirect(f"{SIGN_IN_ROUTE}?next={quote(here, safe='')}")

    @rx.event
    def check_login(self):
        """on_load of every protected page: no valid session → sign-in, and back here afterwards."""
        user = self.signed_in_user()
        self._show_user(user)
        if user is None:
            if self.session_token:
                self.session_token = ""
            return self._redirect_to_sign_in()

    @rx.event
    def sign_out(self):
        accounts.sign_out(self.session_token)
        self.session_token = ""
        self._show_user(None)
        return rx.redirect(SIGN_IN_ROUTE)
