"""/meeting/[call_id] — the meeting room, full screen and dark.

The states every provider shares (loading, not found, not allowed, not started, ended, error) are drawn here;
setup and the call itself come from the provider's screen: Stream's SDK (yoom/components/stream_room.py)
or Yoom's built-in peer-to-peer meeting (yoom/components/local_video.py), both composed in Python
and both driven by RoomState.
"""

from __future__ import annotations

import reflex as rx

from yoom import styles
from yoom.components import local_video as lv
from yoom.components.stream_room import (
    end_call_button,
    invite_button,
    layout_switcher,
    participants_toggle,
    stream_meeting_screen,
)
from yoom.state.base import AuthState
from yoom.state.room import RoomState
from yoom.video.base import INVITE_ONLY_MESSAGE

# ---- the states around the call ------------------------------------------------------------------


def back_home() -> rx.Component:
    return rx.link(
        rx.button("Back to Home", size="3", style=styles.button_dark),
        href="/",
        data_testid="back-home",
    )


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
            rx.moment(RoomState.starts_at_iso, format="dddd, MMMM D, YYYY [at] h:mm A", local=True),
            color=styles.TEXT_MUTED,
            data_testid="scheduled-for",
        ),
        rx.text("You can join 10 minutes before it starts.", size="2", color=styles.TEXT_MUTED),
        rx.hstack(
            rx.button("Check again", on_click=RoomState.retry, size="3", style=styles.button_primary,
                      data_testid="check-again"),
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


def error_view() -> rx.Component:
    return notice(
        "triangle-alert",
        "Can't open this meeting",
        rx.text(RoomState.error_message, color=styles.TEXT_MUTED, role="alert", data_testid="meeting-error-message"),
        rx.hstack(
            rx.button("Try again", on_click=RoomState.retry, size="3", style=styles.button_primary,
                      data_testid="retry"),
            back_home(),
            spacing="3",
            wrap="wrap",
            justify="center",
        ),
        test_id="meeting-error",
    )


# ---- Yoom's built-in meeting (provider "local") ---------------------------------------------------


def join_muted_checkbox() -> rx.Component:
    both_off = RoomState.join_mic_off & RoomState.join_camera_off
    return rx.el.label(
        rx.checkbox(
            checked=both_off,
            on_change=lambda value: [RoomState.set_join_mic_off(value), RoomState.set_join_camera_off(value)],
            data_testid="join-muted",
        ),
        rx.text("Join with mic and camera off", as_="span"),
        display="flex",
        align_items="center",
        gap="0.5rem",
        cursor="pointer",
    )


def local_setup() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("Setup", size="7", as_="h1"),
            rx.cond(RoomState.description != "", rx.text(RoomState.description, color=styles.TEXT_MUTED)),
            rx.box(lv.local_video_preview(), width="100%", max_width="640px"),
            rx.flex(
                join_muted_checkbox(),
                lv.local_device_settings(),
                align="center",
                justify="center",
                gap="1rem",
                wrap="wrap",
                width="100%",
            ),
            rx.hstack(
                rx.button("Join meeting", on_click=RoomState.join_meeting, size="3",
                          style={**styles.button_primary, "background_color": styles.ACCENT},
                          data_testid="join-meeting"),
                back_home(),
                spacing="3",
                wrap="wrap",
                justify="center",
            ),
            align="center",
            spacing="4",
            width="100%",
            max_width="720px",
        ),
        min_height="100vh",
        width="100%",
        padding=["1rem", "1.5rem"],
        data_testid="local-setup",
    )


def local_participants_panel() -> rx.Component:
    return rx.cond(
        RoomState.show_participants,
        rx.box(
            rx.hstack(
                rx.heading("Participants (", RoomState.participant_count, ")", size="4", as_="h2"),
                rx.spacer(),
                rx.icon_button(rx.icon("x", size=18), on_click=RoomState.toggle_participants, variant="ghost",
                               aria_label="Close participants", color=styles.TEXT),
                align="center",
                width="100%",
                margin_bottom="0.75rem",
            ),
            lv.local_participants_list(),
            width=["100%", "100%", "320px"],
            max_height=["40vh", "40vh", "100%"],
            flex_shrink="0",
            overflow_y="auto",
            padding="1rem",
            border_radius=styles.RADIUS,
            background_color=styles.DARK_1,
            data_testid="participants-panel",
        ),
    )


def waiting_hint() -> rx.Component:
    """Over my own tile while nobody else is here: say so, and offer the link to invite people."""
    return rx.cond(
        RoomState.connected & (RoomState.participant_count == 1),
        rx.center(
            rx.vstack(
                rx.icon("users", size=28, color=styles.ACCENT),
                rx.text("Waiting for others to join", size="4", weight="medium", as_="p"),
                rx.text("Share the meeting link to invite people.", size="2", color=styles.TEXT_MUTED, as_="p"),
                invite_button(test_id="waiting-hint-copy", with_label=True),
                align="center",
                spacing="2",
                padding="1.25rem 1.5rem",
                border_radius=styles.RADIUS,
                background_color="rgba(22, 25, 37, 0.85)",
                text_align="center",
                pointer_events="auto",
                role="status",
            ),
            position="absolute",
            inset="0",
            z_index="3",
            padding="1rem",
            pointer_events="none",
            data_testid="waiting-hint",
        ),
    )


def local_in_call() -> rx.Component:
    return rx.flex(
        rx.flex(
            rx.box(
                lv.local_participants_view(layout=RoomState.layout),
                waiting_hint(),
                position="relative",
                flex="1",
                min_width="0",
                min_height="0",
                height="100%",
                data_testid="participants-view",
            ),
            local_participants_panel(),
            direction=rx.breakpoints(initial="column", md="row"),
            gap="0.75rem",
            flex="1",
            min_height="0",
            width="100%",
        ),
        rx.flex(
            lv.local_call_controls(can_record=RoomState.is_owner),
            layout_switcher(),
            participants_toggle(),
            invite_button(),
            end_call_button(),
            align="center",
            justify="center",
            wrap="wrap",
            gap="0.75rem",
            padding_top="0.75rem",
            data_testid="call-controls-bar",
        ),
        direction="column",
        height="100dvh",
        width="100%",
        padding=["0.5rem", "0.75rem", "1rem"],
        data_testid="local-in-call",
    )


def local_meeting_screen() -> rx.Component:
    """Setup and the call inside ONE LocalCall, so the camera and the token carry over when joining."""
    in_call = RoomState.phase == "in_call"
    return lv.local_call(
        rx.cond(in_call, local_in_call(), local_setup()),
        call_id=RoomState.room_id,
        token_url="/api/video/token",
        ws_url="/api/rtc",
        start_with_mic_off=RoomState.join_mic_off,
        start_with_camera_off=RoomState.join_camera_off,
        joined=in_call,
        on_joined=RoomState.on_joined,
        on_left=RoomState.on_left,
        on_call_ended=RoomState.on_call_ended,
        on_error=RoomState.on_error,
        on_participants_change=RoomState.on_participants_change,
        on_recording_saved=RoomState.on_recording_saved,
        on_recording_error=RoomState.on_recording_error,
    )


# ---- the page ------------------------------------------------------------------------------------


@rx.page(route="/meeting/[call_id]", title="Meeting · Yoom", on_load=[AuthState.check_login, RoomState.load_room])
def meeting_page() -> rx.Component:
    return rx.box(
        rx.match(
            RoomState.phase,
            ("not_found", not_found_view()),
            ("not_allowed", not_allowed_view()),
            ("not_started", not_started_view()),
            ("ended", ended_view()),
            ("error", error_view()),
            ("setup", "in_call", rx.cond(RoomState.provider == "stream", stream_meeting_screen(), local_meeting_screen())),
            loading_view(),
        ),
        background_color=styles.DARK_2,
        color=styles.TEXT,
        min_height="100vh",
        width="100%",
        data_testid="meeting-page",
        data_phase=RoomState.phase,
    )
