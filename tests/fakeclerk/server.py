"""A fake Clerk instance: real HTTP on 127.0.0.1 and a real RSA key pair made at start.

Two faces, as Clerk has:

* **Backend API** (what Yoom's server calls, CLERK_API_URL → `base_url`): `GET /v1/jwks` and
  `GET /v1/users/{id}`. Both demand `Authorization: Bearer <secret key>` and answer 401 in Clerk's error
  shape otherwise; an unknown user is 404. The JSON is Clerk's (ids `user_…`, `image_url`,
  `primary_email_address_id` + `email_addresses`, …).
* **Frontend API + clerk-js stand-in** (what the browser calls, for browser tests): `GET
  /npm/@clerk/clerk-js@5/dist/clerk.browser.js` serves `clerk.browser.js` beside this file (CLERK_JS_URL →
  `js_url`), which talks to `POST /v1/client/sign_ins`, `POST /v1/client/sign_ups`,
  `GET /v1/client/sessions/{sid}`, `POST /v1/client/sessions/{sid}/tokens` (a fresh session token, as
  clerk-js gets one) and `POST /v1/client/sessions/{sid}/end` (sign-out). CORS as Clerk answers browsers.

Session tokens are minted as Clerk's: RS256, header `kid`, claims `azp exp iat iss nbf sid sub v`, 60 s.
`mint()` makes one directly, with any claim or header changed, for tests of refusals. `rotate_key()` starts
signing with a new key (and a new kid) that the JWKS also lists; `publish_keys=False` hides it from the JWKS.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

FRONTEND_API = "clerk.yoom.test"
JS_PATH = "/npm/@clerk/clerk-js@5/dist/clerk.browser.js"
TOKEN_LIFETIME = 60
STAND_IN = Path(__file__).with_name("clerk.browser.js")
_ALPHABET = string.ascii_letters + string.digits


def clerk_id(prefix: str) -> str:
    """An id in Clerk's form: prefix + 27 base62 characters (e.g. user_2NNEqL2nrIRdJ194ndJqAHwEfxC)."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(27))


def publishable_key(frontend_api: str = FRONTEND_API, kind: str = "test") -> str:
    encoded = base64.b64encode(f"{frontend_api}$".encode()).decode().rstrip("=")
    return f"pk_{kind}_{encoded}"


@dataclass
class Key:
    kid: str
    private: rsa.RSAPrivateKey
    published: bool = True

    @property
    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    @property
    def jwk(self) -> dict:
        data = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**data, "kid": self.kid, "alg": "RS256", "use": "sig"}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0


class FakeClerk:
    def __init__(self, frontend_api: str = FRONTEND_API) -> None:
        self.frontend_api = frontend_api
        self.publishable_key = publishable_key(frontend_api)
        self.secret_key = "sk_test_" + "".join(secrets.choice(_ALPHABET) for _ in range(40))
        self.keys: list[Key] = [self._new_key()]
        self.users: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.requests: list[Recorded] = []
        self.down = False  # every Backend API request fails with 503
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeClerk:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-clerk", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeClerk:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def js_url(self) -> str:
        return self.base_url + JS_PATH

    @property
    def issuer(self) -> str:
        return f"https://{self.frontend_api}"

    def env(self, **extra: str) -> dict[str, str]:
        """Yoom's settings for this instance (keys fetched from the JWKS)."""
        return {
            "CLERK_PUBLISHABLE_KEY": self.publishable_key,
            "CLERK_SECRET_KEY": self.secret_key,
            "CLERK_API_URL": self.base_url,
            **extra,
        }

    # --- keys and tokens ----------------------------------------------------------------------

    @staticmethod
    def _new_key() -> Key:
        return Key(
            kid="ins_" + secrets.token_hex(8), private=rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )

    @property
    def key(self) -> Key:
        """The key new tokens are signed with."""
        return self.keys[-1]

    def rotate_key(self, *, publish: bool = True) -> Key:
        key = self._new_key()
        key.published = publish
        with self._lock:
            self.keys.append(key)
        return key

    def mint(
        self,
        sub: str,
        sid: str | None = None,
        *,
        azp: str | None = "http://testserver",
        lifetime: int = TOKEN_LIFETIME,
        key: Key | None = None,
        headers: dict | None = None,
        drop: tuple[str, ...] = (),
        **claims,
    ) -> str:
        """A session token as Clerk makes one; change any claim (`claims`), drop some, or sign with `key`."""
        now = int(time.time())
        payload = {
            "azp": azp,
            "exp": now + lifetime,
            "iat": now,
            "iss": self.issuer,
            "nbf": now - 10,
            "sid": sid or clerk_id("sess"),
            "sub": sub,
            "v": 2,
        }
        payload.update(claims)
        for name in (*drop, *(name for name, value in payload.items() if value is None)):
            payload.pop(name, None)
        signer = key or self.key
        return jwt.encode(payload, signer.private, algorithm="RS256", headers={"kid": signer.kid, **(headers or {})})

    # --- users and sessions -------------------------------------------------------------------

    def add_user(
        self,
        username: str | None = None,
        *,
        image_url: str | None = "https://img.clerk.com/yoom-test-avatar.png",
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        user_id: str | None = None,
    ) -> dict:
        user_id = user_id or clerk_id("user")
        emails = []
        if email:
            emails.append({"id": clerk_id("idn"), "object": "email_address", "email_address": email})
        user = {
            "id": user_id,
            "object": "user",
            "username": username,
            "first_name": first_name,
            "last_name": last_name,
            "image_url": image_url,
            "has_image": bool(image_url),
            "primary_email_address_id": emails[0]["id"] if emails else None,
            "email_addresses": emails,
            "created_at": int(time.time() * 1000),
            "updated_at": int(time.time() * 1000),
        }
        with self._lock:
            self.users[user_id] = user
        return user

    def user_by_username(self, username: str) -> dict | None:
        with self._lock:
            return next((u for u in self.users.values() if u["username"] == username), None)

    def start_session(self, user_id: str) -> str:
        sid = clerk_id("sess")
        with self._lock:
            self.sessions[sid] = {"id": sid, "user_id": user_id, "status": "active"}
        return sid

    def end_session(self, sid: str) -> None:
        with self._lock:
            if sid in self.sessions:
                self.sessions[sid]["status"] = "ended"

    def active_sessions(self, user_id: str | None = None) -> list[dict]:
        with self._lock:
            return [s for s in self.sessions.values() if s["status"] == "active" and user_id in (None, s["user_id"])]

    def requests_to(self, method: str, pattern: str) -> list[Recorded]:
        regex = re.compile(pattern)
        with self._lock:
            return [r for r in self.requests if r.method == method and regex.search(r.path)]


def _clerk_error(code: str, message: str) -> dict:
    return {"errors": [{"code": code, "message": message, "long_message": message}], "clerk_trace_id": "fake"}


class _Handler(BaseHTTPRequestHandler):
    owner: FakeClerk
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    # --- plumbing -----------------------------------------------------------------------------

    def _send(self, status: int, body: dict | bytes | str, content_type: str = "application/json") -> None:
        payload = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        if self.path.startswith(("/v1/client", "/npm/")):
            # Clerk's Frontend API and CDN answer any page (the instance decides which origins it trusts).
            self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
            self.send_header("Vary", "Origin")
        self.end_headers()
        self.wfile.write(payload)
        self._record.status = status

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            data = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _start(self, method: str) -> str:
        path = urlsplit(self.path).path
        self._record = Recorded(method=method, path=path, headers={k.lower(): v for k, v in self.headers.items()})
        with self.owner._lock:
            self.owner.requests.append(self._record)
        return path

    def do_OPTIONS(self) -> None:
        self._start("OPTIONS")
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "content-type")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path = self._start("GET")
        if path == JS_PATH:
            return self._send(200, STAND_IN.read_bytes(), "application/javascript; charset=utf-8")
        if path.startswith("/v1/client/"):
            return self._frontend_api("GET", path)
        return self._backend_api(path)

    def do_POST(self) -> None:
        path = self._start("POST")
        if path.startswith("/v1/client/"):
            return self._frontend_api("POST", path)
        self._send(404, _clerk_error("resource_not_found", "not found"))

    # --- Backend API --------------------------------------------------------------------------

    def _backend_api(self, path: str) -> None:
        fake = self.owner
        if fake.down:
            return self._send(503, _clerk_error("service_unavailable", "Clerk is down (test fault)"))
        if self.headers.get("Authorization") != f"Bearer {fake.secret_key}":
            return self._send(401, _clerk_error("authentication_invalid", "Invalid secret key"))
        if path == "/v1/jwks":
            with fake._lock:
                return self._send(200, {"keys": [k.jwk for k in fake.keys if k.published]})
        match = re.fullmatch(r"/v1/users/([A-Za-z0-9_-]+)", path)
        if match:
            with fake._lock:
                user = fake.users.get(match[1])
            if user is None:
                return self._send(404, _clerk_error("resource_not_found", "User not found"))
            return self._send(200, user)
        self._send(404, _clerk_error("resource_not_found", "not found"))

    # --- Frontend API (what the clerk-js stand-in calls) --------------------------------------

    def _session_answer(self, sid: str) -> dict:
        """A session as the Frontend API sends it: with its latest token (`last_active_token`) while active."""
        fake = self.owner
        session = fake.sessions[sid]
        user = fake.users[session["user_id"]]
        answer = {"id": sid, "status": session["status"], "last_active_token": None}
        if session["status"] == "active":
            jwt_ = fake.mint(session["user_id"], sid, azp=self.headers.get("Origin"))
            answer["last_active_token"] = {"object": "token", "jwt": jwt_}
        return {"session": answer, "user": user}

    def _frontend_api(self, method: str, path: str) -> None:
        fake = self.owner
        if method == "POST" and path in ("/v1/client/sign_ins", "/v1/client/sign_ups"):
            identifier = str(self._body().get("identifier", "")).strip().lower()
            if not re.fullmatch(r"[a-z0-9_-]{4,64}", identifier):
                return self._send(422, _clerk_error("form_param_format_invalid", "Enter a username (4–64 letters)."))
            user = fake.user_by_username(identifier)
            if path.endswith("sign_ins") and user is None:
                return self._send(422, _clerk_error("form_identifier_not_found", "Couldn't find your account."))
            if path.endswith("sign_ups"):
                if user is not None:
                    return self._send(422, _clerk_error("form_identifier_exists", "That username is taken."))
                user = fake.add_user(identifier)
            sid = fake.start_session(user["id"])
            return self._send(200, self._session_answer(sid))
        match = re.fullmatch(r"/v1/client/sessions/([A-Za-z0-9_-]+)(/tokens|/end)?", path)
        if not match or match[1] not in fake.sessions:
            return self._send(404, _clerk_error("resource_not_found", "No such session."))
        sid, action = match[1], match[2]
        session = fake.sessions[sid]
        if action == "/end" and method == "POST":
            fake.end_session(sid)
            return self._send(200, self._session_answer(sid))
        if action == "/tokens" and method == "POST":
            if session["status"] != "active":
                return self._send(401, _clerk_error("authentication_invalid", "The session has ended."))
            origin = self.headers.get("Origin")
            # Clerk writes the requesting page's origin into `azp`, as the real Frontend API does.
            return self._send(200, {"object": "token", "jwt": fake.mint(session["user_id"], sid, azp=origin)})
        if method == "GET" and action is None:
            return self._send(200, self._session_answer(sid))
        self._send(405, _clerk_error("method_not_allowed", "Method not allowed."))
