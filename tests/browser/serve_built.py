"""Serve Yoom as built by an earlier `reflex run --env prod --single-port` (backend and compiled frontend
on one port) without compiling or building again: what a deploy starts once its build is made.

`python -m tests.browser.serve_built PORT`, from the project root, with the app's environment (the
harness's `RunningApp.restart_backend`)."""

from __future__ import annotations

import os
import sys

from reflex_base import constants
from reflex_base.environment import environment


def main(port: int) -> None:
    os.environ["REFLEX_FRONTEND_PORT"] = os.environ["REFLEX_BACKEND_PORT"] = str(port)
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    from reflex.utils import exec as reflex_exec

    reflex_exec.run_backend_prod("0.0.0.0", port, constants.LogLevel.INFO, mount_frontend_compiled_app=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
