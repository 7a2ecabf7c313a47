"""Short-lived TURN credentials: coturn's `use-auth-secret` scheme (the "TURN REST API" draft).

Yoom and the TURN server share one secret; the secret never leaves the server. Each browser gets a
username `"<expiry unix time>:<user id>"` and a password `base64(HMAC-SHA1(secret, username))`: the TURN
server recomputes the password from the username and refuses it once the expiry has passed. The embedded
provider's token route hands these out with the same lifetime as the video token, so a leaked pair is
worth no more than the token it came with, and a browser renews both together.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TURN_SCHEMES = ("turn:", "turns:")


@dataclass(frozen=True)
class TurnCredentials:
    username: str
    credential: str
    expires_at: int  # unix time, as in the username


def turn_credentials(secret: str, user_id: str, expires_at: int) -> TurnCredentials:
    """The pair a TURN server with `static-auth-secret=<secret>` accepts until `expires_at`."""
    if not secret:
        raise ValueError("a TURN secret is required")
    if not user_id or not isinstance(user_id, str):
        raise ValueError("user_id is required")
    # A colon in the id would be read by nobody (coturn splits at the first one), but keep usernames plain.
    if ":" in user_id:
        raise ValueError("user_id must not contain ':'")
    expiry = int(expires_at)
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return TurnCredentials(username=username, credential=base64.b64encode(digest).decode("ascii"), expires_at=expiry)


def is_turn_url(url: str) -> bool:
    return isinstance(url, str) and url.strip().lower().startswith(TURN_SCHEMES)


def urls_of(server: Mapping[str, Any]) -> list[str]:
    """An ICE server's `urls` (one string or a list) as a list of strings."""
    urls = server.get("urls")
    if isinstance(urls, str):
        return [urls]
    return [u for u in urls if isinstance(u, str)] if isinstance(urls, list) else []


def without_turn(servers: Iterable[Mapping[str, Any]]) -> list[dict]:
    """Static ICE servers minus their TURN URLs (and so their static TURN username and password): what is
    left when short-lived credentials replace them. STUN URLs stay."""
    kept = []
    for server in servers:
        stun = [u for u in urls_of(server) if not is_turn_url(u)]
        if stun:
            kept.append({"urls": stun[0] if len(stun) == 1 else stun})
    return kept


def ice_servers(
    static: Sequence[Mapping[str, Any]],
    turn_urls: Sequence[str],
    turn_secret: str | None,
    user_id: str,
    expires_at: int,
) -> list[dict]:
    """A browser's RTCPeerConnection `iceServers`: the static ones, then the TURN URLs with this user's own
    short-lived credentials (when a secret is configured)."""
    servers = [dict(s) for s in static]
    if turn_urls and turn_secret:
        creds = turn_credentials(turn_secret, user_id, expires_at)
        servers.append({"urls": list(turn_urls), "username": creds.username, "credential": creds.credential})
    return servers
