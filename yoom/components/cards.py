"""Cards: the home page's action cards and the meeting/recording cards of the lists."""

import reflex as rx

from yoom import styles
from yoom.components.local_time import local_time


def action_card(title: str, subtitle: str, icon: str, color: str, on_click, test_id: str) -> rx.Component:
    # A real button: Enter and Space work, and its name is what it shows (title and subtitle).
    return rx.el.button(
        rx.vstack(
            rx.center(
                rx.icon(icon, size=26),
                width="48px",
                height="48px",
                border_radius="10px",
                background_color="rgba(255,255,255,0.22)",
            ),
            rx.vstack(
                rx.heading(title, size="6", as_="h2"),
                rx.text(subtitle, size="3", color=styles.TEXT),
                spacing="1",
            ),
            justify="between",
            height="100%",
            spacing="6",
        ),
        on_click=on_click,
        type="button",
        data_testid=test_id,
        background_color=color,
        padding="1.5rem",
        border_radius=styles.RADIUS,
        min_height=["150px", "200px", "230px"],
        cursor="pointer",
        border="none",
        color=styles.TEXT,
        font="inherit",
        text_align="left",
        display="block",
        width="100%",
        transition="transform 120ms ease",
        _hover={"transform": "translateY(-3px)"},
        _focus_visible={"outline": f"3px solid {styles.TEXT}"},
    )


def local_datetime(iso: rx.Var, fmt: str = "ddd, MMM D, YYYY · h:mm A") -> rx.Component:
    """A UTC ISO time shown in the viewer's own time zone (rendered in the browser)."""
    return local_time(iso, fmt)


def list_card(
    icon: str, title: rx.Var, when_iso: rx.Var, actions: rx.Component, test_id: str, extra: rx.Component | None = None
) -> rx.Component:
    return rx.vstack(
        rx.icon(icon, size=28),
        rx.heading(title, size="5", as_="h2", trim="both", style={"overflow_wrap": "anywhere"}),
        rx.text(local_datetime(when_iso), color=styles.TEXT_MUTED, size="2"),
        extra or rx.fragment(),
        rx.spacer(),
        actions,
        data_testid=test_id,
        background_color=styles.DARK_1,
        border_radius=styles.RADIUS,
        padding="1.5rem",
        spacing="3",
        min_height="220px",
        width="100%",
    )


def list_grid(*children, **props) -> rx.Component:
    return rx.grid(*children, columns=rx.breakpoints(initial="1", md="2"), spacing="5", width="100%", **props)


def empty_state(message: str, test_id: str = "empty-state") -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("calendar-x", size=40, color=styles.TEXT_MUTED),
            rx.heading(message, size="5", as_="h2"),
            align="center",
        ),
        padding="4rem 1rem",
        width="100%",
        data_testid=test_id,
    )


def error_state(message: rx.Var, on_retry) -> rx.Component:
    return rx.callout(
        rx.hstack(
            rx.text(message),
            rx.button("Try again", on_click=on_retry, size="1", style=styles.button_primary),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        icon="triangle-alert",
        color_scheme="red",
        role="alert",
        width="100%",
    )


def loading_state() -> rx.Component:
    return list_grid(
        *[rx.skeleton(height="220px", border_radius=styles.RADIUS, loading=True, width="100%") for _ in range(4)],
        data_testid="loading-state",
        aria_busy="true",
    )


def paged_list(state, items: rx.Var, render, empty_message: str, *, retry) -> rx.Component:
    """A list loaded a page at a time: loading skeletons, an error with Try again, the empty state, the cards
    (`render(item)`), and "Load more" while there is a next page. `state` is a yoom.state.meetings._PagedState."""
    return rx.vstack(
        rx.cond(state.error != "", error_state(state.error, retry)),
        rx.cond(
            state.loading,
            loading_state(),
            rx.cond(
                (items.length() == 0) & (state.error == ""),
                empty_state(empty_message),
                list_grid(rx.foreach(items, render)),
            ),
        ),
        rx.cond(
            state.cursor != "",
            rx.button(
                "Load more", on_click=state.load_more, loading=state.loading_more, style=styles.button_dark, size="3"
            ),
        ),
        spacing="5",
        width="100%",
        align="center",
    )
