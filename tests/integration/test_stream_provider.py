"""StreamProvider against the fake Stream server (real HTTP on 127.0.0.1, the unmodified getstream SDK)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from tests.fakestream import FakeStream, ns
from tests.integration.conftest import CLIENT_TIMEOUT, MAX_RETRIES, make_provider
from yoom.settings import SettingsError, load_settings
from yoom.video.base import (
    MAX_DESCRIPTION_LENGTH,
    CallKind,
    CallNotFound,
    InvalidRequest,
    NotCallOwner,
    ProviderRejected,
    ProviderUnavailable,
    VideoUser,
)
from yoom.video.stream_provider import StreamProvider

ALICE = VideoUser("alice", "Alice Adams", "https://img.example/alice.png")
BOB = VideoUser("bob", "Bob Brown")
CAROL = VideoUser("carol", "Carol Chen")
ATTEMPTS = MAX_RETRIES + 1
CALL_PATH = r"^/api/v2/video/call/default/[^/]+$"


def now() -> datetime:
    return datetime.now(UTC)


def same_instant(dt: datetime, wire_ns: int) -> bool:
    """An aware UTC datetime equal to Stream's ns timestamp (microsecond precision)."""
    return dt.tzinfo is not None and dt.utcoffset() == timedelta(0) and abs(ns(dt) - wire_ns) <= 2_000


async def users(provider, *people):
    for person in people:
        await provider.upsert_user(person)


# --- the wire: what the SDK sends and the fake checks ------------------------------------------


@pytest.mark.asyncio
async def test_requests_carry_streams_server_auth(fake, provider):
    await provider.upsert_user(ALICE)
    (req,) = fake.requests
    assert req.status == 201
    assert req.query["api_key"] == fake.api_key
    assert req.headers["stream-auth-type"] == "jwt"
    auth = req.headers["authorization"]
    assert not auth.lower().startswith("bearer")
    claims = jwt.decode(auth, fake.api_secret, algorithms=["HS256"])
    assert "user_id" not in claims  # a server-side token


@pytest.mark.asyncio
async def test_fake_rejects_requests_stream_would_reject(fake, provider):
    await provider.upsert_user(ALICE)
    good = fake.requests[0]
    url = fake.base_url + "/api/v2/users"
    body = {"users": {"x": {"id": "x"}}}
    headers = {"Authorization": good.headers["authorization"], "stream-auth-type": "jwt"}
    async with httpx.AsyncClient() as client:
        ok = await client.post(url, params={"api_key": fake.api_key}, json=body, headers=headers)
        no_key = await client.post(url, json=body, headers=headers)
        wrong_key = await client.post(url, params={"api_key": "other"}, json=body, headers=headers)
        bearer = await client.post(
            url,
            params={"api_key": fake.api_key},
            json=body,
            headers={**headers, "Authorization": "Bearer " + headers["Authorization"]},
        )
        forged = await client.post(
            url,
            params={"api_key": fake.api_key},
            json=body,
            headers={
                **headers,
                "Authorization": jwt.encode({}, "not-the-secret-but-long-enough-for-hs256", algorithm="HS256"),
            },
        )
        user_token = await client.post(
            url,
            params={"api_key": fake.api_key},
            json=body,
            headers={**headers, "Authorization": jwt.encode({"user_id": "x"}, fake.api_secret, algorithm="HS256")},
        )
        unknown_field = await client.post(
            url, params={"api_key": fake.api_key}, json={"users": {"x": {"id": "x", "nick": "y"}}}, headers=headers
        )
        missing_field = await client.post(url, params={"api_key": fake.api_key}, json={}, headers=headers)
        bad_path = await client.get(
            fake.base_url + "/api/v2/video/nothing", params={"api_key": fake.api_key}, headers=headers
        )
    assert ok.status_code == 201
    assert [r.status_code for r in (no_key, wrong_key, bearer, forged)] == [401, 401, 401, 401]
    assert forged.json()["code"] == 43 and "signature" in forged.json()["message"]
    assert user_token.status_code == 403
    assert unknown_field.status_code == 400 and "nick" in unknown_field.json()["message"]
    assert missing_field.status_code == 400 and "users" in missing_field.json()["message"]
    assert bad_path.status_code == 404
    for answer in (no_key, forged, unknown_field):
        assert set(answer.json()) >= {"code", "message", "StatusCode", "duration", "more_info", "details"}


# --- users ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_upsert_user_creates_then_updates(fake, provider):
    await provider.upsert_user(ALICE)
    stored = fake.user("alice")
    assert (stored["id"], stored["name"], stored["image"]) == ("alice", "Alice Adams", "https://img.example/alice.png")
    await provider.upsert_user(VideoUser("alice", "Alice B. Adams", None))
    stored = fake.user("alice")
    assert (stored["name"], stored["image"]) == ("Alice B. Adams", None)
    assert len(fake.requests_to("POST", "^/api/v2/users$")) == 2


@pytest.mark.asyncio
async def test_upsert_user_rejects_an_invalid_id_without_calling_stream(fake, provider):
    with pytest.raises(InvalidRequest):
        await provider.upsert_user(VideoUser("no spaces allowed", "X"))
    assert fake.requests == []


# --- create_call ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_create_instant_call(fake, provider):
    await provider.upsert_user(BOB)
    before = now()
    meeting = await provider.create_call(ALICE, CallKind.INSTANT, description="  quick   sync ", member_ids=["bob"])
    assert uuid.UUID(meeting.id).version == 4
    assert meeting.kind is CallKind.INSTANT
    assert meeting.created_by == "alice"
    assert meeting.description == "quick sync"
    assert meeting.members == ("alice", "bob")
    assert meeting.ended_at is None
    assert before - timedelta(seconds=1) <= meeting.starts_at <= now()

    stored = fake.call(meeting.id)
    assert stored["created_by_id"] == "alice"
    assert stored["custom"] == {"description": "quick sync", "kind": "instant"}
    assert stored["members"]["alice"]["role"] == "host"
    assert "bob" in stored["members"]
    assert same_instant(meeting.created_at, stored["created_at"])
    assert same_instant(meeting.starts_at, stored["starts_at"])
    assert fake.user("alice")["name"] == "Alice Adams"  # the creator exists on Stream first

    (create,) = fake.requests_to("POST", CALL_PATH)
    assert create.body["data"]["created_by_id"] == "alice"
    assert create.status == 201


@pytest.mark.asyncio
async def test_each_instant_call_gets_a_new_id(fake, provider):
    first = await provider.create_call(ALICE, CallKind.INSTANT)
    second = await provider.create_call(ALICE, CallKind.INSTANT)
    assert first.id != second.id
    assert fake.call_count == 2


@pytest.mark.asyncio
async def test_create_scheduled_call(fake, provider):
    starts = now() + timedelta(days=2)
    meeting = await provider.create_call(ALICE, CallKind.SCHEDULED, starts_at=starts, description="Planning")
    assert meeting.kind is CallKind.SCHEDULED
    assert abs((meeting.starts_at - starts).total_seconds()) < 0.001
    assert meeting.description == "Planning"
    assert same_instant(meeting.starts_at, fake.call(meeting.id)["starts_at"])


@pytest.mark.asyncio
async def test_create_call_validates_before_calling_stream(fake, provider):
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.SCHEDULED)  # no start time
    with pytest.raises(InvalidRequest) as too_long:
        await provider.create_call(ALICE, CallKind.INSTANT, description="x" * (MAX_DESCRIPTION_LENGTH + 1))
    assert str(MAX_DESCRIPTION_LENGTH) in too_long.value.user_message
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.PERSONAL, call_id="someone-else")
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, "meeting-of-some-kind")
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.INSTANT, member_ids=[f"user{i}" for i in range(100)])
    assert fake.requests == []


@pytest.mark.asyncio
async def test_personal_room_is_get_or_create_with_the_owners_id(fake, provider):
    room = await provider.create_call(ALICE, CallKind.PERSONAL, description="Alice's room")
    assert room.id == "alice"
    assert room.kind is CallKind.PERSONAL
    again = await provider.create_call(ALICE, CallKind.PERSONAL, description="changed?")
    assert again.id == "alice"
    assert again.created_at == room.created_at
    assert again.description == "Alice's room"  # get-or-create returns the existing room unchanged
    assert fake.call_count == 1


@pytest.mark.asyncio
async def test_create_call_with_an_unknown_member_is_rejected_and_leaves_nothing(fake, provider):
    with pytest.raises(ProviderRejected):
        await provider.create_call(ALICE, CallKind.INSTANT, member_ids=["ghost"])
    assert fake.call_count == 0


@pytest.mark.asyncio
async def test_invite_only_round_trip_in_custom_data_with_invitees_upserted_first(fake, provider):
    starts = now() + timedelta(days=1)
    made = await provider.create_call(
        ALICE, CallKind.SCHEDULED, starts_at=starts, description="Board", invitees=[BOB, CAROL, ALICE], invite_only=True
    )
    assert made.invite_only is True and made.members == ("alice", "bob", "carol")
    stored = fake.call(made.id)
    assert stored["custom"] == {"description": "Board", "kind": "scheduled", "invite_only": True}
    assert set(stored["members"]) == {"alice", "bob", "carol"}
    # The invitees did not exist on Stream: they were created, with their names, in one request before the call.
    assert fake.user("bob")["name"] == "Bob Brown" and fake.user("carol")["name"] == "Carol Chen"
    upserts = fake.requests_to("POST", r"^/api/v2/users$")
    assert [sorted(r.body["users"]) for r in upserts] == [["alice"], ["bob", "carol"]]
    got = await provider.get_call(made.id)
    assert got == made
    assert got.admits("alice") and got.admits("bob") and not got.admits("mallory")
    assert [m.invite_only for m in (await provider.upcoming_calls("carol")).items] == [True]
    # Known users are not sent again; an open call keeps Stream's custom data as before.
    fake.clear_requests()
    open_call = await provider.create_call(ALICE, CallKind.INSTANT, invitees=[BOB])
    assert fake.requests_to("POST", r"^/api/v2/users$") == []
    assert open_call.invite_only is False and fake.call(open_call.id)["custom"] == {
        "description": "",
        "kind": "instant",
    }


@pytest.mark.asyncio
async def test_invite_only_from_outside_yoom_must_be_exactly_true(fake, provider):
    fake.put_call("dash-1", "alice", starts_at=now(), custom={"kind": "instant", "invite_only": "yes"})
    fake.put_call("dash-2", "alice", starts_at=now(), custom={"kind": "instant", "invite_only": True})
    assert (await provider.get_call("dash-1")).invite_only is False
    assert (await provider.get_call("dash-2")).invite_only is True


@pytest.mark.asyncio
async def test_invite_only_refusals_call_nothing(fake, provider):
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.PERSONAL, invite_only=True)
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.INSTANT, invite_only=1)
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.INSTANT, invitees=["bob"])
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.INSTANT, invitees=[VideoUser("has space", "X")])
    assert fake.requests == []


@pytest.mark.asyncio
async def test_a_callers_id_that_belongs_to_someone_else_is_refused(fake, provider):
    fake.put_call("taken", "mallory", starts_at=now())
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.INSTANT, call_id="taken")
    assert fake.call("taken")["created_by_id"] == "mallory"


# --- get_call ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_get_call(fake, provider):
    await users(provider, BOB)
    made = await provider.create_call(
        ALICE, CallKind.SCHEDULED, starts_at=now() + timedelta(hours=1), description="Review", member_ids=["bob"]
    )
    got = await provider.get_call(made.id)
    assert got == made
    assert got.cid == f"default:{made.id}"


@pytest.mark.asyncio
async def test_get_call_not_found_is_none(fake, provider):
    assert await provider.get_call("no-such-call") is None
    assert fake.requests_to("GET", "/no-such-call$")[0].status == 404
    assert await provider.get_call("bad id/with slash") is None  # not even sent


@pytest.mark.asyncio
async def test_a_call_made_outside_yoom_gets_a_sensible_kind(fake, provider):
    fake.put_call("outside", "bob", starts_at=now() + timedelta(hours=3), custom={"description": "From dashboard"})
    got = await provider.get_call("outside")
    assert got.kind is CallKind.SCHEDULED
    assert got.description == "From dashboard"
    assert got.created_by == "bob"


# --- add_member ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_add_member(fake, provider):
    meeting = await provider.create_call(ALICE, CallKind.SCHEDULED, starts_at=now() + timedelta(hours=1))
    await provider.add_member(meeting.id, CAROL)
    assert fake.user("carol")["name"] == "Carol Chen"
    assert "carol" in fake.call(meeting.id)["members"]
    assert fake.call(meeting.id)["members"]["alice"]["role"] == "host"
    assert [m.id for m in (await provider.upcoming_calls("carol")).items] == [meeting.id]

    await provider.add_member(meeting.id, CAROL)  # already a member: nothing to write
    assert len(fake.requests_to("POST", "/members$")) == 1


@pytest.mark.asyncio
async def test_add_member_to_a_missing_call(fake, provider):
    with pytest.raises(CallNotFound):
        await provider.add_member("missing", CAROL)
    assert fake.requests_to("POST", "/members$") == []


# --- upcoming / previous ---------------------------------------------------------------------------


async def _seed_calendar(fake, provider):
    """Alice's and Bob's calls in every state; returns ids by name."""
    await users(provider, BOB, CAROL)
    t = now()
    ids = {}
    ids["in_1h"] = (await provider.create_call(ALICE, CallKind.SCHEDULED, starts_at=t + timedelta(hours=1))).id
    ids["in_3d"] = (await provider.create_call(ALICE, CallKind.SCHEDULED, starts_at=t + timedelta(days=3))).id
    ids["in_2h_bob_invites_alice"] = (
        await provider.create_call(BOB, CallKind.SCHEDULED, starts_at=t + timedelta(hours=2), member_ids=["alice"])
    ).id
    ids["bob_only_future"] = (await provider.create_call(BOB, CallKind.SCHEDULED, starts_at=t + timedelta(hours=4))).id
    ids["ended_future"] = (await provider.create_call(ALICE, CallKind.SCHEDULED, starts_at=t + timedelta(hours=5))).id
    await provider.end_call(ids["ended_future"], "alice")
    ids["started_2d_ago"] = (
        await provider.create_call(ALICE, CallKind.SCHEDULED, starts_at=t + timedelta(minutes=30))
    ).id
    fake.set_call_times(ids["started_2d_ago"], starts_at=t - timedelta(days=2))
    ids["started_1h_ago_member"] = (
        await provider.create_call(CAROL, CallKind.SCHEDULED, starts_at=t + timedelta(minutes=40), member_ids=["alice"])
    ).id
    fake.set_call_times(ids["started_1h_ago_member"], starts_at=t - timedelta(hours=1))
    ids["bob_only_past"] = (await provider.create_call(BOB, CallKind.SCHEDULED, starts_at=t + timedelta(minutes=50))).id
    fake.set_call_times(ids["bob_only_past"], starts_at=t - timedelta(hours=3))
    return ids


@pytest.mark.asyncio
async def test_upcoming_calls_are_the_users_future_calls_soonest_first(fake, provider):
    ids = await _seed_calendar(fake, provider)
    page = await provider.upcoming_calls("alice")
    assert [m.id for m in page.items] == [ids["in_1h"], ids["in_2h_bob_invites_alice"], ids["in_3d"]]
    assert page.next_cursor is None
    assert all(m.starts_at > now() and not m.has_ended for m in page.items)
    bob = await provider.upcoming_calls("bob")
    assert [m.id for m in bob.items] == [ids["in_2h_bob_invites_alice"], ids["bob_only_future"]]
    assert (await provider.upcoming_calls("nobody")).items == []


@pytest.mark.asyncio
async def test_previous_calls_are_ended_or_started_most_recent_first(fake, provider):
    ids = await _seed_calendar(fake, provider)
    page = await provider.previous_calls("alice")
    assert [m.id for m in page.items] == [ids["ended_future"], ids["started_1h_ago_member"], ids["started_2d_ago"]]
    assert page.items[0].has_ended
    assert ids["bob_only_past"] not in [m.id for m in page.items]


@pytest.mark.asyncio
async def test_upcoming_and_previous_paginate_with_streams_cursor(fake, provider):
    t = now()
    made = [
        (await provider.create_call(ALICE, CallKind.SCHEDULED, starts_at=t + timedelta(hours=h))).id
        for h in range(1, 6)
    ]
    seen, cursor, pages = [], None, 0
    while True:
        page = await provider.upcoming_calls("alice", limit=2, cursor=cursor)
        pages += 1
        assert len(page.items) <= 2
        seen += [m.id for m in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == made

    for call_id, hours in zip(made, range(1, 6), strict=False):
        fake.set_call_times(call_id, starts_at=t - timedelta(hours=hours))
    first = await provider.previous_calls("alice", limit=3)
    second = await provider.previous_calls("alice", limit=3, cursor=first.next_cursor)
    assert [m.id for m in first.items + second.items] == made  # 1 h ago, 2 h ago, ...
    assert second.next_cursor is None
    with pytest.raises(InvalidRequest):
        await provider.upcoming_calls("alice", limit=0)
    for garbage in ("not-a-cursor", "12~", "x~abc", 42):
        with pytest.raises(InvalidRequest):
            await provider.previous_calls("alice", cursor=garbage)


@pytest.mark.asyncio
async def test_a_cursor_from_another_query_is_refused(fake, provider):
    t = now()
    for h in range(1, 4):
        await provider.create_call(ALICE, CallKind.SCHEDULED, starts_at=t + timedelta(hours=h))
    page = await provider.upcoming_calls("alice", limit=1)
    with pytest.raises(ProviderRejected):
        await provider.previous_calls("alice", limit=1, cursor=page.next_cursor)


# --- end_call ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_end_call_by_its_creator(fake, provider):
    meeting = await provider.create_call(ALICE, CallKind.INSTANT)
    ended = await provider.end_call(meeting.id, "alice")
    assert ended.has_ended
    stored = fake.call(meeting.id)
    assert same_instant(ended.ended_at, stored["ended_at"])
    again = await provider.end_call(meeting.id, "alice")
    assert again.ended_at == ended.ended_at
    assert len(fake.requests_to("POST", "/mark_ended$")) == 1


@pytest.mark.asyncio
async def test_only_the_creator_may_end_a_call(fake, provider):
    await users(provider, BOB)
    meeting = await provider.create_call(ALICE, CallKind.INSTANT, member_ids=["bob"])
    with pytest.raises(NotCallOwner):
        await provider.end_call(meeting.id, "bob")
    assert fake.call(meeting.id)["ended_at"] is None
    assert fake.requests_to("POST", "/mark_ended$") == []


@pytest.mark.asyncio
async def test_end_a_missing_call(fake, provider):
    with pytest.raises(CallNotFound):
        await provider.end_call("missing", "alice")


# --- recordings ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_recordings_of_the_users_calls_newest_first(fake, provider):
    await users(provider, BOB)
    t = now()
    own = await provider.create_call(ALICE, CallKind.INSTANT)
    invited = await provider.create_call(BOB, CallKind.INSTANT, member_ids=["alice"])
    foreign = await provider.create_call(BOB, CallKind.INSTANT)
    fake.add_recording(own.id, "own-old.mp4", start_time=t - timedelta(hours=3), end_time=t - timedelta(hours=2))
    fake.add_recording(own.id, "own-new.mp4", start_time=t - timedelta(minutes=20), end_time=t - timedelta(minutes=5))
    fake.add_recording(
        invited.id,
        "invited.mp4",
        start_time=t - timedelta(hours=1),
        end_time=t - timedelta(minutes=50),
        url="https://cdn.example/invited.mp4",
        session_id="s-9",
    )
    fake.add_recording(foreign.id, "not-alices.mp4", start_time=t, end_time=t + timedelta(minutes=1))

    found = (await provider.recordings("alice")).items
    assert [r.filename for r in found] == ["own-new.mp4", "invited.mp4", "own-old.mp4"]
    invited_rec = found[1]
    assert invited_rec.call_id == invited.id
    assert invited_rec.url == "https://cdn.example/invited.mp4"
    assert invited_rec.id == "s-9/invited.mp4"
    assert abs(invited_rec.start_time - (t - timedelta(hours=1))) < timedelta(microseconds=5)
    assert invited_rec.end_time.tzinfo is not None


@pytest.mark.asyncio
async def test_recordings_are_fetched_concurrently_for_at_most_limit_calls(fake):
    patient = make_provider(fake, timeout_seconds=5)  # the injected delay must not look like a timeout
    try:
        t = now()
        meetings = [await patient.create_call(ALICE, CallKind.INSTANT) for _ in range(5)]
        for i, m in enumerate(meetings):
            fake.add_recording(m.id, f"r{i}.mp4", start_time=t - timedelta(minutes=10 - i), end_time=t)
        delay = 0.4
        fake.inject("delay", None, path="/recordings$", seconds=delay)
        started = time.monotonic()
        found = (await patient.recordings("alice", limit=4)).items
        elapsed = time.monotonic() - started
    finally:
        await patient.close()
    listed = fake.requests_to("GET", "/recordings$")
    assert len(listed) == 4  # at most `limit` calls
    assert len(found) == 4
    assert elapsed < 3 * delay  # one at a time would take 4 x delay
    latest_start = max(r.started for r in listed)
    earliest_end = min(r.finished for r in listed)
    assert latest_start < earliest_end  # all four were in flight together


@pytest.mark.asyncio
async def test_recordings_page_through_every_call(fake, provider):
    t = now()
    made = [await provider.create_call(ALICE, CallKind.INSTANT) for _ in range(5)]
    for i, m in enumerate(made):
        fake.add_recording(m.id, f"r{i}.mp4", start_time=t - timedelta(minutes=10 - i), end_time=t)
    seen, cursor = [], None
    for _ in range(5):
        page = await provider.recordings("alice", limit=2, cursor=cursor)
        seen += [r.filename for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == [f"r{i}.mp4" for i in range(5)]
    assert cursor is None


@pytest.mark.asyncio
async def test_recordings_skip_a_call_deleted_meanwhile(fake, provider):
    meeting = await provider.create_call(ALICE, CallKind.INSTANT)
    fake.inject(404, 1, path="/recordings$")
    assert (await provider.recordings("alice")).items == []
    fake.add_recording(meeting.id, "r.mp4", start_time=now() - timedelta(minutes=1), end_time=now())
    assert [r.filename for r in (await provider.recordings("alice")).items] == ["r.mp4"]


# --- failure modes -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_timeout_is_retried_then_succeeds(fake, provider):
    meeting = await provider.create_call(ALICE, CallKind.INSTANT)
    fake.inject("timeout", 1, path=CALL_PATH, method="GET", seconds=CLIENT_TIMEOUT + 1)
    assert (await provider.get_call(meeting.id)).id == meeting.id
    gets = fake.requests_to("GET", CALL_PATH)
    assert [r.fault for r in gets] == ["timeout", None]


@pytest.mark.asyncio
async def test_persistent_timeout_becomes_provider_unavailable(fake, provider):
    fake.inject("timeout", None, seconds=CLIENT_TIMEOUT + 1)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.get_call("slow")
    assert len(fake.requests) == ATTEMPTS
    assert time.monotonic() - started < ATTEMPTS * CLIENT_TIMEOUT + 1
    assert "can't be reached" in caught.value.user_message


@pytest.mark.asyncio
async def test_server_error_is_retried_then_succeeds(fake, provider):
    fake.inject(500, 2, path="^/api/v2/video/calls$")
    await provider.create_call(ALICE, CallKind.SCHEDULED, starts_at=now() + timedelta(hours=1))
    page = await provider.upcoming_calls("alice")
    assert len(page.items) == 1
    assert [r.status for r in fake.requests_to("POST", "^/api/v2/video/calls$")] == [500, 500, 201]


@pytest.mark.asyncio
async def test_persistent_server_error_becomes_provider_unavailable(fake, provider):
    fake.inject(503, None)
    with pytest.raises(ProviderUnavailable):
        await provider.upcoming_calls("alice")
    assert len(fake.requests) == ATTEMPTS


@pytest.mark.asyncio
async def test_rate_limit_is_retried_then_succeeds(fake, provider):
    fake.inject(429, 1, path=CALL_PATH, method="POST")
    meeting = await provider.create_call(ALICE, CallKind.INSTANT)
    assert fake.call(meeting.id) is not None
    assert [r.status for r in fake.requests_to("POST", CALL_PATH)] == [429, 201]
    assert fake.call_count == 1


@pytest.mark.asyncio
async def test_persistent_rate_limit_becomes_provider_unavailable(fake, provider):
    fake.inject(429, None, retry_after=1)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        await provider.upsert_user(ALICE)
    assert [r.status for r in fake.requests] == [429] * ATTEMPTS
    assert time.monotonic() - started < 1  # Retry-After is capped by the provider's maximum backoff


@pytest.mark.asyncio
async def test_malformed_body_is_retried_then_succeeds(fake, provider):
    meeting = await provider.create_call(ALICE, CallKind.INSTANT)
    fake.inject("malformed", 1, path=CALL_PATH, method="GET")
    assert await provider.get_call(meeting.id) == meeting


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["malformed", "iso_timestamps"])
async def test_persistently_malformed_body_becomes_provider_unavailable(fake, provider, kind):
    meeting = await provider.create_call(ALICE, CallKind.INSTANT)
    fake.inject(kind, None, path=CALL_PATH, method="GET")
    with pytest.raises(ProviderUnavailable):
        await provider.get_call(meeting.id)
    assert len(fake.requests_to("GET", CALL_PATH)) == ATTEMPTS


@pytest.mark.asyncio
async def test_unreachable_stream_becomes_provider_unavailable():
    fake = FakeStream().start()
    base_url = fake.base_url
    fake.stop()  # nothing listens on that port any more
    unreachable = StreamProvider(
        fake.api_key,
        fake.api_secret,
        base_url=base_url,
        timeout_seconds=CLIENT_TIMEOUT,
        max_retries=1,
        backoff_base_seconds=0.01,
    )
    try:
        with pytest.raises(ProviderUnavailable):
            await unreachable.upcoming_calls("alice")
    finally:
        await unreachable.close()


@pytest.mark.asyncio
async def test_bad_secret_is_rejected_naming_the_settings(fake):
    wrong = make_provider(fake, api_secret="not-the-right-secret-but-just-as-long")
    try:
        with pytest.raises(ProviderRejected) as caught:
            await wrong.get_call("any")
    finally:
        await wrong.close()
    assert "STREAM_API_KEY" in caught.value.user_message and "STREAM_API_SECRET" in caught.value.user_message
    assert "STREAM_API_SECRET" in str(caught.value)
    assert [r.status for r in fake.requests] == [401]  # never retried


@pytest.mark.asyncio
async def test_bad_api_key_is_rejected(fake):
    wrong = make_provider(fake, api_key="someone-elses-key")
    try:
        with pytest.raises(ProviderRejected):
            await wrong.upsert_user(ALICE)
    finally:
        await wrong.close()
    assert len(fake.requests) == 1


@pytest.mark.asyncio
async def test_non_idempotent_requests_are_not_retried_after_a_server_error(fake, provider):
    meeting = await provider.create_call(ALICE, CallKind.INSTANT)
    fake.inject(500, None, path="/mark_ended$")
    with pytest.raises(ProviderUnavailable):
        await provider._request(
            "end call", lambda: provider._video.end_call("default", meeting.id), lambda data: None, idempotent=False
        )
    assert len(fake.requests_to("POST", "/mark_ended$")) == 1


@pytest.mark.asyncio
async def test_rate_limits_are_retried_even_for_non_idempotent_requests(fake, provider):
    meeting = await provider.create_call(ALICE, CallKind.INSTANT)
    fake.inject(429, 1, path="/mark_ended$")
    await provider._request(
        "end call", lambda: provider._video.end_call("default", meeting.id), lambda data: None, idempotent=False
    )
    assert [r.status for r in fake.requests_to("POST", "/mark_ended$")] == [429, 201]
    assert fake.call(meeting.id)["ended_at"] is not None


# --- no phantom meetings -------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["malformed", "timeout"])
async def test_a_failed_creation_leaves_no_phantom_meeting(fake, provider, kind):
    # Stream applies the request, but the answer never arrives intact, however often we ask.
    fake.inject(kind, None, path=CALL_PATH, method="POST", process=True, seconds=CLIENT_TIMEOUT + 1)
    with pytest.raises(ProviderUnavailable):
        await provider.create_call(ALICE, CallKind.SCHEDULED, starts_at=now() + timedelta(hours=1))
    assert len(fake.requests_to("POST", CALL_PATH)) == ATTEMPTS
    assert fake.requests_to("POST", "/delete$")[0].body == {"hard": True}
    assert fake.call_count == 0
    fake.clear_faults()
    assert (await provider.upcoming_calls("alice")).items == []
    assert (await provider.previous_calls("alice")).items == []


@pytest.mark.asyncio
async def test_a_retried_creation_returns_the_call_the_first_attempt_made(fake, provider):
    fake.inject("malformed", 1, path=CALL_PATH, method="POST")  # applied, answer garbled once
    meeting = await provider.create_call(ALICE, CallKind.INSTANT, description="once")
    assert fake.call_count == 1
    assert meeting.description == "once"
    assert fake.requests_to("POST", "/delete$") == []


@pytest.mark.asyncio
async def test_a_failed_user_upsert_creates_no_call(fake, provider):
    fake.inject(500, None, path="^/api/v2/users$")
    with pytest.raises(ProviderUnavailable):
        await provider.create_call(ALICE, CallKind.INSTANT)
    assert fake.requests_to("POST", CALL_PATH) == []
    assert fake.call_count == 0


# --- construction --------------------------------------------------------------------------------


def _settings(tmp_path, **env):
    base = {"YOOM_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/t.db"}
    return load_settings({**base, **env})


@pytest.mark.asyncio
async def test_from_settings_uses_base_url_timeout_retries_and_ttl(fake, tmp_path):
    settings = _settings(
        tmp_path,
        VIDEO_PROVIDER="stream",
        STREAM_API_KEY=fake.api_key,
        STREAM_API_SECRET=fake.api_secret,
        STREAM_BASE_URL=fake.base_url,
        STREAM_TIMEOUT_SECONDS="0.5",
        STREAM_MAX_RETRIES="1",
        VIDEO_TOKEN_TTL_SECONDS="120",
    )
    made = StreamProvider.from_settings(settings)
    try:
        assert made.name == "stream" and made.api_key == fake.api_key
        assert made._client.timeout == 0.5
        await made.upsert_user(ALICE)  # reaches the fake: base_url was used
        assert fake.user("alice") is not None
        token = made.mint_user_token("alice")
        assert (token.expires_at - now()).total_seconds() == pytest.approx(120, abs=2)
        fake.inject(500, None)
        with pytest.raises(ProviderUnavailable):
            await made.get_call("x")
        assert len(fake.requests_to("GET", "/x$")) == 2  # 1 retry
    finally:
        await made.close()
    assert made._client.client.is_closed


def test_from_settings_names_the_missing_secret(tmp_path):
    settings = _settings(tmp_path, VIDEO_PROVIDER="local", STREAM_API_KEY="k")
    with pytest.raises(SettingsError, match="STREAM_API_SECRET"):
        StreamProvider.from_settings(settings)


def test_get_provider_builds_one_stream_provider_per_process(fake, tmp_path, monkeypatch):
    import yoom.settings
    import yoom.video

    for name, value in {
        "YOOM_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "VIDEO_PROVIDER": "stream",
        "STREAM_API_KEY": fake.api_key,
        "STREAM_API_SECRET": fake.api_secret,
        "STREAM_BASE_URL": fake.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    yoom.settings.get_settings.cache_clear()
    yoom.video.get_provider.cache_clear()
    try:
        first = yoom.video.get_provider()
        assert isinstance(first, StreamProvider)
        assert yoom.video.get_provider() is first
        assert first._client is yoom.video.get_provider()._client
    finally:
        asyncio.run(first.close())
        yoom.video.get_provider.cache_clear()
        yoom.settings.get_settings.cache_clear()
