"""Room controls both providers share (the local mesh screen and Stream's): layout, participants, invite,
end for everyone, join muted, back home; in the call: raise hand, reactions, chat, the raised hands, the
keyboard shortcuts. Each acts through RoomState / InCallState, which check the user on the server, or
sends into the room channel, whose server checks the rest. The bar itself is yoom/components/control_bar.py."""

from __future__ import annotations

import reflex as rx

from yoom import styles
from yoom.components.room_messages import react, toggle_hand
from yoom.meeting_rules import Layout
from yoom.rtc.room import REACTIONS
from yoom.state.in_call import InCallState
from yoom.state.room import RoomState

# What the keys do (assets/room_channel/shortcuts.js listens for the same keys; a unit test keeps the two
# lists equal).
SHORTCUTS = (
    ("M", "Mute or unmute your microphone"),
    ("V", "Turn your camera on or off"),
    ("H", "Raise or lower your hand"),
    ("C", "Open or close the chat"),
    ("P", "Show or hide the participants"),
    ("?", "Show these shortcuts"),
)

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
            aria_label="Join with mic and camera off",
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
        title="Participants (P)",
        style=CONTROL_BUTTON,
        data_testid="participants-toggle",
    )


def hand_button() -> rx.Component:
    """Raise or lower my hand (H); the room channel keeps the order and tells everyone."""
    return rx.button(
        rx.icon("hand", size=20),
        on_click=toggle_hand(),
        aria_label=rx.cond(InCallState.my_hand_raised, "Lower hand", "Raise hand"),
        aria_pressed=InCallState.my_hand_raised,
        title=rx.cond(InCallState.my_hand_raised, "Lower hand (H)", "Raise hand (H)"),
        style={
            **CONTROL_BUTTON,
            "background_color": rx.cond(InCallState.my_hand_raised, styles.ACCENT, styles.CONTROL),
        },
        data_testid="hand-toggle",
    )


def reactions_menu() -> rx.Component:
    """The fixed set of reactions the server accepts (yoom.rtc.room.REACTIONS)."""
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.icon("smile-plus", size=20),
                aria_label="Send a reaction",
                title="Reactions",
                style=CONTROL_BUTTON,
                data_testid="reactions-toggle",
            ),
        ),
        rx.popover.content(
            rx.hstack(
                *[
                    rx.popover.close(
                        rx.button(
                            emoji,
                            on_click=react(emoji),
                            variant="soft",
                            size="3",
                            aria_label=f"React {emoji}",
                            font_size="1.5rem",
                            data_testid="reaction-button",
                        )
                    )
                    for emoji in REACTIONS
                ],
                spacing="1",
            ),
            style={"background_color": styles.DARK_1, "color": styles.TEXT},
        ),
    )


def chat_toggle() -> rx.Component:
    """Open or close the chat (C); a badge counts what came while it was closed."""
    return rx.box(
        rx.button(
            rx.icon("message-square", size=20),
            on_click=InCallState.toggle_chat,
            aria_label=rx.cond(InCallState.unread > 0, "Chat (" + InCallState.unread.to_string() + " unread)", "Chat"),
            aria_pressed=InCallState.show_chat,
            title="Chat (C)",
            style=CONTROL_BUTTON,
            data_testid="chat-toggle",
        ),
        rx.cond(
            InCallState.unread > 0,
            rx.badge(
                InCallState.unread,
                variant="solid",
                style={"background_color": styles.DANGER, "color": styles.TEXT},
                radius="full",
                position="absolute",
                top="-4px",
                right="-4px",
                pointer_events="none",
                aria_hidden="true",
                data_testid="chat-unread",
            ),
        ),
        position="relative",
    )


def shortcuts_dialog() -> rx.Component:
    """The list of keyboard shortcuts (`?`), an accessible dialog (title, focus kept inside, Esc closes)."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("keyboard", size=20),
                aria_label="Keyboard shortcuts",
                title="Keyboard shortcuts (?)",
                style=CONTROL_BUTTON,
                data_testid="shortcuts-button",
            ),
        ),
        rx.dialog.content(
            rx.dialog.title("Keyboard shortcuts"),
            rx.dialog.description("They work anywhere in the call except while you type.", size="2"),
            rx.el.dl(
                *[
                    rx.fragment(
                        rx.el.dt(rx.code(key, size="3")),
                        rx.el.dd(label, margin="0"),
                    )
                    for key, label in SHORTCUTS
                ],
                display="grid",
                grid_template_columns="auto 1fr",
                gap="0.5rem 1rem",
                align_items="center",
                margin_y="1rem",
            ),
            rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
            style={"background_color": styles.DARK_1, "color": styles.TEXT},
            data_testid="shortcuts-dialog",
        ),
        open=InCallState.show_shortcuts,
        on_open_change=InCallState.set_show_shortcuts,
    )


def raised_hands() -> rx.Component:
    """Raised hands in the order they went up, at the top of the participants panel; the host may lower
    anyone's, or all (the room channel checks they are the host)."""
    return rx.cond(
        InCallState.hands.length() > 0,
        rx.box(
            rx.hstack(
                rx.heading("Raised hands", size="3", as_="h3"),
                rx.spacer(),
                rx.cond(
                    RoomState.is_owner,
                    rx.button(
                        "Lower all",
                        on_click=InCallState.lower_hand("*"),
                        size="1",
                        variant="soft",
                        data_testid="lower-all-hands",
                    ),
                ),
                align="center",
                width="100%",
            ),
            rx.el.ol(
                rx.foreach(
                    InCallState.hands,
                    lambda hand: rx.el.li(
                        rx.hstack(
                            rx.text("✋ ", hand.place, as_="span", aria_hidden="true"),
                            rx.text(hand.name, rx.cond(hand.mine, " (You)", ""), as_="span", flex="1"),
                            rx.cond(
                                RoomState.is_owner & ~hand.mine,
                                rx.button(
                                    "Lower",
                                    on_click=InCallState.lower_hand(hand.peer_id),
                                    size="1",
                                    variant="soft",
                                    aria_label="Lower " + hand.name + "'s hand",
                                ),
                            ),
                            align="center",
                            width="100%",
                        ),
                        data_testid="raised-hand",
                    ),
                ),
                style={"list_style": "none", "padding": "0", "margin": "0.5rem 0 0"},
            ),
            padding="0.75rem",
            margin_bottom="0.75rem",
            border_radius=styles.RADIUS,
            background_color=styles.DARK_3,
            data_testid="raised-hands",
        ),
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
                    size="3",
                    radius="full",
                    style=styles.button_danger,
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
                            style=styles.button_danger,
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
