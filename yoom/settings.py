"""Yoom's configuration: read once from the environment (and `.env`), validated, typed.

No Reflex import here: domain modules and tests use it directly.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WHERE = "Set it in .env at the project root (see .env.example) or in the environment."
DEV_FRONTEND_ORIGINS = ("http://localhost:3000", "http://127.0.0.1:3000")
# Settings that no longer exist, and what replaced them: a stale .env says so instead of being ignored.
RETIRED = {
    "YOOM_LOGIN_LOCKOUT_SECONDS": "sign-in failures now cost growing delays, never a lock-out: "
    "set YOOM_LOGIN_MAX_DELAY_SECONDS instead",
}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable and where to set it."""


CLERK_API_URL = "https://api.clerk.com"
CLERK_SETTINGS = (
    "CLERK_PUBLISHABLE_KEY",
    "CLERK_SECRET_KEY",
    "CLERK_JWT_KEY",
    "CLERK_AUTHORIZED_PARTIES",
    "CLERK_API_URL",
    "CLERK_JS_URL",
    "CLERK_SESSION_TTL_SECONDS",
)
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::\d{1,5})?$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?$")


@dataclass(frozen=True)
class ClerkSettings:
    """Clerk as the identity provider. The publishable key is public (it goes into every page); the secret
    key and the JWT key stay on the server."""

    publishable_key: str
    secret_key: str
    frontend_api: str  # the host in the publishable key, e.g. "clerk.example.com"
    jwt_key: str | None  # PEM public key: verify session tokens with no request to Clerk
    api_url: str  # Clerk's Backend API (JWKS, users)
    authorized_parties: tuple[str, ...]  # accepted `azp` origins; empty = Yoom's own
    js_url: str | None  # where the browser loads clerk-js from; None = Clerk's own CDN
    session_ttl_seconds: int  # lifetime of a Yoom session made from a Clerk session token

    @property
    def issuer(self) -> str:
        """The `iss` of this instance's session tokens: its Frontend API URL."""
        return f"https://{self.frontend_api}"

    @property
    def refresh_seconds(self) -> int:
        """How often the browser posts a fresh Clerk token: three chances before the Yoom session lapses."""
        return max(10, self.session_ttl_seconds // 3)


def clerk_frontend_api(publishable_key: str) -> str:
    """The Frontend API host a publishable key names: `pk_test_`/`pk_live_` + base64("<host>$")."""
    prefix, _, encoded = publishable_key.partition("_")[2].partition("_")
    where = "Copy it from Clerk's dashboard (API keys) into CLERK_PUBLISHABLE_KEY. " + WHERE
    if publishable_key[:3] != "pk_" or prefix not in ("test", "live") or not encoded:
        raise SettingsError(f"CLERK_PUBLISHABLE_KEY must start with pk_test_ or pk_live_. {where}")
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SettingsError(
            f"CLERK_PUBLISHABLE_KEY is not a Clerk publishable key (its end isn't base64). {where}"
        ) from None
    host = decoded[:-1]
    if not decoded.endswith("$") or not _HOST.match(host):
        raise SettingsError(f"CLERK_PUBLISHABLE_KEY does not name a Clerk Frontend API host. {where}")
    return host


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    public_url: str | None
    session_ttl_seconds: int
    login_max_failures: int
    login_max_delay_seconds: int
    signups_per_hour: int
    trusted_proxy_hops: int
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
    # TURN with short-lived credentials (yoom/video/turn.py): both set or neither.
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = field(default=None, repr=False)
    ice_transport_policy: str = "all"  # "relay": media only through TURN
    room_capacity: int = 6
    recording_max_bytes: int = 500 * 1024 * 1024
    recording_quota_bytes: int = 2000 * 1024 * 1024  # per person, all their stored recordings together
    # A recording upload that receives no part for this long is finalised from the parts that arrived.
    recording_idle_seconds: int = 60
    clerk: ClerkSettings | None = None
    # Redis for Reflex's state and the signaling hub's rosters (several workers or hosts); None: one process.
    redis_url: str | None = field(default=None, repr=False)

    @property
    def clerk_enabled(self) -> bool:
        """Sign-in through Clerk (CLERK_PUBLISHABLE_KEY and CLERK_SECRET_KEY set) instead of Yoom's own forms."""
        return self.clerk is not None

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    @property
    def public_origin(self) -> str | None:
        """`scheme://host[:port]` of YOOM_PUBLIC_URL: the origin browsers send when Yoom runs behind it."""
        if not self.public_url:
            return None
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def allowed_origins(self) -> list[str]:
        """Origins other than a request's own that may call Yoom with the user's cookie: the public address,
        else the development frontend (`make dev` serves pages on :3000 and the backend on :8000)."""
        if self.public_origin:
            return [self.public_origin]
        return list(DEV_FRONTEND_ORIGINS)


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


def _turn(env: Mapping[str, str], ice_servers: list) -> tuple[tuple[str, ...], str | None, list]:
    """YOOM_TURN_URLS and YOOM_TURN_SECRET, and the static ICE servers that remain: with a secret, static
    TURN entries (and their username and password) in YOOM_ICE_SERVERS give way to short-lived credentials."""
    from yoom.video.turn import is_turn_url, without_turn

    raw_urls = env.get("YOOM_TURN_URLS", "").strip()
    secret = env.get("YOOM_TURN_SECRET", "").strip() or None
    urls = tuple(u.strip() for u in raw_urls.split(",") if u.strip())
    if urls and not secret:
        raise SettingsError(
            "YOOM_TURN_URLS is set but YOOM_TURN_SECRET is not: set YOOM_TURN_SECRET to the TURN server's "
            f"static-auth-secret (coturn's use-auth-secret), or unset YOOM_TURN_URLS. {WHERE}"
        )
    if secret and not urls:
        raise SettingsError(
            "YOOM_TURN_SECRET is set but YOOM_TURN_URLS is not: list the TURN server's addresses, such as "
            f"turn:turn.example.org:3478?transport=udp,turns:turn.example.org:5349, or unset YOOM_TURN_SECRET. {WHERE}"
        )
    for url in urls:
        if not is_turn_url(url) or "@" in url or len(url) < 7:
            raise SettingsError(
                f"YOOM_TURN_URLS must list turn: or turns: addresses (no user name or password in them), "
                f"separated by commas, got {url!r}. {WHERE}"
            )
    if secret and len(secret) < 16:
        raise SettingsError(f"YOOM_TURN_SECRET must be at least 16 characters. {WHERE}")
    return urls, secret, without_turn(ice_servers) if secret else ice_servers


def _ice_transport_policy(env: Mapping[str, str], ice_servers: list, turn_urls: tuple[str, ...]) -> str:
    from yoom.video.turn import is_turn_url, urls_of

    policy = env.get("YOOM_ICE_TRANSPORT_POLICY", "").strip().lower() or "all"
    if policy not in ("all", "relay"):
        raise SettingsError(f"YOOM_ICE_TRANSPORT_POLICY must be 'all' or 'relay', got {policy!r}. {WHERE}")
    static_turn = any(is_turn_url(u) for server in ice_servers for u in urls_of(server))
    if policy == "relay" and not (turn_urls or static_turn):
        raise SettingsError(
            "YOOM_ICE_TRANSPORT_POLICY=relay sends media only through TURN, but no TURN server is set: "
            f"set YOOM_TURN_URLS and YOOM_TURN_SECRET, or turn: entries in YOOM_ICE_SERVERS. {WHERE}"
        )
    return policy


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


def _database_url(env: Mapping[str, str], data_dir: Path) -> str:
    """DATABASE_URL, else REFLEX_DB_URL (Reflex's own name, which its migrations read), else SQLite in data_dir.
    Both set and different would split the app and its migrations across two databases: refused."""
    ours = env.get("DATABASE_URL", "").strip()
    reflex = env.get("REFLEX_DB_URL", "").strip()
    if ours and reflex and ours != reflex:
        raise SettingsError(
            "DATABASE_URL and REFLEX_DB_URL name different databases; Yoom and its migrations must use one. "
            f"Set only DATABASE_URL. {WHERE}"
        )
    url = ours or reflex or f"sqlite:///{data_dir / 'yoom.db'}"
    if "://" not in url:
        raise SettingsError(
            f"DATABASE_URL must be a database URL such as sqlite:///data/yoom.db or "
            f"postgresql://user:pass@host/yoom, got {url!r}. {WHERE}"
        )
    return url


def _clerk_jwt_key(raw: str) -> str:
    """CLERK_JWT_KEY as PEM: .env files often hold it on one line with literal \\n, which is accepted."""
    pem = raw.replace("\\n", "\n").strip()
    where = (
        "Copy the PEM public key from Clerk's dashboard (API keys → JWT public key) into CLERK_JWT_KEY, or leave it empty to fetch Clerk's keys. "
        + WHERE
    )
    try:
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        key = load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        raise SettingsError(f"CLERK_JWT_KEY is not a PEM public key (-----BEGIN PUBLIC KEY----- …). {where}") from None
    if not isinstance(key, RSAPublicKey):
        raise SettingsError(f"CLERK_JWT_KEY must be an RSA public key (Clerk signs with RS256). {where}")
    return pem


def _clerk(env: Mapping[str, str]) -> ClerkSettings | None:
    """Clerk's settings, or None when none is set. Half a set is a mistake and names what is missing."""
    values = {name: env.get(name, "").strip() for name in CLERK_SETTINGS}
    if not any(values.values()):
        return None
    publishable, secret = values["CLERK_PUBLISHABLE_KEY"], values["CLERK_SECRET_KEY"]
    for name, value in (("CLERK_PUBLISHABLE_KEY", publishable), ("CLERK_SECRET_KEY", secret)):
        if not value:
            others = [n for n, v in values.items() if v and n != name]
            raise SettingsError(
                f"{name} is not set, but {', '.join(others)} {'is' if len(others) == 1 else 'are'}: "
                "Clerk sign-in needs both CLERK_PUBLISHABLE_KEY and "
                f"CLERK_SECRET_KEY (Clerk's dashboard → API keys). {WHERE} Unset every CLERK_ variable to use "
                "Yoom's own accounts."
            )
    frontend_api = clerk_frontend_api(publishable)
    kind = publishable.split("_")[1]
    if not re.fullmatch(r"sk_(test|live)_[A-Za-z0-9]+", secret):
        raise SettingsError(
            f"CLERK_SECRET_KEY must look like sk_test_… or sk_live_… (Clerk's dashboard → API keys). {WHERE}"
        )
    if secret.split("_")[1] != kind:
        raise SettingsError(
            f"CLERK_SECRET_KEY is a {secret.split('_')[1]} key but CLERK_PUBLISHABLE_KEY a {kind} key: "
            f"use the two keys of the same Clerk instance. {WHERE}"
        )
    parties = tuple(p.strip().rstrip("/") for p in values["CLERK_AUTHORIZED_PARTIES"].split(",") if p.strip())
    for party in parties:
        if not _ORIGIN.match(party):
            raise SettingsError(
                f"CLERK_AUTHORIZED_PARTIES must list origins such as https://meet.example.org, separated by "
                f"commas (no paths), got {party!r}. {WHERE}"
            )
    return ClerkSettings(
        publishable_key=publishable,
        secret_key=secret,
        frontend_api=frontend_api,
        jwt_key=_clerk_jwt_key(values["CLERK_JWT_KEY"]) if values["CLERK_JWT_KEY"] else None,
        api_url=_url(env, "CLERK_API_URL") or CLERK_API_URL,
        authorized_parties=parties,
        js_url=_url(env, "CLERK_JS_URL"),
        session_ttl_seconds=_int(env, "CLERK_SESSION_TTL_SECONDS", 300, minimum=60, maximum=3600),
    )


def _redis_url(env: Mapping[str, str]) -> str | None:
    url = env.get("REFLEX_REDIS_URL", "").strip()
    if not url:
        return None
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(
            f"REFLEX_REDIS_URL must be a Redis URL such as redis://localhost:6379/0 (or rediss://, unix://). {WHERE}"
        )
    return url


def _check_workers(env: Mapping[str, str], redis_url: str | None, local_secret_set: bool) -> None:
    """GRANIAN_WORKERS (Reflex's: with Redis and none set, it starts 2 × cores + 1). More than one process
    needs Redis — the hub's rosters and Reflex's state otherwise live in one process's memory — and every
    process signing the same embedded video tokens needs one shared secret, not each its own file."""
    workers = _int(env, "GRANIAN_WORKERS", 1, maximum=256)
    if workers > 1 and redis_url is None:
        raise SettingsError(
            f"GRANIAN_WORKERS={workers} needs REFLEX_REDIS_URL: meetings' signaling and Reflex's state live in one "
            f"process's memory without Redis. Set REFLEX_REDIS_URL=redis://… or GRANIAN_WORKERS=1. {WHERE}"
        )
    if redis_url is not None and not local_secret_set:
        raise SettingsError(
            "REFLEX_REDIS_URL is set, so Yoom may run as several processes or hosts, which must sign meeting "
            "tokens with one secret: set YOOM_LOCAL_VIDEO_SECRET (at least 32 characters, the same everywhere, "
            f"e.g. from `openssl rand -base64 48`). {WHERE}"
        )


def load_settings(env: Mapping[str, str]) -> Settings:
    data_dir = Path(env.get("YOOM_DATA_DIR", "").strip() or PROJECT_ROOT / "data")
    if not data_dir.is_absolute():
        data_dir = PROJECT_ROOT / data_dir
    database_url = _database_url(env, data_dir)
    for name, replacement in RETIRED.items():
        if env.get(name, "").strip():
            raise SettingsError(f"{name} is no longer used: {replacement}. {WHERE}")

    key = env.get("STREAM_API_KEY", "").strip() or None
    secret = env.get("STREAM_API_SECRET", "").strip() or None
    provider = env.get("VIDEO_PROVIDER", "").strip().lower()
    if provider not in ("", "stream", "local"):
        raise SettingsError(f"VIDEO_PROVIDER must be 'stream' or 'local', got {provider!r}. {WHERE}")
    if provider != "local":
        # Half a pair of keys is a mistake, not a wish for the built-in video (VIDEO_PROVIDER=local says that).
        for name, value, other in (("STREAM_API_KEY", key, secret), ("STREAM_API_SECRET", secret, key)):
            if not value and (other or provider == "stream"):
                raise SettingsError(
                    f"{name} is not set, but {'VIDEO_PROVIDER is stream' if provider == 'stream' else 'the other Stream key is'}. "
                    f"{WHERE} Find both keys in your Stream dashboard, or set VIDEO_PROVIDER=local to use the built-in video."
                )
    provider = provider or ("stream" if key and secret else "local")
    turn_urls, turn_secret, ice_servers = _turn(env, _ice_servers(env))
    redis_url = _redis_url(env)
    _check_workers(env, redis_url, bool(env.get("YOOM_LOCAL_VIDEO_SECRET", "").strip()))

    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        public_url=_url(env, "YOOM_PUBLIC_URL"),
        session_ttl_seconds=_int(env, "YOOM_SESSION_TTL_HOURS", 24 * 7, maximum=24 * 366) * 3600,
        login_max_failures=_int(env, "YOOM_LOGIN_MAX_FAILURES", 5, maximum=1000),
        login_max_delay_seconds=_int(env, "YOOM_LOGIN_MAX_DELAY_SECONDS", 8, maximum=3600),
        signups_per_hour=_int(env, "YOOM_SIGNUPS_PER_HOUR", 10, maximum=100_000),
        trusted_proxy_hops=_int(env, "YOOM_TRUSTED_PROXY_HOPS", 0, minimum=0, maximum=10),
        video_provider=provider,
        stream_api_key=key,
        stream_api_secret=secret,
        stream_base_url=_url(env, "STREAM_BASE_URL"),
        stream_client_base_url=_url(env, "STREAM_CLIENT_BASE_URL"),
        stream_timeout_seconds=_float(env, "STREAM_TIMEOUT_SECONDS", 6.0),
        stream_max_retries=_int(env, "STREAM_MAX_RETRIES", 2, minimum=0, maximum=10),
        video_token_ttl_seconds=_int(env, "VIDEO_TOKEN_TTL_SECONDS", 3600, minimum=60, maximum=7 * 86400),
        local_video_secret=_local_secret(env, data_dir),
        ice_servers=ice_servers,
        turn_urls=turn_urls,
        turn_secret=turn_secret,
        ice_transport_policy=_ice_transport_policy(env, ice_servers, turn_urls),
        room_capacity=_int(env, "YOOM_ROOM_CAPACITY", 6, minimum=2, maximum=16),
        recording_max_bytes=_int(env, "YOOM_RECORDING_MAX_MB", 500, maximum=10_000) * 1024 * 1024,
        clerk=_clerk(env),
        recording_quota_bytes=_int(env, "YOOM_RECORDING_QUOTA_MB", 2000, maximum=10_000_000) * 1024 * 1024,
        recording_idle_seconds=_int(env, "YOOM_RECORDING_IDLE_SECONDS", 60, minimum=2, maximum=86_400),
        redis_url=redis_url,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (`.env` first, the real environment wins)."""
    from dotenv import dotenv_values

    env = {k: v for k, v in dotenv_values(PROJECT_ROOT / ".env").items() if v is not None}
    env.update(os.environ)
    return load_settings(env)
