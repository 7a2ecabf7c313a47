"""The host's lobby and moderation in the call, on both providers (drawn over either provider's screen):
knocks as they arrive with Admit and Deny, and a panel with who is in the call (Remove, Make co-host),
"Ask everyone to mute" and who may join. Shown only to the host and co-hosts; every button's handler
checks that again on the server (yoom/state/lobby.py)."""

from __future__ import annotations

import reflex as rx

from yoom import styles
from yoom.access_rules import WhoMayJoin
from yoom.components.room_messages import RoomControl
from yoom.meeting_rules import Phase
from yoom.state.lobby import LobbyState

_PANEL = {
    "position": "fixed",
    "right": "1rem",
    "background_color": styles.DARK_1,
    "border_radius": styles.RADIUS,
    "padding": "1rem",
    "z_index": "50",
    "box_shadow": "0 8px 24px rgba(0,0,0,.4)",
    "max_height": "70vh",
    "overflow_y": "auto",
}


def _knock_row(knock: dict) -> rx.Component:
    return rx.hstack(
        rx.text(knock["name"], weight="medium", data_testid="knock-name", trim="both", max_width="12rem"),
        rx.cond(knock["kind"] == "guest", rx.badge("guest", color_scheme="gray")),
        rx.spacer(),
        rx.button(
            "Admit",
            on_click=LobbyState.admit(knock["user_id"]),
            size="1",
            style=styles.button_primary,
            data_testid="admit",
        ),
        rx.button(
            "Deny", on_click=LobbyState.deny(knock["user_id"]), size="1", style=styles.button_danger, data_testid="deny"
        ),
        align="center",
        spacing="2",
        width="100%",
        data_testid="knock",
    )


def lobby_knocks() -> rx.Component:
    """Who is waiting to join, as they knock (the host and co-hosts only)."""
    return rx.cond(
        (LobbyState.phase == Phase.IN_CALL) & LobbyState.can_admit,
        rx.box(
            rx.cond(
                LobbyState.knocks.length() > 0,
                rx.vstack(
                    rx.text("Waiting to join", weight="bold"),
                    rx.foreach(LobbyState.knocks, _knock_row),
                    spacing="2",
                    width="18rem",
                ),
            ),
            on_mount=LobbyState.refresh_lobby,
            style={**_PANEL, "top": "1rem", "padding": rx.cond(LobbyState.knocks.length() > 0, "1rem", "0")},
            role="region",
            aria_label="Waiting to join",
            data_testid="lobby-knocks",
        ),
    )


def _person_row(person: dict) -> rx.Component:
    return rx.hstack(
        rx.text(person["name"], trim="both", max_width="10rem", data_testid="person-name"),
        rx.cond(person["role"] != "", rx.badge(person["role"], color_scheme="gray")),
        rx.spacer(),
        rx.cond(
            (person["role"] == "") & LobbyState.is_owner,
            rx.button(
                "Make co-host",
                on_click=LobbyState.make_co_host(person["user_id"]),
                size="1",
                variant="soft",
                data_testid="make-co-host",
            ),
        ),
        rx.cond(
            (person["role"] != "host") & LobbyState.is_owner,
            rx.button(
                "Remove",
                on_click=LobbyState.remove(person["user_id"]),
                size="1",
                style=styles.button_danger,
                data_testid="remove-person",
            ),
        ),
        align="center",
        spacing="2",
        width="100%",
        data_testid="person",
    )


def moderation_panel() -> rx.Component:
    options = [(w.value, w.label) for w in WhoMayJoin]
    return rx.cond(
        (LobbyState.phase == Phase.IN_CALL) & LobbyState.can_admit & LobbyState.show_moderation,
        rx.vstack(
            rx.hstack(
                rx.heading("People", size="4", as_="h2"),
                rx.spacer(),
                rx.button("Close", on_click=LobbyState.toggle_moderation, size="1", variant="ghost"),
                width="100%",
            ),
            rx.text(LobbyState.access_summary, size="2", color=styles.TEXT_MUTED, data_testid="access-summary"),
            rx.foreach(LobbyState.people, _person_row),
            rx.button(
                "Ask everyone to mute",
                on_click=LobbyState.mute_everyone,
                size="2",
                variant="soft",
                data_testid="mute-everyone",
            ),
            rx.cond(
                LobbyState.is_owner,
                rx.vstack(
                    rx.text("Who may join", size="2", weight="medium"),
                    rx.el.select(
                        *[rx.el.option(label, value=value) for value, label in options],
                        value=LobbyState.who_may_join,
                        on_change=LobbyState.set_who_may_join,
                        aria_label="Who may join",
                        data_testid="who-may-join",
                        style={"background": styles.DARK_2, "color": styles.TEXT, "padding": "0.25rem"},
                    ),
                    rx.hstack(
                        # A label wrapping Radix's checkbox (a button) doesn't name it: `for` does.
                        rx.checkbox(
                            id="room-ask-to-join",
                            checked=LobbyState.ask_to_join,
                            on_change=LobbyState.set_ask_to_join,
                            data_testid="ask-to-join",
                        ),
                        rx.el.label("Ask to join (a lobby)", html_for="room-ask-to-join"),
                        align="center",
                        spacing="2",
                    ),
                    spacing="2",
                    width="100%",
                ),
            ),
            spacing="3",
            width="20rem",
            style={**_PANEL, "bottom": "5rem"},
            role="dialog",
            aria_label="People",
            data_testid="moderation-panel",
        ),
    )


def moderation_button() -> rx.Component:
    from yoom.components.room_controls import CONTROL_BUTTON

    return rx.cond(
        LobbyState.can_admit,
        rx.button(
            rx.icon("shield", size=20),
            rx.cond(LobbyState.knocks.length() > 0, rx.text(LobbyState.knocks.length(), as_="span")),
            on_click=LobbyState.toggle_moderation,
            # The count shown on the button is part of its name (WCAG 2.5.3, label in name).
            aria_label=rx.cond(
                LobbyState.knocks.length() > 0,
                "People and lobby, " + LobbyState.knocks.length().to_string() + " waiting",
                "People and lobby",
            ),
            aria_pressed=LobbyState.show_moderation,
            title="People and lobby",
            style=CONTROL_BUTTON,
            data_testid="moderation-toggle",
        ),
    )


MODERATION_CONTROL = RoomControl(render=moderation_button, on_room_message=LobbyState.on_room_message)
