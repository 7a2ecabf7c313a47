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
from yoom.components.camera_preview import camera_preview
from yoom.components.chat import chat_panel
from yoom.components.control_bar import controls, room_message_handlers
from yoom.components.room_controls import back_home, join_muted_checkbox, raised_hands
from yoom.meeting_rules import Layout, Phase
from yoom.rtc.protocol import client_protocol
from yoom.state.in_call import InCallState
from yoom.state.room import RoomState

# ---- setup ---------------------------------------------------------------------------------------

_ROW = {"align": "center", "justify": "center", "spacing": "4", "wrap": "wrap"}


def setup_screen(*, with_stream: bool = True) -> rx.Component:
    """Preview, devices and Join. `with_stream=False`: the same screen for someone who must ask to join,
    outside the bridge — Stream opens a call only to people Yoom has let in (yoom/video/stream_provider.py),
    so the camera shows here by itself and Stream's devices wait until the host admits them."""
    if with_stream:
        media = [
            rx.box(sv.video_preview(), width="100%", max_width="640px", data_testid="stream-video-preview"),
            rx.hstack(join_muted_checkbox(), sv.device_settings(), **_ROW),
        ]
    else:
        media = [
            camera_preview(
                off=RoomState.join_camera_off, width="100%", max_width="640px", data_testid="knock-camera-preview"
            ),
            rx.text(
                "The host is asked to let you in. You join with your camera and microphone once you're in.",
                color=styles.TEXT_MUTED,
                text_align="center",
                data_testid="knock-note",
            ),
            rx.hstack(join_muted_checkbox(), **_ROW),
        ]
    return rx.vstack(
        rx.heading("Setup", size="7", as_="h1"),
        rx.cond(RoomState.description != "", rx.text(RoomState.description, color=styles.TEXT_MUTED)),
        rx.text(RoomState.access_summary, size="2", color=styles.TEXT_MUTED, data_testid="room-access"),
        *media,
        rx.hstack(
            rx.button(
                rx.cond(RoomState.must_ask, "Ask to join", "Join meeting"),
                on_click=RoomState.join_meeting,
                size="3",
                style=styles.button_primary,
                data_testid="join-meeting",
            ),
            back_home(),
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
        data_testid="stream-setup" if with_stream else "stream-knock-setup",
    )


# ---- in the call ---------------------------------------------------------------------------------


def call_layout() -> rx.Component:
    """Grid, or the active speaker on the left (participants bar right) or on the right (bar left)."""
    return rx.match(
        RoomState.layout,
        (Layout.GRID, sv.paginated_grid_layout()),
        (Layout.SPEAKER_RIGHT, sv.speaker_layout(participants_bar_position="left")),
        sv.speaker_layout(participants_bar_position="right"),
    )


def participants_panel() -> rx.Component:
    return rx.cond(
        RoomState.show_participants,
        rx.box(
            raised_hands(),
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
        rx.heading("In the meeting", as_="h1", style=styles.visually_hidden),
        sv.call_announcer(),
        rx.flex(
            rx.flex(call_layout(), width="100%", height="100%", max_width="1000px", align="center"),
            participants_panel(),
            chat_panel(),
            align="center",
            justify="center",
            gap="0.5rem",
            width="100%",
            height="calc(100vh - 96px)",
        ),
        rx.flex(
            # Leaving (the SDK's red button) is reported by the bridge (on_left → Home), which also
            # sees every other way out of the call. Recording is Stream's own (in its CallControls).
            *controls(sv.call_controls(), sv.device_settings(visual_type="menu"), sv.call_stats_button()),
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


def _room(child: rx.Component) -> rx.Component:
    return rx.box(
        child,
        width="100%",
        min_height="100vh",
        background_color=styles.DARK_2,
        color=styles.TEXT,
        data_testid="stream-room",
    )


def stream_meeting_screen() -> rx.Component:
    """Setup and in-call on Stream; renders nothing in the other phases (the meeting page shows those).
    Someone who must ask to join gets the setup screen without the bridge: the bridge opens the call,
    which Stream refuses them until the host lets them in (then the phase is in_call and it joins at once)."""
    in_call = RoomState.phase == Phase.IN_CALL
    return rx.cond(
        (RoomState.phase == Phase.SETUP) & RoomState.must_ask,
        _room(setup_screen(with_stream=False)),
        rx.cond(
            (RoomState.phase == Phase.SETUP) | in_call,
            _room(
                sv.stream_call(
                    rx.cond(in_call, in_call_screen(), setup_screen()),
                    call_id=RoomState.room_id,
                    call_type=RoomState.call_type,
                    base_url=sv.client_base_url(),
                    join=in_call,
                    mic_off=RoomState.join_mic_off,
                    camera_off=RoomState.join_camera_off,
                    on_joined=RoomState.on_joined,
                    on_left=RoomState.on_left,
                    on_call_ended=RoomState.on_call_ended,
                    on_error=RoomState.on_error,
                    ws_url="/api/rtc",
                    protocol=client_protocol(),
                    on_chat=InCallState.on_chat,
                    on_hands=InCallState.on_hands,
                    on_room_message=room_message_handlers(),
                    on_room_notice=InCallState.on_room_notice,
                    on_shortcut=InCallState.on_shortcut,
                )
            ),
        ),
    )
