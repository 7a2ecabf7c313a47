from datetime import timedelta

import pytest
from sqlmodel import select

from yoom import accounts
from yoom.db import session_scope, to_db, utcnow
from yoom.models import AuthSession, LoginThrottle, User


def test_sign_up_hashes_the_password_and_signs_in(yoom_env):
    signed = accounts.sign_up("  Ada   Lovelace ", "Ada", "analytical engine")
    assert signed.user.display_name == "Ada Lovelace"
    assert signed.user.username == "ada"
    with session_scope() as db:
        user = db.exec(select(User).where(User.username == "ada")).one()
        assert user.password_hash.startswith("$2b$") and "analytical" not in user.password_hash
    assert accounts.user_for_session(signed.session_token).id == signed.user.id


def test_session_tokens_are_server_made_256_bit_and_stored_hashed(yoom_env):
    a = accounts.sign_up("A", "alice", "password one").session_token
    b = accounts.sign_in("alice", "password one").session_token
    assert a != b
    assert len(a) >= 43  # 32 random bytes, url-safe base64
    with session_scope() as db:
        stored = [row.token_hash for row in db.exec(select(AuthSession)).all()]
    assert a not in stored and b not in stored and len(stored) == 2


@pytest.mark.parametrize(
    "name,username,password,message",
    [
        ("", "bob", "long enough", "Enter your name"),
        ("x" * 81, "bob", "long enough", "at most 80"),
        ("Bob", "b", "long enough", "3 to 254"),
        ("Bob", "bob smith", "long enough", "A username uses"),
        ("Bob", "bob@nowhere", "long enough", "email address"),
        ("Bob", "bob", "short", "at least 8"),
        ("Bob", "bob", "é" * 40, "at most 72 bytes"),
    ],
)
def test_sign_up_validation_messages(yoom_env, name, username, password, message):
    with pytest.raises(accounts.AccountError) as err:
        accounts.sign_up(name, username, password)
    assert message in str(err.value)
    with session_scope() as db:
        assert db.exec(select(User)).all() == []


def test_duplicate_username_is_refused_case_insensitively(yoom_env):
    accounts.sign_up("Ada", "ada", "password one")
    with pytest.raises(accounts.AccountError, match="is taken"):
        accounts.sign_up("Other Ada", "ADA", "password two")


def test_wrong_password_and_unknown_user_read_the_same(yoom_env):
    accounts.sign_up("Ada", "ada", "password one")
    with pytest.raises(accounts.AccountError) as wrong:
        accounts.sign_in("ada", "password two")
    with pytest.raises(accounts.AccountError) as unknown:
        accounts.sign_in("nobody", "password two")
    assert str(wrong.value) == str(unknown.value) == "Wrong username or password."


def test_sign_out_revokes_the_session(yoom_env):
    token = accounts.sign_up("Ada", "ada", "password one").session_token
    accounts.sign_out(token)
    assert accounts.user_for_session(token) is None
    assert accounts.user_for_session("made-up") is None
    assert accounts.user_for_session(None) is None


def test_expired_sessions_stop_working_and_are_purged(yoom_env):
    token = accounts.sign_up("Ada", "ada", "password one").session_token
    live = accounts.sign_in("ada", "password one").session_token
    with session_scope() as db:
        for row in db.exec(select(AuthSession)).all():
            if row.token_hash == accounts._hash_token(token):
                row.expires_at = to_db(utcnow() - timedelta(seconds=1))
                db.add(row)
    assert accounts.user_for_session(token) is None
    assert accounts.user_for_session(live) is not None
    with session_scope() as db:
        row = db.get(AuthSession, accounts._hash_token(live))
        row.expires_at = to_db(utcnow() - timedelta(hours=1))
    assert accounts.purge_expired() == 1
    with session_scope() as db:
        assert db.exec(select(AuthSession)).all() == []


def test_session_lifetime_is_configurable(yoom_env, monkeypatch):
    import yoom.settings

    monkeypatch.setenv("YOOM_SESSION_TTL_HOURS", "2")
    yoom.settings.get_settings.cache_clear()
    token = accounts.sign_up("Ada", "ada", "password one").session_token
    with session_scope() as db:
        row = db.get(AuthSession, accounts._hash_token(token))
        lifetime = row.expires_at - row.created_at
    assert timedelta(hours=2) - timedelta(seconds=5) < lifetime <= timedelta(hours=2)


def test_failed_sign_ins_lock_the_account(yoom_env):
    accounts.sign_up("Ada", "ada", "password one")
    for _ in range(5):
        with pytest.raises(accounts.AccountError, match="Wrong username"):
            accounts.sign_in("ada", "nope nope", client="10.0.0.1")
    # Locked now, even with the right password, and from another client.
    with pytest.raises(accounts.TooManyAttempts, match=r"Too many failed sign-ins\. Try again in 5 minutes"):
        accounts.sign_in("ada", "password one", client="10.0.0.2")


def test_lock_expires_and_success_clears_the_count(yoom_env):
    accounts.sign_up("Ada", "ada", "password one")
    for _ in range(5):
        with pytest.raises(accounts.AccountError):
            accounts.sign_in("ada", "nope nope")
    with session_scope() as db:
        row = db.get(LoginThrottle, "account:ada")
        row.locked_until = to_db(utcnow() - timedelta(seconds=1))
        row.window_started_at = to_db(utcnow() - timedelta(hours=1))
    assert accounts.sign_in("ada", "password one").user.username == "ada"
    with session_scope() as db:
        assert db.get(LoginThrottle, "account:ada") is None


def test_one_client_trying_many_accounts_is_throttled(yoom_env):
    for i in range(20):
        with pytest.raises(accounts.AccountError):
            accounts.sign_in(f"someone{i}", "guessing", client="203.0.113.9")
    with pytest.raises(accounts.TooManyAttempts):
        accounts.sign_in("someone-new", "guessing", client="203.0.113.9")
    # Another client is not affected.
    with pytest.raises(accounts.AccountError, match="Wrong username"):
        accounts.sign_in("someone-new", "guessing", client="198.51.100.1")


def test_external_identity_provider_maps_onto_the_same_user(yoom_env):
    first = accounts.upsert_external_user(
        "clerk", "user_2abc", "Ada L", "https://img.example/ada.png", "ada@example.org"
    )
    second = accounts.upsert_external_user("clerk", "user_2abc", "Ada Lovelace", None, "ada@example.org")
    assert first.user.id == second.user.id == "clerk_user_2abc"
    assert accounts.user_for_session(second.session_token).display_name == "Ada Lovelace"
    # An external account has no password: it can't be signed into with one.
    with pytest.raises(accounts.AccountError):
        accounts.sign_in("ada@example.org", "")


def test_video_user_is_the_same_person():
    user = User(id="u1", username="ada", display_name="Ada Lovelace", image_url=None, created_at=utcnow())
    vu = accounts.video_user(user)
    assert (vu.id, vu.name, vu.image) == ("u1", "Ada Lovelace", None)
    assert accounts.initials("Ada King Lovelace") == "AL"
    assert accounts.initials("") == "?"


def test_users_by_username_finds_accounts_in_one_lookup(yoom_env):
    ada = accounts.sign_up("Ada", "ada", "analytical engine").user
    grace = accounts.sign_up("Grace", "grace@navy.mil", "compiler a-0").user
    found = accounts.users_by_username([" ADA ", "grace@navy.mil", "ghost", "", None, "x" * 300, "ada"])
    assert {name: user.id for name, user in found.items()} == {"ada": ada.id, "grace@navy.mil": grace.id}
    assert accounts.users_by_username([]) == {}
