"""Reflex wrappers of the Stream Video React SDK (`@stream-io/video-react-sdk`, pinned below).

Every wrapper is a `NoSSRComponent`: the page module holds only a dynamic `import()` of the SDK, so
the SDK (and its CSS) is fetched by the browser when a page that renders one of these mounts — the
meeting page, and only when the provider is Stream. Keep imports of this module out of shared
modules (the app shell, the home page): bundle splitting follows Python modules.

`stream_call(...)` is the bridge (assets/stream_bridge.jsx) that owns the Stream client and call and
provides the SDK's context; the SDK parts below only work inside it.
"""

from __future__ import annotations

from typing import Any, Literal

import reflex as rx
from reflex.event import EventHandler, no_args_event_spec, passthrough_event_spec

SDK_PACKAGE = "@stream-io/video-react-sdk"
SDK_VERSION = "1.43.1"
SDK_PINNED = f"{SDK_PACKAGE}@{SDK_VERSION}"

# Where the browser's Stream client sends its requests: Settings.stream_client_base_url
# (STREAM_CLIENT_BASE_URL), unset for Stream's own servers. Tests point it at a local fake of Stream's
# client API, or at a closed port. Read at compile time, like the rest of the frontend's configuration.
CLIENT_BASE_URL_ENV = "STREAM_CLIENT_BASE_URL"

ParticipantsBarPosition = Literal["top", "bottom", "left", "right"]
MenuVisualType = Literal["portal", "menu"]


def client_base_url() -> str:
    """The Stream client's `baseURL` override, or "" for Stream's default."""
    from yoom.settings import get_settings

    return get_settings().stream_client_base_url or ""


class StreamSdkComponent(rx.NoSSRComponent):
    """A named export of the SDK, loaded only in the browser."""

    library = SDK_PACKAGE
    lib_dependencies: list[str] = [SDK_PINNED]


class YoomStreamCall(rx.NoSSRComponent):
    """The bridge: Stream client + call + StreamVideo/StreamTheme/StreamCall around its children."""

    library = rx.asset("stream_bridge.jsx").importable_path
    tag = "YoomStreamCall"
    lib_dependencies: list[str] = [SDK_PINNED]

    # The call to open: `{call_type}:{call_id}`. Invite-only meetings live on Yoom's own call type
    # (yoom.video.stream_provider.INVITE_ONLY_CALL_TYPE), so the bridge must open the `callType` prop it is
    # given; a bridge that ignores it opens `default:{call_id}` and finds no such call.
    call_id: rx.Var[str]
    call_type: rx.Var[str]
    # The client's `baseURL` option (Stream's servers when empty).
    base_url: rx.Var[str]
    # Give up (on_error) when the token, the connection and the call are not there within this time.
    timeout_ms: rx.Var[int]
    # Same for joining, once `join` is true.
    join_timeout_ms: rx.Var[int]
    # False: setup (preview, devices). True: join the call.
    join: rx.Var[bool]
    # Devices before joining ("Join with mic and camera off").
    mic_off: rx.Var[bool]
    camera_off: rx.Var[bool]
    # Shown (as plain text) while connecting.
    connecting_label: rx.Var[str]
    # Yoom's room channel, opened in the call for chat, hands, reactions and app messages (no media):
    # its WebSocket base (default `/api/rtc` on the backend) and vocabulary (client_protocol()).
    ws_url: rx.Var[str]
    protocol: rx.Var[dict[str, Any]]

    on_ready: EventHandler[no_args_event_spec]
    on_joined: EventHandler[no_args_event_spec]
    on_left: EventHandler[no_args_event_spec]
    on_call_ended: EventHandler[no_args_event_spec]
    on_error: EventHandler[passthrough_event_spec(str)]
    # The room channel, as on LocalCall (yoom/components/local_video.py).
    on_chat: EventHandler[passthrough_event_spec(list)]
    on_hands: EventHandler[passthrough_event_spec(list)]
    on_room_message: EventHandler[passthrough_event_spec(dict)]
    on_room_notice: EventHandler[passthrough_event_spec(dict)]
    on_shortcut: EventHandler[passthrough_event_spec(str)]


class VideoPreview(StreamSdkComponent):
    """The local camera before joining."""

    tag = "VideoPreview"
    alias = "StreamVideoPreview"

    mirror: rx.Var[bool]


class DeviceSettings(StreamSdkComponent):
    """Camera / microphone / speaker pickers."""

    tag = "DeviceSettings"
    alias = "StreamDeviceSettings"

    visual_type: rx.Var[MenuVisualType]


class BridgeComponent(rx.NoSSRComponent):
    """A named export of the bridge (assets/stream_bridge.jsx), loaded only in the browser."""

    library = rx.asset("stream_bridge.jsx").importable_path
    lib_dependencies: list[str] = [SDK_PINNED]


class SpeakerLayout(BridgeComponent):
    """The active speaker large, the others in a bar: the SDK's, with raised hands and reactions over the
    tiles (the bridge's YoomSpeakerLayout)."""

    tag = "YoomSpeakerLayout"

    participants_bar_position: rx.Var[ParticipantsBarPosition]
    participants_bar_limit: rx.Var[int]
    exclude_local_participant: rx.Var[bool]
    mirror_local_participant_video: rx.Var[bool]
    page_arrows_visible: rx.Var[bool]
    muted: rx.Var[bool]
    enable_drag_to_scroll: rx.Var[bool]


class CallAnnouncer(BridgeComponent):
    """A polite live region, out of sight: who joined or left, and "Reconnecting…" (for screen readers)."""

    tag = "YoomCallAnnouncer"


class PaginatedGridLayout(BridgeComponent):
    """Everyone in a grid, paginated: the SDK's, with hands and reactions (YoomPaginatedGridLayout)."""

    tag = "YoomPaginatedGridLayout"

    group_size: rx.Var[int]
    exclude_local_participant: rx.Var[bool]
    mirror_local_participant_video: rx.Var[bool]
    page_arrows_visible: rx.Var[bool]
    muted: rx.Var[bool]


class CallControls(StreamSdkComponent):
    """Mic, camera, screen share, reactions, record, leave."""

    tag = "CallControls"
    alias = "StreamCallControls"

    on_leave: EventHandler[no_args_event_spec]


class CallStatsButton(StreamSdkComponent):
    """Opens the call's network statistics."""

    tag = "CallStatsButton"
    alias = "StreamCallStatsButton"


class CallParticipantsList(StreamSdkComponent):
    """Who is in the call, with search; `on_close` when its close button is pressed."""

    tag = "CallParticipantsList"
    alias = "StreamCallParticipantsList"

    debounce_search_interval: rx.Var[int]

    on_close: EventHandler[no_args_event_spec]


stream_call = YoomStreamCall.create
video_preview = VideoPreview.create
device_settings = DeviceSettings.create
speaker_layout = SpeakerLayout.create
paginated_grid_layout = PaginatedGridLayout.create
call_controls = CallControls.create
call_stats_button = CallStatsButton.create
call_participants_list = CallParticipantsList.create
call_announcer = CallAnnouncer.create
