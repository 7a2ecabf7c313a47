"""/ — the hero clock, the next meeting, and the four actions."""

import reflex as rx

from yoom import styles
from yoom.components.cards import action_card
from yoom.components.local_time import clock, local_time
from yoom.components.navigation import app_shell
from yoom.meeting_rules import MAX_INVITEES
from yoom.pages.registry import page
from yoom.state.meetings import MeetingFormState as Form
from yoom.video.base import MAX_DESCRIPTION_LENGTH


def hero() -> rx.Component:
    """The clock and the next meeting: drawn at once (the next meeting appears when it has loaded)."""
    return rx.box(
        rx.vstack(
            rx.cond(
                Form.next_meeting_iso != "",
                rx.box(
                    rx.text(
                        "Upcoming meeting at: ",
                        local_time(Form.next_meeting_iso, "h:mm A"),
                        " · ",
                        local_time(Form.next_meeting_iso, "ddd, MMM D"),
                    ),
                    background_color="rgba(255,255,255,0.12)",
                    padding="0.5rem 1rem",
                    border_radius="8px",
                    data_testid="next-meeting",
                ),
            ),
            rx.spacer(),
            rx.vstack(
                rx.heading(clock("h:mm A"), size="9", as_="p", data_testid="clock-time"),
                rx.text(
                    clock("dddd, MMMM D, YYYY"),
                    size="5",
                    color=styles.TEXT_MUTED,
                    data_testid="clock-date",
                ),
                spacing="1",
            ),
            height="100%",
        ),
        height=["220px", "260px", "300px"],
        padding=["1.25rem", "2rem", "2.5rem"],
        border_radius="20px",
        background=styles.hero_background,
        width="100%",
        margin_bottom="var(--space-6)",
        data_testid="hero",
    )


def _dialog(name: str, title: str, *body: rx.Component) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.vstack(*body, spacing="3", width="100%"),
            style={"background_color": styles.DARK_1, "color": styles.TEXT, "max_width": "520px"},
        ),
        open=Form.dialog == name,
        on_open_change=Form.on_dialog_open_change,
    )


def _form_error(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "", rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", width="100%")
    )


def _switch(switch_id: str, label: str, checked: rx.Var, on_change, test_id: str) -> rx.Component:
    return rx.hstack(
        rx.switch(id=switch_id, checked=checked, on_change=on_change, data_testid=test_id),
        rx.el.label(label, html_for=switch_id),
        align="center",
        spacing="2",
    )


def access_switches(prefix: str, *, with_guests: rx.Var | bool = True) -> rx.Component:
    """Who may join (besides invite-only): guests by link, and "Ask to join" (a lobby)."""
    return rx.vstack(
        rx.cond(
            with_guests,
            _switch(
                f"{prefix}-allow-guests",
                "Let guests in (anyone with the link)",
                Form.allow_guests,
                Form.set_allow_guests,
                f"{prefix}-allow-guests",
            ),
        ),
        _switch(
            f"{prefix}-ask-to-join",
            "Ask to join: you let each person in",
            Form.ask_to_join,
            Form.set_ask_to_join,
            f"{prefix}-ask-to-join",
        ),
        spacing="2",
        width="100%",
    )


def new_meeting_dialog() -> rx.Component:
    return _dialog(
        "new",
        "Start an Instant Meeting",
        rx.text("A new meeting starts now; share its link from inside the room.", color=styles.TEXT_MUTED),
        access_switches("new"),
        rx.button(
            "Start Meeting",
            on_click=Form.start_instant_meeting,
            loading=Form.busy,
            width="100%",
            size="3",
            style=styles.button_primary,
        ),
    )


def join_meeting_dialog() -> rx.Component:
    return _dialog(
        "join",
        "Type the link here",
        rx.form(
            rx.vstack(
                rx.input(
                    placeholder="Meeting link or ID",
                    value=Form.join_input,
                    on_change=Form.set_join_input,
                    size="3",
                    width="100%",
                    aria_label="Meeting link or ID",
                    style=styles.input_style,
                    auto_focus=True,
                ),
                _form_error(Form.join_error),
                rx.button("Join Meeting", type="submit", width="100%", size="3", style=styles.button_primary),
                spacing="3",
                width="100%",
            ),
            on_submit=lambda _: Form.join_meeting(),
            width="100%",
        ),
    )


def schedule_meeting_dialog() -> rx.Component:
    return _dialog(
        "schedule",
        "Create Meeting",
        rx.el.label("Add a description", html_for="schedule-description", style={"color": styles.TEXT_MUTED}),
        rx.text_area(
            id="schedule-description",
            value=Form.schedule_description,
            on_change=Form.set_schedule_description,
            max_length=MAX_DESCRIPTION_LENGTH + 50,
            width="100%",
            style=styles.input_style,
        ),
        rx.text(
            Form.schedule_description.length().to_string() + f" / {MAX_DESCRIPTION_LENGTH}",
            size="1",
            color=styles.TEXT_MUTED,
            align="right",
            width="100%",
        ),
        rx.el.label(
            "Select date and time (your local time)", html_for="schedule-when", style={"color": styles.TEXT_MUTED}
        ),
        rx.input(
            id="schedule-when",
            type="datetime-local",
            value=Form.schedule_when,
            on_change=Form.set_schedule_when,
            size="3",
            width="100%",
            style={**styles.input_style, "color_scheme": "dark"},
        ),
        rx.cond(
            Form.viewer_timezone != "", rx.text("Time zone: ", Form.viewer_timezone, size="1", color=styles.TEXT_MUTED)
        ),
        rx.el.label("Invite people", html_for="schedule-invitees", style={"color": styles.TEXT_MUTED}),
        rx.input(
            id="schedule-invitees",
            value=Form.schedule_invitees,
            on_change=Form.set_schedule_invitees,
            placeholder="Usernames or emails, separated by commas",
            size="3",
            width="100%",
            auto_complete="off",
            style=styles.input_style,
        ),
        rx.text(
            f"People with a Yoom account (at most {MAX_INVITEES}); the meeting shows in their Upcoming.",
            size="1",
            color=styles.TEXT_MUTED,
        ),
        rx.hstack(
            rx.switch(
                id="schedule-invite-only", checked=Form.schedule_invite_only, on_change=Form.set_schedule_invite_only
            ),
            rx.el.label("Invite only", html_for="schedule-invite-only"),
            align="center",
            spacing="2",
        ),
        access_switches("schedule", with_guests=~Form.schedule_invite_only),
        rx.text(
            rx.cond(
                Form.schedule_invite_only,
                "Only you and the people you invite can join.",
                rx.cond(
                    Form.allow_guests,
                    "Anyone with the link can join, guests too.",
                    "Anyone signed in with the link can join.",
                ),
            ),
            size="1",
            color=styles.TEXT_MUTED,
            data_testid="invite-only-hint",
        ),
        rx.cond(
            Form.schedule_invite_only,
            rx.vstack(
                rx.hstack(
                    rx.switch(
                        id="schedule-share-recordings",
                        checked=Form.schedule_share_recordings,
                        on_change=Form.set_schedule_share_recordings,
                    ),
                    rx.el.label("Share recordings with invitees", html_for="schedule-share-recordings"),
                    align="center",
                    spacing="2",
                ),
                rx.text(
                    rx.cond(
                        Form.schedule_share_recordings,
                        "Everyone you invite can watch this meeting's recordings, even if they missed it.",
                        "Recordings are for you and the people in the meeting while it records.",
                    ),
                    size="1",
                    color=styles.TEXT_MUTED,
                    data_testid="share-recordings-hint",
                ),
                spacing="2",
                width="100%",
            ),
        ),
        _form_error(Form.schedule_error),
        rx.button(
            "Schedule Meeting",
            on_click=Form.schedule_meeting,
            loading=Form.busy,
            width="100%",
            size="3",
            style=styles.button_primary,
        ),
    )


def meeting_created_dialog() -> rx.Component:
    return _dialog(
        "created",
        "Meeting Created",
        rx.hstack(
            rx.icon("circle-check", color=styles.SUCCESS),
            rx.text(
                "Your meeting is scheduled for ",
                local_time(Form.created_starts_iso, "dddd, MMMM D [at] h:mm A"),
                ".",
            ),
            align="center",
        ),
        rx.cond(
            Form.created_invite_only,
            rx.hstack(
                rx.icon("lock", size=16),
                rx.text("Invite only: just you and the people you invited can join."),
                align="center",
                data_testid="created-invite-only",
            ),
        ),
        rx.cond(
            Form.created_share_recordings,
            rx.hstack(
                rx.icon("video", size=16),
                rx.text("Recordings are shared with the people you invited."),
                align="center",
                data_testid="created-share-recordings",
            ),
        ),
        rx.cond(
            Form.created_invited_count > 0,
            rx.text(
                Form.created_invited_count,
                " invited; it's in their Upcoming meetings.",
                color=styles.TEXT_MUTED,
                data_testid="created-invited",
            ),
        ),
        rx.code(Form.created_link, data_testid="created-link", style={"overflow_wrap": "anywhere"}),
        rx.button(
            rx.icon("copy", size=16),
            "Copy Meeting Link",
            on_click=Form.copy_created_link,
            width="100%",
            size="3",
            style=styles.button_primary,
        ),
        rx.button(
            rx.icon("calendar-plus", size=16),
            "Add to calendar",
            on_click=Form.download_calendar,
            width="100%",
            size="3",
            style=styles.button_dark,
        ),
    )


@page("/", "Home", on_load=[Form.load_home, Form.detect_timezone])
def home_page() -> rx.Component:
    return app_shell(
        rx.vstack(
            rx.grid(
                action_card(
                    "New Meeting",
                    "Start an instant meeting",
                    "plus",
                    styles.CARD_COLORS["new"],
                    Form.open_dialog("new"),
                    "card-new",
                ),
                action_card(
                    "Join Meeting",
                    "via invitation link",
                    "user-plus",
                    styles.CARD_COLORS["join"],
                    Form.open_dialog("join"),
                    "card-join",
                ),
                action_card(
                    "Schedule Meeting",
                    "Plan your meeting",
                    "calendar",
                    styles.CARD_COLORS["schedule"],
                    Form.open_dialog("schedule"),
                    "card-schedule",
                ),
                action_card(
                    "View Recordings",
                    "Meeting recordings",
                    "video",
                    styles.CARD_COLORS["recordings"],
                    rx.redirect("/recordings"),
                    "card-recordings",
                ),
                columns=rx.breakpoints(initial="1", sm="2", lg="4"),
                spacing="5",
                width="100%",
            ),
            new_meeting_dialog(),
            join_meeting_dialog(),
            schedule_meeting_dialog(),
            meeting_created_dialog(),
            spacing="6",
            width="100%",
        ),
        shown_at_once=hero(),
    )
