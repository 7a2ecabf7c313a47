import os
import sys
from pathlib import Path

import reflex as rx

from yoom.frontend_packages import ALWAYS_INSTALLED
from yoom.radix_theme import RadixThemesWithOwnColours
from yoom.settings import SettingsError, get_settings

try:
    settings = get_settings()
except SettingsError as problem:
    # Stop at start with the variable's name and where to set it, not a traceback.
    print(f"\nYoom can't start: {problem}\n", file=sys.stderr)
    sys.exit(2)

# `reflex run` (dev mode) restarts the backend when a file under the project changes. SQLite's -wal and -shm
# files and the recordings in the data folder change at every write, and each restart would drop every
# meeting: the data folder is left out of the watch.
if settings.data_dir.is_relative_to(Path.cwd()):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    watched_out = [p for p in os.environ.get("REFLEX_HOT_RELOAD_EXCLUDE_PATHS", "").split(os.pathsep) if p]
    os.environ["REFLEX_HOT_RELOAD_EXCLUDE_PATHS"] = os.pathsep.join([*watched_out, str(settings.data_dir)])

config = rx.Config(
    app_name="yoom",
    db_url=settings.database_url,
    # Set: Reflex keeps every tab's state in Redis (any worker or host can serve any tab); unset: on disk.
    redis_url=settings.redis_url,
    show_built_with_reflex=False,
    telemetry_enabled=False,
    # Only Yoom's own pages may call the backend with a user's cookie (yoom/api/auth.py checks Origin too).
    cors_allowed_origins=settings.allowed_origins,
    trusted_proxy_hops=settings.trusted_proxy_hops,
    # The same lock file (reflex.lock/) whatever the mode: see yoom/frontend_packages.py.
    frontend_packages=ALWAYS_INSTALLED,
    plugins=[
        RadixThemesWithOwnColours(theme=rx.theme(appearance="dark", accent_color="blue", radius="large")),
        rx.plugins.SitemapPlugin(),
    ],
)
