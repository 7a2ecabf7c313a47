"""Reflex wrappers of Yoom's built-in meeting components (assets/local_meeting/, entry module index.jsx).

`local_call(...)` owns the call (camera and mic, the signaling socket, one RTCPeerConnection per
other person, the recorder) and provides it to the components below, which must sit inside it.
Every wrapper is a `NoSSRComponent`: the module is loaded by the browser only when the meeting
page renders one, so keep imports of this module to the meeting page (bundle splitting follows
Python modules).
"""

from __future__ import annotations

from typing import Any, Literal

import reflex as rx
from reflex.event import EventHandler, no_args_event_spec, passthrough_event_spec

from yoom.meeting_rules import Layout

LIBRARY = rx.asset("local_meeting/index.jsx").importable_path
# The icons come from the lucide-react that Reflex's rx.icon already puts in the bundle: the same version.
LUCIDE_REACT = "lucide-react@1.26.0"

# RoomState.layout's values, from the one enum that defines them.
LayoutName = Literal[tuple(layout.value for layout in Layout)]


class LocalMeetingComponent(rx.NoSSRComponent):
    """A named export of assets/local_meeting/index.jsx, loaded only in the browser."""

    library = LIBRARY
    lib_dependencies: list[str] = [LUCIDE_REACT]


class LocalCall(LocalMeetingComponent):
    """The call: media, signaling and peers for `call_id`; its children read it."""

    tag = "LocalCall"

    # The meeting to join (validated on the server before the page renders this).
    call_id: rx.Var[str]
    # Where to get the video token (POST, with the session cookie) — default `/api/video/token`
    # on the backend; a path is resolved against the backend's URL.
    token_url: rx.Var[str]
    # The signaling WebSocket's base — default `/api/rtc` on the backend; the call id is appended.
    ws_url: rx.Var[str]
    # The signaling vocabulary the browser needs: yoom.rtc.protocol.client_protocol() (close codes that
    # end the call, close codes that refuse for good with their words, the lost-connection words).
    protocol: rx.Var[dict[str, Any]]
    # Before joining (the setup screen) these drive the preview; when joining they are the start state.
    start_with_mic_off: rx.Var[bool]
    start_with_camera_off: rx.Var[bool]
    # False: setup (preview, devices). True: connect and join the call.
    joined: rx.Var[bool]

    on_joined: EventHandler[no_args_event_spec]
    on_left: EventHandler[no_args_event_spec]
    on_call_ended: EventHandler[no_args_event_spec]
    # A human-readable message (from the server's error frame, or the bridge's own): the call is over.
    on_error: EventHandler[passthrough_event_spec(str)]
    # Everyone in the call, me included (0 when not connected).
    on_participants_change: EventHandler[passthrough_event_spec(int)]
    # The host's recording was uploaded / could not be (the call goes on either way).
    on_recording_saved: EventHandler[no_args_event_spec]
    on_recording_error: EventHandler[passthrough_event_spec(str)]
    # The room channel (assets/room_channel/room.js, the same on Stream's bridge): new chat messages, the
    # raised hands in order, an app message of a Python-written control ({type, from, payload}), a refusal
    # or a device notice ({for, message}), and a keyboard shortcut Python handles ("chat", "participants",
    # "help").
    on_chat: EventHandler[passthrough_event_spec(list)]
    on_hands: EventHandler[passthrough_event_spec(list)]
    on_room_message: EventHandler[passthrough_event_spec(dict)]
    on_room_notice: EventHandler[passthrough_event_spec(dict)]
    on_shortcut: EventHandler[passthrough_event_spec(str)]


class LocalVideoPreview(LocalMeetingComponent):
    """The camera before joining (mirrored), with any device problem spelled out."""

    tag = "LocalVideoPreview"


class LocalDeviceSettings(LocalMeetingComponent):
    """Camera, microphone and (where the browser can) speaker pickers; switching one in a call replaces the
    track live (the others keep seeing and hearing you)."""

    tag = "LocalDeviceSettings"


class LocalParticipantsView(LocalMeetingComponent):
    """Everyone's video: a grid, or the active speaker large with the others in a bar."""

    tag = "LocalParticipantsView"

    layout: rx.Var[LayoutName]


class LocalCallControls(LocalMeetingComponent):
    """Mic, camera, screen share, record (when `can_record`), leave."""

    tag = "LocalCallControls"

    can_record: rx.Var[bool]


class LocalParticipantsList(LocalMeetingComponent):
    """Names with microphone and camera state."""

    tag = "LocalParticipantsList"


class LocalCallAnnouncer(LocalMeetingComponent):
    """A polite live region, out of sight: who joined or left, and "Reconnecting…" (for screen readers)."""

    tag = "LocalCallAnnouncer"


local_call = LocalCall.create
local_call_announcer = LocalCallAnnouncer.create
local_video_preview = LocalVideoPreview.create
local_device_settings = LocalDeviceSettings.create
local_participants_view = LocalParticipantsView.create
local_call_controls = LocalCallControls.create
local_participants_list = LocalParticipantsList.create
