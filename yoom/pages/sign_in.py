"""/sign-in and /sign-up."""

import reflex as rx

from yoom import styles
from yoom.accounts import DISPLAY_NAME_MAX, PASSWORD_MAX_BYTES, PASSWORD_MIN, USERNAME_MAX
from yoom.components.clerk_auth import clerk_sign_in_page, clerk_sign_up_page
from yoom.pages.registry import page
from yoom.settings import get_settings
from yoom.state.auth_forms import AuthFormState


def _next_suffix() -> rx.Var:
    nxt = rx.State.router.url.query_parameters.to(dict).get("next", "")
    return rx.cond(nxt != "", "?next=" + nxt.to(str), "")


def _labelled(label: str, name: str, **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, style={"font_size": "0.9rem", "color": styles.TEXT_MUTED}),
        rx.input(id=name, name=name, size="3", width="100%", style=styles.input_style, **props),
        spacing="1",
        width="100%",
    )


def _card(title: str, subtitle: str, form: rx.Component, footer: rx.Component) -> rx.Component:
    return rx.el.main(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.image(src="/logo.svg", width="40px", height="40px", alt="Yoom logo"),
                        rx.heading("Yoom", size="7"),
                        align="center",
                    ),
                    rx.heading(title, size="6", as_="h1"),
                    rx.text(subtitle, color=styles.TEXT_MUTED),
                    form,
                    footer,
                    spacing="4",
                    width="100%",
                ),
                width=["92vw", "420px"],
                padding="2rem",
                style={"background_color": styles.DARK_1},
            ),
            min_height="100vh",
            background_color=styles.DARK_2,
        )
    )


def _error() -> rx.Component:
    return rx.cond(
        AuthFormState.error != "",
        rx.callout(AuthFormState.error, icon="triangle-alert", color_scheme="red", role="alert", width="100%"),
    )


@page("/sign-in", "Sign in", on_load=AuthFormState.redirect_if_signed_in, signed_in=False)
def sign_in_page() -> rx.Component:
    if get_settings().clerk_enabled:  # Clerk is then the only way in
        return clerk_sign_in_page()
    form = rx.form(
        rx.vstack(
            _labelled(
                "Username or email", "username", auto_complete="username", required=True, max_length=USERNAME_MAX
            ),
            _labelled("Password", "password", type="password", auto_complete="current-password", required=True),
            _error(),
            rx.button("Sign in", type="submit", size="3", width="100%", style=styles.button_primary),
            spacing="3",
            width="100%",
        ),
        on_submit=AuthFormState.sign_in,
        width="100%",
    )
    footer = rx.text(
        "New to Yoom? ",
        rx.link("Create an account", href="/sign-up" + _next_suffix(), color=styles.ACCENT_TEXT, underline="always"),
        size="2",
    )
    return _card("Sign in", "Welcome back. Sign in to start or join a meeting.", form, footer)


@page("/sign-up", "Create account", on_load=AuthFormState.redirect_if_signed_in, signed_in=False)
def sign_up_page() -> rx.Component:
    if get_settings().clerk_enabled:
        return clerk_sign_up_page()
    form = rx.form(
        rx.vstack(
            _labelled("Your name", "display_name", auto_complete="name", required=True, max_length=DISPLAY_NAME_MAX),
            _labelled(
                "Username or email", "username", auto_complete="username", required=True, max_length=USERNAME_MAX
            ),
            _labelled(
                f"Password ({PASSWORD_MIN}–{PASSWORD_MAX_BYTES} characters)",
                "password",
                type="password",
                auto_complete="new-password",
                required=True,
            ),
            _error(),
            rx.button("Create account", type="submit", size="3", width="100%", style=styles.button_primary),
            spacing="3",
            width="100%",
        ),
        on_submit=AuthFormState.sign_up,
        width="100%",
    )
    footer = rx.text(
        "Already have an account? ",
        rx.link("Sign in", href="/sign-in" + _next_suffix(), color=styles.ACCENT_TEXT, underline="always"),
        size="2",
    )
    return _card("Create your account", "It takes ten seconds. No email needed.", form, footer)
