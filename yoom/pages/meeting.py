"""/meeting/[call_id] — the meeting room, full screen and dark.

The states every provider shares (loading, not found, not allowed, not started, ended, error) are drawn here;
setup and the call itself come from the provider's screen: Stream's SDK (yoom/components/stream_room.py)
or Yoom's built-in peer-to-peer meeting (yoom/components/local_room.py), both composed in Python
and both driven by RoomState.
"""

from __future__ import annotations

import reflex as rx

from yoom import styles
from yoom.components.local_room import local_meeting_screen
from yoom.components.local_time import local_time
from yoom.components.room_controls import back_home
from yoom.components.stream_room import stream_meeting_screen
from yoom.meeting_rules import Phase
from yoom.pages.registry import page
from yoom.state.in_call import InCallState
from yoom.state.room import RoomState
from yoom.video.base import INVITE_ONLY_MESSAGE

# ---- the states around the call ------------------------------------------------------------------


def notice(icon: str, title: str | rx.Component, *body: rx.Component, test_id: str) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=40, color=styles.ACCENT),
            rx.heading(title, size="6", as_="h1", text_align="center"),
            *body,
            align="center",
            spacing="4",
            padding="2rem",
            border_radius=styles.RADIUS,
            background_color=styles.DARK_1,
            max_width="520px",
            width="100%",
            text_align="center",
        ),
        min_height="100vh",
        width="100%",
        padding="1rem",
        data_testid=test_id,
    )


def loading_view() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.spinner(size="3"),
            rx.text("Loading the meeting…", color=styles.TEXT_MUTED),
            align="center",
            spacing="3",
        ),
        min_height="100vh",
        width="100%",
        data_testid="meeting-loading",
    )


def not_found_view() -> rx.Component:
    return notice(
        "search-x",
        "Meeting not found",
        rx.text("That meeting doesn't exist. Check the link or meeting ID.", color=styles.TEXT_MUTED),
        back_home(),
        test_id="meeting-not-found",
    )


def not_allowed_view() -> rx.Component:
    return notice(
        "lock",
        "You're not invited to this meeting",
        rx.text(INVITE_ONLY_MESSAGE, color=styles.TEXT_MUTED, data_testid="not-allowed-message"),
        back_home(),
        test_id="meeting-not-allowed",
    )


def not_started_view() -> rx.Component:
    return notice(
        "calendar-clock",
        "This meeting has not started yet",
        rx.text(
            "Scheduled for ",
            local_time(RoomState.starts_at_iso, "dddd, MMMM D, YYYY [at] h:mm A"),
            color=styles.TEXT_MUTED,
            data_testid="scheduled-for",
        ),
        rx.text("You can join 10 minutes before it starts.", size="2", color=styles.TEXT_MUTED),
        rx.hstack(
            rx.button(
                "Check again",
                on_click=RoomState.retry,
                size="3",
                style=styles.button_primary,
                data_testid="check-again",
            ),
            back_home(),
            spacing="3",
            wrap="wrap",
            justify="center",
        ),
        test_id="meeting-not-started",
    )


def ended_view() -> rx.Component:
    return notice(
        "phone-off",
        "This meeting was ended by the host",
        rx.text("Start a new meeting from Home whenever you're ready.", color=styles.TEXT_MUTED),
        back_home(),
        test_id="meeting-ended",
    )


def removed_view() -> rx.Component:
    return notice(
        "user-x",
        "You were removed from this meeting",
        rx.text("The host removed you. You can come back if they let you in again.", color=styles.TEXT_MUTED),
        rx.hstack(
            rx.button("Check again", on_click=RoomState.retry, size="3", style=styles.button_primary),
            back_home(),
            spacing="3",
            wrap="wrap",
            justify="center",
        ),
        test_id="meeting-removed",
    )


def error_view() -> rx.Component:
    return notice(
        "triangle-alert",
        "Can't open this meeting",
        rx.text(RoomState.error_message, color=styles.TEXT_MUTED, role="alert", data_testid="meeting-error-message"),
        rx.hstack(
            rx.button(
                "Try again", on_click=RoomState.retry, size="3", style=styles.button_primary, data_testid="retry"
            ),
            back_home(),
            spacing="3",
            wrap="wrap",
            justify="center",
        ),
        test_id="meeting-error",
    )


# ---- the page ------------------------------------------------------------------------------------


@page("/meeting/[call_id]", "Meeting", on_load=[RoomState.load_room, InCallState.clear_room])
def meeting_page() -> rx.Component:
    return rx.el.main(
        rx.match(
            RoomState.phase,
            (Phase.NOT_FOUND, not_found_view()),
            (Phase.NOT_ALLOWED, not_allowed_view()),
            (Phase.NOT_STARTED, not_started_view()),
            (Phase.ENDED, ended_view()),
            (Phase.REMOVED, removed_view()),
            (Phase.ERROR, error_view()),
            (
                Phase.SETUP,
                Phase.IN_CALL,
                rx.cond(RoomState.provider == "stream", stream_meeting_screen(), local_meeting_screen()),
            ),
            loading_view(),
        ),
        background_color=styles.DARK_2,
        color=styles.TEXT,
        min_height="100vh",
        width="100%",
        data_testid="meeting-page",
        data_phase=RoomState.phase,
    )
