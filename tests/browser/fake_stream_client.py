"""A fake of Stream's client-side (coordinator) API: what the browser's `@stream-io/video-client` talks to.

Enough for the SDK to connect a user and load a call, so the Stream setup screen (camera preview)
works in Chromium with no internet:

* `GET  {base}/connect` (WebSocket): the client sends `{token, user_details, products}`; the token must be
  an HS256 JWT signed with the app's secret whose `user_id` is `user_details.id` and not expired, and
  `api_key` must be the app's key — else a `connection.error` event (Stream's codes: 2 api key, 5 auth,
  40 expired, 43 bad signature) and the socket closes. Then `connection.ok` (ConnectedEvent: `connection_id`,
  `me`), and a `health.check` answer to each of the client's.
* `GET  {base}/call/{type}/{id}`: same checks on the `Authorization` header (a bare user JWT,
  `stream-auth-type: jwt`), plus a live `connection_id`; answers GetCallResponse. The call's state comes
  from the server-side fake (tests/fakestream) through Stream's server API, so the browser sees the call
  the Yoom server created. Timestamps go out as ISO 8601 strings (what the JS client reads).
* `POST {base}/call_client_event`: the SDK's telemetry, accepted (201).
* `POST {base}/calls`: QueryCalls by cid (the SDK re-watches its calls after reconnecting).
* `POST {base}/call/{type}/{id}/join`: 503 "no SFU" — joining needs a media server this fake does not
  have. `hold_joins()` makes joins hang first, so the in-call screen can be looked at while joining.
* Permissions as Stream applies them, from the server-side fake's call types (`FakeStream.capabilities`):
  reading a call needs `read-call` and joining it `join-call`, else 403 with Stream's code 17. On Yoom's
  members-only call type only members hold them, and the holder of a call token naming the call (its
  `call_cids`, as the request's own token carries them), so another user token can neither load nor join.
* `expire_tokens()`: Stream's `connection.error` code 40 on every socket; those tokens are refused after.
* When the server-side fake reports a watched call ended (`ended_at` set, e.g. by Yoom's "End call for
  everyone"), every socket watching it gets a `call.ended` event, as Stream does.

CORS is answered as Stream does for browsers. Joining (the SFU, WebRTC) is out of scope.
Base URL for the SDK's `baseURL` option: `FakeStreamClientAPI.base_url` (ends in /video, like Stream's).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CALL_PATH = re.compile(r"^/video/call/(?P<type>[A-Za-z0-9_-]+)/(?P<id>[A-Za-z0-9_-]+)$")
JOIN_PATH = re.compile(r"^/video/call/(?P<type>[A-Za-z0-9_-]+)/(?P<id>[A-Za-z0-9_-]+)/join$")
OWN_CAPABILITIES = ["join-call", "read-call", "send-audio", "send-video", "screenshare", "create-reaction"]
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "authorization, content-type, stream-auth-type, x-stream-client, "
    "x-client-request-id",
    "Access-Control-Max-Age": "600",
}


def iso(ns_or_none) -> str | None:
    if ns_or_none is None:
        return None
    return datetime.fromtimestamp(ns_or_none / 1e9, tz=UTC).isoformat().replace("+00:00", "Z")


def iso_timestamps(value):
    """Stream's server wire format (integer ns in `*_at`) → the client's (ISO strings)."""
    if isinstance(value, dict):
        return {
            k: iso(v) if (k.endswith("_at") and isinstance(v, int) and not isinstance(v, bool)) else iso_timestamps(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [iso_timestamps(v) for v in value]
    return value


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class AuthError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "StatusCode": self.status,
            "duration": "0.00ms",
            "more_info": "https://getstream.io/chat/docs/api_errors_response",
            "details": [],
        }


@dataclass
class Connection:
    connection_id: str
    user_id: str
    claims: dict
    user_details: dict
    token: str
    send: callable
    close: callable
    watching: set[str] = field(default_factory=set)
    closed: bool = False


class FakeStreamClientAPI:
    def __init__(self, server_fake):
        """`server_fake`: a started tests.fakestream.FakeStream (same api key and secret)."""
        self.server = server_fake
        self.api_key = server_fake.api_key
        self.api_secret = server_fake.api_secret
        self.connections: list[Connection] = []
        self.auth_attempts: list[dict] = []  # every WS auth message, with the verdict
        self.expired_tokens: set[str] = set()  # tokens this fake now treats as expired
        self.requests: list[dict] = []  # every HTTP request: method, path, query, headers
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._ended_sent: set[tuple[str, str]] = set()
        self._joins_released = threading.Event()
        self._joins_released.set()
        self._httpd: ThreadingHTTPServer | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeStreamClientAPI:
        owner = self

        class Handler(_Handler):
            fake = owner

        ThreadingHTTPServer.allow_reuse_address = True
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._stop.clear()
        threading.Thread(target=self._httpd.serve_forever, name="fake-stream-client", daemon=True).start()
        threading.Thread(target=self._watch_ended, name="fake-stream-client-ended", daemon=True).start()
        return self

    def hold_joins(self) -> None:
        """Join requests hang (as when Stream's media servers are slow) until `release_joins()`."""
        self._joins_released.clear()

    def release_joins(self) -> None:
        self._joins_released.set()

    def stop(self) -> None:
        """Close the port and every socket: the client then finds Stream out of reach."""
        self._stop.set()
        self._joins_released.set()
        with self._lock:
            for conn in self.connections:
                conn.closed = True
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video"

    # --- what tests read ---------------------------------------------------------------------

    def expire_tokens(self) -> int:
        """Every live connection's token expires now: Stream sends `connection.error` (code 40) and
        closes; the same token is refused from then on. Returns how many connections were hit."""
        with self._lock:
            live = [c for c in self.connections if not c.closed]
            for conn in live:
                self.expired_tokens.add(conn.token)
        for conn in live:
            error = AuthError(401, 40, "JWTAuth error: token has expired").body()
            try:
                conn.send(
                    {
                        "type": "connection.error",
                        "connection_id": conn.connection_id,
                        "created_at": now_iso(),
                        "error": error,
                    }
                )
                conn.close()
            except OSError:
                pass
            conn.closed = True
        return len(live)

    def live_connections(self) -> list[Connection]:
        with self._lock:
            return [c for c in self.connections if not c.closed]

    # --- auth as Stream does it ----------------------------------------------------------------

    def check_user_token(self, token: str, user_id: str | None = None) -> dict:
        if not token:
            raise AuthError(401, 5, "JWTAuth error: token is missing")
        if token in self.expired_tokens:
            raise AuthError(401, 40, "JWTAuth error: token has expired")
        try:
            claims = jwt.decode(token, self.api_secret, algorithms=["HS256"], options={"verify_iat": False})
        except jwt.ExpiredSignatureError:
            raise AuthError(401, 40, "JWTAuth error: token has expired") from None
        except jwt.InvalidSignatureError:
            raise AuthError(401, 43, "JWTAuth error: signature is not valid") from None
        except jwt.PyJWTError as exc:
            raise AuthError(401, 5, f"JWTAuth error: token is malformed ({exc})") from None
        if not claims.get("user_id"):
            raise AuthError(401, 5, "JWTAuth error: user token has no user_id")
        if user_id is not None and claims["user_id"] != user_id:
            raise AuthError(401, 5, "JWTAuth error: token was not issued for this user")
        return claims

    def _server_get_call(self, call_type: str, call_id: str) -> tuple[int, dict]:
        token = jwt.encode({"iat": int(time.time()) - 5, "exp": int(time.time()) + 60}, self.api_secret, "HS256")
        response = httpx.get(
            f"{self.server.base_url}/api/v2/video/call/{call_type}/{call_id}",
            params={"api_key": self.api_key},
            headers={"Authorization": token, "stream-auth-type": "jwt"},
            timeout=5,
        )
        return response.status_code, response.json()

    # --- call.ended propagation ----------------------------------------------------------------

    def _watch_ended(self) -> None:
        while not self._stop.wait(0.2):
            with self._lock:
                watched = {(c.connection_id, cid) for c in self.connections if not c.closed for cid in c.watching}
            for connection_id, cid in watched:
                if (connection_id, cid) in self._ended_sent:
                    continue
                call_type, _, call_id = cid.partition(":")
                stored = self.server.call(call_id, call_type)
                if stored is None or stored.get("ended_at") is None:
                    continue
                self._ended_sent.add((connection_id, cid))
                _, state = self._server_get_call(call_type, call_id)
                event = {
                    "type": "call.ended",
                    "call_cid": cid,
                    "created_at": now_iso(),
                    "call": iso_timestamps(state.get("call", {})),
                }
                with self._lock:
                    conn = next((c for c in self.connections if c.connection_id == connection_id), None)
                if conn and not conn.closed:
                    try:
                        conn.send(event)
                    except OSError:
                        conn.closed = True


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStreamClientAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (page closed or navigated) mid-answer

    # --- plumbing ----------------------------------------------------------------------------

    def _json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in CORS_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _record(self) -> tuple[str, dict, dict]:
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.fake._lock:
            self.fake.requests.append({"method": self.command, "path": split.path, "query": query, "headers": headers})
        return split.path, query, headers

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_OPTIONS(self):
        self._record()
        self.send_response(204)
        for name, value in CORS_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self):
        self._record()
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        path, query, headers = self._record()
        raw = self._read_body()
        if path == "/video/call_client_event":
            self._json(201, {"duration": "0.10ms"})
            return
        if path == "/video/calls":
            self._query_calls(query, headers, raw)
            return
        joining = JOIN_PATH.match(path)
        if joining:
            try:
                conn = self._user_request(query, headers)
                self._require(conn, joining["type"], joining["id"], "join-call", "JoinCall")
            except AuthError as err:
                self._json(err.status, err.body())
                return
            # Joining needs an SFU (WebRTC media server), which this fake does not have: Stream's answer
            # when none is available (after a while, when joins are held).
            self.fake._joins_released.wait(timeout=30)
            self._json(503, AuthError(503, -1, "JoinCall failed with error: no SFU is available").body())
            return
        self._json(404, AuthError(404, 16, f"{path} is not served by this fake").body())

    def do_GET(self):
        path, query, headers = self._record()
        if path == "/video/connect" and headers.get("upgrade", "").lower() == "websocket":
            self._websocket(query, headers)
            return
        match = CALL_PATH.match(path)
        if not match:
            self._json(404, AuthError(404, 16, f"{path} is not served by this fake").body())
            return
        try:
            conn = self._user_request(query, headers)
        except AuthError as err:
            self._json(err.status, err.body())
            return
        status, state = self.fake._server_get_call(match["type"], match["id"])
        if status != 200:
            self._json(status, state)
            return
        try:
            self._require(conn, match["type"], match["id"], "read-call", "GetCall")
        except AuthError as err:
            self._json(err.status, err.body())
            return
        self._json(200, self._watch(conn, f"{match['type']}:{match['id']}", state))

    def _require(self, conn: Connection, call_type: str, call_id: str, permission: str, action: str) -> None:
        """Stream's permission check: 403, code 17, unless the user's roles in this call grant `permission`."""
        if permission not in self._capabilities(conn, call_type, call_id):
            raise AuthError(
                403,
                17,
                f"{action} failed with error: \"User '{conn.user_id}' is not allowed to perform action "
                f"{action} in scope 'video:{call_type}'\"",
            )

    def _capabilities(self, conn: Connection, call_type: str, call_id: str) -> set[str]:
        """The user's grants in the call, with the token of this request (a call token's `call_cids`)."""
        claims = getattr(self, "_claims", None) or {}
        return self.fake.server.capabilities(call_type, call_id, conn.user_id, claims.get("call_cids", ()))

    def _user_request(self, query: dict, headers: dict) -> Connection:
        """A user's HTTP request as Stream checks it: api key, user JWT, and the user's live connection."""
        if query.get("api_key") != self.fake.api_key:
            raise AuthError(401, 2, "api_key not found")
        if headers.get("stream-auth-type") != "jwt":
            raise AuthError(401, 5, "Stream-Auth-Type header must be 'jwt'")
        claims = self.fake.check_user_token(headers.get("authorization", ""))
        self._claims = claims  # this handler serves this one request: its token decides the grants
        conn = next(
            (
                c
                for c in self.fake.live_connections()
                if c.connection_id == query.get("connection_id") and c.user_id == claims["user_id"]
            ),
            None,
        )
        if conn is None:
            raise AuthError(400, 4, "connection_id is missing or not this user's")
        return conn

    def _watch(self, conn: Connection, cid: str, state: dict) -> dict:
        with self.fake._lock:
            conn.watching.add(cid)
        answer = iso_timestamps(state)
        call_type, _, call_id = cid.partition(":")
        granted = self._capabilities(conn, call_type, call_id)
        answer["own_capabilities"] = [c for c in OWN_CAPABILITIES if c in granted]
        answer.setdefault("duration", "0.50ms")
        return answer

    def _query_calls(self, query: dict, headers: dict, raw: bytes) -> None:
        """QueryCalls, as the SDK uses it after a reconnect: `{filter_conditions: {cid: {$in: [...]}}, watch}`."""
        try:
            conn = self._user_request(query, headers)
            body = json.loads(raw or b"{}")
            cids = ((body.get("filter_conditions") or {}).get("cid") or {}).get("$in")
            if not isinstance(cids, list) or not all(isinstance(c, str) and ":" in c for c in cids):
                raise AuthError(400, 4, "QueryCalls: this fake serves filter_conditions {cid: {$in: [cids]}} only")
        except (AuthError, ValueError) as err:
            err = err if isinstance(err, AuthError) else AuthError(400, 4, "QueryCalls: body is not JSON")
            self._json(err.status, err.body())
            return
        calls = []
        for cid in cids:
            call_type, _, call_id = cid.partition(":")
            status, state = self.fake._server_get_call(call_type, call_id)
            if status != 200 or "read-call" not in self._capabilities(conn, call_type, call_id):
                continue
            entry = self._watch(conn, cid, state) if body.get("watch") else iso_timestamps(state)
            entry.pop("duration", None)
            calls.append(entry)
        self._json(201, {"calls": calls, "duration": "0.70ms"})

    # --- WebSocket (RFC 6455, text frames) -----------------------------------------------------

    def _websocket(self, query: dict, headers: dict) -> None:
        key = headers.get("sec-websocket-key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        sock: socket.socket = self.connection
        sock.settimeout(0.5)
        self._buffer = bytearray()
        send_lock = threading.Lock()

        def send(payload: dict) -> None:
            data = json.dumps(payload).encode()
            header = bytes([0x81])
            if len(data) < 126:
                header += bytes([len(data)])
            elif len(data) < 65536:
                header += bytes([126]) + struct.pack("!H", len(data))
            else:
                header += bytes([127]) + struct.pack("!Q", len(data))
            with send_lock:
                sock.sendall(header + data)

        def close(code: int = 1000) -> None:
            with send_lock:
                try:
                    sock.sendall(bytes([0x88, 2]) + struct.pack("!H", code))
                except OSError:
                    pass

        conn: Connection | None = None
        try:
            while not self.fake._stop.is_set() and not (conn is not None and conn.closed):
                frame = self._read_frame()
                if frame is None:
                    continue
                opcode, data = frame
                if opcode == 0x8:  # close
                    close()
                    break
                if opcode == 0x9:  # ping
                    with send_lock:
                        sock.sendall(bytes([0x8A, len(data)]) + data)
                    continue
                if opcode != 0x1:
                    continue
                message = json.loads(data.decode())
                if conn is None:
                    conn = self._authenticate(message, query, send, close)
                    if conn is None:
                        close(1000)
                        break
                    continue
                if message.get("type") == "health.check":
                    send(
                        {
                            "type": "health.check",
                            "connection_id": conn.connection_id,
                            "created_at": now_iso(),
                            "custom": {},
                        }
                    )
        except (OSError, ValueError, ConnectionError):
            pass
        finally:
            if conn is not None:
                conn.closed = True

    def _read_exact(self, n: int) -> bytes:
        """n bytes from the socket itself (nothing is buffered: the client speaks only after the 101)."""
        while len(self._buffer) < n:
            if self.fake._stop.is_set():
                raise ConnectionError("stopping")
            try:
                chunk = self.connection.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise ConnectionError("closed")
            self._buffer += chunk
        out, self._buffer = bytes(self._buffer[:n]), self._buffer[n:]
        return out

    def _read_frame(self) -> tuple[int, bytes] | None:
        if not self._buffer:
            try:
                chunk = self.connection.recv(65536)
            except TimeoutError:
                return None
            if not chunk:
                raise ConnectionError("closed")
            self._buffer += chunk
        b1, b2 = self._read_exact(2)
        opcode, masked, length = b1 & 0x0F, b2 & 0x80, b2 & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read_exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read_exact(8))[0]
        mask = self._read_exact(4) if masked else b"\0\0\0\0"
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read_exact(length)))
        return opcode, data

    def _authenticate(self, message: dict, query: dict, send, close) -> Connection | None:
        details = message.get("user_details") or {}
        verdict = "ok"
        try:
            if query.get("api_key") != self.fake.api_key:
                raise AuthError(401, 2, "api_key not found")
            claims = self.fake.check_user_token(message.get("token", ""), details.get("id"))
        except AuthError as err:
            verdict = err.message
            with self.fake._lock:
                self.fake.auth_attempts.append({"message": message, "verdict": verdict})
            send({"type": "connection.error", "connection_id": "", "created_at": now_iso(), "error": err.body()})
            return None
        conn = Connection(uuid.uuid4().hex, claims["user_id"], claims, details, message.get("token", ""), send, close)
        with self.fake._lock:
            self.fake.auth_attempts.append({"message": message, "verdict": verdict})
            self.fake.connections.append(conn)
        created = now_iso()
        me = {
            "id": conn.user_id,
            "name": details.get("name") or conn.user_id,
            "image": details.get("image"),
            "custom": {},
            "language": "",
            "role": "user",
            "teams": [],
            "created_at": created,
            "updated_at": created,
            "banned": False,
            "online": True,
            "devices": [],
            "invisible": False,
            "mutes": [],
            "channel_mutes": [],
            "unread_count": 0,
            "total_unread_count": 0,
            "unread_channels": 0,
            "unread_threads": 0,
        }
        send({"type": "connection.ok", "connection_id": conn.connection_id, "created_at": created, "me": me})
        return conn
