"""LocalProvider on a real (temporary) SQLite database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import bcrypt
import pytest
from sqlmodel import SQLModel, select

from yoom.rtc.hub import Hub
from yoom.video.base import (
    MAX_DESCRIPTION_LENGTH,
    CallEnded,
    CallKind,
    CallNotFound,
    InvalidRequest,
    NotCallOwner,
    VideoUser,
)
from yoom.video.local_provider import LocalProvider
from yoom.video.tokens import TokenInvalid, mint

pytestmark = pytest.mark.asyncio

SECRET = "s" * 40
T0 = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class FakeHub:
    def __init__(self):
        self.ended: list[tuple[str, str]] = []

    async def end_call(self, call_id: str, by: str) -> int:
        self.ended.append((call_id, by))
        return 0


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A fresh database for the app's engine, and cheap bcrypt so sign-ups are quick."""
    import yoom.db
    import yoom.settings
    import yoom.video

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/t.db")
    monkeypatch.setenv("YOOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIDEO_PROVIDER", "local")
    real_gensalt = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda rounds=4, prefix=b"2b": real_gensalt(4, prefix))
    yoom.settings.get_settings.cache_clear()
    yoom.db.get_engine.cache_clear()
    yoom.video.get_provider.cache_clear()
    SQLModel.metadata.create_all(yoom.db.get_engine())
    yield yoom.db.get_engine()
    yoom.db.get_engine().dispose()
    yoom.settings.get_settings.cache_clear()
    yoom.db.get_engine.cache_clear()
    yoom.video.get_provider.cache_clear()


@pytest.fixture
def users(db):
    from yoom.accounts import sign_up, video_user

    return {name: video_user(sign_up(name.title(), name, "password123")) for name in ("alice", "bob", "carol")}


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def hub():
    return FakeHub()


@pytest.fixture
def provider(db, clock, hub, tmp_path):
    return LocalProvider(SECRET, token_ttl_seconds=600, clock=clock, hub=hub, recordings_dir=tmp_path / "recordings")


def _rows(model):
    from yoom.db import session_scope

    with session_scope() as s:
        return list(s.exec(select(model)).all())


# --- tokens -----------------------------------------------------------------------------------


async def test_user_token_claims(provider):
    token = provider.mint_user_token("u-1")
    assert token.api_key == provider.api_key == "local" and token.user_id == "u-1" and token.call_cids == ()
    claims = provider.verify_token(token.token)
    assert claims["user_id"] == "u-1" and "call_cids" not in claims
    assert claims["exp"] - claims["iat"] == 600 + 60  # TTL, iat backdated 60 s
    assert abs(token.expires_at.timestamp() - claims["exp"]) < 1
    assert provider.verify_token(provider.mint_user_token("u-1", ttl_seconds=30).token)["exp"] - claims["iat"] < 600


async def test_guest_token_is_limited_to_calls(provider):
    call_id = str(uuid.uuid4())
    token = provider.mint_guest_token("guest-1", [f"default:{call_id}"])
    assert token.call_cids == (f"default:{call_id}",)
    assert provider.verify_token(token.token)["call_cids"] == [f"default:{call_id}"]
    for bad in ([], ["livestream:x"], ["default:"], ["default:a b"]):
        with pytest.raises(InvalidRequest):
            provider.mint_guest_token("guest-1", bad)


async def test_verify_rejects_foreign_expired_and_missing_tokens(provider):
    foreign, _ = mint("x" * 40, "u-1", 600)
    expired, _ = mint(SECRET, "u-1", 1, now=datetime.now(UTC) - timedelta(hours=2))
    for bad in (foreign, expired, "", "not.a.jwt", "a" * 5000):
        with pytest.raises(TokenInvalid):
            provider.verify_token(bad)


async def test_from_settings_and_get_provider(db):
    from yoom.settings import get_settings
    from yoom.video import get_provider

    settings = get_settings()
    provider = get_provider()
    assert isinstance(provider, LocalProvider) and provider.name == "local"
    token = provider.mint_user_token("u-9")
    from yoom.video.tokens import verify  # the secret is the settings' one

    assert verify(settings.local_video_secret, token.token)["user_id"] == "u-9"
    claims = verify(settings.local_video_secret, token.token)
    assert claims["exp"] - claims["iat"] == settings.video_token_ttl_seconds + 60


# --- creating calls -----------------------------------------------------------------------------


async def test_instant_call(provider, users):
    from yoom.models import LocalCallMember

    alice = users["alice"]
    meeting = await provider.create_call(alice, CallKind.INSTANT, description="  Standup  ")
    assert str(uuid.UUID(meeting.id)) == meeting.id
    assert meeting.created_by == alice.id and meeting.kind is CallKind.INSTANT
    assert meeting.created_at == T0 and meeting.starts_at == T0 and meeting.ended_at is None
    assert meeting.description == "Standup" and meeting.cid == f"default:{meeting.id}"
    assert meeting.members == (alice.id,)
    assert [(m.call_id, m.user_id, m.role) for m in _rows(LocalCallMember)] == [(meeting.id, alice.id, "host")]
    assert await provider.get_call(meeting.id) == meeting
    other = await provider.create_call(alice, CallKind.INSTANT)
    assert other.id != meeting.id


async def test_scheduled_call_validation(provider, users, clock):
    from yoom.models import LocalCall

    alice = users["alice"]
    with pytest.raises(InvalidRequest) as missing:
        await provider.create_call(alice, CallKind.SCHEDULED)
    assert "date and time" in missing.value.user_message
    with pytest.raises(InvalidRequest) as naive:
        await provider.create_call(alice, CallKind.SCHEDULED, starts_at=datetime(2030, 6, 1, 9, 0))
    assert "time zone" in naive.value.user_message
    with pytest.raises(InvalidRequest) as past:
        await provider.create_call(alice, CallKind.SCHEDULED, starts_at=T0 - timedelta(hours=1))
    assert "future" in past.value.user_message
    with pytest.raises(InvalidRequest) as long:
        await provider.create_call(
            alice, CallKind.SCHEDULED, starts_at=T0 + timedelta(days=1), description="x" * (MAX_DESCRIPTION_LENGTH + 1)
        )
    assert str(MAX_DESCRIPTION_LENGTH) in long.value.user_message
    with pytest.raises(InvalidRequest):
        await provider.create_call(alice, "webinar")
    assert _rows(LocalCall) == []  # nothing left behind by a refused request

    paris = timezone(timedelta(hours=2))
    meeting = await provider.create_call(
        alice,
        CallKind.SCHEDULED,
        starts_at=datetime(2030, 6, 1, 11, 0, tzinfo=paris),
        description="x" * MAX_DESCRIPTION_LENGTH,
    )
    assert meeting.starts_at == datetime(2030, 6, 1, 9, 0, tzinfo=UTC) and meeting.starts_at.tzinfo == UTC
    assert meeting.kind is CallKind.SCHEDULED and len(meeting.description) == MAX_DESCRIPTION_LENGTH


async def test_members_at_creation_and_unknown_members_leave_nothing(provider, users):
    from yoom.models import LocalCall

    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    meeting = await provider.create_call(alice, CallKind.INSTANT, member_ids=[bob.id, carol.id, bob.id, alice.id])
    assert meeting.members[0] == alice.id and sorted(meeting.members[1:]) == sorted([bob.id, carol.id])
    with pytest.raises(InvalidRequest) as unknown:
        await provider.create_call(alice, CallKind.INSTANT, member_ids=[bob.id, "ghost"])
    assert "account" in unknown.value.user_message
    with pytest.raises(InvalidRequest):
        await provider.create_call(VideoUser(id="ghost", name="Ghost"), CallKind.INSTANT)
    assert [c.id for c in _rows(LocalCall)] == [meeting.id]


async def test_invite_only_round_trip_with_invitees(provider, users, clock):
    from yoom.models import LocalCall

    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    made = await provider.create_call(
        alice,
        CallKind.SCHEDULED,
        starts_at=T0 + timedelta(hours=2),
        description="Board",
        invitees=[bob, alice],
        invite_only=True,
    )
    assert made.invite_only is True and made.members == (alice.id, bob.id)
    got = await provider.get_call(made.id)
    assert got == made  # stored: a fresh read says the same
    [row] = [r for r in _rows(LocalCall) if r.id == made.id]
    assert row.invite_only is True
    # The invitee lists it (as a member); who may enter follows from creator and members.
    assert [m.id for m in (await provider.upcoming_calls(bob.id)).items] == [made.id]
    assert [m.invite_only for m in (await provider.upcoming_calls(bob.id)).items] == [True]
    assert got.admits(alice.id) and got.admits(bob.id) and not got.admits(carol.id) and not got.admits("")
    # Open calls stay open, and say so.
    open_call = await provider.create_call(alice, CallKind.INSTANT, invitees=[carol])
    assert open_call.invite_only is False and (await provider.get_call(open_call.id)).admits("anyone")
    assert open_call.members == (alice.id, carol.id)


async def test_invite_only_refusals_leave_nothing(provider, users):
    from yoom.models import LocalCall

    alice = users["alice"]
    with pytest.raises(InvalidRequest) as personal:
        await provider.create_call(alice, CallKind.PERSONAL, invite_only=True)
    assert "personal room" in personal.value.user_message
    with pytest.raises(InvalidRequest):
        await provider.create_call(alice, CallKind.INSTANT, invite_only="yes")
    with pytest.raises(InvalidRequest) as ghost:
        await provider.create_call(
            alice, CallKind.INSTANT, invite_only=True, invitees=[VideoUser(id="ghost", name="G")]
        )
    assert "account" in ghost.value.user_message
    with pytest.raises(InvalidRequest):
        await provider.create_call(alice, CallKind.INSTANT, invitees=["bob"])
    assert _rows(LocalCall) == []


async def test_explicit_call_ids(provider, users):
    alice, bob = users["alice"], users["bob"]
    chosen = str(uuid.uuid4())
    assert (await provider.create_call(alice, CallKind.INSTANT, call_id=chosen)).id == chosen
    with pytest.raises(InvalidRequest):
        await provider.create_call(bob, CallKind.INSTANT, call_id=chosen)  # can't take over a meeting
    for bad in ("abc", chosen.upper(), "../etc", alice.id):
        with pytest.raises(InvalidRequest):
            await provider.create_call(alice, CallKind.INSTANT, call_id=bad)
    assert (await provider.get_call(chosen)).created_by == alice.id


def _room_id(user) -> str:
    from yoom.accounts import get_user

    return get_user(user.id).personal_room_id


async def test_personal_room_get_or_create_and_reopen(provider, users, clock, hub):
    alice, bob = users["alice"], users["bob"]
    room_id = _room_id(alice)
    room = await provider.create_call(alice, CallKind.PERSONAL, call_id=room_id)
    assert room.id == room_id != alice.id and room.kind is CallKind.PERSONAL and room.starts_at == T0
    clock.advance(minutes=5)
    again = await provider.create_call(alice, CallKind.PERSONAL, call_id=room_id)
    assert again.id == room.id and again.created_at == T0 and again.starts_at == T0  # same room, untouched
    for not_hers in (_room_id(bob), alice.id, None):
        with pytest.raises(InvalidRequest):
            await provider.create_call(alice, CallKind.PERSONAL, call_id=not_hers)
    with pytest.raises(InvalidRequest):
        await provider.create_call(bob, CallKind.PERSONAL, call_id=room_id)  # not bob's id to open

    ended = await provider.end_call(room.id, alice.id)
    assert ended.ended_at == T0 + timedelta(minutes=5)
    clock.advance(days=1)
    reopened = await provider.create_call(alice, CallKind.PERSONAL, call_id=room_id)  # starting it again opens it
    assert reopened.ended_at is None and reopened.starts_at == T0 + timedelta(days=1, minutes=5)
    assert reopened.members == (alice.id,)  # visiting never made anyone a member

    await provider.end_call(room.id, alice.id)
    with pytest.raises(NotCallOwner):
        await provider.reopen_call(room.id, bob.id)
    clock.advance(hours=1)
    reopened = await provider.reopen_call(room.id, alice.id)
    assert reopened.ended_at is None and reopened.starts_at == clock.now
    # It lists where its owner expects it: among the recent previous meetings, open.
    page = await provider.previous_calls(alice.id)
    assert page.items[0].id == room.id and not page.items[0].has_ended


async def test_a_reset_personal_room_id_never_opens_again(provider, users, clock):
    from yoom.accounts import reset_personal_room_id

    alice = users["alice"]
    old_id = _room_id(alice)
    await provider.create_call(alice, CallKind.PERSONAL, call_id=old_id)
    await provider.end_call(old_id, alice.id)
    new_id = reset_personal_room_id(alice.id)
    assert new_id != old_id and _room_id(alice) == new_id
    # Not even its owner opens the old room again, by starting it or by walking in.
    with pytest.raises(InvalidRequest):
        await provider.create_call(alice, CallKind.PERSONAL, call_id=old_id)
    with pytest.raises(CallEnded) as closed:
        await provider.reopen_call(old_id, alice.id)
    assert "reset" in closed.value.user_message
    assert (await provider.get_call(old_id)).has_ended
    fresh = await provider.create_call(alice, CallKind.PERSONAL, call_id=new_id)
    assert fresh.id == new_id and not fresh.has_ended


async def test_other_meetings_stay_ended(provider, users):
    alice = users["alice"]
    meeting = await provider.create_call(alice, CallKind.INSTANT)
    await provider.end_call(meeting.id, alice.id)
    with pytest.raises(CallEnded):
        await provider.reopen_call(meeting.id, alice.id)
    with pytest.raises(CallNotFound):
        await provider.reopen_call(str(uuid.uuid4()), alice.id)


# --- get, members ---------------------------------------------------------------------------------


async def test_get_call_missing(provider, users):
    assert await provider.get_call(str(uuid.uuid4())) is None
    assert await provider.get_call("bad id!") is None
    assert await provider.get_call("") is None


async def test_add_member_is_idempotent(provider, users):
    from yoom.models import LocalCallMember

    alice, bob = users["alice"], users["bob"]
    meeting = await provider.create_call(alice, CallKind.INSTANT)
    await provider.add_member(meeting.id, bob)
    await provider.add_member(meeting.id, bob)
    await provider.add_member(meeting.id, alice)  # the host stays the host
    rows = sorted((m.user_id, m.role) for m in _rows(LocalCallMember))
    assert rows == sorted([(alice.id, "host"), (bob.id, "member")])
    assert (await provider.get_call(meeting.id)).members == (alice.id, bob.id)
    with pytest.raises(CallNotFound):
        await provider.add_member(str(uuid.uuid4()), bob)
    with pytest.raises(InvalidRequest):
        await provider.add_member(meeting.id, VideoUser(id="ghost", name="Ghost"))


async def test_upsert_user_checks_its_argument(provider):
    await provider.upsert_user(VideoUser(id="u-1", name="One"))
    with pytest.raises(InvalidRequest):
        await provider.upsert_user(VideoUser(id="", name="Nobody"))


# --- listings -------------------------------------------------------------------------------------


async def test_upcoming_and_previous_sorting_and_visibility(provider, users, clock):
    alice, bob, carol = users["alice"], users["bob"], users["carol"]

    def at(**delta):
        return T0 + timedelta(**delta)

    s3 = await provider.create_call(alice, CallKind.SCHEDULED, starts_at=at(hours=3))
    s1 = await provider.create_call(alice, CallKind.SCHEDULED, starts_at=at(hours=1))
    s2 = await provider.create_call(alice, CallKind.SCHEDULED, starts_at=at(hours=2))
    bobs = await provider.create_call(bob, CallKind.SCHEDULED, starts_at=at(minutes=30), member_ids=[alice.id])
    carols = await provider.create_call(carol, CallKind.SCHEDULED, starts_at=at(minutes=10))  # not alice's
    cancelled = await provider.create_call(alice, CallKind.SCHEDULED, starts_at=at(hours=5))
    await provider.end_call(cancelled.id, alice.id)
    clock.advance(minutes=1)
    instant_a = await provider.create_call(alice, CallKind.INSTANT)
    clock.advance(minutes=1)
    bob_instant = await provider.create_call(bob, CallKind.INSTANT)
    await provider.add_member(bob_instant.id, alice)  # alice joined it
    clock.advance(minutes=1)
    carol_instant = await provider.create_call(carol, CallKind.INSTANT)  # alice never joined

    upcoming = await provider.upcoming_calls(alice.id)
    assert [m.id for m in upcoming.items] == [bobs.id, s1.id, s2.id, s3.id] and upcoming.next_cursor is None
    previous = await provider.previous_calls(alice.id)
    assert [m.id for m in previous.items] == [cancelled.id, bob_instant.id, instant_a.id]
    assert carols.id not in [m.id for m in upcoming.items + previous.items]
    assert carol_instant.id not in [m.id for m in previous.items]

    # Time passes: the 30-minute meeting has started, so it is no longer upcoming.
    clock.advance(minutes=40)
    assert [m.id for m in (await provider.upcoming_calls(alice.id)).items] == [s1.id, s2.id, s3.id]
    previous = await provider.previous_calls(alice.id)
    assert [m.id for m in previous.items] == [cancelled.id, bobs.id, bob_instant.id, instant_a.id]
    # Carol sees only hers and never alice's.
    assert [m.id for m in (await provider.previous_calls(carol.id)).items] == [carols.id, carol_instant.id]
    assert (await provider.upcoming_calls(carol.id)).items == []
    assert (await provider.previous_calls("nobody")).items == []


async def test_pagination_is_keyset_and_complete(provider, users, clock):
    alice = users["alice"]
    ids = []
    for n in range(7):  # several calls share a start time: ties are ordered by id
        ids.append((await provider.create_call(alice, CallKind.INSTANT)).id)
        if n % 3 == 2:
            clock.advance(minutes=1)
    full = [m.id for m in (await provider.previous_calls(alice.id, limit=100)).items]
    assert sorted(full) == sorted(ids) and len(full) == 7

    seen, cursor, pages = [], None, 0
    while True:
        page = await provider.previous_calls(alice.id, limit=3, cursor=cursor)
        seen += [m.id for m in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        # A meeting created between two page loads shifts nothing that is left to read.
        if pages == 1:
            newer = await provider.create_call(alice, CallKind.INSTANT)
    assert seen == full and pages == 3
    assert newer.id not in seen

    start = T0 + timedelta(days=1)
    scheduled = [
        (await provider.create_call(alice, CallKind.SCHEDULED, starts_at=start + timedelta(hours=h))).id
        for h in (4, 1, 3, 2, 5)
    ]
    first = await provider.upcoming_calls(alice.id, limit=2)
    second = await provider.upcoming_calls(alice.id, limit=2, cursor=first.next_cursor)
    third = await provider.upcoming_calls(alice.id, limit=2, cursor=second.next_cursor)
    order = [m.id for p in (first, second, third) for m in p.items]
    assert order == [scheduled[i] for i in (1, 3, 2, 0, 4)] and third.next_cursor is None


async def test_bad_cursors_and_limits(provider, users):
    alice = users["alice"]
    for _ in range(3):
        await provider.create_call(alice, CallKind.INSTANT)
    page = await provider.previous_calls(alice.id, limit=1)
    with pytest.raises(InvalidRequest):
        await provider.upcoming_calls(alice.id, cursor=page.next_cursor)  # a cursor belongs to its list
    for bad in ("garbage", "e30", "x" * 1000, page.next_cursor[:-3]):
        with pytest.raises(InvalidRequest):
            await provider.previous_calls(alice.id, cursor=bad)
    assert len((await provider.previous_calls(alice.id, limit=0)).items) == 1
    assert len((await provider.previous_calls(alice.id, limit=10_000)).items) == 3
    with pytest.raises(InvalidRequest):
        await provider.previous_calls(alice.id, limit="5")


# --- ending -----------------------------------------------------------------------------------------


async def test_end_call_only_by_creator(provider, users, clock, hub):
    alice, bob = users["alice"], users["bob"]
    meeting = await provider.create_call(alice, CallKind.INSTANT)
    await provider.add_member(meeting.id, bob)
    with pytest.raises(NotCallOwner) as refused:
        await provider.end_call(meeting.id, bob.id)
    assert "Only the person who created" in refused.value.user_message
    assert (await provider.get_call(meeting.id)).ended_at is None and hub.ended == []
    with pytest.raises(CallNotFound):
        await provider.end_call(str(uuid.uuid4()), alice.id)

    clock.advance(minutes=3)
    ended = await provider.end_call(meeting.id, alice.id)
    assert ended.ended_at == T0 + timedelta(minutes=3) and ended.has_ended
    assert hub.ended == [(meeting.id, alice.id)]
    from yoom.models import LocalCall

    assert [(c.ended_by) for c in _rows(LocalCall)] == [alice.id]
    clock.advance(minutes=3)
    again = await provider.end_call(meeting.id, alice.id)  # idempotent: the first end time stays
    assert again.ended_at == ended.ended_at and len(hub.ended) == 2


async def test_end_call_closes_the_real_hub_room(db, users, clock):
    import asyncio

    class Socket:
        def __init__(self):
            self.sent, self.closed = [], None

        async def send(self, message):
            self.sent.append(message)

        async def close(self, code, reason=""):
            self.closed = code

    alice, bob = users["alice"], users["bob"]
    real_hub = Hub()
    provider = LocalProvider(SECRET, clock=clock, hub=real_hub)
    meeting = await provider.create_call(alice, CallKind.INSTANT)
    sockets = [Socket(), Socket()]
    await real_hub.join(meeting.id, alice, sockets[0], is_owner=True)
    await real_hub.join(meeting.id, bob, sockets[1])
    with pytest.raises(NotCallOwner):
        await provider.end_call(meeting.id, bob.id)
    await asyncio.sleep(0.02)
    assert await real_hub.room_size(meeting.id) == 2 and all(s.closed is None for s in sockets)
    await provider.end_call(meeting.id, alice.id)
    for _ in range(100):
        if all(s.closed for s in sockets):
            break
        await asyncio.sleep(0.005)
    assert [s.closed for s in sockets] == [4000, 4000]
    assert all(s.sent[-1] == {"type": "call-ended", "by": alice.id} for s in sockets)
    assert await real_hub.room_size(meeting.id) == 0


# --- recordings ---------------------------------------------------------------------------------------


async def _record(provider, call_id, by, start):
    return await provider.add_recording(
        call_id,
        by,
        recording_id=uuid.uuid4().hex,
        filename=f"rec-{start:%H%M}.webm",
        stored_name=f"{uuid.uuid4().hex}.webm",
        content_type="video/webm",
        size_bytes=10,
        start_time=start,
        end_time=start + timedelta(minutes=10),
    )


async def test_recordings_newest_first_for_creator_and_attendees(provider, users):
    from yoom import attendance

    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    one = await provider.create_call(alice, CallKind.INSTANT)
    two = await provider.create_call(alice, CallKind.INSTANT)
    carols = await provider.create_call(carol, CallKind.INSTANT)
    # Bob was in the second meeting from T0+50min to T0+2h: the recording at T0+1h was made while he was there.
    stay = attendance.open_stay(two.id, bob.id, attendance.SOURCE_RTC, at=T0 + timedelta(minutes=50))
    attendance.close_stay(stay, at=T0 + timedelta(hours=2))
    r1 = await _record(provider, one.id, alice.id, T0)
    r2 = await _record(provider, two.id, alice.id, T0 + timedelta(hours=1))
    r3 = await _record(provider, one.id, alice.id, T0 + timedelta(hours=2))
    rc = await _record(provider, carols.id, carol.id, T0 + timedelta(hours=3))
    with pytest.raises(NotCallOwner):
        await _record(provider, one.id, bob.id, T0)
    with pytest.raises(CallNotFound):
        await _record(provider, str(uuid.uuid4()), alice.id, T0)

    mine = (await provider.recordings(alice.id)).items
    assert [r.id for r in mine] == [r3.id, r2.id, r1.id]
    assert mine[0].url == f"/api/recordings/{r3.id}" and mine[0].call_id == one.id and mine[0].host_id == alice.id
    assert mine[0].start_time == T0 + timedelta(hours=2) and mine[0].end_time == T0 + timedelta(hours=2, minutes=10)
    assert mine[0].filename == "rec-1400.webm"
    assert [r.id for r in (await provider.recordings(bob.id)).items] == [r2.id]  # present for that one only
    assert [r.id for r in (await provider.recordings(carol.id)).items] == [rc.id]
    first = await provider.recordings(alice.id, limit=2)
    assert [r.id for r in first.items] == [r3.id, r2.id]
    rest = await provider.recordings(alice.id, limit=2, cursor=first.next_cursor)
    assert [r.id for r in rest.items] == [r1.id] and rest.next_cursor is None
    with pytest.raises(InvalidRequest):
        await provider.recordings(alice.id, cursor="not-a-cursor")

    assert (await provider.recording_for_user(r2.id, bob.id)).stored_name.endswith(".webm")
    assert await provider.recording_for_user(r1.id, bob.id) is None
    assert await provider.recording_for_user(rc.id, alice.id) is None
    assert await provider.recording_for_user("nope", alice.id) is None


async def test_joining_or_being_invited_to_an_open_meeting_shows_no_recordings(provider, users, clock):
    """The holes of issue 10: a member (invited, or joined once) saw every recording, before and after."""
    from yoom import attendance

    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    meeting = await provider.create_call(alice, CallKind.INSTANT, invitees=[carol])
    before = await _record(provider, meeting.id, alice.id, T0)  # 12:00-12:10
    stay = attendance.open_stay(meeting.id, bob.id, attendance.SOURCE_RTC, at=T0 + timedelta(minutes=30))
    attendance.close_stay(stay, at=T0 + timedelta(minutes=40))
    after = await _record(provider, meeting.id, alice.id, T0 + timedelta(hours=1))  # 13:00-13:10
    clock.advance(hours=2)
    for person in (bob, carol):
        assert (await provider.recordings(person.id)).items == []
        for recording in (before, after):
            assert await provider.recording_for_user(recording.id, person.id) is None
    assert [r.id for r in (await provider.recordings(alice.id)).items] == [after.id, before.id]
    # Bob's visit lists the meeting among his previous ones (he was there), and made him no member.
    assert [m.id for m in (await provider.previous_calls(bob.id)).items] == [meeting.id]
    assert bob.id not in (await provider.get_call(meeting.id)).members


async def test_a_stay_nobody_closed_reaches_only_recordings_near_it(provider, users, clock):
    from yoom import attendance
    from yoom.meeting_rules import MAX_OPEN_ATTENDANCE

    alice, bob = users["alice"], users["bob"]
    room = await provider.create_call(alice, CallKind.PERSONAL, call_id=_room_id(alice))
    attendance.open_stay(room.id, bob.id, attendance.SOURCE_PAGE, at=T0)  # the tab vanished; never closed
    during = await _record(provider, room.id, alice.id, T0 + timedelta(minutes=5))
    much_later = await _record(provider, room.id, alice.id, T0 + MAX_OPEN_ATTENDANCE + timedelta(hours=1))
    clock.advance(days=3)
    assert [r.id for r in (await provider.recordings(bob.id)).items] == [during.id]
    assert await provider.recording_for_user(much_later.id, bob.id) is None


async def test_invitees_see_recordings_of_invite_only_meetings_that_share_them(provider, users, clock):
    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    shared = await provider.create_call(
        alice, CallKind.INSTANT, invitees=[bob], invite_only=True, share_recordings=True
    )
    private = await provider.create_call(alice, CallKind.INSTANT, invitees=[bob], invite_only=True)
    assert shared.share_recordings and not private.share_recordings
    assert (await provider.get_call(shared.id)).share_recordings is True
    shown = await _record(provider, shared.id, alice.id, T0)
    hidden = await _record(provider, private.id, alice.id, T0 + timedelta(minutes=1))
    assert [r.id for r in (await provider.recordings(bob.id)).items] == [shown.id]
    assert await provider.recording_for_user(hidden.id, bob.id) is None
    assert (await provider.recordings(carol.id)).items == []
    with pytest.raises(InvalidRequest) as open_meeting:
        await provider.create_call(alice, CallKind.INSTANT, invitees=[bob], share_recordings=True)
    assert "invite-only" in open_meeting.value.user_message


async def test_pages_fill_past_recordings_the_viewer_may_not_watch(provider, users, clock, monkeypatch):
    import yoom.video.local_provider as local
    from yoom import attendance

    monkeypatch.setattr(local, "RECORDING_SCAN_BATCH", 3)
    alice, bob = users["alice"], users["bob"]
    meeting = await provider.create_call(alice, CallKind.INSTANT)
    made = [await _record(provider, meeting.id, alice.id, T0 + timedelta(hours=h)) for h in range(10)]
    for h in (0, 9):  # bob was there for the first and the last only
        stay = attendance.open_stay(meeting.id, bob.id, attendance.SOURCE_RTC, at=T0 + timedelta(hours=h))
        attendance.close_stay(stay, at=T0 + timedelta(hours=h, minutes=5))
    first = await provider.recordings(bob.id, limit=1)
    assert [r.id for r in first.items] == [made[9].id] and first.next_cursor
    rest = await provider.recordings(bob.id, limit=1, cursor=first.next_cursor)
    assert [r.id for r in rest.items] == [made[0].id] and rest.next_cursor is None


async def test_storage_quota_and_deleting_a_recording(provider, users, tmp_path):
    from yoom import attendance
    from yoom.models import LocalRecording
    from yoom.video.local_provider import QuotaExceeded

    alice, bob = users["alice"], users["bob"]
    meeting = await provider.create_call(alice, CallKind.INSTANT)
    files = tmp_path / "recordings"
    files.mkdir()
    kept = await _record(provider, meeting.id, alice.id, T0)
    (files / _rows(LocalRecording)[0].stored_name).write_bytes(b"x" * 10)
    assert await provider.recording_usage(alice.id) == 10 and await provider.recording_usage(bob.id) == 0
    with pytest.raises(QuotaExceeded) as full:
        await provider.add_recording(
            meeting.id,
            alice.id,
            recording_id=uuid.uuid4().hex,
            filename="big.webm",
            stored_name="big.webm",
            content_type="video/webm",
            size_bytes=91,
            start_time=T0,
            end_time=T0,
            quota_bytes=100,
        )
    assert "Delet" in full.value.user_message and "0.0 MB" in full.value.user_message
    assert len(_rows(LocalRecording)) == 1

    with pytest.raises(InvalidRequest):
        await provider.delete_recording(kept.id, bob.id)  # he can't see it: he learns nothing about it
    attendance.close_stay(
        attendance.open_stay(meeting.id, bob.id, attendance.SOURCE_RTC, at=T0), at=T0 + timedelta(hours=1)
    )
    with pytest.raises(NotCallOwner):
        await provider.delete_recording(kept.id, bob.id)  # he may watch it, but it isn't his to delete
    assert len(_rows(LocalRecording)) == 1
    await provider.delete_recording(kept.id, alice.id)
    assert _rows(LocalRecording) == [] and list(files.iterdir()) == []
    assert await provider.recording_usage(alice.id) == 0
    with pytest.raises(InvalidRequest):
        await provider.delete_recording(kept.id, alice.id)
