"""Links to Yoom's own API routes, valid in dev (backend on its own port) and prod (one port) alike."""

import reflex as rx
from reflex.constants import Dirs
from reflex.vars.base import Var, VarData
from reflex_base.utils.imports import ImportVar

BACKEND_ORIGIN = Var(
    _js_expr="new URL(getBackendURL(env.UPLOAD)).origin",
    _var_data=VarData(
        imports={
            f"$/{Dirs.STATE_PATH}": "getBackendURL",
            "$/env.json": ImportVar(tag="env", is_default=True),
        }
    ),
).to(str)


def absolute_api_url(url: rx.Var) -> rx.Var:
    """A provider URL as the browser must fetch it: `/api/...` paths go to Yoom's backend."""
    return rx.cond(url.to(str).startswith("/"), BACKEND_ORIGIN + url.to(str), url.to(str))
