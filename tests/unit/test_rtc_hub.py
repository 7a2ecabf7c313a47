"""The signaling hub on its own, with fake transports (docs/rtc-protocol.md)."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from yoom.rtc import hub as hub_module
from yoom.rtc.hub import Hub, RoomFull, get_hub, set_hub
from yoom.rtc.protocol import CLOSE_CALL_ENDED, CLOSE_CODES
from yoom.video.base import VideoUser

pytestmark = pytest.mark.asyncio


class FakeTransport:
    def __init__(self, name: str = ""):
        self.name = name
        self.sent: list[dict] = []
        self.read = 0
        self.closed: tuple[int, str] | None = None

    async def send(self, message: dict) -> None:
        assert self.closed is None, "sent after close"
        json.dumps(message)  # every frame must be JSON-serialisable
        self.sent.append(message)

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = (code, reason)

    async def recv(self, timeout: float = 5.0) -> dict:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.read >= len(self.sent):
            if loop.time() > deadline:
                raise AssertionError(f"{self.name}: no message within {timeout}s (got {self.sent})")
            await asyncio.sleep(0.002)
        self.read += 1
        return self.sent[self.read - 1]

    async def expect(self, type_: str, timeout: float = 5.0) -> dict:
        message = await self.recv(timeout)
        assert message["type"] == type_, f"{self.name}: expected {type_}, got {message}"
        return message

    async def wait_closed(self, timeout: float = 5.0) -> tuple[int, str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.closed is None:
            if loop.time() > deadline:
                raise AssertionError(f"{self.name}: not closed within {timeout}s")
            await asyncio.sleep(0.002)
        return self.closed

    async def silent(self, wait: float = 0.05) -> None:
        await asyncio.sleep(wait)
        assert self.read == len(self.sent), f"{self.name}: unexpected {self.sent[self.read :]}"


class HangingTransport(FakeTransport):
    """A browser that stopped reading: send never completes."""

    async def send(self, message: dict) -> None:
        await asyncio.Event().wait()


class BrokenTransport(FakeTransport):
    async def send(self, message: dict) -> None:
        raise ConnectionResetError("gone")


@pytest.fixture(params=["memory", "redis"])
def backplane_kind(request):
    """Every hub test runs on each backplane: rosters in memory, and in a real redis-server (several
    instances on one Redis: tests/integration/test_rtc_redis.py)."""
    return request.param


@pytest.fixture
async def make_hub(backplane_kind, request):
    """`make_hub(**options)`: a hub on a fresh backplane of the kind under test (Redis: its own key prefix)."""
    from uuid import uuid4

    from yoom.rtc.backplane import MemoryBackplane

    made = []

    def backplane():
        if backplane_kind == "memory":
            return MemoryBackplane()
        from yoom.rtc.redis_backplane import RedisBackplane

        server = request.getfixturevalue("redis_server")
        made.append(RedisBackplane(server.url, prefix=f"test:{uuid4().hex}:"))
        return made[-1]

    def make(**options) -> Hub:
        return Hub(backplane=backplane(), **options)

    yield make
    for plane in made:
        await plane.close()


def user(n: int) -> VideoUser:
    return VideoUser(id=f"u{n}", name=f"User {n}", image=None)


async def join(hub: Hub, n: int, call_id: str = "call-1", owner: bool = False):
    transport = FakeTransport(f"p{n}")
    peer = await hub.join(call_id, user(n), transport, is_owner=owner)
    welcome = await transport.expect("welcome")
    return peer, transport, welcome


async def test_welcome_and_peer_joined(make_hub):
    hub = make_hub(ice_servers=[{"urls": "stun:stun.example.org:3478"}])
    a, ta, welcome_a = await join(hub, 1, owner=True)
    assert welcome_a == {
        "type": "welcome",
        "peer_id": a.peer_id,
        "user": {"id": "u1", "name": "User 1", "image": None},
        "is_owner": True,
        "peers": [],
        "ice_servers": [{"urls": "stun:stun.example.org:3478"}],
    }
    await hub.handle_frame(a, json.dumps({"type": "media", "audio": True, "video": False, "screen": False}))
    b, _tb, welcome_b = await join(hub, 2)
    assert welcome_b["is_owner"] is False
    assert welcome_b["peers"] == [
        {
            "peer_id": a.peer_id,
            "user": {"id": "u1", "name": "User 1", "image": None},
            "audio": True,
            "video": False,
            "screen": False,
            "hand_raised_at": None,
        }
    ]
    joined = await ta.expect("peer-joined")
    assert joined["peer"]["peer_id"] == b.peer_id and joined["peer"]["user"]["id"] == "u2"
    assert a.peer_id != b.peer_id
    assert await hub.room_size("call-1") == 2


async def test_relay_between_two_peers_verbatim(make_hub):
    hub = make_hub()
    a, ta, _ = await join(hub, 1)
    b, tb, _ = await join(hub, 2)
    await ta.expect("peer-joined")
    offer = {"sdp": {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}
    await hub.handle_frame(b, json.dumps({"type": "signal", "to": a.peer_id, "data": offer}))
    assert await ta.expect("signal") == {"type": "signal", "from": b.peer_id, "data": offer}
    candidate = {
        "candidate": {
            "candidate": "candidate:1 1 udp 1 10.0.0.1 5000 typ host",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
            "usernameFragment": "ab",
        }
    }
    await hub.handle_frame(a, json.dumps({"type": "signal", "to": b.peer_id, "data": candidate}))
    assert await tb.expect("signal") == {"type": "signal", "from": a.peer_id, "data": candidate}
    await ta.silent()
    await tb.silent()


async def test_relay_among_three_reaches_only_the_named_peer(make_hub):
    hub = make_hub()
    a, ta, _ = await join(hub, 1)
    b, tb, _ = await join(hub, 2)
    c, tc, welcome_c = await join(hub, 3)
    assert [p["peer_id"] for p in welcome_c["peers"]] == [a.peer_id, b.peer_id]
    await ta.expect("peer-joined")  # b
    assert (await ta.expect("peer-joined"))["peer"]["peer_id"] == c.peer_id
    assert (await tb.expect("peer-joined"))["peer"]["peer_id"] == c.peer_id
    for target, transport in ((a, ta), (b, tb)):
        data = {"sdp": {"type": "offer", "sdp": f"for {target.peer_id}"}}
        await hub.handle(c, {"type": "signal", "to": target.peer_id, "data": data})
        assert await transport.expect("signal") == {"type": "signal", "from": c.peer_id, "data": data}
    await ta.silent()
    await tb.silent()
    await tc.silent()


async def test_signal_cannot_cross_calls_or_target_unknown_peers(make_hub):
    hub = make_hub()
    a, ta, _ = await join(hub, 1, call_id="call-1")
    x, tx, _ = await join(hub, 9, call_id="call-2")
    await hub.handle(a, {"type": "signal", "to": x.peer_id, "data": {"sdp": {"type": "offer", "sdp": "x"}}})
    error = await ta.expect("error")
    assert error["code"] == "bad-message" and x.peer_id in error["message"]
    await hub.handle(a, {"type": "signal", "to": a.peer_id, "data": {"candidate": None}})
    assert (await ta.expect("error"))["code"] == "bad-message"
    await hub.handle(a, {"type": "signal", "to": "nobody", "data": {"candidate": None}})
    assert (await ta.expect("error"))["code"] == "bad-message"
    await tx.silent()


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '"ping"',
        '{"no": "type"}',
        '{"type": 5}',
        '{"type": "dance"}',
        b"\x00\x01binary",
        '{"type": "signal", "data": {"sdp": {}}}',
        '{"type": "signal", "to": "p", "data": "text"}',
        '{"type": "signal", "to": "p", "data": {"other": 1}}',
        '{"type": "media"}',
        '{"type": "media", "audio": "yes"}',
        '{"type": "recording"}',
        '{"type": "ping", "pad": "' + "x" * (64 * 1024) + '"}',
        '{"type": "ping", "pad": "' + "é" * (33 * 1024) + '"}',  # under 64 Ki characters, over 64 KiB
    ],
)
async def test_malformed_frames_get_bad_message_and_socket_stays_usable(frame, make_hub):
    hub = make_hub()
    a, ta, _ = await join(hub, 1, owner=True)
    _b, tb, _ = await join(hub, 2)
    await ta.expect("peer-joined")
    await hub.handle_frame(a, frame)
    error = await ta.expect("error")
    assert error["code"] == "bad-message" and error["message"]
    assert ta.closed is None and not a.closed
    await hub.handle_frame(a, '{"type":"ping"}')
    await ta.expect("pong")
    await tb.silent()  # nothing leaked to the others


async def test_media_state_is_broadcast_and_kept(make_hub):
    hub = make_hub()
    a, ta, _ = await join(hub, 1)
    _b, tb, _ = await join(hub, 2)
    await ta.expect("peer-joined")
    await hub.handle(a, {"type": "media", "audio": True, "video": True, "screen": False})
    assert await tb.expect("media") == {
        "type": "media",
        "peer_id": a.peer_id,
        "audio": True,
        "video": True,
        "screen": False,
    }
    await hub.handle(a, {"type": "media", "screen": True})  # a partial update keeps the rest
    assert await tb.expect("media") == {
        "type": "media",
        "peer_id": a.peer_id,
        "audio": True,
        "video": True,
        "screen": True,
    }
    await ta.silent()
    _, _, welcome_c = await join(hub, 3)
    assert welcome_c["peers"][0] == {
        "peer_id": a.peer_id,
        "user": {"id": "u1", "name": "User 1", "image": None},
        "audio": True,
        "video": True,
        "screen": True,
        "hand_raised_at": None,
    }


async def test_recording_only_by_owner_and_seen_by_newcomers(make_hub):
    hub = make_hub()
    host, th, _ = await join(hub, 1, owner=True)
    guest, tg, _ = await join(hub, 2)
    await th.expect("peer-joined")
    await hub.handle(guest, {"type": "recording", "active": True})
    assert (await tg.expect("error"))["code"] == "forbidden"
    await th.silent()
    await hub.handle(host, {"type": "recording", "active": True})
    assert await tg.expect("recording") == {"type": "recording", "peer_id": host.peer_id, "active": True}
    _late, tl, _ = await join(hub, 3)
    assert await tl.expect("recording") == {"type": "recording", "peer_id": host.peer_id, "active": True}
    await tg.expect("peer-joined")
    # The recorder leaving stops the recording for everyone's indicator.
    await hub.leave(host, "left")
    assert await tg.expect("recording") == {"type": "recording", "peer_id": host.peer_id, "active": False}
    assert await tg.expect("peer-left") == {"type": "peer-left", "peer_id": host.peer_id, "reason": "left"}


async def test_leave_message_closes_and_tells_the_others(make_hub):
    hub = make_hub()
    _a, ta, _ = await join(hub, 1)
    b, tb, _ = await join(hub, 2)
    await ta.expect("peer-joined")
    await hub.handle_frame(b, '{"type":"leave"}')
    assert await ta.expect("peer-left") == {"type": "peer-left", "peer_id": b.peer_id, "reason": "left"}
    assert await tb.wait_closed() == (1000, "left")
    assert await hub.room_size("call-1") == 1 and b.closed
    assert await hub.leave(b, "left") is False  # idempotent: nobody hears it twice
    await ta.silent()
    await hub.handle_frame(b, '{"type":"ping"}')  # a closed peer's late frames are ignored
    await asyncio.sleep(0.02)
    assert all(m["type"] != "pong" for m in tb.sent)


async def test_disconnect_tells_the_others_without_closing_again(make_hub):
    hub = make_hub()
    a, ta, _ = await join(hub, 1)
    b, tb, _ = await join(hub, 2)
    await ta.expect("peer-joined")
    assert await hub.leave(b, "disconnected") is True
    assert await ta.expect("peer-left") == {"type": "peer-left", "peer_id": b.peer_id, "reason": "disconnected"}
    await hub.wait_closed(b)
    assert b.writer.done() and tb.closed is None
    await hub.leave(a, "left")
    assert await hub.active_calls() == []


async def test_heartbeat_timeout_drops_only_the_silent_peer(make_hub):
    hub = make_hub(heartbeat_timeout=0.6)
    a, ta, _ = await join(hub, 1)
    b, tb, _ = await join(hub, 2)
    await ta.expect("peer-joined")
    for _ in range(20):  # a keeps pinging every 50 ms, b says nothing
        await asyncio.sleep(0.05)
        await hub.handle_frame(a, '{"type":"ping"}')
        if b.closed:
            break
    for _ in range(100):
        if b.closed:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.02)
    assert b.closed and not a.closed
    received = ta.sent[ta.read :]
    assert [m for m in received if m["type"] != "pong"] == [
        {"type": "peer-left", "peer_id": b.peer_id, "reason": "timeout"}
    ]
    error = await tb.expect("error")
    assert error["code"] == "timeout"
    assert (await tb.wait_closed())[0] == CLOSE_CODES["timeout"]
    assert [p.peer_id for p in hub.peers("call-1")] == [a.peer_id]
    await hub.leave(a)


async def test_any_frame_counts_as_heartbeat(make_hub):
    hub = make_hub(heartbeat_timeout=0.5)
    a, ta, _ = await join(hub, 1)
    for _ in range(8):  # 0.8 s in all, longer than the timeout
        await asyncio.sleep(0.1)
        await hub.handle_frame(a, "garbage")  # even a bad frame proves the browser is alive
        await ta.expect("error")
    assert not a.closed
    assert (await ta.expect("error"))["code"] == "timeout"  # silence, then the timeout
    assert a.closed and (await ta.wait_closed())[0] == CLOSE_CODES["timeout"]


async def test_room_capacity(make_hub):
    hub = make_hub(capacity=6)
    peers = [await join(hub, n) for n in range(6)]
    seventh = FakeTransport("p7")
    with pytest.raises(RoomFull) as full:
        await hub.join("call-1", user(7), seventh)
    assert full.value.capacity == 6
    assert seventh.sent == [] and await hub.room_size("call-1") == 6
    _other_call, _, _ = await join(hub, 7, call_id="call-2")  # the limit is per call
    assert await hub.room_size("call-2") == 1
    await hub.leave(peers[0][0], "left")
    _, _, welcome = await join(hub, 8)
    assert len(welcome["peers"]) == 5


async def test_end_call_tells_everyone_and_closes(make_hub):
    hub = make_hub()
    _host, th, _ = await join(hub, 1, owner=True)
    _guest, tg, _ = await join(hub, 2)
    _bystander, tx, _ = await join(hub, 3, call_id="call-2")
    assert await hub.end_call("call-1", "u1") == 2
    for transport in (th, tg):
        assert await transport.wait_closed() == (CLOSE_CALL_ENDED, "call ended")
        assert transport.sent[-1] == {"type": "call-ended", "by": "u1"}  # the last frame before the close
    assert await hub.room_size("call-1") == 0 and "call-1" not in await hub.active_calls()
    assert tx.closed is None and await hub.room_size("call-2") == 1
    assert await hub.end_call("call-1", "u1") == 0
    await tx.silent()


async def test_end_call_from_another_thread_reaches_the_peers(make_hub):
    hub = make_hub()
    _host, th, _ = await join(hub, 1, owner=True)
    done = threading.Event()

    def other_thread():
        asyncio.run(hub.end_call("call-1", "u1"))
        done.set()

    threading.Thread(target=other_thread).start()
    assert await th.expect("call-ended") == {"type": "call-ended", "by": "u1"}
    assert (await th.wait_closed())[0] == CLOSE_CALL_ENDED
    assert done.wait(1)


async def test_a_stuck_browser_does_not_hold_up_the_others(make_hub):
    hub = make_hub(send_timeout=1.0)
    a, ta, _ = await join(hub, 1)
    stuck_transport = HangingTransport("stuck")
    stuck = await hub.join("call-1", user(2), stuck_transport)
    await ta.expect("peer-joined")
    _c, tc, _ = await join(hub, 3)
    await ta.expect("peer-joined")
    await hub.handle(a, {"type": "media", "audio": True})
    assert (await tc.expect("media"))["peer_id"] == a.peer_id
    assert not stuck.closed  # delivered while the stuck send was still pending, not after its timeout
    # The stuck peer is dropped once a send times out; the others hear it left.
    assert await ta.expect("peer-left", timeout=2) == {
        "type": "peer-left",
        "peer_id": stuck.peer_id,
        "reason": "disconnected",
    }
    assert stuck.closed and await hub.room_size("call-1") == 2


async def test_a_broken_socket_counts_as_disconnected(make_hub):
    hub = make_hub()
    _a, ta, _ = await join(hub, 1)
    broken = await hub.join("call-1", user(2), BrokenTransport("broken"))
    await ta.expect("peer-joined")
    assert await ta.expect("peer-left") == {"type": "peer-left", "peer_id": broken.peer_id, "reason": "disconnected"}


async def test_a_peer_whose_outbox_overflows_is_dropped(make_hub):
    hub = make_hub(outbox_limit=5, send_timeout=30)
    a, ta, _ = await join(hub, 1)
    slow = await hub.join("call-1", user(2), HangingTransport("slow"))
    await ta.expect("peer-joined")
    for _ in range(10):
        await hub.handle(a, {"type": "media", "audio": True})
    assert await ta.expect("peer-left") == {"type": "peer-left", "peer_id": slow.peer_id, "reason": "disconnected"}
    assert slow.closed


async def test_flooding_is_throttled_with_one_notice(make_hub):
    hub = make_hub(rate_per_second=0.0001, rate_burst=5)
    a, ta, _ = await join(hub, 1)
    for _ in range(20):
        await hub.handle_frame(a, '{"type":"ping"}')
    await asyncio.sleep(0.05)
    kinds = [m["type"] for m in ta.sent[1:]]
    assert kinds.count("pong") == 5
    assert kinds.count("error") == 1
    assert not a.closed


# --- one seat per person, the host always gets in, removal ------------------------------------------


async def test_a_second_connection_of_the_same_person_replaces_the_first(make_hub):
    hub = make_hub(capacity=3)
    host, th, _ = await join(hub, 1, owner=True)
    first, t_first, _ = await join(hub, 2)
    assert (await th.expect("peer-joined"))["peer"]["peer_id"] == first.peer_id
    second_transport = FakeTransport("p2 again")
    second = await hub.join("call-1", user(2), second_transport)
    welcome = await second_transport.expect("welcome")
    assert [p["peer_id"] for p in welcome["peers"]] == [host.peer_id]  # not its own old seat
    error = await t_first.expect("error")
    assert error["code"] == "replaced" and "another tab or device" in error["message"]
    assert (await t_first.wait_closed())[0] == CLOSE_CODES["replaced"]
    assert await th.expect("peer-left") == {"type": "peer-left", "peer_id": first.peer_id, "reason": "replaced"}
    assert (await th.expect("peer-joined"))["peer"]["peer_id"] == second.peer_id
    assert first.closed and not second.closed
    assert [m.peer_id for m in await hub.members("call-1")] == [host.peer_id, second.peer_id]
    # Five more connections of one account still hold one seat: nobody else is locked out.
    for _ in range(5):
        again = FakeTransport("p2 yet again")
        await hub.join("call-1", user(2), again)
        await again.expect("welcome")
    _, _, welcome_3 = await join(hub, 3)
    assert len(welcome_3["peers"]) == 2


async def test_the_host_always_gets_into_a_full_room(make_hub):
    hub = make_hub(capacity=2)
    await join(hub, 2)
    await join(hub, 3)
    with pytest.raises(RoomFull):
        await hub.join("call-1", user(4), FakeTransport("p4"))
    host, _, welcome = await join(hub, 1, owner=True)
    assert len(welcome["peers"]) == 2 and await hub.room_size("call-1") == 3
    assert not host.closed


async def test_a_refused_newcomer_leaves_the_room_as_it_was(make_hub):
    hub = make_hub(capacity=1)
    only, t_only, _ = await join(hub, 2)
    with pytest.raises(RoomFull):
        await hub.join("call-1", user(3), FakeTransport("p3"))
    assert [m.peer_id for m in await hub.members("call-1")] == [only.peer_id]
    await t_only.silent()


async def test_the_host_removes_someone_and_every_connection_of_theirs_goes(make_hub):
    hub = make_hub()
    _host, th, _ = await join(hub, 1, owner=True)
    squatter, ts, _ = await join(hub, 2)
    await th.expect("peer-joined")
    assert await hub.remove_user("call-1", "u2") == 1
    error = await ts.expect("error")
    assert error["code"] == "removed" and error["message"] == "The host removed you from this meeting."
    assert (await ts.wait_closed())[0] == CLOSE_CODES["removed"]
    assert await th.expect("peer-left") == {"type": "peer-left", "peer_id": squatter.peer_id, "reason": "removed"}
    assert squatter.closed and await hub.room_size("call-1") == 1
    assert await hub.remove_user("call-1", "u2") == 0  # nobody left to remove
    await th.silent()


async def test_get_hub_reads_settings_and_can_be_replaced(monkeypatch, tmp_path):
    from yoom.settings import get_settings

    monkeypatch.setenv("YOOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("YOOM_ROOM_CAPACITY", "3")
    monkeypatch.setenv("YOOM_ICE_SERVERS", '[{"urls": "stun:example.org"}]')
    get_settings.cache_clear()
    set_hub(None)
    try:
        hub = get_hub()
        assert hub.capacity == 3 and hub.ice_servers == [{"urls": "stun:example.org"}]
        assert get_hub() is hub
        mine = Hub(capacity=2)
        set_hub(mine)
        assert get_hub() is mine
        get_hub.cache_clear()
        assert get_hub() is not mine
    finally:
        set_hub(None)
        get_settings.cache_clear()
    assert hub_module.HEARTBEAT_TIMEOUT_SECONDS == 10.0 and Hub().heartbeat_timeout == 10.0
