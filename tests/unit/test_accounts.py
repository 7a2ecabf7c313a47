from datetime import timedelta

import pytest
from sqlmodel import select

from tests.conftest import signed_up
from yoom import accounts
from yoom.db import session_scope, to_db, utcnow
from yoom.models import AuthSession, LoginThrottle, SignInTicket, User


class Clock:
    """accounts' idea of now, moved by hand: delays are tested without sleeping."""

    def __init__(self, monkeypatch):
        self.now = utcnow()
        monkeypatch.setattr(accounts, "utcnow", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def test_sign_up_hashes_the_password(yoom_env):
    user = accounts.sign_up("  Ada   Lovelace ", "Ada", "analytical engine")
    assert user.display_name == "Ada Lovelace"
    assert user.username == "ada"
    with session_scope() as db:
        stored = db.exec(select(User).where(User.username == "ada")).one()
        assert stored.password_hash.startswith("$2b$") and "analytical" not in stored.password_hash
        assert db.exec(select(AuthSession)).all() == []  # a session only comes with the cookie
    assert accounts.sign_in("ADA", "analytical engine").id == user.id


def test_session_tokens_are_server_made_256_bit_and_stored_hashed(yoom_env):
    user = accounts.sign_up("A", "alice", "password one")
    a, b = accounts.create_session(user.id), accounts.create_session(user.id)
    assert a != b
    assert len(a) >= 43  # 32 random bytes, url-safe base64
    with session_scope() as db:
        stored = [row.token_hash for row in db.exec(select(AuthSession)).all()]
    assert a not in stored and b not in stored and len(stored) == 2
    assert accounts.user_for_session(a).id == accounts.user_for_session(b).id == user.id


def test_a_sign_in_ticket_is_spent_once_and_becomes_a_session(yoom_env):
    user = accounts.sign_up("Ada", "ada", "password one")
    ticket = accounts.issue_sign_in_ticket(user.id)
    with session_scope() as db:
        assert [row.ticket_hash for row in db.exec(select(SignInTicket)).all()] == [accounts._hash_token(ticket)]
    signed = accounts.redeem_sign_in_ticket(ticket)
    assert signed.user.id == user.id
    assert accounts.user_for_session(signed.session_token).id == user.id
    assert accounts.redeem_sign_in_ticket(ticket) is None  # spent
    for bad in ("", None, 42, "x" * 500, "made-up"):
        assert accounts.redeem_sign_in_ticket(bad) is None


def test_a_sign_in_ticket_expires_after_a_minute(yoom_env, clock):
    user = accounts.sign_up("Ada", "ada", "password one")
    ticket = accounts.issue_sign_in_ticket(user.id)
    clock.advance(61)
    assert accounts.redeem_sign_in_ticket(ticket) is None
    assert accounts.purge_expired() == 0
    with session_scope() as db:
        assert db.exec(select(SignInTicket)).all() == []


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


def test_sign_ups_are_limited_per_client_address(yoom_env, clock, monkeypatch):
    import yoom.settings

    monkeypatch.setenv("YOOM_SIGNUPS_PER_HOUR", "3")
    yoom.settings.get_settings.cache_clear()
    for i in range(3):
        accounts.sign_up("Bot", f"bot{i}", "password one", client="203.0.113.7")
    with pytest.raises(accounts.TooManyAttempts, match=r"Too many new accounts from your network\. Try again in"):
        accounts.sign_up("Bot", "bot3", "password one", client="203.0.113.7")
    accounts.sign_up("Neighbour", "neighbour", "password one", client="198.51.100.2")  # another address is fine
    clock.advance(3601)
    accounts.sign_up("Bot", "bot4", "password one", client="203.0.113.7")  # the hour has passed
    with session_scope() as db:
        assert {u.username for u in db.exec(select(User)).all()} == {"bot0", "bot1", "bot2", "neighbour", "bot4"}


def test_wrong_password_and_unknown_user_read_the_same(yoom_env):
    accounts.sign_up("Ada", "ada", "password one")
    with pytest.raises(accounts.AccountError) as wrong:
        accounts.sign_in("ada", "password two")
    with pytest.raises(accounts.AccountError) as unknown:
        accounts.sign_in("nobody", "password two")
    assert str(wrong.value) == str(unknown.value) == "Wrong username or password."


def test_sign_out_revokes_the_session(yoom_env):
    token = signed_up("Ada", "ada").session_token
    accounts.sign_out(token)
    assert accounts.user_for_session(token) is None
    assert accounts.user_for_session("made-up") is None
    assert accounts.user_for_session(None) is None


def test_expired_sessions_stop_working_and_are_purged(yoom_env):
    signed = signed_up("Ada", "ada")
    token, live = signed.session_token, accounts.create_session(signed.user.id)
    with session_scope() as db:
        row = db.get(AuthSession, accounts._hash_token(token))
        row.expires_at = to_db(utcnow() - timedelta(seconds=1))
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
    token = signed_up("Ada", "ada").session_token
    with session_scope() as db:
        row = db.get(AuthSession, accounts._hash_token(token))
        lifetime = row.expires_at - row.created_at
    assert timedelta(hours=2) - timedelta(seconds=5) < lifetime <= timedelta(hours=2)


def _fail(username: str, client: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(accounts.AccountError):
            accounts.sign_in(username, "wrong guess", client=client)


def test_an_attack_on_an_account_never_locks_its_owner_out(yoom_env, clock):
    """Many clients guessing one account's password: the owner, with the right password, still gets in
    within YOOM_LOGIN_MAX_DELAY_SECONDS (8 by default) — the attack only slows the guesses."""
    accounts.sign_up("Ada", "ada", "password one")
    for i in range(60):
        clock.advance(9)  # each attacker waits out the account's delay, as a patient botnet would
        _fail("ada", f"10.0.{i // 250}.{i % 250}")
    with session_scope() as db:
        assert db.get(LoginThrottle, "account:ada").failures == 60
    # Straight after a guess the account makes everyone wait, the owner included, but only seconds.
    with pytest.raises(accounts.TooManyAttempts) as waiting:
        accounts.sign_in("ada", "password one", client="192.0.2.50")
    assert str(waiting.value) == "Too many failed sign-ins. Try again in 8 seconds."
    clock.advance(8)
    assert accounts.sign_in("ada", "password one", client="192.0.2.50").username == "ada"


def test_guesses_from_one_client_slow_down_to_minutes(yoom_env, clock):
    accounts.sign_up("Ada", "ada", "password one")
    _fail("ada", "203.0.113.9", times=3)
    waits = []
    for _ in range(6):
        with pytest.raises(accounts.TooManyAttempts) as refused:
            accounts.sign_in("ada", "wrong guess", client="203.0.113.9")  # refused before bcrypt: not counted
        waits.append(str(refused.value).removeprefix("Too many failed sign-ins. Try again in "))
        clock.advance(900)
        _fail("ada", "203.0.113.9")
    # The pair (account, client) doubles: 2 s, 4 s … up to 15 minutes (the account's own delay is at most 8 s).
    assert waits == ["2 seconds.", "4 seconds.", "8 seconds.", "16 seconds.", "32 seconds.", "2 minutes."]
    # Another person signing in to the same account from elsewhere waits at most the account's delay.
    clock.advance(8)
    assert accounts.sign_in("ada", "password one", client="192.0.2.1").username == "ada"


def test_success_clears_the_account_and_pair_counts_but_not_the_clients(yoom_env, clock):
    accounts.sign_up("Ada", "ada", "password one")
    _fail("ada", "198.51.100.4", times=2)
    assert accounts.sign_in("ada", "password one", client="198.51.100.4").username == "ada"
    with session_scope() as db:
        assert db.get(LoginThrottle, "account:ada") is None
        assert db.get(LoginThrottle, "pair:ada|198.51.100.4") is None
        assert db.get(LoginThrottle, "client:198.51.100.4").failures == 2


def test_one_client_trying_many_accounts_is_slowed(yoom_env, clock):
    for i in range(20):
        _fail(f"someone{i}", "203.0.113.9")
    with pytest.raises(accounts.TooManyAttempts, match="Try again in 1 second"):
        accounts.sign_in("someone-new", "guessing", client="203.0.113.9")
    # Another client is not affected.
    with pytest.raises(accounts.AccountError, match="Wrong username"):
        accounts.sign_in("someone-new", "guessing", client="198.51.100.1")
    clock.advance(1)
    _fail("someone-new", "203.0.113.9")  # the delay passed: a guess again, and the next delay doubles


def test_failures_are_forgotten_after_a_quiet_quarter_hour(yoom_env, clock):
    accounts.sign_up("Ada", "ada", "password one")
    _fail("ada", "203.0.113.9", times=4)
    clock.advance(16 * 60)
    _fail("ada", "203.0.113.9")
    with session_scope() as db:
        assert db.get(LoginThrottle, "pair:ada|203.0.113.9").failures == 1
    clock.advance(3 * 3600)
    assert accounts.purge_expired() == 0
    with session_scope() as db:
        assert db.exec(select(LoginThrottle)).all() == []


CLERK_ID = "user_2NNEqL2nrIRdJ194ndJqAHwEfxC"


@pytest.fixture
def clerk_mode(yoom_env, monkeypatch):
    """Settings with Clerk on (yoom_env's database): only Clerk's users are signed in."""
    import yoom.settings
    from tests.fakeclerk import publishable_key

    monkeypatch.setenv("CLERK_PUBLISHABLE_KEY", publishable_key())
    monkeypatch.setenv("CLERK_SECRET_KEY", "sk_test_unit")
    yoom.settings.get_settings.cache_clear()
    return yoom_env


def test_a_clerk_user_keeps_the_clerk_id_and_its_username_as_name(clerk_mode):
    user = accounts.upsert_external_user(
        "clerk", CLERK_ID, username="ada", email="ada@example.org", image_url="https://img.clerk.com/ada.png"
    )
    assert (user.id, user.username, user.display_name) == (CLERK_ID, "ada", "ada")
    assert (user.image_url, user.identity_provider, user.password_hash) == (
        "https://img.clerk.com/ada.png",
        "clerk",
        "",
    )
    vu = accounts.video_user(user)
    assert (vu.id, vu.name, vu.image) == (CLERK_ID, "ada", "https://img.clerk.com/ada.png")
    # The same person again: the same row, the new picture.
    again = accounts.upsert_external_user("clerk", CLERK_ID, username="ada", image_url=None)
    assert again.id == CLERK_ID and again.image_url is None
    with session_scope() as db:
        assert len(db.exec(select(User)).all()) == 1
    # An external account has no password: it can't be signed into with one.
    with pytest.raises(accounts.AccountError):
        accounts.sign_in("ada", "")


def test_a_clerk_user_without_username_is_named_by_id_not_a_type_error(clerk_mode):
    user = accounts.upsert_external_user("clerk", CLERK_ID)
    assert user.display_name == CLERK_ID and user.username == CLERK_ID.lower() and user.image_url is None
    with_email = accounts.upsert_external_user("clerk", "user_other", email="Grace@Navy.mil")
    assert with_email.display_name == "user_other" and with_email.username == "grace@navy.mil"


def test_a_username_held_by_a_local_account_gets_a_unique_suffix_not_an_integrity_error(clerk_mode):
    local = accounts.sign_up("Ada Local", "ada", "password one")
    clerk = accounts.upsert_external_user("clerk", CLERK_ID, username="ada")
    assert clerk.username.startswith("ada-") and clerk.username != local.username
    assert clerk.display_name == "ada"  # the name shown is still the Clerk username
    # Every later sign-in keeps that username; a rename in Clerk to a free one is followed.
    assert accounts.upsert_external_user("clerk", CLERK_ID, username="ada").username == clerk.username
    assert accounts.upsert_external_user("clerk", CLERK_ID, username="lovelace").username == "lovelace"


def test_a_clerk_id_never_takes_over_another_providers_account(clerk_mode):
    with session_scope() as db:
        db.add(User(id=CLERK_ID, username="someone", display_name="Someone", created_at=to_db(utcnow())))
    with pytest.raises(accounts.AccountError, match="another Yoom account"):
        accounts.upsert_external_user("clerk", CLERK_ID, username="ada")


@pytest.mark.parametrize("bad_id", ["", "user 1", "user/../x", "x" * 65, None, "user_ü"])
def test_external_ids_stream_cannot_take_are_refused(clerk_mode, bad_id):
    with pytest.raises(accounts.AccountError, match="account id"):
        accounts.upsert_external_user("clerk", bad_id, username="ada")


def test_a_provider_session_is_short_and_only_its_own_provider_session_extends_it(clerk_mode, clock):
    user = accounts.upsert_external_user("clerk", CLERK_ID, username="ada")
    token = accounts.create_session(user.id, ttl_seconds=300, provider_session_id="sess_a")
    assert accounts.user_for_session(token).id == CLERK_ID
    clock.advance(200)
    assert not accounts.extend_provider_session(token, user.id, "sess_b", 300)  # another Clerk session
    assert not accounts.extend_provider_session(token, "user_other", "sess_a", 300)  # another user
    assert accounts.extend_provider_session(token, user.id, "sess_a", 300)
    clock.advance(299)
    assert accounts.user_for_session(token).id == CLERK_ID
    clock.advance(2)
    assert accounts.user_for_session(token) is None
    assert not accounts.extend_provider_session(token, user.id, "sess_a", 300)  # lapsed stays lapsed


def test_clerk_mode_accepts_only_clerk_users_and_local_mode_only_local_ones(clerk_mode, monkeypatch):
    import yoom.settings

    local = signed_up("Ada Local", "ada")
    clerk_user = accounts.upsert_external_user("clerk", CLERK_ID, username="grace")
    clerk_token = accounts.create_session(clerk_user.id, ttl_seconds=300, provider_session_id="sess_a")
    assert accounts.user_for_session(local.session_token) is None
    assert accounts.user_for_session(clerk_token).id == CLERK_ID
    monkeypatch.setenv("CLERK_PUBLISHABLE_KEY", "")
    monkeypatch.setenv("CLERK_SECRET_KEY", "")
    yoom.settings.get_settings.cache_clear()
    assert accounts.user_for_session(local.session_token).id == local.user.id
    assert accounts.user_for_session(clerk_token) is None


def test_video_user_is_the_same_person():
    user = User(id="u1", username="ada", display_name="Ada Lovelace", image_url=None, created_at=utcnow())
    vu = accounts.video_user(user)
    assert (vu.id, vu.name, vu.image) == ("u1", "Ada Lovelace", None)
    assert accounts.initials("Ada King Lovelace") == "AL"
    assert accounts.initials("") == "?"


def test_users_by_username_finds_accounts_in_one_lookup(yoom_env):
    ada = accounts.sign_up("Ada", "ada", "analytical engine")
    grace = accounts.sign_up("Grace", "grace@navy.mil", "compiler a-0")
    found = accounts.users_by_username([" ADA ", "grace@navy.mil", "ghost", "", None, "x" * 300, "ada"])
    assert {name: user.id for name, user in found.items()} == {"ada": ada.id, "grace@navy.mil": grace.id}
    assert accounts.users_by_username([]) == {}


def test_invite_lookups_are_limited_per_person(yoom_env, clock):
    accounts.sign_up("Ada", "ada", "password one")
    assert set(accounts.users_by_username([f"guess{i}" for i in range(150)] + ["ada"], looked_up_by="u1")) == {"ada"}
    with pytest.raises(accounts.TooManyAttempts, match="looked up a lot of usernames"):
        accounts.users_by_username([f"more{i}" for i in range(50)], looked_up_by="u1")
    assert set(accounts.users_by_username(["ada"], looked_up_by="u2")) == {"ada"}  # someone else is unaffected
    clock.advance(3601)
    assert set(accounts.users_by_username(["ada"], looked_up_by="u1")) == {"ada"}
