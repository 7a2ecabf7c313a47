"""The meeting room on Stream, composed in Python from the SDK's parts (yoom/components/stream_video.py).

`stream_meeting_screen()` covers the two phases in which the Stream client is needed — `setup`
(preview, devices, join) and `in_call` (layouts, controls, participants) — inside ONE bridge
instance, so the client, the call and the camera carry over from setup to the call. Every other
phase (loading, not found, not started, ended, error with Retry) is the shared meeting page's job.

Import this module only from the meeting page: it pulls in the SDK wrappers (lazily loaded, but
bundle splitting follows Python modules).
"""

from __future__ import annotations

import reflex as rx

from yoom import styles
from yoom.components import stream_video as sv
from yoom.state.room import RoomState

LAYOUT_CHOICES = (
    # (value in RoomState.layout, label)
    ("grid", "Grid"),
    ("speaker-left", "Speaker left"),
    ("speaker-right", "Speaker right"),
)

CONTROL_BUTTON = {
    "background_color": "#19232D",
    "color": styles.TEXT,
    "border_radius": "9999px",
    "padding": "0.5rem 1rem",
    "height": "40px",
    "cursor": "pointer",
    "_hover": {"background_color": "#4C535B"},
}


# ---- setup ---------------------------------------------------------------------------------------


def _join_muted_checkbox() -> rx.Component:
    both_off = RoomState.join_mic_off & RoomState.join_camera_off
    return rx.el.label(
        rx.checkbox(
            checked=both_off,
            on_change=lambda value: [
                RoomState.set_join_mic_off(value),
                RoomState.set_join_camera_off(value),
            ],
            data_testid="join-muted",
        ),
        rx.text("Join with mic and camera off", as_="span"),
        display="flex",
        align_items="center",
        gap="0.5rem",
        cursor="pointer",
    )


def setup_screen() -> rx.Component:
    return rx.vstack(
        rx.heading("Setup", size="7", as_="h1"),
        rx.cond(RoomState.description != "", rx.text(RoomState.description, color=styles.TEXT_MUTED)),
        rx.box(sv.video_preview(), width="100%", max_width="640px", data_testid="stream-video-preview"),
        rx.hstack(
            _join_muted_checkbox(),
            sv.device_settings(),
            align="center",
            justify="center",
            spacing="4",
            wrap="wrap",
        ),
        rx.hstack(
            rx.button(
                "Join meeting",
                on_click=RoomState.join_meeting,
                size="3",
                background_color=styles.SUCCESS,
                color=styles.TEXT,
                cursor="pointer",
                data_testid="join-meeting",
            ),
            rx.link(
                rx.button("Back to Home", size="3", style=styles.button_dark),
                href="/",
                data_testid="back-home",
            ),
            spacing="3",
            wrap="wrap",
            justify="center",
        ),
        align="center",
        justify="center",
        spacing="4",
        min_height="100vh",
        width="100%",
        padding="1.5rem",
        data_testid="stream-setup",
    )


# ---- in the call ---------------------------------------------------------------------------------


def call_layout() -> rx.Component:
    """Grid, or the active speaker on the left (participants bar right) or on the right (bar left)."""
    return rx.match(
        RoomState.layout,
        ("grid", sv.paginated_grid_layout()),
        ("speaker-right", sv.speaker_layout(participants_bar_position="left")),
        sv.speaker_layout(participants_bar_position="right"),
    )


def layout_switcher() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(rx.icon("layout-list", size=20), aria_label="Change layout", title="Change layout",
                      style=CONTROL_BUTTON, data_testid="layout-switcher"),
        ),
        rx.menu.content(
            *[
                rx.menu.item(
                    rx.hstack(
                        rx.cond(RoomState.layout == value, rx.icon("check", size=14), rx.box(width="14px")),
                        rx.text(label),
                        align="center",
                        spacing="2",
                    ),
                    on_select=RoomState.set_layout(value),
                    data_testid=f"layout-{value}",
                )
                for value, label in LAYOUT_CHOICES
            ],
            style={"background_color": styles.DARK_1, "color": styles.TEXT},
        ),
    )


def participants_toggle() -> rx.Component:
    return rx.button(
        rx.icon("users", size=20),
        on_click=RoomState.toggle_participants,
        aria_label="Show participants",
        aria_pressed=RoomState.show_participants,
        title="Participants",
        style=CONTROL_BUTTON,
        data_testid="participants-toggle",
    )


def invite_button(test_id: str = "copy-invite-link", with_label: bool = False) -> rx.Component:
    """Copy the meeting's link (RoomState.invite_link, made on the server) and toast "Link copied"."""
    return rx.button(
        rx.icon("user-plus", size=20),
        *([rx.text("Copy invite link", as_="span")] if with_label else []),
        on_click=RoomState.copy_invite_link,
        aria_label="Copy invite link",
        title="Copy invite link",
        style=CONTROL_BUTTON,
        data_testid=test_id,
    )


def end_call_button() -> rx.Component:
    """Only for the call's creator and never in a personal room; the server checks ownership again."""
    return rx.cond(
        RoomState.is_owner & ~RoomState.is_personal,
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.button("End call for everyone", color_scheme="red", size="3", radius="full",
                          cursor="pointer", data_testid="end-call-for-everyone"),
            ),
            rx.alert_dialog.content(
                rx.alert_dialog.title("End the call for everyone?"),
                rx.alert_dialog.description("Everyone in the call is disconnected and the meeting ends."),
                rx.hstack(
                    rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.alert_dialog.action(
                        rx.button("End call", color_scheme="red", on_click=RoomState.end_call_for_everyone,
                                  data_testid="confirm-end-call"),
                    ),
                    spacing="3",
                    justify="end",
                    margin_top="1rem",
                ),
                style={"background_color": styles.DARK_1, "color": styles.TEXT},
            ),
        ),
    )


def participants_panel() -> rx.Component:
    return rx.cond(
        RoomState.show_participants,
        rx.box(
            sv.call_participants_list(on_close=RoomState.toggle_participants),
            height="calc(100vh - 96px)",
            width=["100%", "320px"],
            margin_left="0.5rem",
            padding_right="0.75rem",
            overflow_y="auto",
            data_testid="participants-panel",
        ),
    )


def in_call_screen() -> rx.Component:
    return rx.box(
        rx.flex(
            rx.flex(call_layout(), width="100%", height="100%", max_width="1000px", align="center"),
            participants_panel(),
            align="center",
            justify="center",
            width="100%",
            height="calc(100vh - 96px)",
        ),
        rx.flex(
            # Leaving (the SDK's red button) is reported by the bridge (on_left → Home), which also
            # sees every other way out of the call.
            sv.call_controls(),
            layout_switcher(),
            sv.call_stats_button(),
            participants_toggle(),
            invite_button(),
            end_call_button(),
            position="fixed",
            bottom="0",
            left="0",
            width="100%",
            align="center",
            justify="center",
            wrap="wrap",
            gap="1rem",
            padding="0.75rem",
            data_testid="call-controls-bar",
        ),
        position="relative",
        height="100vh",
        width="100%",
        overflow="hidden",
        padding_top="1rem",
        color=styles.TEXT,
        data_testid="stream-in-call",
    )


# ---- the screen ----------------------------------------------------------------------------------


def stream_meeting_screen() -> rx.Component:
    """Setup and in-call on Stream; renders nothing in the other phases (the meeting page shows those)."""
    in_call = RoomState.phase == "in_call"
    return rx.cond(
        (RoomState.phase == "setup") | in_call,
        rx.box(
            sv.stream_call(
                rx.cond(in_call, in_call_screen(), setup_screen()),
                call_id=RoomState.room_id,
                base_url=sv.client_base_url(),
                join=in_call,
                mic_off=RoomState.join_mic_off,
                camera_off=RoomState.join_camera_off,
                on_joined=RoomState.on_joined,
                on_left=RoomState.on_left,
                on_call_ended=RoomState.on_call_ended,
                on_error=RoomState.on_error,
            ),
            width="100%",
            min_height="100vh",
            background_color=styles.DARK_2,
            color=styles.TEXT,
            data_testid="stream-room",
        ),
    )
