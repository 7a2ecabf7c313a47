"""Room controls both providers share (the local mesh screen and Stream's): layout, participants, invite,
end for everyone, join muted, back home. Each acts through RoomState, which checks the user on the server."""

from __future__ import annotations

import reflex as rx

from yoom import styles
from yoom.meeting_rules import Layout
from yoom.state.room import RoomState

CONTROL_BUTTON = {
    "background_color": styles.CONTROL,
    "color": styles.TEXT,
    "border_radius": "9999px",
    "padding": "0.5rem 1rem",
    "height": "40px",
    "cursor": "pointer",
    "_hover": {"background_color": styles.CONTROL_HOVER},
}


def back_home() -> rx.Component:
    return rx.link(
        rx.button("Back to Home", size="3", style=styles.button_dark),
        href="/",
        data_testid="back-home",
    )


def join_muted_checkbox() -> rx.Component:
    """ "Join with mic and camera off", on the setup screen."""
    both_off = RoomState.join_mic_off & RoomState.join_camera_off
    return rx.el.label(
        rx.checkbox(
            checked=both_off,
            on_change=lambda value: [RoomState.set_join_mic_off(value), RoomState.set_join_camera_off(value)],
            data_testid="join-muted",
        ),
        rx.text("Join with mic and camera off", as_="span"),
        display="flex",
        align_items="center",
        gap="0.5rem",
        cursor="pointer",
    )


def layout_switcher() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("layout-list", size=20),
                aria_label="Change layout",
                title="Change layout",
                style=CONTROL_BUTTON,
                data_testid="layout-switcher",
            ),
        ),
        rx.menu.content(
            *[
                rx.menu.item(
                    rx.hstack(
                        rx.cond(RoomState.layout == value, rx.icon("check", size=14), rx.box(width="14px")),
                        rx.text(label),
                        align="center",
                        spacing="2",
                    ),
                    on_select=RoomState.set_layout(value),
                    data_testid=f"layout-{value}",
                )
                for value, label in ((layout.value, layout.label) for layout in Layout)
            ],
            style={"background_color": styles.DARK_1, "color": styles.TEXT},
        ),
    )


def participants_toggle() -> rx.Component:
    return rx.button(
        rx.icon("users", size=20),
        on_click=RoomState.toggle_participants,
        aria_label="Show participants",
        aria_pressed=RoomState.show_participants,
        title="Participants",
        style=CONTROL_BUTTON,
        data_testid="participants-toggle",
    )


def invite_button(test_id: str = "copy-invite-link", with_label: bool = False) -> rx.Component:
    """Copy the meeting's link (RoomState.invite_link, made on the server) and toast "Link copied"."""
    return rx.button(
        rx.icon("user-plus", size=20),
        *([rx.text("Copy invite link", as_="span")] if with_label else []),
        on_click=RoomState.copy_invite_link,
        aria_label="Copy invite link",
        title="Copy invite link",
        style=CONTROL_BUTTON,
        data_testid=test_id,
    )


def end_call_button() -> rx.Component:
    """Only for the call's creator and never in a personal room; the server checks ownership again."""
    return rx.cond(
        RoomState.is_owner & ~RoomState.is_personal,
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.button(
                    "End call for everyone",
                    color_scheme="red",
                    size="3",
                    radius="full",
                    cursor="pointer",
                    data_testid="end-call-for-everyone",
                ),
            ),
            rx.alert_dialog.content(
                rx.alert_dialog.title("End the call for everyone?"),
                rx.alert_dialog.description("Everyone in the call is disconnected and the meeting ends."),
                rx.hstack(
                    rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.alert_dialog.action(
                        rx.button(
                            "End call",
                            color_scheme="red",
                            on_click=RoomState.end_call_for_everyone,
                            data_testid="confirm-end-call",
                        ),
                    ),
                    spacing="3",
                    justify="end",
                    margin_top="1rem",
                ),
                style={"background_color": styles.DARK_1, "color": styles.TEXT},
            ),
        ),
    )
