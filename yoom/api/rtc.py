"""`/api/rtc/{call_id}`: the signaling WebSocket of Yoom's built-in video (docs/rtc-protocol.md).

Authenticated by the local video token (from POST /api/video/token), sent as the socket's first frame
`{"type": "auth", "token": …}` — never in the URL; the user id comes from the token only, and the Yoom
session it was minted for (`sid`) must still be alive. Every refusal is an `error` frame followed by the protocol's close code.
Plain ASGI WebSocket use through Starlette, so it runs the same under Granian and uvicorn.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketState

from yoom import accounts, meeting_rules, moderation
from yoom.db import utcnow
from yoom.meeting_rules import Phase
from yoom.rtc.hub import Hub, Peer, RoomFull, get_hub
from yoom.rtc.protocol import CLOSE_CODES, CLOSE_SERVER_ERROR, MESSAGES, ErrorCode, error_frame
from yoom.video import get_provider
from yoom.video.base import CALL_TYPE, CallKind, VideoError, VideoUser, is_valid_call_id
from yoom.video.local_provider import LocalProvider
from yoom.video.tokens import TokenInvalid

log = logging.getLogger(__name__)

AUTH_TIMEOUT_SECONDS = 10.0
MAX_AUTH_FRAME = 8192


class WebSocketTransport:
    """The hub's view of a Starlette WebSocket: send a JSON frame, close with a code."""

    def __init__(self, websocket: WebSocket):
        self.websocket = websocket

    async def send(self, message: dict[str, Any]) -> None:
        # ASCII JSON: whatever text a peer relays (a lone UTF-16 surrogate, say) stays a valid frame.
        await self.websocket.send_text(json.dumps(message, separators=(",", ":")))

    async def close(self, code: int, reason: str = "") -> None:
        if self.websocket.application_state == WebSocketState.CONNECTED:
            await self.websocket.close(code, reason[:100])


async def _refuse(websocket: WebSocket, code: str, message: str) -> None:
    """A fatal error before joining: the error frame, then the close code. Never raises."""
    try:
        await websocket.send_text(json.dumps(error_frame(code, message)))
        await websocket.close(CLOSE_CODES[code], code)
    except Exception:  # the browser went away first
        pass


class _Refused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Admission:
    provider: LocalProvider
    call_id: str
    video_user: VideoUser
    registered: bool  # has a Yoom account (guests with only a call-scoped token may not)
    is_owner: bool


async def _read_token(websocket: WebSocket) -> str:
    """The video token: the socket's first frame `{"type": "auth", "token": …}` (not the URL, which ends
    up in access logs). Raises _Refused when none comes within AUTH_TIMEOUT_SECONDS."""
    try:
        message = await asyncio.wait_for(websocket.receive(), AUTH_TIMEOUT_SECONDS)
    except TimeoutError:
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["no-token"]) from None
    text = message.get("text") if message.get("type") == "websocket.receive" else None
    try:
        frame = json.loads(text) if isinstance(text, str) and len(text) <= MAX_AUTH_FRAME else None
    except ValueError:
        frame = None
    token = frame.get("token") if isinstance(frame, dict) and frame.get("type") == "auth" else None
    if not isinstance(token, str) or not token:
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["no-token"])
    return token


async def _admit(websocket: WebSocket) -> _Admission:
    """Check the call and the token; raises _Refused with the protocol code."""
    call_id = websocket.path_params.get("call_id", "")
    if not is_valid_call_id(call_id):
        raise _Refused(ErrorCode.NOT_FOUND, MESSAGES["not-found"])
    provider = get_provider()
    if not isinstance(provider, LocalProvider):
        raise _Refused(ErrorCode.NOT_FOUND, MESSAGES["not-local"])

    token = await _read_token(websocket)
    try:
        claims = provider.verify_token(token)
    except TokenInvalid:
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["bad-token"]) from None
    user_id: str = claims["user_id"]
    call_cids = claims.get("call_cids")
    is_guest = call_cids is not None
    if is_guest and (not isinstance(call_cids, list) or f"{CALL_TYPE}:{call_id}" not in call_cids):
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["wrong-call"])
    if not is_guest and not await asyncio.to_thread(accounts.session_alive, claims.get("sid")):
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["signed-out"])

    call = await provider.get_call(call_id)
    if call is None:
        raise _Refused(ErrorCode.NOT_FOUND, MESSAGES["not-found"])
    user = await asyncio.to_thread(accounts.get_user, user_id)
    if user is None and not is_guest:
        raise _Refused(ErrorCode.UNAUTHORIZED, MESSAGES["no-account"])
    is_owner = user is not None and call.created_by == user.id
    if call.has_ended and call.kind is CallKind.PERSONAL and is_owner:
        call = await provider.reopen_call(call_id, user_id)  # the owner walking in opens the room again
    # The page's own rule, again at the socket: invite-only first (someone not invited learns nothing more),
    # then ended, then the scheduled start's join window.
    removed = not is_owner and await asyncio.to_thread(moderation.is_removed, call_id, user_id)
    decision = meeting_rules.room_phase(call, user_id, utcnow(), removed=removed)
    if decision.phase == Phase.NOT_ALLOWED:
        raise _Refused(ErrorCode.FORBIDDEN, MESSAGES["forbidden"])
    if decision.phase == Phase.REMOVED:
        raise _Refused(ErrorCode.REMOVED, MESSAGES["removed"])
    if decision.phase == Phase.ENDED:
        raise _Refused(ErrorCode.ENDED, MESSAGES["room-closed" if call.kind is CallKind.PERSONAL else "ended"])
    if decision.phase == Phase.NOT_STARTED:
        raise _Refused(ErrorCode.NOT_STARTED, MESSAGES["not-started"])

    video_user = accounts.video_user(user) if user is not None else VideoUser(id=user_id, name="Guest")
    return _Admission(provider, call_id, video_user, user is not None, is_owner)


async def _after_join(admission: _Admission, hub: Hub, peer: Peer) -> None:
    provider, call_id = admission.provider, admission.call_id
    if admission.registered:
        try:
            await provider.add_member(call_id, admission.video_user)  # so it lists among their meetings
        except VideoError as exc:
            log.warning("rtc: could not record %s as a member of %s: %s", admission.video_user.id, call_id, exc)
    # end_call marks the database before it tells the hub: if it ended while we joined, say so now.
    fresh = await provider.get_call(call_id)
    if fresh is None or fresh.has_ended:
        await hub.refuse(peer, ErrorCode.ENDED, MESSAGES["ended"])


async def _pump(websocket: WebSocket, hub: Hub, peer: Peer) -> None:
    """Hand every frame to the hub until the socket drops or the hub lets the peer go."""
    while not peer.closed:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        await hub.handle_frame(peer, text if text is not None else message.get("bytes") or b"")


async def rtc_endpoint(websocket: WebSocket) -> None:
    try:
        await websocket.accept()
    except Exception:
        return
    hub = get_hub()
    peer: Peer | None = None
    close_code = 1000
    try:
        try:
            admission = await _admit(websocket)
        except _Refused as refused:
            await _refuse(websocket, refused.code, refused.message)
            return
        transport = WebSocketTransport(websocket)
        try:
            # No await between joining and holding `peer`: whatever happens next, `finally` removes it.
            peer = await hub.join(admission.call_id, admission.video_user, transport, is_owner=admission.is_owner)
        except RoomFull as full:
            await _refuse(websocket, ErrorCode.FULL, MESSAGES["full"].format(capacity=full.capacity))
            return
        await _after_join(admission, hub, peer)
        await _pump(websocket, hub, peer)
    except Exception:
        log.exception("rtc: connection to %s failed", websocket.url.path)
        close_code = CLOSE_SERVER_ERROR
    finally:
        if peer is not None:
            await hub.leave(peer, "disconnected")  # no-op if it already left, timed out or the call ended
            await hub.wait_closed(peer)
        if (
            websocket.application_state == WebSocketState.CONNECTED
            and websocket.client_state == WebSocketState.CONNECTED
        ):
            try:
                await websocket.close(close_code, "server error" if close_code != 1000 else "")
            except Exception:
                pass


routes = [WebSocketRoute("/api/rtc/{call_id}", rtc_endpoint)]
