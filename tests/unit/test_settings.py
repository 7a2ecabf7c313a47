import base64
import subprocess
import sys
from pathlib import Path

import pytest

from yoom.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_run_the_embedded_provider_on_sqlite(tmp_path):
    s = load_settings({"YOOM_DATA_DIR": str(tmp_path)})
    assert s.video_provider == "local"
    assert s.database_url == f"sqlite:///{tmp_path / 'yoom.db'}"
    assert s.session_ttl_seconds == 7 * 24 * 3600
    assert s.video_token_ttl_seconds == 3600
    assert s.room_capacity == 6
    assert s.public_url is None


def test_stream_is_chosen_when_both_keys_are_set(tmp_path):
    s = load_settings({"YOOM_DATA_DIR": str(tmp_path), "STREAM_API_KEY": "k", "STREAM_API_SECRET": "s"})
    assert s.video_provider == "stream"


@pytest.mark.parametrize(
    "given,missing", [("STREAM_API_KEY", "STREAM_API_SECRET"), ("STREAM_API_SECRET", "STREAM_API_KEY")]
)
def test_half_a_pair_of_stream_keys_is_refused_unless_local_is_chosen(tmp_path, given, missing):
    with pytest.raises(SettingsError) as err:
        load_settings({"YOOM_DATA_DIR": str(tmp_path), given: "k"})
    assert f"{missing} is not set" in str(err.value) and "VIDEO_PROVIDER=local" in str(err.value)
    chosen = load_settings({"YOOM_DATA_DIR": str(tmp_path), given: "k", "VIDEO_PROVIDER": "local"})
    assert chosen.video_provider == "local"


def test_reflex_db_url_is_honoured_or_refused_when_it_disagrees(tmp_path):
    base = {"YOOM_DATA_DIR": str(tmp_path)}
    assert load_settings({**base, "REFLEX_DB_URL": "sqlite:////tmp/r.db"}).database_url == "sqlite:////tmp/r.db"
    same = {**base, "REFLEX_DB_URL": "sqlite:////tmp/r.db", "DATABASE_URL": "sqlite:////tmp/r.db"}
    assert load_settings(same).database_url == "sqlite:////tmp/r.db"
    with pytest.raises(SettingsError, match="DATABASE_URL and REFLEX_DB_URL name different databases"):
        load_settings({**base, "REFLEX_DB_URL": "sqlite:////tmp/r.db", "DATABASE_URL": "sqlite:////tmp/y.db"})


def test_a_retired_setting_says_what_replaced_it(tmp_path):
    with pytest.raises(
        SettingsError, match=r"YOOM_LOGIN_LOCKOUT_SECONDS is no longer used.*YOOM_LOGIN_MAX_DELAY_SECONDS"
    ):
        load_settings({"YOOM_DATA_DIR": str(tmp_path), "YOOM_LOGIN_LOCKOUT_SECONDS": "300"})


def test_allowed_origins_are_the_public_address_else_the_dev_frontend(tmp_path):
    base = {"YOOM_DATA_DIR": str(tmp_path)}
    assert load_settings(base).allowed_origins == ["http://localhost:3000", "http://127.0.0.1:3000"]
    public = load_settings({**base, "YOOM_PUBLIC_URL": "https://meet.example.org/yoom/"})
    assert public.allowed_origins == ["https://meet.example.org"]


@pytest.mark.parametrize("missing", ["STREAM_API_KEY", "STREAM_API_SECRET"])
def test_stream_chosen_but_a_key_missing_names_it(tmp_path, missing):
    env = {"YOOM_DATA_DIR": str(tmp_path), "VIDEO_PROVIDER": "stream", "STREAM_API_KEY": "k", "STREAM_API_SECRET": "s"}
    env[missing] = ""
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert missing in str(err.value)
    assert ".env" in str(err.value)


@pytest.mark.parametrize(
    "name,value",
    [
        ("VIDEO_PROVIDER", "zoom"),
        ("YOOM_SESSION_TTL_HOURS", "seven"),
        ("YOOM_SESSION_TTL_HOURS", "0"),
        ("STREAM_TIMEOUT_SECONDS", "fast"),
        ("YOOM_PUBLIC_URL", "meet.example.org"),
        ("YOOM_ICE_SERVERS", "stun:example"),
        ("YOOM_ICE_SERVERS", '[{"url": "stun:x"}]'),
        ("YOOM_ROOM_CAPACITY", "100"),
        ("DATABASE_URL", "yoom.db"),
        ("YOOM_LOCAL_VIDEO_SECRET", "short"),
    ],
)
def test_malformed_values_name_the_variable(tmp_path, name, value):
    with pytest.raises(SettingsError) as err:
        load_settings({"YOOM_DATA_DIR": str(tmp_path), name: value})
    assert name in str(err.value)
    assert "Set it in .env" in str(err.value)


def test_local_secret_is_generated_once_and_kept(tmp_path):
    first = load_settings({"YOOM_DATA_DIR": str(tmp_path)}).local_video_secret
    second = load_settings({"YOOM_DATA_DIR": str(tmp_path)}).local_video_secret
    assert first == second and len(first) >= 32
    assert (tmp_path / "local_video_secret").stat().st_mode & 0o777 == 0o600
    configured = "x" * 40
    assert (
        load_settings({"YOOM_DATA_DIR": str(tmp_path), "YOOM_LOCAL_VIDEO_SECRET": configured}).local_video_secret
        == configured
    )


def test_ice_servers_parse():
    s = load_settings(
        {"YOOM_ICE_SERVERS": '[{"urls": "stun:stun.example.org:3478"}]', "YOOM_DATA_DIR": "/tmp/yoom-ice"}
    )
    assert s.ice_servers == [{"urls": "stun:stun.example.org:3478"}]


def test_app_start_stops_with_the_variables_name(tmp_path):
    """rxconfig.py (read by every `reflex` command) exits with a clear message, not a traceback."""
    env = {"PATH": "/usr/bin:/bin", "YOOM_DATA_DIR": str(tmp_path), "VIDEO_PROVIDER": "stream", "STREAM_API_KEY": "k"}
    result = subprocess.run(
        [sys.executable, "-c", "import rxconfig"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "STREAM_API_SECRET" in result.stderr and "Traceback" not in result.stderr


# ---- several workers and hosts ---------------------------------------------------------------

SECRET = "s" * 40


def test_one_process_needs_no_redis_and_redis_is_taken_when_set(tmp_path):
    assert load_settings({"YOOM_DATA_DIR": str(tmp_path)}).redis_url is None
    s = load_settings(
        {"YOOM_DATA_DIR": str(tmp_path), "REFLEX_REDIS_URL": "redis://cache:6379/0", "YOOM_LOCAL_VIDEO_SECRET": SECRET}
    )
    assert s.redis_url == "redis://cache:6379/0"
    assert "cache" not in repr(s)  # a URL may carry a password


@pytest.mark.parametrize("provider", ["local", "stream"])
def test_more_than_one_worker_without_redis_is_refused_with_what_to_set(tmp_path, provider):
    env = {"YOOM_DATA_DIR": str(tmp_path), "GRANIAN_WORKERS": "3", "VIDEO_PROVIDER": provider}
    env |= {"STREAM_API_KEY": "k", "STREAM_API_SECRET": "s"} if provider == "stream" else {}
    with pytest.raises(SettingsError, match=r"GRANIAN_WORKERS=3 needs REFLEX_REDIS_URL.*GRANIAN_WORKERS=1"):
        load_settings(env)
    assert load_settings({**env, "GRANIAN_WORKERS": "1"}).redis_url is None
    assert load_settings({**env, "REFLEX_REDIS_URL": "redis://r/0", "YOOM_LOCAL_VIDEO_SECRET": SECRET}).redis_url


def test_redis_without_a_shared_local_video_secret_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="set YOOM_LOCAL_VIDEO_SECRET"):
        load_settings({"YOOM_DATA_DIR": str(tmp_path), "REFLEX_REDIS_URL": "redis://r:6379/0"})


@pytest.mark.parametrize("url", ["http://r:6379", "r:6379", "postgresql://x/y"])
def test_a_redis_url_that_is_not_one_is_refused(tmp_path, url):
    with pytest.raises(SettingsError, match="REFLEX_REDIS_URL must be a Redis URL"):
        load_settings({"YOOM_DATA_DIR": str(tmp_path), "REFLEX_REDIS_URL": url, "YOOM_LOCAL_VIDEO_SECRET": SECRET})


def test_get_hub_uses_redis_when_it_is_set(monkeypatch, tmp_path):
    from yoom import settings as settings_module
    from yoom.rtc import hub as hub_module
    from yoom.rtc.redis_backplane import RedisBackplane

    monkeypatch.setattr(
        settings_module,
        "get_settings",
        lambda: load_settings(
            {"YOOM_DATA_DIR": str(tmp_path), "REFLEX_REDIS_URL": "redis://r:6379/0", "YOOM_LOCAL_VIDEO_SECRET": SECRET}
        ),
    )
    hub_module.set_hub(None)
    try:
        plane = hub_module.get_hub().backplane
        assert isinstance(plane, RedisBackplane) and plane.url == "redis://r:6379/0"
    finally:
        hub_module.set_hub(None)


# ---- Clerk -------------------------------------------------------------------------------------

PK = "pk_test_" + base64.b64encode(b"clerk.example.com$").decode().rstrip("=")
SK = "sk_test_abc123DEF456"


def _rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_local_accounts_are_the_default_and_clerk_is_off(tmp_path):
    s = load_settings({"YOOM_DATA_DIR": str(tmp_path)})
    assert s.clerk is None and not s.clerk_enabled


def test_both_clerk_keys_switch_sign_in_to_clerk(tmp_path):
    s = load_settings({"YOOM_DATA_DIR": str(tmp_path), "CLERK_PUBLISHABLE_KEY": PK, "CLERK_SECRET_KEY": SK})
    assert s.clerk_enabled
    assert s.clerk.frontend_api == "clerk.example.com" and s.clerk.issuer == "https://clerk.example.com"
    assert s.clerk.api_url == "https://api.clerk.com" and s.clerk.jwt_key is None and s.clerk.js_url is None
    assert s.clerk.authorized_parties == () and s.clerk.session_ttl_seconds == 300
    assert s.clerk.refresh_seconds == 100


def test_clerk_options_parse(tmp_path):
    pem = _rsa_pem()
    s = load_settings(
        {
            "YOOM_DATA_DIR": str(tmp_path),
            "CLERK_PUBLISHABLE_KEY": PK,
            "CLERK_SECRET_KEY": SK,
            # A .env line holds the PEM with literal \n.
            "CLERK_JWT_KEY": pem.strip().replace("\n", "\\n"),
            "CLERK_AUTHORIZED_PARTIES": " https://meet.example.org, http://localhost:3000/ ",
            "CLERK_API_URL": "http://127.0.0.1:9/",
            "CLERK_SESSION_TTL_SECONDS": "120",
        }
    )
    assert s.clerk.jwt_key == pem.strip()
    assert s.clerk.authorized_parties == ("https://meet.example.org", "http://localhost:3000")
    assert s.clerk.api_url == "http://127.0.0.1:9" and s.clerk.refresh_seconds == 40


@pytest.mark.parametrize(
    "given,missing",
    [
        ({"CLERK_PUBLISHABLE_KEY": PK}, "CLERK_SECRET_KEY"),
        ({"CLERK_SECRET_KEY": SK}, "CLERK_PUBLISHABLE_KEY"),
        ({"CLERK_AUTHORIZED_PARTIES": "https://meet.example.org"}, "CLERK_PUBLISHABLE_KEY"),
        ({"CLERK_JWT_KEY": "-----BEGIN PUBLIC KEY-----", "CLERK_SECRET_KEY": SK}, "CLERK_PUBLISHABLE_KEY"),
    ],
)
def test_half_set_clerk_settings_name_the_missing_variable(tmp_path, given, missing):
    with pytest.raises(SettingsError) as err:
        load_settings({"YOOM_DATA_DIR": str(tmp_path), **given})
    assert f"{missing} is not set" in str(err.value) and ".env" in str(err.value)


@pytest.mark.parametrize(
    "name,value,words",
    [
        ("CLERK_PUBLISHABLE_KEY", "pk_prod_abc", "pk_test_ or pk_live_"),
        ("CLERK_PUBLISHABLE_KEY", "pk_test_%%%", "base64"),
        ("CLERK_PUBLISHABLE_KEY", "pk_test_" + base64.b64encode(b"clerk.example.com").decode(), "Frontend API"),
        ("CLERK_SECRET_KEY", "secret", "sk_test_"),
        ("CLERK_SECRET_KEY", "sk_live_abc", "same Clerk instance"),
        ("CLERK_JWT_KEY", "not a key", "PEM public key"),
        ("CLERK_AUTHORIZED_PARTIES", "meet.example.org", "origins"),
        ("CLERK_AUTHORIZED_PARTIES", "https://meet.example.org/app", "origins"),
        ("CLERK_API_URL", "api.clerk.com", "http://"),
        ("CLERK_SESSION_TTL_SECONDS", "5", "between 60 and 3600"),
    ],
)
def test_malformed_clerk_values_name_the_variable(tmp_path, name, value, words):
    env = {"YOOM_DATA_DIR": str(tmp_path), "CLERK_PUBLISHABLE_KEY": PK, "CLERK_SECRET_KEY": SK, name: value}
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert name in str(err.value) and words in str(err.value)


def test_app_start_stops_naming_the_missing_clerk_key(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "YOOM_DATA_DIR": str(tmp_path), "CLERK_PUBLISHABLE_KEY": PK}
    result = subprocess.run(
        [sys.executable, "-c", "import rxconfig"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "CLERK_SECRET_KEY is not set" in result.stderr and "Traceback" not in result.stderr


def test_the_dev_reloader_does_not_watch_the_data_folder():
    """`reflex run` restarts the backend on file changes: the database's -wal file and recordings must not count."""
    probe = (  # sys.path as the `reflex` command has it: the project's absolute path, not ''
        "import os, sys; sys.path[0] = os.getcwd(); "
        "import rxconfig; from reflex.utils.exec import get_reload_paths; "
        "print('\\n'.join(str(p) for p in get_reload_paths()))"
    )
    env = {"PATH": "/usr/bin:/bin", "VIDEO_PROVIDER": "local"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    watched = {Path(line) for line in result.stdout.splitlines()}
    assert ROOT / "yoom" in watched  # the app's code still reloads
    assert ROOT / "data" not in watched
