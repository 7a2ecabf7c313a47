"""The app shell: navbar, sidebar, phone drawer."""

import reflex as rx

from yoom import styles
from yoom.components.avatar import user_avatar
from yoom.components.clerk_auth import clerk_account_menu
from yoom.settings import get_settings
from yoom.state.base import AuthState

NAV_LINKS = [
    ("Home", "/", "house"),
    ("Upcoming", "/upcoming", "calendar-clock"),
    ("Previous", "/previous", "history"),
    ("Recordings", "/recordings", "video"),
    ("Personal Room", "/personal-room", "user-plus"),
]


def _is_active(route: str) -> rx.Var:
    path = rx.State.router.url.path
    if route == "/":
        return (path == "/") | (path == "")
    return path.to(str).startswith(route)


def logo() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.image(src="/logo.svg", width="34px", height="34px", alt="Yoom logo"),
            rx.text("Yoom", size="6", weight="bold", color=styles.TEXT, display=["none", "block"]),
            align="center",
            spacing="2",
        ),
        href="/",
        underline="none",
    )


def sidebar_link(label: str, route: str, icon: str, show_label_always: bool = False) -> rx.Component:
    active = _is_active(route)
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=22),
            rx.text(
                label,
                size="3",
                weight="medium",
                display="block" if show_label_always else ["none", "none", "none", "block"],
            ),
            align="center",
            spacing="3",
            justify="start" if show_label_always else rx.breakpoints(initial="start", md="center", lg="start"),
            width="100%",
        ),
        href=route,
        underline="none",
        color=styles.TEXT,
        title=label,
        aria_current=rx.cond(active, "page", "false"),
        padding="0.9rem 1rem",
        border_radius="10px",
        width="100%",
        background_color=rx.cond(active, styles.ACCENT, "transparent"),
        _hover={"background_color": rx.cond(active, styles.ACCENT, styles.DARK_3)},
    )


def sidebar() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            *[sidebar_link(*link) for link in NAV_LINKS],
            spacing="2",
            width="100%",
        ),
        display=["none", "none", "block"],
        position="sticky",
        top=styles.NAVBAR_HEIGHT,
        height=f"calc(100vh - {styles.NAVBAR_HEIGHT})",
        width=styles.SIDEBAR_WIDTH,
        min_width=styles.SIDEBAR_WIDTH,
        padding="1.5rem 0.75rem",
        background_color=styles.DARK_1,
        aria_label="Main",
        data_testid="sidebar",
    )


def mobile_nav() -> rx.Component:
    """The phone's navigation: a panel from the left (a Radix dialog, which the home page loads anyway)."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.icon_button(rx.icon("menu", size=24), variant="ghost", aria_label="Open navigation", color=styles.TEXT),
        ),
        rx.dialog.content(
            rx.dialog.title("Navigation", style=styles.visually_hidden),
            rx.vstack(
                rx.hstack(
                    logo(),
                    rx.dialog.close(rx.icon_button(rx.icon("x"), variant="ghost", aria_label="Close navigation")),
                    justify="between",
                    width="100%",
                ),
                *[rx.dialog.close(sidebar_link(*link, show_label_always=True)) for link in NAV_LINKS],
                spacing="3",
                width="100%",
            ),
            style={
                "position": "fixed",
                "left": "0",
                "top": "0",
                "margin": "0",
                "padding": "1.25rem",
                "width": "280px",
                "max_width": "85vw",
                "height": "100%",
                "max_height": "100%",
                "border_radius": "0",
                "background_color": styles.DARK_1,
                "color": styles.TEXT,
            },
        ),
    )


def user_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                user_avatar(AuthState.user_name, AuthState.user_image, AuthState.user_initials, size="2"),
                rx.text(AuthState.user_name, display=["none", "none", "block"], data_testid="user-name"),
                variant="ghost",
                color=styles.TEXT,
                # Its name is what it shows (initials and name), so voice control finds it by what people see.
                title="Account menu",
                cursor="pointer",
                data_testid="account-menu",
            )
        ),
        rx.menu.content(
            rx.vstack(
                rx.text(AuthState.user_name, weight="bold"),
                rx.text(AuthState.user_username, size="1", color_scheme="gray"),
                spacing="0",
                padding="0.5rem 0.75rem",
            ),
            rx.menu.separator(),
            rx.menu.item(rx.icon("log-out", size=16), "Sign out", on_click=AuthState.sign_out, color="red"),
        ),
    )


def provider_badge() -> rx.Component:
    return rx.badge(
        rx.cond(AuthState.video_provider == "stream", "Stream Video", "Built-in video"),
        variant="soft",
        color_scheme="blue",
        title="Which video provider this Yoom runs on",
        data_testid="provider-badge",
        display=["none", "inline-flex"],
    )


def navbar() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.hstack(
                rx.box(mobile_nav(), display=["block", "block", "none"]),
                logo(),
                align="center",
                spacing="3",
            ),
            rx.hstack(
                provider_badge(),
                clerk_account_menu() if get_settings().clerk_enabled else user_menu(),
                align="center",
                spacing="4",
            ),
            justify="between",
            align="center",
            height=styles.NAVBAR_HEIGHT,
            padding_x=["1rem", "1.5rem"],
            background_color=styles.DARK_1,
            width="100%",
        ),
        position="sticky",
        top="0",
        z_index="30",
        width="100%",
    )


def app_shell(
    *children: rx.Component, heading: str | None = None, shown_at_once: rx.Component | None = None
) -> rx.Component:
    """Every signed-in page but the meeting room: navbar, sidebar, and the page's content.

    `shown_at_once`: a part with nothing of the person's in it (the home page's clock), drawn as soon as the
    page is, without waiting for the server to confirm the session as the rest does."""
    content = list(children)
    if heading:
        content.insert(0, rx.heading(heading, size="8", as_="h1", margin_bottom="1rem"))
    return rx.box(
        navbar(),
        rx.hstack(
            sidebar(),
            rx.el.main(
                shown_at_once or rx.fragment(),
                rx.cond(
                    AuthState.is_signed_in,
                    rx.box(*content, width="100%"),
                    rx.center(rx.spinner(size="3"), height="50vh"),
                ),
                flex="1",
                min_width="0",
                min_height=f"calc(100vh - {styles.NAVBAR_HEIGHT})",
                **styles.page_padding,
            ),
            spacing="0",
            align="start",
            width="100%",
        ),
        background_color=styles.DARK_2,
        min_height="100vh",
    )
