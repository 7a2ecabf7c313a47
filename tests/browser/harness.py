"""Start Yoom in production mode for browser tests: a temp database, a free port, real migrations."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from yoom.settings import CLERK_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT_SECONDS = 420

# Settings a developer's .env or shell may hold that must not leak into a test app.
YOOM_VARIABLES = (
    "DATABASE_URL",
    "YOOM_DATA_DIR",
    "VIDEO_PROVIDER",
    "STREAM_API_KEY",
    "STREAM_API_SECRET",
    "STREAM_BASE_URL",
    "STREAM_CLIENT_BASE_URL",
    "YOOM_PUBLIC_URL",
    "YOOM_LOCAL_VIDEO_SECRET",
    "YOOM_ICE_SERVERS",
    "YOOM_TURN_URLS",
    "YOOM_TURN_SECRET",
    "YOOM_ICE_TRANSPORT_POLICY",
    "REFLEX_REDIS_URL",
    "REFLEX_DB_URL",
    "YOOM_TRUSTED_PROXY_HOPS",
    "YOOM_LOGIN_MAX_FAILURES",
    "YOOM_LOGIN_MAX_DELAY_SECONDS",
    "YOOM_SESSION_TTL_HOURS",
    "YOOM_ROOM_CAPACITY",
    "YOOM_RECORDING_MAX_MB",
    "YOOM_RECORDING_QUOTA_MB",
    "YOOM_RECORDING_IDLE_SECONDS",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_environment(data_dir: Path, overrides: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in YOOM_VARIABLES}
    env.update(
        {
            "PATH": f"{ROOT / '.tools' / 'node_modules' / '.bin'}{os.pathsep}{BIN}{os.pathsep}{env.get('PATH', '')}",
            "REFLEX_USE_SYSTEM_BUN": "1",
            "YOOM_DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / 'yoom.db'}",
            # A .env at the root must not change what the tests see: an empty value wins over it.
            "VIDEO_PROVIDER": "local",
            "STREAM_API_KEY": "",
            "STREAM_API_SECRET": "",
            # Yoom's own accounts unless a test asks for Clerk (its overrides come last).
            **dict.fromkeys(CLERK_SETTINGS, ""),
            "PYTHONUNBUFFERED": "1",
            # Every test signs people up from 127.0.0.1: the per-address sign-up limit would stop the suite.
            "YOOM_SIGNUPS_PER_HOUR": "100000",
            # A recording whose page died is saved from its parts after this long without one (parts come
            # every 10 s while it records), so a test finds it on Recordings within a minute.
            "YOOM_RECORDING_IDLE_SECONDS": "20",
            # Each test app compiles into its own folder: tests never clash with a developer's .web
            # (or with another test run) and always build the code as it is now.
            "REFLEX_WEB_WORKDIR": str(data_dir / "web"),
        }
    )
    env.update(overrides)
    return env


@dataclass
class RunningApp:
    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    overrides: dict[str, str] = field(default_factory=dict)
    port: int = 0

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        self._stop_process()
        # The app's own web build (node_modules included) is large: don't leave it in /tmp.
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def stop_backend(self) -> None:
        """Stop the server as a deploy does (SIGTERM, then wait): open pages keep their loaded frontend."""
        self._stop_process()

    def start_backend(self) -> float:
        """Start the built app again on the same port, without building (tests/browser/serve_built.py), and
        wait until it answers; returns how long that took in seconds."""
        started = time.monotonic()
        log = open(self.log_path, "a")  # noqa: SIM115  (the server writes to it for its whole life)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.browser.serve_built", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_until_up(self, time.monotonic() + 120)
        return time.monotonic() - started

    def _stop_process(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=10)


def start_app(overrides: dict[str, str] | None = None) -> RunningApp:
    overrides = dict(overrides or {})
    data_dir = Path(tempfile.mkdtemp(prefix="yoom-test-"))
    env = app_environment(data_dir, overrides)
    migrate = subprocess.run(
        [str(BIN / "reflex"), "db", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if migrate.returncode != 0:
        raise RuntimeError(f"migrations failed:\n{migrate.stdout}\n{migrate.stderr}")
    port = free_port()
    log_path = data_dir / "app.log"
    log = open(log_path, "w")  # noqa: SIM115  (the server writes to it for its whole life)
    process = subprocess.Popen(
        [
            str(BIN / "reflex"),
            "run",
            "--env",
            "prod",
            "--single-port",
            "--frontend-port",
            str(port),
            "--backend-port",
            str(port),
            "--loglevel",
            "info",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    app = RunningApp(f"http://localhost:{port}", data_dir, env, process, log_path, overrides, port)
    _wait_until_up(app, time.monotonic() + START_TIMEOUT_SECONDS)
    return app


def _wait_until_up(app: RunningApp, deadline: float) -> None:
    process = app.process
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = app.log_tail()
            app.stop()
            raise RuntimeError(f"the app exited with {process.returncode}:\n{tail}")
        try:
            if (
                httpx.get(app.url + "/ping", timeout=2).status_code == 200
                and httpx.get(app.url + "/", timeout=5).status_code == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    tail = app.log_tail()
    app.stop()
    raise RuntimeError(f"the app did not start in time:\n{tail}")
