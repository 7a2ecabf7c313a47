"""The meeting room on Yoom's built-in video, composed in Python from the LocalCall wrappers
(yoom/components/local_video.py), as stream_room.py composes Stream's.

`local_meeting_screen()` covers setup and the call inside ONE LocalCall, so the camera and the token carry
over when joining. Import it only from the meeting page (bundle splitting follows Python modules).
"""

from __future__ import annotations

import reflex as rx

from yoom import styles
from yoom.components import local_video as lv
from yoom.components.chat import chat_panel
from yoom.components.control_bar import controls, room_message_handlers
from yoom.components.room_controls import CONTROL_BUTTON, back_home, invite_button, join_muted_checkbox, raised_hands
from yoom.meeting_rules import Phase
from yoom.rtc.protocol import client_protocol
from yoom.state.in_call import InCallState
from yoom.state.room import RoomState


def local_setup() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("Setup", size="7", as_="h1"),
            rx.cond(RoomState.description != "", rx.text(RoomState.description, color=styles.TEXT_MUTED)),
            rx.text(RoomState.access_summary, size="2", color=styles.TEXT_MUTED, data_testid="room-access"),
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
                rx.button(
                    rx.cond(RoomState.must_ask, "Ask to join", "Join meeting"),
                    on_click=RoomState.join_meeting,
                    size="3",
                    style={**styles.button_primary, "background_color": styles.ACCENT},
                    data_testid="join-meeting",
                ),
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
                rx.icon_button(
                    rx.icon("x", size=18),
                    on_click=RoomState.toggle_participants,
                    variant="ghost",
                    aria_label="Close participants",
                    color=styles.TEXT,
                ),
                align="center",
                width="100%",
                margin_bottom="0.75rem",
            ),
            raised_hands(),
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
                background_color="var(--yoom-overlay)",
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


def device_menu() -> rx.Component:
    """Camera, microphone and speaker during the call (switching keeps the others seeing and hearing you)."""
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.icon("settings", size=20),
                aria_label="Devices",
                title="Camera, microphone and speaker",
                style=CONTROL_BUTTON,
                data_testid="devices-toggle",
            ),
        ),
        rx.popover.content(
            lv.local_device_settings(),
            style={"background_color": styles.DARK_1, "color": styles.TEXT},
        ),
    )


def local_in_call() -> rx.Component:
    return rx.flex(
        rx.heading("In the meeting", as_="h1", style=styles.visually_hidden),
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
            chat_panel(),
            direction=rx.breakpoints(initial="column", md="row"),
            gap="0.75rem",
            flex="1",
            min_height="0",
            width="100%",
        ),
        rx.flex(
            *controls(lv.local_call_controls(can_record=RoomState.is_owner), device_menu()),
            align="center",
            justify="center",
            wrap="wrap",
            gap="0.75rem",
            padding_top="0.75rem",
            data_testid="call-controls-bar",
        ),
        lv.local_call_announcer(),
        direction="column",
        height="100dvh",
        width="100%",
        padding=["0.5rem", "0.75rem", "1rem"],
        data_testid="local-in-call",
    )


def local_meeting_screen() -> rx.Component:
    """Setup and the call inside ONE LocalCall, so the camera and the token carry over when joining."""
    in_call = RoomState.phase == Phase.IN_CALL
    return lv.local_call(
        rx.cond(in_call, local_in_call(), local_setup()),
        call_id=RoomState.room_id,
        token_url="/api/video/token",
        ws_url="/api/rtc",
        protocol=client_protocol(),
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
        on_chat=InCallState.on_chat,
        on_hands=InCallState.on_hands,
        on_room_message=room_message_handlers(),
        on_room_notice=InCallState.on_room_notice,
        on_shortcut=InCallState.on_shortcut,
    )
