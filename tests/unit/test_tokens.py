"""Video tokens: Stream's claims, HS256, minted by yoom.video.tokens and StreamProvider (no I/O)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from getstream import Stream

from yoom.settings import load_settings
from yoom.video import tokens
from yoom.video.base import InvalidRequest
from yoom.video.stream_provider import StreamProvider

SECRET = "unit-test-stream-secret-0123456789abcdef"
KEY = "unit-test-key"


@pytest.fixture
def provider():
    return StreamProvider(KEY, SECRET, base_url="http://127.0.0.1:9", token_ttl_seconds=3600)


def decode(token: str, secret: str = SECRET) -> dict:
    return jwt.decode(token, secret, algorithms=["HS256"])


def test_mint_writes_exactly_streams_claims():
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    token, expires_at = tokens.mint(SECRET, "ada", 3600, now=now)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256" and header["typ"] == "JWT"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})
    assert claims == {
        "user_id": "ada",
        "iat": int(now.timestamp()) - 60,
        "exp": int(now.timestamp()) + 3600,
    }
    assert expires_at == now + timedelta(seconds=3600)


def test_mint_adds_call_cids_only_when_given():
    token, _ = tokens.mint(SECRET, "guest-1", 600, call_cids=["default:abc", "default:def"])
    assert decode(token)["call_cids"] == ["default:abc", "default:def"]
    plain, _ = tokens.mint(SECRET, "ada", 600)
    assert "call_cids" not in decode(plain)


@pytest.mark.parametrize("user_id, ttl", [("", 60), (None, 60), ("ada", 0), ("ada", -5)])
def test_mint_refuses_bad_input(user_id, ttl):
    with pytest.raises(ValueError):
        tokens.mint(SECRET, user_id, ttl)


def test_verify_checks_signature_expiry_and_user():
    token, _ = tokens.mint(SECRET, "ada", 60)
    assert tokens.verify(SECRET, token)["user_id"] == "ada"
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify("another-secret-another-secret-another", token)
    head, body, sig = token.split(".")
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(SECRET, f"{head}.{body}.{sig[:-2]}xx")
    expired, _ = tokens.mint(SECRET, "ada", 60, now=datetime.now(UTC) - timedelta(hours=2))
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(SECRET, expired)
    no_user = jwt.encode({"iat": int(time.time()), "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(SECRET, no_user)
    none_alg = jwt.encode({"user_id": "ada", "iat": 1, "exp": int(time.time()) + 60}, None, algorithm="none")
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(SECRET, none_alg)


def test_provider_user_token(provider):
    before = int(time.time())
    minted = provider.mint_user_token("ada")
    after = int(time.time())
    claims = decode(minted.token)
    assert set(claims) == {"user_id", "iat", "exp"}
    assert claims["user_id"] == "ada"
    assert before + 3600 <= claims["exp"] <= after + 3600
    assert before - 60 <= claims["iat"] <= after - 60
    assert minted.user_id == "ada" and minted.api_key == KEY and minted.call_cids == ()
    assert int(minted.expires_at.timestamp()) == claims["exp"]
    assert minted.expires_at.tzinfo is not None
    short = decode(provider.mint_user_token("ada", ttl_seconds=120).token)
    assert 118 <= short["exp"] - int(time.time()) <= 120


def test_provider_token_matches_getstreams_own(provider):
    ours = decode(provider.mint_user_token("ada").token)
    sdk = Stream(api_key=KEY, api_secret=SECRET, base_url="http://127.0.0.1:9")
    try:
        theirs = decode(sdk.create_token("ada", expiration=3600))
        # Yoom's verifier accepts the SDK's token for the same user.
        assert tokens.verify(SECRET, sdk.create_token("ada", expiration=60))["user_id"] == "ada"
    finally:
        sdk.close()
    assert theirs["user_id"] == ours["user_id"] == "ada"
    assert abs(theirs["exp"] - ours["exp"]) <= 2


def test_provider_guest_token_is_limited_to_calls(provider):
    minted = provider.mint_guest_token("guest-7", ["default:abc", "default:abc", "default:xyz"], ttl_seconds=300)
    claims = decode(minted.token)
    assert claims["user_id"] == "guest-7"
    assert claims["call_cids"] == ["default:abc", "default:xyz"]
    assert minted.call_cids == ("default:abc", "default:xyz")
    assert 295 <= claims["exp"] - int(time.time()) <= 300


@pytest.mark.parametrize("cids", [[], "default:abc", ["abc"], ["default:a b"], ["default:abc", 7]])
def test_provider_guest_token_refuses_bad_calls(provider, cids):
    with pytest.raises(InvalidRequest):
        provider.mint_guest_token("guest-7", cids)


@pytest.mark.parametrize("user_id", ["", "has space", "a/b", None, "x" * 256])
def test_provider_refuses_bad_user_ids(provider, user_id):
    with pytest.raises(InvalidRequest):
        provider.mint_user_token(user_id)


def test_default_ttl_comes_from_settings(tmp_path):
    settings = load_settings(
        {
            "YOOM_DATA_DIR": str(tmp_path),
            "VIDEO_PROVIDER": "stream",
            "STREAM_API_KEY": KEY,
            "STREAM_API_SECRET": SECRET,
            "VIDEO_TOKEN_TTL_SECONDS": "600",
        }
    )
    claims = decode(StreamProvider.from_settings(settings).mint_user_token("ada").token)
    assert 598 <= claims["exp"] - int(time.time()) <= 600
    default = load_settings({"YOOM_DATA_DIR": str(tmp_path), "STREAM_API_KEY": KEY, "STREAM_API_SECRET": SECRET})
    claims = decode(StreamProvider.from_settings(default).mint_user_token("ada").token)
    assert 3598 <= claims["exp"] - int(time.time()) <= 3600  # one hour by default
