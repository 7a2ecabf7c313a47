"""Short-lived TURN credentials (yoom/video/turn.py) and the settings that turn them on."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from yoom.settings import SettingsError, load_settings
from yoom.video.turn import ice_servers, turn_credentials, without_turn

SECRET = "north-wind-turn-secret"
URLS = "turn:127.0.0.1:3478?transport=udp,turns:turn.example.org:5349"


def test_known_answer_matches_coturns_rest_scheme():
    # Computed independently: printf '1700000000:user_2abc' | openssl dgst -sha1 -hmac "$SECRET" -binary | base64
    creds = turn_credentials(SECRET, "user_2abc", 1700000000)
    assert creds.username == "1700000000:user_2abc"
    assert creds.credential == "jdLGX1+9Zm4wiCuPshrO34fvOmw="
    assert creds.expires_at == 1700000000


def test_the_username_carries_the_expiry_and_the_user_and_the_password_changes_with_them():
    a = turn_credentials(SECRET, "user-a", 1700000000)
    later = turn_credentials(SECRET, "user-a", 1700003600)
    other = turn_credentials(SECRET, "user-b", 1700000000)
    assert later.username.split(":") == ["1700003600", "user-a"]
    assert other.username.endswith(":user-b")
    assert len({a.credential, later.credential, other.credential}) == 3
    # A TURN server holding the same secret recomputes the same password from the username alone.
    expected = base64.b64encode(hmac.new(SECRET.encode(), a.username.encode(), hashlib.sha1).digest()).decode()
    assert a.credential == expected
    # A float expiry (datetime.timestamp()) becomes whole seconds.
    assert turn_credentials(SECRET, "user-a", 1700000000.9).username == "1700000000:user-a"


@pytest.mark.parametrize("secret,user_id", [("", "u"), (SECRET, ""), (SECRET, "a:b")])
def test_missing_secret_or_unusable_user_id_is_refused(secret, user_id):
    with pytest.raises(ValueError):
        turn_credentials(secret, user_id, 1700000000)


def test_ice_servers_add_this_users_turn_entry_after_the_static_ones_and_never_the_secret():
    static = [{"urls": "stun:stun.example.org:3478"}]
    servers = ice_servers(static, ("turn:127.0.0.1:3478",), SECRET, "user-a", 1700000000)
    assert servers[0] == {"urls": "stun:stun.example.org:3478"}
    assert servers[1] == {
        "urls": ["turn:127.0.0.1:3478"],
        "username": "1700000000:user-a",
        "credential": turn_credentials(SECRET, "user-a", 1700000000).credential,
    }
    assert SECRET not in json.dumps(servers)
    # No secret: the static list as it is.
    assert ice_servers(static, (), None, "user-a", 1700000000) == static


def test_without_turn_keeps_stun_and_drops_static_turn_credentials():
    servers = [
        {"urls": "stun:a.example.org"},
        {"urls": ["stun:b.example.org", "turn:b.example.org"], "username": "u", "credential": "p"},
        {"urls": "turns:c.example.org", "username": "u", "credential": "p"},
    ]
    assert without_turn(servers) == [{"urls": "stun:a.example.org"}, {"urls": "stun:b.example.org"}]


def test_settings_turn_on_short_lived_credentials_and_the_secret_wins_over_static_turn(tmp_path):
    static = [{"urls": "stun:stun.example.org"}, {"urls": "turn:old.example.org", "username": "u", "credential": "p"}]
    s = load_settings(
        {
            "YOOM_DATA_DIR": str(tmp_path),
            "YOOM_TURN_URLS": URLS,
            "YOOM_TURN_SECRET": SECRET,
            "YOOM_ICE_SERVERS": json.dumps(static),
            "YOOM_ICE_TRANSPORT_POLICY": "relay",
        }
    )
    assert s.turn_urls == ("turn:127.0.0.1:3478?transport=udp", "turns:turn.example.org:5349")
    assert s.turn_secret == SECRET
    assert s.ice_servers == [{"urls": "stun:stun.example.org"}]
    assert s.ice_transport_policy == "relay"
    # Unset: nothing changes.
    plain = load_settings({"YOOM_DATA_DIR": str(tmp_path), "YOOM_ICE_SERVERS": json.dumps(static)})
    assert plain.turn_urls == () and plain.turn_secret is None and plain.ice_servers == static
    assert plain.ice_transport_policy == "all"


@pytest.mark.parametrize(
    "env,named",
    [
        ({"YOOM_TURN_URLS": URLS}, "YOOM_TURN_SECRET is not"),
        ({"YOOM_TURN_SECRET": SECRET}, "YOOM_TURN_URLS is not"),
        ({"YOOM_TURN_URLS": "stun:127.0.0.1:3478", "YOOM_TURN_SECRET": SECRET}, "YOOM_TURN_URLS must list"),
        ({"YOOM_TURN_URLS": "turn:u:p@127.0.0.1", "YOOM_TURN_SECRET": SECRET}, "YOOM_TURN_URLS must list"),
        ({"YOOM_TURN_URLS": URLS, "YOOM_TURN_SECRET": "short"}, "YOOM_TURN_SECRET must be"),
        ({"YOOM_ICE_TRANSPORT_POLICY": "public"}, "YOOM_ICE_TRANSPORT_POLICY must be"),
        ({"YOOM_ICE_TRANSPORT_POLICY": "relay"}, "no TURN server is set"),
    ],
)
def test_half_or_malformed_turn_settings_are_refused_naming_the_variable(tmp_path, env, named):
    with pytest.raises(SettingsError) as err:
        load_settings({"YOOM_DATA_DIR": str(tmp_path), **env})
    assert named in str(err.value) and ".env.example" in str(err.value)
    assert SECRET not in str(err.value)
