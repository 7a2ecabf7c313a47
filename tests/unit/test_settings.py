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
