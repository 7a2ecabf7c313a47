"""The Reflex wrappers of assets/local_meeting.jsx: names, props and events agree with the JSX."""

from __future__ import annotations

import re
from pathlib import Path

from yoom.components import local_video as lv
from yoom.state.room import RoomState

ROOT = Path(__file__).resolve().parents[2]
JSX = (ROOT / "assets" / "local_meeting.jsx").read_text()

WRAPPERS = [
    lv.LocalCall,
    lv.LocalVideoPreview,
    lv.LocalDeviceSettings,
    lv.LocalParticipantsView,
    lv.LocalCallControls,
    lv.LocalParticipantsList,
]
OWN_TRIGGERS = {
    "on_joined",
    "on_left",
    "on_call_ended",
    "on_error",
    "on_participants_change",
    "on_recording_saved",
    "on_recording_error",
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def props_of(component) -> dict[str, str]:
    return dict(p.split(":", 1) for p in component.render()["props"])


def test_every_wrapper_names_an_export_of_the_bridge():
    exports = set(re.findall(r"^export function (\w+)", JSX, re.M))
    assert {w.tag for w in WRAPPERS} == exports
    for wrapper in WRAPPERS:
        assert wrapper.library == "$/public/local_meeting.jsx"
        # Client-only, loaded by a dynamic import of that one module (shared context).
        assert (
            f"import('$/public/local_meeting.jsx').then((mod) => mod.{wrapper.tag})"
            in wrapper.create()._get_dynamic_imports()
        )


def test_local_call_triggers_match_what_the_bridge_fires():
    fired = set(re.findall(r'this\.fire\("(\w+)"', JSX))
    declared = {camel(name) for name in OWN_TRIGGERS}
    assert fired == declared
    assert set(lv.LocalCall.create().get_event_triggers()) >= OWN_TRIGGERS


def test_local_call_props_are_camel_cased_and_bound_to_room_state():
    component = lv.local_call(
        call_id=RoomState.room_id,
        token_url="/api/video/token",
        ws_url="/api/rtc",
        start_with_mic_off=RoomState.join_mic_off,
        start_with_camera_off=RoomState.join_camera_off,
        joined=RoomState.phase == "in_call",
        on_error=RoomState.on_error,
        on_participants_change=RoomState.on_participants_change,
        on_joined=RoomState.on_joined,
        on_recording_error=RoomState.on_recording_error,
    )
    props = props_of(component)
    for name in (
        "callId",
        "tokenUrl",
        "wsUrl",
        "startWithMicOff",
        "startWithCameraOff",
        "joined",
        "onError",
        "onParticipantsChange",
        "onJoined",
        "onRecordingError",
    ):
        assert name in props, props.keys()
    assert "room_id" in props["callId"]
    assert props["tokenUrl"] == '"/api/video/token"'
    assert '"in_call"' in props["joined"]
    # The message and the count from the browser reach the handlers' arguments.
    assert 'on_error", ({ ["message"] : _ev_0 })' in props["onError"]
    assert 'on_participants_change", ({ ["count"] : _ev_0 })' in props["onParticipantsChange"]
    assert 'on_recording_error", ({ ["message"] : _ev_0 })' in props["onRecordingError"]
    assert 'on_joined", ({  })' in props["onJoined"]
    # The bridge's LocalCall takes every one of these props.
    signature = JSX.split("export function LocalCall({", 1)[1].split("})", 1)[0]
    for name in ("callId", "tokenUrl", "wsUrl", "startWithMicOff", "startWithCameraOff", "joined"):
        assert re.search(rf"\b{name}\b", signature), name


def test_child_component_props():
    view = props_of(lv.local_participants_view(layout=RoomState.layout))
    assert "layout" in view["layout"]
    assert props_of(lv.local_call_controls(can_record=RoomState.is_owner))["canRecord"].endswith("is_owner_rx_state_")
    assert "export function LocalParticipantsView({ layout" in JSX
    assert "export function LocalCallControls({ canRecord" in JSX


def test_controls_have_the_accessible_labels():
    for label in (
        "Toggle microphone",
        "Toggle camera",
        "Share screen",
        "Start recording",
        "Stop recording",
        "Leave call",
    ):
        assert f'"{label}"' in JSX, label
    for test_id in ("participant-tile", "remote-video", "local-video"):
        assert f'"{test_id}"' in JSX, test_id


def test_heartbeat_ticks_from_a_worker_with_a_timer_fallback():
    # Pings go through the Ticker (a Blob-URL worker's clock, unthrottled in hidden tabs) …
    assert re.search(r"this\.pingTicker = new Ticker\(PING_MS, \(\) => this\.ping\(ws\)\)", JSX)
    assert not re.search(r"setInterval\([^)]*ping", JSX)
    ticker = JSX.split("class Ticker {", 1)[1].split("\n}\n", 1)[0]
    assert "new Worker(this.url)" in ticker and "URL.createObjectURL(new Blob(" in ticker
    # … fall back to setInterval when no worker can run, and release the worker and its URL when stopped.
    assert "catch (_err) {\n      this.fallBack();" in ticker and "worker.onerror" in ticker
    assert "setInterval(() => this.onTick(), this.ms)" in ticker
    assert "this.worker.terminate()" in ticker and "URL.revokeObjectURL(this.url)" in ticker
    # Every way out of the socket stops it (close, leave/teardown, a new socket).
    assert JSX.count("this.stopPing();") >= 3


def test_the_local_call_screen_has_the_invite_button_and_the_waiting_hint():
    from yoom.components import local_room as meeting

    rendered = str(meeting.local_in_call().render())
    assert rendered.count('"Copy invite link"') >= 2  # the controls bar and the hint
    assert "copy_invite_link" in rendered
    hint = str(meeting.waiting_hint().render())
    assert "Waiting for others to join" in hint and '"waiting-hint"' in hint
    assert "participant_count" in hint and "connected" in hint
