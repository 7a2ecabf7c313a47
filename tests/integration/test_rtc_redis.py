"""Two signaling hubs — two Yoom processes, or two hosts — sharing one real redis-server (RedisBackplane).

Each hub has its own backplane instance, as each process does; they share the Redis and the key prefix.
What a browser on one instance must see of a browser on the other: joins, signals, media changes, leaving,
the host ending the call, a second tab replacing the first, capacity held across both, and — when one
process dies without a word — the survivors announcing its people gone within seconds.
"""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

import pytest

from tests.unit.test_rtc_hub import FakeTransport, join, user
from yoom.rtc.hub import Hub, RoomFull
from yoom.rtc.protocol import CLOSE_CALL_ENDED, CLOSE_CODES
from yoom.rtc.redis_backplane import RedisBackplane

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def two_hubs(redis_server):
    """`two_hubs(**hub_options)` → (hub A, hub B) on one Redis; closed after the test."""
    prefix = f"test:{uuid4().hex}:"
    planes: list[RedisBackplane] = []

    def make(heartbeat: float = 0.2, dead_after: float = 0.8, **options):
        hubs = []
        for _ in range(2):
            plane = RedisBackplane(
                redis_server.url, prefix=prefix, heartbeat_seconds=heartbeat, dead_after_seconds=dead_after
            )
            planes.append(plane)
            hubs.append(Hub(backplane=plane, **options))
        return hubs

    yield make
    for plane in planes:
        await plane.close()


async def test_people_on_two_instances_meet_signal_and_leave(two_hubs):
    a, b = two_hubs()
    host, t_host, _ = await join(a, 1, owner=True)
    guest, t_guest, welcome = await join(b, 2)
    assert [p["peer_id"] for p in welcome["peers"]] == [host.peer_id]
    assert (await t_host.expect("peer-joined"))["peer"]["user"]["id"] == "u2"

    offer = {"sdp": {"type": "offer", "sdp": "v=0"}}
    await a.handle(host, {"type": "signal", "to": guest.peer_id, "data": offer})
    assert await t_guest.expect("signal") == {"type": "signal", "from": host.peer_id, "data": offer}
    await b.handle(guest, {"type": "media", "audio": True, "video": True, "screen": False})
    media = await t_host.expect("media")
    assert media["peer_id"] == guest.peer_id and media["audio"] is True
    assert [m.peer_id for m in await a.members("call-1")] == [host.peer_id, guest.peer_id]

    await b.leave(guest, "left")
    assert await t_host.expect("peer-left") == {"type": "peer-left", "peer_id": guest.peer_id, "reason": "left"}
    assert [m.peer_id for m in await b.members("call-1")] == [host.peer_id]


async def test_ending_the_call_on_one_instance_ends_it_on_all(two_hubs):
    a, b = two_hubs()
    _host, t_host, _ = await join(a, 1, owner=True)
    _guest, t_guest, _ = await join(b, 2)
    assert await a.end_call("call-1", "u1") == 2
    for transport in (t_host, t_guest):
        assert await transport.wait_closed() == (CLOSE_CALL_ENDED, "call ended")
        assert transport.sent[-1] == {"type": "call-ended", "by": "u1"}
    assert await b.active_calls() == []


async def test_a_second_tab_on_the_other_instance_replaces_the_first(two_hubs):
    a, b = two_hubs(capacity=3)
    _host, _t_host, _ = await join(a, 1, owner=True)
    _first, t_first, _ = await join(a, 2)
    again = FakeTransport("p2 on B")
    await b.join("call-1", user(2), again)
    await again.expect("welcome")
    assert (await t_first.expect("error"))["code"] == "replaced"
    assert (await t_first.wait_closed())[0] == CLOSE_CODES["replaced"]
    assert len(await a.members("call-1")) == 2


async def test_capacity_holds_across_instances_when_joins_race(two_hubs):
    a, b = two_hubs(capacity=2)
    await join(a, 1)
    racers = [a.join("call-1", user(2), FakeTransport("p2")), b.join("call-1", user(3), FakeTransport("p3"))]
    results = await asyncio.gather(*racers, return_exceptions=True)
    assert sum(isinstance(r, RoomFull) for r in results) == 1
    assert len(await b.members("call-1")) == 2


async def test_when_an_instance_dies_the_survivor_announces_its_people_gone(two_hubs):
    a, b = two_hubs(heartbeat=0.2, dead_after=0.8)
    _host, t_host, _ = await join(a, 1, owner=True)
    guest, _t_guest, _ = await join(b, 2)
    await t_host.expect("peer-joined")
    await b.backplane.stop_beating()  # B's process is gone: no goodbye, its sockets simply vanish
    started = time.monotonic()
    left = await t_host.expect("peer-left", timeout=5)
    assert left == {"type": "peer-left", "peer_id": guest.peer_id, "reason": "disconnected"}
    print(f"\nannounced gone {time.monotonic() - started:.2f} s after the last heartbeat stopped")
    assert [m.user_id for m in await a.members("call-1")] == ["u1"]
    await t_host.silent(0.5)  # announced once, by one survivor


async def test_a_backplane_first_used_from_a_short_lived_loop_keeps_working(redis_server):
    """First touched from a thread's `asyncio.run` (whose loop then closes), then from the app's loop."""
    import threading

    plane = RedisBackplane(redis_server.url, prefix=f"test:{uuid4().hex}:")
    done = threading.Event()
    threading.Thread(target=lambda: (asyncio.run(plane.active_calls()), done.set())).start()
    assert await asyncio.to_thread(done.wait, 5)
    try:
        assert await plane.active_calls() == []
    finally:
        await plane.close()
