"""StreamProvider against the fake Stream server (real HTTP on 127.0.0.1, the unmodified getstream SDK)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import socket
import struct
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
# Yoom's own Stream call type, where every meeting Yoom makes lives (part of the contract with Stream: named
# here). Only its members, and holders of a call token naming the call, may read or join a call on it.
MEETING_TYPE = "yoom_invite_only"
CALL_PATH = rf"^/api/v2/video/call/{MEETING_TYPE}/[^/]+$"


def new_personal_room_id() -> str:
    return secrets.token_urlsafe(9)


def stay(call_id: str, user_id: str, joined: datetime, left: datetime | None = None) -> None:
    """Yoom's attendance: the person was in the call from `joined` to `left` (None: never closed)."""
    from yoom import attendance

    stay_id = attendance.open_stay(call_id, user_id, attendance.SOURCE_PAGE, at=joined)
    if left is not None:
        attendance.close_stay(stay_id, at=left)


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

    stored = fake.call(meeting.id, MEETING_TYPE)
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
    assert same_instant(meeting.starts_at, fake.call(meeting.id, MEETING_TYPE)["starts_at"])


@pytest.mark.asyncio
async def test_create_call_validates_before_calling_stream(fake, provider):
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.SCHEDULED)  # no start time
    with pytest.raises(InvalidRequest) as too_long:
        await provider.create_call(ALICE, CallKind.INSTANT, description="x" * (MAX_DESCRIPTION_LENGTH + 1))
    assert str(MAX_DESCRIPTION_LENGTH) in too_long.value.user_message
    for not_a_room_id in (None, "alice", str(uuid.uuid4()), "short"):
        # A personal room's id comes from the caller: never missing, the user id, a UUID, or guessable.
        with pytest.raises(InvalidRequest):
            await provider.create_call(ALICE, CallKind.PERSONAL, call_id=not_a_room_id)
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, "meeting-of-some-kind")
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.INSTANT, member_ids=[f"user{i}" for i in range(100)])
    assert fake.requests == []


@pytest.mark.asyncio
async def test_personal_room_is_get_or_create_with_its_random_id(fake, provider):
    room_id = new_personal_room_id()
    room = await provider.create_call(ALICE, CallKind.PERSONAL, call_id=room_id, description="Alice's room")
    assert room.id == room_id != "alice"
    assert room.kind is CallKind.PERSONAL and room.call_type == MEETING_TYPE  # Stream lets in whom Yoom lets in
    again = await provider.create_call(ALICE, CallKind.PERSONAL, call_id=room_id, description="changed?")
    assert again.id == room_id
    assert again.created_at == room.created_at
    assert again.description == "Alice's room"  # get-or-create returns the existing room unchanged
    assert fake.call_count == 1


@pytest.mark.asyncio
async def test_a_personal_room_id_someone_else_created_first_is_refused(fake, provider):
    # Only Yoom's server creates calls on Yoom's type: if another owner's call holds the id, it isn't her room.
    room_id = new_personal_room_id()
    fake.put_call(room_id, "mallory", call_type=MEETING_TYPE, starts_at=now(), custom={"kind": "personal"})
    with pytest.raises(InvalidRequest) as taken:
        await provider.create_call(ALICE, CallKind.PERSONAL, call_id=room_id)
    assert taken.value.user_message == "That meeting ID is already taken."
    assert fake.call(room_id, MEETING_TYPE)["created_by_id"] == "mallory"


@pytest.mark.asyncio
async def test_a_default_twin_made_with_a_user_token_does_not_take_a_personal_room(fake, provider):
    # Any user token may create a `default` call with any id: that never makes the id someone else's room.
    room_id = new_personal_room_id()
    fake.put_call(room_id, "mallory", starts_at=now(), custom={"kind": "personal"})
    room = await provider.create_call(ALICE, CallKind.PERSONAL, call_id=room_id)
    assert (room.created_by, room.call_type) == ("alice", MEETING_TYPE)
    assert (await make_provider(fake).get_call(room_id)).created_by == "alice"
    assert fake.call(room_id)["created_by_id"] == "mallory"  # hers is left alone


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
    assert made.call_type == MEETING_TYPE and made.cid == f"{MEETING_TYPE}:{made.id}"
    assert fake.call(made.id) is None  # not on `default`, where any signed-in user may join
    stored = fake.call(made.id, MEETING_TYPE)
    assert stored["custom"] == {"description": "Board", "kind": "scheduled", "invite_only": True}
    assert set(stored["members"]) == {"alice", "bob", "carol"}
    # The invitees did not exist on Stream: they were created, with their names, in one request before the call.
    assert fake.user("bob")["name"] == "Bob Brown" and fake.user("carol")["name"] == "Carol Chen"
    upserts = fake.requests_to("POST", r"^/api/v2/users$")
    assert [sorted(r.body["users"]) for r in upserts] == [["alice"], ["bob", "carol"]]
    assert fake.requests[0].path == f"/api/v2/video/calltypes/{MEETING_TYPE}"  # its type came first
    got = await provider.get_call(made.id)
    assert got == made
    assert got.admits("alice") and got.admits("bob") and not got.admits("mallory")
    assert [m.invite_only for m in (await provider.upcoming_calls("carol")).items] == [True]
    # Known users are not sent again; an open call keeps Stream's custom data as before.
    fake.clear_requests()
    open_call = await provider.create_call(ALICE, CallKind.INSTANT, invitees=[BOB])
    assert fake.requests_to("POST", r"^/api/v2/users$") == []
    assert open_call.invite_only is False and fake.call(open_call.id, MEETING_TYPE)["custom"] == {
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
    fake.put_call("taken", "mallory", call_type=MEETING_TYPE, starts_at=now())
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.INSTANT, call_id="taken")
    assert fake.call("taken", MEETING_TYPE)["created_by_id"] == "mallory"


# --- Yoom's members-only call type ----------------------------------------------------------------

CALL_TYPES_PATH = r"^/api/v2/video/calltypes"
MEMBER_PERMISSIONS = {"read-call", "join-call", "create-call"}


@pytest.mark.asyncio
async def test_meetings_get_a_call_type_where_only_members_and_call_token_holders_may_read_or_join(fake, provider):
    assert fake.call_type(MEETING_TYPE) is None
    await users(provider, BOB)
    fake.put_user("mallory")
    secret = await provider.create_call(ALICE, CallKind.INSTANT, member_ids=["bob"], invite_only=True)
    open_call = await provider.create_call(ALICE, CallKind.INSTANT)

    [create] = fake.requests_to("POST", CALL_TYPES_PATH + "$")
    assert create.status == 201 and create.body["name"] == MEETING_TYPE
    for role in ("user", "guest", "anonymous"):
        assert not MEMBER_PERMISSIONS & set(create.body["grants"][role]), role
    for role in ("call_member", "host", "admin"):
        assert set(create.body["grants"][role]) >= MEMBER_PERMISSIONS, role
    # What Stream then lets each one do with their own user token: the host and the invitee may read and
    # join; any other signed-in user may not, whatever link or id they hold.
    for member in ("alice", "bob"):
        assert {"read-call", "join-call"} <= fake.capabilities(MEETING_TYPE, secret.id, member)
    assert not {"read-call", "join-call"} & fake.capabilities(MEETING_TYPE, secret.id, "mallory")
    assert "end-call" in fake.capabilities(MEETING_TYPE, secret.id, "alice")
    assert "end-call" not in fake.capabilities(MEETING_TYPE, secret.id, "bob")
    # An open meeting is on the same type: Stream lets Mallory in only with the call token Yoom's token
    # route gives once Yoom's door lets her in — for that call alone, and without the host's powers.
    assert open_call.call_type == MEETING_TYPE
    assert not {"read-call", "join-call"} & fake.capabilities(MEETING_TYPE, open_call.id, "mallory")
    cids = jwt.decode(provider.call_token("mallory", open_call).token, options={"verify_signature": False})["call_cids"]
    assert cids == [open_call.cid]
    assert {"read-call", "join-call"} <= fake.capabilities(MEETING_TYPE, open_call.id, "mallory", cids)
    assert "end-call" not in fake.capabilities(MEETING_TYPE, open_call.id, "mallory", cids)
    assert not {"read-call", "join-call"} & fake.capabilities(MEETING_TYPE, secret.id, "mallory", cids)
    # Set up once per process.
    assert len(fake.requests_to("GET", CALL_TYPES_PATH)) == 1


@pytest.mark.asyncio
async def test_a_call_type_with_other_grants_gets_yoom_s_back(fake, provider):
    # Someone opened it up in the dashboard (or an older Yoom made it): `user` may join again.
    fake.put_call_type(MEETING_TYPE, {"user": ["read-call", "join-call"], "call_member": ["read-call"]})
    await provider.create_call(ALICE, CallKind.INSTANT, invite_only=True)
    assert fake.requests_to("POST", CALL_TYPES_PATH) == []
    [update] = fake.requests_to("PUT", CALL_TYPES_PATH)
    assert update.status == 201 and update.body["grants"]["user"] == []
    grants = fake.call_type(MEETING_TYPE)["grants"]
    assert grants["user"] == [] and set(grants["call_member"]) >= MEMBER_PERMISSIONS


@pytest.mark.asyncio
async def test_another_process_finds_the_call_type_ready_and_changes_nothing(fake, provider):
    await provider.create_call(ALICE, CallKind.INSTANT, invite_only=True)
    other = make_provider(fake)
    try:
        fake.clear_requests()
        await other.create_call(ALICE, CallKind.INSTANT, invite_only=True)
    finally:
        await other.close()
    assert [r.method for r in fake.requests_to("GET", CALL_TYPES_PATH)] == ["GET"]
    assert fake.requests_to("POST", CALL_TYPES_PATH) == fake.requests_to("PUT", CALL_TYPES_PATH) == []


@pytest.mark.asyncio
async def test_no_invite_only_meeting_is_made_while_its_call_type_cannot_be_set_up(fake, provider):
    fake.inject(500, None, path=CALL_TYPES_PATH)
    with pytest.raises(ProviderUnavailable):
        await provider.create_call(ALICE, CallKind.INSTANT, invite_only=True)
    assert fake.call_count == 0  # never an invite-only meeting on a type that lets anyone in
    fake.clear_faults()
    made = await provider.create_call(ALICE, CallKind.INSTANT, invite_only=True)  # tried again, now it works
    assert fake.call(made.id, MEETING_TYPE) is not None


@pytest.mark.asyncio
async def test_a_meeting_is_found_by_id_on_either_type_and_a_default_twin_never_wins(fake, provider):
    await users(provider, BOB, CAROL)
    secret = await provider.create_call(ALICE, CallKind.INSTANT, member_ids=["bob"], invite_only=True)
    older = "made-before"  # a meeting from before every meeting moved to Yoom's type: still on `default`
    fake.put_call(older, "alice", starts_at=now(), custom={"kind": "instant"})
    # Mallory learned the id and made a `default` call of the same id with her own token.
    fake.put_call(secret.id, "mallory", starts_at=now(), custom={"kind": "instant"})
    fresh = make_provider(fake)  # another process: it knows no call's type yet
    try:
        found = await fresh.get_call(secret.id)
        assert (found.created_by, found.call_type, found.invite_only) == ("alice", MEETING_TYPE, True)
        assert (await fresh.get_call(older)).call_type == "default"
        # Everything done to a meeting goes to its own type.
        await fresh.add_member(secret.id, CAROL)
        assert "carol" in fake.call(secret.id, MEETING_TYPE)["members"]
        ended = await fresh.end_call(secret.id, "alice")
        assert ended.has_ended and fake.call(secret.id, MEETING_TYPE)["ended_at"] is not None
        assert fake.call(secret.id)["ended_at"] is None and "carol" not in fake.call(secret.id)["members"]
    finally:
        await fresh.close()


@pytest.mark.asyncio
async def test_fake_checks_call_type_requests_against_the_spec(fake, provider):
    await provider.upsert_user(ALICE)
    headers = {"Authorization": fake.requests[0].headers["authorization"], "stream-auth-type": "jwt"}
    params = {"api_key": fake.api_key}
    url = fake.base_url + "/api/v2/video/calltypes"
    async with httpx.AsyncClient() as client:
        no_name = await client.post(url, params=params, json={"grants": {}}, headers=headers)
        bad_permission = await client.post(
            url, params=params, json={"name": "x_type", "grants": {"user": ["fly"]}}, headers=headers
        )
        not_a_list = await client.post(
            url, params=params, json={"name": "x_type", "grants": {"user": "join-call"}}, headers=headers
        )
        made = await client.post(url, params=params, json={"name": "x_type", "grants": {"user": []}}, headers=headers)
        again = await client.post(url, params=params, json={"name": "x_type"}, headers=headers)
        missing = await client.get(url + "/nope", params=params, headers=headers)
        update_missing = await client.put(url + "/nope", params=params, json={"grants": {}}, headers=headers)
    assert [r.status_code for r in (no_name, bad_permission, not_a_list, again)] == [400, 400, 400, 400]
    assert "fly" in bad_permission.json()["message"]
    assert made.status_code == 201 and made.json()["grants"]["user"] == []
    assert isinstance(made.json()["created_at"], int)  # Stream's wire format: integer nanoseconds
    assert made.json()["grants"]["call_member"]  # roles left out keep Stream's defaults
    assert missing.status_code == update_missing.status_code == 404 and missing.json()["code"] == 16


# --- get_call ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_get_call(fake, provider):
    await users(provider, BOB)
    made = await provider.create_call(
        ALICE, CallKind.SCHEDULED, starts_at=now() + timedelta(hours=1), description="Review", member_ids=["bob"]
    )
    got = await provider.get_call(made.id)
    assert got == made
    assert got.cid == f"{MEETING_TYPE}:{made.id}"


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
    assert "carol" in fake.call(meeting.id, MEETING_TYPE)["members"]
    assert fake.call(meeting.id, MEETING_TYPE)["members"]["alice"]["role"] == "host"
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
    stored = fake.call(meeting.id, MEETING_TYPE)
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
    assert fake.call(meeting.id, MEETING_TYPE)["ended_at"] is None
    assert fake.requests_to("POST", "/mark_ended$") == []


@pytest.mark.asyncio
async def test_end_a_missing_call(fake, provider):
    with pytest.raises(CallNotFound):
        await provider.end_call("missing", "alice")


# --- recordings ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_recordings_of_the_users_calls_newest_first(fake, provider):
    _user("alice")
    await users(provider, BOB)
    t = now()
    own = await provider.create_call(ALICE, CallKind.INSTANT)
    attended = await provider.create_call(BOB, CallKind.INSTANT)
    foreign = await provider.create_call(BOB, CallKind.INSTANT)
    fake.add_recording(own.id, "own-old.mp4", start_time=t - timedelta(hours=3), end_time=t - timedelta(hours=2))
    fake.add_recording(own.id, "own-new.mp4", start_time=t - timedelta(minutes=20), end_time=t - timedelta(minutes=5))
    fake.add_recording(
        attended.id,
        "attended.mp4",
        start_time=t - timedelta(hours=1),
        end_time=t - timedelta(minutes=50),
        url="https://cdn.example/attended.mp4",
        session_id="s-9",
    )
    fake.add_recording(foreign.id, "not-alices.mp4", start_time=t, end_time=t + timedelta(minutes=1))
    stay(attended.id, "alice", t - timedelta(hours=2), t - timedelta(minutes=30))

    found = (await provider.recordings("alice")).items
    assert [r.filename for r in found] == ["own-new.mp4", "attended.mp4", "own-old.mp4"]
    attended_rec = found[1]
    assert attended_rec.call_id == attended.id and attended_rec.host_id == "bob"
    assert attended_rec.url == "https://cdn.example/attended.mp4"
    assert attended_rec.id == "s-9/attended.mp4"
    assert abs(attended_rec.start_time - (t - timedelta(hours=1))) < timedelta(microseconds=5)
    assert attended_rec.end_time.tzinfo is not None


def _user(name: str):
    """A Yoom account with this id (attendance points at Yoom's users)."""
    from yoom.db import session_scope
    from yoom.models import User

    with session_scope() as db:
        db.add(User(id=name, username=name, display_name=name.title(), created_at=now()))


@pytest.mark.asyncio
async def test_recordings_are_for_the_host_and_whoever_was_there_while_it_recorded(fake, provider):
    """Membership of an open meeting, or being there at another time, shows nothing (Stream provider)."""
    for name in ("alice", "bob", "carol", "dave"):
        _user(name)
    await users(provider, BOB, CAROL, VideoUser("dave", "Dave"))
    t = now()
    meeting = await provider.create_call(ALICE, CallKind.INSTANT, member_ids=["bob"])
    fake.add_recording(
        meeting.id, "while-carol.mp4", start_time=t - timedelta(hours=2), end_time=t - timedelta(hours=1)
    )
    fake.add_recording(
        meeting.id, "after-carol.mp4", start_time=t - timedelta(minutes=30), end_time=t - timedelta(minutes=10)
    )
    stay(meeting.id, "carol", t - timedelta(hours=3), t - timedelta(minutes=50))
    # Dave came after both recordings; his tab vanished without saying goodbye.
    stay(meeting.id, "dave", t - timedelta(minutes=5))

    async def names(user_id):
        return sorted(r.filename for r in (await provider.recordings(user_id)).items)

    assert await names("alice") == ["after-carol.mp4", "while-carol.mp4"]  # the host
    assert await names("carol") == ["while-carol.mp4"]
    assert await names("bob") == []  # invited to an open meeting, never there
    assert await names("dave") == []
    # Someone who was in none of these calls isn't even asked about: no recordings request for them.
    fake.clear_requests()
    assert await names("bob") == []
    assert fake.requests_to("GET", "/recordings$") == []


@pytest.mark.asyncio
async def test_invitees_see_recordings_only_when_the_host_shared_them(fake, provider):
    for name in ("alice", "bob"):
        _user(name)
    await users(provider, BOB)
    t = now()
    shared = await provider.create_call(
        ALICE, CallKind.INSTANT, member_ids=["bob"], invite_only=True, share_recordings=True
    )
    private = await provider.create_call(ALICE, CallKind.INSTANT, member_ids=["bob"], invite_only=True)
    assert shared.share_recordings is True and private.share_recordings is False
    assert fake.call(shared.id, MEETING_TYPE)["custom"]["share_recordings"] is True
    for meeting in (shared, private):
        fake.add_recording(
            meeting.id,
            f"{meeting.id}.mp4",
            start_time=t - timedelta(hours=1),
            end_time=t,
            call_type=MEETING_TYPE,
        )
    assert [r.call_id for r in (await provider.recordings("bob")).items] == [shared.id]
    assert sorted(r.call_id for r in (await provider.recordings("alice")).items) == sorted([shared.id, private.id])
    with pytest.raises(InvalidRequest):
        await provider.create_call(ALICE, CallKind.INSTANT, member_ids=["bob"], share_recordings=True)


@pytest.mark.asyncio
async def test_previous_meetings_list_calls_attended_without_making_a_member(fake, provider):
    _user("carol")
    meeting = await provider.create_call(ALICE, CallKind.INSTANT)
    assert (await provider.previous_calls("carol")).items == []
    stay(meeting.id, "carol", now())
    assert [m.id for m in (await provider.previous_calls("carol")).items] == [meeting.id]
    assert "carol" not in fake.call(meeting.id, MEETING_TYPE)["members"]


@pytest.mark.asyncio
async def test_recordings_are_fetched_concurrently_for_at_most_limit_calls(fake, yoom_env):
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
    assert fake.call(meeting.id, MEETING_TYPE) is not None
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
async def test_unreachable_stream_becomes_provider_unavailable(yoom_env):
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
            "end call", lambda: provider._video.end_call(MEETING_TYPE, meeting.id), lambda data: None, idempotent=False
        )
    assert len(fake.requests_to("POST", "/mark_ended$")) == 1


@pytest.mark.asyncio
async def test_rate_limits_are_retried_even_for_non_idempotent_requests(fake, provider):
    meeting = await provider.create_call(ALICE, CallKind.INSTANT)
    fake.inject(429, 1, path="/mark_ended$")
    await provider._request(
        "end call", lambda: provider._video.end_call(MEETING_TYPE, meeting.id), lambda data: None, idempotent=False
    )
    assert [r.status for r in fake.requests_to("POST", "/mark_ended$")] == [429, 201]
    assert fake.call(meeting.id, MEETING_TYPE)["ended_at"] is not None


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
        fake.inject(500, None, path="/x$")
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


# --- what a user token can do on Stream (the browser's side: tests/browser/fake_stream_client.py) -----


def _browser_connection(client_api, token: str, user_id: str) -> tuple[socket.socket, str]:
    """Connect as the Stream SDK does (a WebSocket with the user's token); returns (socket, connection_id)."""
    sock = socket.create_connection(("127.0.0.1", client_api.port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /video/connect?api_key={client_api.api_key} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    payload = json.dumps({"token": token, "user_details": {"id": user_id}}).encode()
    mask = os.urandom(4)
    sock.sendall(
        bytes([0x81, 0x80 | 126])
        + struct.pack("!H", len(payload))
        + mask
        + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    )
    header = sock.recv(2)
    size = header[1] & 0x7F
    if size == 126:
        size = struct.unpack("!H", sock.recv(2))[0]
    body = b""
    while len(body) < size:
        body += sock.recv(size - len(body))
    message = json.loads(body)
    assert message["type"] == "connection.ok", message
    return sock, message["connection_id"]


@pytest.mark.asyncio
async def test_a_user_token_opens_only_the_meetings_yoom_let_its_holder_into(fake, provider):
    from tests.browser.fake_stream_client import FakeStreamClientAPI

    await users(provider, BOB, VideoUser("mallory", "Mallory"))
    secret = await provider.create_call(ALICE, CallKind.INSTANT, member_ids=["bob"], invite_only=True)
    open_call = await provider.create_call(ALICE, CallKind.INSTANT)
    client_api = FakeStreamClientAPI(fake).start()
    passes = {
        "bob": ("bob", provider.mint_user_token("bob").token),
        "mallory": ("mallory", provider.mint_user_token("mallory").token),
        # What Yoom's token route gives Mallory once its door lets her into the open meeting (a knocker
        # let in, anyone signed in when no lobby): a call token naming that call.
        "mallory let in": ("mallory", provider.call_token("mallory", open_call).token),
    }
    sockets = []
    try:
        answers = {}
        for name, (user_id, token) in passes.items():
            sock, connection_id = await asyncio.to_thread(_browser_connection, client_api, token, user_id)
            sockets.append(sock)
            params = {"api_key": fake.api_key, "connection_id": connection_id}
            headers = {"Authorization": token, "stream-auth-type": "jwt"}
            async with httpx.AsyncClient(base_url=client_api.base_url, timeout=10) as http:
                for meeting in (secret, open_call):
                    path = f"/call/{meeting.call_type}/{meeting.id}"
                    got = await http.get(path, params=params, headers=headers)
                    joined = await http.post(path + "/join", params=params, headers=headers, json={})
                    answers[(name, meeting.id)] = (got.status_code, joined.status_code, got.json(), joined.json())
    finally:
        for sock in sockets:
            sock.close()
        client_api.stop()
    # Mallory's own user token is refused by Stream itself, on every meeting: not even the call's details.
    # Knowing an open meeting's link is not enough to walk past Yoom's lobby straight to Stream.
    for meeting in (secret, open_call):
        status, join_status, body, join_body = answers[("mallory", meeting.id)]
        assert (status, join_status) == (403, 403) and body["code"] == join_body["code"] == 17
        assert "description" not in json.dumps(body)
    # Bob, invited (a member), loads it and gets as far as the media server (which the fake doesn't have: 503).
    status, join_status, body, _ = answers[("bob", secret.id)]
    assert (status, join_status) == (200, 503) and "join-call" in body["own_capabilities"]
    assert answers[("bob", open_call.id)][:2] == (403, 403)
    # Let in, Mallory's call token opens that meeting, and only that one.
    assert answers[("mallory let in", open_call.id)][:2] == (200, 503)
    assert answers[("mallory let in", secret.id)][:2] == (403, 403)
