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
    only_key = load_settings({"YOOM_DATA_DIR": str(tmp_path), "STREAM_API_KEY": "k"})
    assert only_key.video_provider == "local"


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
