"""Your own camera on a setup screen, with no video service involved (assets/camera_preview.jsx).

The Stream setup screen of someone who must ask to join uses it: Stream opens the call only to people
Yoom has let in (yoom/video/stream_provider.py), so until then the page shows the camera by itself.
"""

from __future__ import annotations

import reflex as rx


class CameraPreview(rx.NoSSRComponent):
    """The camera while `off` is false; the reason in words when it can't start."""

    library = rx.asset("camera_preview.jsx").importable_path
    tag = "CameraPreview"

    off: rx.Var[bool]


def camera_preview(off: rx.Var[bool] | bool = False, **props) -> rx.Component:
    return CameraPreview.create(off=off, **props)
