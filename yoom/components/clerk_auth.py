"""What Clerk mode shows instead of Yoom's own forms: the sign-in and sign-up pages around Clerk's
components, and the navbar's account button (Clerk's UserButton)."""

from __future__ import annotations

import reflex as rx

from yoom import styles
from yoom.components.clerk import (
    SIGN_IN_URL,
    SIGN_UP_URL,
    clerk_session_status,
    sign_in,
    sign_out_button,
    sign_up,
    user_button,
)
from yoom.state.base import AuthState
from yoom.state.clerk import ClerkState


def _next_suffix() -> rx.Var:
    nxt = rx.State.router.url.query_parameters.to(dict).get("next", "")
    return rx.cond(nxt != "", "?next=" + nxt.to(str), "")


def _waiting(text: str, test_id: str) -> rx.Component:
    return rx.vstack(
        rx.spinner(size="3"),
        rx.text(text, color=styles.TEXT_MUTED),
        align="center",
        spacing="3",
        padding="2rem",
        role="status",
        data_testid=test_id,
    )


def _problem() -> rx.Component:
    return rx.vstack(
        rx.callout(
            ClerkState.clerk_error,
            icon="triangle-alert",
            color_scheme="red",
            role="alert",
            width="100%",
            data_testid="clerk-error",
        ),
        rx.hstack(
            rx.button(
                "Try again",
                on_click=rx.call_script("window.location.reload()"),
                style=styles.button_primary,
            ),
            # Signed in to Clerk as someone Yoom can't take: a way out that isn't "clear your cookies".
            sign_out_button(rx.button("Use another account", variant="soft"), redirect_url=SIGN_IN_URL),
            spacing="3",
        ),
        spacing="3",
        width="100%",
        max_width="420px",
    )


def _page(title: str, subtitle: str, clerk_component: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.hstack(
                rx.image(src="/logo.svg", width="40px", height="40px", alt="Yoom logo"),
                rx.heading("Yoom", size="7"),
                align="center",
            ),
            rx.heading(title, size="6", as_="h1"),
            rx.text(subtitle, color=styles.TEXT_MUTED, text_align="center"),
            clerk_session_status(on_change=ClerkState.status_changed),
            rx.match(
                ClerkState.clerk_status,
                ("signed_out", clerk_component),
                ("signed_in", _waiting("Signing you in…", "clerk-signing-in")),
                ("error", _problem()),
                _waiting("Loading sign-in…", "clerk-loading"),
            ),
            align="center",
            spacing="4",
            padding="2rem 1rem",
        ),
        min_height="100vh",
        background_color=styles.DARK_2,
    )


def clerk_sign_in_page() -> rx.Component:
    return _page(
        "Sign in",
        "Welcome back. Sign in to start or join a meeting.",
        sign_in(
            routing="hash",
            sign_up_url=SIGN_UP_URL + _next_suffix(),
            force_redirect_url=SIGN_IN_URL + _next_suffix(),
            sign_up_force_redirect_url=SIGN_UP_URL + _next_suffix(),
        ),
    )


def clerk_sign_up_page() -> rx.Component:
    return _page(
        "Create your account",
        "Sign up with Clerk to start or join a meeting.",
        sign_up(
            routing="hash",
            sign_in_url=SIGN_IN_URL + _next_suffix(),
            force_redirect_url=SIGN_UP_URL + _next_suffix(),
            sign_in_force_redirect_url=SIGN_IN_URL + _next_suffix(),
        ),
    )


def clerk_account_menu() -> rx.Component:
    """The navbar's account button in Clerk mode: the name Yoom knows, and Clerk's UserButton."""
    return rx.hstack(
        clerk_session_status(on_change=ClerkState.status_changed),
        rx.text(AuthState.user_name, display=["none", "none", "block"], data_testid="user-name"),
        user_button(),
        align="center",
        spacing="3",
        data_testid="clerk-account",
    )
