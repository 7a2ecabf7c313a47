"""The Reflex wrappers of the built-in meeting (yoom/components/local_video.py) and the room composed from
them (yoom/components/local_room.py): what they render for the browser — the module, the props, the event
handlers bound to RoomState. What the JavaScript does with them is tested by tests/js (bun) and by the
browser tests (tests/browser/test_local_meeting.py, test_meeting_invite.py)."""

from __future__ import annotations

import json

import pytest
from reflex.components.component import NoSSRComponent
from reflex.vars.base import LiteralVar
from reflex_components_lucide.icon import LUCIDE_LIBRARY

from yoom.api.rtc import routes as rtc_routes
from yoom.api.video_token import routes as token_routes
from yoom.components import local_video as lv
from yoom.meeting_rules import Layout
from yoom.rtc.protocol import client_protocol

WRAPPERS = [
    lv.LocalCall,
    lv.LocalVideoPreview,
    lv.LocalDeviceSettings,
    lv.LocalParticipantsView,
    lv.LocalCallControls,
    lv.LocalParticipantsList,
]
ENTRY = "$/public/local_meeting/index.jsx"


def props_of(node) -> dict[str, str]:
    """`{'camelName': 'js expression'}` of a component or of a rendered node."""
    rendered = node if isinstance(node, dict) else node.render()
    return dict(prop.split(":", 1) for prop in rendered["props"])


def find(component, name: str) -> list[dict]:
    """Every rendered node called `name` (the JSX tag) under `component`."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("name") == name:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(json.dumps(component.render(), default=str)))  # tuples → lists; a foreach's Var as text
    return found


@pytest.fixture(scope="module")
def screen():
    from yoom.components.local_room import local_meeting_screen

    return local_meeting_screen()


@pytest.fixture(scope="module")
def in_call():
    from yoom.components.local_room import local_in_call

    return local_in_call()


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_every_wrapper_is_a_named_export_of_the_entry_module_loaded_in_the_browser(wrapper):
    component = wrapper.create()
    assert isinstance(component, NoSSRComponent)
    assert wrapper.library == ENTRY
    # One module for all of them (they share the LocalCall context), imported only on the client.
    assert f"import('{ENTRY}').then((mod) => mod.{wrapper.tag})" in component._get_dynamic_imports()
    # Its icons are lucide-react's, at the version rx.icon already puts in the bundle.
    assert lv.LUCIDE_REACT == LUCIDE_LIBRARY
    assert LUCIDE_LIBRARY in component._get_all_imports()


def test_the_room_has_one_local_call_bound_to_room_state(screen):
    calls = find(screen, "LocalCall")
    assert len(calls) == 1, "setup and call must share one engine: one LocalCall"
    props = props_of(calls[0])
    assert props["callId"].endswith(".room_id_rx_state_")
    assert '"in_call"' in props["joined"] and "phase_rx_state_" in props["joined"]
    assert props["startWithMicOff"].endswith(".join_mic_off_rx_state_")
    assert props["startWithCameraOff"].endswith(".join_camera_off_rx_state_")
    for trigger, handler in (
        ("onJoined", "on_joined"),
        ("onLeft", "on_left"),
        ("onCallEnded", "on_call_ended"),
        ("onError", "on_error"),
        ("onParticipantsChange", "on_participants_change"),
        ("onRecordingSaved", "on_recording_saved"),
        ("onRecordingError", "on_recording_error"),
    ):
        assert f"room_state.{handler}" in props[trigger], trigger
    # The message and the count from the browser reach the handlers' arguments.
    assert 'on_error", ({ ["message"] : _ev_0 })' in props["onError"]
    assert 'on_participants_change", ({ ["count"] : _ev_0 })' in props["onParticipantsChange"]
    assert 'on_recording_error", ({ ["message"] : _ev_0 })' in props["onRecordingError"]
    assert 'on_joined", ({  })' in props["onJoined"]


def test_the_local_call_is_given_yoom_routes_and_pythons_signaling_vocabulary(screen):
    props = props_of(find(screen, "LocalCall")[0])
    assert json.loads(props["tokenUrl"]) in {route.path for route in token_routes}
    assert json.loads(props["wsUrl"]) + "/{call_id}" in {route.path for route in rtc_routes}
    assert props["protocol"] == str(LiteralVar.create(client_protocol()))
    assert "4410" in props["protocol"] and client_protocol()["lostConnection"] in props["protocol"]


def test_the_layout_prop_takes_the_layouts_python_defines_and_nothing_else(in_call):
    for layout in Layout:
        assert props_of(lv.local_participants_view(layout=layout.value)) == {"layout": f'"{layout.value}"'}
    with pytest.raises(TypeError):
        lv.local_participants_view(layout="speaker-top")
    (view,) = find(in_call, "LocalParticipantsView")
    assert props_of(view)["layout"].endswith(".layout_rx_state_")


def test_only_the_host_gets_the_record_button(in_call):
    (controls,) = find(in_call, "LocalCallControls")
    assert props_of(controls)["canRecord"].endswith(".is_owner_rx_state_")


def test_the_local_call_screen_has_the_invite_button_and_the_waiting_hint(in_call):
    from yoom.components import local_room as meeting

    rendered = str(in_call.render())
    assert rendered.count('"Copy invite link"') >= 2  # the controls bar and the hint
    assert "copy_invite_link" in rendered
    hint = str(meeting.waiting_hint().render())
    assert "Waiting for others to join" in hint and '"waiting-hint"' in hint
    assert "participant_count" in hint and "connected" in hint
