"""What the browser's Clerk session is doing, as the bridge reports it (Clerk mode only).

Display state, not a credential: who is signed in is still decided on the server from Yoom's session
cookie on every event (AuthState). That is why `status_changed` needs no signed-in user: it runs on the
sign-in page, for people who aren't signed in yet, and only changes what that page shows.
"""

from __future__ import annotations

import reflex as rx

from yoom.state.base import SIGN_IN_ROUTE, AuthState

STATUSES = ("loading", "signed_out", "signed_in", "error")
MESSAGE_MAX = 300
PUBLIC_PATHS = (SIGN_IN_ROUTE, "/sign-up")


class ClerkState(AuthState):
    clerk_status: str = "loading"
    clerk_error: str = ""

    @rx.event
    def status_changed(self, status: str, message: str):
        """The bridge's onChange: one of STATUSES and, for "error", a message for the person."""
        if not isinstance(status, str) or status not in STATUSES:
            return None
        message = message[:MESSAGE_MAX] if isinstance(message, str) else ""
        self.clerk_status = status
        self.clerk_error = message if status == "error" else ""
        on_sign_in_page = (self.router.url.path or "/").rstrip("/") in PUBLIC_PATHS
        if status == "error" and not on_sign_in_page:
            # Elsewhere a failed renewal is news, not a page: the meeting or page stays as it is.
            return rx.toast.error(self.clerk_error, id="clerk-session")
        return None
