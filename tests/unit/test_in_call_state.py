"""What the page keeps of the room channel (yoom/state/in_call.py) and the clap example, without a
browser: the bridges' reports are checked, chat pieces are text or http(s) links, hands keep their order,
and Python's sends are calls into the bridge with JSON-escaped arguments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.test_room_state import GUEST, HOST
from yoom.components.examples.clap import ClapState, clap_button
from yoom.components.room_controls import SHORTCUTS
from yoom.components.room_messages import send_room_message
from yoom.state.in_call import InCallState

ROOT = Path(__file__).resolve().parents[2]


def script_of(event) -> str:
    """The JavaScript an rx.call_script event runs."""
    return next(value._var_value for name, value in event.args if str(name) == "javascript_code")


def make(monkeypatch, cls, user):
    async def signed_in_user(self):
        return user

    monkeypatch.setattr(cls, "_signed_in_user", signed_in_user)
    return cls(_reflex_internal_init=True)


def message(i, text="hi", **extra):
    return {"id": i, "name": "Bo", "user_id": "u2", "text": text, "sent_at": "2026-01-01T10:00:00Z", **extra}


@pytest.mark.asyncio
async def test_chat_keeps_order_counts_unread_and_refuses_junk(monkeypatch):
    state = make(monkeypatch, InCallState, GUEST)
    await state.on_chat([message(2), message(1, history=True), message(2), "junk", {"id": "x"}, message(3, text=5)])
    assert [m.id for m in state.messages] == [1, 2]
    assert state.unread == 1  # history isn't unread
    await state.on_chat([message(4, mine=True)])
    assert state.unread == 1  # nor my own
    await state.toggle_chat()
    assert state.show_chat and state.unread == 0
    await state.on_chat([message(5)])
    assert state.unread == 0  # the panel is open
    await state.on_chat("not a list")
    await state.on_chat([message(6, text="y" * 5000)])
    assert [m.id for m in state.messages] == [1, 2, 4, 5]


@pytest.mark.asyncio
async def test_a_page_that_stayed_in_the_call_keeps_its_chat_when_reflex_reconnects(monkeypatch):
    state = make(monkeypatch, InCallState, GUEST)
    await state.on_chat([message(1)])
    await state.toggle_chat()
    state.phase = "in_call"  # load_room kept the page in the call (a server restart)
    await state.clear_room()
    assert [m.id for m in state.messages] == [1] and state.show_chat
    state.phase = "setup"  # a reload: the room starts afresh
    await state.clear_room()
    assert state.messages == [] and not state.show_chat


@pytest.mark.asyncio
async def test_links_are_http_only_and_the_rest_is_text(monkeypatch):
    state = make(monkeypatch, InCallState, GUEST)
    await state.on_chat([message(1, text="<b>x</b> https://a.example/p, javascript:alert(1) data:text/html,x")])
    parts = [(p.text, p.href) for p in state.messages[0].parts]
    assert parts == [
        ("<b>x</b> ", ""),
        ("https://a.example/p", "https://a.example/p"),
        (", javascript:alert(1) data:text/html,x", ""),
    ]


@pytest.mark.asyncio
async def test_hands_in_order_and_only_the_host_lowers_through_the_bridge(monkeypatch):
    state = make(monkeypatch, InCallState, GUEST)
    await state.on_hands([{"peer_id": "p3", "name": "Cy"}, {"peer_id": "me", "name": "Gus", "mine": True}, 7])
    assert [(h.place, h.name, h.mine) for h in state.hands] == [(1, "Cy", False), (2, "Gus", True)]
    assert state.my_hand_raised is True
    assert await state.lower_hand("p3") is None  # not the host: nothing sent
    state.is_owner = True
    # The id goes into the bridge call as a JSON string: it can't break out of it.
    script = script_of(await state.lower_hand('p3"); alert(1); ("'))
    assert script == 'window.yoomRoom && window.yoomRoom.lowerHand("p3\\"); alert(1); (\\"")'
    assert await state.lower_hand("x" * 65) is None


@pytest.mark.asyncio
async def test_sending_chat_checks_the_words_first(monkeypatch):
    state = make(monkeypatch, InCallState, GUEST)
    assert await state.send_chat({"text": "   "}) is None
    assert "Type a message" in state.chat_notice
    await state.send_chat({"text": "x" * 2001})
    assert "2,000" in state.chat_notice
    event = await state.send_chat({"text": 'hello "you"'})
    assert state.chat_notice == ""
    assert script_of(event) == '!!(window.yoomRoom && window.yoomRoom.chat("hello \\"you\\""))'

    await state.chat_sent(False)
    assert "wasn't sent" in state.chat_notice


@pytest.mark.asyncio
async def test_notices_and_shortcuts(monkeypatch):
    state = make(monkeypatch, InCallState, HOST)
    await state.on_room_notice({"for": "chat", "message": "You're sending messages too fast."})
    assert state.chat_notice.startswith("You're sending")
    assert await state.on_room_notice({"for": "device", "message": "Switched to fake_device_1."}) is not None
    assert await state.on_room_notice("junk") is None
    await state.on_shortcut("help")
    assert state.show_shortcuts is True
    assert await state.on_shortcut("chat") is not None
    assert await state.on_shortcut("format-disk") is None


@pytest.mark.asyncio
async def test_the_clap_example_counts_claps_from_room_messages(monkeypatch):
    state = make(monkeypatch, ClapState, GUEST)
    state.room_id = "call-1"
    await state.on_room_message({"type": "clap", "from": {"name": "Bo"}, "payload": None})
    await state.on_room_message({"type": "wave", "from": {"name": "Cy"}})
    await state.on_room_message("junk")
    assert (state.claps, state.last_clapper) == (1, "Bo")
    assert 'window.yoomRoom.send(\\"clap\\", null)' in str(clap_button().render()) or "clap" in str(
        clap_button().render()
    )


def test_room_message_names_and_payloads_are_checked_when_the_page_is_built():
    assert script_of(send_room_message("clap", {"n": 1})) == 'window.yoomRoom && window.yoomRoom.send("clap", {"n": 1})'
    for bad in ("Clap", "clap!", "", "x" * 33):
        with pytest.raises(ValueError):
            send_room_message(bad)
    with pytest.raises(ValueError):
        send_room_message("clap", "z" * 3000)


def test_the_shortcuts_dialog_lists_the_keys_the_browser_listens_for():
    source = (ROOT / "assets" / "room_channel" / "shortcuts.js").read_text()
    keys = re.findall(r'\{ key: "(.)", action', source)
    assert keys == [key for key, _ in SHORTCUTS]
