"""Clerk as Yoom's identity provider: verifying Clerk session tokens and reading a user's profile.

No Reflex import. Networked calls are async (httpx) so the routes never block the event loop.

A Clerk session token is a short-lived (60 s) RS256 JWT that clerk-js hands the page (`getToken()`).
Yoom accepts one only when all of this holds:

* the header says RS256 — never `none`, never HS256 (a public key used as an HMAC secret would let
  anyone who has it sign tokens) — and the signature verifies with the instance's key: CLERK_JWT_KEY
  when set (no request to Clerk), else the key of that `kid` in Clerk's JWKS (Backend API `/v1/jwks`,
  cached, fetched again for a key id it doesn't know, at most every JWKS_MIN_REFRESH_SECONDS);
* `exp` is in the future and `nbf`/`iat` not (CLOCK_SKEW_SECONDS of leeway);
* `iss` is the instance's Frontend API URL, read from the publishable key;
* `azp` (the origin of the page that asked Clerk for the token) is one of CLERK_AUTHORIZED_PARTIES, else
  one of Yoom's own origins: a token Clerk made for another site can't sign anyone into Yoom;
* `sub` (the user) and `sid` (the Clerk session) are present.

Anything else is `InvalidToken`, whose message says which rule failed (a 401 for the route).
Clerk out of reach, or refusing Yoom's secret key, is `ClerkUnavailable` (a 503).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

import httpx
import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import RSAAlgorithm

from yoom.settings import ClerkSettings, get_settings

log = logging.getLogger(__name__)

CLOCK_SKEW_SECONDS = 5  # Clerk's own SDKs allow the same
JWKS_MAX_AGE_SECONDS = 3600  # keys are refetched this often even when every kid is known
JWKS_MIN_REFRESH_SECONDS = 30  # an unknown kid never makes Yoom ask Clerk more often than this
HTTP_TIMEOUT_SECONDS = 5.0
MAX_TOKEN_CHARS = 8192
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
PROFILE_CLAIMS = ("username", "image_url")


class ClerkError(Exception):
    """Why Clerk's word could not be taken; `str()` is written for the person signing in."""


class InvalidToken(ClerkError):
    """The session token is not one Yoom accepts (HTTP 401)."""


class UnknownUser(ClerkError):
    """Clerk has no such user any more (HTTP 401)."""


class ClerkUnavailable(ClerkError):
    """Clerk's Backend API could not be used: out of reach, or Yoom's secret key refused (HTTP 503)."""


@dataclass(frozen=True)
class SessionClaims:
    user_id: str  # `sub`
    session_id: str  # `sid`
    claims: dict

    def profile(self) -> ClerkProfile | None:
        """The profile, when the instance's session token template carries it (`username`, `image_url`):
        then no request to the Backend API is needed."""
        if not all(name in self.claims for name in PROFILE_CLAIMS):
            return None
        return ClerkProfile.from_fields(self.user_id, self.claims)


@dataclass(frozen=True)
class ClerkProfile:
    user_id: str
    username: str | None
    image_url: str | None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None

    @staticmethod
    def from_fields(user_id: str, data: dict) -> ClerkProfile:
        def text(name: str) -> str | None:
            value = data.get(name)
            return (value.strip() or None) if isinstance(value, str) else None

        return ClerkProfile(
            user_id=user_id,
            username=text("username"),
            image_url=text("image_url"),
            first_name=text("first_name"),
            last_name=text("last_name"),
            email=text("email") or _primary_email(data),
        )


def _primary_email(user: dict) -> str | None:
    primary = user.get("primary_email_address_id")
    for address in user.get("email_addresses") or []:
        if isinstance(address, dict) and address.get("id") == primary and isinstance(address.get("email_address"), str):
            return address["email_address"]
    return None


class ClerkClient:
    """Verifies session tokens and fetches users for one Clerk instance. One per process (`get_clerk`):
    it holds the JWKS cache. HTTP clients are made per request, so any event loop may use it."""

    def __init__(self, settings: ClerkSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport
        self._static_key = load_pem_public_key(settings.jwt_key.encode("ascii")) if settings.jwt_key else None
        self._keys: dict[str, object] = {}
        self._fetched_at = float("-inf")  # last good JWKS
        self._attempted_at = float("-inf")  # last request for it, good or not
        self._lock = asyncio.Lock()
        self.jwks_fetches = 0

    # ---- Backend API ----------------------------------------------------------------------------

    async def _get(self, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.settings.secret_key}", "Accept": "application/json"}
        try:
            async with httpx.AsyncClient(
                base_url=self.settings.api_url, timeout=HTTP_TIMEOUT_SECONDS, transport=self._transport
            ) as http:
                response = await http.get(path, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("Clerk's Backend API could not be reached (%s): %s", path.split("/")[2], exc)
            raise ClerkUnavailable("Yoom can't reach Clerk right now. Please try again in a moment.") from None
        if response.status_code >= 500 or response.status_code == 429:
            log.warning("Clerk's Backend API answered %s with HTTP %s", path.split("/")[2], response.status_code)
            raise ClerkUnavailable("Yoom can't reach Clerk right now. Please try again in a moment.")
        if response.status_code in (401, 403):
            log.error("Clerk refused CLERK_SECRET_KEY (HTTP %s)", response.status_code)
            raise ClerkUnavailable(
                "Clerk refused this Yoom's secret key: the operator should check CLERK_SECRET_KEY in .env."
            )
        return response

    async def fetch_user(self, user_id: str) -> ClerkProfile:
        """`GET /v1/users/{user_id}`: username, image, names and primary email."""
        response = await self._get(f"/v1/users/{quote(user_id, safe='')}")
        if response.status_code == 404:
            raise UnknownUser("Clerk has no such account any more. Sign in again.")
        try:
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPStatusError, json.JSONDecodeError):
            log.warning("Clerk answered GET /v1/users with HTTP %s", response.status_code)
            raise ClerkUnavailable("Clerk didn't answer as expected. Please try again in a moment.") from None
        if not isinstance(data, dict) or data.get("id") != user_id:
            raise ClerkUnavailable("Clerk didn't answer as expected. Please try again in a moment.")
        return ClerkProfile.from_fields(user_id, data)

    async def _refresh_keys(self, *, wanted: str | None) -> None:
        """Fetch the JWKS, unless another request just did (or is doing) it."""
        async with self._lock:
            now = time.monotonic()
            if wanted in self._keys and now - self._fetched_at < JWKS_MAX_AGE_SECONDS:
                return  # fetched by the request this one waited for
            if now - self._attempted_at < JWKS_MIN_REFRESH_SECONDS:
                return  # tokens naming unknown keys can't make Yoom hammer Clerk
            self._attempted_at = now
            self.jwks_fetches += 1
            response = await self._get("/v1/jwks")
            keys: dict[str, object] = {}
            try:
                response.raise_for_status()
                for entry in response.json().get("keys", []):
                    if entry.get("kty") == "RSA" and isinstance(entry.get("kid"), str):
                        keys[entry["kid"]] = RSAAlgorithm.from_jwk(entry)
            except (httpx.HTTPStatusError, ValueError, AttributeError, TypeError, jwt.InvalidKeyError):
                log.warning("Clerk's JWKS answer was unusable (HTTP %s)", response.status_code)
                raise ClerkUnavailable("Clerk didn't answer as expected. Please try again in a moment.") from None
            self._keys, self._fetched_at = keys, time.monotonic()

    async def _signing_key(self, kid: object) -> object:
        if self._static_key is not None:
            return self._static_key
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("The Clerk token names no signing key (kid).")
        if kid not in self._keys or time.monotonic() - self._fetched_at >= JWKS_MAX_AGE_SECONDS:
            try:
                await self._refresh_keys(wanted=kid)
            except ClerkUnavailable:
                if kid not in self._keys:
                    raise
                log.warning("Clerk's JWKS could not be refreshed; the cached key %s stays in use", kid)
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("The Clerk token was signed with a key this Clerk instance doesn't have.")
        return key

    # ---- session tokens -------------------------------------------------------------------------

    async def verify(self, token: object, authorized_parties: list[str] | tuple[str, ...]) -> SessionClaims:
        """The claims of a valid session token, or InvalidToken saying what is wrong with it."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken('Send the Clerk session token as {"token": "…"}.')
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("That is not a Clerk session token.") from None
        if header.get("alg") != "RS256":
            raise InvalidToken("The Clerk token must be signed with RS256.")
        key = await self._signing_key(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.settings.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "iss", "sub", "sid"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The Clerk token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("The Clerk token is not valid yet (check this server's clock).") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("The Clerk token comes from another Clerk instance.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"The Clerk token has no {exc.claim!r} claim.") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("The Clerk token's signature doesn't verify.") from None
        except jwt.PyJWTError:
            raise InvalidToken("That is not a valid Clerk session token.") from None
        if claims.get("azp") not in authorized_parties:
            raise InvalidToken("The Clerk token was made for another site (azp).")
        sub, sid = claims.get("sub"), claims.get("sid")
        if not isinstance(sub, str) or not ID_RE.fullmatch(sub):
            raise InvalidToken("The Clerk token's user id (sub) is not one Yoom can use.")
        if not isinstance(sid, str) or not SESSION_ID_RE.fullmatch(sid):
            raise InvalidToken("The Clerk token's session id (sid) is not one Yoom can use.")
        if claims.get("sts", "active") != "active":
            raise InvalidToken("Your Clerk session isn't active yet: finish signing in with Clerk.")
        return SessionClaims(user_id=sub, session_id=sid, claims=claims)


@lru_cache(maxsize=1)
def get_clerk() -> ClerkClient:
    """The process's Clerk client (Clerk mode only: Settings.clerk must be set)."""
    settings = get_settings().clerk
    if settings is None:
        raise RuntimeError("Clerk is not configured (CLERK_PUBLISHABLE_KEY, CLERK_SECRET_KEY)")
    return ClerkClient(settings)
