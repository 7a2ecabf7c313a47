"""A "clap" button, written in Python only: the worked example of a control that sends a room message
and reacts to it (README: "Add a control to the call"). It is in the bar of both providers
(yoom/components/control_bar.py).

Sending: `send_room_message("clap")` — the room channel relays it to everyone in the call, the sender
too, saying who sent it. Reacting: `ClapState.on_room_message` hears every app message of the call and
keeps the claps. Nothing here runs in the browser but the components Reflex renders.
"""

from __future__ import annotations

import reflex as rx

from yoom import styles
from yoom.components.room_messages import RoomControl, send_room_message
from yoom.models import Guest, User
from yoom.state.base import in_room
from yoom.state.room import RoomState

CLAP = "clap"


class ClapState(RoomState):
    claps: int = 0
    last_clapper: str = ""
    _counted_room: str = ""

    @rx.event
    @in_room
    def on_room_message(self, _user: User | Guest, message: dict):
        """Every app message of the call comes here (as to every listening control): keep the claps."""
        if not isinstance(message, dict) or message.get("type") != CLAP:
            return
        sender = message.get("from") if isinstance(message.get("from"), dict) else {}
        name = sender.get("name") if isinstance(sender.get("name"), str) else "Someone"
        if self._counted_room != self.room_id:  # a new meeting on this page: count afresh
            self._counted_room, self.claps = self.room_id, 0
        self.claps += 1
        self.last_clapper = name[:80]


def clap_button() -> rx.Component:
    return rx.button(
        rx.text("👏", as_="span", aria_hidden="true"),
        rx.cond(ClapState.claps > 0, rx.text(ClapState.claps, as_="span", data_testid="clap-count")),
        on_click=send_room_message(CLAP),
        aria_label="Clap",
        title=rx.cond(ClapState.last_clapper != "", "Last clap: " + ClapState.last_clapper, "Clap"),
        style={
            "background_color": styles.CONTROL,
            "color": styles.TEXT,
            "border_radius": "9999px",
            "padding": "0.5rem 1rem",
            "height": "40px",
            "cursor": "pointer",
            "gap": "0.4rem",
        },
        data_testid="clap-button",
    )


CLAP_CONTROL = RoomControl(render=clap_button, on_room_message=ClapState.on_room_message)
