"""The room channel's features on the hub (yoom/rtc/room.py): chat, hands, reactions, app messages — and
hostile input, on every backplane kind (the fixtures of test_rtc_hub.py)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.test_rtc_hub import FakeTransport, backplane_kind, make_hub, user  # noqa: F401  (fixtures)
from yoom import chat
from yoom.rtc.room import APP_NAME, MAX_APP_PAYLOAD, REACTIONS, RoomFeatures, client_room

pytestmark = pytest.mark.asyncio


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def room(make_hub, yoom_env):  # noqa: F811
    """A hub with the room features, on a fresh database; `room.clock` drives the rate limits."""
    clock = Clock()
    hub = make_hub()
    features = RoomFeatures(hub, clock=clock).install()
    features.clock = clock
    return features


async def enter(room: RoomFeatures, n: int, call_id: str = "call-1", owner: bool = False):
    transport = FakeTransport(f"p{n}")
    peer = await room.hub.join(call_id, user(n), transport, is_owner=owner)
    await transport.expect("welcome")
    return peer, transport


async def drain(transport: FakeTransport, kind: str, at_least: int = 1, timeout: float = 5.0) -> list[dict]:
    """Every frame of `kind` received so far (others are skipped): waits (bounded) until `at_least` of them
    came — chat goes through the database in a worker thread first — then a moment for any more."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def found() -> list[dict]:
        return [f for f in transport.sent[transport.read :] if f["type"] == kind]

    while len(found()) < at_least and loop.time() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    frames = found()
    transport.read = len(transport.sent)
    return frames


# --- chat -----------------------------------------------------------------------------------------


async def test_chat_reaches_everyone_in_order_with_the_servers_name_and_time(room):
    a, ta = await enter(room, 1, owner=True)
    b, tb = await enter(room, 2)
    await ta.expect("peer-joined")
    before = datetime.now(UTC)
    # The browser's `from`, `user`, `sent_at` and `call_id` are never read: the socket says who and where.
    forged = {"from": b.peer_id, "user": {"id": "u2", "name": "Boss"}, "sent_at": "1999-01-01", "call_id": "x"}
    await room.hub.handle_frame(a, json.dumps({"type": "chat", "text": "  hello\r\nthere  ", **forged}))
    await room.hub.handle(b, {"type": "chat", "text": "hi"})
    for transport in (ta, tb):
        got = [f["message"] for f in await drain(transport, "chat")]
        assert [m["text"] for m in got] == ["hello\nthere", "hi"]
        assert got[0]["user"] == {"id": "u1", "name": "User 1"} and got[0]["peer_id"] == a.peer_id
        assert got[1]["user"] == {"id": "u2", "name": "User 2"}
        assert got[0]["id"] < got[1]["id"]
        sent = datetime.fromisoformat(got[0]["sent_at"].replace("Z", "+00:00"))
        assert before - timedelta(seconds=1) <= sent <= datetime.now(UTC)
    assert [m.text for m in chat.history("call-1")] == ["hello\nthere", "hi"]
    assert chat.history("x") == []


async def test_markup_is_kept_as_text_and_never_reaches_another_call(room):
    a, ta = await enter(room, 1)
    _c, tc = await enter(room, 3, call_id="call-2")
    markup = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    await room.hub.handle(a, {"type": "chat", "text": markup, "call_id": "call-2"})
    assert [f["message"]["text"] for f in await drain(ta, "chat")] == [markup]
    assert await drain(tc, "chat", at_least=0) == []
    assert chat.history("call-2") == []


async def test_too_long_empty_and_non_text_messages_are_refused_with_words(room):
    a, ta = await enter(room, 1)
    for text, words in (
        ("x" * 2001, "at most 2,000 characters"),
        ("   \n\t ", "Type a message first"),
        ({"html": "<b>"}, "must be text"),
        (None, "must be text"),
    ):
        await room.hub.handle(a, {"type": "chat", "text": text})
        refused = await drain(ta, "refused")
        assert len(refused) == 1 and refused[0]["for"] == "chat" and words in refused[0]["message"], text
    # 100,000 characters don't even make it through the hub: the frame is too large; the socket stays.
    await room.hub.handle_frame(a, json.dumps({"type": "chat", "text": "y" * 100_000}))
    assert "too large" in (await ta.expect("error"))["message"]
    await room.hub.handle(a, {"type": "ping"})
    await ta.expect("pong")
    assert chat.history("call-1") == []


async def test_a_flood_is_cut_to_the_rate_limit_with_a_clear_message_and_no_crash(room):
    a, ta = await enter(room, 1)
    _b, tb = await enter(room, 2)
    for i in range(1000):  # 1,000 in the same instant
        await room.hub.handle_frame(a, json.dumps({"type": "chat", "text": f"spam {i}"}))
    delivered = await drain(tb, "chat", at_least=5)
    assert len(delivered) == 5  # the burst, nothing more
    refusals = [f for f in ta.sent if f["type"] == "refused"]
    assert refusals and all("too fast" in f["message"] for f in refusals)
    # A second later one more goes through; the socket never closed.
    room.clock.now += 1.0
    later = time.monotonic() + 60  # the hub's own per-socket bucket (on the monotonic clock) has refilled too
    room.hub._clock = lambda: later
    await room.hub.handle(a, {"type": "chat", "text": "calm now"})
    assert [f["message"]["text"] for f in await drain(tb, "chat")] == ["calm now"]
    assert ta.closed is None


async def test_a_late_joiner_gets_the_history_and_a_personal_room_only_its_current_opening(room):
    a, _ta = await enter(room, 1)
    for text in ("first", "second"):
        await room.hub.handle(a, {"type": "chat", "text": text})
    late, tl = await enter(room, 2)
    room.admitted(late, None)
    await room.hub.handle(late, {"type": "chat-history"})
    (history,) = await drain(tl, "chat-history")
    assert [m["text"] for m in history["messages"]] == ["first", "second"]
    assert history["messages"][0]["user"]["name"] == "User 1"
    # A personal room's visitor: the route admitted them with the room's current opening as the start.
    room.admitted(late, datetime.now(UTC) + timedelta(seconds=1))
    await room.hub.handle(late, {"type": "chat-history"})
    (reopened,) = await drain(tl, "chat-history")
    assert reopened["messages"] == []
    assert chat.delete_call("call-1") == 2
    await room.send_history(late)
    assert (await drain(tl, "chat-history"))[0]["messages"] == []
    for _ in range(5):  # asking over and over is cut short
        await room.hub.handle(late, {"type": "chat-history"})
    assert (await drain(tl, "refused"))[0]["for"] == "chat-history"


# --- hands ----------------------------------------------------------------------------------------


async def hands(transport: FakeTransport) -> list[tuple[str, bool]]:
    return [(f["peer_id"], f["raised"]) for f in await drain(transport, "hand")]


async def test_hands_go_up_in_order_and_newcomers_see_them(room):
    _host, th = await enter(room, 1, owner=True)
    b, _tb = await enter(room, 2)
    c, _tc = await enter(room, 3)
    await room.hub.handle(c, {"type": "hand", "raised": True})
    await asyncio.sleep(0.01)
    await room.hub.handle(b, {"type": "hand", "raised": True})
    await room.hub.handle(c, {"type": "hand", "raised": True})  # again: keeps its place
    assert await hands(th) == [(c.peer_id, True), (b.peer_id, True)]
    members = {m.peer_id: m for m in await room.hub.members("call-1")}
    assert members[c.peer_id].hand_raised_at < members[b.peer_id].hand_raised_at
    # A newcomer's welcome carries the hands (Member.public), and so their order.
    t4 = FakeTransport("p4")
    await room.hub.join("call-1", user(4), t4)
    welcome = await t4.expect("welcome")
    raised = sorted((p for p in welcome["peers"] if p["hand_raised_at"]), key=lambda p: p["hand_raised_at"])
    assert [p["peer_id"] for p in raised] == [c.peer_id, b.peer_id]
    json.dumps(members[c.peer_id].to_json())  # still plain JSON for a backplane across processes
    await room.hub.handle(c, {"type": "hand", "raised": False})
    assert await hands(th) == [(c.peer_id, False)]


async def test_only_the_host_lowers_someone_elses_hand_and_nobody_raises_it(room):
    host, th = await enter(room, 1, owner=True)
    b, tb = await enter(room, 2)
    c, tc = await enter(room, 3)
    await room.hub.handle(b, {"type": "hand", "raised": True})
    await room.hub.handle(c, {"type": "hand", "raised": True})
    for transport in (th, tb, tc):
        await hands(transport)
    await room.hub.handle(c, {"type": "hand", "raised": False, "peer_id": b.peer_id})
    assert "Only the host" in (await drain(tc, "refused"))[0]["message"]
    await room.hub.handle(host, {"type": "hand", "raised": True, "peer_id": b.peer_id})
    assert "themselves" in (await drain(th, "refused"))[0]["message"]
    await room.hub.handle(c, {"type": "hand", "raised": False, "all": True})
    assert (await drain(tc, "refused"))[0]["for"] == "hand"
    assert await hands(th) == []
    await room.hub.handle(host, {"type": "hand", "raised": False, "peer_id": b.peer_id})
    assert await hands(tb) == [(b.peer_id, False)]
    await room.hub.handle(b, {"type": "hand", "raised": True})
    await room.hub.handle(host, {"type": "hand", "raised": False, "all": True})
    lowered = await hands(tc)
    assert sorted(lowered[-2:]) == sorted([(b.peer_id, False), (c.peer_id, False)])
    assert all(m.hand_raised_at is None for m in await room.hub.members("call-1"))
    for bad in ({"raised": "yes"}, {}, {"raised": 1}):
        await room.hub.handle(b, {"type": "hand", **bad})
        assert (await drain(tb, "refused"))[0]["for"] == "hand"
    await room.hub.handle(host, {"type": "hand", "raised": False, "peer_id": "nobody"})
    assert "isn't in this meeting" in (await drain(th, "refused"))[0]["message"]


# --- reactions and app messages -------------------------------------------------------------------


async def test_reactions_are_a_fixed_set_seen_by_everyone_and_rate_limited(room):
    a, ta = await enter(room, 1)
    _b, tb = await enter(room, 2)
    await room.hub.handle(a, {"type": "reaction", "emoji": "🎉"})
    (seen,) = await drain(tb, "reaction")
    assert seen == {"type": "reaction", "peer_id": a.peer_id, "user": {"id": "u1", "name": "User 1"}, "emoji": "🎉"}
    assert len(await drain(ta, "reaction")) == 1
    for emoji in ("💩", "<b>", None, "🎉" * 2):
        await room.hub.handle(a, {"type": "reaction", "emoji": emoji})
        assert (await drain(ta, "refused"))[0]["for"] == "reaction"
    for _ in range(20):
        await room.hub.handle(a, {"type": "reaction", "emoji": REACTIONS[0]})
    assert len(await drain(tb, "reaction", at_least=4)) == 4  # what was left of the burst of 5


async def test_app_messages_are_relayed_as_data_namespaced_and_bounded(room):
    host, th = await enter(room, 1, owner=True)
    b, tb = await enter(room, 2)
    await room.hub.handle(b, {"type": "app", "name": "clap", "payload": {"n": 3}, "from": {"peer_id": host.peer_id}})
    for transport in (th, tb):
        (frame,) = await drain(transport, "app")
        assert frame == {
            "type": "app",
            "name": "clap",
            "from": {"peer_id": b.peer_id, "user": {"id": "u2", "name": "User 2"}, "is_host": False},
            "payload": {"n": 3},
        }
    for bad in (
        {"name": "Clap!"},
        {"name": "x" * 40},
        {"name": None},
        {"name": "clap", "payload": "z" * (MAX_APP_PAYLOAD + 1)},
    ):
        await room.hub.handle(b, {"type": "app", **bad})
        assert (await drain(tb, "refused"))[0]["for"] == "app", bad
    await room.hub.handle_frame(b, '{"type": "app", "name": "clap", "payload": NaN}')
    assert (await drain(tb, "refused"))[0]["for"] == "app"
    assert await drain(th, "app", at_least=0) == []
    assert client_room()["appName"] == APP_NAME.pattern and client_room()["reactions"] == list(REACTIONS)
