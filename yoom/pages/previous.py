"""/previous — meetings that ended or started in the past."""

import reflex as rx

from yoom.components.navigation import app_shell
from yoom.pages.registry import page
from yoom.pages.upcoming import _meeting_list, previous_actions
from yoom.state.meetings import CallListState as Calls


@page("/previous", "Previous meetings", on_load=Calls.load_previous)
def previous_page() -> rx.Component:
    return app_shell(_meeting_list("history", "No previous meetings", previous_actions), heading="Previous Meetings")
