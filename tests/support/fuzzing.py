"""Randomly formed input for Yoom's two sockets, from a seeded RNG (a failure replays with its seed).

* Reflex events for every handler of every state (`event_handlers()` walks the state tree): the right
  argument names with wrong types, huge strings, missing and extra fields, other people's ids, nested junk,
  and malformed events and packets around them.
* `/api/rtc` frames (docs/rtc-protocol.md): each message type with junk fields, other calls' peer ids,
  non-JSON and binary frames, oversized and deeply nested ones.

What the server answers is checked with `problems_in(text)`: nothing generated here can contain what it
looks for (error texts, and the `secrets` — another person's data — given to `Junk`).
"""

from __future__ import annotations

import inspect
import json
import random
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

NAMESPACE = "/_event"

# What a page must never show: a traceback, an exception's class, Python's or the database's own words.
ERROR_TEXT = re.compile(
    r"Traceback|File \"|\b[A-Z][A-Za-z]*(?:Error|Exception|Warning|Exit|Interrupt)\b|sqlalchemy|sqlite3|psycopg"
    r"|no such (?:table|column)|constraint failed|SELECT \S|INSERT INTO|DELETE FROM|\bUPDATE \w+ SET"
    r"|object has no attribute|unexpected keyword|positional argument|not subscriptable|NoneType"
    r"|invalid literal for|not JSON serializable|codec can't|\[Errno|maximum recursion depth"
    r"|object is not (?:callable|iterable)|unhashable type|must be str, not|can only concatenate",
)
# Reflex's answer to an exception nobody handled (a generic toast: no details in production).
UNHANDLED = re.compile(r"backend_error|An error occurred\.")

INTERESTING_STRINGS = [
    "",
    " ",
    "\t\n\r",
    "a",
    "0",
    "-1",
    "1e999",
    "NaN",
    "true",
    "false",
    "null",
    "None",
    "undefined",
    "[]",
    "{}",
    "grid",
    "speaker",
    "new",
    "join",
    "schedule",
    "created",
    "upcoming",
    "previous",
    "UTC",
    "Europe/Paris",
    "America",
    "Etc",
    "right/UTC",
    "posixrules",
    "zone.tab",
    "../../etc/passwd",
    "/etc/localtime",
    "US/../UTC",
    "Mars/Olympus_Mons",
    "2030-01-01T10:00",
    "2030-02-30T10:00",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "2024-13-01T25:61",
    "2030-01-01T10:00+05:00",
    "/",
    "/meeting/",
    "/meeting/../upcoming",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "' OR '1'='1",
    '"; DROP TABLE user; --',
    "{0.__class__}",
    "%s%s%s%n",
    "{{7*7}}",
    "${jndi:ldap://127.0.0.1/x}",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff\ud800",
    "\u202eevil",
    "\ufeff",
    "😀" * 20,
    "e\u0301" * 30,
    "user1, user2, nobody@example.com",
    ",,,,",
    "password one",
    "correct horse battery",
    "x" * 72,
    "é" * 40,
]
# Values that get a handler past its first checks, by what its name says it takes.
HINTS = {
    "timezone": ["UTC", "Europe/Paris", "America/Los_Angeles", "Pacific/Kiritimati", "America", "Etc", "right/UTC"],
    "when": ["2030-01-01T10:00", "9999-12-31T23:59", "0001-01-01T00:00", "2030-02-30T10:00", "2026-12-01T09:30"],
    "description": ["Weekly sync", " ", "x" * 201],
    "invitees": ["nobody", "a, b, c", ",", "x" * 300],
    "layout": ["grid", "speaker", "Grid", ""],
    "dialog": ["new", "join", "schedule", "created", "nope"],
    "join_input": ["/meeting/x", "https://evil.example/meeting/x", "a b"],
}
PRIVATE_NAMES = [
    "_signed_in_user",
    "_session_token",
    "_show_user",
    "_signed_out",
    "_finish",
    "_client",
    "_load",
    "_keep",
    "_next_page",
    "_reset_room",
    "_fail",
    "_removed",
    "_current_room",
    "_base_url",
    "reset",
    "dict",
    "get_state",
    "get_value",
    "get_delta",
    "__init__",
    "__class__",
    "__dict__",
    "router",
    "parent_state",
    "substates",
    "is_hydrated",
    "user_id",
    "event_handlers",
]
PAGES = ["/", "/upcoming", "/previous", "/recordings", "/personal-room", "/sign-in", "/sign-up", "/nowhere"]


class RawJson(str):
    """A value that is already JSON text, spliced in as is by `dumps`."""


def dumps(value: Any) -> str:
    """JSON text of `value`, with any RawJson inside spliced in verbatim."""
    raws: list[str] = []

    def swap(item: Any) -> Any:
        if isinstance(item, RawJson):
            raws.append(item)
            return f"\x00raw{len(raws) - 1}\x00"
        if isinstance(item, list):
            return [swap(x) for x in item]
        if isinstance(item, dict):
            return {k: swap(v) for k, v in item.items()}
        return item

    text = json.dumps(swap(value))
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00raw{i}\x00"), raw, 1)
    return text


def walk_states(root: type) -> Iterable[type]:
    yield root
    for sub in sorted(root.get_substates(), key=lambda s: s.get_full_name()):
        yield from walk_states(sub)


@dataclass(frozen=True)
class Target:
    """One event handler: its event name and the names (and annotations) of its arguments."""

    state: type
    handler: str
    params: tuple[tuple[str, Any], ...]

    @property
    def name(self) -> str:
        return f"{self.state.get_full_name()}.{self.handler}"


def event_handlers(root: type) -> list[Target]:
    """Every event handler of every state under `root` (rx.State: Yoom's and Reflex's own)."""
    targets = []
    for state in walk_states(root):
        for name, handler in sorted(state.event_handlers.items()):
            try:
                signature = inspect.signature(handler.fn)
            except (TypeError, ValueError):
                params: tuple = ()
            else:
                params = tuple(
                    (p.name, p.annotation)
                    for p in list(signature.parameters.values())[1:]
                    if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                )
            targets.append(Target(state, name, params))
    return targets


class Junk:
    """Values to send. `ids` are other people's (and our own) ids, sent in every place an id might go;
    `secrets` are texts that must never come back, so they are never generated."""

    def __init__(self, rng: random.Random, ids: Iterable[str] = (), secrets: Iterable[str] = ()):
        self.rng = rng
        self.ids = [i for i in ids if i]
        self.secrets = [s for s in secrets if s]

    def allowed(self, text: str) -> bool:
        return not ERROR_TEXT.search(text) and not UNHANDLED.search(text) and not any(s in text for s in self.secrets)

    def string(self) -> str:
        for _ in range(20):
            text = self._string()
            if self.allowed(text):
                return text
        return "x"

    def _string(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.35:
            return rng.choice(INTERESTING_STRINGS)
        if roll < 0.5 and self.ids:
            return rng.choice(self.ids) + rng.choice(["", "", "?personal=true", "/", " ", "x"])
        if roll < 0.7:
            return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 ._-@/") for _ in range(rng.randint(1, 80)))
        if roll < 0.85:
            return "".join(chr(rng.choice([rng.randint(0, 0x7F), rng.randint(0x80, 0xFFFF)])) for _ in range(40))
        if roll < 0.97:
            return rng.choice("aZ9é-") * rng.choice([300, 4001, 20_000, 70_000])
        return "y" * rng.choice([250_000, 600_000])  # towards the socket's 1 MB frame limit

    def scalar(self) -> Any:
        rng = self.rng
        return rng.choice(
            [
                None,
                True,
                False,
                0,
                1,
                -1,
                2**31,
                2**63,
                -(2**64),
                10**400,
                0.5,
                -0.0,
                1e308,
                float("inf"),
                float("-inf"),
                float("nan"),
                rng.randint(-(10**6), 10**6),
            ]
        )

    def value(self, depth: int = 0) -> Any:
        roll = self.rng.random()
        if roll < 0.3:
            return self.scalar()
        if roll < 0.75 or depth >= 4:
            return self.string()
        if roll < 0.87:
            return [self.value(depth + 1) for _ in range(self.rng.randint(0, 5))]
        if roll < 0.98:
            return {self.string()[:40]: self.value(depth + 1) for _ in range(self.rng.randint(0, 5))}
        return self.deep()

    def deep(self) -> RawJson:
        """Nesting deeper than parsers and serialisers like (already JSON: too deep for json.dumps too)."""
        depth = self.rng.choice([50, 500, 3000])
        if self.rng.random() < 0.5:
            return RawJson("[" * depth + "1" + "]" * depth)
        return RawJson('{"a":' * depth + "null" + "}" * depth)

    def plausible(self, annotation: Any, handler: str = "") -> Any:
        """A value of about the right type (to get past the first checks), often one the handler's name
        suggests (a time zone for `set_viewer_timezone`)."""
        hinted = [value for word, values in HINTS.items() if word in handler for value in values]
        if hinted and self.rng.random() < 0.6:
            return self.rng.choice(hinted)
        text = str(annotation)
        if "bool" in text:
            return self.rng.choice([True, False, "true", 1, None])
        if "int" in text:
            return self.rng.choice([0, 1, 7, -1, 1000, 10**9, "3", 2.5])
        if "dict" in text:
            return {
                "username": self.string(),
                "password": self.string(),
                "display_name": self.string(),
                **({self.string()[:20]: self.value(1)} if self.rng.random() < 0.3 else {}),
            }
        return self.string()

    # --- Reflex events --------------------------------------------------------------------------

    def payload(self, target: Target) -> Any:
        rng = self.rng
        params = target.params
        roll = rng.random()
        if roll < 0.35:
            return {name: self.value() for name, _ in params}
        if roll < 0.6:
            return {name: self.plausible(annotation, target.handler) for name, annotation in params}
        if roll < 0.7:
            return {name: self.value() for name, _ in params if rng.random() < 0.5}
        if roll < 0.8:
            extra = {self.rng.choice(["user", "_user", "self", "user_id", "cls", self.string()[:20]]): self.value()}
            return {**{name: self.plausible(a, target.handler) for name, a in params}, **extra}
        if roll < 0.88:
            return {}
        if roll < 0.94:
            return {self.string()[:30]: self.value() for _ in range(rng.randint(1, 3))}
        return rng.choice([None, [], [self.value()], self.string(), 7, True])

    def router_data(self, own_paths: list[str]) -> Any:
        from tests.support.reflex_socket import page_router_data

        rng = self.rng
        roll = rng.random()
        paths = PAGES + own_paths + [f"/meeting/{i}" for i in self.ids]
        if roll < 0.75:
            return page_router_data(rng.choice(paths))
        if roll < 0.85:
            data = page_router_data(rng.choice(paths))
            data["query"] = {rng.choice(["call_id", "next", "personal", self.string()[:20]]): self.value()}
            return data
        if roll < 0.93:
            return {
                rng.choice(["pathname", "asPath", "query", "headers", "token", "sid", "ip", self.string()[:10]]): (
                    self.value()
                )
                for _ in range(rng.randint(0, 4))
            }
        return rng.choice([None, [], "x", 3, {"pathname": None}])

    def event(self, targets: list[Target], own_paths: list[str], target: Target | None = None) -> tuple[str, Any]:
        """(what was aimed at, the `event` packet's argument); `target` given: a call of that handler."""
        rng = self.rng
        roll = 0.0 if target is not None else rng.random()
        target = target or rng.choice(targets)
        if roll < 0.85:
            return target.name, {
                "name": target.name,
                "payload": self.payload(target),
                "router_data": self.router_data(own_paths),
            }
        if roll < 0.9:
            name = f"{target.state.get_full_name()}.{rng.choice(PRIVATE_NAMES)}"
            return name, {"name": name, "payload": self.payload(target), "router_data": self.router_data(own_paths)}
        if roll < 0.95:
            name = rng.choice(
                [
                    "",
                    ".",
                    target.handler,
                    f"{target.name}.{target.handler}",
                    f"nowhere.{target.handler}",
                    target.name.replace(".", "..", 1),
                    self.string()[:200],
                ]
            )
            return "<bad name>", {"name": name, "payload": self.payload(target), "router_data": {}}
        return "<bad event>", rng.choice(
            [
                None,
                [],
                "x",
                7,
                {},
                {"payload": {}},
                {"name": None},
                {"name": 7, "payload": []},
                {"name": target.name, "payload": self.value(), "router_data": self.value(), "extra": 1},
                json.dumps({"name": target.name}),
                "{not json",
            ]
        )

    def raw_packet(self) -> str | bytes:
        """A malformed Socket.IO / Engine.IO frame."""
        rng = self.rng
        return rng.choice(
            [
                f"42{NAMESPACE},[",
                f"42{NAMESPACE},{{}}",
                f'42{NAMESPACE},["event"]',
                f'42{NAMESPACE},["nope",{{}}]',
                f'42{NAMESPACE},["client_error",{json.dumps(self.value())}]',
                f'42{NAMESPACE},["client_error",{{"error_type":"x","message":{json.dumps(self.string())}}}]',
                f'42{NAMESPACE},["ping"]',
                f'42{NAMESPACE},7["event",{{"name":"x"}}]',
                '42/other,["event",{}]',
                f'451-{NAMESPACE},["event",{{"_placeholder":true,"num":0}}]',
                f"43{NAMESPACE},1[]",
                f"40{NAMESPACE},{{}}",
                "42[]",
                "4",
                "6",
                "9",
                "",
                b"\x00\x01binary",
                f'42{NAMESPACE},["event",' + "[" * 3000 + "]" * 3000 + "]",
                f'42{NAMESPACE},["event",{{"name":"x","payload":{{"v":{"9" * 5000}}}}}]',  # past int() digit limits
            ]
        )

    # --- /api/rtc frames ------------------------------------------------------------------------

    def rtc_frame(self, peer_ids: list[str]) -> str | bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.8:
            kind = rng.choice(["signal", "signal", "media", "recording", "ping", "auth", "pong", "welcome", "error"])
            if rng.random() < 0.1:
                kind = rng.choice([self.value(), "leave", self.string()[:50]])
            message: dict[str, Any] = {"type": kind}
            for key in rng.sample(["to", "data", "audio", "video", "screen", "active", "peer_id", "from", "token"], 3):
                message[key] = self._rtc_field(key, peer_ids)
            if rng.random() < 0.2:
                message.update({self.string()[:20]: self.value() for _ in range(2)})
            try:
                return dumps(message)
            except (TypeError, ValueError):
                return json.dumps({"type": "ping"})
        if roll < 0.86:
            return rng.choice(["", "ping", "{", "[]", "null", "7", '"type"', "{'type': 'ping'}", "é"])
        if roll < 0.9:
            return rng.choice([b"", b"\x00\xff", b'{"type":"ping"}', bytes(rng.randrange(256) for _ in range(100))])
        if roll < 0.95:
            size = rng.choice([70_000, 70_000, 1_500_000])  # past the hub's 64 KiB, and far past it
            return json.dumps({"type": "signal", "to": rng.choice(peer_ids or ["x"]), "data": {"sdp": "v" * size}})
        depth = rng.choice([100, 5000, 30_000])
        return "[" * depth + "]" * depth

    def _rtc_field(self, key: str, peer_ids: list[str]) -> Any:
        rng = self.rng
        if key in ("to", "peer_id", "from"):
            return rng.choice([*peer_ids, uuid.uuid4().hex[:16], self.value()] if peer_ids else [self.value()])
        if key == "data":
            return rng.choice(
                [
                    {"sdp": {"type": "offer", "sdp": self.string()}},
                    {"candidate": {"candidate": self.string(), "sdpMid": self.value()}},
                    {"sdp": self.value(), "candidate": self.value()},
                    self.value(),
                ]
            )
        if key in ("audio", "video", "screen", "active"):
            return rng.choice([True, False, self.value()])
        return self.value()


def problems_in(text: str, secrets: Iterable[str] = ()) -> list[str]:
    """What a frame to a page must never carry: error texts, and other people's data."""
    found = []
    if match := ERROR_TEXT.search(text):
        found.append(f"error text {match.group(0)!r}")
    found.extend(f"another person's data ({secret[:12]}…)" for secret in secrets if secret and secret in text)
    return found
