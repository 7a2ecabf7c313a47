"""A participant of an embedded meeting without a browser: the `/api/rtc/{call_id}` socket of
docs/rtc-protocol.md, pinging every 3 s like the page's worker. For tests and benchmarks; every wait bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PING_EVERY_SECONDS = 3.0


async def video_token(base_url: str, cookie: str, http: httpx.AsyncClient | None = None) -> str:
    """POST /api/video/token with the session cookie from the page's own origin, as the meeting page does."""
    parts = urlsplit(base_url)
    own = http or httpx.AsyncClient(timeout=30)
    try:
        response = await own.post(
            base_url + "/api/video/token",
            cookies={"yoom_session": cookie},
            headers={"Origin": f"{parts.scheme}://{parts.netloc}"},
        )
    finally:
        if http is None:
            await own.aclose()
    response.raise_for_status()
    return response.json()["token"]


@dataclass
class RtcPeer:
    """One participant's signaling socket. `await peer.join()` sends the token and waits for `welcome`."""

    base_url: str
    call_id: str
    token: str
    local_host: str | None = None

    welcome: dict[str, Any] | None = field(default=None, init=False)
    frames: list[dict[str, Any]] = field(default_factory=list, init=False)  # everything but pongs
    rtts: list[float] = field(default_factory=list, init=False)  # ping → pong, seconds
    ping_log: list[tuple[float, float]] = field(default_factory=list, init=False)  # (time.monotonic() sent, rtt)
    close_code: int | None = field(default=None, init=False)
    closed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._pinger: asyncio.Task | None = None
        self._pings: deque[tuple[float, float]] = deque()  # (perf_counter, monotonic) of pings in flight
        self._welcomed = asyncio.Event()
        self._pong = asyncio.Event()

    @property
    def peer_id(self) -> str:
        return (self.welcome or {}).get("peer_id", "")

    async def join(self, timeout: float = 15.0) -> RtcPeer:
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        options: dict[str, Any] = {"local_addr": (self.local_host, 0)} if self.local_host else {}
        self._ws = await connect(
            f"{scheme}://{parts.netloc}/api/rtc/{self.call_id}",
            origin=f"{parts.scheme}://{parts.netloc}",
            open_timeout=timeout,
            max_size=None,
            ping_interval=None,
            compression=None,
            **options,
        )
        self._reader = asyncio.create_task(self._read())
        await self._ws.send(json.dumps({"type": "auth", "token": self.token}))
        try:
            await asyncio.wait_for(self._welcomed.wait(), timeout)
        except TimeoutError:
            await self.close()
            raise
        if self.welcome is None:
            raise ConnectionError(f"refused: {self.frames[-1:]} close {self.close_code}")
        return self

    def start_pinging(self, every: float = PING_EVERY_SECONDS, offset: float = 0.0) -> None:
        self._pinger = asyncio.create_task(self._ping_forever(every, offset))

    async def ping(self, timeout: float = 10.0) -> float:
        """One ping, waiting for its pong: the round trip in seconds."""
        self._pong.clear()
        before = len(self.rtts)
        await self.send({"type": "ping"})
        deadline = time.monotonic() + timeout
        while len(self.rtts) == before:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                raise TimeoutError("no pong")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pong.wait(), remaining)
            self._pong.clear()
        return self.rtts[-1]

    async def send(self, message: dict[str, Any]) -> None:
        if message.get("type") == "ping":
            self._pings.append((time.perf_counter(), time.monotonic()))
        await self.send_raw(json.dumps(message))

    async def send_raw(self, frame: str | bytes) -> None:
        assert self._ws is not None
        await self._ws.send(frame)

    async def _ping_forever(self, every: float, offset: float) -> None:
        await asyncio.sleep(offset)
        while not self.closed:
            try:
                await self.send({"type": "ping"})
            except ConnectionClosed:
                return
            await asyncio.sleep(every)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                try:
                    message = json.loads(raw)
                except (ValueError, TypeError):
                    message = {"type": "<not json>", "raw": str(raw)[:200]}
                if isinstance(message, dict) and message.get("type") == "pong":
                    if self._pings:
                        sent, sent_at = self._pings.popleft()
                        self.rtts.append(time.perf_counter() - sent)
                        self.ping_log.append((sent_at, self.rtts[-1]))
                    self._pong.set()
                    continue
                self.frames.append(message if isinstance(message, dict) else {"type": "<not an object>"})
                if isinstance(message, dict) and message.get("type") == "welcome":
                    self.welcome = message
                    self._welcomed.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self.close_code = self._ws.close_code
            self._welcomed.set()
            self._pong.set()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == kind]

    async def close(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        self.closed = True
