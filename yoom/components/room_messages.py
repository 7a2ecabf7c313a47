"""Room messages from Python: the two primitives a control written in Python needs (no JSX).

* Send: `send_room_message("clap", {"n": 1})` is an event (an `rx.call_script` into the bridge's
  `window.yoomRoom`) for `on_click` or to return from a handler. It goes over the room channel as an
  `app` message; the server relays it to everyone in the call (the sender too) with who sent it, as data
  (namespaced under `app`, at most 2 KiB of JSON, rate-limited; yoom/rtc/room.py).
* React: a handler taking one dict, `{"type": name, "from": {peer_id, user_id, name, is_host}, "payload"}`,
  listed as the control's `on_room_message`; both providers' bridges call it for every app message
  (the `on_room_message` event trigger of LocalCall and YoomStreamCall).

A control is a `RoomControl`: how it looks (a function returning a component) and, if it listens, its
handler. yoom/components/room_controls.py lists the bar's; yoom/components/examples/clap.py is a worked
example.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from yoom.rtc.room import APP_NAME, MAX_APP_PAYLOAD


def _call_room(method: str, *args: Any) -> rx.event.EventSpec:
    """`window.yoomRoom.<method>(...args)` in the browser, if a room channel is open there."""
    arguments = ", ".join(json.dumps(arg, ensure_ascii=False, allow_nan=False) for arg in args)
    return rx.call_script(f"window.yoomRoom && window.yoomRoom.{method}({arguments})")


def send_room_message(name: str, payload: Any = None) -> rx.event.EventSpec:
    """An event that sends the app message `name` (lower-case letters, digits, '-') with a JSON payload
    to everyone in the call. Checked here when the page is built, and again by the server."""
    if not isinstance(name, str) or not re.fullmatch(APP_NAME.pattern, name):
        raise ValueError(f"a room message's name is lower-case letters, digits and '-': {name!r}")
    if len(json.dumps(payload, allow_nan=False).encode()) > MAX_APP_PAYLOAD:
        raise ValueError(f"a room message's payload is at most {MAX_APP_PAYLOAD} bytes of JSON")
    return _call_room("send", name, payload)


def toggle_hand() -> rx.event.EventSpec:
    return _call_room("toggleHand")


def react(emoji: str) -> rx.event.EventSpec:
    return _call_room("react", emoji)


@dataclass(frozen=True)
class RoomControl:
    """One control of the in-call bar: `render()` makes it; `on_room_message`, if set, hears every app
    message of the call (it picks its own by `type`)."""

    render: Callable[[], rx.Component]
    on_room_message: Any = None  # an event handler taking the message dict
