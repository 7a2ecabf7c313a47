"""Sign-in and sign-up forms. Passwords never stay in state: they arrive with the submit."""

from __future__ import annotations

import asyncio

import reflex as rx

from yoom import accounts
from yoom.state.base import AuthState, safe_next_path


def _field(form: dict, name: str) -> str:
    value = form.get(name, "") if isinstance(form, dict) else ""
    return value if isinstance(value, str) else ""


class AuthFormState(AuthState):
    error: str = ""
    submitting: bool = False

    def _client(self) -> str:
        return self.router.session.client_ip or self.router.headers.host or "unknown"

    def _after_sign_in(self, signed_in: accounts.SignedIn):
        self.session_token = signed_in.session_token
        self._show_user(signed_in.user)
        self.error = ""
        return rx.redirect(safe_next_path(self.router.url.query_parameters.get("next")))

    @rx.event
    async def redirect_if_signed_in(self):
        """on_load of the sign-in and sign-up pages."""
        self.error = ""
        self.submitting = False
        if await self._signed_in_user() is not None:
            return rx.redirect(safe_next_path(self.router.url.query_parameters.get("next")))

    @rx.event
    async def sign_in(self, form: dict):
        try:
            # bcrypt takes a quarter of a second: never on the event loop, which also carries the meetings.
            signed_in = await asyncio.to_thread(
                accounts.sign_in, _field(form, "username"), _field(form, "password"), client=self._client()
            )
        except accounts.AccountError as exc:
            self.error = str(exc)
            return
        return self._after_sign_in(signed_in)

    @rx.event
    async def sign_up(self, form: dict):
        try:
            signed_in = await asyncio.to_thread(
                accounts.sign_up, _field(form, "display_name"), _field(form, "username"), _field(form, "password")
            )
        except accounts.AccountError as exc:
            self.error = str(exc)
            return
        return self._after_sign_in(signed_in)
