"""Sign-in and sign-up forms. Passwords never stay in state: they arrive with the submit.

A correct form ends in a one-time sign-in ticket that the page posts to `/api/auth/session`, which sets
the HttpOnly session cookie and loads the next page (yoom/api/auth.py): the session token itself never
reaches page JavaScript or Reflex's client state.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor

import reflex as rx

from yoom import accounts
from yoom.settings import get_settings
from yoom.state.base import AuthState, cookie_route_script, safe_next_path

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side. Please try again."
CLERK_ONLY = "This Yoom signs people in with Clerk: use the Clerk sign-in on this page."

# bcrypt costs ~0.25 s of CPU per sign-in or sign-up (it releases the GIL while it hashes). It runs on
# threads of its own, one fewer than the cores: a burst of sign-ups queues here, not in the default pool
# that every page's session lookup and database call share (with 50 clients signing up, a meeting page's
# clicks and video tokens waited 2.5 s there at the median and 11 s at worst; now ~8 ms), and a core stays
# free for the event loop. (Not at a lower OS priority: a thread descheduled while it holds the GIL for
# its few lines of Python stalls the loop.) benchmarks/loop_lag.py measures all of this.
PASSWORD_THREADS = max(1, (os.cpu_count() or 2) - 1)
_password_pool = ThreadPoolExecutor(PASSWORD_THREADS, thread_name_prefix="yoom-password")


def _field(form: dict, name: str) -> str:
    value = form.get(name, "") if isinstance(form, dict) else ""
    return value if isinstance(value, str) else ""


class AuthFormState(AuthState):
    error: str = ""
    submitting: bool = False

    def _client(self) -> str | None:
        """The browser's address (behind YOOM_TRUSTED_PROXY_HOPS proxies, the one they saw)."""
        return self.router.session.client_ip or None

    def _next_path(self) -> str:
        return safe_next_path(self.router.url.query_parameters.get("next"))

    async def _finish(self, attempt):
        """Run a blocking sign-in or sign-up off the event loop, on the password threads (bcrypt takes a
        quarter of a second, and the loop also carries every meeting's signaling), then hand the browser a
        ticket for its cookie."""
        if self.submitting:
            return
        if get_settings().clerk_enabled:  # the forms aren't shown then; their handlers refuse all the same
            self.error = CLERK_ONLY
            return
        self.error, self.submitting = "", True
        yield
        try:
            user = await asyncio.get_running_loop().run_in_executor(_password_pool, attempt)
            ticket = await asyncio.to_thread(accounts.issue_sign_in_ticket, user.id)
        except accounts.AccountError as exc:
            self.error, self.submitting = str(exc), False
            return
        except Exception:
            log.exception("signing in failed")
            self.error, self.submitting = UNEXPECTED, False
            return
        yield rx.call_script(
            cookie_route_script("/api/auth/session", {"ticket": ticket}, self._next_path()),
            callback=AuthFormState.cookie_route_failed,
        )

    @rx.event
    async def redirect_if_signed_in(self):
        """on_load of the sign-in and sign-up pages."""
        self.error = ""
        self.submitting = False
        if await self._signed_in_user() is not None:
            return rx.redirect(self._next_path())

    @rx.event
    async def sign_in(self, form: dict):
        username, password, client = _field(form, "username"), _field(form, "password"), self._client()
        async for update in self._finish(lambda: accounts.sign_in(username, password, client=client)):
            yield update

    @rx.event
    async def sign_up(self, form: dict):
        name, username, password = _field(form, "display_name"), _field(form, "username"), _field(form, "password")
        client = self._client()
        async for update in self._finish(lambda: accounts.sign_up(name, username, password, client=client)):
            yield update

    @rx.event
    def cookie_route_failed(self, message: str):
        """The ticket's round trip answered: "" when the next page is loading, else why it failed."""
        self.submitting = False
        if isinstance(message, str) and message:
            self.error = message[:300]
