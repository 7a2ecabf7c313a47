"""The in-call chat panel, the same on both providers (its messages come through the room channel and
InCallState). Every message is text: React renders each piece as text, links are http(s) only and open
with rel="noopener noreferrer"; the time is the viewer's own."""

from __future__ import annotations

import reflex as rx

from yoom import styles
from yoom.chat import MAX_TEXT
from yoom.components.local_time import local_time
from yoom.state.in_call import ChatItem, InCallState, LinkPart


def _part(part: LinkPart) -> rx.Component:
    return rx.cond(
        part.href != "",
        rx.link(part.text, href=part.href, is_external=True, rel="noopener noreferrer", color=styles.ACCENT_TEXT),
        rx.text(part.text, as_="span"),
    )


def _message(item: ChatItem) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.text(item.name, rx.cond(item.mine, " (You)", ""), weight="bold", size="2", as_="span"),
            local_time(item.sent_at, "h:mm A", color=styles.TEXT_MUTED, font_size="12px"),
            align="baseline",
            spacing="2",
        ),
        rx.text(
            rx.foreach(item.parts, _part),
            size="2",
            white_space="pre-wrap",
            overflow_wrap="anywhere",
            as_="p",
            margin="0",
        ),
        data_testid="chat-message",
        padding_y="0.35rem",
    )


def chat_panel() -> rx.Component:
    return rx.cond(
        InCallState.show_chat,
        rx.flex(
            rx.hstack(
                rx.heading("Chat", size="4", as_="h2"),
                rx.spacer(),
                rx.icon_button(
                    rx.icon("x", size=18),
                    on_click=InCallState.toggle_chat,
                    variant="ghost",
                    aria_label="Close chat",
                    color=styles.TEXT,
                ),
                align="center",
                width="100%",
            ),
            rx.cond(
                InCallState.messages.length() == 0,
                rx.text("No messages yet. Say hello!", size="2", color=styles.TEXT_MUTED, padding_y="0.5rem"),
            ),
            rx.el.ol(
                rx.foreach(InCallState.messages, _message),
                aria_label="Chat messages",
                aria_live="polite",
                style={"list_style": "none", "padding": "0", "margin": "0", "overflow_y": "auto", "flex": "1"},
                data_testid="chat-messages",
            ),
            rx.cond(
                InCallState.chat_notice != "",
                rx.text(
                    InCallState.chat_notice, size="2", color=styles.DANGER_TEXT, role="alert", data_testid="chat-notice"
                ),
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="text",
                        placeholder="Send a message",
                        max_length=MAX_TEXT,
                        aria_label="Chat message",
                        auto_complete="off",
                        style=styles.input_style,
                        flex="1",
                        data_testid="chat-input",
                    ),
                    rx.button(
                        rx.icon("send", size=16),
                        type="submit",
                        aria_label="Send",
                        style={"background_color": styles.ACCENT, "color": styles.TEXT, "cursor": "pointer"},
                        data_testid="chat-send",
                    ),
                    width="100%",
                ),
                on_submit=InCallState.send_chat,
                reset_on_submit=True,
                width="100%",
            ),
            direction="column",
            gap="0.5rem",
            width=["100%", "100%", "320px"],
            height=["40vh", "40vh", "100%"],
            flex_shrink="0",
            padding="1rem",
            border_radius=styles.RADIUS,
            background_color=styles.DARK_1,
            color=styles.TEXT,
            data_testid="chat-panel",
        ),
    )
