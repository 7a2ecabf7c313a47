"""/meeting/[call_id] — the meeting room, full screen and dark.

The states every provider shares (loading, not found, not allowed, not started, ended, error) are drawn here;
setup and the call itself come from the provider's screen: Stream's SDK (yoom/components/stream_room.py)
or Yoom's built-in peer-to-peer meeting (yoom/components/local_room.py), both composed in Python
and both driven by RoomState.
"""

from __future__ import annotations

import reflex as rx

from yoom import styles
from yoom.components.lobby import lobby_knocks, moderation_panel
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
            rx.button(
                "Ask to be let back in",
                on_click=RoomState.ask_to_come_back,
                size="3",
                style=styles.button_primary,
                data_testid="ask-back",
            ),
            rx.button("Check again", on_click=RoomState.retry, size="3", style=styles.button_dark),
            back_home(),
            spacing="3",
            wrap="wrap",
            justify="center",
        ),
        test_id="meeting-removed",
    )


def guest_view() -> rx.Component:
    """Signed out, at a meeting that lets anyone with the link in: a name, "Join as guest", "Sign in"."""
    return notice(
        "user-round",
        "Join this meeting",
        rx.cond(RoomState.description != "", rx.text(RoomState.description, color=styles.TEXT_MUTED)),
        rx.text(RoomState.access_summary, size="2", color=styles.TEXT_MUTED, data_testid="access-summary"),
        rx.form(
            rx.vstack(
                rx.el.label(
                    rx.text("Your name", as_="span", size="2", weight="medium"),
                    rx.input(
                        name="name",
                        value=RoomState.guest_name,
                        on_change=RoomState.set_guest_name,
                        max_length=40,
                        required=True,
                        auto_complete="name",
                        size="3",
                        width="100%",
                        data_testid="guest-name",
                    ),
                    display="flex",
                    flex_direction="column",
                    gap="0.25rem",
                    width="100%",
                ),
                rx.cond(
                    RoomState.guest_error != "",
                    rx.text(RoomState.guest_error, color=styles.DANGER_TEXT, role="alert", data_testid="guest-error"),
                ),
                rx.hstack(
                    rx.button(
                        "Join as guest",
                        type="submit",
                        loading=RoomState.guest_joining,
                        size="3",
                        style=styles.button_primary,
                        data_testid="join-as-guest",
                    ),
                    rx.button(
                        "Sign in", type="button", on_click=RoomState.go_sign_in, size="3", style=styles.button_dark
                    ),
                    spacing="3",
                    justify="center",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=RoomState.join_as_guest,
            width="100%",
        ),
        test_id="meeting-guest",
    )


def sign_in_view() -> rx.Component:
    return notice(
        "log-in",
        "Sign in to join this meeting",
        rx.text("This meeting is for people with a Yoom account.", color=styles.TEXT_MUTED),
        rx.button(
            "Sign in", on_click=RoomState.go_sign_in, size="3", style=styles.button_primary, data_testid="sign-in"
        ),
        test_id="meeting-sign-in",
    )


def lobby_view() -> rx.Component:
    return notice(
        "door-open",
        "Waiting for the host to let you in",
        rx.spinner(size="3"),
        rx.text(
            rx.cond(
                RoomState.host_present,
                "The host knows you're here.",
                "The host isn't in the meeting yet. You'll be let in once they arrive and admit you.",
            ),
            color=styles.TEXT_MUTED,
            role="status",
            data_testid="lobby-host-status",
        ),
        rx.button("Leave", on_click=RoomState.leave_lobby, size="3", style=styles.button_dark),
        test_id="meeting-lobby",
    )


def denied_view() -> rx.Component:
    return notice(
        "user-x",
        "The host didn't let you in",
        rx.text("You can't join this meeting unless the host lets you in.", color=styles.TEXT_MUTED, role="alert"),
        back_home(),
        test_id="meeting-denied",
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


@page("/meeting/[call_id]", "Meeting", on_load=[RoomState.load_room, InCallState.clear_room], signed_in=False)
def meeting_page() -> rx.Component:
    return rx.el.main(
        rx.match(
            RoomState.phase,
            (Phase.NOT_FOUND, not_found_view()),
            (Phase.NOT_ALLOWED, not_allowed_view()),
            (Phase.NOT_STARTED, not_started_view()),
            (Phase.ENDED, ended_view()),
            (Phase.REMOVED, removed_view()),
            (Phase.GUEST, guest_view()),
            (Phase.SIGN_IN, sign_in_view()),
            (Phase.LOBBY, lobby_view()),
            (Phase.DENIED, denied_view()),
            (Phase.ERROR, error_view()),
            (
                Phase.SETUP,
                Phase.IN_CALL,
                rx.cond(RoomState.provider == "stream", stream_meeting_screen(), local_meeting_screen()),
            ),
            loading_view(),
        ),
        lobby_knocks(),
        moderation_panel(),
        background_color=styles.DARK_2,
        color=styles.TEXT,
        min_height="100vh",
        width="100%",
        data_testid="meeting-page",
        data_phase=RoomState.phase,
    )
