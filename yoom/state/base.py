"""The signed-in user, found on the server from the session cookie on every event.

Every handler that acts for a person is decorated with `@signed_in`: it looks the user up on the
server (off the event loop), sends a signed-out browser to the sign-in page, and passes the `User`
to the handler. The browser's copy of `user_id` is for display only and never trusted.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import reflex as rx

from yoom import accounts, guests
from yoom.api.auth import guest_token_from_cookie_header, session_token_from_cookie_header
from yoom.models import Guest, User
from yoom.settings import get_settings

log = logging.getLogger(__name__)

SIGN_IN_ROUTE = "/sign-in"


# Where a sign-in may lead: Yoom's own pages only, with at most a plain query (`?personal=true`).
_NEXT_PATH = re.compile(
    r"/(?:upcoming|previous|recordings|personal-room|meeting/[A-Za-z0-9_-]{1,64})?/?(?:\?[A-Za-z0-9_=&-]{0,200})?"
)


def safe_next_path(raw: object) -> str:
    """The page to open after signing in, if it is one of Yoom's own; else Home.

    Matching a whitelist rather than cleaning the text: browsers drop tabs and newlines from URLs and
    read `\\` as `/`, so `/\t/evil.example` would leave the site. Nothing outside [A-Za-z0-9_=&-] passes."""
    if isinstance(raw, str) and len(raw) <= 300 and _NEXT_PATH.fullmatch(raw):
        return raw
    return "/"


def signed_in(handler: Callable[..., Any]) -> Callable[..., Any]:
    return _person_handler(handler, guests_too=False)


def in_room(handler: Callable[..., Any] | None = None, *, anyone: bool = False) -> Callable[..., Any]:
    """`@signed_in` for the meeting room's handlers, which a guest of that meeting may call too: the
    handler gets the `User` or the `Guest` (yoom.models; a guest is never a signed-in member, and every
    other handler stays `@signed_in`). `anyone=True`: nobody at all is passed as None instead of being
    sent to the sign-in page (the room's loader, which offers "Join as guest")."""
    if handler is None:
        return functools.partial(_person_handler, guests_too=True, anyone=anyone)
    return _person_handler(handler, guests_too=True, anyone=anyone)


def _person_handler(handler: Callable[..., Any], *, guests_too: bool, anyone: bool = False) -> Callable[..., Any]:
    """Event handler decorator: the signed-in `User` is looked up on the server and passed as the
    handler's second argument (`def handler(self, user, ...)`); a signed-out browser is sent to the
    sign-in page (and back here afterwards) and the handler does not run.

    The wrapper keeps the handler's kind (plain, coroutine or async generator: Reflex treats them
    differently) and hides `user` from its signature, so the browser can't pass it. A call whose
    arguments don't fit that signature (only a hand-made event sends one) is ignored before any lookup."""
    parameters = list(inspect.signature(handler).parameters.values())
    if len(parameters) < 2 or parameters[1].name not in ("user", "_user"):
        raise TypeError(f"@signed_in handler {handler.__qualname__} must take (self, user, ...)")
    signature = inspect.Signature([parameters[0], *parameters[2:]])
    annotations = {k: v for k, v in getattr(handler, "__annotations__", {}).items() if k != parameters[1].name}

    def fits(self, args: tuple, kwargs: dict) -> bool:
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError:
            log.info(
                "ignored %s with arguments it doesn't take: %s", handler.__qualname__, [k[:40] for k in kwargs][:5]
            )
            return False
        return True

    if inspect.isasyncgenfunction(handler):

        async def wrapper(self, *args, **kwargs):
            if not fits(self, args, kwargs):
                return
            user = await self._person(guests_too)
            if user is None and not anyone:
                yield self._signed_out()
                return
            async for update in handler(self, user, *args, **kwargs):
                yield update

    else:

        async def wrapper(self, *args, **kwargs):
            if not fits(self, args, kwargs):
                return None
            user = await self._person(guests_too)
            if user is None and not anyone:
                return self._signed_out()
            result = handler(self, user, *args, **kwargs)
            return await result if inspect.isawaitable(result) else result

    functools.update_wrapper(wrapper, handler)
    del wrapper.__wrapped__  # Reflex must see the signature below, not the handler's own
    wrapper.__signature__ = signature
    wrapper.__annotations__ = annotations
    return wrapper


REFLEX_TOKEN_KEY = "token"  # where Reflex's state.js keeps a tab's client token (sessionStorage)


def cookie_route_script(path: str, body: dict | None, then_go_to: str) -> str:
    """JavaScript for `rx.call_script`: POST to one of Yoom's cookie routes (yoom/api/auth.py) with the
    browser's credentials, then load `then_go_to` afresh — a full load, so the event socket reconnects
    with the new cookie. Evaluates to "" on success, else a message for the form (the callback's argument).

    Runs inside Reflex's state.js, whose `getBackendURL()` finds the backend (its own port in development);
    where a build has renamed it, the page's own origin is the backend (production serves both on one port)."""
    options = {"method": "POST", "credentials": "include"}
    if body is not None:
        options["headers"] = {"Content-Type": "application/json"}
        options["body"] = json.dumps(body)
    return (
        f"fetch(new URL({json.dumps(path)}, "
        "typeof getBackendURL === 'function' ? getBackendURL() : window.location.href).href, "
        f"{json.dumps(options)})"
        ".then((r) => r.ok ? (window.sessionStorage.removeItem(" + json.dumps(REFLEX_TOKEN_KEY) + "), "
        "window.location.assign(" + json.dumps(then_go_to) + "), '') : "
        "r.json().then((b) => (b && b.error) || 'Yoom could not sign you in. Try again.', "
        "() => 'Yoom could not sign you in. Try again.'))"
        ".catch(() => \"Yoom's server can't be reached. Check your connection and try again.\")"
    )


class AuthState(rx.State):
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

    def _session_token(self) -> str | None:
        """The HttpOnly session cookie, as the event socket's handshake carried it (never client state)."""
        return session_token_from_cookie_header(self.router.headers.cookie)

    async def _signed_in_user(self) -> User | None:
        """The user behind this browser's session cookie, looked up on the server now (off the event loop)."""
        token = self._session_token()
        if not token:
            return None
        return await asyncio.to_thread(accounts.user_for_session, token)

    async def _person(self, guests_too: bool) -> User | Guest | None:
        """The signed-in user, else (`guests_too`) the guest behind the `yoom_guest` cookie, else None."""
        user = await self._signed_in_user()
        if user is not None or not guests_too:
            return user
        token = guest_token_from_cookie_header(self.router.headers.cookie)
        return await asyncio.to_thread(guests.guest_for_token, token) if token else None

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

    def _signed_out(self):
        """What a handler answers a browser with no valid session: the sign-in page, back here afterwards."""
        self._show_user(None)
        return self._redirect_to_sign_in()

    @rx.event
    async def check_login(self):
        """on_load of every protected page: no valid session → sign-in, and back here afterwards."""
        user = await self._signed_in_user()
        self._show_user(user)
        if user is None:
            return self._redirect_to_sign_in()

    @rx.event
    async def sign_out(self):
        """Revoke the session now; the sign-out route clears the HttpOnly cookie, then the sign-in page loads."""
        token = self._session_token()
        if token:
            await asyncio.to_thread(accounts.sign_out, token)
        self._show_user(None)
        return rx.call_script(cookie_route_script("/api/auth/sign-out", None, SIGN_IN_ROUTE))
