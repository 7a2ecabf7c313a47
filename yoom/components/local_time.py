"""Dates and times in the viewer's time zone, formatted in the browser (assets/local_time.jsx).

In place of `rx.moment`, which brings moment.js (some 20 kB gzipped) into every page that shows a time.
Formats are moment's tokens: dddd ddd MMMM MMM D YYYY h mm A and [literal text].
"""

from __future__ import annotations

import reflex as rx


class LocalTime(rx.Component):
    """`iso` formatted with `format`; without `iso`, the current time, redrawn every `interval` ms."""

    library = rx.asset("local_time.jsx").importable_path
    tag = "LocalTime"

    iso: rx.Var[str]
    format: rx.Var[str]
    interval: rx.Var[int]


def local_time(iso: rx.Var | str = "", format: str = "h:mm A", **props) -> rx.Component:
    return LocalTime.create(iso=iso, format=format, **props)


def clock(format: str, **props) -> rx.Component:
    """The current time, ticking every second."""
    return LocalTime.create(format=format, interval=1000, **props)
