"""The in-call control bar: a Python list of controls, the same for both providers (each provider's screen
puts its own media controls first — LocalCallControls on the embedded provider, Stream's CallControls,
which also records, on Stream).

Add a control by writing it in Python (a `RoomControl`: yoom/components/room_messages.py) and listing it
here; one that listens to room messages is wired into both bridges' `on_room_message` by
`room_message_handlers()`. yoom/components/examples/clap.py is the worked example.
"""

from __future__ import annotations

import reflex as rx

from yoom.components.examples.clap import CLAP_CONTROL
from yoom.components.lobby import MODERATION_CONTROL
from yoom.components.room_controls import (
    chat_toggle,
    end_call_button,
    hand_button,
    invite_button,
    layout_switcher,
    participants_toggle,
    reactions_menu,
    shortcuts_dialog,
)
from yoom.components.room_messages import RoomControl

CONTROLS: list[RoomControl] = [
    RoomControl(hand_button),
    RoomControl(reactions_menu),
    CLAP_CONTROL,
    RoomControl(chat_toggle),
    RoomControl(participants_toggle),
    RoomControl(layout_switcher),
    RoomControl(invite_button),
    MODERATION_CONTROL,
    RoomControl(shortcuts_dialog),
    RoomControl(end_call_button),
]


def controls(*first: rx.Component) -> list[rx.Component]:
    """The bar: the provider's own components first, then every listed control."""
    return [*first, *(control.render() for control in CONTROLS)]


def room_message_handlers() -> list:
    """What the bridges' `on_room_message` calls: every listed control that listens."""
    return [control.on_room_message for control in CONTROLS if control.on_room_message is not None]
