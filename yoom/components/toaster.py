"""The app's toaster: sonner's, loaded after the page (assets/toaster.jsx), so no page waits for it."""

from __future__ import annotations

import reflex as rx

# The sonner Reflex's rx.toast is written for (reflex_components_sonner).
SONNER = "sonner@2.0.8"


class LazyToaster(rx.Component):
    library = rx.asset("toaster.jsx").importable_path
    tag = "LazyToaster"
    lib_dependencies: list[str] = [SONNER]

    theme: rx.Var[str]
    position: rx.Var[str]
    close_button: rx.Var[bool]
    rich_colors: rx.Var[bool]
    expand: rx.Var[bool]


def lazy_toaster() -> rx.Component:
    # Reflex's own toaster's settings (the app is always dark).
    return LazyToaster.create(theme="dark", position="bottom-right", rich_colors=True, close_button=False, expand=True)
