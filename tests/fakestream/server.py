"""A fake Stream Video server: real HTTP on 127.0.0.1, reached by the unmodified `getstream` SDK via base_url.

It checks every request the way Stream does before doing anything:
  * `api_key` query parameter equal to the app's key (else 401, code 2);
  * `stream-auth-type: jwt` and an `Authorization` header holding a bare JWT (no "Bearer"), HS256-signed
    with the app's secret, not expired (else 401); only server-side tokens (no `user_id`) are served;
  * the path and method against Stream's OpenAPI description (`stream_spec.json`, a copied subset);
  * the JSON body and query parameters against the operation's schema: types, required fields, limits and
    no unknown fields (else 400, code 4), plus the rules the schema cannot say (users must exist, filter
    fields/operators and sort combinations from `x-stream-filter-fields` / `x-stream-sort-combinations`).
It answers in Stream's wire format: integer Unix-nanosecond timestamps, 201 for POST, 200 for GET,
APIError bodies `{code, message, StatusCode, duration, more_info, details}`; and it checks its own answers
against the spec's response schemas (`violations` lists any mismatch, which tests assert is empty).

State (users, calls, members, recordings, call types with their grants) lives in memory. Tests can seed it
(`put_user`, `put_call`, `add_recording`, `put_call_type`), read it (`user`, `call`, `call_type`,
`capabilities`: what a user may do in a call by Stream's role rules), read the recorded requests
(`requests`) and inject faults for the
next N matching requests or forever: "timeout" (sleep past the client's timeout, then drop the connection),
an HTTP status (500, 503, 429 with optional Retry-After), "malformed" (truncated JSON) or "iso_timestamps"
(the real answer with ISO strings where Stream sends integers), and "delay" (answer late). By default a
status fault or timeout is returned *before* the request is applied; `process=True` applies it first
(the "it happened but the answer got lost" case). Malformed bodies are always for applied requests.

Stream API error codes used (from Stream's API error documentation): 2 = api key not found, 4 = input
error, 5 = authentication failed, 9 = rate limited, 16 = does not exist, 17 = not allowed, 40 = token
expired, 43 = token signature invalid, -1 = internal error.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from .schema import Spec, parse_rfc3339

CALL_TYPES = ("default", "audio_room", "livestream", "development")  # built in: every app has them
CALL_TYPE_NAME_RE = re.compile(r"^[a-z0-9_-]{1,64}$")
# Grants a call type starts with (Stream's `default` type, in short): a role a new type's request leaves out
# keeps these, which is why a type meant for members only must list `user` (and guests) with nothing.
_TAKE_PART = ["read-call", "join-call", "send-audio", "send-video", "screenshare", "create-reaction"]
_RUN = [
    *_TAKE_PART,
    "create-call",
    "end-call",
    "update-call",
    "update-call-member",
    "remove-call-member",
    "mute-users",
    "kick-user",
    "block-users",
    "pin-for-everyone",
    "start-record-call",
    "stop-record-call",
]
DEFAULT_GRANTS = {
    "user": [*_TAKE_PART, "create-call"],
    "guest": ["read-call", "join-call", "send-audio", "send-video", "create-reaction"],
    "anonymous": ["read-call"],
    "call_member": [*_TAKE_PART, "create-call"],
    "host": _RUN,
    "admin": _RUN,
}
CALL_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
USER_ID_RE = re.compile(r"^[@A-Za-z0-9_-]+$")
MORE_INFO = "https://getstream.io/chat/docs/api_errors_response"
DEFAULT_QUERY_LIMIT = 25
DEFAULT_MEMBERS_LIMIT = 25
MAX_CUSTOM_BYTES = 5 * 1024

_SPEC: Spec | None = None


def _spec() -> Spec:
    global _SPEC
    if _SPEC is None:
        _SPEC = Spec.load()
    return _SPEC


def ns(value: datetime) -> int:
    """A datetime as Stream's wire timestamp: integer Unix nanoseconds."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1_000_000) * 1000


class APIError(Exception):
    def __init__(self, status: int, code: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _input_error(message: str) -> APIError:
    return APIError(400, 4, message)


def _not_found(cid: str) -> APIError:
    return APIError(404, 16, f"Can't find call with id {cid}")


@dataclass
class Fault:
    kind: str  # "timeout" | "status" | "malformed" | "iso_timestamps" | "delay"
    times: int | None  # remaining; None = every matching request
    path: re.Pattern | None
    method: str | None
    status: int = 0
    seconds: float = 0.0
    process: bool = False
    retry_after: float | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method and self.method != method:
            return False
        return self.path is None or bool(self.path.search(path))


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    started: float
    finished: float = 0.0
    status: int | None = None
    fault: str | None = None
    claims: dict | None = None
    operation: str | None = None


@dataclass
class _Route:
    method: str
    template: str
    regex: re.Pattern
    handler: Callable[..., tuple[int, dict]]
    operation: dict


@dataclass
class _Call:
    type: str
    id: str
    created_by_id: str
    created_at: int
    updated_at: int
    custom: dict
    starts_at: int | None = None
    ended_at: int | None = None
    team: str | None = None
    members: dict[str, dict] = field(default_factory=dict)
    deleted: bool = False
    # Moderation: users blocked from the call (no capability in it), kicks and mute requests as sent.
    blocked: set[str] = field(default_factory=set)
    kicks: list[dict] = field(default_factory=list)
    mutes: list[dict] = field(default_factory=list)

    @property
    def cid(self) -> str:
        return f"{self.type}:{self.id}"


class FakeStream:
    def __init__(
        self, api_key: str = "fake-stream-key", api_secret: str = "fake-stream-secret-for-yoom-tests-0123456789"
    ):
        self.api_key = api_key
        self.api_secret = api_secret
        self.spec = _spec()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._users: dict[str, dict] = {}
        self._calls: dict[str, _Call] = {}
        self._recordings: dict[str, list[dict]] = {}
        born = time.time_ns()
        self._call_types: dict[str, dict] = {
            name: {"name": name, "grants": copy.deepcopy(DEFAULT_GRANTS), "created_at": born, "updated_at": born}
            for name in CALL_TYPES
        }
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = self._build_routes()
        self._settings = self.spec.example("CallSettingsResponse")
        self._ingress = self.spec.example("CallIngressResponse")
        self._egress = self.spec.example("EgressResponse")
        self._notification_settings = self.spec.example("NotificationSettingsResponse")

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeStream:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-stream", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeStream:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- test controls ------------------------------------------------------------------------

    def inject(
        self,
        kind: str | int,
        times: int | None = 1,
        *,
        path: str | None = None,
        method: str | None = None,
        seconds: float = 0.0,
        process: bool | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        """Make the next `times` requests matching `path` (regex searched in the URL path) and `method` fail.

        kind: "timeout" (sleep `seconds`, then drop the connection), an HTTP status such as 500 or 429,
        "malformed", "iso_timestamps" or "delay" (sleep `seconds`, then answer normally).
        """
        if isinstance(kind, int):
            fault = Fault("status", times, None, None, status=kind)
        elif kind in ("timeout", "malformed", "iso_timestamps", "delay"):
            fault = Fault(kind, times, None, None)
        else:
            raise ValueError(f"unknown fault {kind!r}")
        fault.path = re.compile(path) if path else None
        fault.method = method.upper() if method else None
        fault.seconds = seconds
        fault.retry_after = retry_after
        fault.process = kind in ("malformed", "iso_timestamps", "delay") if process is None else process
        if fault.kind == "timeout" and seconds <= 0:
            raise ValueError("a timeout fault needs seconds > the client's timeout")
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        pattern = re.compile(path_regex)
        return [r for r in self.requests if r.method == method.upper() and pattern.search(r.path)]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def put_user(self, user_id: str, name: str | None = None, image: str | None = None) -> None:
        with self._lock:
            self._store_user({"id": user_id, "name": name, "image": image})

    def user(self, user_id: str) -> dict | None:
        with self._lock:
            found = self._users.get(user_id)
            return copy.deepcopy(found) if found else None

    def put_call(
        self,
        call_id: str,
        created_by: str,
        *,
        call_type: str = "default",
        created_at: datetime | None = None,
        starts_at: datetime | None = None,
        ended_at: datetime | None = None,
        custom: dict | None = None,
        members: tuple[str, ...] = (),
    ) -> None:
        """Seed a call as if made elsewhere (users are created when missing)."""
        now = time.time_ns()
        with self._lock:
            for uid in (created_by, *members):
                if uid not in self._users:
                    self._store_user({"id": uid})
            call = _Call(
                type=call_type,
                id=call_id,
                created_by_id=created_by,
                created_at=ns(created_at) if created_at else now,
                updated_at=now,
                custom=dict(custom or {}),
                starts_at=ns(starts_at) if starts_at else None,
                ended_at=ns(ended_at) if ended_at else None,
            )
            for uid in members:
                call.members[uid] = {"role": None, "custom": {}, "created_at": now, "updated_at": now}
            self._calls[call.cid] = call

    def _cid(self, call_id: str, call_type: str | None) -> str:
        """The cid of the call: of that type, or (None) of whichever one type holds the id; KeyError if none."""
        if call_type is not None:
            return f"{call_type}:{call_id}"
        found = [cid for cid, call in self._calls.items() if call.id == call_id]
        if len(found) != 1:
            raise KeyError(f"{len(found)} calls have the id {call_id}: name the call_type")
        return found[0]

    def set_call_times(self, call_id: str, *, call_type: str | None = None, **times: datetime | None) -> None:
        """Move a call's created_at / starts_at / ended_at (e.g. into the past). `call_type`: see `_cid`."""
        with self._lock:
            call = self._calls[self._cid(call_id, call_type)]
            for name, value in times.items():
                if name not in ("created_at", "starts_at", "ended_at"):
                    raise ValueError(name)
                setattr(call, name, ns(value) if value else None)

    def call(self, call_id: str, call_type: str = "default") -> dict | None:
        """The stored call (timestamps as ns), or None when missing or deleted."""
        with self._lock:
            found = self._calls.get(f"{call_type}:{call_id}")
            if found is None or found.deleted:
                return None
            return {
                "type": found.type,
                "id": found.id,
                "created_by_id": found.created_by_id,
                "created_at": found.created_at,
                "starts_at": found.starts_at,
                "ended_at": found.ended_at,
                "custom": copy.deepcopy(found.custom),
                "members": {uid: dict(m) for uid, m in found.members.items()},
            }

    def put_call_type(self, name: str, grants: dict[str, list[str]] | None = None) -> None:
        """Seed a call type as if made in the dashboard (grants: Stream's defaults, these roles replaced)."""
        now = time.time_ns()
        with self._lock:
            merged = copy.deepcopy(DEFAULT_GRANTS)
            merged.update({role: list(perms) for role, perms in (grants or {}).items()})
            self._call_types[name] = {"name": name, "grants": merged, "created_at": now, "updated_at": now}

    def call_type(self, name: str) -> dict | None:
        """The stored call type ({name, grants, ...}), or None."""
        with self._lock:
            found = self._call_types.get(name)
            return copy.deepcopy(found) if found else None

    def capabilities(self, call_type: str, call_id: str, user_id: str, call_cids: Any = ()) -> set[str]:
        """What `user_id` may do in the call, as Stream decides it: the grants of the user's app-level role
        (`user`), plus those of their call-level role when they are a member (`call_member`, or the role
        the member was given, such as `host`), plus `call_member`'s when the token they use is a call token
        naming this call (`call_cids`: Stream gives its holder the membership role in those calls without
        making a member). Empty for a missing call, and for a user blocked from it."""
        with self._lock:
            kind = self._call_types.get(call_type)
            call = self._calls.get(f"{call_type}:{call_id}")
            user = self._users.get(user_id)
            if kind is None or call is None or call.deleted or user_id in call.blocked:
                return set()  # a blocked user can't even read the call
            grants = kind["grants"]
            # A user the browser connected but the server never upserted holds Stream's default role.
            allowed = set(grants.get(user["role"] if user else "user", ()))
            member = call.members.get(user_id)
            if member is not None:
                allowed |= set(grants.get(member.get("role") or "call_member", ()))
            if isinstance(call_cids, list) and f"{call_type}:{call_id}" in call_cids:
                allowed |= set(grants.get("call_member", ()))
            return allowed

    def moderation(self, call_id: str, call_type: str | None = None) -> dict:
        """What was done to a call's people: {"blocked": [...], "kicks": [...], "mutes": [...]} (as sent).
        `call_type`: see `_cid`."""
        with self._lock:
            try:
                call = self._calls.get(self._cid(call_id, call_type))
            except KeyError:
                call = None
            if call is None:
                return {"blocked": [], "kicks": [], "mutes": []}
            return copy.deepcopy({"blocked": sorted(call.blocked), "kicks": call.kicks, "mutes": call.mutes})

    @property
    def call_count(self) -> int:
        with self._lock:
            return sum(1 for c in self._calls.values() if not c.deleted)

    def add_recording(
        self,
        call_id: str,
        filename: str,
        *,
        start_time: datetime,
        end_time: datetime,
        url: str | None = None,
        session_id: str = "session-1",
        recording_type: str = "composite",
        call_type: str | None = None,
    ) -> dict:
        with self._lock:
            cid = self._cid(call_id, call_type)
            if cid not in self._calls:
                raise KeyError(cid)
            call_type = cid.partition(":")[0]
            rec = {
                "filename": filename,
                "url": url or f"https://fake-stream.invalid/recordings/{call_type}/{call_id}/{filename}",
                "start_time": ns(start_time),
                "end_time": ns(end_time),
                "session_id": session_id,
                "recording_type": recording_type,
            }
            self._recordings.setdefault(cid, []).append(rec)
            return dict(rec)

    # --- request handling ---------------------------------------------------------------------

    def _build_routes(self) -> list[_Route]:
        handlers = {
            ("POST", "/api/v2/users"): self._update_users,
            ("GET", "/api/v2/video/call/{type}/{id}"): self._get_call,
            ("POST", "/api/v2/video/call/{type}/{id}"): self._get_or_create_call,
            ("POST", "/api/v2/video/call/{type}/{id}/members"): self._update_call_members,
            ("POST", "/api/v2/video/call/{type}/{id}/mark_ended"): self._end_call,
            ("POST", "/api/v2/video/call/{type}/{id}/delete"): self._delete_call,
            ("GET", "/api/v2/video/call/{type}/{id}/recordings"): self._list_recordings,
            ("POST", "/api/v2/video/call/{type}/{id}/kick"): self._kick_user,
            ("POST", "/api/v2/video/call/{type}/{id}/block"): self._block_user,
            ("POST", "/api/v2/video/call/{type}/{id}/unblock"): self._unblock_user,
            ("POST", "/api/v2/video/call/{type}/{id}/mute_users"): self._mute_users,
            ("POST", "/api/v2/video/calls"): self._query_calls,
            ("POST", "/api/v2/video/calltypes"): self._create_call_type,
            ("GET", "/api/v2/video/calltypes/{name}"): self._get_call_type,
            ("PUT", "/api/v2/video/calltypes/{name}"): self._update_call_type,
        }
        routes = []
        for (method, template), handler in handlers.items():
            regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")
            routes.append(_Route(method, template, regex, handler, self.spec.paths[template][method.lower()]))
        return routes

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                    fault.hits += 1
                    return fault
        return None

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def handle(self, h: _Handler) -> None:
        started = time.monotonic()
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in h.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        rec = RecordedRequest(h.command, split.path, query, headers, body, started)
        with self._lock:
            self._requests.append(rec)

        fault = self._take_fault(h.command, split.path)
        rec.fault = fault.kind if fault else None
        if fault and fault.kind == "delay":
            self._sleep(fault.seconds)
        if fault and not fault.process and fault.kind in ("timeout", "status"):
            self._deliver_fault(h, rec, fault)
            return

        status, payload, extra_headers = self._dispatch(h.command, split.path, query, headers, raw, rec)

        if fault and fault.kind in ("timeout", "status"):
            self._deliver_fault(h, rec, fault)
            return
        if fault and fault.kind == "malformed":
            text = json.dumps(payload)
            self._send(h, rec, status, text[: max(1, len(text) // 2)].encode(), extra_headers)
            return
        if fault and fault.kind == "iso_timestamps":
            self._send(h, rec, status, json.dumps(_iso_timestamps(payload)).encode(), extra_headers)
            return
        self._send(h, rec, status, json.dumps(payload).encode(), extra_headers)

    def _deliver_fault(self, h: _Handler, rec: RecordedRequest, fault: Fault) -> None:
        if fault.kind == "timeout":
            self._sleep(fault.seconds)
            rec.finished = time.monotonic()
            h.close_connection = True  # the client gave up long ago; drop the connection
            return
        code = {429: 9, 401: 5, 403: 17, 404: 16, 400: 4}.get(fault.status, -1)
        message = {429: "Too many requests, check response headers for more information."}.get(
            fault.status, "internal server error" if fault.status >= 500 else "injected error"
        )
        headers = {}
        if fault.status == 429:
            reset = int(time.time()) + 1
            headers.update({"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
            if fault.retry_after is not None:
                headers["Retry-After"] = str(int(fault.retry_after))
        payload = self._error_body(fault.status, code, message)
        self._send(h, rec, fault.status, json.dumps(payload).encode(), headers)

    def _send(self, h: _Handler, rec: RecordedRequest, status: int, body: bytes, headers: dict) -> None:
        rec.status = status
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                h.send_header(name, value)
            h.end_headers()
            h.wfile.write(body)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True
        finally:
            rec.finished = time.monotonic()

    @staticmethod
    def _error_body(status: int, code: int, message: str) -> dict:
        return {
            "code": code,
            "message": message,
            "StatusCode": status,
            "duration": "0.00ms",
            "more_info": MORE_INFO,
            "details": [],
        }

    def _dispatch(self, method: str, path: str, query: dict, headers: dict, raw: bytes, rec: RecordedRequest):
        t0 = time.perf_counter()
        route = None
        try:
            matched = [(r, m) for r in self._routes if (m := r.regex.match(path))]
            if not matched:
                raise APIError(404, 16, f"unknown path {path}")
            for candidate, match in matched:
                if candidate.method == method:
                    route, params = candidate, match.groupdict()
                    break
            else:
                raise APIError(405, 4, f"method {method} not allowed on {path}")
            rec.operation = route.operation.get("operationId")
            rec.claims = self._authenticate(query, headers)
            self._check_path(route, params)
            args = self._check_query(route, query)
            body = self._check_body(route, headers, raw)
            status, payload = route.handler(params, args, body)
        except APIError as err:
            payload = self._error_body(err.status, err.code, err.message)
            self._self_check(payload, {"$ref": "#/components/schemas/APIError"}, f"{method} {path} error")
            return err.status, payload, err.headers
        payload["duration"] = f"{(time.perf_counter() - t0) * 1000:.2f}ms"
        schema = route.operation["responses"][str(status)]["content"]["application/json"]["schema"]
        self._self_check(payload, schema, f"{method} {path}")
        return status, payload, {}

    def _self_check(self, payload: dict, schema: dict, where: str) -> None:
        errors = self.spec.validate(payload, schema, "response", direction="response")
        if errors:
            with self._lock:
                self.violations.extend(f"{where}: {e}" for e in errors)

    def _authenticate(self, query: dict, headers: dict) -> dict:
        if "api_key" not in query or not query["api_key"]:
            raise APIError(401, 4, "api_key is a required query parameter")
        if query["api_key"] != self.api_key:
            raise APIError(401, 2, "api_key not found")
        if headers.get("stream-auth-type") != "jwt":
            raise APIError(401, 5, "Stream-Auth-Type header must be 'jwt' for server-side requests")
        token = headers.get("authorization", "")
        if not token:
            raise APIError(401, 5, "JWTAuth error: authorization header is missing")
        try:
            claims = jwt.decode(
                token, self.api_secret, algorithms=["HS256"], options={"require": [], "verify_iat": False}
            )
        except jwt.ExpiredSignatureError:
            raise APIError(401, 40, "JWTAuth error: token has expired") from None
        except jwt.InvalidSignatureError:
            raise APIError(
                401,
                43,
                "JWTAuth error: signature is not valid. Make sure the token is created using the secret key that "
                "matches the api_key",
            ) from None
        except jwt.PyJWTError as exc:
            raise APIError(401, 5, f"JWTAuth error: token is malformed ({exc})") from None
        if claims.get("user_id"):
            raise APIError(403, 17, "this endpoint is served to server-side tokens only (a user token was sent)")
        return claims

    def _check_path(self, route: _Route, params: dict) -> None:
        for param in route.operation.get("parameters", []):
            if param["in"] != "path":
                continue
            value = params.get(param["name"], "")
            errors = self.spec.validate(value, param["schema"], f"path.{param['name']}")
            if errors:
                raise _input_error("; ".join(errors))

    def _check_query(self, route: _Route, query: dict) -> dict:
        out = {}
        for param in route.operation.get("parameters", []):
            if param["in"] != "query" or param["name"] not in query:
                continue
            name, raw, schema = param["name"], query[param["name"]], param.get("schema", {})
            kind = schema.get("type")
            try:
                value: Any = (
                    int(raw) if kind == "integer" else {"true": True, "false": False}[raw] if kind == "boolean" else raw
                )
            except (ValueError, KeyError):
                raise _input_error(f"query parameter {name}: {raw!r} is not a valid {kind}") from None
            errors = self.spec.validate(value, schema, f"query.{name}")
            if errors:
                raise _input_error("; ".join(errors))
            out[name] = value
        return out

    def _check_body(self, route: _Route, headers: dict, raw: bytes) -> dict:
        spec_body = route.operation.get("requestBody")
        if spec_body is None:
            return {}
        if not raw:
            if spec_body.get("required"):
                raise _input_error("the request body is required")
            return {}
        if "application/json" not in headers.get("content-type", ""):
            raise _input_error("Content-Type must be application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            raise _input_error("the request body is not valid JSON") from None
        errors = self.spec.validate(body, spec_body["content"]["application/json"]["schema"], "body")
        if errors:
            raise _input_error("; ".join(errors))
        return body

    # --- wire format --------------------------------------------------------------------------

    def _user_response(self, user_id: str, full: bool = False) -> dict:
        user = self._users[user_id]
        out = {
            "id": user["id"],
            "banned": False,
            "blocked_user_ids": [],
            "created_at": user["created_at"],
            "updated_at": user["updated_at"],
            "custom": copy.deepcopy(user["custom"]),
            "invisible": False,
            "language": user["language"],
            "online": False,
            "role": user["role"],
            "shadow_banned": False,
            "teams": list(user["teams"]),
        }
        for key in ("name", "image"):
            if user.get(key):
                out[key] = user[key]
        if full:
            out.update(
                {
                    "devices": [],
                    "mutes": [],
                    "channel_mutes": [],
                    "unread_count": 0,
                    "total_unread_count": 0,
                    "unread_channels": 0,
                    "unread_threads": 0,
                }
            )
        return out

    def _member_response(self, call: _Call, user_id: str) -> dict:
        member = call.members[user_id]
        out = {
            "user_id": user_id,
            "user": self._user_response(user_id),
            "custom": copy.deepcopy(member["custom"]),
            "created_at": member["created_at"],
            "updated_at": member["updated_at"],
        }
        if member.get("role"):
            out["role"] = member["role"]
        return out

    def _call_response(self, call: _Call) -> dict:
        out = {
            "type": call.type,
            "id": call.id,
            "cid": call.cid,
            "current_session_id": "",
            "created_by": self._user_response(call.created_by_id),
            "custom": copy.deepcopy(call.custom),
            "created_at": call.created_at,
            "updated_at": call.updated_at,
            "recording": False,
            "transcribing": False,
            "captioning": False,
            "translating": False,
            "backstage": False,
            "blocked_user_ids": [],
            "settings": self._settings,
            "ingress": self._ingress,
            "egress": self._egress,
        }
        if call.starts_at is not None:
            out["starts_at"] = call.starts_at
        if call.ended_at is not None:
            out["ended_at"] = call.ended_at
        if call.team:
            out["team"] = call.team
        return out

    def _state(self, call: _Call, members_limit: int = DEFAULT_MEMBERS_LIMIT) -> dict:
        return {
            "call": self._call_response(call),
            "members": [self._member_response(call, uid) for uid in list(call.members)[:members_limit]],
            "own_capabilities": [],
        }

    # --- state --------------------------------------------------------------------------------

    def _store_user(self, req: dict) -> dict:
        now = time.time_ns()
        previous = self._users.get(req["id"])
        user = {
            "id": req["id"],
            "name": req.get("name"),
            "image": req.get("image"),
            "custom": dict(req.get("custom") or {}),
            "role": req.get("role") or "user",
            "language": req.get("language") or "",
            "teams": list(req.get("teams") or []),
            "created_at": previous["created_at"] if previous else now,
            "updated_at": now,
        }
        self._users[user["id"]] = user
        return user

    def _check_users_exist(self, user_ids: list[str], operation: str) -> None:
        missing = [uid for uid in dict.fromkeys(user_ids) if uid not in self._users]
        if missing:
            raise _input_error(
                f'{operation} failed with error: "The following users are involved in call create operation, but '
                f"don't exist: [{', '.join(missing)}]. Please create the user objects before setting up the call.\""
            )

    def _check_call_type(self, name: str) -> None:
        if name not in self._call_types:
            raise APIError(404, 16, f"call type '{name}' does not exist")

    def _live_call(self, params: dict) -> _Call:
        self._check_call_type(params["type"])
        cid = f"{params['type']}:{params['id']}"
        call = self._calls.get(cid)
        if call is None or call.deleted:
            raise _not_found(cid)
        return call

    @staticmethod
    def _timestamp(value: Any, where: str) -> int:
        if isinstance(value, str):
            parsed = parse_rfc3339(value)
            if parsed is None:
                raise _input_error(f"{where}: invalid date-time {value!r}")
            return ns(parsed)
        return int(value)

    # --- endpoints ----------------------------------------------------------------------------

    def _update_users(self, params: dict, args: dict, body: dict):
        users = body["users"]
        if not users:
            raise _input_error('UpdateUsers failed with error: "users is a required field"')
        for key, req in users.items():
            if req["id"] != key:
                raise _input_error(
                    f'UpdateUsers failed with error: "user id {req["id"]!r} does not match its key {key!r}"'
                )
            if not USER_ID_RE.match(key) or len(key) > 255:
                raise _input_error(f'UpdateUsers failed with error: "user id {key!r} is not valid"')
        with self._lock:
            stored = [self._store_user(req) for req in users.values()]
            out = {u["id"]: self._user_response(u["id"], full=True) for u in stored}
        return 201, {"users": out, "membership_deletion_task_id": ""}

    def _get_call(self, params: dict, args: dict, body: dict):
        with self._lock:
            call = self._live_call(params)
            state = self._state(call, args.get("members_limit", DEFAULT_MEMBERS_LIMIT))
        return 200, state

    def _get_or_create_call(self, params: dict, args: dict, body: dict):
        with self._lock:
            self._check_call_type(params["type"])
        if not CALL_ID_RE.match(params["id"]):
            raise _input_error(f'GetOrCreateCall failed with error: "call id {params["id"]!r} is not valid"')
        limit = body.get("members_limit", DEFAULT_MEMBERS_LIMIT)
        cid = f"{params['type']}:{params['id']}"
        with self._lock:
            existing = self._calls.get(cid)
            if existing is not None and not existing.deleted:
                return 201, {**self._state(existing, limit), "created": False}
            data = body.get("data") or {}
            if data.get("created_by"):
                self._store_user(data["created_by"])
            creator = data.get("created_by_id") or (data.get("created_by") or {}).get("id")
            if not creator:
                raise _input_error(
                    'GetOrCreateCall failed with error: "data.created_by or data.created_by_id is required when '
                    'using server-side auth"'
                )
            members = data.get("members") or []
            self._check_users_exist([creator] + [m["user_id"] for m in members], "GetOrCreateCall")
            custom = data.get("custom") or {}
            if len(json.dumps(custom)) > MAX_CUSTOM_BYTES:
                raise _input_error('GetOrCreateCall failed with error: "custom data is too large (max 5KB)"')
            now = time.time_ns()
            call = _Call(
                type=params["type"],
                id=params["id"],
                created_by_id=creator,
                created_at=now,
                updated_at=now,
                custom=copy.deepcopy(custom),
                starts_at=self._timestamp(data["starts_at"], "data.starts_at")
                if data.get("starts_at") is not None
                else None,
                team=data.get("team"),
            )
            for member in members:
                call.members[member["user_id"]] = {
                    "role": member.get("role"),
                    "custom": dict(member.get("custom") or {}),
                    "created_at": now,
                    "updated_at": now,
                }
            self._calls[cid] = call
            return 201, {**self._state(call, limit), "created": True}

    def _update_call_members(self, params: dict, args: dict, body: dict):
        updates = body.get("update_members") or []
        removals = body.get("remove_members") or []
        with self._lock:
            call = self._live_call(params)
            self._check_users_exist([m["user_id"] for m in updates], "UpdateCallMembers")
            now = time.time_ns()
            for uid in removals:
                call.members.pop(uid, None)
            for member in updates:
                current = call.members.get(member["user_id"])
                if current is None:
                    call.members[member["user_id"]] = {
                        "role": member.get("role"),
                        "custom": dict(member.get("custom") or {}),
                        "created_at": now,
                        "updated_at": now,
                    }
                else:
                    if member.get("role"):
                        current["role"] = member["role"]
                    if member.get("custom") is not None:
                        current["custom"] = dict(member["custom"])
                    current["updated_at"] = now
            call.updated_at = now
            out = [self._member_response(call, m["user_id"]) for m in updates]
        return 201, {"members": out}

    def _acting_user(self, body: dict, field_name: str, operation: str) -> str | None:
        """Server-side calls name who acts (`kicked_by_id`, `muted_by_id`); that user must exist."""
        acting = body.get(field_name)
        if acting is not None:
            self._check_users_exist([acting], operation)
        return acting

    def _kick_user(self, params: dict, args: dict, body: dict):
        with self._lock:
            call = self._live_call(params)
            self._check_users_exist([body["user_id"]], "KickUser")
            self._acting_user(body, "kicked_by_id", "KickUser")
            call.kicks.append({"user_id": body["user_id"], "block": bool(body.get("block"))})
            if body.get("block"):
                call.blocked.add(body["user_id"])
        return 201, {}

    def _block_user(self, params: dict, args: dict, body: dict):
        with self._lock:
            call = self._live_call(params)
            self._check_users_exist([body["user_id"]], "BlockUser")
            call.blocked.add(body["user_id"])
        return 201, {}

    def _unblock_user(self, params: dict, args: dict, body: dict):
        with self._lock:
            call = self._live_call(params)
            call.blocked.discard(body["user_id"])
        return 201, {}

    def _mute_users(self, params: dict, args: dict, body: dict):
        with self._lock:
            call = self._live_call(params)
            self._acting_user(body, "muted_by_id", "MuteUsers")
            call.mutes.append({k: body[k] for k in ("mute_all_users", "user_ids", "audio", "muted_by_id") if k in body})
        return 201, {}

    def _end_call(self, params: dict, args: dict, body: dict):
        with self._lock:
            call = self._live_call(params)
            if call.ended_at is None:
                call.ended_at = call.updated_at = time.time_ns()
        return 201, {}

    def _delete_call(self, params: dict, args: dict, body: dict):
        with self._lock:
            call = self._live_call(params)
            response = self._call_response(call)
            if body.get("hard"):
                del self._calls[call.cid]
                self._recordings.pop(call.cid, None)
            else:
                call.deleted = True
        return 201, {"call": response}

    def _list_recordings(self, params: dict, args: dict, body: dict):
        with self._lock:
            call = self._live_call(params)
            recordings = [dict(r) for r in self._recordings.get(call.cid, [])]
        return 200, {"recordings": recordings}

    # --- call types ---------------------------------------------------------------------------

    def _checked_grants(self, grants: Any, operation: str) -> dict[str, list[str]]:
        known = set(self.spec.schema("OwnCapability")["enum"])
        for role, perms in (grants or {}).items():
            if not role or not USER_ID_RE.match(role):
                raise _input_error(f'{operation} failed with error: "role {role!r} is not valid"')
            unknown = [p for p in perms if p not in known]
            if unknown:
                raise _input_error(f'{operation} failed with error: "unknown permissions for role {role}: {unknown}"')
        return {role: list(dict.fromkeys(perms)) for role, perms in (grants or {}).items()}

    def _call_type_response(self, kind: dict) -> dict:
        return {
            "name": kind["name"],
            "grants": copy.deepcopy(kind["grants"]),
            "settings": self._settings,
            "notification_settings": self._notification_settings,
            "created_at": kind["created_at"],
            "updated_at": kind["updated_at"],
        }

    def _create_call_type(self, params: dict, args: dict, body: dict):
        name = body["name"]
        if not CALL_TYPE_NAME_RE.match(name):
            raise _input_error(f'CreateCallType failed with error: "name {name!r} is not a valid call type name"')
        grants = self._checked_grants(body.get("grants"), "CreateCallType")
        with self._lock:
            if name in self._call_types:
                raise _input_error(f'CreateCallType failed with error: "call type {name} already exists"')
            now = time.time_ns()
            merged = copy.deepcopy(DEFAULT_GRANTS)
            merged.update(grants)  # the roles named replace the defaults; the others keep them
            self._call_types[name] = {"name": name, "grants": merged, "created_at": now, "updated_at": now}
            return 201, self._call_type_response(self._call_types[name])

    def _get_call_type(self, params: dict, args: dict, body: dict):
        with self._lock:
            self._check_call_type(params["name"])
            return 200, self._call_type_response(self._call_types[params["name"]])

    def _update_call_type(self, params: dict, args: dict, body: dict):
        grants = self._checked_grants(body.get("grants"), "UpdateCallType")
        with self._lock:
            self._check_call_type(params["name"])
            kind = self._call_types[params["name"]]
            kind["grants"].update(grants)
            kind["updated_at"] = time.time_ns()
            return 201, self._call_type_response(kind)

    # --- query calls --------------------------------------------------------------------------

    def _query_calls(self, params: dict, args: dict, body: dict):
        schema = self.spec.schema("QueryCallsRequest")["properties"]
        fields = schema["filter_conditions"]["x-stream-filter-fields"]
        combos = schema["sort"]["x-stream-sort-combinations"]
        conditions = body.get("filter_conditions") or {}
        predicate = _compile_filter(conditions, fields)
        sort = body.get("sort") or [{"field": "created_at", "direction": -1}]
        names = [s.get("field") for s in sort]
        if names not in combos:
            raise _input_error(f'QueryCalls failed with error: "sort by {names} is not supported; use one of {combos}"')
        for s in sort:
            if s.get("direction", 1) not in (1, -1):
                raise _input_error('QueryCalls failed with error: "sort direction must be 1 or -1"')
        limit = body.get("limit") or DEFAULT_QUERY_LIMIT
        if body.get("next") and body.get("prev"):
            raise _input_error('QueryCalls failed with error: "next and prev cannot be used together"')
        fingerprint = hashlib.sha256(json.dumps([conditions, sort, limit], sort_keys=True).encode()).hexdigest()[:16]
        offset = 0
        if body.get("next") or body.get("prev"):
            offset = _read_cursor(body.get("next") or body.get("prev"), fingerprint)
        with self._lock:
            found = [c for c in self._calls.values() if not c.deleted and predicate(c)]
            for s in reversed(sort):
                found = _sorted(found, s["field"], s.get("direction", 1))
            page = found[offset : offset + limit]
            out: dict = {"calls": [self._state(c) for c in page]}
        if offset + limit < len(found):
            out["next"] = _cursor(offset + limit, fingerprint)
        if offset > 0:
            out["prev"] = _cursor(max(0, offset - limit), fingerprint)
        return 201, out


def _cursor(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": fingerprint}).encode()).decode().rstrip("=")


def _read_cursor(cursor: str, fingerprint: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["q"] != fingerprint or not isinstance(data["o"], int) or data["o"] < 0:
            raise ValueError
        return data["o"]
    except (ValueError, KeyError, TypeError):
        raise _input_error('QueryCalls failed with error: "invalid cursor: it belongs to another query"') from None


def _field_value(call: _Call, name: str) -> Any:
    return {
        "id": call.id,
        "cid": call.cid,
        "type": call.type,
        "created_by_user_id": call.created_by_id,
        "created_at": call.created_at,
        "updated_at": call.updated_at,
        "starts_at": call.starts_at,
        "ended_at": call.ended_at,
        "team": call.team,
        "members": list(call.members),
        "ongoing": False,
        "backstage": False,
        "parent_call_cid": None,
    }[name]


def _sorted(calls: list[_Call], name: str, direction: int) -> list[_Call]:
    # Like Stream's Postgres: NULLs last ascending, first descending.
    present = [c for c in calls if _field_value(c, name) is not None]
    missing = [c for c in calls if _field_value(c, name) is None]
    present.sort(key=lambda c: _field_value(c, name), reverse=direction == -1)
    return present + missing if direction == 1 else missing + present


def _compile_filter(conditions: Any, fields: dict) -> Callable[[_Call], bool]:
    """Stream's filter language for QueryCalls, checked against the spec's allowed fields and operators."""
    if not isinstance(conditions, dict):
        raise _input_error('QueryCalls failed with error: "filter_conditions must be an object"')
    parts: list[Callable[[_Call], bool]] = []
    for key, value in conditions.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(value, list) or not value:
                raise _input_error(f'QueryCalls failed with error: "{key} needs a non-empty array"')
            subs = [_compile_filter(v, fields) for v in value]
            if key == "$and":
                parts.append(lambda c, subs=subs: all(s(c) for s in subs))
            elif key == "$or":
                parts.append(lambda c, subs=subs: any(s(c) for s in subs))
            else:
                parts.append(lambda c, subs=subs: not any(s(c) for s in subs))
            continue
        if key not in fields:
            raise _input_error(f"QueryCalls failed with error: \"field '{key}' is not allowed in a call filter\"")
        if key == "custom":
            raise _input_error("fake Stream: filtering on custom data is not implemented")
        spec = fields[key]
        ops = value if isinstance(value, dict) and value and all(k.startswith("$") for k in value) else {"$eq": value}
        for op, operand in ops.items():
            if op not in spec["operators"]:
                raise _input_error(f"QueryCalls failed with error: \"operator {op} is not allowed for field '{key}'\"")
            parts.append(_condition(key, spec["type"], op, operand))
    return lambda c: all(p(c) for p in parts)


def _operand(field_type: str, value: Any, key: str) -> Any:
    if field_type == "date":
        if not isinstance(value, str) or parse_rfc3339(value) is None:
            raise _input_error(f"QueryCalls failed with error: \"field '{key}' needs an RFC 3339 date, got {value!r}\"")
        return ns(parse_rfc3339(value))
    if field_type == "string" and not isinstance(value, str):
        raise _input_error(f"QueryCalls failed with error: \"field '{key}' needs a string, got {value!r}\"")
    if field_type == "boolean" and not isinstance(value, bool):
        raise _input_error(f"QueryCalls failed with error: \"field '{key}' needs a boolean, got {value!r}\"")
    return value


def _condition(key: str, field_type: str, op: str, operand: Any) -> Callable[[_Call], bool]:
    if op == "$exists":
        if not isinstance(operand, bool):
            raise _input_error(f"QueryCalls failed with error: \"$exists needs a boolean for '{key}'\"")
        return lambda c: (_field_value(c, key) is not None) == operand
    if op == "$in":
        if not isinstance(operand, list):
            raise _input_error(f"QueryCalls failed with error: \"$in needs an array for '{key}'\"")
        wanted = [_operand(field_type, v, key) for v in operand]
        if key == "members":
            return lambda c: any(uid in wanted for uid in _field_value(c, key))
        return lambda c: _field_value(c, key) in wanted
    value = _operand(field_type, operand, key)
    compare = {
        "$eq": lambda a: a == value,
        "$gt": lambda a: a > value,
        "$gte": lambda a: a >= value,
        "$lt": lambda a: a < value,
        "$lte": lambda a: a <= value,
    }[op]
    return lambda c: (v := _field_value(c, key)) is not None and compare(v)


def _iso_timestamps(payload: Any, key: str = "") -> Any:
    """The payload with every ns timestamp written as an ISO string (what the SDK cannot parse)."""
    if isinstance(payload, dict):
        return {k: _iso_timestamps(v, k) for k, v in payload.items()}
    if isinstance(payload, list):
        return [_iso_timestamps(v, key) for v in payload]
    if (
        isinstance(payload, int)
        and not isinstance(payload, bool)
        and key.endswith(("_at", "_time"))
        and payload > 10**17
    ):
        return datetime.fromtimestamp(payload / 1e9, tz=UTC).isoformat()
    return payload


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out promptly (no 40 ms delayed-ACK stalls)
    owner: FakeStream

    def _serve(self) -> None:
        self.owner.handle(self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass
