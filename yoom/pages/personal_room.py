"""/personal-room — the viewer's own room with its invite link, which "Reset link" replaces."""

import reflex as rx

from yoom import styles
from yoom.components.navigation import app_shell
from yoom.pages.registry import page
from yoom.state.base import AuthState
from yoom.state.meetings import PersonalRoomState as Room


def _row(label: str, value: rx.Var, test_id: str) -> rx.Component:
    return rx.flex(
        rx.text(label, weight="medium", color=styles.TEXT_MUTED, min_width="120px"),
        rx.text(value, weight="bold", data_testid=test_id, style={"overflow_wrap": "anywhere"}),
        direction=rx.breakpoints(initial="column", sm="row"),
        gap="2",
        width="100%",
    )


def reset_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Reset your room's link?"),
            rx.alert_dialog.description(
                "Your room gets a new meeting ID and link. The old link stops working, and anyone in the "
                "room now is removed from it."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", style=styles.button_dark)),
                rx.button(
                    "Reset link",
                    on_click=Room.reset_link,
                    loading=Room.resetting,
                    style=styles.button_danger,
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            style={"background_color": styles.DARK_1, "color": styles.TEXT, "max_width": "480px"},
        ),
        open=Room.confirm_reset,
        on_open_change=Room.set_confirm_reset,
    )


@page("/personal-room", "Personal Room", on_load=Room.load_room)
def personal_room_page() -> rx.Component:
    return app_shell(
        rx.vstack(
            _row("Topic:", AuthState.user_name + "'s Meeting Room", "room-topic"),
            _row("Meeting ID:", Room.room_id, "room-id"),
            _row("Invite Link:", Room.invite_link, "room-link"),
            rx.hstack(
                rx.button(
                    "Start Meeting",
                    on_click=Room.start_room,
                    loading=Room.starting,
                    size="3",
                    style=styles.button_primary,
                ),
                rx.button("Copy Invitation", on_click=Room.copy_invitation, size="3", style=styles.button_dark),
                rx.button(
                    rx.icon("refresh-cw", size=16),
                    "Reset link",
                    on_click=Room.set_confirm_reset(True),
                    size="3",
                    style=styles.button_dark,
                ),
                spacing="4",
                wrap="wrap",
                margin_top="1rem",
            ),
            reset_dialog(),
            spacing="5",
            width="100%",
            max_width="900px",
        ),
        heading="Personal Meeting Room",
    )
