"""A small client of Reflex's event socket, speaking to a running Yoom what a browser's page speaks.

The socket is Socket.IO v5 over Engine.IO v4 on one WebSocket (`/_event/?EIO=4&transport=websocket`, the
client's token in the query, the page's Origin and cookies in the handshake). The page joins the `/_event`
namespace with its hydrate event in the CONNECT packet's auth (as reflex_base's state.js `connect()` does),
then sends every event as `42/_event,["event", {name, payload, router_data}]`, where `name` is
`<State.get_full_name()>.<handler>` and `router_data` is what state.js `withRouterData()` fills in. The
server answers with `event` packets carrying `{delta, events}` updates; Engine.IO pings ("2") are answered
("3") for as long as the socket is open.

Used by the fuzz tests and the benchmarks: asyncio only, every wait bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

NAMESPACE = "/_event"
FIELD_MARKER = "_rx_state_"  # reflex_base.constants.state.FIELD_MARKER: the suffix of var names in a delta
ROOT_STATE = "reflex___state____state"
HYDRATE = f"{ROOT_STATE}.hydrate_and_load"
_TICKET = re.compile(r'ticket\\?"\s*:\s*\\?"([A-Za-z0-9_-]{16,})')


def handler(state_cls: type, name: str) -> str:
    """The event name the page sends for `state_cls.name`."""
    return f"{state_cls.get_full_name()}.{name}"


def router_data(path: str = "/", params: dict[str, str] | None = None) -> dict[str, Any]:
    """What state.js puts in `router_data`: the path, the path with its query, and the query merged with
    the route's own params (`/meeting/[call_id]` gives `{"call_id": …}`)."""
    parts = urlsplit(path)
    query = dict(params or {})
    for pair in filter(None, parts.query.split("&")):
        key, _, value = pair.partition("=")
        query.setdefault(key, value)
    data: dict[str, Any] = {"pathname": parts.path or "/", "asPath": path}
    if query:
        data["query"] = query
    return data


def page_router_data(path: str) -> dict[str, Any]:
    """`router_data` for one of Yoom's pages, with the meeting page's `call_id` param filled in."""
    parts = urlsplit(path)
    params = {}
    if parts.path.startswith("/meeting/"):
        params["call_id"] = parts.path.removeprefix("/meeting/").strip("/")
    return router_data(path, params)


@dataclass
class Update:
    """One `event` packet from the server: a state delta and events for the page to run."""

    delta: dict[str, Any]
    events: list[dict[str, Any]]
    raw: str

    def var(self, state_cls: type, name: str, default: Any = None) -> Any:
        return self.delta.get(state_cls.get_full_name(), {}).get(name + FIELD_MARKER, default)

    def has_var(self, state_cls: type, name: str) -> bool:
        return name + FIELD_MARKER in self.delta.get(state_cls.get_full_name(), {})

    def scripts(self) -> list[str]:
        """The JavaScript of `rx.call_script` events in this update."""
        return [
            str((e.get("payload") or {}).get("javascript_code", ""))
            for e in self.events
            if isinstance(e, dict) and e.get("name") == "_call_script"
        ]

    def redirects(self) -> list[str]:
        return [
            str((e.get("payload") or {}).get("path", ""))
            for e in self.events
            if isinstance(e, dict) and e.get("name") == "_redirect"
        ]


class SocketClosed(Exception):
    """The server closed the event socket (or refused to join the namespace)."""


@dataclass
class ReflexSocket:
    """One page's event socket. `async with ReflexSocket(url, cookie=…) as page:` connects and hydrates."""

    base_url: str
    cookie: str | None = None  # the yoom_session cookie's value
    path: str = "/"  # the page this socket belongs to (router_data's default)
    token: str = field(default_factory=lambda: str(uuid.uuid4()))  # Reflex's client token (per tab)
    origin: str | None = None  # default: the base URL's origin, as a same-origin page sends
    local_host: str | None = None  # bind the client's end to this loopback address (127.0.0.2, say)
    hydrate: bool = True  # send the hydrate event in the CONNECT packet, as the page does
    connect_timeout: float = 15.0
    max_kept: int | None = None  # keep at most this many updates in `updates` (None: all)

    updates: list[Update] = field(default_factory=list, init=False)  # the latest `max_kept` of them
    frames: int = field(default=0, init=False)  # every text frame received
    closed: bool = field(default=False, init=False)
    close_reason: str = field(default="", init=False)
    on_frame: Callable[[str], None] | None = field(default=None, init=False)  # sees every raw text frame

    def __post_init__(self) -> None:
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._joined = asyncio.Event()
        self._changed = asyncio.Condition()
        self._join_error: str | None = None
        self._dropped = 0  # updates no longer kept (max_kept)

    @property
    def received(self) -> int:
        """How many updates arrived so far: a mark for `wait_for(since=…)`."""
        return self._dropped + len(self.updates)

    # --- connecting -----------------------------------------------------------------------------

    @property
    def socket_url(self) -> str:
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{NAMESPACE}/?token={self.token}&EIO=4&transport=websocket"

    async def connect(self) -> ReflexSocket:
        parts = urlsplit(self.base_url)
        headers = {}
        if self.cookie:
            headers["Cookie"] = f"yoom_session={self.cookie}"
        options: dict[str, Any] = {}
        if self.local_host:
            options["local_addr"] = (self.local_host, 0)
        self._ws = await connect(
            self.socket_url,
            origin=self.origin or f"{parts.scheme}://{parts.netloc}",
            additional_headers=headers,
            open_timeout=self.connect_timeout,
            max_size=None,
            ping_interval=None,  # Engine.IO has its own pings, answered below
            compression=None,
            **options,
        )
        opening = await asyncio.wait_for(self._ws.recv(), self.connect_timeout)
        if not isinstance(opening, str) or not opening.startswith("0"):
            raise SocketClosed(f"not an Engine.IO open packet: {opening!r:.200}")
        self._reader = asyncio.create_task(self._read(), name=f"reflex-socket-{self.token[:8]}")
        auth = {"event": {"name": HYDRATE, "payload": {}, "router_data": page_router_data(self.path)}}
        await self._ws.send(f"40{NAMESPACE}," + json.dumps(auth if self.hydrate else {}))
        try:
            await asyncio.wait_for(self._joined.wait(), self.connect_timeout)
        except TimeoutError:
            await self.close()
            raise SocketClosed("the server did not let the page join the event namespace") from None
        if self._join_error is not None:
            await self.close()
            raise SocketClosed(f"refused: {self._join_error}")
        return self

    async def __aenter__(self) -> ReflexSocket:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        self.closed = True

    # --- sending --------------------------------------------------------------------------------

    async def send(
        self, name: str, payload: Any = None, *, router: dict[str, Any] | None = None, path: str | None = None
    ) -> None:
        """Send one event as state.js does: `{name, payload, router_data}`."""
        event: dict[str, Any] = {"name": name, "payload": {} if payload is None else payload}
        event["router_data"] = router if router is not None else page_router_data(path or self.path)
        await self.send_event_data(event)

    async def send_event_data(self, data: Any, *, encoded: str | None = None) -> None:
        """Whatever `data` is (or the JSON text `encoded`), as the argument of an `event` packet (fuzzing)."""
        await self.send_packet(
            f'42{NAMESPACE},["event",' + (encoded if encoded is not None else json.dumps(data)) + "]"
        )

    async def send_packet(self, text: str | bytes) -> None:
        """A raw Engine.IO frame (for fuzzing)."""
        if self._ws is None or self.closed:
            raise SocketClosed(self.close_reason or "not connected")
        try:
            await self._ws.send(text)
        except ConnectionClosed as exc:
            self._mark_closed(f"closed while sending: {exc}")
            raise SocketClosed(self.close_reason) from None

    # --- receiving ------------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[Update], bool], timeout: float = 15.0, since: int = 0) -> Update:
        """The first update that satisfies `predicate`, counting from the `since`-th received (a `received`
        taken before sending)."""
        deadline = asyncio.get_running_loop().time() + timeout
        seen = since
        async with self._changed:
            while True:
                while seen < self.received:
                    update = self.updates[max(0, seen - self._dropped)]
                    seen = max(seen, self._dropped) + 1
                    if predicate(update):
                        return update
                if self.closed:
                    raise SocketClosed(self.close_reason or "closed")
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise TimeoutError("no matching update from the server")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    async def barrier(self, timeout: float = 30.0) -> None:
        """Wait until every event sent so far has been handled: the server handles one page's events in
        order, so an event whose answer we recognise, sent now, answers after all of them."""
        from yoom.state.auth_forms import AuthFormState  # the sign-in form's one handler open to anyone

        marker = f"barrier-{uuid.uuid4().hex}"
        mark = self.received
        await self.send(handler(AuthFormState, "cookie_route_failed"), {"message": marker})
        await self.wait_for(lambda u: u.var(AuthFormState, "error") == marker, timeout, since=mark)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for frame in self._ws:
                if not isinstance(frame, str):
                    continue
                self.frames += 1
                if self.on_frame is not None:
                    self.on_frame(frame)
                if frame == "2":  # Engine.IO ping
                    await self._ws.send("3")
                elif frame.startswith("42"):
                    await self._on_packet(frame)
                elif frame.startswith(f"40{NAMESPACE}"):
                    self._joined.set()
                elif frame.startswith(f"44{NAMESPACE}"):
                    self._join_error = frame[len(f"44{NAMESPACE},") :][:300]
                    self._joined.set()
                elif frame.startswith(f"41{NAMESPACE}") or frame == "1":
                    self._mark_closed("the server ended the session")
                    await self._ws.close()
                    return
        except ConnectionClosed as exc:
            self._mark_closed(f"connection closed: {exc}")
        finally:
            self._mark_closed(self.close_reason or "connection closed")
            self._joined.set()
            async with self._changed:
                self._changed.notify_all()

    async def _on_packet(self, frame: str) -> None:
        body = frame[2:]
        if body.startswith(NAMESPACE + ","):
            body = body[len(NAMESPACE) + 1 :]
        try:
            name, *args = json.loads(body)
        except (ValueError, TypeError):
            return
        if name != "event" or not args or not isinstance(args[0], dict):
            return
        update = Update(args[0].get("delta") or {}, args[0].get("events") or [], frame)
        self.updates.append(update)
        if self.max_kept is not None and len(self.updates) > self.max_kept:
            extra = len(self.updates) - self.max_kept
            del self.updates[:extra]
            self._dropped += extra
        async with self._changed:
            self._changed.notify_all()

    def _mark_closed(self, reason: str) -> None:
        if not self.closed:
            self.closed = True
            self.close_reason = reason


# --- signing in through the page's own path ---------------------------------------------------------


class SignInFailed(Exception):
    pass


def ticket_in(update: Update) -> str | None:
    """The one-time sign-in ticket in the script a correct form answers with (yoom/state/auth_forms.py)."""
    for script in update.scripts():
        if "/api/auth/session" in script and (match := _TICKET.search(script)):
            return match.group(1)
    return None


async def redeem_ticket(base_url: str, ticket: str, client: httpx.AsyncClient | None = None) -> str:
    """POST the ticket to /api/auth/session from the page's origin, as the page's script does; the session
    cookie's value."""
    parts = urlsplit(base_url)
    own = client or httpx.AsyncClient(timeout=30)
    try:
        response = await own.post(
            base_url + "/api/auth/session",
            json={"ticket": ticket},
            headers={"Origin": f"{parts.scheme}://{parts.netloc}"},
        )
    finally:
        if client is None:
            await own.aclose()
    cookie = response.cookies.get("yoom_session")
    if response.status_code != 204 or not cookie:
        raise SignInFailed(f"/api/auth/session answered {response.status_code}: {response.text[:200]}")
    return cookie


async def submit_auth_form(page: ReflexSocket, kind: str, form: dict[str, str], timeout: float = 60.0) -> str:
    """Submit the sign-in (`kind="sign_in"`) or sign-up form on an open page; the ticket, or SignInFailed
    with the form's error."""
    from yoom.state.auth_forms import AuthFormState

    mark = page.received
    await page.send(handler(AuthFormState, kind), {"form": form})
    answer = await page.wait_for(
        lambda u: ticket_in(u) is not None or bool(u.var(AuthFormState, "error")), timeout, since=mark
    )
    ticket = ticket_in(answer)
    if ticket is None:
        raise SignInFailed(str(answer.var(AuthFormState, "error")))
    return ticket


async def sign_up(
    base_url: str,
    display_name: str,
    username: str,
    password: str,
    *,
    http: httpx.AsyncClient | None = None,
    local_host: str | None = None,
) -> str:
    """A new account through the sign-up page's socket and the cookie route: its session cookie's value."""
    form = {"display_name": display_name, "username": username, "password": password}
    async with ReflexSocket(base_url, path="/sign-up", local_host=local_host) as page:
        ticket = await submit_auth_form(page, "sign_up", form)
    return await redeem_ticket(base_url, ticket, http)


async def sign_in(
    base_url: str,
    username: str,
    password: str,
    *,
    http: httpx.AsyncClient | None = None,
    local_host: str | None = None,
) -> str:
    """Sign in through the sign-in page's socket and the cookie route: the session cookie's value."""
    async with ReflexSocket(base_url, path="/sign-in", local_host=local_host) as page:
        ticket = await submit_auth_form(page, "sign_in", {"username": username, "password": password})
    return await redeem_ticket(base_url, ticket, http)
