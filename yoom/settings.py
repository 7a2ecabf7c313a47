"""Yoom's configuration: read once from the environment (and `.env`), validated, typed.

No Reflex import here: domain modules and tests use it directly.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WHERE = "Set it in .env at the project root (see .env.example) or in the environment."


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable and where to set it."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    public_url: str | None
    session_ttl_seconds: int
    login_max_failures: int
    login_lockout_seconds: int
    video_provider: str
    stream_api_key: str | None
    stream_api_secret: str | None
    stream_base_url: str | None
    stream_client_base_url: str | None
    stream_timeout_seconds: float
    stream_max_retries: int
    video_token_ttl_seconds: int
    local_video_secret: str
    ice_servers: list = field(default_factory=list)
    room_capacity: int = 6
    recording_max_bytes: int = 500 * 1024 * 1024
    recording_quota_bytes: int = 2000 * 1024 * 1024  # per person, all their stored recordings together

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}. {WHERE}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise SettingsError(f"{name} must be {bounds}, got {value}. {WHERE}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.1) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}. {WHERE}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}. {WHERE}")
    return value


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must start with http:// or https://, got {raw!r}. {WHERE}")
    return raw.rstrip("/")


def _ice_servers(env: Mapping[str, str]) -> list:
    raw = env.get("YOOM_ICE_SERVERS", "").strip()
    if not raw:
        return []
    try:
        servers = json.loads(raw)
    except json.JSONDecodeError:
        raise SettingsError(
            'YOOM_ICE_SERVERS must be a JSON list such as [{"urls": "stun:stun.example.org:3478"}]. ' + WHERE
        ) from None
    if not isinstance(servers, list) or not all(isinstance(s, dict) and "urls" in s for s in servers):
        raise SettingsError('YOOM_ICE_SERVERS must be a JSON list of objects with "urls". ' + WHERE)
    return servers


def _local_secret(env: Mapping[str, str], data_dir: Path) -> str:
    """The local provider's signing secret: from the environment, else generated once and kept on disk."""
    configured = env.get("YOOM_LOCAL_VIDEO_SECRET", "").strip()
    if configured:
        if len(configured) < 32:
            raise SettingsError(f"YOOM_LOCAL_VIDEO_SECRET must be at least 32 characters. {WHERE}")
        return configured
    secret_file = data_dir / "local_video_secret"
    if secret_file.exists():
        return secret_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    secret_file.write_text(secret)
    secret_file.chmod(0o600)
    return secret


def load_settings(env: Mapping[str, str]) -> Settings:
    data_dir = Path(env.get("YOOM_DATA_DIR", "").strip() or PROJECT_ROOT / "data")
    if not data_dir.is_absolute():
        data_dir = PROJECT_ROOT / data_dir
    database_url = env.get("DATABASE_URL", "").strip() or f"sqlite:///{data_dir / 'yoom.db'}"
    if "://" not in database_url:
        raise SettingsError(
            f"DATABASE_URL must be a database URL such as sqlite:///data/yoom.db or "
            f"postgresql://user:pass@host/yoom, got {database_url!r}. {WHERE}"
        )

    key = env.get("STREAM_API_KEY", "").strip() or None
    secret = env.get("STREAM_API_SECRET", "").strip() or None
    provider = env.get("VIDEO_PROVIDER", "").strip().lower()
    if not provider:
        provider = "stream" if key and secret else "local"
    if provider not in ("stream", "local"):
        raise SettingsError(f"VIDEO_PROVIDER must be 'stream' or 'local', got {provider!r}. {WHERE}")
    if provider == "stream":
        for name, value in (("STREAM_API_KEY", key), ("STREAM_API_SECRET", secret)):
            if not value:
                raise SettingsError(
                    f"VIDEO_PROVIDER is 'stream' but {name} is not set. {WHERE} "
                    "Find both keys in your Stream dashboard, or unset VIDEO_PROVIDER to use the built-in video."
                )

    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        public_url=_url(env, "YOOM_PUBLIC_URL"),
        session_ttl_seconds=_int(env, "YOOM_SESSION_TTL_HOURS", 24 * 7, maximum=24 * 366) * 3600,
        login_max_failures=_int(env, "YOOM_LOGIN_MAX_FAILURES", 5, maximum=1000),
        login_lockout_seconds=_int(env, "YOOM_LOGIN_LOCKOUT_SECONDS", 300, maximum=86400),
        video_provider=provider,
        stream_api_key=key,
        stream_api_secret=secret,
        stream_base_url=_url(env, "STREAM_BASE_URL"),
        stream_client_base_url=_url(env, "STREAM_CLIENT_BASE_URL"),
        stream_timeout_seconds=_float(env, "STREAM_TIMEOUT_SECONDS", 6.0),
        stream_max_retries=_int(env, "STREAM_MAX_RETRIES", 2, minimum=0, maximum=10),
        video_token_ttl_seconds=_int(env, "VIDEO_TOKEN_TTL_SECONDS", 3600, minimum=60, maximum=7 * 86400),
        local_video_secret=_local_secret(env, data_dir),
        ice_servers=_ice_servers(env),
        room_capacity=_int(env, "YOOM_ROOM_CAPACITY", 6, minimum=2, maximum=16),
        recording_max_bytes=_int(env, "YOOM_RECORDING_MAX_MB", 500, maximum=10_000) * 1024 * 1024,
        recording_quota_bytes=_int(env, "YOOM_RECORDING_QUOTA_MB", 2000, maximum=10_000_000) * 1024 * 1024,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (`.env` first, the real environment wins)."""
    from dotenv import dotenv_values

    env = {k: v for k, v in dotenv_values(PROJECT_ROOT / ".env").items() if v is not None}
    env.update(os.environ)
    return load_settings(env)
