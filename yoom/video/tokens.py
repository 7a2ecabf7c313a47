"""User tokens with Stream's claims, used by both providers (HS256).

`user_id` is the only identity claim; `iat` is backdated 60 s so a client whose clock runs a
little behind the server does not reject a fresh token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

CLOCK_SKEW_SECONDS = 60
ALGORITHM = "HS256"


class TokenInvalid(Exception):
    """The token is malformed, badly signed or expired."""


def mint(
    secret: str,
    user_id: str,
    ttl_seconds: int,
    call_cids: Sequence[str] = (),
    now: datetime | None = None,
    session_id: str | None = None,
) -> tuple[str, datetime]:
    """`session_id` (the embedded provider's tokens only) becomes the `sid` claim: the signaling socket
    admits the token only while that Yoom session is alive, so signing out ends its meetings' passes too."""
    if not user_id or not isinstance(user_id, str):
        raise ValueError("user_id is required")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    now = now or datetime.now(UTC)
    expires_at = now + timedelta(seconds=ttl_seconds)
    claims: dict[str, Any] = {
        "user_id": user_id,
        "iat": int((now - timedelta(seconds=CLOCK_SKEW_SECONDS)).timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    if call_cids:
        claims["call_cids"] = list(call_cids)
    if session_id:
        claims["sid"] = session_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires_at


def verify(secret: str, token: str) -> dict[str, Any]:
    """The token's claims; raises TokenInvalid unless signature, expiry and `user_id` check out."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "user_id"]},
            leeway=CLOCK_SKEW_SECONDS,
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc)) from None
    if not isinstance(claims.get("user_id"), str) or not claims["user_id"]:
        raise TokenInvalid("user_id claim missing")
    return claims
