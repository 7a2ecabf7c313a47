"""The signaling WebSocket `/api/rtc/{call_id}` through Starlette's TestClient."""

from __future__ import annotations

import json
import time
import uuid
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

import yoom.api.rtc as rtc_route
from tests.integration.local_helpers import (
    expect,
    expect_close,
    make_user,
    no_frame,
    open_socket,
    provider,
    recv,
    run,
    token_for,
)
from yoom import admission, guests
from yoom.access_rules import Access, WhoMayJoin
from yoom.accounts import video_user
from yoom.rtc.hub import Hub, set_hub
from yoom.video.base import CallKind, NotCallOwner
from yoom.video.tokens import mint


@pytest.fixture
def people(local_env):
    return {name: make_user(name)[0] for name in ("alice", "bob", "carol")}


@pytest.fixture
def call(client, people):
    """An instant meeting created by alice."""
    return run(client, provider().create_call, video_user(people["alice"]), CallKind.INSTANT)


def connect(client, call_id, user):
    return open_socket(client, call_id, token_for(user.id))


@contextmanager
def joined(client, call_id, user):
    """Connected *and* in the room: the socket is accepted before admission, so wait for `welcome`
    before the next person connects (otherwise who joins first is up to the scheduler)."""
    with connect(client, call_id, user) as ws:
        yield ws, expect(ws, "welcome")


async def create_personal(user):
    """The user's personal room, opened with the id stored on their account."""
    from yoom.accounts import get_user

    return await provider().create_call(video_user(user), CallKind.PERSONAL, call_id=get_user(user.id).personal_room_id)


def refused(client, call_id: str, token: str | None) -> tuple[str, str, int]:
    with open_socket(client, call_id, token) as ws:
        error = recv(ws)
        code, rest = expect_close(ws)
    assert error["type"] == "error" and rest == []
    return error["code"], error["message"], code


def silent(client, call_id: str) -> tuple[str, str, int]:
    """A socket that never sends its token: refused once the server stops waiting for it."""
    with client.websocket_connect(f"/api/rtc/{call_id}") as ws:
        error = recv(ws)
        code, rest = expect_close(ws)
    assert error["type"] == "error" and rest == []
    return error["code"], error["message"], code


# --- admission ----------------------------------------------------------------------------------


def test_missing_bad_and_expired_tokens_are_unauthorized(client, call, people, monkeypatch):
    monkeypatch.setattr(rtc_route, "AUTH_TIMEOUT_SECONDS", 0.3)
    alice = people["alice"]
    expired = provider().mint_user_token(alice.id)
    expired_token, _ = mint(provider()._secret, alice.id, 60, now=datetime.now(UTC) - timedelta(hours=3))
    foreign, _ = mint("f" * 40, alice.id, 600)
    for token in (None, "", "garbage", expired_token, foreign, expired.token[:-4] + "AAAA"):  # tampered last
        code, message, close = refused(client, call.id, token) if token is not None else silent(client, call.id)
        assert (code, close) == ("unauthorized", 4401), token
        assert message and "Traceback" not in message


def test_guest_tokens_only_open_their_call(client, call, people):
    bob = people["bob"]
    other = run(client, provider().create_call, video_user(people["carol"]), CallKind.INSTANT)
    wrong = provider().mint_guest_token(bob.id, [f"default:{other.id}"]).token
    code, message, close = refused(client, call.id, wrong)
    assert (code, close) == ("unauthorized", 4401) and "different meeting" in message
    right = provider().mint_guest_token(bob.id, [f"default:{call.id}"]).token
    with open_socket(client, call.id, right) as ws:
        welcome = expect(ws, "welcome")
        assert welcome["user"] == {"id": bob.id, "name": "Bob", "image": None} and welcome["is_owner"] is False
    # A guest with no Yoom account (yoom/guests.py) joins under their name, marked as a guest; a guest pass
    # nobody was given (no such guest) opens nothing.
    admission.set_access(call.id, Access(WhoMayJoin.ANYONE, False), call.created_by)  # guests welcome
    visitor = guests.create(call.id, "Dana", "203.0.113.9").guest
    stranger = provider().mint_guest_token(visitor.id, [f"default:{call.id}"]).token
    with open_socket(client, call.id, stranger) as ws:
        assert expect(ws, "welcome")["user"] == {"id": visitor.id, "name": "Dana (guest)", "image": None}
    made_up = provider().mint_guest_token("guest-" + "0" * 20, [f"default:{call.id}"]).token
    assert refused(client, call.id, made_up)[::2] == ("unauthorized", 4401)
    # Without call_cids the token must belong to an account.
    code, _, close = refused(client, call.id, token_for("no-such-user"))
    assert (code, close) == ("unauthorized", 4401)


def test_unknown_and_malformed_call_ids(client, people):
    token = token_for(people["alice"].id)
    assert refused(client, str(uuid.uuid4()), token)[::2] == ("not-found", 4404)
    assert refused(client, "bad$id", token)[::2] == ("not-found", 4404)
    assert refused(client, "x" * 65, token)[::2] == ("not-found", 4404)


def test_a_stream_token_never_opens_the_room_channel(client, call, people):
    """Room tokens are signed with Yoom's own secret: a token signed with another (Stream's) is refused."""
    stream_token, _ = mint("s" * 48, people["alice"].id, 600)
    code, _message, close = refused(client, call.id, stream_token)
    assert (code, close) == ("unauthorized", 4401)


def test_invite_only_call_refuses_everyone_not_invited_with_forbidden(client, people):
    from functools import partial

    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    create = partial(provider().create_call, invitees=[video_user(bob)], invite_only=True)
    call = run(client, create, video_user(alice), CallKind.INSTANT)
    code, message, close = refused(client, call.id, token_for(carol.id))
    assert (code, close) == (
        "forbidden",
        4403,
    ) and message == "This meeting is invite-only. Ask the host to invite you."
    # A guest pass for this very call doesn't get past it either.
    guest = provider().mint_guest_token("guest-9", [f"default:{call.id}"]).token
    assert refused(client, call.id, guest)[::2] == ("forbidden", 4403)
    assert carol.id not in run(client, provider().get_call, call.id).members  # refused people aren't members
    with joined(client, call.id, alice) as (_wa, wa_welcome), joined(client, call.id, bob) as (_wb, wb_welcome):
        assert wa_welcome["is_owner"] is True and wb_welcome["user"]["id"] == bob.id
    # Ended or not, someone not invited hears only "forbidden".
    run(client, provider().end_call, call.id, alice.id)
    assert refused(client, call.id, token_for(carol.id))[::2] == ("forbidden", 4403)
    assert refused(client, call.id, token_for(bob.id))[::2] == ("ended", 4410)
    assert set(run(client, provider().get_call, call.id).members) == {alice.id, bob.id}


# --- relay ----------------------------------------------------------------------------------------


def test_relay_between_two_peers_and_membership(client, call, people):
    alice, bob = people["alice"], people["bob"]
    with joined(client, call.id, alice) as (wa, wa_welcome):
        assert wa_welcome["is_owner"] is True and wa_welcome["peers"] == [] and wa_welcome["ice_servers"] == []
        assert wa_welcome["user"]["id"] == alice.id and wa_welcome["user"]["name"] == "Alice"
        with joined(client, call.id, bob) as (wb, wb_welcome):
            assert wb_welcome["is_owner"] is False
            assert [p["peer_id"] for p in wb_welcome["peers"]] == [wa_welcome["peer_id"]]
            newcomer = expect(wa, "peer-joined")["peer"]
            assert newcomer == {
                "peer_id": wb_welcome["peer_id"],
                "user": {"id": bob.id, "name": "Bob", "image": None},
                "audio": False,
                "video": False,
                "screen": False,
                "hand_raised_at": None,
            }
            offer = {"sdp": {"type": "offer", "sdp": "v=0\r\n"}}
            wb.send_json({"type": "signal", "to": wa_welcome["peer_id"], "data": offer})
            assert expect(wa, "signal") == {"type": "signal", "from": wb_welcome["peer_id"], "data": offer}
            answer = {"sdp": {"type": "answer", "sdp": "v=0\r\n"}}
            wa.send_json({"type": "signal", "to": wb_welcome["peer_id"], "data": answer})
            assert expect(wb, "signal") == {"type": "signal", "from": wa_welcome["peer_id"], "data": answer}
            wa.send_json({"type": "media", "audio": True, "video": True, "screen": False})
            assert expect(wb, "media") == {
                "type": "media",
                "peer_id": wa_welcome["peer_id"],
                "audio": True,
                "video": True,
                "screen": False,
            }
            wb.send_json({"type": "ping"})
            expect(wb, "pong")
    # Joining made bob no member, but he was there: the meeting is among his previous meetings.
    eventually(lambda: [m.id for m in run(client, provider().previous_calls, bob.id).items] == [call.id])
    assert run(client, provider().get_call, call.id).members == (alice.id,)


def test_relay_among_three_peers(client, call, people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    with joined(client, call.id, alice) as (wa, wa_welcome), joined(client, call.id, bob) as (wb, wb_welcome):
        a, b = wa_welcome["peer_id"], wb_welcome["peer_id"]
        expect(wa, "peer-joined")
        with joined(client, call.id, carol) as (wc, welcome):
            c = welcome["peer_id"]
            assert [p["peer_id"] for p in welcome["peers"]] == [a, b]  # carol offers to both
            assert expect(wa, "peer-joined")["peer"]["peer_id"] == c
            assert expect(wb, "peer-joined")["peer"]["peer_id"] == c
            for target, ws in ((a, wa), (b, wb)):
                data = {
                    "candidate": {
                        "candidate": f"candidate:{target}",
                        "sdpMid": "0",
                        "sdpMLineIndex": 0,
                        "usernameFragment": None,
                    }
                }
                wc.send_json({"type": "signal", "to": target, "data": data})
                assert expect(ws, "signal") == {"type": "signal", "from": c, "data": data}
            wb.send_json({"type": "signal", "to": c, "data": {"sdp": {"type": "answer", "sdp": "b"}}})
            assert expect(wc, "signal")["from"] == b
            no_frame(wa)  # a never saw what went between b and c


def test_signals_do_not_cross_calls(client, call, people):
    other = run(client, provider().create_call, video_user(people["carol"]), CallKind.INSTANT)
    with (
        joined(client, call.id, people["alice"]) as (wa, _),
        joined(client, other.id, people["carol"]) as (wc, wc_welcome),
    ):
        c = wc_welcome["peer_id"]
        wa.send_json({"type": "signal", "to": c, "data": {"sdp": {"type": "offer", "sdp": "x"}}})
        assert expect(wa, "error")["code"] == "bad-message"
        no_frame(wc)


# --- leaving ----------------------------------------------------------------------------------------


def test_a_closed_socket_is_seen_leaving_within_seconds(client, call, people):
    with joined(client, call.id, people["alice"]) as (wa, _):
        with joined(client, call.id, people["bob"]) as (_wb, wb_welcome):
            b = wb_welcome["peer_id"]
            expect(wa, "peer-joined")
        started = time.monotonic()  # bob's tab is gone
        assert expect(wa, "peer-left", timeout=5) == {"type": "peer-left", "peer_id": b, "reason": "disconnected"}
        assert time.monotonic() - started < 5  # at once, not after the 10 s heartbeat
        wa.send_json({"type": "ping"})
        expect(wa, "pong")


def test_leave_message(client, call, people, hub):
    with (
        joined(client, call.id, people["alice"]) as (wa, _),
        joined(client, call.id, people["bob"]) as (wb, wb_welcome),
    ):
        b = wb_welcome["peer_id"]
        expect(wa, "peer-joined")
        wb.send_json({"type": "leave"})
        assert expect_close(wb) == (1000, [])
        assert expect(wa, "peer-left") == {"type": "peer-left", "peer_id": b, "reason": "left"}
        assert run(client, hub.room_size, call.id) == 1


def test_heartbeat_timeout(client, call, people):
    quick = Hub(heartbeat_timeout=1.0)
    set_hub(quick)
    with (
        joined(client, call.id, people["alice"]) as (wa, _),
        joined(client, call.id, people["bob"]) as (wb, wb_welcome),
    ):
        b = wb_welcome["peer_id"]
        expect(wa, "peer-joined")
        left = None
        for _ in range(40):  # alice pings every 0.1 s; bob's tab froze and sends nothing
            time.sleep(0.1)
            wa.send_json({"type": "ping"})
            frame = recv(wa)
            if frame["type"] == "peer-left":
                left = frame
                break
            assert frame["type"] == "pong"
        assert left == {"type": "peer-left", "peer_id": b, "reason": "timeout"}
        code, frames = expect_close(wb)
        assert code == 4408 and frames[-1]["type"] == "error" and frames[-1]["code"] == "timeout"
        assert run(client, quick.room_size, call.id) == 1


# --- ending -----------------------------------------------------------------------------------------


def test_end_call_for_everyone(client, call, people, hub):
    alice, bob = people["alice"], people["bob"]
    with joined(client, call.id, alice) as (wa, _), joined(client, call.id, bob) as (wb, _):
        expect(wa, "peer-joined")
        with pytest.raises(NotCallOwner):
            run(client, provider().end_call, call.id, bob.id)
        no_frame(wa)
        run(client, provider().end_call, call.id, alice.id)
        for ws in (wa, wb):
            code, frames = expect_close(ws)
            assert code == 4000 and frames == [{"type": "call-ended", "by": alice.id}]
    assert run(client, hub.room_size, call.id) == 0
    code, message, close = refused(client, call.id, token_for(bob.id))
    assert (code, close) == ("ended", 4410) and "ended" in message
    assert refused(client, call.id, token_for(alice.id))[::2] == ("ended", 4410)


def test_personal_room_reopens_for_its_owner_only(client, people):
    alice, bob = people["alice"], people["bob"]
    room = run(client, create_personal, alice)
    run(client, provider().end_call, room.id, alice.id)
    code, message, close = refused(client, room.id, token_for(bob.id))
    assert (code, close) == ("ended", 4410) and "personal room" in message
    with joined(client, room.id, alice) as (_wa, wa_welcome):
        assert wa_welcome["is_owner"] is True
        # A personal room asks to join: bob waits until alice lets him in.
        assert refused(client, room.id, token_for(bob.id))[::2] == ("not-admitted", 4423)
        admission.knock(room.id, bob.id, "Bob", is_guest=False)
        admission.decide(room.id, bob.id, True, alice.id)
        with joined(client, room.id, bob) as (_wb, wb_welcome):
            assert len(wb_welcome["peers"]) == 1
    assert run(client, provider().get_call, room.id).ended_at is None


# --- limits and bad input ----------------------------------------------------------------------------


def test_the_seventh_person_is_told_the_room_is_full(client, call, people):
    others = [make_user(f"guest{n}")[0] for n in range(6)]
    with ExitStack() as inside:
        for person in others[:5]:
            expect(inside.enter_context(connect(client, call.id, person)), "welcome")
        host = inside.enter_context(connect(client, call.id, people["alice"]))
        assert len(expect(host, "welcome")["peers"]) == 5
        code, message, close = refused(client, call.id, token_for(others[5].id))
        assert (code, close) == ("full", 4429) and "6" in message
        assert run(client, provider().get_call, call.id).members.count(others[5].id) == 0
    with connect(client, call.id, others[5]) as ws:  # once they have left there is room
        expect(ws, "welcome")


def test_malformed_messages_are_answered_and_the_socket_stays_open(client, call, people):
    with (
        joined(client, call.id, people["alice"]) as (wa, wa_welcome),
        joined(client, call.id, people["bob"]) as (wb, _),
    ):
        a = wa_welcome["peer_id"]
        expect(wa, "peer-joined")
        bad_frames = [
            lambda: wb.send_text("{not json"),
            lambda: wb.send_text("[]"),
            lambda: wb.send_text('{"type":"teleport"}'),
            lambda: wb.send_bytes(b"\x00\x01"),
            lambda: wb.send_text(json.dumps({"type": "signal", "to": "nobody", "data": {"candidate": None}})),
            lambda: wb.send_text(json.dumps({"type": "signal", "to": a, "data": {"sdp": "x" * (70 * 1024)}})),
            lambda: wb.send_text(json.dumps({"type": "media", "audio": "loud"})),
        ]
        for send in bad_frames:
            send()
            error = expect(wb, "error")
            assert error["code"] == "bad-message" and error["message"]
        wb.send_json({"type": "recording", "active": True})  # only the host records
        assert expect(wb, "error")["code"] == "forbidden"
        no_frame(wa)
        wb.send_json({"type": "ping"})
        expect(wb, "pong")
        wb.send_json({"type": "signal", "to": a, "data": {"sdp": {"type": "offer", "sdp": "ok"}}})
        assert expect(wa, "signal")["data"] == {"sdp": {"type": "offer", "sdp": "ok"}}


def test_recording_indicator_reaches_everyone(client, call, people):
    with (
        joined(client, call.id, people["alice"]) as (wa, wa_welcome),
        joined(client, call.id, people["bob"]) as (wb, _),
    ):
        a = wa_welcome["peer_id"]
        expect(wa, "peer-joined")
        wa.send_json({"type": "recording", "active": True})
        assert expect(wb, "recording") == {"type": "recording", "peer_id": a, "active": True}
        with joined(client, call.id, people["carol"]) as (wc, _):
            assert expect(wc, "recording") == {"type": "recording", "peer_id": a, "active": True}


# --- security: passes after sign-out, tokens out of URLs, the join window ---------------------------


def test_a_video_token_stops_opening_the_socket_once_its_session_signs_out(client, call, people):
    from yoom import accounts

    bob = people["bob"]
    session = accounts.create_session(bob.id)
    token = provider().mint_user_token(bob.id, session_id=accounts.session_id(session)).token
    with open_socket(client, call.id, token) as ws:
        expect(ws, "welcome")
    accounts.sign_out(session)
    code, message, close = refused(client, call.id, token)
    assert (code, close) == ("unauthorized", 4401) and "signed out" in message
    # A token minted for no session at all is refused the same way.
    assert refused(client, call.id, provider().mint_user_token(bob.id).token)[::2] == ("unauthorized", 4401)


def test_a_token_in_the_url_is_not_read(client, call, people, monkeypatch):
    monkeypatch.setattr(rtc_route, "AUTH_TIMEOUT_SECONDS", 0.3)
    token = token_for(people["bob"].id)
    with client.websocket_connect(f"/api/rtc/{call.id}?token={token}") as ws:
        error = recv(ws)
        code, _ = expect_close(ws)
    assert (error["code"], code) == ("unauthorized", 4401)


def test_nobody_but_the_host_gets_in_before_a_scheduled_meetings_join_window(client, people):
    alice, bob = people["alice"], people["bob"]
    later = datetime.now(UTC) + timedelta(hours=2)
    call = run(client, partial(provider().create_call, starts_at=later), video_user(alice), CallKind.SCHEDULED)
    code, message, close = refused(client, call.id, token_for(bob.id))
    assert (code, close) == ("not-started", 4425) and "10 minutes before" in message
    with joined(client, call.id, alice) as (_ws, welcome):  # as in Zoom, the host may start early
        assert welcome["is_owner"] is True
    soon = run(
        client,
        partial(provider().create_call, starts_at=datetime.now(UTC) + timedelta(minutes=9)),
        video_user(alice),
        CallKind.SCHEDULED,
    )
    with joined(client, soon.id, bob) as (_ws, welcome):
        assert welcome["user"]["id"] == bob.id


# --- room squatting and removal ------------------------------------------------------------------


def test_one_account_holds_one_seat_however_many_sockets_it_opens(client, call, people):
    set_hub(Hub(capacity=2))
    alice, bob = people["alice"], people["bob"]
    with ExitStack() as squatting:
        previous = None
        for _ in range(6):
            # Admitted one after the other (each waits for its welcome): each new one replaces the one before.
            ws = squatting.enter_context(connect(client, call.id, bob))
            assert [p["user"]["id"] for p in expect(ws, "welcome")["peers"]] == []
            if previous is not None:
                assert recv(previous)["code"] == "replaced"
                assert expect_close(previous)[0] == 4409
            previous = ws
        carol = make_user("carol2")[0]
        with joined(client, call.id, carol) as (_wc, welcome):  # the room of two still has a place
            assert [p["user"]["id"] for p in welcome["peers"]] == [bob.id]
            # Full now, but the host always gets in.
            with joined(client, call.id, alice) as (_wa, host_welcome):
                assert {p["user"]["id"] for p in host_welcome["peers"]} == {bob.id, carol.id}


def test_the_host_removes_someone_who_then_cannot_come_back_until_let_in(client, call, people):
    alice, bob = people["alice"], people["bob"]
    with joined(client, call.id, alice) as (wa, _), joined(client, call.id, bob) as (wb, bob_welcome):
        expect(wa, "peer-joined")
        with pytest.raises(NotCallOwner):
            run(client, provider().remove_participant, call.id, bob.id, alice.id)  # not bob's to decide
        run(client, provider().remove_participant, call.id, alice.id, bob.id)
        assert recv(wb)["code"] == "removed"
        assert expect_close(wb)[0] == 4430
        left = expect(wa, "peer-left")
        assert left == {"type": "peer-left", "peer_id": bob_welcome["peer_id"], "reason": "removed"}
    code, message, close = refused(client, call.id, token_for(bob.id))
    assert (code, close) == ("removed", 4430) and "removed you" in message
    assert run(client, provider().readmit, call.id, alice.id, bob.id) is True
    with joined(client, call.id, bob) as (_wb, welcome):
        assert welcome["user"]["id"] == bob.id


def test_a_personal_room_whose_link_was_reset_never_reopens(client, people):
    from yoom.accounts import reset_personal_room_id

    alice, bob = people["alice"], people["bob"]
    room = run(client, create_personal, alice)
    with joined(client, room.id, alice):
        pass
    run(client, provider().end_call, room.id, alice.id)
    reset_personal_room_id(alice.id)
    # Its owner walking in with the old link no longer opens it; nor does anyone else.
    code, message, close = refused(client, room.id, token_for(alice.id))
    assert (code, close) == ("ended", 4410) and "reset" in message
    assert refused(client, room.id, token_for(bob.id))[::2] == ("ended", 4410)
    assert run(client, provider().get_call, room.id).has_ended


# --- attendance ---------------------------------------------------------------------------------------


def stays_of(call_id: str, user_id: str):
    from yoom.attendance import stays

    return stays(user_id, [call_id])[call_id]


def eventually(check, timeout: float = 5.0) -> None:
    """The server closes a stay as the peer goes, on its own loop: wait (bounded) for it."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_stay_opens_on_admission_and_closes_when_the_peer_leaves(client, call, people):
    alice, bob = people["alice"], people["bob"]
    with joined(client, call.id, alice) as (wa, _):
        with joined(client, call.id, bob) as (wb, _):
            expect(wa, "peer-joined")
            eventually(lambda: len(stays_of(call.id, bob.id)) == 1)
            assert stays_of(call.id, bob.id)[0].left_at is None
            wb.send_json({"type": "leave"})
            expect_close(wb)
            expect(wa, "peer-left")
        eventually(lambda: stays_of(call.id, bob.id)[0].left_at is not None)
        [closed] = stays_of(call.id, bob.id)
        assert closed.left_at >= closed.joined_at
        with joined(client, call.id, bob):  # a second visit is a second stay
            expect(wa, "peer-joined")
        expect(wa, "peer-left", timeout=5)  # his socket dropped
    eventually(lambda: len(stays_of(call.id, bob.id)) == 2)
    eventually(lambda: all(s.left_at is not None for s in stays_of(call.id, bob.id) + stays_of(call.id, alice.id)))


def test_refused_people_and_guests_without_an_account_leave_no_stay(client, people):
    from functools import partial

    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    create = partial(provider().create_call, invitees=[video_user(bob)], invite_only=True)
    call = run(client, create, video_user(alice), CallKind.INSTANT)
    refused(client, call.id, token_for(carol.id))
    assert stays_of(call.id, carol.id) == []
    open_call = run(client, provider().create_call, video_user(alice), CallKind.INSTANT)
    admission.set_access(open_call.id, Access(WhoMayJoin.ANYONE, False), alice.id)
    visitor = guests.create(open_call.id, "Dana", "203.0.113.9").guest
    guest = provider().mint_guest_token(visitor.id, [f"default:{open_call.id}"]).token
    with open_socket(client, open_call.id, guest) as ws:
        expect(ws, "welcome")
    from yoom.attendance import attended_call_ids

    assert attended_call_ids(visitor.id) == []


def test_stays_close_on_timeout_and_when_the_call_ends(client, call, people):
    quick = Hub(heartbeat_timeout=1.0)
    set_hub(quick)
    alice, bob = people["alice"], people["bob"]
    with joined(client, call.id, alice) as (wa, _), joined(client, call.id, bob) as (wb, _):
        expect(wa, "peer-joined")
        for _ in range(40):  # alice pings; bob's tab froze
            time.sleep(0.1)
            wa.send_json({"type": "ping"})
            if recv(wa)["type"] == "peer-left":
                break
        expect_close(wb)
        # Closed as the hub let him go, though his frozen socket never answered the close.
        eventually(lambda: stays_of(call.id, bob.id)[0].left_at is not None)
        assert stays_of(call.id, alice.id)[0].left_at is None
        run(client, provider().end_call, call.id, alice.id)
        expect_close(wa)
        eventually(lambda: stays_of(call.id, alice.id)[0].left_at is not None)


def test_a_recording_reaches_only_who_was_in_the_room_while_it_ran(client, call, people):
    """Before: joining made bob a member, and members saw every recording, made before or after."""
    from datetime import datetime as dt

    alice, bob = people["alice"], people["bob"]
    with joined(client, call.id, alice) as (wa, _):
        with joined(client, call.id, bob):
            expect(wa, "peer-joined")
            # The server has written down that he is here once the meeting lists among his.
            eventually(lambda: [m.id for m in run(client, provider().previous_calls, bob.id).items] == [call.id])
            during_start = dt.now(UTC)
        expect(wa, "peer-left", timeout=5)
        after_start = dt.now(UTC) + timedelta(seconds=5)  # well after his stay closed
    run_add = provider().add_recording

    def record(start, name):
        return run(
            client,
            partial_recording(run_add, call.id, alice.id, start, name),
        )

    during = record(during_start, "during")
    after = record(after_start, "after")
    assert [r.id for r in run(client, provider().recordings, bob.id).items] == [during.id]
    assert run(client, provider().recording_for_user, after.id, bob.id) is None
    assert {r.id for r in run(client, provider().recordings, alice.id).items} == {during.id, after.id}


def partial_recording(add, call_id, host_id, start, name):
    from functools import partial

    return partial(
        add,
        call_id,
        host_id,
        recording_id=uuid.uuid4().hex,
        filename=f"{name}.webm",
        stored_name=f"{name}.webm",
        content_type="video/webm",
        size_bytes=10,
        start_time=start,
        end_time=start + timedelta(milliseconds=10),
    )


# --- limits and bad input ----------------------------------------------------------------------------
