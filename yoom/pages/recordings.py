"""/recordings — recordings of the viewer's meetings, played on the page."""

import reflex as rx

from yoom import styles
from yoom.components.backend import absolute_api_url
from yoom.components.cards import list_card, paged_list
from yoom.components.navigation import app_shell
from yoom.pages.registry import page
from yoom.state.meetings import RecordingsState as Rec


def recording_actions(r) -> rx.Component:
    return rx.hstack(
        rx.button(rx.icon("play", size=16), "Play", on_click=Rec.play(r["url"]), style=styles.button_primary),
        rx.button(
            rx.icon("copy", size=16),
            "Copy Link",
            style=styles.button_dark,
            on_click=[rx.set_clipboard(absolute_api_url(r["url"])), rx.toast.success("Link copied")],
        ),
        rx.cond(
            r["can_delete"] != "",
            rx.button(
                rx.icon("trash-2", size=16),
                "Delete",
                on_click=Rec.ask_delete(r["id"]),
                color_scheme="red",
                variant="soft",
            ),
        ),
        spacing="3",
        wrap="wrap",
    )


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this recording?"),
            rx.alert_dialog.description(
                rx.text(
                    rx.text.strong(Rec.confirm_delete_title),
                    " is deleted for everyone who can watch it. This can't be undone.",
                )
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", style=styles.button_dark)),
                rx.button("Delete", on_click=Rec.confirm_delete, loading=Rec.deleting, style=styles.button_danger),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            style={"background_color": styles.DARK_1, "color": styles.TEXT, "max_width": "480px"},
        ),
        open=Rec.confirm_delete_id != "",
        on_open_change=Rec.on_confirm_delete_change,
    )


def player() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(Rec.playing_title),
            rx.el.video(
                src=absolute_api_url(Rec.playing_url),
                controls=True,
                auto_play=True,
                data_testid="recording-player",
                style={"width": "100%", "border_radius": "10px", "background": "black"},
            ),
            rx.hstack(
                rx.link(
                    "Open in a new tab",
                    href=absolute_api_url(Rec.playing_url),
                    is_external=True,
                    color=styles.ACCENT_TEXT,
                ),
                rx.dialog.close(rx.button("Close", style=styles.button_dark)),
                justify="between",
                width="100%",
                margin_top="1rem",
            ),
            style={"background_color": styles.DARK_1, "max_width": "880px"},
        ),
        open=Rec.playing_url != "",
        on_open_change=Rec.close_player,
    )


@page("/recordings", "Recordings", on_load=Rec.load_recordings)
def recordings_page() -> rx.Component:
    return app_shell(
        rx.vstack(
            paged_list(
                Rec,
                Rec.recordings,
                lambda r: list_card("video", r["title"], r["start_time"], recording_actions(r), "recording-card"),
                "No recordings",
                retry=Rec.load_recordings,
            ),
            player(),
            delete_dialog(),
            spacing="5",
            width="100%",
        ),
        heading="Recordings",
    )
