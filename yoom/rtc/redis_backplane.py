"""A `Backplane` over Redis: the signaling hub's rosters shared by every worker and host.

Same contract as `MemoryBackplane` (yoom/rtc/backplane.py); the same hub test suite runs against both
(tests/unit/test_rtc_hub.py, with a real redis-server). Chosen by `get_hub()` when `REFLEX_REDIS_URL` is set.

Where things live (all keys under `prefix`, "yoom:rtc:" by default):
* `call:<call id>`: a hash, peer id → the member as JSON. `join`, `leave`, `update` and `end_call` are each
  one Lua script, so a roster change is atomic across processes: two joins racing for the last place
  can't both win, and a user's second connection replaces the first wherever that one lives.
* `calls`: the set of call ids with anyone in them.
* `instances`: a sorted set, instance id → its last heartbeat in Redis's own clock (`TIME`, so hosts'
  clocks don't matter). Each instance beats every HEARTBEAT_SECONDS; one not heard from for
  DEAD_AFTER_SECONDS is dead. Every instance sweeps for the dead; removing a dead instance from the set
  is the claim (only one survivor wins it), and the winner takes the dead instance's members out of
  every roster and tells the rest of each call they left (`members_gone`).
* `to:<instance id>`: a pub/sub channel per instance. A frame for a member of another instance is
  published there; the instance's one subscriber hands frames to the hub in the order they arrived.
  Frames for this instance's own members never touch Redis.

Concurrency: the Redis client belongs to the event loop that first used the backplane (the app's); a
call from another loop or thread (the hub allows that) is run on that loop and awaited from the caller's.
Pub/sub delivery is at most once: a frame published while the target instance is reconnecting to Redis
is lost, as it would be if that browser's socket dropped (the browser resyncs on its next `welcome`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from yoom.rtc.backplane import Close, Deliver, Item, Joined, Member, MembersGone, RoomFull, new_instance_id

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
DEAD_AFTER_SECONDS = 6.0

_JOIN = """
local all = redis.call('HGETALL', KEYS[1])
local replaced_id, replaced = false, false
local others = {}
for i = 1, #all, 2 do
  local m = cjson.decode(all[i + 1])
  if m.user.id == ARGV[3] then
    replaced_id, replaced = all[i], all[i + 1]
  else
    table.insert(others, all[i + 1])
  end
end
if #others >= tonumber(ARGV[4]) and ARGV[5] ~= '1' then
  return {'full'}
end
if replaced_id then redis.call('HDEL', KEYS[1], replaced_id) end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[6])
return {'ok', replaced or '', unpack(others)}
"""

_LEAVE = """
local m = redis.call('HGET', KEYS[1], ARGV[1])
if not m then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return m
"""

_UPDATE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local m = cjson.decode(raw)
for k, v in pairs(cjson.decode(ARGV[2])) do m[k] = v end
local out = cjson.encode(m)
redis.call('HSET', KEYS[1], ARGV[1], out)
return out
"""

_END = """
local members = redis.call('HVALS', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return members
"""

_BEAT = """
local now = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(now[1]) + tonumber(now[2]) / 1e6, ARGV[1])
return 1
"""

# The dead instances this caller won: each is removed from the set by exactly one sweeper.
_CLAIM_DEAD = """
local now = redis.call('TIME')
local cutoff = tonumber(now[1]) + tonumber(now[2]) / 1e6 - tonumber(ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)
local won = {}
for _, id in ipairs(dead) do
  if id ~= ARGV[2] and redis.call('ZREM', KEYS[1], id) == 1 then table.insert(won, id) end
end
return won
"""

_REMOVE_INSTANCE = """
local all = redis.call('HGETALL', KEYS[1])
local removed = {}
for i = 1, #all, 2 do
  local m = cjson.decode(all[i + 1])
  if m.instance_id == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    table.insert(removed, all[i + 1])
  end
end
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return removed
"""


def _member(raw: str | bytes) -> Member:
    return Member.from_json(json.loads(raw))


def _item_json(item: Item) -> dict[str, Any]:
    if isinstance(item, Close):
        return {"close": {"code": item.code, "reason": item.reason}}
    return {"frame": item}


def _item(data: dict[str, Any]) -> Item:
    if "close" in data:
        return Close(data["close"]["code"], data["close"]["reason"])
    return data["frame"]


class RedisBackplane:
    """Rosters in Redis, frames between instances over pub/sub (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "yoom:rtc:",
        instance_id: str | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        dead_after_seconds: float = DEAD_AFTER_SECONDS,
    ):
        self.url = url
        self.prefix = prefix
        self.instance_id = instance_id or new_instance_id()
        self.heartbeat_seconds = heartbeat_seconds
        self.dead_after_seconds = dead_after_seconds
        self._deliver: Deliver | None = None
        self._members_gone: MembersGone | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started: asyncio.Future | None = None
        self._redis: Any = None
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task] = []
        self._scripts: dict[str, Any] = {}

    # --- keys -------------------------------------------------------------------------------

    def _call_key(self, call_id: str) -> str:
        return f"{self.prefix}call:{call_id}"

    @property
    def _calls_key(self) -> str:
        return f"{self.prefix}calls"

    @property
    def _instances_key(self) -> str:
        return f"{self.prefix}instances"

    def _channel(self, instance_id: str) -> str:
        return f"{self.prefix}to:{instance_id}"

    # --- lifecycle --------------------------------------------------------------------------

    def attach(self, deliver: Deliver, members_gone: MembersGone) -> None:
        self._deliver, self._members_gone = deliver, members_gone

    async def _start(self) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(self.url, decode_responses=True, health_check_interval=10)
        for name, source in (
            ("join", _JOIN),
            ("leave", _LEAVE),
            ("update", _UPDATE),
            ("end", _END),
            ("beat", _BEAT),
            ("claim_dead", _CLAIM_DEAD),
            ("remove_instance", _REMOVE_INSTANCE),
        ):
            self._scripts[name] = self._redis.register_script(source)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self._channel(self.instance_id))  # before any member of ours exists
        await self._scripts["beat"](keys=[self._instances_key], args=[self.instance_id])
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(), name="rtc-redis-listen"),
            loop.create_task(self._beat_and_sweep(), name="rtc-redis-heartbeat"),
        ]

    async def _ready(self) -> None:
        if self._started is None:
            self._loop = asyncio.get_running_loop()
            self._started = self._loop.create_future()
            try:
                await self._start()
            except BaseException as exc:
                self._started.set_exception(exc)
                self._started.exception()  # retrieved: a later caller sees it through _started
                self._started = None
                raise
            self._started.set_result(None)
        elif not self._started.done():
            await asyncio.shield(self._started)

    async def _run(self, coro_fn, *args: Any) -> Any:
        """Run `coro_fn(*args)` on the backplane's loop, from any loop or thread."""
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if self._loop is not None and self._loop.is_closed():
            # The loop it started on is gone (a thread's `asyncio.run`): start again on this one.
            self._loop, self._started, self._tasks = None, None, []
        if self._loop is None or self._loop is here:
            await self._ready()
            return await coro_fn(*args)

        async def there() -> Any:
            await self._ready()
            return await coro_fn(*args)

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(there(), self._loop))

    async def close(self) -> None:
        if self._loop is None or self._started is None:
            return
        if self._loop is not asyncio.get_running_loop():
            await self._run(self.close)
            return
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._redis.aclose()
        self._started = None
        self._loop = None

    # --- the roster -------------------------------------------------------------------------

    async def join(self, member: Member, *, capacity: int, bypass_capacity: bool = False) -> Joined:
        return await self._run(self._join, member, capacity, bypass_capacity)

    async def _join(self, member: Member, capacity: int, bypass_capacity: bool) -> Joined:
        answer = await self._scripts["join"](
            keys=[self._call_key(member.call_id), self._calls_key],
            args=[
                json.dumps(member.to_json()),
                member.peer_id,
                member.user_id,
                capacity,
                "1" if bypass_capacity else "0",
                member.call_id,
            ],
        )
        if answer[0] == "full":
            raise RoomFull(capacity)
        replaced = _member(answer[1]) if answer[1] else None
        others = sorted((_member(raw) for raw in answer[2:]), key=lambda m: m.joined_at)
        return Joined(others=others, replaced=replaced)

    async def leave(self, call_id: str, peer_id: str) -> Member | None:
        return await self._run(self._leave, call_id, peer_id)

    async def _leave(self, call_id: str, peer_id: str) -> Member | None:
        raw = await self._scripts["leave"](keys=[self._call_key(call_id), self._calls_key], args=[peer_id, call_id])
        return _member(raw) if raw else None

    async def members(self, call_id: str) -> list[Member]:
        return await self._run(self._members, call_id)

    async def _members(self, call_id: str) -> list[Member]:
        values = await self._redis.hvals(self._call_key(call_id))
        return sorted((_member(raw) for raw in values), key=lambda m: m.joined_at)

    async def update(self, call_id: str, peer_id: str, **changes: Any) -> Member | None:
        unknown = set(changes) - set(Member.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown member fields: {sorted(unknown)}")
        return await self._run(self._update, call_id, peer_id, changes)

    async def _update(self, call_id: str, peer_id: str, changes: dict[str, Any]) -> Member | None:
        raw = await self._scripts["update"](keys=[self._call_key(call_id)], args=[peer_id, json.dumps(changes)])
        return _member(raw) if raw else None

    async def end_call(self, call_id: str) -> list[Member]:
        return await self._run(self._end_call, call_id)

    async def _end_call(self, call_id: str) -> list[Member]:
        values = await self._scripts["end"](keys=[self._call_key(call_id), self._calls_key], args=[call_id])
        return sorted((_member(raw) for raw in values), key=lambda m: m.joined_at)

    async def active_calls(self) -> list[str]:
        return await self._run(self._active_calls)

    async def _active_calls(self) -> list[str]:
        return sorted(await self._redis.smembers(self._calls_key))

    # --- delivery ---------------------------------------------------------------------------

    async def deliver(self, member: Member, item: Item) -> None:
        if member.instance_id == self.instance_id:
            if self._deliver is not None:
                self._deliver(member, item)
            return
        message = json.dumps({"member": member.to_json(), **_item_json(item)})
        await self._run(self._redis.publish, self._channel(member.instance_id), message)

    async def _listen(self) -> None:
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        data = json.loads(message["data"])
                        member, item = Member.from_json(data["member"]), _item(data)
                    except (ValueError, KeyError, TypeError):
                        log.warning("rtc backplane: malformed delivery on %s", message.get("channel"))
                        continue
                    if self._deliver is not None:
                        self._deliver(member, item)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away: resubscribe when it is back
                log.warning("rtc backplane: lost Redis pub/sub (%s); retrying", type(exc).__name__)
                await asyncio.sleep(self.heartbeat_seconds)
                with contextlib.suppress(Exception):
                    await self._pubsub.subscribe(self._channel(self.instance_id))

    # --- heartbeat and the dead -------------------------------------------------------------

    async def _beat_and_sweep(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self._scripts["beat"](keys=[self._instances_key], args=[self.instance_id])
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("rtc backplane: heartbeat failed (%s); retrying", type(exc).__name__)

    async def sweep(self) -> int:
        """Take the members of instances not heard from in `dead_after_seconds` out of every roster, and
        have the hub tell the rest of their calls. Returns how many members were removed."""
        dead = await self._scripts["claim_dead"](
            keys=[self._instances_key], args=[self.dead_after_seconds, self.instance_id]
        )
        removed = 0
        for instance_id in dead:
            log.warning("rtc backplane: instance %s stopped beating; its peers are gone", instance_id)
            for call_id in await self._redis.smembers(self._calls_key):
                raws = await self._scripts["remove_instance"](
                    keys=[self._call_key(call_id), self._calls_key], args=[instance_id, call_id]
                )
                gone = [_member(raw) for raw in raws]
                removed += len(gone)
                if gone and self._members_gone is not None:
                    self._members_gone(call_id, gone)
        return removed

    async def stop_beating(self) -> None:
        """Stop this instance's heartbeat as a crash would (tests: a process that died)."""
        for task in self._tasks:
            if task.get_name() == "rtc-redis-heartbeat":
                task.cancel()
