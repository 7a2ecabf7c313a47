"""/upcoming and /previous — the viewer's meetings, page by page."""

import reflex as rx

from yoom import styles
from yoom.components.cards import list_card, paged_list
from yoom.components.navigation import app_shell
from yoom.pages.registry import page
from yoom.state.meetings import CallListState as Calls


def _meeting_list(icon: str, empty_message: str, actions) -> rx.Component:
    return paged_list(
        Calls,
        Calls.items,
        lambda m: list_card(
            icon,
            m["title"],
            m["starts_at"],
            actions(m),
            "meeting-card",
            rx.text(m["access"], size="1", color=styles.TEXT_MUTED, data_testid="meeting-access"),
        ),
        empty_message,
        retry=Calls.retry,
    )


def upcoming_actions(m) -> rx.Component:
    return rx.hstack(
        rx.button(rx.icon("play", size=16), "Start", on_click=rx.redirect(m["path"]), style=styles.button_primary),
        rx.button(rx.icon("copy", size=16), "Copy Link", on_click=Calls.copy_link(m["link"]), style=styles.button_dark),
        spacing="3",
        wrap="wrap",
    )


def previous_actions(m) -> rx.Component:
    return rx.hstack(
        rx.cond(m["ended_at"] != "", rx.badge("Ended", color_scheme="gray"), rx.badge("Started", color_scheme="green")),
        rx.button(rx.icon("copy", size=16), "Copy Link", on_click=Calls.copy_link(m["link"]), style=styles.button_dark),
        spacing="3",
        align="center",
    )


@page("/upcoming", "Upcoming meetings", on_load=Calls.load_upcoming)
def upcoming_page() -> rx.Component:
    return app_shell(_meeting_list("calendar", "No upcoming meetings", upcoming_actions), heading="Upcoming Meetings")
