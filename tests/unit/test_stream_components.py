"""The Stream Video wrappers (yoom/components/stream_video.py) and the room composed from them.

No browser: components are rendered to Reflex's render dict / imports and asserted on. What the
browser does with them is covered by tests/browser/test_stream_room.py.
"""

from __future__ import annotations

import json
import re

import pytest
import reflex as rx
from reflex.components.component import NoSSRComponent

from yoom.components import stream_video as sv
from yoom.meeting_rules import DEFAULT_LAYOUT, Layout

SDK = "@stream-io/video-react-sdk"
EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+$")

WRAPPERS = [
    (sv.VideoPreview, "VideoPreview"),
    (sv.DeviceSettings, "DeviceSettings"),
    (sv.CallControls, "CallControls"),
    (sv.CallStatsButton, "CallStatsButton"),
    (sv.CallParticipantsList, "CallParticipantsList"),
]


def props_of(component: rx.Component) -> dict[str, str]:
    """`{'camelName': 'js expression'}` from Reflex's render dict."""
    out = {}
    for prop in component.render()["props"]:
        name, _, value = prop.partition(":")
        out[name.strip('"')] = value
    return out


def find_all(component: rx.Component, matches) -> list[dict]:
    """Every rendered node under `component` for which `matches(node)` is true."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if matches(node):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(json.dumps(component.render(), default=str)))  # tuples → lists; a foreach's Var as text
    return found


def find(component: rx.Component, name: str) -> list[dict]:
    """Every rendered node called `name` (the JSX tag) under `component`."""
    return find_all(component, lambda node: node.get("name") == name)


# ---- the package ---------------------------------------------------------------------------------


def test_sdk_is_pinned_to_an_exact_version():
    assert sv.SDK_PACKAGE == SDK
    assert EXACT_VERSION.match(sv.SDK_VERSION), sv.SDK_VERSION
    assert f"{SDK}@{sv.SDK_VERSION}" == sv.SDK_PINNED


@pytest.mark.parametrize("cls", [c for c, _ in WRAPPERS] + [sv.YoomStreamCall])
def test_every_wrapper_installs_the_pinned_sdk(cls):
    component = cls.create()
    assert sv.SDK_PINNED in component.lib_dependencies
    imports = component._get_all_imports()
    assert sv.SDK_PINNED in imports
    # Reflex keeps the pinned spelling when both appear, so nothing unpinned gets installed.
    names = {name for name in imports if name.startswith(SDK)}
    assert names <= {SDK, sv.SDK_PINNED}


# ---- the SDK wrappers ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [sv.SpeakerLayout, sv.PaginatedGridLayout])
def test_the_layouts_are_the_bridges_with_the_hands_and_reactions_overlay(cls):
    component = cls.create()
    assert isinstance(component, NoSSRComponent)
    assert component.library.startswith("$/public/stream_bridge.jsx")
    assert component.tag in ("YoomSpeakerLayout", "YoomPaginatedGridLayout")
    assert f"mod.{component.tag})" in component._get_dynamic_imports()


@pytest.mark.parametrize("cls,export", WRAPPERS)
def test_sdk_wrappers_are_client_only_named_exports(cls, export):
    component = cls.create()
    assert isinstance(component, NoSSRComponent)
    assert component.library == SDK
    assert component.tag == export
    # The page module gets a lazy import of the SDK's named export, never a static import.
    dynamic = component._get_dynamic_imports()
    assert f"import('{SDK}')" in dynamic
    assert f"mod.{export})" in dynamic
    for lib, tags in component._get_all_imports().items():
        if lib.startswith(SDK):
            assert all(not t.render for t in tags), (lib, tags)
    # Aliased so they never clash with other components of the same name (e.g. the local room's).
    rendered = component.render()["name"]
    assert rendered == f"Stream{export}"
    assert f"const Stream{export} = ClientSide(" in dynamic


def test_speaker_layout_props_are_camel_cased():
    layout = sv.speaker_layout(
        participants_bar_position="left",
        participants_bar_limit=4,
        exclude_local_participant=False,
        mirror_local_participant_video=True,
        page_arrows_visible=True,
        enable_drag_to_scroll=True,
        muted=False,
    )
    assert props_of(layout) == {
        "participantsBarPosition": '"left"',
        "participantsBarLimit": "4",
        "excludeLocalParticipant": "false",
        "mirrorLocalParticipantVideo": "true",
        "pageArrowsVisible": "true",
        "enableDragToScroll": "true",
        "muted": "false",
    }


def test_speaker_layout_rejects_a_bar_position_the_sdk_does_not_know():
    with pytest.raises(TypeError):
        sv.speaker_layout(participants_bar_position="middle")


def test_grid_preview_devices_and_participants_props():
    assert props_of(sv.paginated_grid_layout(group_size=6, page_arrows_visible=False)) == {
        "groupSize": "6",
        "pageArrowsVisible": "false",
    }
    assert props_of(sv.video_preview(mirror=False)) == {"mirror": "false"}
    assert props_of(sv.device_settings(visual_type="menu")) == {"visualType": '"menu"'}
    assert props_of(sv.call_participants_list(debounce_search_interval=300)) == {"debounceSearchInterval": "300"}


def test_event_triggers_are_declared_and_wired():
    assert "on_leave" in sv.CallControls.create().get_event_triggers()
    assert "on_close" in sv.CallParticipantsList.create().get_event_triggers()
    controls = props_of(sv.call_controls(on_leave=rx.redirect("/")))
    assert "addEvents" in controls["onLeave"]
    listing = props_of(sv.call_participants_list(on_close=rx.console_log("closed")))
    assert "addEvents" in listing["onClose"]
    # Components without such an event do not accept one.
    with pytest.raises(ValueError):
        sv.call_stats_button(on_leave=rx.redirect("/"))


# ---- the bridge ----------------------------------------------------------------------------------


def test_bridge_is_the_local_jsx_asset_loaded_client_side():
    bridge = sv.stream_call(call_id="abc")
    assert isinstance(bridge, NoSSRComponent)
    assert bridge.library.startswith("$/public/stream_bridge.jsx")
    assert bridge.tag == "YoomStreamCall"
    dynamic = bridge._get_dynamic_imports()
    assert "import('$/public/stream_bridge.jsx')" in dynamic
    assert "mod.YoomStreamCall)" in dynamic


def test_bridge_props_are_camel_cased():
    bridge = sv.stream_call(
        call_id="abc",
        base_url="http://127.0.0.1:9",
        timeout_ms=8000,
        join_timeout_ms=15000,
        join=True,
        mic_off=True,
        camera_off=False,
        connecting_label="Connecting...",
    )
    assert props_of(bridge) == {
        "callId": '"abc"',
        "baseUrl": '"http://127.0.0.1:9"',
        "timeoutMs": "8000",
        "joinTimeoutMs": "15000",
        "join": "true",
        "micOff": "true",
        "cameraOff": "false",
        "connectingLabel": '"Connecting..."',
    }


def test_bridge_event_triggers_reach_python():
    triggers = sv.YoomStreamCall.create().get_event_triggers()
    for name in ("on_ready", "on_joined", "on_left", "on_call_ended", "on_error"):
        assert name in triggers

    class Probe(rx.State):
        message: str = ""

        @rx.event
        def failed(self, message: str):
            self.message = message

        @rx.event
        def done(self):
            pass

    props = props_of(sv.stream_call(call_id="abc", on_error=Probe.failed, on_left=Probe.done))
    # on_error passes its one argument (the message) on to the handler's `message` parameter.
    assert ".failed" in props["onError"]
    assert '["message"] : _ev_0' in props["onError"]
    assert ".done" in props["onLeft"]


@pytest.fixture
def clean_settings(monkeypatch, tmp_path):
    """Settings read afresh from this test's environment, with a project root holding no `.env`."""
    import yoom.settings

    monkeypatch.delenv(sv.CLIENT_BASE_URL_ENV, raising=False)
    monkeypatch.setenv("YOOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(yoom.settings, "PROJECT_ROOT", tmp_path)
    yoom.settings.get_settings.cache_clear()
    yield tmp_path
    yoom.settings.get_settings.cache_clear()


def test_client_base_url_comes_from_the_environment(monkeypatch, clean_settings):
    import yoom.settings

    assert sv.client_base_url() == ""
    monkeypatch.setenv(sv.CLIENT_BASE_URL_ENV, "http://127.0.0.1:4545/video/")
    yoom.settings.get_settings.cache_clear()
    assert sv.client_base_url() == "http://127.0.0.1:4545/video"
    monkeypatch.setenv(sv.CLIENT_BASE_URL_ENV, "ftp://nope")
    yoom.settings.get_settings.cache_clear()
    with pytest.raises(yoom.settings.SettingsError, match=sv.CLIENT_BASE_URL_ENV):
        sv.client_base_url()


def test_client_base_url_from_dot_env(clean_settings):
    import yoom.settings

    (clean_settings / ".env").write_text("STREAM_CLIENT_BASE_URL=https://stream.example.test/video\n")
    yoom.settings.get_settings.cache_clear()
    assert sv.client_base_url() == "https://stream.example.test/video"


# ---- the room composed in Python -----------------------------------------------------------------


@pytest.fixture(scope="module")
def screen():
    from yoom.components.stream_room import stream_meeting_screen

    return stream_meeting_screen()


def test_room_has_one_bridge_bound_to_room_state(screen):
    bridges = find(screen, "YoomStreamCall")
    assert len(bridges) == 1, "setup and call must share one client: one bridge"
    props = {p.partition(":")[0]: p.partition(":")[2] for p in bridges[0]["props"]}
    assert props["callId"].endswith(".room_id_rx_state_")
    assert '"in_call"' in props["join"] and "phase_rx_state_" in props["join"]
    assert props["micOff"].endswith(".join_mic_off_rx_state_")
    assert props["cameraOff"].endswith(".join_camera_off_rx_state_")
    for trigger, handler in (
        ("onJoined", "on_joined"),
        ("onLeft", "on_left"),
        ("onCallEnded", "on_call_ended"),
        ("onError", "on_error"),
    ):
        assert f"room_state.{handler}" in props[trigger], trigger


def test_room_setup_and_call_parts(screen):
    rendered = json.dumps(screen.render(), default=str)
    for tag in (
        "StreamVideoPreview",
        "StreamDeviceSettings",
        "YoomPaginatedGridLayout",
        "YoomSpeakerLayout",
        "StreamCallControls",
        "StreamCallStatsButton",
        "StreamCallParticipantsList",
    ):
        assert find(screen, tag), tag
    assert "Join with mic and camera off" in rendered
    assert "Join meeting" in rendered
    assert "room_state.join_meeting" in rendered
    assert "room_state.set_join_mic_off" in rendered and "room_state.set_join_camera_off" in rendered
    assert "room_state.toggle_participants" in rendered
    for value in ("grid", "speaker-left", "speaker-right"):
        assert f'room_state.set_layout\\", ({{ [\\"value\\"] : \\"{value}\\"' in rendered, value


def test_speaker_layouts_put_the_participants_bar_opposite_the_speaker(screen):
    """RoomState.layout picks the SDK layout: grid → the paginated grid, speaker-right → the bar on the
    left, anything else (speaker-left, the default) → the bar on the right."""

    def shown(node) -> tuple[str, str | None]:
        bar = [p.partition(":")[2] for p in node["props"] if p.startswith("participantsBarPosition")]
        return node["name"], json.loads(bar[0]) if bar else None

    (match,) = [node for node in find_all(screen, lambda n: "match_cases" in n) if "layout_rx_state_" in node["cond"]]
    cases = {json.loads(values[0]): shown(node) for values, node in match["match_cases"]}
    assert cases == {
        Layout.GRID.value: ("YoomPaginatedGridLayout", None),
        Layout.SPEAKER_RIGHT.value: ("YoomSpeakerLayout", "left"),
    }
    assert shown(match["default"]) == ("YoomSpeakerLayout", "right")
    assert DEFAULT_LAYOUT not in cases  # the default layout is the match's default


def test_end_call_for_everyone_only_for_the_creator_outside_personal_rooms(screen):
    rendered = json.dumps(screen.render(), default=str)
    assert "End call for everyone" in rendered
    assert "room_state.end_call_for_everyone" in rendered
    # The button sits behind a condition on is_owner AND NOT is_personal.
    conds = []

    def walk(node):
        if isinstance(node, dict):
            if "cond_state" in node and "End call for everyone" in json.dumps(node.get("true_value")):
                conds.append(node["cond_state"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(json.dumps(screen.render(), default=str)))
    innermost = conds[-1]
    assert "is_owner_rx_state_" in innermost and "!" in innermost and "is_personal_rx_state_" in innermost
