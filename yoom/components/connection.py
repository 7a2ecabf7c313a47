"""What a page shows while Yoom's server can't be reached (a restart, a network drop).

Replaces Reflex's own overlay, whose toast reads "Cannot connect to server: websocket error. Check if
server is reachable at ws://…/_event" — framework words that alarm people in a meeting whose video, being
peer-to-peer, keeps flowing. A plain notice in a live region instead, gone when the socket is back.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors, has_too_many_connection_errors

from yoom import styles

RECONNECTING = "Reconnecting…"
STILL_TRYING = "Reconnecting… Yoom's server can't be reached right now."


def connection_notice() -> rx.Component:
    return rx.box(
        rx.cond(
            has_connection_errors,
            rx.text(
                rx.cond(has_too_many_connection_errors, STILL_TRYING, RECONNECTING),
                size="2",
                weight="medium",
                padding="0.5rem 1rem",
                border_radius="999px",
                background_color="var(--yoom-overlay)",
                color=styles.TEXT,
                box_shadow="0 2px 12px rgba(0, 0, 0, 0.35)",
                data_testid="connection-notice",
            ),
        ),
        role="status",
        aria_live="polite",
        position="fixed",
        top="0.75rem",
        left="50%",
        transform="translateX(-50%)",
        z_index="1000",
        pointer_events="none",
        max_width="calc(100vw - 2rem)",
        text_align="center",
    )
